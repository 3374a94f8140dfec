//! `laws!`: one `#[test]` per law, in one module per area, so `cargo test lease::` runs the lease
//! laws and a law's test path is its id.
//!
//! The tests come from the same list as [`CATALOGUE`](crate::CATALOGUE) (`for_each_law!` in
//! [`crate::laws`]), so adding a law to the list adds its test to every user's suite.
//!
//! Each generated test builds its harness from the macro's argument, drives its law on a fresh
//! current-thread tokio runtime, and passes when the law holds, or panics with the
//! [`LawFailure`](crate::LawFailure) (law, rules, step, call, expected, actual, rerun command)
//! when it does not.
//!
//! A law whose needs the harness does not provide is generated with `#[ignore = "<reason>"]`, so
//! `cargo test` lists it as ignored with the reason, never as passed. libtest decides ignores at
//! compile time, so the macro is told what the harness provides (`provides: [..]`, default
//! `[Clock]`, matching [`Capabilities::default`](crate::Capabilities)); one more generated test,
//! `harness_provides_what_laws_declares`, fails if that list and the harness's
//! [`capabilities`](crate::Harness::capabilities) ever disagree. (`cargo test -- --ignored`
//! runs the ignored laws anyway; each then reports its unmet need as a pass-through note.)

/// Expands to one `#[test]` per law of the catalogue, in modules by area, for the harness the
/// expression builds (evaluated once per test).
///
/// Place it at the root of a test file, so the test paths equal the law ids:
///
/// ```ignore
/// // tests/conformance.rs: a harness with the default capabilities (injected clock only)
/// procreg_conformance::laws!(MyHarness::default());
///
/// // a durable backend that can crash and reopen
/// procreg_conformance::laws!(FileHarness, provides: [Clock, Reopen, Durable]);
/// ```
///
/// The capability names are the [`Need`](crate::Need) variants: `Clock`, `Reopen`, `Durable`,
/// `SecondHandle`.
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
        $crate::laws!($harness, provides: [Clock]);
    };
    ($harness:expr, provides: [$($cap:ident),* $(,)?] $(,)?) => {
        $crate::for_each_law!([$crate::__law_tests]($harness; [$($cap)*]));

        #[test]
        fn harness_provides_what_laws_declares() {
            $crate::__private::check_declared($harness, &[$(stringify!($cap)),*]);
        }
    };
}

/// Callback of `for_each_law!` for [`laws!`]: the test modules.
#[doc(hidden)]
#[macro_export]
macro_rules! __law_tests {
    (
        ($harness:expr; $caps:tt)
        $( $area:ident {
            $( $name:ident ( $($rule:literal),* ) $([ $($need:ident),* ])? ),* $(,)?
        } )*
    ) => {
        $(
            mod $area {
                #[allow(unused_imports)]
                use super::*;
                $(
                    $crate::__unless_provided! {
                        [$($($need)*)?] $caps;
                        #[test]
                        fn $name() {
                            let id = concat!(stringify!($area), "::", stringify!($name));
                            if let Some(note) = $crate::__private::run_test(id, $harness) {
                                eprintln!("{note}");
                            }
                        }
                    }
                )*
            }
        )*
    };
}

/// Emits its item, with `#[ignore = ..]` when a need in the first list is not in the second.
/// macro_rules cannot compare two idents, so each known need has its own "found" arm.
#[doc(hidden)]
#[macro_export]
macro_rules! __unless_provided {
    ([] [$($cap:ident)*]; $($item:tt)*) => { $($item)* };
    ([$need:ident $($rest:ident)*] [$($cap:ident)*]; $($item:tt)*) => {
        $crate::__unless_provided!(@find $need [$($cap)*] [$($rest)*] [$($cap)*]; $($item)*);
    };
    (@find Clock [Clock $($c:ident)*] $rest:tt $caps:tt; $($item:tt)*) => {
        $crate::__unless_provided!($rest $caps; $($item)*);
    };
    (@find Reopen [Reopen $($c:ident)*] $rest:tt $caps:tt; $($item:tt)*) => {
        $crate::__unless_provided!($rest $caps; $($item)*);
    };
    (@find Durable [Durable $($c:ident)*] $rest:tt $caps:tt; $($item:tt)*) => {
        $crate::__unless_provided!($rest $caps; $($item)*);
    };
    (@find SecondHandle [SecondHandle $($c:ident)*] $rest:tt $caps:tt; $($item:tt)*) => {
        $crate::__unless_provided!($rest $caps; $($item)*);
    };
    (@find $need:ident [$other:ident $($c:ident)*] $rest:tt $caps:tt; $($item:tt)*) => {
        $crate::__unless_provided!(@find $need [$($c)*] $rest $caps; $($item)*);
    };
    (@find Clock [] $rest:tt $caps:tt; $($item:tt)*) => {
        #[ignore = "needs time control (Clock): the harness does not inject the kit's clock (T2)"]
        $($item)*
    };
    (@find Reopen [] $rest:tt $caps:tt; $($item:tt)*) => {
        #[ignore = "needs crash and reopen (Reopen, D7): the harness does not provide it"]
        $($item)*
    };
    (@find Durable [] $rest:tt $caps:tt; $($item:tt)*) => {
        #[ignore = "needs a Durable registry that can crash and reopen (Durable, D2-D6)"]
        $($item)*
    };
    (@find SecondHandle [] $rest:tt $caps:tt; $($item:tt)*) => {
        #[ignore = "needs a second live handle on one store (SecondHandle, E14, D5)"]
        $($item)*
    };
}

/// What generated tests call. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    use crate::harness::Harness;
    use crate::law::Need;

    /// Fails when `laws!(.., provides: [..])` and the harness's capabilities disagree, so the
    /// compile-time ignores can never hide a law the harness could run (or run one it cannot).
    pub fn check_declared<H: Harness>(harness: H, declared: &[&str]) {
        let caps = harness.capabilities();
        let provided: Vec<&str> = Need::ALL
            .into_iter()
            .filter(|need| need.unmet_reason(&caps).is_none())
            .map(Need::name)
            .collect();
        let mut declared: Vec<&str> = declared.to_vec();
        declared.sort_unstable();
        declared.dedup();
        let mut sorted = provided.clone();
        sorted.sort_unstable();
        assert!(
            sorted == declared,
            "the harness provides {provided:?} but laws! declares {declared:?}: write \
             `laws!(<harness>, provides: [{}])`",
            provided.join(", ")
        );
    }
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
