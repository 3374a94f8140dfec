//! Checkers: what a run must satisfy, judged from its history.

pub mod invariants;

pub use invariants::{Violation, check_invariants};
