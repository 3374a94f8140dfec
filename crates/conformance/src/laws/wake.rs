//! wake laws.
