//! Reference registries: the sequential `Model` every other check is judged against,
//! `MemoryRegistry` (Inline) and the durable `FileRegistry`.
#![deny(missing_docs)]

pub mod execute;
pub mod file;
pub mod op;
pub mod storage;

pub use execute::execute_op;
pub use op::{Op, OpOutput};
pub use storage::{DirStorage, Storage, StorageError, StoreLock};
