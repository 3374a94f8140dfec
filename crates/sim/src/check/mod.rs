//! Checkers: what a run must satisfy, judged from its history.

pub mod durability;
pub mod invariants;
pub mod linearizable;

pub use durability::{ProbeRead, ReopenProbe, check_durability};
pub use invariants::{Violation, check_invariants};
pub use linearizable::{SearchBudget, Verdict};
