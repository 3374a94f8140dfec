//! Running one seed: sample its plan, build the world, run the workload through a faulty
//! phase and a settle phase, and judge the result.
//!
//! Why it exists: it is the one place that owns the order of a seed — plan, world, run,
//! judge — so the test sweep, `find_within` and the CLI all run a seed the same way. A panic
//! anywhere (registry, workload, simulator, checker) is caught and becomes a `panic` failure of
//! that seed instead of tearing down the sweep; running a seed twice compares the trace hashes
//! and names the first diverging step (nondeterminism).

use std::panic::{AssertUnwindSafe, catch_unwind};

use procreg_sim::world::{START_MS, first_divergence};
use procreg_sim::{Executor, FaultLevel, FaultPlan, FaultyLink, RunReport, SimTarget, World};

use super::judge::judge_run;
pub use super::judge::{Failure, FailureClass};
use super::lin::{LIN_BUDGET, LinSummary, check_run};
use super::{Start, Workload, WorkloadCheck};

/// The most executor polls one seed may take before it is judged a livelock.
pub const MAX_POLLS: u64 = 200_000;

/// Everything one seed produced: what ran, and what it broke.
#[derive(Clone, Debug)]
pub struct SeedOutcome {
    /// The workload's name.
    pub workload: &'static str,
    /// The target's name.
    pub target: String,
    /// The seed.
    pub seed: u64,
    /// The level the plan was sampled at (`None` when the plan was given).
    pub level: Option<FaultLevel>,
    /// The plan that was applied.
    pub plan: FaultPlan,
    /// The run, unless it panicked or the target failed to open.
    pub run: Option<RunReport>,
    /// What it broke; empty when the seed passed.
    pub failures: Vec<Failure>,
    /// What the linearizability check said (A1).
    pub linearizability: LinSummary,
}

impl SeedOutcome {
    /// Whether the seed passed every check.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// The classes of its failures, ascending, without repeats.
    pub fn classes(&self) -> Vec<FailureClass> {
        let mut classes: Vec<FailureClass> = self.failures.iter().map(|f| f.class).collect();
        classes.sort_unstable();
        classes.dedup();
        classes
    }
}

/// Runs `workload` on `target` for `seed` with a plan sampled at `level`, and judges it.
pub fn run_seed(
    workload: &Workload,
    target: &mut dyn SimTarget,
    seed: u64,
    level: FaultLevel,
) -> SeedOutcome {
    let plan = FaultPlan::sample(seed, level, &(workload.shape)(target.durable()));
    let mut outcome = run_plan(workload, target, seed, plan);
    outcome.level = Some(level);
    outcome
}

/// Runs `workload` on `target` for `seed` under an explicit `plan` (a replayed or shrunk
/// one), and judges it.
pub fn run_plan(
    workload: &Workload,
    target: &mut dyn SimTarget,
    seed: u64,
    plan: FaultPlan,
) -> SeedOutcome {
    let deadline_ms = START_MS + plan.faults_end_ms + workload.settle_ms;
    let judged = run_judged(
        target,
        seed,
        &plan,
        workload.completes_every_process,
        |executor, link| {
            (workload.start)(Start {
                seed,
                plan: &plan,
                executor,
                link,
                deadline_ms,
            })
        },
    );
    SeedOutcome {
        workload: workload.name,
        target: target.name(),
        seed,
        level: None,
        plan,
        run: judged.run,
        failures: judged.failures,
        linearizability: judged.linearizability,
    }
}

/// A run and its verdict.
pub(crate) struct Judged {
    /// The run, unless it panicked or the target failed to open.
    pub(crate) run: Option<RunReport>,
    /// What it broke.
    pub(crate) failures: Vec<Failure>,
    /// What the linearizability check said.
    pub(crate) linearizability: LinSummary,
}

/// Runs the clients `spawn` starts in a world of `seed` and `plan` on `target`, then every
/// check: the generic ones, the clients' own `check`, W5 when `completes_every_process`, and
/// linearizability when nothing cheaper failed. The one path workloads and world scenarios
/// share, so both are judged alike.
pub(crate) fn run_judged(
    target: &mut dyn SimTarget,
    seed: u64,
    plan: &FaultPlan,
    completes_every_process: bool,
    spawn: impl FnOnce(&mut Executor, &FaultyLink) -> WorkloadCheck,
) -> Judged {
    let mut judged = Judged {
        run: None,
        failures: Vec::new(),
        linearizability: LinSummary::NotRun,
    };
    let ran = catch_unwind(AssertUnwindSafe(|| {
        let world = World::builder()
            .seed(seed)
            .plan(plan.clone())
            .max_polls(MAX_POLLS)
            .build();
        let mut started = None;
        let run = world.run(target, |executor, link| {
            started = Some((link.clone(), spawn(executor, link)));
        });
        (run, started)
    }));
    let (run, started) = match ran {
        Err(panic) => {
            judged
                .failures
                .push(panic_failure("the run", panic.as_ref()));
            return judged;
        }
        Ok(ran) => ran,
    };
    let (run, (link, check)) = match (run, started) {
        (Ok(run), Some(started)) => (run, started),
        (Err(e), _) => {
            judged.failures.push(Failure::new(
                FailureClass::Safety,
                "D4",
                format!("the target failed to open or to reopen after a crash: {e}"),
            ));
            return judged;
        }
        (Ok(run), None) => {
            judged.run = Some(run);
            return judged;
        }
    };
    let verdict = catch_unwind(AssertUnwindSafe(|| {
        let mut failures = judge_run(completes_every_process, &run, &link, check(&run));
        // The search is the expensive check: it runs only when the cheap ones found nothing.
        if !failures.is_empty() {
            return (failures, LinSummary::Skipped);
        }
        let (lin, violation) = check_run(&run, LIN_BUDGET);
        failures.extend(violation.map(Failure::classed));
        (failures, lin)
    }));
    match verdict {
        Ok((failures, lin)) => {
            judged.failures = failures;
            judged.linearizability = lin;
        }
        Err(panic) => judged
            .failures
            .push(panic_failure("judging the run", panic.as_ref())),
    }
    judged.run = Some(run);
    judged
}

fn panic_failure(during: &str, payload: &(dyn std::any::Any + Send)) -> Failure {
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("a panic with a non-string payload");
    Failure::new(
        FailureClass::Panic,
        "panic",
        format!("{during} panicked: {message}"),
    )
}

/// Runs the seed twice and compares the schedules: a differing trace hash is a
/// `nondeterminism` failure naming the first diverging poll and the first differing call.
/// Returns the first run's outcome with that failure added.
pub fn run_seed_twice(
    workload: &Workload,
    target: &mut dyn SimTarget,
    seed: u64,
    level: FaultLevel,
) -> SeedOutcome {
    let mut first = run_seed(workload, target, seed, level);
    let second = run_seed(workload, target, seed, level);
    if let (Some(a), Some(b)) = (&first.run, &second.run)
        && let Some(message) = divergence(a, b)
    {
        first.failures.push(Failure::new(
            FailureClass::Nondeterminism,
            "determinism",
            message,
        ));
    }
    first
}

fn divergence(a: &RunReport, b: &RunReport) -> Option<String> {
    if a.trace_hash == b.trace_hash && a.history == b.history {
        return None;
    }
    let step = first_divergence(&a.trace, &b.trace).map_or("the traces agree".to_owned(), |i| {
        format!("first diverging poll #{i}")
    });
    let call = a
        .history
        .calls()
        .iter()
        .zip(b.history.calls())
        .find(|(x, y)| x != y)
        .map_or(String::new(), |(x, y)| {
            format!("; first differing call #{}: {x:?} vs {y:?}", x.id)
        });
    Some(format!(
        "two runs of seed {} differ (trace hash {:#x} vs {:#x}, {} vs {} polls): {step}{call}",
        a.seed, a.trace_hash, b.trace_hash, a.polls, b.polls
    ))
}

/// Runs `seeds` in order until one fails; returns that seed and its outcome, or `None` if
/// every seed passed.
pub fn find_within(
    seeds: impl IntoIterator<Item = u64>,
    workload: &Workload,
    target: &mut dyn SimTarget,
    level: FaultLevel,
) -> Option<(u64, SeedOutcome)> {
    seeds.into_iter().find_map(|seed| {
        let outcome = run_seed(workload, target, seed, level);
        (!outcome.passed()).then_some((seed, outcome))
    })
}
