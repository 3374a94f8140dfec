//! Running laws against a harness: one law ([`Runner::run`]), a chosen set, or the whole
//! catalogue ([`run_all`]), each ending in an [`Outcome`] that keeps passed, ignored (with the
//! reason) and failed laws apart, so an unmet capability is never counted as a pass.

use std::fmt;
use std::sync::{Arc, Mutex};

use crate::ctx::{Ctx, Progress};
use crate::harness::{Capabilities, DynHarness, Erased, Harness};
use crate::law::{CATALOGUE, FailureClass, Law, LawFailure, Observed};

/// How one law ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The claim held.
    Passed,
    /// The law did not run: the harness lacks a capability it needs.
    Ignored {
        /// Which capability, and the rule that asks for it.
        reason: String,
    },
    /// The claim did not hold (or, for [`FailureClass::Environment`], could not be checked).
    Failed(LawFailure),
}

impl Outcome {
    /// The failure, if the law failed.
    pub fn failure(&self) -> Option<&LawFailure> {
        match self {
            Outcome::Failed(failure) => Some(failure),
            _ => None,
        }
    }
}

/// Runs laws against one harness.
///
/// ```ignore
/// let runner = Runner::new(MyHarness);
/// let law = procreg_conformance::find_law("event::sequences_are_dense_from_one").unwrap();
/// assert_eq!(runner.run(law).await, Outcome::Passed);
/// ```
#[derive(Clone)]
pub struct Runner {
    harness: Arc<dyn DynHarness>,
}

impl fmt::Debug for Runner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runner")
            .field("capabilities", &self.capabilities())
            .finish_non_exhaustive()
    }
}

/// Laws of a `serial` harness take this lock, so they never share the one database.
static SERIAL: Mutex<()> = Mutex::new(());

impl Runner {
    /// A runner for `harness`.
    pub fn new<H: Harness>(harness: H) -> Self {
        Self {
            harness: Arc::new(Erased(harness)),
        }
    }

    /// The harness's declared capabilities.
    pub fn capabilities(&self) -> Capabilities {
        self.harness.capabilities()
    }

    /// Runs one law on the current tokio runtime (which needs its time driver enabled).
    /// A panic inside the law or the backend is a failure of that law.
    pub async fn run(&self, law: &Law) -> Outcome {
        let caps = self.harness.capabilities();
        if let Some(reason) = law.unmet_need(&caps) {
            return Outcome::Ignored { reason };
        }
        let progress = Arc::new(Mutex::new(Progress::default()));
        let ctx = Ctx::new(law, self.harness.clone(), caps, progress.clone());
        match tokio::spawn((law.run)(ctx)).await {
            Ok(Ok(())) => Outcome::Passed,
            Ok(Err(failure)) => Outcome::Failed(failure),
            Err(join) => Outcome::Failed(panicked(law, &progress, join)),
        }
    }

    /// Runs one law on a fresh current-thread tokio runtime: what each generated test does.
    pub fn run_blocking(&self, law: &Law) -> Outcome {
        let _serial = self
            .capabilities()
            .serial
            .then(|| SERIAL.lock().unwrap_or_else(|p| p.into_inner()));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        match runtime {
            Ok(runtime) => runtime.block_on(self.run(law)),
            Err(e) => Outcome::Failed(LawFailure {
                law: law.id,
                rules: law.rules,
                step: 0,
                call: "build a current-thread tokio runtime".into(),
                expected: Observed::Claim("a runtime".into()),
                actual: Observed::Claim(e.to_string()),
                class: FailureClass::Environment,
            }),
        }
    }

    /// Runs `laws` one after another.
    pub async fn run_laws<'a>(&self, laws: impl IntoIterator<Item = &'a Law>) -> Report {
        let mut entries = Vec::new();
        for law in laws {
            entries.push((law.id, self.run(law).await));
        }
        Report { entries }
    }

    /// Runs the whole catalogue one law after another.
    pub async fn run_all(&self) -> Report {
        self.run_laws(CATALOGUE).await
    }
}

/// Runs every law of the catalogue against `harness`, one after another, for users who want a
/// single test: `assert!(run_all(MyHarness).await.is_success())`.
pub async fn run_all<H: Harness>(harness: H) -> Report {
    Runner::new(harness).run_all().await
}

fn panicked(law: &Law, progress: &Mutex<Progress>, join: tokio::task::JoinError) -> LawFailure {
    let (step, call) = {
        let p = progress.lock().unwrap_or_else(|p| p.into_inner());
        (p.step, p.call.clone())
    };
    let message = if join.is_panic() {
        let payload = join.into_panic();
        payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_owned())
    } else {
        join.to_string()
    };
    LawFailure {
        law: law.id,
        rules: law.rules,
        step,
        call,
        expected: Observed::Claim("a return".into()),
        actual: Observed::Claim(format!("panicked: {message}")),
        class: FailureClass::Violation,
    }
}

/// The outcome of every law a run tried, in run order.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Law id and outcome.
    pub entries: Vec<(&'static str, Outcome)>,
}

impl Report {
    /// Ids of the laws that passed.
    pub fn passed(&self) -> Vec<&'static str> {
        self.ids(|o| matches!(o, Outcome::Passed))
    }

    /// Ids of the laws that were ignored.
    pub fn ignored(&self) -> Vec<&'static str> {
        self.ids(|o| matches!(o, Outcome::Ignored { .. }))
    }

    /// Ids of the laws that failed (violations and environment failures).
    pub fn failed(&self) -> Vec<&'static str> {
        self.ids(|o| matches!(o, Outcome::Failed(_)))
    }

    /// Every failure.
    pub fn failures(&self) -> Vec<&LawFailure> {
        self.entries
            .iter()
            .filter_map(|(_, o)| o.failure())
            .collect()
    }

    /// Whether no law failed (ignored laws are not failures, and not passes either).
    pub fn is_success(&self) -> bool {
        self.failures().is_empty()
    }

    fn ids(&self, keep: impl Fn(&Outcome) -> bool) -> Vec<&'static str> {
        self.entries
            .iter()
            .filter(|(_, o)| keep(o))
            .map(|(id, _)| *id)
            .collect()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} laws: {} passed, {} failed, {} ignored",
            self.entries.len(),
            self.passed().len(),
            self.failed().len(),
            self.ignored().len()
        )?;
        for (id, outcome) in &self.entries {
            match outcome {
                Outcome::Passed => {}
                Outcome::Ignored { reason } => writeln!(f, "IGNORED {id}: {reason}")?,
                Outcome::Failed(failure) => writeln!(f, "FAILED {failure}")?,
            }
        }
        Ok(())
    }
}
