//! `laws!`: one `#[test]` per law, in one module per area, so `cargo test lease::` runs the lease
//! laws and a law's test path is its id.
//!
//! The tests come from the same list as [`CATALOGUE`](crate::CATALOGUE) (`for_each_law!` in
//! [`crate::laws`]), so adding a law to the list adds its test to every user's suite.
//!
//! Each generated test builds its harness from the macro's argument, drives its law on a fresh
//! current-thread tokio runtime, and:
//! - passes when the law holds;
//! - panics with the [`LawFailure`](crate::LawFailure) (law, rules, step, call, expected,
//!   actual, rerun command) when it does not;
//! - when the harness lacks a capability the law needs, returns early and prints
//!   `IGNORED <law>: <reason>` to stderr (libtest has no runtime ignore). Set
//!   `PROCREG_FAIL_IGNORED=1` to make such tests fail instead, so CI can insist on full coverage;
//!   [`run_all`](crate::run_all) reports ignored laws apart from passed ones.

/// Expands to one `#[test]` per law of the catalogue, in modules by area, for the harness the
/// expression builds (evaluated once per test).
///
/// Place it at the root of a test file, so the test paths equal the law ids:
///
/// ```ignore
/// // tests/conformance.rs
/// procreg_conformance::laws!(MyHarness::default());
/// ```
///
/// To run the laws over two harnesses in one file, give each its own module (the test paths
/// become `memory::lease::...`, and `cargo test lease::` still selects them):
///
/// ```ignore
/// mod memory {
///     use super::*;
///     procreg_conformance::laws!(MemoryHarness);
/// }
/// ```
#[macro_export]
macro_rules! laws {
    ($harness:expr $(,)?) => {
        $crate::for_each_law!([$crate::__law_tests]($harness));
    };
}

/// Callback of `for_each_law!` for [`laws!`]: the test modules.
#[doc(hidden)]
#[macro_export]
macro_rules! __law_tests {
    (
        ($harness:expr)
        $( $area:ident {
            $( $name:ident ( $($rule:literal),* ) $([ $($need:ident),* ])? ),* $(,)?
        } )*
    ) => {
        $(
            mod $area {
                #[allow(unused_imports)]
                use super::*;
                $(
                    #[test]
                    fn $name() {
                        let id = concat!(stringify!($area), "::", stringify!($name));
                        if let Some(note) = $crate::__private::run_test(id, $harness) {
                            eprintln!("{note}");
                        }
                    }
                )*
            }
        )*
    };
}

/// What generated tests call. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    use crate::harness::Harness;
    use crate::runner::{Outcome, Runner};

    /// Runs law `id` for a generated test: `None` when it passed, the note to print when it was
    /// ignored; panics with the failure when it failed.
    pub fn run_test<H: Harness>(id: &str, harness: H) -> Option<String> {
        let Some(law) = crate::law::find_law(id) else {
            panic!("procreg-conformance bug: no law `{id}` in the catalogue");
        };
        match Runner::new(harness).run_blocking(law) {
            Outcome::Passed => None,
            Outcome::Failed(failure) => panic!("\n{failure}\n"),
            Outcome::Ignored { reason } => {
                let note = format!("IGNORED {id}: {reason}");
                if std::env::var_os("PROCREG_FAIL_IGNORED").is_some_and(|v| v != "0") {
                    panic!("{note} (PROCREG_FAIL_IGNORED is set)");
                }
                Some(note)
            }
        }
    }
}
