//! What procreg's cargo-fuzz targets run, as plain functions (the targets in `fuzz_targets/`
//! are one line each, and a saved crash replays through the same code).
//!
//! - [`plan`]: bytes -> a workload, a target and a fault plan -> a judged explorer run.
//! - [`ops`] and [`differential`]: bytes -> a program of calls -> the Model against
//!   `MemoryRegistry` and `FileRegistry` on simulated storage.
//! - [`scenario`]: any text -> the scenario parser and runner, which must never panic.

pub mod differential;
pub mod ops;
pub mod plan;
pub mod scenario;

use libfuzzer_sys::arbitrary::Unstructured;

/// Most steps one `model_ops` input runs.
pub const MAX_STEPS: usize = 64;

/// The `model_ops` target: decodes a program from `bytes` and runs it differentially.
pub fn model_ops(bytes: &[u8]) {
    let mut u = Unstructured::new(bytes);
    let seed = u.arbitrary::<u64>().unwrap_or(0);
    let mut subjects = differential::Subjects::new(seed);
    for _ in 0..MAX_STEPS {
        let Ok(step) = ops::step(&mut u, &subjects.leases) else {
            break;
        };
        subjects.apply(&step);
    }
}
