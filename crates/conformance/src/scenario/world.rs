//! World scenarios: timed steps by concurrent actors, run in the simulated world and judged by
//! the checkers, so a race, a lost response or a crash mid-call can be written down, read and
//! replayed on its own.
//!
//! ```text
//! world seed=17 latency=1 timeout=50
//! @0    setup: register p0
//! @3    w0: claim p0 ttl=100 owner=w0.0.1
//! @3    w1: claim p0 ttl=100 owner=w1.0.1    !drop-response
//! @60   w1: claim p0 ttl=100 owner=w1.0.1
//! @90   crash
//! ```
//!
//! Why it exists: a sequential scenario checks each answer against an expectation the Model
//! wrote, which only works when calls do not overlap. When they do, no single answer is
//! "expected"; what a correct registry promises is that the whole history is explainable (A1)
//! and that the invariants hold (W1-W3, E8, D2, D3, D6, lost wake-ups). So a world scenario has
//! no `=>`: each actor is one client task on the [`FaultyLink`](procreg_sim::FaultyLink) that
//! starts each of its steps at `@T` (or as soon as its previous call returns), the file's
//! `!faults`, `partition`s and `crash`es become the run's [`FaultPlan`], and the run is judged
//! exactly as an explorer seed is. The shrinker writes these files from failing seeds
//! (`target/procreg-counterexamples/`); a file that fails today is a regression test once the
//! bug is fixed.
//!
//! Each actor keeps its own lease book, so `renew` and `release` present what this run's
//! `claim` returned; a `renew` whose claim failed this time is skipped and reported.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use procreg_sim::executor::{now_ms, sleep};
use procreg_sim::plan::StorageFaults;
use procreg_sim::world::START_MS;
use procreg_sim::{
    CrashEvent, FaultPlan, FaultyLink, LinkFaultAt, Partition, RunReport, SimTarget,
};

use super::actors::Actors;
use super::expect::{self, Actual, Expected};
use super::fields::Shape;
use super::parse::{ScenarioError, parse_file, parse_text};
use super::run::{Mismatch, SkippedStep};
use super::{Action, Call, Profile, Scenario, Step, WorldHeader};
use crate::explore::client::until_crash;
use crate::explore::lin::LinSummary;
use crate::explore::run::run_judged;
use crate::explore::{Failure, find_workload};

/// The actor of calls written without one.
const DEFAULT_ACTOR: &str = "client";

/// What a world scenario's run found.
#[derive(Debug)]
pub struct WorldReport {
    /// Calls, crashes and partitions the file has for this registry (guards applied).
    pub steps: usize,
    /// Steps that could not run (a `renew` whose `claim` failed in this run).
    pub skipped: Vec<SkippedStep>,
    /// What the run broke; empty when it passed.
    pub failures: Vec<Failure>,
    /// Steps whose `=> ...` the answer did not meet (`name` and `replay` left empty).
    pub mismatches: Vec<Mismatch>,
    /// What the linearizability check said.
    pub linearizability: LinSummary,
    /// The run itself, unless it panicked or the target could not open.
    pub run: Option<RunReport>,
}

impl WorldReport {
    /// Whether the run broke nothing.
    pub fn passed(&self) -> bool {
        self.failures.is_empty() && self.mismatches.is_empty()
    }
}

/// Runs the world scenario at `path` on `target`.
///
/// # Errors
/// A [`ScenarioError`] when the file does not parse or is not a world scenario.
pub fn run_world_file(
    path: impl AsRef<Path>,
    target: &mut dyn SimTarget,
) -> Result<WorldReport, ScenarioError> {
    let path = path.as_ref();
    run_parsed(&parse_file(path)?, path, target)
}

/// Runs `text` as the world scenario at `path` (includes resolve next to it) on `target`.
///
/// # Errors
/// As [`run_world_file`].
pub fn run_world_text(
    text: &str,
    path: impl AsRef<Path>,
    target: &mut dyn SimTarget,
) -> Result<WorldReport, ScenarioError> {
    let path = path.as_ref();
    run_parsed(&parse_text(text, path)?, path, target)
}

pub(crate) fn run_parsed(
    scenario: &Scenario,
    path: &Path,
    target: &mut dyn SimTarget,
) -> Result<WorldReport, ScenarioError> {
    let Some(header) = &scenario.world else {
        return Err(ScenarioError {
            file: path.to_owned(),
            line: 1,
            column: 1,
            message: "not a world scenario: it has no `world ...` line".into(),
            hint: Some("sequential scenarios run with `run_file` on a harness".into()),
        });
    };
    let history_check = match header.workload.as_deref() {
        None => None,
        Some(name) => match find_workload(name) {
            Some(workload) => workload.history_check,
            None => {
                return Err(ScenarioError {
                    file: path.to_owned(),
                    line: 1,
                    column: 1,
                    message: format!("`world workload={name}`: no such workload"),
                    hint: Some("workloads: recovery, grants, events".into()),
                });
            }
        },
    };
    Ok(run_world(scenario, header, history_check, target))
}

/// One actor's steps, in file order.
struct ActorSteps<'s> {
    name: String,
    steps: Vec<&'s Step>,
}

fn run_world(
    scenario: &Scenario,
    header: &WorldHeader,
    history_check: Option<crate::explore::HistoryCheck>,
    target: &mut dyn SimTarget,
) -> WorldReport {
    let profile = Profile {
        durable: target.durable(),
        can_crash: target.durable(),
    };
    let steps: Vec<&Step> = scenario
        .steps
        .iter()
        .filter(|s| profile.admits(&s.guards))
        .collect();
    let plan = plan_of(header, &steps);
    let actors = actors_of(&steps);
    let notes = Notes::default();
    let judged = run_judged(target, header.seed, &plan, false, |executor, link| {
        for actor in actors {
            let (link, notes) = (link.clone(), notes.clone());
            let name = actor.name.clone();
            let owned: Vec<OwnedStep> = actor.steps.iter().map(|s| OwnedStep::of(s)).collect();
            executor.spawn(name.clone(), run_actor(name, owned, link, notes));
        }
        let link = link.clone();
        Box::new(move |run| history_check.map_or_else(Vec::new, |check| check(run, &link)))
    });
    WorldReport {
        steps: steps.len(),
        skipped: notes.skipped.borrow().clone(),
        mismatches: notes.mismatches.borrow().clone(),
        failures: judged.failures,
        linearizability: judged.linearizability,
        run: judged.run,
    }
}

/// The run's plan: the file's faults, partitions and crashes, all in force to the end (a world
/// scenario has no settle phase: its faults are the ones written).
fn plan_of(header: &WorldHeader, steps: &[&Step]) -> FaultPlan {
    let mut plan = FaultPlan {
        latency_ms: header.latency_ms,
        timeout_ms: header.timeout_ms,
        storage: StorageFaults {
            torn_write_probability: header.torn_write_probability,
        },
        faults_end_ms: u64::MAX,
        ..FaultPlan::default()
    };
    let mut calls: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    for step in steps {
        let at_ms = step.at_ms.unwrap_or(0);
        match &step.action {
            Action::Call { actor, .. } => {
                let client = actor.clone().unwrap_or_else(|| DEFAULT_ACTOR.to_owned());
                let index = calls.entry(client.clone()).or_insert(0);
                if let Some(fault) = &step.faults.link {
                    plan.link.push(LinkFaultAt {
                        client,
                        index: *index,
                        fault: fault.clone(),
                    });
                }
                *index += 1;
            }
            Action::Crash => plan.crashes.push(CrashEvent::Registry { at_ms }),
            Action::Partition { client, until_ms } => plan.partitions.push(Partition {
                client: client.clone(),
                from_ms: at_ms,
                until_ms: *until_ms,
            }),
            Action::Advance(_) => {}
        }
    }
    plan
}

/// The calls grouped by actor, actors in order of their first step.
fn actors_of<'s>(steps: &[&'s Step]) -> Vec<ActorSteps<'s>> {
    let mut actors: Vec<ActorSteps<'s>> = Vec::new();
    for step in steps {
        let Action::Call { actor, .. } = &step.action else {
            continue;
        };
        let name = actor.as_deref().unwrap_or(DEFAULT_ACTOR);
        match actors.iter_mut().find(|a| a.name == name) {
            Some(found) => found.steps.push(step),
            None => actors.push(ActorSteps {
                name: name.to_owned(),
                steps: vec![step],
            }),
        }
    }
    actors
}

/// What the actors note while the run goes on. Clones share the lists.
#[derive(Clone, Default)]
struct Notes {
    skipped: Rc<RefCell<Vec<SkippedStep>>>,
    mismatches: Rc<RefCell<Vec<Mismatch>>>,
}

/// What an actor's task needs of a step (the task outlives the borrow of the scenario).
struct OwnedStep {
    at_ms: u64,
    cut_at_ms: Option<u64>,
    call: Call,
    expect: Option<Expected>,
    shape: Shape,
    file: PathBuf,
    line: usize,
    text: String,
}

impl OwnedStep {
    fn of(step: &Step) -> Self {
        let Action::Call { call, shape, .. } = &step.action else {
            unreachable!("actors_of keeps calls only");
        };
        Self {
            at_ms: step.at_ms.unwrap_or(0),
            cut_at_ms: step.faults.cut_at_ms,
            call: call.clone(),
            expect: step.expect.clone(),
            shape: *shape,
            file: step.file.as_ref().clone(),
            line: step.line,
            text: step.text.clone(),
        }
    }

    /// The answer against the step's `=> ...`, if it has one.
    fn check(&self, actual: &Actual) -> Option<Mismatch> {
        let expected = self.expect.as_ref()?;
        if expect::holds(Some(expected), self.shape, actual) {
            return None;
        }
        Some(Mismatch {
            name: String::new(),
            file: self.file.clone(),
            line: self.line,
            step: self.text.clone(),
            expected: expect::describe(Some(expected)),
            actual: expect::written(Some(expected), self.shape, actual),
            message: match actual {
                Actual::Err(e) => Some(e.to_string()),
                _ => None,
            },
            replay: String::new(),
        })
    }
}

async fn run_actor(name: String, steps: Vec<OwnedStep>, link: FaultyLink, notes: Notes) {
    let mut book = Actors::default();
    for step in steps {
        let now = now_ms().unwrap_or(START_MS);
        sleep((START_MS + step.at_ms).saturating_sub(now)).await;
        let op = match book.op_for(Some(&name), &step.call) {
            Ok(op) => op,
            Err(reason) => {
                notes.skipped.borrow_mut().push(SkippedStep {
                    file: step.file.clone(),
                    line: step.line,
                    reason: format!("skipped: {reason}"),
                });
                continue;
            }
        };
        let answer = Rc::new(RefCell::new(None));
        let call = {
            let (link, name, op) = (link.clone(), name.clone(), op.clone());
            let answer = Rc::clone(&answer);
            async move { *answer.borrow_mut() = Some(link.call(&name, op).await) }
        };
        until_crash(call, step.cut_at_ms.map(|at| START_MS + at)).await;
        let answer = answer.borrow_mut().take();
        let actual = answer.map_or(Actual::NoAnswer(Duration::ZERO), |answer| {
            Actual::from_result(Arc::unwrap_or_clone(answer))
        });
        if let Some(mismatch) = step.check(&actual) {
            notes.mismatches.borrow_mut().push(mismatch);
        }
        let granted = match &actual {
            Actual::Ok(output) => Some(output),
            _ => None,
        };
        book.observe(Some(&name), &op, granted);
    }
}
