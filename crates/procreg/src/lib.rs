//! The `ProcessRegistry` contract.
//!
//! This crate is what a registry backend implements and what every other procreg crate checks
//! against: the [`ProcessRegistry`] trait, the model types of the contract (section 2 of
//! `docs/CONTRACT.md`), the typed [`PluginError`] / [`ErrorKind`] pair, the [`Clock`] a registry
//! reads time from, and the canonical JSON and hashing rules (J1) that registration hashes and
//! equality checks depend on.
//!
//! It depends on nothing else in procreg, so a backend crate can depend on it alone.
//!
//! ```
//! use procreg::{ProcessScope, ProcessRegistration};
//! let scope = ProcessScope::frame("s1", "f1");
//! assert_eq!(scope.id(), "session:s1/frame:f1");
//! let reg = ProcessRegistration::new("p1", scope, "host");
//! assert_eq!(reg.id, "p1");
//! ```
#![deny(missing_docs)]

pub mod canonical;
mod clock;
mod error;
mod event;
mod grant;
mod lease;
mod process;
mod registry;
mod scope;
pub mod validate;

pub use clock::{Clock, MAX_TIMESTAMP_MS, ManualClock, SharedClock, SystemClock};
pub use error::{ErrorKind, PluginError};
pub use event::{
    MaterializedWake, ProcessEvent, ProcessEventAppendRequest, ProcessEventAppendResult,
    ProcessWakeDelivery, terminal_replay_key,
};
pub use grant::{
    ProcessHandleDescriptor, ProcessHandleGrant, ProcessHandleGrantEntry,
    ProcessSessionDeleteReport,
};
pub use lease::{DurabilityTier, ProcessLease, ProcessLeaseCompletion};
pub use process::{
    CORE_EVENT_TYPES, EVENT_CANCEL_REQUESTED, EVENT_CANCELLED, EVENT_COMPLETED, EVENT_FAILED,
    ProcessAwaitOutput, ProcessEventType, ProcessExternalRef, ProcessProvenance, ProcessRecord,
    ProcessRegistration, ProcessStatus, ProcessTerminalState, ProcessWakeSpec, WakeDedupeKey,
};
pub use registry::ProcessRegistry;
pub use scope::ProcessScope;

/// The result type of every registry call.
pub type RegistryResult<T> = Result<T, PluginError>;
