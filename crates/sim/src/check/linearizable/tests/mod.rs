//! Tests of the linearizability checker.
