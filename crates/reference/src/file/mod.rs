//! The durable `FileRegistry`: the Model plus a checksummed write-ahead log with group commit
//! and snapshots, written through a [`Storage`](crate::Storage) (D1-D7).

mod commit;
pub mod frame;
pub mod recover;
pub mod snapshot;
