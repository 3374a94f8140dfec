//! Conformance laws for `ProcessRegistry` backends.
#![deny(missing_docs)]

pub mod explore;
