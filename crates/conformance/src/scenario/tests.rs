//! Tests of the scenario format, runner and bless.
