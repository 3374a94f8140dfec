//! What the simulator costs: the same 200-call script run straight on `MemoryRegistry`, and
//! through the world (seeded executor, faulty link with no faults, history, invariant checks).
//! The ratio of the two is the world's overhead.
//!
//! `cargo bench -p procreg-sim --bench world_overhead`

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use procreg::ManualClock;
use procreg_reference::{MemoryRegistry, Op, execute_op};
use procreg_sim::check::check_invariants;
use procreg_sim::{MemoryTarget, World};

/// 10 processes x (register, claim, 16 appends, renew, complete) = 200 calls.
fn script() -> Vec<Op> {
    procreg_sim::script::overhead_script()
}

fn finish<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

fn raw(ops: &[Op]) -> usize {
    let registry = MemoryRegistry::new(Arc::new(ManualClock::new(1_000)));
    finish(async {
        let mut ok = 0;
        for op in ops {
            ok += usize::from(execute_op(&registry, op).await.is_ok());
        }
        ok
    })
}

fn through_world(ops: &[Op], seed: u64) -> usize {
    let ops = ops.to_vec();
    let report = World::builder()
        .seed(seed)
        .build()
        .run(&mut MemoryTarget, move |executor, link| {
            let link = link.clone();
            executor.spawn("client", async move {
                for op in ops {
                    let _ = link.call("client", op).await;
                }
            });
        })
        .expect("memory target");
    assert!(check_invariants(&report.history).is_empty());
    report.history.len()
}

fn world_overhead(c: &mut Criterion) {
    let ops = script();
    assert_eq!(raw(&ops), ops.len(), "the script is valid");
    let mut group = c.benchmark_group("world_overhead/200_calls");
    group.throughput(Throughput::Elements(ops.len() as u64));
    group.bench_function("memory_registry_raw", |b| b.iter(|| raw(&ops)));
    let mut seed = 0;
    group.bench_function("through_world", |b| {
        b.iter(|| {
            seed += 1;
            through_world(&ops, seed)
        })
    });
    group.finish();
}

criterion_group!(benches, world_overhead);
criterion_main!(benches);
