//! event laws.
