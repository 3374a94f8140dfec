//! external_ref laws.
