//! Sweeping a seed budget on one target and summarising what the explorer found: which seeds
//! fail, which rule caught the first one, and the median number of seeds a sweep runs before
//! it finds the bug.
//!
//! Why it exists: every fault-only bug in this test is held to the same standard (found within
//! [`BUDGET`] seeds, by a named rule, and its unbroken twin passes the same seeds), so the
//! sweep and the statistics live here once.

use procreg_conformance::explore::{self, FailureClass, SeedOutcome, find_workload};
use procreg_sim::{FaultLevel, SimTarget};

/// Seeds each bug must be found within.
pub const BUDGET: u64 = 64;

/// What the test passes to `cargo test` to replay a seed.
pub const TEST_PATH: &str = "-p procreg-conformance --test explore_faults";

/// Seeds `0..BUDGET` of `workload` on `target` at `level`: the failing ones, in order.
pub fn failing_seeds(
    target: &mut dyn SimTarget,
    workload: &str,
    level: FaultLevel,
) -> Vec<SeedOutcome> {
    let workload = find_workload(workload).expect("a workload in the catalogue");
    (0..BUDGET)
        .map(|seed| explore::run_seed(workload, target, seed, level))
        .filter(|o| !o.passed())
        .collect()
}

/// Median over starting seeds `s` in `0..BUDGET/2` of how many seeds a sweep from `s` runs
/// until it finds the bug (`None`: some start never finds it).
pub fn median_seeds_to_detection(failing: &[u64]) -> Option<u64> {
    let mut runs: Vec<u64> = (0..BUDGET / 2)
        .filter_map(|s| failing.iter().find(|f| **f >= s).map(|f| f - s + 1))
        .collect();
    runs.sort_unstable();
    runs.get(runs.len() / 2).copied()
}

/// What a sweep found.
#[derive(Debug)]
pub struct Found {
    /// The first failing seed.
    pub first: SeedOutcome,
    /// The rule (one of those expected) that caught the first failing seed.
    pub rule: String,
    /// How many seeds of the budget failed.
    pub failing: usize,
    /// Median seeds to detection.
    pub median: Option<u64>,
}

/// Sweeps the budget and asserts the bug is found, its first failing seed reported under one
/// of `rules` as a safety failure. Prints the statistics and the first report.
pub fn assert_found(
    label: &str,
    target: &mut dyn SimTarget,
    workload: &str,
    level: FaultLevel,
    rules: &[&str],
) -> Found {
    let failing = failing_seeds(target, workload, level);
    let Some(first) = failing.first().cloned() else {
        panic!("{label}: not found in {BUDGET} seeds of {workload} at {level:?}");
    };
    let hit = first
        .failures
        .iter()
        .find(|f| rules.contains(&f.violation.rule.as_str()));
    let Some(hit) = hit else {
        panic!(
            "{label}: expected one of {rules:?}:\n{}",
            first.report(TEST_PATH)
        );
    };
    assert_eq!(hit.class, FailureClass::Safety, "{hit}");
    let rule = hit.violation.rule.clone();
    // The replay line must reproduce it: the same seed, run twice, fails the same way.
    let workload_ref = find_workload(workload).expect("a workload in the catalogue");
    let again = explore::run_seed_twice(workload_ref, target, first.seed, level);
    assert!(
        !again.classes().contains(&FailureClass::Nondeterminism),
        "{}",
        again.report(TEST_PATH)
    );
    assert_eq!(
        again.failures, first.failures,
        "seed {} replays",
        first.seed
    );
    let seeds: Vec<u64> = failing.iter().map(|o| o.seed).collect();
    let found = Found {
        rule,
        failing: seeds.len(),
        median: median_seeds_to_detection(&seeds),
        first,
    };
    eprintln!(
        "{label} on {workload} at {level:?}: caught by {} at seed {}, {} of {BUDGET} seeds fail, \
         median seeds to detection {:?}\n{}",
        found.rule,
        found.first.seed,
        found.failing,
        found.median,
        found.first.report(TEST_PATH)
    );
    found
}

/// Asserts every seed of the budget passes on `target` (the unbroken twin of a bug).
pub fn assert_clean(target: &mut dyn SimTarget, workload: &str, level: FaultLevel) {
    if let Some(outcome) = failing_seeds(target, workload, level).first() {
        panic!("{}", outcome.report(TEST_PATH));
    }
}
