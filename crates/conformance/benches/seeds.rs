//! Explorer throughput: seeds per second of the default `recovery` workload (every checker on,
//! linearizability included), on MemoryRegistry and on FileRegistry over SimStorage, one thread.
//! Each element is one seed (a recovery seed makes a median of 115 calls at light faults and
//! 138 at heavy, so calls/s is seeds/s times that); compare the two in one run.
//!
//! `cargo bench -p procreg-conformance --bench seeds`

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use procreg_conformance::explore::{find_workload, run_seed};
use procreg_sim::{FaultLevel, MemoryTarget, SimFileTarget, SimTarget};

fn seeds(c: &mut Criterion) {
    let recovery = find_workload("recovery").expect("the default workload");
    let mut group = c.benchmark_group("explore/recovery");
    group
        .throughput(Throughput::Elements(1))
        .measurement_time(Duration::from_secs(8));
    let targets: Vec<(&str, Box<dyn SimTarget>)> = vec![
        ("memory", Box::new(MemoryTarget)),
        ("file_on_simstorage", Box::new(SimFileTarget::new())),
    ];
    for (name, mut target) in targets {
        for level in [FaultLevel::Light, FaultLevel::Heavy] {
            let mut seed = 0;
            group.bench_function(format!("{name}/{level:?}"), |b| {
                b.iter(|| {
                    seed += 1;
                    // Throughput only: verdicts are the tests' and `procreg explore`'s job.
                    let outcome = run_seed(recovery, target.as_mut(), seed, level);
                    outcome.run.map(|r| r.history.len())
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, seeds);
criterion_main!(benches);
