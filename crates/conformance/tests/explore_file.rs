//! The explorer on `FileRegistry` over simulated storage: registry crashes and reopens (with
//! torn unsynced writes) join the plan, and the durability checks (D2, D3, D6) run on every
//! reopen. Every workload passes its seed sweep at light and heavy fault levels.

use procreg_conformance::explore::{self, find_workload};
use procreg_sim::{FaultLevel, SimFileTarget};

fn sweep(name: &str, level: FaultLevel, test: &str) {
    let path = format!("-p procreg-conformance --test explore_file {test}");
    let workload = find_workload(name).expect("workload in the catalogue");
    let mut target = SimFileTarget::new();
    match explore::explore(workload, &mut target, level, &path) {
        Ok(sweep) => {
            assert!(sweep.seeds_run > 0);
            eprintln!("{sweep:?}");
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn recovery_light_passes_with_registry_crashes() {
    sweep(
        "recovery",
        FaultLevel::Light,
        "recovery_light_passes_with_registry_crashes",
    );
}

#[test]
fn recovery_heavy_passes_with_registry_crashes() {
    sweep(
        "recovery",
        FaultLevel::Heavy,
        "recovery_heavy_passes_with_registry_crashes",
    );
}

#[test]
fn grants_heavy_passes_with_registry_crashes() {
    sweep(
        "grants",
        FaultLevel::Heavy,
        "grants_heavy_passes_with_registry_crashes",
    );
}

#[test]
fn events_heavy_passes_with_registry_crashes() {
    sweep(
        "events",
        FaultLevel::Heavy,
        "events_heavy_passes_with_registry_crashes",
    );
}
