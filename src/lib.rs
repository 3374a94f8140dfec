//! procreg-kit: the facade over procreg's crates, so one dev-dependency brings the whole kit.
//!
//! - [`contract`]: the `ProcessRegistry` trait and its model types (crate `procreg`).
//! - [`reference`]: the sequential `Model`, `MemoryRegistry` and `FileRegistry`.
#![deny(missing_docs)]

pub use procreg as contract;
pub use procreg_reference as reference;
