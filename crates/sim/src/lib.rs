//! procreg's deterministic world.
#![deny(missing_docs)]

pub mod clock;
pub mod executor;
pub mod history;
pub mod rng;

pub use clock::SimClock;
pub use executor::{BlockedTask, Executor, RunOutcome, TaskId};
pub use history::{CallId, CallRecord, History};
