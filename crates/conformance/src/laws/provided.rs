//! provided laws.
