//! validation laws.
