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
