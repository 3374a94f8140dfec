//! Replaying a scenario file against a backend: [`run_file`] builds a fresh registry from the
//! user's [`Harness`] on a [`ManualClock`] the runner alone advances (`advance MS`), runs every
//! step the registry's capabilities admit, and stops at the first step whose answer differs from
//! its expectation, naming `file:line`, the step, expected and actual, and the replay command.
//!
//! `crash` calls [`Harness::reopen`] (D7) when the registry is durable and the harness declares
//! crash-reopen; otherwise the step is skipped and reported as `skipped: needs durable`, and the
//! file goes on: a crash of a durable registry leaves every acknowledged state in place (D2, D6),
//! so every later expectation is the same with or without it (Z24).
//!
//! The Model is never consulted here: the file's expectations are the oracle (they were blessed
//! from the Model beforehand).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use procreg::{DurabilityTier, ManualClock, PluginError};
use procreg_reference::{Op, execute_op};

use super::actors::Actors;
use super::expect::{self, Actual, Expected};
use super::parse::{ScenarioError, parse_file};
use super::world::run_parsed;
use super::{Action, Profile, Scenario, Step, scenario_name};
use crate::ctx::START_MS;
use crate::explore::{Failure, HarnessTarget};
use crate::harness::{Capabilities, Harness, Instance};

/// How a run names itself and how long it waits.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RunOptions {
    /// The scenario's name in reports. Default: the path below the nearest `scenarios` folder,
    /// without `.scn` (`lease/stale_holder_cannot_renew`), else the file stem.
    pub name: Option<String>,
    /// The command printed to rerun a failure. Default:
    /// `cargo test --test scenarios -- <name>`.
    pub replay: Option<String>,
    /// How long a step expecting `=> pending` waits for an answer before it counts as pending.
    /// It bounds the wait, it is never slept. Default 50 ms.
    pub pending_grace: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            name: None,
            replay: None,
            pending_grace: Duration::from_millis(50),
        }
    }
}

impl RunOptions {
    /// Sets [`RunOptions::name`].
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets [`RunOptions::replay`].
    pub fn replay_with(mut self, command: impl Into<String>) -> Self {
        self.replay = Some(command.into());
        self
    }

    /// Sets [`RunOptions::pending_grace`].
    pub fn with_pending_grace(mut self, grace: Duration) -> Self {
        self.pending_grace = grace;
        self
    }
}

/// What a passing run did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioReport {
    /// The scenario's name.
    pub name: String,
    /// Steps run (calls, `advance`, `crash`).
    pub steps_run: usize,
    /// Steps left out by an `onlyif`/`skipif` guard.
    pub steps_guarded: usize,
    /// Steps the registry could not run (`crash` without durable reopen).
    pub skipped: Vec<SkippedStep>,
    /// Why the whole file was not run, when it was not (see [`skip_reason`]).
    pub skipped_file: Option<String>,
}

/// A step that could not run on this registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedStep {
    /// The file it is written in.
    pub file: PathBuf,
    /// Its 1-based line.
    pub line: usize,
    /// Why: `skipped: needs durable`.
    pub reason: String,
}

/// Why a run failed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ScenarioFailure {
    /// The file is not a valid scenario (or asks an actor for a lease it never got).
    Invalid(ScenarioError),
    /// A step's answer differs from its expectation.
    Mismatch(Box<Mismatch>),
    /// A world scenario's run broke the contract: the checkers' findings.
    Violations(Box<WorldFailure>),
    /// The harness could not make a registry, or no runtime could be built.
    Environment {
        /// The scenario's name.
        name: String,
        /// What failed.
        message: String,
    },
}

/// A step whose answer differs from its expectation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The scenario's name.
    pub name: String,
    /// The file the step is written in (an included file for an included step).
    pub file: PathBuf,
    /// The step's 1-based line.
    pub line: usize,
    /// The step as written, without its expectation.
    pub step: String,
    /// The expectation as written (`err lease_lost`).
    pub expected: String,
    /// The answer in the same notation (`ok fence=2`).
    pub actual: String,
    /// The error's message, when the answer was an error (never compared, shown for context).
    pub message: Option<String>,
    /// The command that reruns this scenario.
    pub replay: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}:{}: {}", self.file.display(), self.line, self.step)?;
        writeln!(f, "  expected: {}", self.expected)?;
        write!(f, "  actual:   {}", self.actual)?;
        if let Some(message) = &self.message {
            write!(f, "  ({message})")?;
        }
        write!(
            f,
            "\n  scenario: {}\n  replay:   {}",
            self.name, self.replay
        )
    }
}

/// A world scenario whose run broke the contract.
#[derive(Clone, Debug)]
pub struct WorldFailure {
    /// The scenario's name.
    pub name: String,
    /// The file.
    pub file: PathBuf,
    /// What the checkers found, each with its rule id and class.
    pub failures: Vec<Failure>,
    /// Steps whose answer did not meet their `=> ...`.
    pub mismatches: Vec<Mismatch>,
    /// The command that reruns this scenario.
    pub replay: String,
}

impl fmt::Display for WorldFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.failures.is_empty() {
            "steps did not answer as expected"
        } else {
            "the world run broke the contract"
        };
        writeln!(f, "{}: {what}", self.file.display())?;
        for failure in &self.failures {
            writeln!(f, "  {failure}")?;
        }
        for m in &self.mismatches {
            writeln!(f, "  {}:{}: {}", m.file.display(), m.line, m.step)?;
            writeln!(f, "    expected: {}", m.expected)?;
            writeln!(f, "    actual:   {}", m.actual)?;
        }
        write!(f, "  scenario: {}\n  replay:   {}", self.name, self.replay)
    }
}

impl fmt::Display for ScenarioFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScenarioFailure::Invalid(e) => write!(f, "{e}"),
            ScenarioFailure::Mismatch(m) => write!(f, "{m}"),
            ScenarioFailure::Violations(v) => write!(f, "{v}"),
            ScenarioFailure::Environment { name, message } => {
                write!(f, "scenario {name}: environment failure: {message}")
            }
        }
    }
}

impl std::error::Error for ScenarioFailure {}

/// Why a harness cannot run scenarios at all: they move time, so the registry must read the
/// injected clock (T2). `None` when it can.
pub fn skip_reason(caps: &Capabilities) -> Option<String> {
    (!caps.injected_clock)
        .then(|| "skipped: needs an injected clock (T2); scenarios move time with `advance`".into())
}

/// Replays the scenario at `path` against a fresh registry from `harness`, on a current-thread
/// tokio runtime of its own (call [`run_file_async`] from inside a runtime).
///
/// # Errors
/// A [`ScenarioFailure`] for the first step that differs, an invalid file, or a harness that
/// cannot make a registry.
pub fn run_file<H: Harness>(
    path: impl AsRef<Path>,
    harness: &H,
) -> Result<ScenarioReport, ScenarioFailure> {
    run_file_with(path, harness, &RunOptions::default())
}

/// [`run_file`] with [`RunOptions`].
///
/// # Errors
/// As [`run_file`].
pub fn run_file_with<H: Harness>(
    path: impl AsRef<Path>,
    harness: &H,
    options: &RunOptions,
) -> Result<ScenarioReport, ScenarioFailure> {
    let path = path.as_ref();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(run_file_async(path, harness, options)),
        Err(e) => Err(ScenarioFailure::Environment {
            name: default_name(path),
            message: format!("cannot build a tokio runtime: {e}"),
        }),
    }
}

/// [`run_file_with`] on the caller's tokio runtime (its time driver must be enabled).
///
/// # Errors
/// As [`run_file`].
pub async fn run_file_async<H: Harness>(
    path: impl AsRef<Path>,
    harness: &H,
    options: &RunOptions,
) -> Result<ScenarioReport, ScenarioFailure> {
    let path = path.as_ref();
    let name = options.name.clone().unwrap_or_else(|| default_name(path));
    let replay = options
        .replay
        .clone()
        .unwrap_or_else(|| format!("cargo test --test scenarios -- {name}"));
    let scenario = parse_file(path).map_err(ScenarioFailure::Invalid)?;
    let caps = harness.capabilities();
    let mut report = ScenarioReport {
        name: name.clone(),
        steps_run: 0,
        steps_guarded: 0,
        skipped: Vec::new(),
        skipped_file: skip_reason(&caps),
    };
    if report.skipped_file.is_some() {
        return Ok(report);
    }
    if scenario.world.is_some() {
        let mut target = HarnessTarget::borrowed(harness, label_of(&name));
        let world = run_parsed(&scenario, path, &mut target).map_err(ScenarioFailure::Invalid)?;
        if !world.passed() {
            return Err(ScenarioFailure::Violations(Box::new(WorldFailure {
                name,
                file: path.to_owned(),
                failures: world.failures,
                mismatches: world.mismatches,
                replay,
            })));
        }
        report.steps_run = world.steps - world.skipped.len();
        report.skipped = world.skipped;
        return Ok(report);
    }
    let run = Run {
        harness,
        caps,
        options,
        name,
        replay,
    };
    run.steps(&scenario, &mut report).await?;
    Ok(report)
}

/// Runs every scenario under `dir` (see [`discover`](super::discover)) on `harness`, for a
/// backend that wants one `#[test]` rather than one test per file. Replay commands name
/// `cargo test -- <scenario>`.
///
/// # Errors
/// Every failure, in file order, when any scenario fails.
pub fn run_dir<H: Harness>(
    dir: impl AsRef<Path>,
    harness: &H,
) -> Result<Vec<ScenarioReport>, Vec<ScenarioFailure>> {
    let files = super::discover(dir).map_err(|e| vec![ScenarioFailure::Invalid(e)])?;
    let (mut reports, mut failures) = (Vec::new(), Vec::new());
    for file in files {
        let options = RunOptions::default()
            .replay_with(format!("cargo test -- {}", file.name))
            .named(file.name);
        match run_file_with(&file.path, harness, &options) {
            Ok(report) => reports.push(report),
            Err(failure) => failures.push(failure),
        }
    }
    if failures.is_empty() {
        Ok(reports)
    } else {
        Err(failures)
    }
}

/// The name [`RunOptions::name`] defaults to.
fn default_name(path: &Path) -> String {
    let root = path
        .ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "scenarios"));
    match root {
        Some(root) => scenario_name(root, path),
        None => path
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned()),
    }
}

/// `[a-z0-9_]` only, as [`Instance::label`] promises.
fn label_of(name: &str) -> String {
    let body: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("scenario__{body}")
}

struct Run<'h, H> {
    harness: &'h H,
    caps: Capabilities,
    options: &'h RunOptions,
    name: String,
    replay: String,
}

impl<H: Harness> Run<'_, H> {
    async fn steps(
        &self,
        scenario: &Scenario,
        report: &mut ScenarioReport,
    ) -> Result<(), ScenarioFailure> {
        let profile = Profile {
            durable: self.caps.durability == DurabilityTier::Durable,
            can_crash: self.caps.durability == DurabilityTier::Durable && self.caps.crash_reopen,
        };
        let clock = ManualClock::new(START_MS);
        let instance = Instance {
            label: label_of(&self.name),
            clock: Arc::new(clock.clone()),
        };
        let mut registry = Some(
            self.harness
                .fresh(&instance)
                .await
                .map_err(|e| self.environment("harness.fresh", &e))?,
        );
        let mut actors = Actors::default();
        for step in &scenario.steps {
            if !profile.admits(&step.guards) {
                report.steps_guarded += 1;
                continue;
            }
            match &step.action {
                Action::Advance(ms) => clock.advance(*ms),
                Action::Crash if !profile.can_crash => {
                    report.skipped.push(SkippedStep {
                        file: step.file.as_ref().clone(),
                        line: step.line,
                        reason: "skipped: needs durable".into(),
                    });
                    continue;
                }
                Action::Partition { .. } => unreachable!("the parser keeps partitions to worlds"),
                Action::Crash => {
                    let Some(old) = registry.take() else { break };
                    let reopened = self.harness.reopen(&instance, old).await;
                    registry = Some(reopened.map_err(|e| self.reopen_failed(step, &e))?);
                }
                Action::Call { actor, call, shape } => {
                    let Some(live) = registry.as_ref() else { break };
                    let op = actors.op_for(actor.as_deref(), call).map_err(|m| {
                        ScenarioFailure::Invalid(ScenarioError::at_step(step, m, None))
                    })?;
                    let actual = self.call(live, &op, step.expect.as_ref()).await;
                    actors.observe(
                        actor.as_deref(),
                        &op,
                        match &actual {
                            Actual::Ok(output) => Some(output),
                            _ => None,
                        },
                    );
                    if !expect::holds(step.expect.as_ref(), *shape, &actual) {
                        return Err(self.mismatch(
                            step,
                            &expect::written(step.expect.as_ref(), *shape, &actual),
                            &actual,
                        ));
                    }
                }
            }
            report.steps_run += 1;
        }
        Ok(())
    }

    /// Runs one call within its bound: the pending grace for `=> pending`, else the harness's
    /// call timeout. A wait that does not return is pending; any other call has no answer.
    async fn call(&self, registry: &H::Registry, op: &Op, expected: Option<&Expected>) -> Actual {
        let is_wait = matches!(op, Op::WaitEventAfter { .. } | Op::AwaitProcess { .. });
        let bound = match expected {
            Some(Expected::Pending) => self.options.pending_grace,
            _ => self.caps.call_timeout,
        };
        match tokio::time::timeout(bound, execute_op(registry, op)).await {
            Ok(result) => Actual::from_result(result),
            Err(_) if is_wait => Actual::Pending,
            Err(_) => Actual::NoAnswer(bound),
        }
    }

    fn mismatch(&self, step: &Step, actual_text: &str, actual: &Actual) -> ScenarioFailure {
        ScenarioFailure::Mismatch(Box::new(Mismatch {
            name: self.name.clone(),
            file: step.file.as_ref().clone(),
            line: step.line,
            step: step.text.clone(),
            expected: expect::describe(step.expect.as_ref()),
            actual: actual_text.to_owned(),
            message: match actual {
                Actual::Err(e) => Some(e.to_string()),
                _ => None,
            },
            replay: self.replay.clone(),
        }))
    }

    fn reopen_failed(&self, step: &Step, error: &PluginError) -> ScenarioFailure {
        ScenarioFailure::Mismatch(Box::new(Mismatch {
            name: self.name.clone(),
            file: step.file.as_ref().clone(),
            line: step.line,
            step: step.text.clone(),
            expected: "the registry reopens (D2)".into(),
            actual: format!("err {}", error.kind()),
            message: Some(error.to_string()),
            replay: self.replay.clone(),
        }))
    }

    fn environment(&self, call: &str, error: &PluginError) -> ScenarioFailure {
        ScenarioFailure::Environment {
            name: self.name.clone(),
            message: format!("{call} failed: {error}"),
        }
    }
}
