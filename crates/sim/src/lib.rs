//! procreg's deterministic world.
#![deny(missing_docs)]

pub mod check;
pub mod clock;
pub mod executor;
pub mod history;
pub mod link;
pub mod plan;
pub mod resource;
pub mod rng;
pub mod script;
pub mod storage;
pub mod target;
pub mod target_file;
pub mod world;

pub use clock::SimClock;
pub use executor::{BlockedTask, Executor, RunOutcome, TaskId};
pub use history::{CallId, CallRecord, History};
pub use link::FaultyLink;
pub use plan::{CrashEvent, FaultLevel, FaultPlan, LinkFault, LinkFaultAt, Partition, PlanShape};
pub use storage::{CrashFate, LyingSync, SimStorage, StorageStats};
pub use target::{MemoryTarget, SimTarget};
pub use target_file::SimFileTarget;
pub use world::{RunEnd, RunReport, World, WorldBuilder};
