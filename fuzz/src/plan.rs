//! The `plan` target: a workload, a target and a fault plan decoded from bytes, run in the
//! simulated world and judged by every checker of the explorer.
//!
//! Why it exists: sampled plans ([`procreg_sim::FaultPlan::sample`]) draw faults at random;
//! a coverage-guided fuzzer steers them toward schedules that reach new code in the world,
//! the registries and the checkers. Byte 0 picks the workload (`% 3`: recovery, grants,
//! events) and the target (bit 7: `FileRegistry` on simulated storage, with registry crashes
//! and torn writes; else `MemoryRegistry`); the rest is [`plan_gen::plan_from_bytes`]. Any
//! failure (safety, liveness, panic) panics with the explorer's report, which libFuzzer
//! records as a crash.

use procreg_conformance::explore::{WORKLOADS, plan_gen, run_plan};
use procreg_sim::{MemoryTarget, SimFileTarget, SimTarget};

/// Runs one input; panics with the report if any check fails.
pub fn run(bytes: &[u8]) {
    let (&selector, rest) = bytes.split_first().unwrap_or((&0, &[]));
    let workload = &WORKLOADS[usize::from(selector & 0x7f) % WORKLOADS.len()];
    let mut memory = MemoryTarget;
    let mut file = SimFileTarget::new();
    let target: &mut dyn SimTarget = if selector & 0x80 != 0 {
        &mut file
    } else {
        &mut memory
    };
    let shape = (workload.shape)(target.durable());
    let (seed, plan) = plan_gen::plan_from_bytes(&shape, rest);
    let outcome = run_plan(workload, target, seed, plan);
    assert!(
        outcome.passed(),
        "{}",
        outcome.report("-p procreg-conformance (a fuzz input: replay it with `cargo fuzz run -s none plan <file>`)")
    );
}
