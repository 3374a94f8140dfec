//! The explorer on `MemoryRegistry`: every workload passes its default seed sweep at light and
//! heavy fault levels, and a seed replays bit for bit.

use procreg_conformance::explore::{self, Workload, find_workload};
use procreg_sim::{FaultLevel, MemoryTarget};

fn workload(name: &str) -> &'static Workload {
    find_workload(name).expect("workload in the catalogue")
}

fn sweep(name: &str, level: FaultLevel, test: &str) {
    let path = format!("-p procreg-conformance --test explore_memory {test}");
    match explore::explore(workload(name), &mut MemoryTarget, level, &path) {
        Ok(sweep) => eprintln!("{sweep:?}"),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn recovery_light_passes() {
    sweep("recovery", FaultLevel::Light, "recovery_light_passes");
}

#[test]
fn recovery_heavy_passes() {
    sweep("recovery", FaultLevel::Heavy, "recovery_heavy_passes");
}

#[test]
fn grants_light_passes() {
    sweep("grants", FaultLevel::Light, "grants_light_passes");
}

#[test]
fn grants_heavy_passes() {
    sweep("grants", FaultLevel::Heavy, "grants_heavy_passes");
}

#[test]
fn events_light_passes() {
    sweep("events", FaultLevel::Light, "events_light_passes");
}

#[test]
fn events_heavy_passes() {
    sweep("events", FaultLevel::Heavy, "events_heavy_passes");
}

#[test]
fn a_seed_replays_to_the_same_schedule_on_every_workload() {
    for workload in explore::workloads() {
        for seed in 0..4 {
            let outcome =
                explore::run_seed_twice(workload, &mut MemoryTarget, seed, FaultLevel::Heavy);
            assert!(outcome.passed(), "{}", outcome.report("explore_memory"));
        }
    }
}

#[test]
fn the_catalogue_lists_recovery_first_and_names_are_unique() {
    let names: Vec<&str> = explore::workloads().iter().map(|w| w.name).collect();
    assert_eq!(names, ["recovery", "grants", "events"]);
    for workload in explore::workloads() {
        assert!(!workload.about.is_empty() && !workload.rules.is_empty());
        assert!(std::ptr::eq(
            find_workload(workload.name).unwrap(),
            workload
        ));
    }
    assert!(find_workload("nope").is_none());
}

/// `MemoryRegistry` through the harness a backend author writes for the laws.
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
fn a_law_harness_runs_in_the_explorer_too() {
    let mut target = explore::HarnessTarget::new(MemoryHarness, "explore_memory");
    let path = "-p procreg-conformance --test explore_memory a_law_harness";
    let sweep = explore::explore(workload("recovery"), &mut target, FaultLevel::Heavy, path);
    let sweep = sweep.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sweep.target, "harness:MemoryHarness");
    assert!(sweep.seeds_run > 0 && sweep.calls > 0);
}
