//! Laws as data: one [`Law`] per claim of the contract, and the [`LawFailure`] a broken claim
//! produces.
//!
//! Every law is a row of one table, [`CATALOGUE`], built from the single list in
//! [`crate::laws`](mod@crate::laws). The test-generating macro, [`catalogue`] (what `procreg laws` prints) and the
//! rule-coverage check ([`uncovered_rules`]) all read that table, so nothing is listed twice.
//!
//! A failure names the law, the rule ids it checks, the step (the ordinal of the registry call in
//! the law), the call, what was expected and what happened, as error kinds or values (J1
//! canonical JSON), never message text, and ends with the command that reruns only that law.
//! Getting `Unavailable` is an environment failure, not a violation (A2).

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use procreg::ErrorKind;

use crate::ctx::Ctx;
use crate::harness::Capabilities;

/// What a law returns: `Ok` when the claim held.
pub type LawResult = Result<(), LawFailure>;

/// The future a law's `run` function returns.
pub type LawFuture = Pin<Box<dyn Future<Output = LawResult> + Send>>;

/// One checkable claim of the contract.
#[derive(Clone, Copy)]
pub struct Law {
    /// `<area>::<name>`: also the generated test path and the rerun filter.
    pub id: &'static str,
    /// The area (`registration`, `event`, ...): the generated test module.
    pub area: &'static str,
    /// The contract rule ids the law checks (`R4`, `E2`, ...).
    pub rules: &'static [&'static str],
    /// Capabilities the law cannot run without.
    pub needs: &'static [Need],
    /// Runs the law on a context the runner builds.
    pub run: fn(Ctx) -> LawFuture,
}

impl fmt::Debug for Law {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Law")
            .field("id", &self.id)
            .field("rules", &self.rules)
            .field("needs", &self.needs)
            .finish_non_exhaustive()
    }
}

impl Law {
    /// The law's name within its area.
    pub fn name(&self) -> &'static str {
        self.id.rsplit("::").next().unwrap_or(self.id)
    }

    /// Why this law cannot run on a harness with `caps`, if it cannot.
    pub fn unmet_need(&self, caps: &Capabilities) -> Option<String> {
        self.needs.iter().find_map(|need| need.unmet_reason(caps))
    }
}

/// A capability a law needs from the harness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// The registry reads the injected clock, so the law controls time (T2).
    Clock,
    /// The harness can crash and reopen the registry (D7).
    Reopen,
    /// The registry is `Durable` and can be reopened (D2-D6).
    Durable,
    /// The harness can open a second live handle on one store (E14, D5).
    SecondHandle,
}

impl Need {
    /// Every need, in declaration order.
    pub const ALL: [Need; 4] = [Need::Clock, Need::Reopen, Need::Durable, Need::SecondHandle];

    /// The name used in the law list and in `laws!(.., provides: [..])`.
    pub fn name(self) -> &'static str {
        match self {
            Need::Clock => "Clock",
            Need::Reopen => "Reopen",
            Need::Durable => "Durable",
            Need::SecondHandle => "SecondHandle",
        }
    }

    /// Why `caps` does not meet this need, if it does not.
    pub fn unmet_reason(self, caps: &Capabilities) -> Option<String> {
        let reason = match self {
            Need::Clock if !caps.injected_clock => {
                "needs time control, but the registry reads its own clock (T2)"
            }
            Need::Reopen if !caps.crash_reopen => "needs crash and reopen (D7)",
            Need::Durable if caps.durability != procreg::DurabilityTier::Durable => {
                "needs a Durable registry (D2)"
            }
            Need::Durable if !caps.crash_reopen => "needs crash and reopen of a Durable registry",
            Need::SecondHandle if caps.second_handle_wait_bound.is_none() => {
                "needs a second live handle on one store (E14, D5)"
            }
            _ => return None,
        };
        Some(reason.to_owned())
    }
}

/// What a call gave or a check saw: an error kind, a value, or nothing in time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observed {
    /// A value, as canonical JSON (J1).
    Value(String),
    /// An error, by kind.
    Error(ErrorKind),
    /// The call had not returned after this many wall-clock milliseconds.
    NoReturn {
        /// How long the kit waited.
        waited_ms: u64,
    },
    /// A property stated in words, for claims that are not a single value ("sequence > 3").
    Claim(String),
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX: usize = 600;
        match self {
            Observed::Value(json) if json.len() > MAX => {
                let cut = (0..=MAX)
                    .rev()
                    .find(|i| json.is_char_boundary(*i))
                    .unwrap_or(0);
                write!(f, "ok {}...", &json[..cut])
            }
            Observed::Value(json) => write!(f, "ok {json}"),
            Observed::Error(kind) => write!(f, "error {kind}"),
            Observed::NoReturn { waited_ms } => write!(f, "no return within {waited_ms} ms"),
            Observed::Claim(text) => f.write_str(text),
        }
    }
}

/// Whether a failure says the backend broke the contract or the environment got in the way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureClass {
    /// The backend broke the rules the law checks.
    Violation,
    /// The law could not run: `Unavailable` (A2), or the harness failed to make a registry.
    Environment,
}

/// A law that did not hold, with everything needed to see why and rerun it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LawFailure {
    /// The law id (`completion::repeated_complete_returns_first_record`).
    pub law: &'static str,
    /// The rule ids the law checks.
    pub rules: &'static [&'static str],
    /// 1-based ordinal of the registry call the failure concerns.
    pub step: u32,
    /// The call, or the property checked after it.
    pub call: String,
    /// What the contract asks for.
    pub expected: Observed,
    /// What the backend did.
    pub actual: Observed,
    /// Violation or environment failure.
    pub class: FailureClass,
}

impl LawFailure {
    /// The command that reruns only this law.
    pub fn rerun_command(&self) -> String {
        format!("cargo test {}", self.law)
    }
}

impl fmt::Display for LawFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rules = self.rules.join(", ");
        match self.class {
            FailureClass::Violation => writeln!(f, "law {} broken (rules {rules})", self.law)?,
            FailureClass::Environment => writeln!(
                f,
                "law {} (rules {rules}) could not run: environment failure, not a contract violation (A2)",
                self.law
            )?,
        }
        writeln!(f, "  step {}: {}", self.step, self.call)?;
        writeln!(f, "  expected: {}", self.expected)?;
        writeln!(f, "  actual:   {}", self.actual)?;
        write!(f, "  rerun:    {}", self.rerun_command())
    }
}

impl std::error::Error for LawFailure {}

pub use crate::laws::CATALOGUE;

/// Every law of the kit, in catalogue order (by area, then as listed).
pub fn catalogue() -> &'static [Law] {
    CATALOGUE
}

/// The law with this id.
pub fn find_law(id: &str) -> Option<&'static Law> {
    CATALOGUE.iter().find(|law| law.id == id)
}

/// The contract rules no law of the catalogue names, in [`crate::rules::CONTRACT_RULES`] order.
/// The W rules are the simulator's and are left out.
pub fn uncovered_rules() -> Vec<&'static str> {
    crate::rules::CONTRACT_RULES
        .iter()
        .copied()
        .filter(|rule| !rule.starts_with('W'))
        .filter(|rule| !CATALOGUE.iter().any(|law| law.rules.contains(rule)))
        .collect()
}
