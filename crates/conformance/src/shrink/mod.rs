//! Shrinking: a failing explorer seed becomes a short world scenario a person reads and
//! replays on its own, written under `target/procreg-counterexamples/`.
//!
//! Why it exists: a failing seed is a few hundred calls from a dozen tasks under a dozen
//! faults; the bug is usually three calls and one fault. [`shrink`] gets there in three steps,
//! each keeping only what still fails *with the same rule*:
//!
//! 1. **the plan**: delta debugging over the seed's fault entries (link faults, partitions,
//!    crashes and stalls), rerunning the workload each time, so the history to convert is
//!    the one the fewest faults produce;
//! 2. **the steps**: that run converted to a world scenario ([`convert`]), then delta
//!    debugging over its lines ([`ddmin`]): fewer clients, calls, crashes;
//! 3. **the faults**: each remaining `!fault` dropped if the failure survives without it.
//!
//! Every candidate is the text that would be written, parsed and run by the scenario runner
//! ([`run_world_text`]), so the file is exactly what was tested. The header keeps the seed it
//! came from, the violation, and the command that replays it.
//!
//! ```no_run
//! use procreg_conformance::explore::{find_within, find_workload};
//! use procreg_conformance::shrink::{self, ShrinkOptions};
//! use procreg_sim::{FaultLevel, MemoryTarget};
//!
//! let recovery = find_workload("recovery").unwrap();
//! if let Some((_, failed)) = find_within(0..100, recovery, &mut MemoryTarget, FaultLevel::Heavy) {
//!     let found = shrink::shrink(recovery, &mut MemoryTarget, &failed, &ShrinkOptions::default());
//!     println!("{}", found.map(|c| c.text).unwrap_or_else(|e| e.to_string()));
//! }
//! ```

pub mod convert;
pub mod ddmin;
mod plan;

use std::fmt;
use std::path::{Path, PathBuf};

use procreg_sim::SimTarget;

use crate::explore::{Failure, SeedOutcome, Workload};
use crate::scenario::{WorldHeader, render_header, run_world_text, saw_text};
use convert::{Line, convert};
use ddmin::{Budget, ddmin};

/// Candidate runs one shrink may make, by default.
pub const DEFAULT_MAX_RUNS: usize = 3_000;

/// How hard [`shrink`] tries and where it writes.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ShrinkOptions {
    /// Candidate runs in all (plan, steps, faults). Default [`DEFAULT_MAX_RUNS`].
    pub max_runs: usize,
    /// Where to write the file; `None` writes nothing. Default [`counterexample_dir`].
    pub dir: Option<PathBuf>,
}

impl Default for ShrinkOptions {
    fn default() -> Self {
        Self {
            max_runs: DEFAULT_MAX_RUNS,
            dir: Some(counterexample_dir()),
        }
    }
}

impl ShrinkOptions {
    /// Options that write nothing (tests that only look at the text).
    pub fn in_memory() -> Self {
        Self {
            dir: None,
            ..Self::default()
        }
    }

    /// Sets [`ShrinkOptions::max_runs`].
    pub fn with_max_runs(mut self, runs: usize) -> Self {
        self.max_runs = runs;
        self
    }
}

/// A shrunk failure.
#[derive(Clone, Debug)]
pub struct Counterexample {
    /// The scenario file's text.
    pub text: String,
    /// Where it was written, if it was.
    pub path: Option<PathBuf>,
    /// Steps left (calls, crashes, partitions).
    pub steps: usize,
    /// Calls the failing seed made (duplicate copies included).
    pub original_calls: usize,
    /// The rule both the seed and the file break.
    pub rule: String,
    /// Candidate runs made.
    pub runs: usize,
}

/// Why nothing was shrunk.
#[derive(Debug)]
#[non_exhaustive]
pub enum ShrinkError {
    /// The outcome passed (or has no run to convert): nothing to shrink.
    NothingToShrink,
    /// No world scenario written from the run fails the same way (the failure depends on
    /// something a scenario cannot say: a client's own state, such as W4's fenced writes).
    NotReproduced {
        /// The rule the seed broke.
        rule: String,
        /// The whole converted run, for a person to look at.
        text: String,
    },
    /// The file could not be written.
    Write {
        /// Where.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

impl fmt::Display for ShrinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShrinkError::NothingToShrink => f.write_str("the seed passed: nothing to shrink"),
            ShrinkError::NotReproduced { rule, .. } => write!(
                f,
                "no world scenario written from this run breaks {rule} again (it depends on \
                 client state a scenario cannot hold); replay the seed instead"
            ),
            ShrinkError::Write { path, message } => {
                write!(f, "cannot write {}: {message}", path.display())
            }
        }
    }
}

impl std::error::Error for ShrinkError {}

/// `target/procreg-counterexamples` of the workspace the current directory is in (the nearest
/// ancestor holding `Cargo.lock`), or `$PROCREG_COUNTEREXAMPLES` when set.
pub fn counterexample_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PROCREG_COUNTEREXAMPLES") {
        return PathBuf::from(dir);
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let root = cwd
        .ancestors()
        .find(|a| a.join("Cargo.lock").is_file())
        .unwrap_or(&cwd);
    root.join("target").join("procreg-counterexamples")
}

/// Shrinks the failing `outcome` of `workload` on `target` (see the module docs).
///
/// # Errors
/// A [`ShrinkError`] when the outcome passed, when no scenario reproduces it, or when the file
/// cannot be written.
pub fn shrink(
    workload: &Workload,
    target: &mut dyn SimTarget,
    outcome: &SeedOutcome,
    options: &ShrinkOptions,
) -> Result<Counterexample, ShrinkError> {
    let Some(first) = outcome.failures.first() else {
        return Err(ShrinkError::NothingToShrink);
    };
    let rule = first.violation.rule.clone();
    let mut budget = Budget::new(options.max_runs);
    let smaller = plan::shrink_plan(workload, target, outcome, &rule, &mut budget);
    let run = smaller.run.as_ref().ok_or(ShrinkError::NothingToShrink)?;
    let converted = convert(run, &smaller.plan);
    let header = render_header(&WorldHeader {
        seed: outcome.seed,
        latency_ms: smaller.plan.latency_ms,
        timeout_ms: smaller.plan.timeout_ms,
        torn_write_probability: smaller.plan.storage.torn_write_probability,
        workload: Some(workload.name.to_owned()),
    });
    let path = Path::new("counterexample.scn");
    let mut fails = |lines: &[Line]| {
        let text = body(&header, lines);
        run_world_text(&text, path, target)
            .is_ok_and(|r| r.failures.iter().any(|f| f.violation.rule == rule))
    };
    if !budget.spend() || !fails(&converted.lines) {
        return Err(ShrinkError::NotReproduced {
            rule,
            text: body(&header, &converted.lines),
        });
    }
    let lines = ddmin(converted.lines, &mut budget, &mut fails);
    let lines = drop_faults(lines, &mut budget, &mut fails);
    let (lines, breaks) = annotate(&header, lines, &rule, target);
    let mut found = Counterexample {
        steps: lines.len(),
        text: String::new(),
        path: None,
        original_calls: outcome.run.as_ref().map_or(0, |r| r.history.len()),
        rule,
        runs: budget.runs_made,
    };
    let mut comment = header_comment(outcome, &found, &breaks, options);
    if converted.left_out > 0 {
        comment.push_str(&format!(
            "# ({} calls of the run no step can write were left out, e.g. a renew presenting a \
             lease its client never got.)\n",
            converted.left_out
        ));
    }
    found.text = comment + &body(&header, &lines);
    if let Some(dir) = &options.dir {
        found.path = Some(write(dir, &file_name(outcome), &found.text)?);
    }
    Ok(found)
}

/// Each line's `!faults` removed where the failure survives without them.
fn drop_faults(
    mut lines: Vec<Line>,
    budget: &mut Budget,
    fails: &mut impl FnMut(&[Line]) -> bool,
) -> Vec<Line> {
    for at in 0..lines.len() {
        let Some(bare) = lines[at].step.split(" !").next().map(str::to_owned) else {
            continue;
        };
        if bare == lines[at].step || !budget.spend() {
            continue;
        }
        let mut candidate = lines.clone();
        candidate[at].step = bare;
        if fails(&candidate) {
            lines = candidate;
        }
    }
    lines
}

/// The lines with `# saw` set to what this file's own run got (not what the seed's calls got:
/// the shrunk run differs), and that run's violation of `rule`, for the header.
fn annotate(
    header: &str,
    mut lines: Vec<Line>,
    rule: &str,
    target: &mut dyn SimTarget,
) -> (Vec<Line>, String) {
    let Ok(report) = run_world_text(&body(header, &lines), "counterexample.scn", target) else {
        return (lines, String::new());
    };
    let breaks = report
        .failures
        .iter()
        .find(|f| f.violation.rule == rule)
        .map_or_else(String::new, one_line);
    let calls = report.run.as_ref().map_or(&[][..], |r| r.history.calls());
    // Each actor's calls come in its lines' order; `seen[actor]` is where its next one starts.
    let mut seen: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    // The body's first line is the `world` line, so step `i` is on line `i + 2`.
    for (i, line) in lines.iter_mut().enumerate() {
        let Some(actor) = &line.actor else { continue };
        if report.skipped.iter().any(|s| s.line == i + 2) {
            line.saw = Some("skipped: no lease to present".into());
            continue;
        }
        let from = seen.get(actor).copied().unwrap_or(0);
        let found = calls[from.min(calls.len())..]
            .iter()
            .position(|c| &c.client == actor)
            .map(|at| from + at);
        line.saw = found.map(|at| saw_text(&calls[at].op, calls[at].outcome()));
        seen.insert(actor.clone(), found.map_or(calls.len(), |at| at + 1));
    }
    (lines, breaks)
}

fn one_line(failure: &Failure) -> String {
    let text = failure.to_string();
    let first = text.lines().next().unwrap_or_default();
    first.chars().take(200).collect()
}

/// The `world` line and the steps.
fn body(header: &str, lines: &[Line]) -> String {
    let mut text = header.to_owned();
    text.push('\n');
    for line in lines {
        text.push_str(&line.render());
        text.push('\n');
    }
    text
}

fn file_name(outcome: &SeedOutcome) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect()
    };
    format!(
        "{}-{}-seed{}.scn",
        clean(outcome.workload),
        clean(&outcome.target),
        outcome.seed
    )
}

fn header_comment(
    outcome: &SeedOutcome,
    found: &Counterexample,
    breaks: &str,
    options: &ShrinkOptions,
) -> String {
    let level = outcome.level.map_or("given plan".to_owned(), |l| {
        format!("faults {}", format!("{l:?}").to_lowercase())
    });
    let violation = outcome
        .failures
        .iter()
        .find(|f| f.violation.rule == found.rule)
        .map_or_else(String::new, one_line);
    let path = options.dir.as_ref().map_or_else(
        || "FILE.scn".to_owned(),
        |d| {
            let path = d.join(file_name(outcome));
            let cwd = std::env::current_dir().unwrap_or_default();
            let shown = path.strip_prefix(&cwd).unwrap_or(&path);
            shown.display().to_string()
        },
    );
    let replay = match outcome.target.as_str() {
        "memory" => format!("procreg replay {path} --registry memory"),
        "file-on-simstorage" => format!("procreg replay {path} --registry file"),
        _ => format!("scenario::run_world_file(\"{path}\", &mut your_target)"),
    };
    format!(
        "# procreg counterexample: workload {} on {}, seed {} ({level})\n\
         # the seed broke: {violation}\n\
         # shrunk from {} calls to {} steps in {} runs; this file breaks, on its own:\n\
         #   {breaks}\n\
         # replay:\n\
         #   {replay}\n\
         # Each step starts at @T (ms since the run began); `# saw` is what it got in this file's run.\n",
        outcome.workload,
        outcome.target,
        outcome.seed,
        found.original_calls,
        found.steps,
        found.runs
    )
}

fn write(dir: &Path, name: &str, text: &str) -> Result<PathBuf, ShrinkError> {
    let failed = |path: &Path, e: std::io::Error| ShrinkError::Write {
        path: path.to_owned(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| failed(dir, e))?;
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|e| failed(&path, e))?;
    Ok(path)
}
