//! Snapshots of fixed explorer runs: every workload on `MemoryRegistry` at the light fault
//! level for seeds 1, 2 and 3, and `recovery` on `FileRegistry` over simulated storage (with
//! registry crashes). Each snapshot holds the plan, how the run ended (trace hash, polls,
//! calls, end time, registry crashes) and the first calls of its timeline. One bundled
//! scenario's run on `MemoryRegistry` (steps run, guarded and skipped) is snapshot too.
//!
//! Why it exists: a seed must replay bit for bit across commits unless behaviour changed on
//! purpose. Any change to the scheduler, the link, the plan sampler, a workload or a registry
//! shows up here as a reviewed diff of `tests/snapshots/*.snap`, not as a silent reshuffle.
//! After an intended change: `INSTA_UPDATE=always cargo test -p procreg-conformance --test
//! snapshots` (or `cargo insta review`), then read the diff. Under `CI=true` insta never
//! writes: a mismatch fails the test.

use std::fmt::Write;

use procreg_conformance::explore::report::describe_plan;
use procreg_conformance::explore::{find_workload, run_seed, timeline};
use procreg_sim::world::START_MS;
use procreg_sim::{CrashEvent, FaultLevel, FaultPlan, MemoryTarget, SimFileTarget, SimTarget};

/// Seeds every workload is snapshot at.
const SEEDS: [u64; 3] = [1, 2, 3];
/// Timeline lines kept per snapshot.
const TIMELINE_CALLS: usize = 30;

/// The summary of one seed a snapshot holds.
fn summary(workload: &str, target: &mut dyn SimTarget, seed: u64) -> String {
    let workload = find_workload(workload).unwrap();
    let outcome = run_seed(workload, target, seed, FaultLevel::Light);
    let run = outcome.run.as_ref().expect("the run finished");
    let mut text = String::new();
    writeln!(
        text,
        "workload: {} target: {} seed: {seed} level: light",
        outcome.workload, outcome.target
    )
    .unwrap();
    writeln!(text, "passed: {}", outcome.passed()).unwrap();
    writeln!(text, "plan: {}", describe_plan(&outcome.plan)).unwrap();
    writeln!(text, "trace_hash: {:#018x}", run.trace_hash).unwrap();
    writeln!(text, "polls: {}", run.polls).unwrap();
    writeln!(text, "calls: {}", run.history.len()).unwrap();
    writeln!(text, "end: +{}ms {:?}", run.end_ms - START_MS, run.end).unwrap();
    writeln!(text, "registry_crashes: {:?}", run.registry_crashes).unwrap();
    let last = run.history.len().min(TIMELINE_CALLS).saturating_sub(1);
    writeln!(text, "timeline (calls #0..#{last}):").unwrap();
    text.push_str(&timeline::render(run, 0, last));
    text
}

fn snapshot_memory(workload: &str) {
    for seed in SEEDS {
        let text = summary(workload, &mut MemoryTarget, seed);
        assert!(text.contains("passed: true"), "{text}");
        insta::assert_snapshot!(format!("{workload}_memory_light_seed{seed}"), text);
    }
}

#[test]
fn recovery_on_memory_replays_its_snapshots() {
    snapshot_memory("recovery");
}

#[test]
fn grants_on_memory_replays_its_snapshots() {
    snapshot_memory("grants");
}

#[test]
fn events_on_memory_replays_its_snapshots() {
    snapshot_memory("events");
}

#[test]
fn recovery_on_simulated_file_storage_replays_its_snapshot() {
    // The first seed whose light plan crashes the registry, so reopen and recovery are in it.
    let shape = (find_workload("recovery").unwrap().shape)(true);
    let crashes_registry = |seed: &u64| {
        FaultPlan::sample(*seed, FaultLevel::Light, &shape)
            .crashes
            .iter()
            .any(|c| matches!(c, CrashEvent::Registry { .. }))
    };
    let seed = (1..100).find(crashes_registry).unwrap();
    let text = summary("recovery", &mut SimFileTarget::new(), seed);
    assert!(text.contains("passed: true"), "{text}");
    assert!(!text.contains("registry_crashes: []"), "{text}");
    insta::assert_snapshot!("recovery_file_light_first_registry_crash", text);
}

/// `MemoryRegistry` through the harness scenario files run on.
struct MemoryHarness;

#[async_trait::async_trait]
impl procreg_conformance::Harness for MemoryHarness {
    type Registry = procreg_reference::MemoryRegistry;

    async fn fresh(
        &self,
        instance: &procreg_conformance::Instance,
    ) -> Result<Self::Registry, procreg::PluginError> {
        Ok(procreg_reference::MemoryRegistry::new(
            instance.clock.clone(),
        ))
    }
}

#[test]
fn a_durability_scenario_on_memory_replays_its_snapshot() {
    // An Inline registry runs the calls and skips the `crash` steps, naming each.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let path = root.join("durability/acknowledged_state_survives_crash.scn");
    let report = procreg_conformance::scenario::run_file(&path, &MemoryHarness)
        .unwrap_or_else(|failure| panic!("{failure}"));
    let mut text = String::new();
    writeln!(text, "name: {}", report.name).unwrap();
    writeln!(text, "steps_run: {}", report.steps_run).unwrap();
    writeln!(text, "steps_guarded: {}", report.steps_guarded).unwrap();
    writeln!(text, "skipped_file: {:?}", report.skipped_file).unwrap();
    for skipped in &report.skipped {
        let file = skipped.file.file_name().unwrap().to_string_lossy();
        writeln!(text, "skipped {file}:{}: {}", skipped.line, skipped.reason).unwrap();
    }
    assert!(report.steps_run > 0, "{text}");
    insta::assert_snapshot!("scenario_durability_acknowledged_state_on_memory", text);
}
