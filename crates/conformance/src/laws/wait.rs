//! wait laws.
