//! Cluster mode's proof: the bundled registries pass a sweep, each broken registry is found
//! within a fixed seed budget, a seed is deterministic under madsim's check, and the seeds/s of
//! this mode next to the core world's on the same workload.
//!
//! Run with `RUSTFLAGS="--cfg madsim" CARGO_TARGET_DIR=target/madsim cargo test -p
//! procreg-madsim --test cluster`; `MADSIM_TEST_SEED` / `MADSIM_TEST_NUM` choose the sweep's
//! seeds and `MADSIM_TEST_CHECK_DETERMINISM` adds madsim's determinism check.
#![cfg(madsim)]

use procreg_madsim::sweep::{
    self, Case, FileHeavy, LyingSyncHeavy, MemoryHeavy, SweepConfig, WallClockHeavy, describe,
};

/// Seeds each bundled registry sweeps when `MADSIM_TEST_NUM` is unset.
const DEFAULT_SWEEP: u64 = 20;
/// Seeds within which each broken registry must be found.
const FIND_BUDGET: u64 = 50;

fn config() -> SweepConfig {
    SweepConfig::from_env(DEFAULT_SWEEP).unwrap_or_else(|e| panic!("{e}"))
}

fn sweep_passes<C: Case>(test: &str) {
    let report = sweep::sweep::<C>(config().seeds);
    eprintln!(
        "cluster sweep {}: {} seeds, {} failed, {:.1} seeds/s",
        report.case,
        report.seeds_run,
        report.failed.len(),
        report.seeds_per_second()
    );
    if let Some(first) = report.failed.first() {
        panic!(
            "{} of {} seeds failed on {}; first:\n{}",
            report.failed.len(),
            report.seeds_run,
            report.case,
            describe(first, test)
        );
    }
}

#[test]
fn memory_registry_passes_a_sweep() {
    sweep_passes::<MemoryHeavy>("memory_registry_passes_a_sweep");
}

#[test]
fn file_registry_passes_a_sweep() {
    sweep_passes::<FileHeavy>("file_registry_passes_a_sweep");
}

fn found_within_budget<C: Case>(rule: &str) {
    let Some(found) = sweep::find_within::<C>(0..FIND_BUDGET) else {
        panic!(
            "{} passed seeds 0..{FIND_BUDGET}: cluster mode missed it",
            C::NAME
        );
    };
    eprintln!(
        "{} found at seed {}:\n{}",
        C::NAME,
        found.seed,
        describe(&found, "found")
    );
    assert!(
        found.failures.iter().any(|f| f.violation.rule == rule),
        "{} failed for another reason than {rule}:\n{}",
        C::NAME,
        describe(&found, "found")
    );
}

#[test]
fn wall_clock_lease_registry_is_found() {
    found_within_budget::<WallClockHeavy>("A1");
}

#[test]
fn lying_sync_registry_is_found() {
    found_within_budget::<LyingSyncHeavy>("D2");
}

#[test]
fn a_seed_is_deterministic() {
    let seed = config().seeds.start;
    if let Err(e) = sweep::check_determinism::<FileHeavy>(seed) {
        panic!("{e}");
    }
}
