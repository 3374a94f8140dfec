//! The world crashing FileRegistry on SimStorage mid-workload (D2, D3, D6, D7): every reopen is
//! probed before clients reach it, and the durability checker and the history invariants find
//! nothing; the same world over a storage that skips fsync is caught by the durability checker.

use std::sync::Arc;

use async_trait::async_trait;
use procreg::{
    PluginError, ProcessAwaitOutput, ProcessEventAppendRequest, ProcessHandleDescriptor,
    ProcessRegistration, ProcessRegistry, ProcessScope, SharedClock,
};
use procreg_reference::{FileOptions, FileRegistry, Model, Op, OpOutput};
use procreg_sim::check::{check_durability, check_invariants};
use procreg_sim::executor::sleep;
use procreg_sim::plan::{CrashEvent, StorageFaults};
use procreg_sim::rng::SimRng;
use procreg_sim::{
    Executor, FaultPlan, FaultyLink, LyingSync, RunReport, SimFileTarget, SimStorage, SimTarget,
    World,
};
use serde_json::json;

/// One client: for each round, a process through its whole durable life, with pauses so the
/// planned registry crashes land mid-workload. Errors are ignored: clients just carry on.
async fn client(link: FaultyLink, name: String, rounds: u32) {
    for round in 0..rounds {
        let p = format!("{name}-{round}");
        let call = |op: Op| {
            let link = link.clone();
            let name = name.clone();
            async move {
                let out = link.call(&name, op).await;
                sleep(3).await;
                out
            }
        };
        let registration = ProcessRegistration::new(&p, ProcessScope::session("owner"), "host");
        let _ = call(Op::Register { registration }).await;
        let request =
            ProcessEventAppendRequest::new("process.cancel_requested", json!({"r": round}))
                .with_replay_key(format!("{p}:cancel"));
        let _ = call(Op::AppendEvent {
            process_id: p.clone(),
            request,
        })
        .await;
        let _ = call(Op::GrantHandle {
            scope: ProcessScope::session(format!("s{}", round % 3)),
            process_id: p.clone(),
            descriptor: ProcessHandleDescriptor::labelled("h"),
        })
        .await;
        let claim = Op::ClaimLease {
            process_id: p.clone(),
            owner_id: name.clone(),
            lease_ttl_ms: 500,
        };
        if let Ok(OpOutput::Lease(lease)) = &*call(claim).await {
            let renew = Op::RenewLease {
                lease: lease.clone(),
                lease_ttl_ms: 500,
            };
            let _ = call(renew).await;
            let output = ProcessAwaitOutput::Success {
                value: json!(round),
            };
            let _ = call(Op::CompleteProcess {
                process_id: p.clone(),
                output,
            })
            .await;
            let _ = call(Op::CompleteLease {
                completion: lease.completion(),
            })
            .await;
        }
        if round % 4 == 3 {
            let _ = call(Op::DeleteSession {
                session_id: format!("s{}", round % 3),
            })
            .await;
        }
    }
}

fn spawn_clients(executor: &mut Executor, link: &FaultyLink) {
    for i in 0..3 {
        let name = format!("c{i}");
        executor.spawn(name.clone(), client(link.clone(), name, 12));
    }
}

fn plan(seed: u64) -> FaultPlan {
    FaultPlan {
        latency_ms: 1,
        timeout_ms: 50,
        crashes: [40, 95, 170, 260]
            .into_iter()
            .map(|at| CrashEvent::Registry {
                at_ms: at + seed % 7,
            })
            .collect(),
        storage: StorageFaults {
            torn_write_probability: 0.5,
        },
        faults_end_ms: 400,
        ..FaultPlan::default()
    }
}

fn run(seed: u64, target: &mut dyn SimTarget) -> RunReport {
    World::builder()
        .seed(seed)
        .plan(plan(seed))
        .build()
        .run(target, spawn_clients)
        .expect("the durable target reopens after every crash (D4, D7)")
}

#[test]
fn d2_world_crashes_of_file_registry_lose_nothing_acknowledged() {
    let (mut snapshots, mut torn) = (0, 0);
    for seed in 0..12 {
        // Power is lost mid-call after some reopens, so crashes meet unsynced tails.
        let mut target = SimFileTarget::new().power_loss_window(60);
        let report = run(seed, &mut target);
        assert_eq!(report.registry_crashes.len(), 4, "seed {seed}");
        assert_eq!(report.probes.len(), 4, "seed {seed}: one probe per reopen");
        assert!(report.probes.iter().all(|p| p.model.is_some()));
        assert!(
            report
                .probes
                .last()
                .is_some_and(|p| !p.returned_before.is_empty())
        );
        let durability = check_durability(&report.history, &report.probes);
        assert_eq!(durability, vec![], "seed {seed}");
        assert_eq!(check_invariants(&report.history), vec![], "seed {seed}");
        let stats = target.storage().stats();
        eprintln!(
            "seed {seed}: {:?}, {} calls, probes at {:?} saw {:?} returned calls, {:?} torn",
            report.end,
            report.history.len(),
            report.registry_crashes,
            report
                .probes
                .iter()
                .map(|p| p.returned_before.len())
                .collect::<Vec<_>>(),
            stats.torn_writes
        );
        assert_eq!(stats.crashes, 4);
        snapshots += stats.replaces;
        torn += stats.torn_writes;
    }
    assert!(torn > 0, "no crash met an unsynced tail");
    assert!(
        snapshots > 12 * 4,
        "snapshots and compaction ran in the sims: {snapshots} replaces"
    );
}

#[test]
fn a_seed_replays_identically_on_simstorage() {
    let a = run(5, &mut SimFileTarget::new());
    let b = run(5, &mut SimFileTarget::new());
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(a.history, b.history);
    assert_eq!(a.probes, b.probes);
}

/// FileRegistry over [`LyingSync`], never snapshotting (snapshots use durable replaces).
#[derive(Default)]
struct SkipsSyncTarget {
    storage: SimStorage,
    current: Option<Arc<FileRegistry>>,
}

impl SkipsSyncTarget {
    fn open_now(&mut self, clock: SharedClock) -> Result<Arc<dyn ProcessRegistry>, PluginError> {
        let storage = Arc::new(LyingSync(self.storage.handle()));
        let options = FileOptions {
            snapshot_every_records: 0,
        };
        let registry = Arc::new(FileRegistry::open_with(storage, clock, options)?);
        self.current = Some(registry.clone());
        Ok(registry)
    }
}

#[async_trait(?Send)]
impl SimTarget for SkipsSyncTarget {
    fn name(&self) -> String {
        "file-skipping-fsync".into()
    }
    fn durable(&self) -> bool {
        true
    }
    async fn open(&mut self, clock: SharedClock) -> Result<Arc<dyn ProcessRegistry>, PluginError> {
        self.open_now(clock)
    }
    async fn crash_and_reopen(
        &mut self,
        old: Arc<dyn ProcessRegistry>,
        clock: SharedClock,
        rng: &mut SimRng,
    ) -> Result<Arc<dyn ProcessRegistry>, PluginError> {
        self.current = None;
        drop(old);
        self.storage.crash(rng, 0.0);
        self.open_now(clock)
    }
    fn inspect_model(&self) -> Option<Model> {
        self.current.as_ref()?.engine().model_snapshot().ok()
    }
}

#[test]
fn proof_world_over_storage_that_skips_fsync_is_caught_by_the_durability_checker() {
    let mut caught = 0;
    for seed in 0..6 {
        let report = run(seed, &mut SkipsSyncTarget::default());
        let found = check_durability(&report.history, &report.probes);
        if found.iter().any(|v| v.rule == "D2" && v.call.is_some()) {
            caught += 1;
        }
    }
    assert_eq!(
        caught, 6,
        "every seed loses acknowledged calls and must be caught"
    );
}
