//! The explorer: workloads run in the simulated world, seed after seed, and judged.
//!
//! Why it exists: laws call one method at a time on a quiet registry; real registries fail
//! when calls interleave, responses get lost, workers die or stall past their lease, and the
//! registry itself crashes. The explorer runs whole client programs (*workloads*) in
//! [`procreg_sim::World`] under a seeded [`FaultPlan`], then judges what the clients saw:
//!
//! | check | rules | where |
//! |---|---|---|
//! | history invariants | W1 W2 W3 E8 | [`procreg_sim::check::check_invariants`] |
//! | acknowledged state survives registry crashes | D2 D3 D6 | [`procreg_sim::check::durability`] |
//! | fenced downstream writes | W4 | [`recovery`] through [`procreg_sim::resource`] |
//! | every process terminal once faults stop | W5 | [`judge`] (final read through the link) |
//! | blocked waiter whose event exists (lost wake-up) | E14 C4 | [`judge`] at quiescence |
//! | blocked task that is not a wait (deadlock), livelock | W5 | [`judge`] |
//! | reads never contradict a completed write | H1 H2 H7 S1 S5 | [`grants_check`] |
//! | one replay key, one sequence; acks stick; waits return the lowest match | E2 E13 E14 C4 | [`events_check`] |
//! | some order of all calls explains every answer (budgeted; `unknown` is said) | A1 | [`lin`] |
//! | a panic anywhere in the run | - | [`run`] (`catch_unwind`) |
//! | two runs of one seed differ | - | [`run::run_seed_twice`] |
//!
//! A workload is data ([`Workload`]): a name, what it does, the plan shape it wants, and a
//! `start` function that spawns its clients (they reach the registry only through the
//! [`FaultyLink`]) and returns its own end-of-run check. [`WORKLOADS`] is the catalogue tools
//! list. [`run_seed`] runs one seed; [`seeds`] reads `PROCREG_SEED`, `PROCREG_SEEDS` and
//! `PROCREG_CHECK_DETERMINISM`; [`report`] prints a failure with its plan, a timeline and the
//! command that replays it; [`HarnessTarget`] runs a law harness as a target.
//!
//! ```no_run
//! use procreg_conformance::explore::{self, find_workload};
//! use procreg_sim::{FaultLevel, MemoryTarget};
//!
//! let recovery = find_workload("recovery").unwrap();
//! let path = "--test explore recovery_heavy"; // what reruns this test after `cargo test`
//! if let Err(failure) = explore::explore(recovery, &mut MemoryTarget, FaultLevel::Heavy, path) {
//!     panic!("{failure}"); // seed, plan, violations, timeline, `PROCREG_SEED=.. cargo test ..`
//! }
//! ```
//!
//! Adding a workload: a module with a `pub const WORKLOAD: Workload`, clients that call only
//! through the link (retrying idempotent calls with [`client::Client::retry`], noting
//! impossible answers with [`client::Client::unexpected`]), a check that asserts only what
//! no interleaving of a correct registry could contradict, and a line in [`WORKLOADS`].

pub mod client;
pub mod events;
pub mod events_check;
pub mod grants;
pub mod grants_check;
pub mod harness_target;
pub mod judge;
pub mod lin;
pub mod plan_gen;
pub mod recovery;
pub mod report;
pub mod run;
pub mod seeds;
pub mod timeline;

use procreg_sim::check::Violation;
use procreg_sim::{Executor, FaultPlan, FaultyLink, PlanShape, RunReport};

pub use harness_target::HarnessTarget;
pub use report::Report;
pub use run::{
    Failure, FailureClass, SeedOutcome, find_within, run_plan, run_seed, run_seed_twice,
};
pub use seeds::{
    ConfigError, DEFAULT_SEED_COUNT, ExploreError, SeedConfig, Seeds, Sweep, explore, explore_with,
};

/// What a workload's `start` receives: where and how to spawn its clients.
pub struct Start<'a> {
    /// The seed (for the workload's own random choices, from `Stream::Workload`).
    pub seed: u64,
    /// The fault plan of this run (worker crashes and stalls are the workload's to apply).
    pub plan: &'a FaultPlan,
    /// The executor to spawn client tasks on.
    pub executor: &'a mut Executor,
    /// The only way clients reach the registry.
    pub link: &'a FaultyLink,
    /// Virtual instant after which clients start no new work, ms (end of the settle phase).
    pub deadline_ms: u64,
}

/// A workload's own end-of-run check: reads the finished run, returns what it broke.
pub type WorkloadCheck = Box<dyn FnOnce(&RunReport) -> Vec<Violation>>;

/// A workload as data: what the catalogue lists and [`run_seed`] runs.
pub struct Workload {
    /// Short name (`recovery`, `grants`, `events`): the CLI argument and report label.
    pub name: &'static str,
    /// One line on what its clients do.
    pub about: &'static str,
    /// The rule ids its checks cover, beyond the generic ones every run gets.
    pub rules: &'static [&'static str],
    /// The plan shape (clients, calls, workers, TTL) for a target with or without registry
    /// crashes.
    pub shape: fn(registry_crashes: bool) -> PlanShape,
    /// How long after the faulty phase clients keep going before they give up, ms.
    pub settle_ms: u64,
    /// Whether every registered process must be terminal at the end (W5).
    pub completes_every_process: bool,
    /// Spawns the clients and returns the workload's end-of-run check.
    pub start: fn(Start<'_>) -> WorkloadCheck,
    /// The part of that check that reads only the history and the registry as it is at the
    /// end, so a world scenario replaying this workload's calls is judged by it too (`None`
    /// when every check needs the clients' own state, as the fenced resource of W4 does).
    pub history_check: Option<HistoryCheck>,
}

/// A workload check that needs no client state: the history, and the link for final reads.
pub type HistoryCheck = fn(&RunReport, &FaultyLink) -> Vec<Violation>;

impl std::fmt::Debug for Workload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workload")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Every workload, the default (`recovery`) first.
pub static WORKLOADS: [Workload; 3] = [recovery::WORKLOAD, grants::WORKLOAD, events::WORKLOAD];

/// The catalogue, for tools that list workloads.
pub fn workloads() -> &'static [Workload] {
    &WORKLOADS
}

/// The workload called `name`, if any.
pub fn find_workload(name: &str) -> Option<&'static Workload> {
    WORKLOADS.iter().find(|w| w.name == name)
}
