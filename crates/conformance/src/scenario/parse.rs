//! Reading a scenario file into steps: comments, `include`, `onlyif`/`skipif` guards (for the
//! next step, or a `{ ... }` block), actors, verbs and expectations.
//!
//! Every problem is a [`ScenarioError`] naming `file:line:column` with a hint; no input makes the
//! parser panic (a test feeds it garbage). Checks that need no registry happen here, so a typo
//! fails before anything runs: an unknown verb, option or field, a bad JSON payload, a `renew`
//! by an actor that never claimed that process.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::expect::{self, Expected};
use super::lex::{Token, column_of, lex};
use super::values::parse_word;
use super::verbs;
use super::world_syntax::{parse_faults, parse_header, parse_partition, split_time};
use super::{Action, Call, Cap, Guard, Layout, Scenario, Step, StepFaults, WorldHeader};

/// How deep `include`s may nest.
const MAX_INCLUDE_DEPTH: usize = 16;

/// A problem with a scenario file: where, what, and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file the problem is in.
    pub file: PathBuf,
    /// 1-based line; 0 when the problem is the file as a whole (it cannot be read).
    pub line: usize,
    /// 1-based column in characters; 0 with `line`.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when there is something to say.
    pub hint: Option<String>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)?;
        } else {
            let (file, line, column) = (self.file.display(), self.line, self.column);
            write!(f, "{file}:{line}:{column}: {}", self.message)?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

impl ScenarioError {
    pub(crate) fn io(path: &Path, error: &std::io::Error) -> Self {
        Self {
            file: path.to_owned(),
            line: 0,
            column: 0,
            message: format!("cannot read: {error}"),
            hint: None,
        }
    }

    pub(crate) fn at_step(step: &Step, message: String, hint: Option<String>) -> Self {
        Self {
            file: step.file.as_ref().clone(),
            line: step.line,
            column: 1,
            message,
            hint,
        }
    }
}

/// A problem on one line, before it knows its file and line.
#[derive(Debug)]
pub(crate) struct Problem {
    offset: usize,
    message: String,
    hint: Option<String>,
}

impl Problem {
    pub(crate) fn offset(offset: usize, message: impl Into<String>) -> Self {
        Self {
            offset,
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn at(token: &Token<'_>, message: impl Into<String>) -> Self {
        Self::offset(token.start, message)
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Reads and parses the scenario at `path`, includes expanded.
pub(crate) fn parse_file(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::io(path, &e))?;
    parse_text(&text, path)
}

/// Parses `text` as if it were the file at `path` (includes resolve next to `path`).
pub(crate) fn parse_text(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
    let mut parser = Parser {
        steps: Vec::new(),
        stack: vec![path.to_owned()],
        claimed: BTreeSet::new(),
        world: None,
    };
    parser.lines(text, Arc::new(path.to_owned()), true, &[])?;
    Ok(Scenario {
        steps: parser.steps,
        world: parser.world,
    })
}

struct Parser {
    steps: Vec<Step>,
    /// The include chain, to refuse cycles.
    stack: Vec<PathBuf>,
    /// (actor, process) pairs some earlier step claimed, so `renew` and `release` can be checked.
    claimed: BTreeSet<(String, String)>,
    /// The `world` line, once read: every later step is timed.
    world: Option<WorldHeader>,
}

/// Guards read so far in one file: open `{` blocks and guards waiting for their step.
#[derive(Default)]
struct Guards {
    blocks: Vec<(usize, Vec<Guard>)>,
    pending: Vec<Guard>,
    pending_line: usize,
}

impl Guards {
    fn take(&mut self, outer: &[Guard]) -> Vec<Guard> {
        let mut all = outer.to_vec();
        all.extend(self.blocks.iter().flat_map(|(_, g)| g.iter().copied()));
        all.append(&mut self.pending);
        all
    }
}

impl Parser {
    fn lines(
        &mut self,
        text: &str,
        file: Arc<PathBuf>,
        own: bool,
        outer: &[Guard],
    ) -> Result<(), ScenarioError> {
        let mut guards = Guards::default();
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let error = |p: Problem| ScenarioError {
                file: file.as_ref().clone(),
                line: number,
                column: column_of(line, p.offset),
                message: p.message,
                hint: p.hint,
            };
            let lexed =
                lex(line).map_err(|e| error(Problem::offset(e.offset, e.message).hint(e.hint)))?;
            let Some(first) = lexed.tokens.first() else {
                continue;
            };
            match first.text {
                "}" => close_block(&lexed.tokens, &mut guards).map_err(error)?,
                "onlyif" | "skipif" => guard(&lexed.tokens, number, &mut guards).map_err(error)?,
                "world" => {
                    if !self.steps.is_empty() || self.world.is_some() {
                        return Err(error(
                            Problem::at(first, "`world` comes once, before every step")
                                .hint("move the `world ...` line to the top of the file"),
                        ));
                    }
                    self.world = Some(parse_header(&lexed.tokens).map_err(error)?);
                }
                "include" => {
                    let path = include_path(&file, &lexed.tokens).map_err(error)?;
                    let guards = guards.take(outer);
                    self.include(&path, &guards).map_err(|e| match e {
                        // Point at the path, not at `include`.
                        Included::Problem(p) => error(Problem {
                            offset: lexed.tokens.get(1).map_or(0, |t| t.start),
                            ..p
                        }),
                        Included::Nested(e) => e,
                    })?;
                }
                _ => {
                    let guards = guards.take(outer);
                    let step = self
                        .step(line, &lexed.tokens, &file, number, own, guards)
                        .map_err(error)?;
                    self.steps.push(step);
                }
            }
        }
        let unfinished = |line: usize, message: &str, hint: &str| ScenarioError {
            file: file.as_ref().clone(),
            line,
            column: 1,
            message: message.into(),
            hint: Some(hint.into()),
        };
        if let Some((line, _)) = guards.blocks.last() {
            return Err(unfinished(
                *line,
                "this block is never closed",
                "end it with a line holding only `}`",
            ));
        }
        if !guards.pending.is_empty() {
            return Err(unfinished(
                guards.pending_line,
                "this guard has no step after it",
                "put the step it guards on the next line",
            ));
        }
        Ok(())
    }

    fn include(&mut self, path: &Path, guards: &[Guard]) -> Result<(), Included> {
        if self.stack.len() >= MAX_INCLUDE_DEPTH {
            return Err(Included::Problem(Problem::offset(
                0,
                format!("includes nest deeper than {MAX_INCLUDE_DEPTH}"),
            )));
        }
        if self.stack.iter().any(|p| same_file(p, path)) {
            return Err(Included::Problem(
                Problem::offset(0, format!("`{}` includes itself", path.display()))
                    .hint("include cycles never end; move the shared steps to a `_fragment.scn`"),
            ));
        }
        let text = std::fs::read_to_string(path).map_err(|e| {
            Included::Problem(Problem::offset(
                0,
                format!("cannot include `{}`: {e}", path.display()),
            ))
        })?;
        self.stack.push(path.to_owned());
        let result = self.lines(&text, Arc::new(path.to_owned()), false, guards);
        self.stack.pop();
        result.map_err(Included::Nested)
    }

    fn step(
        &mut self,
        line: &str,
        tokens: &[Token<'_>],
        file: &Arc<PathBuf>,
        number: usize,
        own: bool,
        guards: Vec<Guard>,
    ) -> Result<Step, Problem> {
        let (at_ms, tokens) = split_time(tokens, self.world.is_some())?;
        let (actor, rest) = split_actor(tokens)?;
        let arrow = rest.iter().position(|t| t.text == "=>");
        let (command, outcome) = match arrow {
            Some(at) => (&rest[..at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        let (command, faults) = parse_faults(command, self.world.is_some())?;
        let Some(verb) = command.first() else {
            let at = rest.first().map_or(line.len(), |t| t.start);
            return Err(Problem::offset(at, "a step needs a verb")
                .hint("e.g. `a: claim p1 ttl=1000 => ok fence=1`"));
        };
        let cmd_end = command.last().map_or(0, |t| t.end);
        let action = self.action(verb, &command[1..], actor, cmd_end)?;
        if faults != StepFaults::default() && !matches!(action, Action::Call { .. }) {
            return Err(Problem::at(
                verb,
                format!("`{}` is not a call: it takes no `!` fault", verb.text),
            ));
        }
        let expect = match (outcome, &action) {
            (None, _) => None,
            (Some(words), Action::Call { shape, .. }) => {
                Some(expect::parse(words, *shape, rest[arrow.unwrap_or(0)].end)?)
            }
            (Some(_), _) => {
                return Err(Problem::at(
                    &rest[arrow.unwrap_or(0)],
                    format!("`{}` has no outcome to expect", verb.text),
                ));
            }
        };
        if let (Some(Expected::Pending), Some(_)) = (&expect, &self.world) {
            return Err(Problem::at(
                &rest[arrow.unwrap_or(0)],
                "a world step cannot expect `pending`",
            )
            .hint("a wait in a world run blocks until its event comes; leave `=>` off"));
        }
        let expect_end = rest.last().map_or(cmd_end, |t| t.end);
        Ok(Step {
            file: Arc::clone(file),
            line: number,
            text: line[tokens[0].start..cmd_end].to_owned(),
            own,
            guards,
            at_ms,
            faults,
            action,
            expect,
            layout: Layout {
                cmd_end,
                arrow: arrow.map(|at| rest[at].start),
                expect_end,
            },
        })
    }

    fn action(
        &mut self,
        verb: &Token<'_>,
        args: &[Token<'_>],
        actor: Option<String>,
        line_end: usize,
    ) -> Result<Action, Problem> {
        match verb.text {
            "advance" if self.world.is_some() => Err(Problem::at(
                verb,
                "a world scenario moves time with `@T` prefixes, not `advance`",
            )
            .hint("write `@1200 a: renew p1 ttl=100`")),
            "partition" if self.world.is_some() => parse_partition(args, verb),
            "advance" => match args {
                [ms] => ms.text.parse().map(Action::Advance).map_err(|_| {
                    Problem::at(
                        ms,
                        format!("`{}` is not a whole number of milliseconds", ms.text),
                    )
                }),
                _ => Err(
                    Problem::at(verb, "`advance` takes one number: milliseconds")
                        .hint("advance 1001"),
                ),
            },
            "crash" => match args.first() {
                None => Ok(Action::Crash),
                Some(t) => Err(Problem::at(t, "`crash` takes nothing")),
            },
            name => {
                let spec = verbs::find(name).ok_or_else(|| unknown_verb(verb))?;
                let call = spec.build(verb, args, actor.as_deref(), line_end)?;
                self.check_lease_order(&call, actor.as_deref(), verb)?;
                Ok(Action::Call {
                    actor,
                    call,
                    shape: spec.shape,
                })
            }
        }
    }

    /// `renew` and `release` present the actor's lease: some earlier step must have claimed it.
    fn check_lease_order(
        &mut self,
        call: &Call,
        actor: Option<&str>,
        verb: &Token<'_>,
    ) -> Result<(), Problem> {
        let actor = actor.unwrap_or_default().to_owned();
        match call {
            Call::Op(procreg_reference::Op::ClaimLease { process_id, .. }) => {
                self.claimed.insert((actor, process_id.clone()));
            }
            Call::Renew { process_id, .. } | Call::Release { process_id, .. } => {
                if !self.claimed.contains(&(actor.clone(), process_id.clone())) {
                    return Err(Problem::at(
                        verb,
                        format!(
                            "`{actor}` never claimed `{process_id}`, so it has no lease to present"
                        ),
                    )
                    .hint(format!(
                        "claim first: `{actor}: claim {process_id} ttl=1000`"
                    )));
                }
            }
            Call::Op(_) => {}
        }
        Ok(())
    }
}

enum Included {
    Problem(Problem),
    Nested(ScenarioError),
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// `a: ...` or `"a b": ...`: the actor, and the words after it.
fn split_actor<'t, 'a>(
    tokens: &'t [Token<'a>],
) -> Result<(Option<String>, &'t [Token<'a>]), Problem> {
    let first = &tokens[0];
    match first.text.strip_suffix(':') {
        Some(name) if tokens.len() > 1 || !name.is_empty() => {
            if name.is_empty() {
                return Err(Problem::at(first, "empty actor before `:`")
                    .hint("write `a: claim p1 ttl=1000`, or `\"\": ...` for a blank owner id"));
            }
            let actor = parse_word(name).map_err(|m| Problem::at(first, m))?;
            Ok((Some(actor), &tokens[1..]))
        }
        _ => Ok((None, tokens)),
    }
}

fn unknown_verb(verb: &Token<'_>) -> Problem {
    let problem = Problem::at(verb, format!("unknown verb `{}`", verb.text));
    match closest(verb.text, verbs::names()) {
        Some(near) => problem.hint(format!("did you mean `{near}`?")),
        None => problem.hint(format!(
            "verbs: {}",
            verbs::names().collect::<Vec<_>>().join(", ")
        )),
    }
}

fn guard(tokens: &[Token<'_>], line: usize, guards: &mut Guards) -> Result<(), Problem> {
    let only = tokens[0].text == "onlyif";
    let Some(name) = tokens.get(1) else {
        return Err(Problem::offset(tokens[0].end, "a guard needs a capability")
            .hint("`onlyif durable` or `skipif durable` (also `inline`)"));
    };
    let cap = match name.text {
        "durable" => Cap::Durable,
        "inline" => Cap::Inline,
        other => {
            let near = closest(other, ["durable", "inline"].into_iter());
            return Err(
                Problem::at(name, format!("unknown capability `{other}`")).hint(
                    near.map_or("capabilities: durable, inline".into(), |n| {
                        format!("did you mean `{n}`?")
                    }),
                ),
            );
        }
    };
    let guard = Guard { only, cap };
    match &tokens[2..] {
        [] => {
            guards.pending.push(guard);
            guards.pending_line = line;
        }
        [brace] if brace.text == "{" => {
            let mut block = std::mem::take(&mut guards.pending);
            block.push(guard);
            guards.blocks.push((line, block));
        }
        [extra, ..] => {
            return Err(Problem::at(
                extra,
                format!("unexpected `{}` after the guard", extra.text),
            )
            .hint("a guard stands alone on its line, or opens a block with `{`"));
        }
    }
    Ok(())
}

fn close_block(tokens: &[Token<'_>], guards: &mut Guards) -> Result<(), Problem> {
    if let Some(extra) = tokens.get(1) {
        return Err(Problem::at(extra, "`}` stands alone on its line"));
    }
    if !guards.pending.is_empty() {
        return Err(Problem::at(
            &tokens[0],
            "a guard just before `}` guards nothing",
        ));
    }
    guards.blocks.pop().map(drop).ok_or_else(|| {
        Problem::at(&tokens[0], "`}` closes no block").hint("open one with `onlyif durable {`")
    })
}

fn include_path(file: &Path, tokens: &[Token<'_>]) -> Result<PathBuf, Problem> {
    match tokens {
        [_, path] => {
            let name = parse_word(path.text).map_err(|m| Problem::at(path, m))?;
            Ok(file.parent().unwrap_or(Path::new(".")).join(name))
        }
        [include] => Err(Problem::offset(include.end, "`include` needs a file")
            .hint("include _setup.scn (relative to this file)")),
        [_, _, extra, ..] => Err(Problem::at(extra, format!("unexpected `{}`", extra.text))),
        [] => Err(Problem::offset(0, "empty include")),
    }
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a typo.
pub(crate) fn closest<'c>(
    word: &str,
    candidates: impl Iterator<Item = &'c str>,
) -> Option<&'c str> {
    candidates
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(1))
        .min()
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(current + 1);
            previous = current;
        }
    }
    row[b.len()]
}
