//! Reference registries: the sequential `Model` every other check is judged against,
//! `MemoryRegistry` (Inline) and the durable `FileRegistry`.
#![deny(missing_docs)]

pub mod file;
pub mod op;
pub mod storage;

pub use op::{Op, OpOutput};
pub use storage::{DirStorage, Storage, StorageError, StoreLock};
