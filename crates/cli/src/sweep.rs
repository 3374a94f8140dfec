//! Running a sweep: every chosen workload × registry over this shard's seeds, with a progress
//! bar, counting passes, failures, calls and registry crashes per cell.
//!
//! Why it exists: `procreg explore` is the explorer's sweep run from a shell rather than from
//! `cargo test`. Unlike the library's `explore_with`, a sweep here goes on past a failing seed
//! (unless `--fail-fast`), so the summary counts are real and every failing seed gets its
//! replay line. Seeds run through the library's `run_seed` / `run_seed_twice`, so a seed here
//! is exactly the seed `cargo test` would run with `PROCREG_SEED`.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use procreg_conformance::explore::{
    Failure, FailureClass, SeedOutcome, Workload, run_seed, run_seed_twice,
};
use procreg_conformance::shrink::{Counterexample, ShrinkError};

use crate::args::{Faults, Registry, Shard};

/// Which seeds a sweep runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedSet {
    /// Exactly this seed (`--seed N`).
    One(u64),
    /// This shard's seeds of `0..count` (`--seeds K --shard k/n`).
    Range {
        /// Seeds `0..count` before sharding.
        count: u64,
        /// Only the seeds this shard owns; `None`: all of them.
        shard: Option<Shard>,
    },
}

impl SeedSet {
    /// The seeds, ascending.
    pub fn iter(self) -> Box<dyn Iterator<Item = u64> + Send> {
        match self {
            SeedSet::One(seed) => Box::new(std::iter::once(seed)),
            SeedSet::Range { count, shard: None } => Box::new(0..count),
            SeedSet::Range {
                count,
                shard: Some(shard),
            } => {
                let step = usize::try_from(shard.count).unwrap_or(usize::MAX);
                Box::new((shard.index - 1..count).step_by(step))
            }
        }
    }

    /// How many seeds [`SeedSet::iter`] yields.
    pub fn len(self) -> u64 {
        match self {
            SeedSet::One(_) => 1,
            SeedSet::Range { count, shard: None } => count,
            SeedSet::Range {
                count,
                shard: Some(shard),
            } => count.saturating_sub(shard.index - 1).div_ceil(shard.count),
        }
    }
}

/// What a sweep runs.
#[derive(Clone, Debug)]
pub struct SweepPlan {
    /// The workloads, in run order.
    pub workloads: Vec<&'static Workload>,
    /// The registries, in run order.
    pub registries: Vec<Registry>,
    /// The seeds each workload × registry runs.
    pub seeds: SeedSet,
    /// The fault level plans are sampled at.
    pub faults: Faults,
    /// Run each seed twice and compare schedules.
    pub check_determinism: bool,
    /// Stop the whole sweep at the first failing seed.
    pub fail_fast: bool,
    /// Threads running seeds side by side (each seed is still one deterministic run).
    pub jobs: NonZeroUsize,
}

/// A failing seed: what it broke and how to rerun it.
#[derive(Clone, Debug)]
pub struct FailedSeed {
    /// The seed.
    pub seed: u64,
    /// What it broke.
    pub failures: Vec<Failure>,
    /// `procreg replay ...` for this seed.
    pub replay: String,
}

/// One workload on one registry: what ran and how it went.
#[derive(Debug)]
pub struct CellResult {
    /// The workload's name.
    pub workload: &'static str,
    /// The registry.
    pub registry: Registry,
    /// Seeds run.
    pub seeds_run: u64,
    /// Every failing seed, ascending.
    pub failed: Vec<FailedSeed>,
    /// The first failing seed's whole outcome (its report and timeline).
    pub first_failure: Option<SeedOutcome>,
    /// The first seed's whole outcome (the timeline when nothing failed).
    pub first_run: Option<SeedOutcome>,
    /// Wall time the cell took.
    pub elapsed: Duration,
    /// Calls each seed made (first runs only), in seed order.
    pub calls: Vec<u64>,
    /// Registry crashes (and reopens) over all seeds.
    pub registry_crashes: u64,
    /// The first failing seed shrunk to a counterexample file (set after the sweep).
    pub counterexample: Option<Result<Counterexample, ShrinkError>>,
}

impl CellResult {
    /// Seeds that passed.
    pub fn passed(&self) -> u64 {
        self.seeds_run - self.failed.len() as u64
    }

    /// Seeds per second of wall time (`0` when nothing ran).
    pub fn seeds_per_second(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if self.seeds_run == 0 || seconds <= 0.0 {
            0.0
        } else {
            self.seeds_run as f64 / seconds
        }
    }

    /// The median number of calls per seed (`0` when nothing ran).
    pub fn median_calls(&self) -> u64 {
        let mut calls = self.calls.clone();
        calls.sort_unstable();
        calls.get(calls.len() / 2).copied().unwrap_or(0)
    }
}

/// The one line that reruns `seed`: `procreg replay --seed N --workload W --registry R --faults L`.
pub fn replay_command(
    seed: u64,
    workload: &str,
    registry: Registry,
    faults: Faults,
    check_determinism: bool,
) -> String {
    let twice = if check_determinism {
        " --check-determinism"
    } else {
        ""
    };
    format!(
        "procreg replay --seed {seed} --workload {workload} --registry {} --faults {}{twice}",
        registry.name(),
        faults.name()
    )
}

/// Runs one seed as the sweep does (twice when checking determinism).
pub fn run_one(
    workload: &Workload,
    registry: Registry,
    seed: u64,
    faults: Faults,
    check_determinism: bool,
) -> SeedOutcome {
    let mut target = registry.target();
    if check_determinism {
        run_seed_twice(workload, target.as_mut(), seed, faults.level())
    } else {
        run_seed(workload, target.as_mut(), seed, faults.level())
    }
}

/// Runs the whole plan, cell by cell, ticking `progress` once per seed. With `fail_fast` the
/// sweep ends at the first failing seed (later cells are not run).
pub fn run_sweep(plan: &SweepPlan, progress: &ProgressBar) -> Vec<CellResult> {
    let mut cells = Vec::new();
    for &workload in &plan.workloads {
        for &registry in &plan.registries {
            progress.set_message(format!("{}/{}", workload.name, registry.name()));
            let cell = run_cell(plan, workload, registry, progress);
            let stop = plan.fail_fast && !cell.failed.is_empty();
            cells.push(cell);
            if stop {
                return cells;
            }
        }
    }
    cells
}

fn run_cell(
    plan: &SweepPlan,
    workload: &'static Workload,
    registry: Registry,
    progress: &ProgressBar,
) -> CellResult {
    let started = Instant::now();
    let mut cell = CellResult {
        workload: workload.name,
        registry,
        seeds_run: 0,
        failed: Vec::new(),
        first_failure: None,
        first_run: None,
        elapsed: Duration::ZERO,
        calls: Vec::new(),
        registry_crashes: 0,
        counterexample: None,
    };
    let seeds = Mutex::new(plan.seeds.iter());
    let stop = AtomicBool::new(false);
    let (sender, outcomes) = mpsc::channel::<SeedOutcome>();
    thread::scope(|scope| {
        for _ in 0..plan.jobs.get() {
            let sender = sender.clone();
            let (seeds, stop) = (&seeds, &stop);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let Some(seed) = seeds.lock().ok().and_then(|mut s| s.next()) else {
                        break;
                    };
                    let outcome = run_one(
                        workload,
                        registry,
                        seed,
                        plan.faults,
                        plan.check_determinism,
                    );
                    if sender.send(outcome).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        for outcome in outcomes {
            progress.inc(1);
            if !outcome.passed() && plan.fail_fast {
                stop.store(true, Ordering::Relaxed);
            }
            record(&mut cell, plan, outcome);
        }
    });
    cell.failed.sort_by_key(|f| f.seed);
    cell.elapsed = started.elapsed();
    cell
}

/// Counts one seed's outcome into its cell; outcomes arrive in any order, so the first run
/// and first failure kept are those of the lowest seed.
fn record(cell: &mut CellResult, plan: &SweepPlan, outcome: SeedOutcome) {
    cell.seeds_run += 1;
    if let Some(run) = &outcome.run {
        cell.calls.push(run.history.len() as u64);
        cell.registry_crashes += run.registry_crashes.len() as u64;
    }
    let lower = |kept: &Option<SeedOutcome>| kept.as_ref().is_none_or(|k| outcome.seed < k.seed);
    if !outcome.passed() {
        let twice = outcome.classes().contains(&FailureClass::Nondeterminism);
        cell.failed.push(FailedSeed {
            seed: outcome.seed,
            failures: outcome.failures.clone(),
            replay: replay_command(
                outcome.seed,
                cell.workload,
                cell.registry,
                plan.faults,
                twice,
            ),
        });
        if lower(&cell.first_failure) {
            cell.first_failure = Some(outcome.clone());
        }
    }
    if lower(&cell.first_run) {
        cell.first_run = Some(outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sharded_range_yields_exactly_its_len() {
        for count in [0, 1, 2, 3, 7, 100] {
            for n in 1..=5 {
                for k in 1..=n {
                    let set = SeedSet::Range {
                        count,
                        shard: Some(Shard { index: k, count: n }),
                    };
                    let seeds: Vec<u64> = set.iter().collect();
                    assert_eq!(seeds.len() as u64, set.len(), "{count} {k}/{n}");
                    assert!(seeds.iter().all(|s| s % n == k - 1 && *s < count));
                }
            }
        }
    }

    #[test]
    fn replay_command_names_every_choice() {
        let line = replay_command(7, "grants", Registry::File, Faults::Heavy, false);
        assert_eq!(
            line,
            "procreg replay --seed 7 --workload grants --registry file --faults heavy"
        );
        let twice = replay_command(7, "grants", Registry::File, Faults::Heavy, true);
        assert!(twice.ends_with(" --check-determinism"));
    }
}
