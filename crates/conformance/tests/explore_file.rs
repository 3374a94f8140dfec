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
            assert!(
                sweep.seeds_run > 0 && sweep.registry_crashes > 0,
                "{sweep:?}"
            );
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

/// `FileRegistry` on a real temporary directory, through the harness its laws use: the world
/// crashes it by dropping it and reopens the same directory (D7).
struct DirHarness {
    root: tempfile::TempDir,
}

#[async_trait::async_trait]
impl procreg_conformance::Harness for DirHarness {
    type Registry = procreg_reference::FileRegistry;

    fn capabilities(&self) -> procreg_conformance::Capabilities {
        procreg_conformance::Capabilities::default()
            .durable()
            .with_crash_reopen()
    }

    async fn fresh(
        &self,
        instance: &procreg_conformance::Instance,
    ) -> Result<Self::Registry, procreg::PluginError> {
        let dir = self.root.path().join(&instance.label);
        procreg_reference::FileRegistry::open_dir(dir, instance.clock.clone())
    }

    async fn reopen(
        &self,
        instance: &procreg_conformance::Instance,
        old: Self::Registry,
    ) -> Result<Self::Registry, procreg::PluginError> {
        drop(old);
        self.fresh(instance).await
    }
}

#[test]
fn file_registry_on_a_real_directory_passes_recovery_with_crashes() {
    let harness = DirHarness {
        root: tempfile::tempdir().unwrap(),
    };
    let mut target = explore::HarnessTarget::new(harness, "explore_dir");
    let config = explore::SeedConfig {
        seeds: explore::Seeds::Sweep { first: 0, count: 8 },
        check_determinism: false,
        shrink: true,
    };
    let workload = find_workload("recovery").unwrap();
    let path = "-p procreg-conformance --test explore_file file_registry_on_a_real_directory";
    let sweep = explore::explore_with(workload, &mut target, FaultLevel::Heavy, &config, path);
    let sweep = sweep.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sweep.seeds_run, 8);
    assert!(sweep.registry_crashes > 0, "{sweep:?}");
}
