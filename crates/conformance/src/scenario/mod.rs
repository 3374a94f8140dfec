//! Scenario files: registry stories a person can read, replay against any backend and bless
//! from the Model.
//!
//! A scenario is a `.scn` text file with one step per line, the actor and the expected outcome
//! inline (the format is described in full in `docs/SCENARIOS.md`):
//!
//! ```text
//! # scenarios/lease/stale_holder_cannot_renew.scn
//! register p1
//! a: claim p1 ttl=1000          => ok fence=1
//! advance 1001
//! b: claim p1 ttl=1000          => ok fence=2
//! a: renew p1 ttl=1000          => err lease_lost
//! ```
//!
//! It exists because laws (the `laws` module) are code a reader must trust, while a scenario is
//! the contract's behaviour written down where anyone can check it line by line, and where a
//! failure points at one line: `file:line`, the step, expected vs actual, and the command that
//! replays it. Expectations are never written by hand from a backend's output: [`bless_file`]
//! writes them from the Model (`Model::apply`), the contract's one executable reading.
//!
//! - `lex` / `parse` / `verbs` / `values`: the text format, with `file:line:column` errors
//!   that never panic on any input.
//! - `fields` / `expect`: what `=> ok fence=2` checks, and how answers are written back.
//! - `run`: [`run_file`] replays a file against a [`Harness`](crate::Harness).
//! - `bless`: [`bless_file`] rewrites expectations from the Model.

mod actors;
mod args;
mod bless;
mod event_types;
mod expect;
mod fields;
mod lex;
mod parse;
mod run;
#[cfg(test)]
mod tests;
mod values;
mod verbs;
mod world;
mod world_syntax;
mod write;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use procreg_reference::Op;

pub(crate) use actors::Actors;
pub use bless::{bless_dir, bless_file};
pub use parse::ScenarioError;
pub use run::{
    Mismatch, RunOptions, ScenarioFailure, ScenarioReport, SkippedStep, WorldFailure, run_dir,
    run_file, run_file_async, run_file_with, skip_reason,
};
pub(crate) use values::render_text as render_word;
pub use world::{WorldReport, run_world_file, run_world_text};
pub(crate) use world_syntax::{render_faults, render_header};
pub(crate) use write::{lease_step_text, op_text, saw_text};

use expect::Expected;
use fields::Shape;

/// A parsed scenario: its steps in order, includes expanded.
#[derive(Debug)]
pub(crate) struct Scenario {
    pub(crate) steps: Vec<Step>,
    /// Set by a `world ...` line: the steps are timed and run concurrently in the simulated
    /// world, judged by the checkers rather than by expectations (see [`world`]).
    pub(crate) world: Option<WorldHeader>,
}

/// The `world seed=N latency=MS timeout=MS [torn=P] [workload=W]` line of a world scenario.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct WorldHeader {
    /// The executor's seed: which ready task runs first.
    pub(crate) seed: u64,
    /// The link's one-way latency, virtual ms.
    pub(crate) latency_ms: u64,
    /// How long a client waits before a lost call is `Unavailable`, virtual ms.
    pub(crate) timeout_ms: u64,
    /// Probability that a registry crash tears the last unsynced write.
    pub(crate) torn_write_probability: f64,
    /// The workload whose history checks also judge the run (`grants`, `events`).
    pub(crate) workload: Option<String>,
}

/// What the link and the client do to one call of a world scenario (`!drop-request`,
/// `!drop-response`, `!duplicate`, `!delay=MS`, `!cut=T`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct StepFaults {
    /// The link's fault on this call.
    pub(crate) link: Option<procreg_sim::LinkFault>,
    /// The client gives the call up at this instant (a worker crash), virtual ms.
    pub(crate) cut_at_ms: Option<u64>,
}

/// One step, with where it was written.
#[derive(Debug)]
pub(crate) struct Step {
    pub(crate) file: Arc<PathBuf>,
    /// 1-based line number in `file`.
    pub(crate) line: usize,
    /// The step as written, without its expectation and comment.
    pub(crate) text: String,
    /// Written in the top file (not in an included one): bless rewrites only these.
    pub(crate) own: bool,
    pub(crate) guards: Vec<Guard>,
    /// `@T`: when a world scenario's step starts, virtual ms since the start.
    pub(crate) at_ms: Option<u64>,
    /// `!fault` words of a world scenario's call.
    pub(crate) faults: StepFaults,
    pub(crate) action: Action,
    pub(crate) expect: Option<Expected>,
    pub(crate) layout: Layout,
}

/// Byte offsets inside a step's line, so bless can rewrite the expectation alone.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    /// End of the last word before `=>` (or of the line's last word).
    pub(crate) cmd_end: usize,
    /// Where `=>` starts.
    pub(crate) arrow: Option<usize>,
    /// End of the expectation's last word.
    pub(crate) expect_end: usize,
}

/// What a step does.
#[derive(Debug)]
pub(crate) enum Action {
    /// `advance MS`: move the scenario's clock forward.
    Advance(u64),
    /// `crash`: crash and reopen the registry (D7).
    Crash,
    /// `partition CLIENT until=T` (world scenarios): the client cannot reach the registry
    /// from the step's `@T` until `until_ms`.
    Partition { client: String, until_ms: u64 },
    /// A registry call.
    Call {
        actor: Option<String>,
        call: Call,
        shape: Shape,
    },
}

/// A registry call; renew and release take the actor's lease, known only while running.
#[derive(Clone, Debug)]
pub(crate) enum Call {
    Op(Op),
    Renew {
        process_id: String,
        ttl_ms: u64,
        fence: Option<u64>,
    },
    Release {
        process_id: String,
        fence: Option<u64>,
    },
}

/// `onlyif CAP` (`only: true`) or `skipif CAP`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Guard {
    pub(crate) only: bool,
    pub(crate) cap: Cap,
}

/// What a guard can ask of the registry under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cap {
    /// The registry is `Durable` (D1).
    Durable,
    /// The registry is `Inline`.
    Inline,
}

/// What the registry a scenario runs on can do, as guards and `crash` see it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Profile {
    pub(crate) durable: bool,
    /// `crash` reopens (durable and the harness implements reopen); otherwise it is skipped.
    pub(crate) can_crash: bool,
}

impl Profile {
    pub(crate) fn admits(self, guards: &[Guard]) -> bool {
        guards.iter().all(|g| {
            let has = match g.cap {
                Cap::Durable => self.durable,
                Cap::Inline => !self.durable,
            };
            has == g.only
        })
    }
}

/// A scenario file found by [`discover`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioFile {
    /// The path relative to the folder, `/`-separated, without `.scn`
    /// (`lease/stale_holder_cannot_renew`): the test name.
    pub name: String,
    /// The file itself.
    pub path: PathBuf,
}

/// Every `*.scn` file under `dir`, sorted by name. Files whose name starts with `_` are
/// fragments for `include` and are not listed.
///
/// # Errors
/// A [`ScenarioError`] naming the folder that cannot be read.
pub fn discover(dir: impl AsRef<Path>) -> Result<Vec<ScenarioFile>, ScenarioError> {
    let dir = dir.as_ref();
    let mut found = Vec::new();
    walk(dir, dir, &mut found)?;
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

fn walk(root: &Path, dir: &Path, found: &mut Vec<ScenarioFile>) -> Result<(), ScenarioError> {
    let entries = std::fs::read_dir(dir).map_err(|e| ScenarioError::io(dir, &e))?;
    for entry in entries {
        let path = entry.map_err(|e| ScenarioError::io(dir, &e))?.path();
        if path.is_dir() {
            walk(root, &path, found)?;
            continue;
        }
        let is_fragment = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_none_or(|n| n.starts_with('_'));
        if path.extension().is_some_and(|e| e == "scn") && !is_fragment {
            found.push(ScenarioFile {
                name: scenario_name(root, &path),
                path,
            });
        }
    }
    Ok(())
}

/// `root/lease/x.scn` -> `lease/x`.
pub(crate) fn scenario_name(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path).with_extension("");
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}
