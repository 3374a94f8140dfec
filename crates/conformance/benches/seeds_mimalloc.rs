//! `seeds.rs`'s cases with mimalloc as the global allocator, as in the `procreg` CLI.
//!
//! `cargo bench -p procreg-conformance --bench seeds --bench seeds_mimalloc`

use criterion::{Criterion, criterion_group, criterion_main};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "support/seeds.rs"]
mod cases;

fn seeds(c: &mut Criterion) {
    cases::seeds(c, "mimalloc");
}

criterion_group!(benches, seeds);
criterion_main!(benches);
