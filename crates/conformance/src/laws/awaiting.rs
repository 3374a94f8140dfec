//! awaiting laws.
