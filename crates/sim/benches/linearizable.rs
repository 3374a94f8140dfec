//! Linearizability checker time against history length: a lease / append / read mix of 8
//! workers over 8 processes with overlapping windows (see `support/lease_mix.rs`), checked
//! per process; the same with every 5th call lost (request or response); and the same with
//! periodic `list_non_terminal` calls, which force one whole-history search.
//!
//! `cargo bench -p procreg-sim --bench linearizable`
//!
//! Measured in one run (release, 2 shared cores, seed 7; calls include 8 registrations):
//!
//! | history | 58 calls | 208 calls | 808 calls |
//! |---|---|---|---|
//! | per process (8 partitions) | 0.041 ms | 0.13 ms | 0.86 ms |
//! | every 5th call lost | 0.038 ms | 0.12 ms | 1.0 ms |
//! | whole history (`list_non_terminal` every 25th call) | 0.057 ms | 0.24 ms | 2.0 ms |
//!
//! (Before the Model shared its unchanged parts between the search's per-step copies, Z52:
//! per process 0.54 ms at 208 calls and 3.9 ms at 808; whole history 26 ms at 808.) The whole-history case still costs more per
//! state: each state-changing step copies the Model's map of all eight processes.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use procreg_reference::Model;
use procreg_sim::check::linearizable::{SearchBudget, check};

use procreg_sim::history as sim_history;

#[path = "support/lease_mix.rs"]
mod lease_mix;

use lease_mix::{MixSettings, lease_mix};

const LENGTHS: [usize; 3] = [50, 200, 800];

fn bench_shape(c: &mut Criterion, name: &str, shape: impl Fn(usize) -> MixSettings) {
    let mut group = c.benchmark_group(name);
    for calls in LENGTHS {
        let (history, _) = lease_mix(shape(calls));
        let verdict = check(&history, &Model::new(), SearchBudget::default());
        assert!(verdict.is_linearizable(), "{name}/{calls}: {verdict}");
        eprintln!("{name}/{calls}: {} calls, {verdict}", history.len());
        group.throughput(Throughput::Elements(history.len() as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(calls),
            &history,
            |b, history| {
                b.iter(|| check(black_box(history), &Model::new(), SearchBudget::default()))
            },
        );
    }
    group.finish();
}

fn per_process(c: &mut Criterion) {
    bench_shape(c, "linearizable/per_process", |calls| {
        MixSettings::new(calls, 7)
    });
}

fn with_lost_calls(c: &mut Criterion) {
    bench_shape(c, "linearizable/lost_every_5", |calls| MixSettings {
        lost_every: 5,
        ..MixSettings::new(calls, 7)
    });
}

fn whole_history(c: &mut Criterion) {
    bench_shape(c, "linearizable/whole_list_every_25", |calls| MixSettings {
        list_every: 25,
        ..MixSettings::new(calls, 7)
    });
}

criterion_group!(benches, per_process, with_lost_calls, whole_history);
criterion_main!(benches);
