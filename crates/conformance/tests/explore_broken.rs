//! The explorer finds bugs the laws cannot: three `Racy` variants (races over a round trip of
//! virtual latency) pass the whole law catalogue, yet the explorer finds each within a fixed
//! seed budget; two more (zero-time races) are caught by both the concurrency laws and the
//! explorer; and `Racy` without a bug passes every workload. See
//! `explore_broken/racy.rs` for the variants.

mod explore_broken {
    pub mod keys;
    pub mod leases;
    pub mod racy;
}

use std::sync::Arc;

use async_trait::async_trait;
use explore_broken::racy::{Bug, Racy, RacyTarget};
use procreg::{PluginError, ProcessRegistry, SharedClock};
use procreg_conformance::explore::{self, FailureClass, SeedOutcome, find_within, find_workload};
use procreg_conformance::{Harness, Instance, Runner};
use procreg_sim::rng::SimRng;
use procreg_sim::{FaultLevel, SimTarget};

/// Seeds each bug must be found within.
const BUDGET: u64 = 64;

/// Any registry made by `make` on the world's clock, as a sim target (Inline: never crashed).
struct WrapTarget<F> {
    name: String,
    make: F,
}

#[async_trait(?Send)]
impl<F: Fn(SharedClock) -> Arc<dyn ProcessRegistry>> SimTarget for WrapTarget<F> {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn durable(&self) -> bool {
        false
    }
    async fn open(&mut self, clock: SharedClock) -> Result<Arc<dyn ProcessRegistry>, PluginError> {
        Ok((self.make)(clock))
    }
    async fn crash_and_reopen(
        &mut self,
        old: Arc<dyn ProcessRegistry>,
        clock: SharedClock,
        _rng: &mut SimRng,
    ) -> Result<Arc<dyn ProcessRegistry>, PluginError> {
        drop(old);
        self.open(clock).await
    }
}

fn racy_target(bug: Bug) -> impl SimTarget {
    RacyTarget(bug)
}

struct RacyHarness(Bug);

#[async_trait]
impl Harness for RacyHarness {
    type Registry = Racy;
    async fn fresh(&self, instance: &Instance) -> Result<Racy, PluginError> {
        Ok(Racy::new(instance.clock.clone(), self.0))
    }
}

/// The variants no law catches: their windows are simulated latency (a round trip of virtual
/// time), which law runs (one method at a time, or racing tasks with no latency) never open.
const LAW_BLIND: [Bug; 3] = [
    Bug::RenewRace,
    Bug::LateWakeSubscription,
    Bug::TransferPiecewise,
];

#[tokio::test]
async fn the_laws_pass_every_law_blind_variant() {
    for bug in [Bug::None].into_iter().chain(LAW_BLIND) {
        let report = Runner::new(RacyHarness(bug)).run_all().await;
        assert!(report.is_success(), "{bug:?}:\n{report}");
    }
}

#[tokio::test]
async fn the_concurrency_laws_also_catch_zero_time_races() {
    for (bug, law) in [
        (Bug::ClaimRace, "concurrency::racing_claims_have_one_winner"),
        (
            Bug::ReplayRace,
            "concurrency::racing_keyed_appends_share_one_sequence",
        ),
    ] {
        let report = Runner::new(RacyHarness(bug)).run_all().await;
        assert_eq!(report.failed(), [law], "{report}");
    }
}

#[test]
fn racy_without_a_bug_passes_every_workload() {
    for workload in explore::workloads() {
        for level in [FaultLevel::Light, FaultLevel::Heavy] {
            let found = find_within(
                0..explore::DEFAULT_SEED_COUNT,
                workload,
                &mut racy_target(Bug::None),
                level,
            );
            if let Some((_, outcome)) = found {
                panic!("{}", outcome.report(TEST_PATH));
            }
        }
    }
}

const TEST_PATH: &str = "-p procreg-conformance --test explore_broken";

/// Seeds `0..BUDGET` of `workload` on the `bug` variant: the failing ones, in order.
fn failing_seeds(bug: Bug, workload: &str, level: FaultLevel) -> Vec<SeedOutcome> {
    let workload = find_workload(workload).unwrap();
    (0..BUDGET)
        .map(|seed| explore::run_seed(workload, &mut racy_target(bug), seed, level))
        .filter(|o| !o.passed())
        .collect()
}

/// Median over starting seeds `s` in `0..BUDGET/2` of how many seeds a sweep from `s` runs
/// until it finds the bug.
fn median_seeds_to_detection(failing: &[u64]) -> Option<u64> {
    let mut runs: Vec<u64> = (0..BUDGET / 2)
        .filter_map(|s| failing.iter().find(|f| **f >= s).map(|f| f - s + 1))
        .collect();
    runs.sort_unstable();
    runs.get(runs.len() / 2).copied()
}

/// The bug is found within the budget, reported under one of `rules` as `class`.
fn assert_found(bug: Bug, workload: &str, rules: &[&str], class: FailureClass) -> SeedOutcome {
    let level = FaultLevel::Light;
    let failing = failing_seeds(bug, workload, level);
    let first = failing
        .first()
        .unwrap_or_else(|| panic!("{bug:?} not found in {BUDGET} seeds of {workload}"));
    let again = find_within(
        0..BUDGET,
        find_workload(workload).unwrap(),
        &mut racy_target(bug),
        level,
    );
    assert_eq!(
        again.map(|(seed, _)| seed),
        Some(first.seed),
        "find_within agrees"
    );
    let hit = first
        .failures
        .iter()
        .find(|f| rules.contains(&f.violation.rule.as_str()));
    let hit = hit.unwrap_or_else(|| {
        panic!(
            "{bug:?}: expected one of {rules:?}:\n{}",
            first.report(TEST_PATH)
        )
    });
    assert_eq!(hit.class, class);
    let seeds: Vec<u64> = failing.iter().map(|o| o.seed).collect();
    eprintln!(
        "{bug:?} on {workload}: found at seed {}, {} of {BUDGET} seeds fail, median seeds to detection {:?}\n{}",
        first.seed,
        seeds.len(),
        median_seeds_to_detection(&seeds),
        first.report(TEST_PATH)
    );
    first.clone()
}

#[test]
fn w3_claim_race_is_found_by_recovery() {
    let outcome = assert_found(
        Bug::ClaimRace,
        "recovery",
        &["W3", "W2"],
        FailureClass::Safety,
    );
    let test_path = "-p procreg-conformance --test explore_broken w3_claim";
    let report = outcome.report(test_path).to_string();
    let replay = format!(
        "replay: PROCREG_SEED={} cargo test {test_path}\n",
        outcome.seed
    );
    for needle in [
        "FAILED: workload=recovery target=racy-ClaimRace level=light",
        "plan: latency=1ms",
        "[safety] W3 at call #",
        "timeline (calls #",
        " claim p",
        replay.as_str(),
    ] {
        assert!(report.contains(needle), "missing {needle:?} in\n{report}");
    }
}

#[test]
fn a_panicking_registry_is_a_panic_failure_and_the_next_seed_is_judged_normally() {
    let recovery = find_workload("recovery").unwrap();
    let mut target = racy_target(Bug::RenewPanics);
    let outcome = explore::run_seed(recovery, &mut target, 0, FaultLevel::None);
    assert_eq!(
        outcome.classes(),
        [FailureClass::Panic],
        "{}",
        outcome.report(TEST_PATH)
    );
    assert!(
        outcome.failures[0]
            .violation
            .message
            .contains("renew exploded")
    );
    // The panic unwound out of the executor; the next seed on this thread is unaffected.
    let next = explore::run_seed(recovery, &mut racy_target(Bug::None), 0, FaultLevel::None);
    assert!(next.passed(), "{}", next.report(TEST_PATH));
}

#[test]
fn w5_a_call_that_never_returns_is_a_deadlock_naming_what_each_task_waits_on() {
    let recovery = find_workload("recovery").unwrap();
    let mut target = racy_target(Bug::ClaimHangs);
    let outcome = explore::run_seed(recovery, &mut target, 0, FaultLevel::None);
    let deadlocks: Vec<_> = outcome
        .failures
        .iter()
        .filter(|f| f.violation.message.starts_with("DEADLOCK"))
        .collect();
    assert_eq!(deadlocks.len(), 3, "{}", outcome.report(TEST_PATH)); // one per worker
    for failure in deadlocks {
        assert_eq!(
            (failure.class, failure.violation.rule.as_str()),
            (FailureClass::Liveness, "W5")
        );
        assert!(
            failure.violation.message.contains("waiting on w"),
            "{failure}"
        );
        assert!(
            failure.violation.message.contains("claim_process_lease"),
            "{failure}"
        );
    }
}

#[test]
fn a_target_that_differs_between_runs_is_nondeterministic() {
    let runs = std::cell::Cell::new(0);
    let mut target = WrapTarget {
        name: "flaky".to_owned(),
        make: |clock| {
            runs.set(runs.get() + 1);
            let bug = if runs.get() == 1 {
                Bug::None
            } else {
                Bug::ClaimRace
            };
            Arc::new(Racy::new(clock, bug)) as Arc<dyn ProcessRegistry>
        },
    };
    let recovery = find_workload("recovery").unwrap();
    let outcome = explore::run_seed_twice(recovery, &mut target, 3, FaultLevel::None);
    let failure = outcome
        .failures
        .iter()
        .find(|f| f.class == FailureClass::Nondeterminism);
    let failure = failure.unwrap_or_else(|| panic!("{}", outcome.report(TEST_PATH)));
    assert!(
        failure.violation.message.contains("first diverging poll #"),
        "{failure}"
    );
}

#[test]
fn w2_renew_race_is_found_by_recovery() {
    assert_found(Bug::RenewRace, "recovery", &["W2"], FailureClass::Safety);
}

#[test]
fn e14_late_wake_subscription_is_found_by_events() {
    assert_found(
        Bug::LateWakeSubscription,
        "events",
        &["E14"],
        FailureClass::Liveness,
    );
}

#[test]
fn e2_replay_race_is_found_by_events() {
    assert_found(Bug::ReplayRace, "events", &["E2"], FailureClass::Safety);
}

#[test]
fn h7_piecewise_transfer_is_found_by_grants() {
    assert_found(
        Bug::TransferPiecewise,
        "grants",
        &["H7", "A1"],
        FailureClass::Safety,
    );
}
