//! Explorer throughput: seeds per second of the `recovery` workload (every checker on,
//! linearizability included), one thread, on MemoryRegistry and on FileRegistry over
//! SimStorage, plus `memory_11p`: MemoryRegistry running `recovery` with 11 processes instead
//! of 6 ([`recovery::with_processes`]), seeds of about 200 calls, the size issue #4 item 8's
//! goal (1,000 seeds/s) is stated for. Each element is one seed; the bench prints each case's
//! median calls per seed (over seeds 1..=200) first, so calls/s is seeds/s times that.
//!
//! `cargo bench -p procreg-conformance --bench seeds`

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
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

fn seeds(c: &mut Criterion) {
    let recovery = find_workload("recovery").expect("the default workload");
    let mut group = c.benchmark_group("explore/recovery");
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

criterion_group!(benches, seeds);
criterion_main!(benches);
