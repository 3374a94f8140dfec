//! Explorer throughput: seeds per second of the `recovery` workload (every checker on,
//! linearizability included), one thread, on MemoryRegistry and on FileRegistry over
//! SimStorage, plus `memory_11p`: MemoryRegistry running `recovery` with 11 processes instead
//! of 6 ([`recovery::with_processes`]), seeds of about 200 calls, the size issue #4 item 8's
//! goal (1,000 seeds/s) is stated for. Each element is one seed; the bench prints each case's
//! median calls per seed (over seeds 1..=200) first, so calls/s is seeds/s times that.
//!
//! The same cases run under mimalloc in `seeds_mimalloc.rs` (the allocator the `procreg` CLI
//! ships with): malloc/free are about 40% of a seed's instructions under glibc. Run both in
//! one go to compare them side by side:
//!
//! `cargo bench -p procreg-conformance --bench seeds --bench seeds_mimalloc`
//!
//! Measured in one run (release, one thread, 2 shared cores; seeds/s, criterion's estimate):
//!
//! | case | calls/seed (Light / Heavy) | glibc Light | glibc Heavy | mimalloc Light | mimalloc Heavy |
//! |---|---|---|---|---|---|
//! | memory | 112 / 139 | 1,620 | 1,311 | 2,161 | 2,002 |
//! | file_on_simstorage | 112 / 139 | 1,009 | 696 | 1,233 | 1,075 |
//! | memory_11p | 187 / 203 | 957 | 890 | 1,551 | 1,402 |

use criterion::{Criterion, criterion_group, criterion_main};

#[path = "support/seeds.rs"]
mod cases;

fn seeds(c: &mut Criterion) {
    cases::seeds(c, "system");
}

criterion_group!(benches, seeds);
criterion_main!(benches);
