//! The cases of the `seeds` and `seeds_mimalloc` benches (see `seeds.rs` for what they
//! measure): one body, so the two allocators run exactly the same seeds.

use std::time::Duration;

use criterion::{Criterion, Throughput};
use procreg_conformance::explore::{Workload, find_workload, recovery, run_seed};
use procreg_sim::{FaultLevel, MemoryTarget, SimFileTarget, SimTarget};

/// `recovery` with 11 processes: about 200 calls a seed.
static RECOVERY_11P: Workload = recovery::with_processes::<11>();

/// Median calls per seed over seeds `1..=200`.
fn median_calls(workload: &Workload, target: &mut dyn SimTarget, level: FaultLevel) -> usize {
    let mut calls: Vec<usize> = (1..=200)
        .map(|seed| {
            let outcome = run_seed(workload, target, seed, level);
            outcome.run.map_or(0, |r| r.history.len())
        })
        .collect();
    calls.sort_unstable();
    calls[calls.len() / 2]
}

/// Every case, in a group named `explore/recovery/<allocator>`: the binary's global
/// allocator is the one thing the two bench binaries differ in.
pub fn seeds(c: &mut Criterion, allocator: &str) {
    let recovery = find_workload("recovery").expect("the default workload");
    let mut group = c.benchmark_group(format!("explore/recovery/{allocator}"));
    group
        .throughput(Throughput::Elements(1))
        .measurement_time(Duration::from_secs(8));
    let cases: Vec<(&str, &Workload, Box<dyn SimTarget>)> = vec![
        ("memory", recovery, Box::new(MemoryTarget)),
        (
            "file_on_simstorage",
            recovery,
            Box::new(SimFileTarget::new()),
        ),
        ("memory_11p", &RECOVERY_11P, Box::new(MemoryTarget)),
    ];
    for (name, workload, mut target) in cases {
        for level in [FaultLevel::Light, FaultLevel::Heavy] {
            let median = median_calls(workload, target.as_mut(), level);
            eprintln!("{name}/{level:?}: median {median} calls/seed");
            let mut seed = 0;
            group.bench_function(format!("{name}/{level:?}"), |b| {
                b.iter(|| {
                    seed += 1;
                    // Throughput only: verdicts are the tests' and `procreg explore`'s job.
                    let outcome = run_seed(workload, target.as_mut(), seed, level);
                    outcome.run.map(|r| r.history.len())
                })
            });
        }
    }
    group.finish();
}
