//! The world: one seeded run of clients against a registry, with faults and crashes.
//!
//! Why it exists: it wires the pieces of a simulation together in one obvious way —
//! `World::builder().seed(7).plan(plan).build()` — and owns the order of a run:
//!
//! 1. open the target on the world's [`SimClock`] and put a [`FaultyLink`] in front of it;
//! 2. let the workload spawn its clients (they call only through the link);
//! 3. run the executor, stopping at each planned registry crash (durable targets only) to
//!    crash the link (calls in flight see `Unavailable`), crash and reopen the target, and
//!    read the reopened registry through a [`ReopenProbe`] before any client reaches it
//!    (the durability checker compares it with what was acknowledged before the crash);
//! 4. run on until every client finishes, the run goes quiescent, or the poll budget is spent.
//!
//! The returned [`RunReport`] holds the seed, plan, history, outcome and a trace fingerprint;
//! the checkers and the explorer read it. The world judges nothing itself.

use procreg::PluginError;

use crate::check::durability::ReopenProbe;
use crate::clock::SimClock;
use crate::executor::{BlockedTask, Executor, RunOutcome};
use crate::history::History;
use crate::link::FaultyLink;
use crate::plan::{CrashEvent, FaultPlan};
use crate::rng::{SimRng, Stream};
use crate::target::{SimTarget, finish_now};

/// Virtual time at which every run starts, ms (far from 0 so "time 0" bugs do not hide).
pub const START_MS: u64 = 1_000_000;

/// Builds a [`World`].
#[derive(Clone, Debug)]
pub struct WorldBuilder {
    seed: u64,
    plan: FaultPlan,
    max_polls: u64,
    probe_after_reopen: bool,
}

impl WorldBuilder {
    /// The seed that draws the schedule and the storage faults. Default 0.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The fault plan. Default: no faults.
    pub fn plan(mut self, plan: FaultPlan) -> Self {
        self.plan = plan;
        self
    }

    /// The most polls a run may take before it is stopped as a livelock. Default 200,000.
    pub fn max_polls(mut self, max_polls: u64) -> Self {
        self.max_polls = max_polls;
        self
    }

    /// Whether to take a [`ReopenProbe`] after every registry reopen. Default `true`.
    pub fn probe_after_reopen(mut self, probe: bool) -> Self {
        self.probe_after_reopen = probe;
        self
    }

    /// The world.
    pub fn build(self) -> World {
        let clock = SimClock::new(START_MS);
        World {
            executor: Executor::new(self.seed, clock.clone()),
            clock,
            seed: self.seed,
            plan: self.plan,
            max_polls: self.max_polls,
            probe_after_reopen: self.probe_after_reopen,
        }
    }
}

/// One seeded run. See the module docs.
pub struct World {
    executor: Executor,
    clock: SimClock,
    seed: u64,
    plan: FaultPlan,
    max_polls: u64,
    probe_after_reopen: bool,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunEnd {
    /// Every client finished.
    Completed,
    /// Nothing could run any more; these tasks were blocked.
    Quiescent(Vec<BlockedTask>),
    /// The poll budget ran out (a livelock, or a budget too small for the workload).
    BudgetExhausted,
}

/// What a run produced, for the checkers and the report.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// The seed.
    pub seed: u64,
    /// The plan that was applied.
    pub plan: FaultPlan,
    /// Every call as the clients saw it.
    pub history: History,
    /// How the run ended.
    pub end: RunEnd,
    /// Registry crashes performed, with their virtual times.
    pub registry_crashes: Vec<u64>,
    /// What each reopened registry held before any client reached it (one per crash, when
    /// probing is on), for [`check_durability`](crate::check::check_durability).
    pub probes: Vec<ReopenProbe>,
    /// A fingerprint of the schedule: equal for equal runs.
    pub trace_hash: u64,
    /// The per-poll trace, to name the first diverging step of two runs.
    pub trace: Vec<u64>,
    /// Polls performed.
    pub polls: u64,
    /// Virtual time at the end.
    pub end_ms: u64,
}

impl World {
    /// A builder with the defaults.
    pub fn builder() -> WorldBuilder {
        WorldBuilder {
            seed: 0,
            plan: FaultPlan::default(),
            max_polls: 200_000,
            probe_after_reopen: true,
        }
    }

    /// The world's clock.
    pub fn clock(&self) -> &SimClock {
        &self.clock
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The plan.
    pub fn plan(&self) -> &FaultPlan {
        &self.plan
    }

    /// Runs `spawn_clients` against `target`. `spawn_clients` gets the executor (to spawn
    /// client tasks) and the link (the only way clients reach the registry).
    ///
    /// # Errors
    /// The target failed to open or reopen (a reopen failing after a crash is itself worth
    /// reporting: a durable store must reopen, D4).
    pub fn run(
        mut self,
        target: &mut dyn SimTarget,
        spawn_clients: impl FnOnce(&mut Executor, &FaultyLink),
    ) -> Result<RunReport, PluginError> {
        target.set_storage_faults(&self.plan.storage);
        let registry = finish_now(target.open(self.clock.shared()))?;
        let link = FaultyLink::new(self.plan.clone(), self.clock.clone(), registry);
        spawn_clients(&mut self.executor, &link);
        let mut storage_rng = SimRng::new(self.seed, Stream::Storage);
        let mut crash_times: Vec<u64> = if target.durable() {
            self.plan
                .crashes
                .iter()
                .filter_map(|c| match c {
                    CrashEvent::Registry { at_ms } => Some(START_MS + at_ms),
                    _ => None,
                })
                .collect()
        } else {
            Vec::new()
        };
        crash_times.sort_unstable();
        let mut crashes = Vec::new();
        let mut probes = Vec::new();
        let mut polls_left = self.max_polls;
        for at in crash_times {
            let before = self.executor.polls();
            let outcome = self.executor.run_until(at, polls_left);
            polls_left = polls_left.saturating_sub(self.executor.polls() - before);
            if outcome == RunOutcome::BudgetExhausted {
                break;
            }
            let Some(old) = link.crash() else { continue };
            crashes.push(self.clock.now_ms_value());
            let reopened =
                finish_now(target.crash_and_reopen(old, self.clock.shared(), &mut storage_rng))?;
            if self.probe_after_reopen {
                let probe = ReopenProbe::take(
                    reopened.as_ref(),
                    &link.history(),
                    link.epoch(),
                    self.clock.now_ms_value(),
                    target.inspect_model(),
                );
                probes.push(probe);
            }
            link.reopen(reopened);
        }
        let end = match self.executor.run(polls_left) {
            RunOutcome::Completed => RunEnd::Completed,
            RunOutcome::Quiescent(blocked) => RunEnd::Quiescent(blocked),
            RunOutcome::BudgetExhausted | RunOutcome::Deadline => RunEnd::BudgetExhausted,
        };
        let trace = self.executor.trace().to_vec();
        let history = link.take_history();
        Ok(RunReport {
            seed: self.seed,
            plan: self.plan,
            history,
            end,
            registry_crashes: crashes,
            probes,
            trace_hash: fold_trace(&trace),
            trace,
            polls: self.executor.polls(),
            end_ms: self.clock.now_ms_value(),
        })
    }
}

/// FNV-1a over the trace: a stable fingerprint, independent of std's hasher.
fn fold_trace(trace: &[u64]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for step in trace {
        for byte in step.to_le_bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// The first index where two traces differ, if they do.
pub fn first_divergence(a: &[u64], b: &[u64]) -> Option<usize> {
    let common = a.iter().zip(b).position(|(x, y)| x != y);
    match common {
        Some(i) => Some(i),
        None if a.len() != b.len() => Some(a.len().min(b.len())),
        None => None,
    }
}

#[cfg(test)]
mod tests;
