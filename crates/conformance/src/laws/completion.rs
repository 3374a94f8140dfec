//! completion laws.
