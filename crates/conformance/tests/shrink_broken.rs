//! Shrinking, shown on the simulator's broken registries (issue 5, item 3): each bug's first
//! failing seed is shrunk to a world scenario of at most [`MAX_STEPS`] steps, written under
//! `target/procreg-counterexamples/`, which breaks the same rule when replayed on its own
//! against the broken registry, and passes on the same registry with the bug off.
//!
//! The test prints each counterexample and the figures (calls before, steps after, runs).

#[allow(dead_code)] // the variants and helpers other test files use
mod explore_broken {
    pub mod keys;
    pub mod leases;
    pub mod racy;
}
#[allow(dead_code)]
mod explore_faults {
    pub mod forgetful;
    pub mod forward;
    pub mod sweep;
    pub mod tail_dedupe;
}

use explore_broken::racy::{Bug, RacyTarget};
use explore_faults::forgetful::{ForgetfulTarget, Forgets};
use explore_faults::tail_dedupe::{Lookback, TailDedupeTarget};
use procreg_conformance::explore::{find_within, find_workload};
use procreg_conformance::scenario::run_world_file;
use procreg_conformance::shrink::{self, ShrinkOptions};
use procreg_sim::{FaultLevel, SimTarget};

/// The most steps a shrunk counterexample may have.
const MAX_STEPS: usize = 15;
/// Seeds searched for each bug's first failure.
const BUDGET: u64 = 64;

/// One broken registry, its twin with the bug off, and where the explorer finds it.
struct Case {
    name: &'static str,
    broken: fn() -> Box<dyn SimTarget>,
    fixed: fn() -> Box<dyn SimTarget>,
    workload: &'static str,
    level: FaultLevel,
}

const CASES: &[Case] = &[
    Case {
        name: "claim race",
        broken: || Box::new(RacyTarget(Bug::ClaimRace)),
        fixed: || Box::new(RacyTarget(Bug::None)),
        workload: "recovery",
        level: FaultLevel::Light,
    },
    Case {
        name: "renew races a reclaim",
        broken: || Box::new(RacyTarget(Bug::RenewRace)),
        fixed: || Box::new(RacyTarget(Bug::None)),
        workload: "recovery",
        level: FaultLevel::Light,
    },
    Case {
        name: "late wake subscription (lost wake-up)",
        broken: || Box::new(RacyTarget(Bug::LateWakeSubscription)),
        fixed: || Box::new(RacyTarget(Bug::None)),
        workload: "events",
        level: FaultLevel::Light,
    },
    Case {
        name: "replay-key race",
        broken: || Box::new(RacyTarget(Bug::ReplayRace)),
        fixed: || Box::new(RacyTarget(Bug::None)),
        workload: "events",
        level: FaultLevel::Light,
    },
    Case {
        name: "piecewise transfer",
        broken: || Box::new(RacyTarget(Bug::TransferPiecewise)),
        fixed: || Box::new(RacyTarget(Bug::None)),
        workload: "grants",
        level: FaultLevel::Light,
    },
    Case {
        name: "fencing counter not persisted",
        broken: || Box::new(ForgetfulTarget::new(Forgets::FencingCounter)),
        fixed: || Box::new(ForgetfulTarget::new(Forgets::Nothing)),
        workload: "recovery",
        level: FaultLevel::Light,
    },
    Case {
        name: "lease token reused after reopen",
        broken: || Box::new(ForgetfulTarget::new(Forgets::LeaseTokens)),
        fixed: || Box::new(ForgetfulTarget::new(Forgets::Nothing)),
        workload: "recovery",
        level: FaultLevel::Light,
    },
    Case {
        name: "retry deduped only against the last event",
        broken: || Box::new(TailDedupeTarget(Lookback::LastEvent)),
        fixed: || Box::new(TailDedupeTarget(Lookback::WholeLog)),
        workload: "events",
        level: FaultLevel::Light,
    },
];

fn shrink_case(case: &Case) -> Result<String, String> {
    let workload = find_workload(case.workload).unwrap();
    let mut broken = (case.broken)();
    let Some((seed, outcome)) = find_within(0..BUDGET, workload, broken.as_mut(), case.level)
    else {
        return Err(format!("{}: not found in {BUDGET} seeds", case.name));
    };
    let found = shrink::shrink(
        workload,
        broken.as_mut(),
        &outcome,
        &ShrinkOptions::default(),
    )
    .map_err(|e| format!("{}: seed {seed}: {e}", case.name))?;
    let path = found
        .path
        .clone()
        .expect("the default options write the file");
    let again = run_world_file(&path, broken.as_mut()).map_err(|e| e.to_string())?;
    let rules: Vec<&str> = again
        .failures
        .iter()
        .map(|f| f.violation.rule.as_str())
        .collect();
    if !rules.contains(&found.rule.as_str()) {
        return Err(format!(
            "{}: {} replayed on its own breaks {rules:?}, not {}",
            case.name,
            path.display(),
            found.rule
        ));
    }
    let fixed = run_world_file(&path, (case.fixed)().as_mut()).map_err(|e| e.to_string())?;
    if !fixed.passed() {
        return Err(format!(
            "{}: the counterexample also fails with the bug off: {:?}",
            case.name, fixed.failures
        ));
    }
    if found.steps > MAX_STEPS {
        return Err(format!(
            "{}: shrunk to {} steps (> {MAX_STEPS}):\n{}",
            case.name, found.steps, found.text
        ));
    }
    Ok(format!(
        "{}: seed {seed}, {} calls -> {} steps ({} runs), {}\n{}",
        case.name, found.original_calls, found.steps, found.runs, found.rule, found.text
    ))
}

#[test]
fn every_broken_registry_shrinks_to_a_short_scenario_that_replays_on_its_own() {
    let (mut passed, mut problems) = (Vec::new(), Vec::new());
    for case in CASES {
        match shrink_case(case) {
            Ok(summary) => passed.push(summary),
            Err(problem) => problems.push(problem),
        }
    }
    for summary in &passed {
        eprintln!("{summary}");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn a_failing_explore_sweep_reports_its_counterexample_file() {
    use procreg_conformance::explore::{ExploreError, SeedConfig, Seeds, explore_with};
    let workload = find_workload("recovery").unwrap();
    let config = SeedConfig {
        seeds: Seeds::Sweep {
            first: 0,
            count: BUDGET,
        },
        check_determinism: false,
        shrink: true,
    };
    let mut target = RacyTarget(Bug::ClaimRace);
    let error = explore_with(
        workload,
        &mut target,
        FaultLevel::Light,
        &config,
        "--test x",
    )
    .expect_err("the claim race is found");
    let ExploreError::Failed { counterexample, .. } = &error else {
        panic!("{error}");
    };
    let found = counterexample
        .as_ref()
        .expect("shrinking is on")
        .as_ref()
        .unwrap_or_else(|e| panic!("{e}"));
    let path = found.path.as_ref().expect("written");
    assert!(path.is_file(), "{}", path.display());
    assert!(
        std::fs::read_to_string(path)
            .unwrap()
            .contains("world seed=")
    );
    let message = error.to_string();
    assert!(message.contains("counterexample: "), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");
}

/// Shrinking is deterministic: the same failing seed gives the same file, byte for byte, so a
/// change to the shrinker, the converter or the world shows up here as a reviewed diff.
#[test]
fn the_claim_race_counterexample_is_the_same_file_every_time() {
    let workload = find_workload("recovery").unwrap();
    let mut target = RacyTarget(Bug::ClaimRace);
    let (_, outcome) = find_within(0..BUDGET, workload, &mut target, FaultLevel::Light)
        .expect("the claim race is found");
    let found = shrink::shrink(workload, &mut target, &outcome, &ShrinkOptions::in_memory())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(found.path.is_none(), "in_memory writes nothing");
    insta::assert_snapshot!("claim_race_counterexample", found.text);
}
