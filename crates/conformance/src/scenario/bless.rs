//! Bless: rewriting a scenario's expectations from the Model, never from a backend under test.
//!
//! [`bless_file`] runs the file's steps through `Model::apply` twice, once as a durable registry
//! sees them and once as an inline one (guards decide which steps each sees; `crash` leaves the
//! Model as it is, D2), and rewrites every expectation the Model disagrees with. Everything
//! else on the line is kept byte for byte: the step, its padding, its trailing comment. An
//! expectation the Model agrees with is not touched, so blessing a blessed file changes nothing.
//!
//! What bless writes: the fields the line already checks, with the Model's values (a field
//! still right keeps its spelling); when the outcome changes (`ok` to `err`, or a new error
//! kind) the outcome's default fields (`fence` for a lease, `holder` for `lease_held`, ...). A
//! step without `=>` stays without one while the Model says it succeeds.

use std::path::{Path, PathBuf};

use procreg::MAX_TIMESTAMP_MS;
use procreg_reference::Model;

use super::actors::Actors;
use super::expect::{self, Actual};
use super::parse::{ScenarioError, parse_text};
use super::{Action, Profile, Scenario, Step, discover};
use crate::ctx::START_MS;

/// The text of the scenario at `path` with every expectation rewritten from the Model.
///
/// # Errors
/// A [`ScenarioError`] when the file does not parse, when a step gives a different answer on a
/// durable and an inline run (guard it with `onlyif`/`skipif`), or when an expectation in an
/// included file disagrees with the Model (bless rewrites only the file it is given).
pub fn bless_file(path: impl AsRef<Path>) -> Result<String, ScenarioError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::io(path, &e))?;
    bless_text(&text, path)
}

/// Blesses every scenario under `dir` in place; returns the files that changed.
///
/// # Errors
/// The first file that cannot be blessed or written.
pub fn bless_dir(dir: impl AsRef<Path>) -> Result<Vec<PathBuf>, ScenarioError> {
    let mut changed = Vec::new();
    for file in discover(dir)? {
        let before =
            std::fs::read_to_string(&file.path).map_err(|e| ScenarioError::io(&file.path, &e))?;
        let after = bless_text(&before, &file.path)?;
        if after != before {
            std::fs::write(&file.path, &after).map_err(|e| ScenarioError::io(&file.path, &e))?;
            changed.push(file.path);
        }
    }
    Ok(changed)
}

/// [`bless_file`] on a text already read.
pub(crate) fn bless_text(text: &str, path: &Path) -> Result<String, ScenarioError> {
    let scenario = parse_text(text, path)?;
    if scenario.world.is_some() {
        // A world scenario has no expectations: the checkers judge it (Z37).
        return Ok(text.to_owned());
    }
    let durable = model_answers(
        &scenario,
        Profile {
            durable: true,
            can_crash: true,
        },
    )?;
    let inline = model_answers(
        &scenario,
        Profile {
            durable: false,
            can_crash: false,
        },
    )?;
    let mut rewrites: Vec<(usize, String)> = Vec::new();
    for (i, step) in scenario.steps.iter().enumerate() {
        let Action::Call { shape, .. } = &step.action else {
            continue;
        };
        let answers: Vec<&Actual> = [&durable[i], &inline[i]].into_iter().flatten().collect();
        let Some(first) = answers.first() else {
            continue;
        };
        let written = |a: &Actual| expect::written(step.expect.as_ref(), *shape, a);
        if let Some(other) = answers.get(1).filter(|b| written(b) != written(first)) {
            let message = format!(
                "the Model answers `{}` on a durable registry and `{}` on an inline one",
                written(first),
                written(other)
            );
            return Err(ScenarioError::at_step(
                step,
                message,
                Some("guard the steps that differ with `onlyif durable` / `skipif durable`".into()),
            ));
        }
        if expect::holds(step.expect.as_ref(), *shape, first) {
            continue;
        }
        if !step.own {
            let message = format!(
                "this included step expects `{}` but the Model answers `{}` here",
                expect::describe(step.expect.as_ref()),
                written(first)
            );
            return Err(ScenarioError::at_step(
                step,
                message,
                Some("bless the fragment where it is right, or drop its expectation".into()),
            ));
        }
        rewrites.push((i, written(first)));
    }
    Ok(rewrite(text, &scenario.steps, &rewrites))
}

/// What the Model answers to each step a registry of `profile` runs (`None`: not run).
fn model_answers(
    scenario: &Scenario,
    profile: Profile,
) -> Result<Vec<Option<Actual>>, ScenarioError> {
    let mut model = Model::new();
    let mut now = START_MS;
    let mut actors = Actors::default();
    let mut answers = Vec::with_capacity(scenario.steps.len());
    for step in &scenario.steps {
        if !profile.admits(&step.guards) {
            answers.push(None);
            continue;
        }
        let answer = match &step.action {
            Action::Advance(ms) => {
                now = now.saturating_add(*ms).min(MAX_TIMESTAMP_MS);
                None
            }
            // A durable crash keeps every acknowledged state (D2, D6): the Model is unchanged.
            Action::Crash | Action::Partition { .. } => None,
            Action::Call { actor, call, .. } => {
                let op = actors
                    .op_for(actor.as_deref(), call)
                    .map_err(|m| ScenarioError::at_step(step, m, None))?;
                let result = model.apply(&op, now);
                actors.observe(actor.as_deref(), &op, result.as_ref().ok());
                Some(Actual::from_result(result))
            }
        };
        answers.push(answer);
    }
    Ok(answers)
}

/// `text` with the expectations of steps `rewrites` names replaced, line endings kept.
fn rewrite(text: &str, steps: &[Step], rewrites: &[(usize, String)]) -> String {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
    let mut arrow_column: Option<usize> = None;
    let mut next = rewrites.iter().peekable();
    for (i, step) in steps.iter().enumerate() {
        if !step.own {
            continue;
        }
        if let Some((_, new)) = next.next_if(|(at, _)| *at == i)
            && let Some(line) = lines.get_mut(step.line - 1)
        {
            *line = splice(line, step, new, arrow_column);
        }
        if let Some(arrow) = step.layout.arrow {
            arrow_column = Some(arrow);
        }
    }
    lines.concat()
}

/// One line with its expectation replaced by `=> new` (aligned under the previous arrow when
/// the step had none).
fn splice(line: &str, step: &Step, new: &str, arrow_column: Option<usize>) -> String {
    let layout = step.layout;
    let (head, tail) = match layout.arrow {
        Some(arrow) => (line[..arrow].to_owned(), &line[layout.expect_end..]),
        None => {
            let width = arrow_column.unwrap_or(0).max(layout.cmd_end + 1);
            (
                format!("{:width$}", &line[..layout.cmd_end]),
                &line[layout.cmd_end..],
            )
        }
    };
    format!("{head}=> {new}{tail}")
}
