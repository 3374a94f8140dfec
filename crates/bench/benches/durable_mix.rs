//! FileRegistry on a real disk against SQLite (WAL, synchronous=FULL) doing the same durable
//! lifecycle mix (register, claim, append, complete), with 1 writer and with 8 concurrent
//! writers. Each element is one acknowledged (durable) call; compare the two in one run.
//!
//! `cargo bench -p procreg-bench --bench durable_mix`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use procreg::{SharedClock, SystemClock};
use procreg_bench::{lifecycle, sqlite::SqliteMix};
use procreg_reference::FileRegistry;

const CALLS_PER_LIFECYCLE: u64 = 4;

fn clock() -> SharedClock {
    Arc::new(SystemClock::new())
}

/// Runs `total` lifecycles spread over `writers` OS threads; returns the elapsed time.
fn run_writers<F>(writers: u64, total: u64, make_worker: F) -> Duration
where
    F: Fn(u64) -> Box<dyn FnOnce(u64) + Send>,
{
    let per_writer = total.div_ceil(writers).max(1);
    let workers: Vec<_> = (0..writers).map(&make_worker).collect();
    let start = Instant::now();
    std::thread::scope(|scope| {
        for worker in workers {
            scope.spawn(move || worker(per_writer));
        }
    });
    start.elapsed()
}

fn bench_file(c: &mut Criterion, writers: u64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let registry =
        Arc::new(FileRegistry::open_dir(dir.path(), clock()).expect("open file registry"));
    let next = Arc::new(AtomicU64::new(0));
    let mut group = c.benchmark_group(format!("durable_mix/{writers}_writers"));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(6));
    group.throughput(Throughput::Elements(CALLS_PER_LIFECYCLE));
    group.bench_function("file_registry", |b| {
        b.iter_custom(|iters| {
            run_writers(writers, iters, |w| {
                let registry = Arc::clone(&registry);
                let next = Arc::clone(&next);
                Box::new(move |n| {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .build()
                        .expect("runtime");
                    for _ in 0..n {
                        let id = format!("p{}", next.fetch_add(1, Ordering::Relaxed));
                        rt.block_on(lifecycle(registry.as_ref(), &id, &format!("w{w}")))
                            .expect("file lifecycle");
                    }
                })
            })
        })
    });
    let db_dir = tempfile::tempdir().expect("temp dir");
    let db_path = db_dir.path().join("registry.sqlite");
    drop(SqliteMix::open(&db_path).expect("create sqlite"));
    group.bench_function("sqlite_wal_full", |b| {
        b.iter_custom(|iters| {
            run_writers(writers, iters, |w| {
                let path = db_path.clone();
                let next = Arc::clone(&next);
                Box::new(move |n| {
                    let mut db = SqliteMix::open(&path).expect("open sqlite");
                    for _ in 0..n {
                        let id = format!("p{}", next.fetch_add(1, Ordering::Relaxed));
                        db.lifecycle(&id, &format!("w{w}"), 1)
                            .expect("sqlite lifecycle");
                    }
                })
            })
        })
    });
    group.finish();
}

fn durable_mix(c: &mut Criterion) {
    bench_file(c, 1);
    bench_file(c, 8);
}

criterion_group!(benches, durable_mix);
criterion_main!(benches);
