//! Sweeping seeds in cluster mode: each seed is one fresh madsim runtime seeded with it, so
//! madsim's own seed variables choose what runs and madsim's determinism check applies.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `MADSIM_TEST_SEED` | the first seed | `0` (madsim's own default is the wall clock; a sweep here is reproducible unless told otherwise) |
//! | `MADSIM_TEST_NUM` | how many seeds, from the first | the caller's |
//! | `MADSIM_TEST_CHECK_DETERMINISM` | when set, also run the first seed twice under madsim's check | off |
//!
//! A [`Case`] names a target and a fault level as types, because madsim's determinism check
//! takes a plain `fn() -> Future` (it reruns it on fresh threads, so nothing can be captured).

use std::future::Future;
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use madsim::Config;
use madsim::runtime::Runtime;
use procreg_conformance::explore::{Failure, FailureClass, SeedOutcome};
use procreg_sim::{FaultLevel, MemoryTarget, SimFileTarget, SimTarget};

use crate::broken::{WallClockTarget, lying_sync_target};
use crate::run::{ClusterWorkload, run_seed};

/// A workload, target and fault level, as a type (see the module docs).
pub trait Case: 'static {
    /// A short name for reports.
    const NAME: &'static str;
    /// Which workload runs. Default `recovery`.
    const WORKLOAD: ClusterWorkload = ClusterWorkload::Recovery;
    /// The fault level plans are sampled at.
    const LEVEL: FaultLevel;
    /// A fresh target.
    fn target() -> Box<dyn SimTarget>;
}

macro_rules! case {
    ($(#[$doc:meta])* $case:ident, $name:literal, $level:ident, $target:expr) => {
        case!($(#[$doc])* $case, $name, Recovery, $level, $target);
    };
    ($(#[$doc:meta])* $case:ident, $name:literal, $workload:ident, $level:ident, $target:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $case;
        impl Case for $case {
            const NAME: &'static str = $name;
            const WORKLOAD: ClusterWorkload = ClusterWorkload::$workload;
            const LEVEL: FaultLevel = FaultLevel::$level;
            fn target() -> Box<dyn SimTarget> {
                Box::new($target)
            }
        }
    };
}

case!(/// `MemoryRegistry` at heavy faults.
    MemoryHeavy, "memory", Heavy, MemoryTarget);
case!(/// `FileRegistry` on `SimStorage` at heavy faults (the server is killed and restarted).
    FileHeavy, "file", Heavy, SimFileTarget::new());
case!(/// `MemoryRegistry` under the `grants` workload at heavy faults.
    MemoryGrantsHeavy, "memory", Grants, Heavy, MemoryTarget);
case!(/// `FileRegistry` on `SimStorage` under the `grants` workload at heavy faults.
    FileGrantsHeavy, "file", Grants, Heavy, SimFileTarget::new());
case!(/// The wall-clock lease registry ([`WallClockTarget`]) at heavy faults.
    WallClockHeavy, "broken:wall-clock-leases", Heavy, WallClockTarget);
case!(/// `FileRegistry` on a lying disk ([`lying_sync_target`]) at heavy faults.
    LyingSyncHeavy, "broken:lying-sync", Heavy, lying_sync_target());

/// Which seeds to run, read from madsim's variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SweepConfig {
    /// The seeds.
    pub seeds: Range<u64>,
    /// Whether to check the first seed's determinism too.
    pub check_determinism: bool,
}

impl SweepConfig {
    /// Reads `MADSIM_TEST_SEED`, `MADSIM_TEST_NUM` and `MADSIM_TEST_CHECK_DETERMINISM`;
    /// `default_count` seeds when `MADSIM_TEST_NUM` is unset.
    ///
    /// # Errors
    /// A variable that is set but not a number, named in the message.
    pub fn from_env(default_count: u64) -> Result<Self, String> {
        let read = |name: &str, default: u64| match std::env::var(name) {
            Err(_) => Ok(default),
            Ok(value) => value
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("{name}={value:?} is not a non-negative integer")),
        };
        let first = read("MADSIM_TEST_SEED", 0)?;
        let count = read("MADSIM_TEST_NUM", default_count)?;
        Ok(Self {
            seeds: first..first.saturating_add(count),
            check_determinism: std::env::var_os("MADSIM_TEST_CHECK_DETERMINISM").is_some(),
        })
    }
}

fn case_future<C: Case>() -> impl Future<Output = SeedOutcome> {
    run_seed(C::WORKLOAD, C::target(), C::LEVEL)
}

/// A seed whose run panicked, as an outcome.
fn panicked<C: Case>(seed: u64, payload: &(dyn std::any::Any + Send)) -> SeedOutcome {
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("a panic with a non-string payload");
    SeedOutcome {
        workload: C::WORKLOAD.workload().name,
        target: C::NAME.to_owned(),
        seed,
        level: Some(C::LEVEL),
        plan: procreg_sim::FaultPlan::default(),
        run: None,
        failures: vec![Failure::new(
            FailureClass::Panic,
            "panic",
            format!("the run panicked: {message}"),
        )],
        linearizability: Default::default(),
    }
}

/// A seed whose two runs differed, as an outcome.
fn nondeterministic<C: Case>(seed: u64, message: String) -> SeedOutcome {
    let mut outcome = panicked::<C>(seed, &"");
    outcome.failures = vec![Failure::new(
        FailureClass::Nondeterminism,
        "determinism",
        message,
    )];
    outcome
}

/// Runs case `C` for `seed` on a fresh madsim runtime seeded with it.
pub fn run_one<C: Case>(seed: u64) -> SeedOutcome {
    let ran = catch_unwind(AssertUnwindSafe(|| {
        Runtime::with_seed_and_config(seed, Config::default()).block_on(case_future::<C>())
    }));
    ran.unwrap_or_else(|payload| panicked::<C>(seed, payload.as_ref()))
}

/// Runs case `C` for `seed` twice under madsim's determinism check (every random draw of the
/// second run must equal the first's) and also compares the two histories.
///
/// # Errors
/// What differed, with the seed.
pub fn check_determinism<C: Case>(seed: u64) -> Result<SeedOutcome, String> {
    let first = run_one::<C>(seed);
    let checked = catch_unwind(AssertUnwindSafe(|| {
        Runtime::check_determinism(seed, Config::default(), case_future::<C>)
    }));
    let second = checked.map_err(|payload| {
        let outcome = panicked::<C>(seed, payload.as_ref());
        format!(
            "seed {seed} is not deterministic under madsim: {}",
            outcome.failures[0]
        )
    })?;
    let hash = |o: &SeedOutcome| o.run.as_ref().map(|r| r.trace_hash);
    if hash(&first) != hash(&second) {
        return Err(format!(
            "seed {seed}: two runs recorded different histories"
        ));
    }
    Ok(first)
}

/// What a sweep found.
#[derive(Debug)]
pub struct SweepReport {
    /// The case's name.
    pub case: &'static str,
    /// Seeds run.
    pub seeds_run: u64,
    /// Every failing seed's outcome, ascending.
    pub failed: Vec<SeedOutcome>,
    /// Wall time of the sweep, seconds.
    pub seconds: f64,
}

impl SweepReport {
    /// Seeds per wall-clock second.
    pub fn seeds_per_second(&self) -> f64 {
        self.seeds_run as f64 / self.seconds.max(1e-9)
    }
}

/// Runs case `C` for every seed of `config`; with `check_determinism`, every seed runs twice
/// under madsim's check (as madsim's own test macro does), and a divergence fails the seed.
pub fn sweep<C: Case>(config: &SweepConfig) -> SweepReport {
    let started = Instant::now();
    let mut report = SweepReport {
        case: C::NAME,
        seeds_run: 0,
        failed: Vec::new(),
        seconds: 0.0,
    };
    for seed in config.seeds.clone() {
        let outcome = if config.check_determinism {
            check_determinism::<C>(seed).unwrap_or_else(|e| nondeterministic::<C>(seed, e))
        } else {
            run_one::<C>(seed)
        };
        report.seeds_run += 1;
        if !outcome.passed() {
            report.failed.push(outcome);
        }
    }
    report.seconds = started.elapsed().as_secs_f64();
    report
}

/// The first failing seed of case `C` in `seeds`, if any.
pub fn find_within<C: Case>(seeds: Range<u64>) -> Option<SeedOutcome> {
    seeds.map(run_one::<C>).find(|outcome| !outcome.passed())
}

/// A failing seed for a person: its failures, plan size and the line that reruns it.
pub fn describe(outcome: &SeedOutcome, test: &str) -> String {
    let mut out = format!(
        "seed {} of {} on {} ({} planned faults):\n",
        outcome.seed,
        outcome.workload,
        outcome.target,
        outcome.plan.fault_count()
    );
    for failure in &outcome.failures {
        out.push_str(&format!("  {failure}\n"));
    }
    out.push_str(&format!(
        "replay: MADSIM_TEST_SEED={} MADSIM_TEST_NUM=1 RUSTFLAGS=\"--cfg madsim\" \
         CARGO_TARGET_DIR=target/madsim cargo test -p procreg-madsim --test cluster {test}",
        outcome.seed
    ));
    out
}
