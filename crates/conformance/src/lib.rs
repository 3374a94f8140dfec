//! Conformance laws for `ProcessRegistry` backends.
//!
//! A backend's author adds this crate as a dev-dependency, implements [`Harness`] (make a fresh
//! registry on a given clock, declare what else it can do) and writes one line in a test file:
//!
//! ```ignore
//! // tests/conformance.rs
//! use async_trait::async_trait;
//! use procreg::PluginError;
//! use procreg_conformance::{Harness, Instance};
//!
//! struct MyHarness;
//!
//! #[async_trait]
//! impl Harness for MyHarness {
//!     type Registry = MyRegistry;
//!     async fn fresh(&self, instance: &Instance) -> Result<MyRegistry, PluginError> {
//!         MyRegistry::connect_with_prefix(&instance.label, instance.clock.clone()).await
//!     }
//! }
//!
//! procreg_conformance::laws!(MyHarness);
//! ```
//!
//! `cargo test` then runs one test per law (`cargo test lease::` runs the lease laws), each
//! naming the rule ids of `docs/CONTRACT.md` it checks; a failure prints the law, the rules, the
//! step, the call, expected and actual, and the command that reruns it. [`run_all`] runs the
//! whole catalogue as one test instead.
//!
//! - [`harness`]: what a backend implements ([`Harness`], [`Capabilities`]).
//! - [`law`]: laws as data ([`Law`], [`CATALOGUE`], [`LawFailure`]).
//! - [`laws`](mod@laws): the laws themselves, one module per area, and how to add one.
//! - [`runner`]: running laws ([`Runner`], [`Outcome`], [`Report`]).
//! - [`scenario`]: readable `.scn` stories replayed against a harness ([`run_file`]) and
//!   blessed from the Model ([`bless_file`]).
#![deny(missing_docs)]
// A law failure is the cold path and carries everything a person needs to read it; boxing it
// would only make every law signature noisier.
#![allow(clippy::result_large_err)]

mod ctx;
pub mod explore;
pub mod harness;
pub mod law;
pub mod laws;
mod macros;
pub mod rules;
pub mod runner;
pub mod scenario;
pub mod shrink;

pub use ctx::{Ctx, START_MS, Spawned};
pub use harness::{Capabilities, Harness, Instance, RegistryHandle};
pub use law::{
    CATALOGUE, FailureClass, Law, LawFailure, LawFuture, LawResult, Need, Observed, catalogue,
    find_law, uncovered_rules,
};
#[doc(hidden)]
pub use macros::__private;
pub use runner::{Outcome, Report, Runner, run_all};
pub use scenario::{bless_file, run_file};
