use procreg::{ProcessAwaitOutput, ProcessRegistration, ProcessScope};
use procreg_reference::Op;
use serde_json::json;

use super::*;
use crate::check::check_invariants;
use crate::plan::{FaultLevel, PlanShape};
use crate::target::MemoryTarget;

fn shape() -> PlanShape {
    PlanShape {
        clients: (0..3).map(|i| format!("c{i}")).collect(),
        calls_per_client: 20,
        workers: 3,
        faulty_phase_ms: 2_000,
        lease_ttl_ms: 100,
        registry_crashes: false,
    }
}

fn run(seed: u64, level: FaultLevel) -> RunReport {
    let plan = FaultPlan::sample(seed, level, &shape());
    let world = World::builder().seed(seed).plan(plan).build();
    world
        .run(&mut MemoryTarget, |executor, link| {
            for i in 0..3 {
                let link = link.clone();
                let client = format!("c{i}");
                executor.spawn(client.clone(), async move {
                    let reg = ProcessRegistration::new("p1", ProcessScope::session("s"), "h");
                    let _ = link.call(&client, Op::Register { registration: reg }).await;
                    let claim = Op::ClaimLease {
                        process_id: "p1".into(),
                        owner_id: client.clone(),
                        lease_ttl_ms: 100,
                    };
                    if link.call(&client, claim).await.is_ok() {
                        let output = ProcessAwaitOutput::Success { value: json!(i) };
                        let complete = Op::CompleteProcess {
                            process_id: "p1".into(),
                            output,
                        };
                        let _ = link.call(&client, complete).await;
                    }
                });
            }
        })
        .expect("memory target opens")
}

#[test]
fn a_seed_replays_to_the_same_trace() {
    for seed in 0..10 {
        let (a, b) = (run(seed, FaultLevel::Heavy), run(seed, FaultLevel::Heavy));
        assert_eq!(a.trace_hash, b.trace_hash, "seed {seed}");
        assert_eq!(first_divergence(&a.trace, &b.trace), None);
        assert_eq!(a.history, b.history);
    }
}

#[test]
fn seeds_differ_and_clients_finish() {
    let hashes: std::collections::BTreeSet<u64> = (0..10)
        .map(|s| run(s, FaultLevel::None).trace_hash)
        .collect();
    assert!(hashes.len() > 1);
    let report = run(3, FaultLevel::None);
    assert_eq!(report.end, RunEnd::Completed);
    assert!(report.history.len() >= 4);
    assert!(check_invariants(&report.history).is_empty());
}

#[test]
fn divergence_names_the_first_differing_step() {
    assert_eq!(first_divergence(&[1, 2, 3], &[1, 2, 4]), Some(2));
    assert_eq!(first_divergence(&[1, 2], &[1, 2, 3]), Some(2));
    assert_eq!(first_divergence(&[1], &[1]), None);
}
