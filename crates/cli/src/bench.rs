//! `procreg bench`: quick throughput figures on this machine, in a few seconds.
//!
//! | figure | what runs |
//! |---|---|
//! | recovery seeds/s, memory | `recovery` seeds at `heavy` faults (the explore default) on `MemoryRegistry`, one thread |
//! | recovery seeds/s, file | the same on `FileRegistry` over simulated storage (with crashes) |
//! | raw calls/s | a 200-call script straight on `MemoryRegistry` |
//! | calls/s through the world | the same script through the world (executor, faulty link with no faults, history, invariant checks) |
//!
//! Why it exists: "how many seeds can my CI afford?" wants an answer without a criterion run.
//! These are one quick measurement each; the criterion benches (`world_overhead`,
//! `durable_mix`) remain the reference.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use procreg::ManualClock;
use procreg_conformance::explore::{find_workload, run_seed};
use procreg_reference::{MemoryRegistry, Op, execute_op};
use procreg_sim::{MemoryTarget, World};

use crate::args::{BenchArgs, Faults, Registry};
use crate::{CliError, emit};

/// Runs `procreg bench`.
pub fn bench(args: &BenchArgs) -> Result<(), CliError> {
    if !(args.seconds.is_finite() && args.seconds > 0.0 && args.seconds <= 3600.0) {
        return Err(CliError::Usage(format!(
            "--seconds {}: give a number of seconds between 0 and 3600",
            args.seconds
        )));
    }
    let each = Duration::from_secs_f64(args.seconds / 4.0);
    let script = script();
    let memory = seeds_per_second(Registry::Memory, each)?;
    let file = seeds_per_second(Registry::File, each)?;
    let raw = per_second(each, || raw_calls(&script));
    let world = per_second(each, || world_calls(&script));
    let mut out = format!("procreg bench ({:.1}s per figure)\n", each.as_secs_f64());
    out.push_str(&format!(
        "  recovery workload, heavy faults, memory   {memory:>12.1} seeds/s (one thread)\n"
    ));
    out.push_str(&format!(
        "  recovery workload, heavy faults, file     {file:>12.1} seeds/s (one thread)\n"
    ));
    out.push_str(&format!(
        "  MemoryRegistry calls, raw                 {raw:>12.0} calls/s\n"
    ));
    out.push_str(&format!(
        "  MemoryRegistry calls, through the world   {world:>12.0} calls/s\n"
    ));
    if world > 0.0 {
        out.push_str(&format!(
            "  world overhead                            {:>12.1}x\n",
            raw / world
        ));
    }
    out.push_str("quick figures; criterion benches remain the reference\n");
    emit(&out);
    Ok(())
}

/// Runs `round` until `budget` has passed (at least once); returns units per second, where
/// each round reports how many units it did.
fn per_second(budget: Duration, mut round: impl FnMut() -> usize) -> f64 {
    let started = Instant::now();
    let mut units = 0usize;
    loop {
        units += round();
        let elapsed = started.elapsed();
        if elapsed >= budget {
            return units as f64 / elapsed.as_secs_f64();
        }
    }
}

fn seeds_per_second(registry: Registry, budget: Duration) -> Result<f64, CliError> {
    let workload = find_workload("recovery")
        .ok_or_else(|| CliError::Usage("the recovery workload is missing".into()))?;
    let mut seed = 0;
    Ok(per_second(budget, || {
        let mut target = registry.target();
        let outcome = run_seed(workload, target.as_mut(), seed, Faults::default().level());
        seed += 1;
        usize::from(outcome.run.is_some())
    }))
}

/// 10 processes × (register, claim, 16 appends, list, complete) = 200 calls: the script of
/// the `world_overhead` criterion bench.
fn script() -> Vec<Op> {
    procreg_sim::script::overhead_script()
}

/// Polls a future that never waits (MemoryRegistry's non-blocking calls) to completion.
fn finish<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

fn raw_calls(script: &[Op]) -> usize {
    let registry = MemoryRegistry::new(Arc::new(ManualClock::new(1_000)));
    finish(async {
        for op in script {
            let _ = execute_op(&registry, op).await;
        }
    });
    script.len()
}

fn world_calls(script: &[Op]) -> usize {
    let ops = script.to_vec();
    let report = World::builder()
        .seed(1)
        .build()
        .run(&mut MemoryTarget, move |executor, link| {
            let link = link.clone();
            executor.spawn("client", async move {
                for op in ops {
                    let _ = link.call("client", op).await;
                }
            });
        });
    report.map_or(0, |r| r.history.len())
}
