//! The explorer driven by proptest: plans from [`plan_gen::seeded_plan_strategy`] run on
//! `MemoryRegistry` and on `FileRegistry` over simulated storage (with registry crashes and
//! torn writes, D2 D3 D6) for every workload, and every case passes every checker. Against a
//! registry with a planted race, proptest finds a failing plan and shrinks it to a handful of
//! faults.
//!
//! `PROCREG_FUZZ_CASES=<n>` sets the cases per workload and target (default
//! [`DEFAULT_CASES`], a few seconds in debug). The case generator is seeded, so a run
//! replays; a failure prints the shrunk seed, plan and the explorer's report.

#[allow(dead_code)] // the bug variants other test files use
mod explore_broken {
    pub mod keys;
    pub mod leases;
    pub mod racy;
}

use explore_broken::racy::{Bug, RacyTarget};
use procreg_conformance::explore::report::describe_plan;
use procreg_conformance::explore::{self, Workload, find_workload, plan_gen, run_plan};
use procreg_sim::{FaultPlan, MemoryTarget, SimFileTarget, SimTarget};
use proptest::prop_assert;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

/// Cases per workload and target when `PROCREG_FUZZ_CASES` is unset.
const DEFAULT_CASES: u32 = 6;

fn cases() -> u32 {
    match std::env::var("PROCREG_FUZZ_CASES") {
        Ok(value) => value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("PROCREG_FUZZ_CASES={value:?}: expected a case count")),
        Err(_) => DEFAULT_CASES,
    }
}

/// A runner whose case generator is seeded (a run replays) and which writes no regression file.
fn runner(cases: u32, max_shrink_iters: u32) -> TestRunner {
    let config = Config {
        cases,
        max_shrink_iters,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha))
}

const TEST_PATH: &str = "-p procreg-conformance --test explore_proptest";

/// Runs generated plans of `workload` on targets made by `target`; panics with the shrunk
/// failing plan's report.
fn every_plan_passes(workload: &Workload, target: impl Fn() -> Box<dyn SimTarget>) {
    let shape = (workload.shape)(target().durable());
    let mut runner = runner(cases(), 64);
    let result = runner.run(&plan_gen::seeded_plan_strategy(&shape), |(seed, plan)| {
        let outcome = run_plan(workload, target().as_mut(), seed, plan);
        if outcome.passed() {
            Ok(())
        } else {
            Err(TestCaseError::fail(outcome.report(TEST_PATH).to_string()))
        }
    });
    if let Err(error) = result {
        panic!("{} on {}: {error}", workload.name, target().name());
    }
}

#[test]
fn generated_plans_pass_every_workload_on_memory() {
    for workload in explore::workloads() {
        every_plan_passes(workload, || Box::new(MemoryTarget));
    }
}

#[test]
fn generated_plans_pass_every_workload_on_file_with_registry_crashes() {
    for workload in explore::workloads() {
        every_plan_passes(workload, || Box::new(SimFileTarget::new()));
    }
}

/// Proptest's shrunk failing `(seed, plan)` for `bug` on `workload`, or a panic if no case of
/// `cases` fails.
fn shrunk_failure(bug: Bug, workload: &Workload, cases: u32) -> (u64, FaultPlan) {
    let shape = (workload.shape)(false);
    let mut runner = runner(cases, 256);
    let result = runner.run(&plan_gen::seeded_plan_strategy(&shape), |(seed, plan)| {
        let outcome = run_plan(workload, &mut RacyTarget(bug), seed, plan);
        if outcome.passed() {
            Ok(())
        } else {
            Err(TestCaseError::fail("a checker failed"))
        }
    });
    match result {
        Err(TestError::Fail(_, shrunk)) => shrunk,
        other => panic!("{bug:?} not found by {cases} generated plans: {other:?}"),
    }
}

#[test]
fn w2_renew_race_is_found_and_shrunk_to_a_handful_of_faults() {
    let recovery = find_workload("recovery").unwrap();
    let (seed, plan) = shrunk_failure(Bug::RenewRace, recovery, 64);
    let outcome = run_plan(
        recovery,
        &mut RacyTarget(Bug::RenewRace),
        seed,
        plan.clone(),
    );
    let report = outcome.report(TEST_PATH).to_string();
    assert!(!outcome.passed(), "the shrunk plan still fails");
    assert!(
        outcome.failures.iter().any(|f| f.violation.rule == "W2"),
        "{report}"
    );
    assert!(plan.fault_count() <= 4, "{report}");
    eprintln!(
        "shrunk to seed {seed}, {} fault(s):\n  {}\n{report}",
        plan.fault_count(),
        describe_plan(&plan)
    );
}

#[test]
fn the_racy_registry_without_a_bug_passes_generated_plans() {
    let recovery = find_workload("recovery").unwrap();
    let shape = (recovery.shape)(false);
    let mut runner = runner(cases(), 0);
    let result = runner.run(&plan_gen::seeded_plan_strategy(&shape), |(seed, plan)| {
        let outcome = run_plan(recovery, &mut RacyTarget(Bug::None), seed, plan);
        prop_assert!(outcome.passed(), "{}", outcome.report(TEST_PATH));
        Ok(())
    });
    result.unwrap();
}
