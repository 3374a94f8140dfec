//! Reference registries: the sequential `Model` every other check is judged against,
//! `MemoryRegistry` (Inline) and the durable `FileRegistry`.
//!
//! A tour:
//! - [`op`]: every registry call as a value ([`Op`]) and its answer ([`OpOutput`]).
//! - [`model`]: the [`Model`], the contract's pure state machine; [`Model::apply`] is the one
//!   entry point that gives an op its contract meaning.
//! - [`journal`]: the [`Journal`] a Model-backed registry makes its changes durable through.
//! - [`engine`]: the [`Engine`], the one implementation of `ProcessRegistry` on top of a Model
//!   (locking, waits without lost wake-ups, group commit).
//! - [`memory`]: [`MemoryRegistry`], the engine with no journal.
//! - [`execute`]: [`execute_op`] runs an [`Op`] against any `ProcessRegistry`.
//! - [`storage`]: the [`Storage`] a durable registry writes through, and [`DirStorage`].
//! - [`mod@file`]: [`FileRegistry`], the engine with a checksummed log and snapshots on a Storage.
#![deny(missing_docs)]

pub mod engine;
pub mod execute;
pub mod file;
pub mod journal;
pub mod memory;
pub mod model;
pub mod op;
pub mod storage;

pub use engine::Engine;
pub use execute::execute_op;
pub use file::{FileJournal, FileOptions, FileRegistry};
pub use journal::{Journal, NoJournal};
pub use memory::MemoryRegistry;
pub use model::Model;
pub use op::{Op, OpOutput};
pub use storage::{DirStorage, Storage, StorageError, StoreLock};
