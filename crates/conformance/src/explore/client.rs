//! What every workload's clients share: calling through the link with the retries a real
//! client makes, noting answers the contract rules out, and dying at a planned instant.
//!
//! A client reaches the registry through a [`Transport`]: the world's [`FaultyLink`] here, or
//! madsim's simulated network in cluster mode (`procreg-madsim`), so one protocol's code runs
//! in both.
//!
//! Why it exists: a real client retries an idempotent call after `Unavailable` (A2: the call
//! may or may not have happened, and an idempotent retry is harmless: R4, E2, C2, H1, H2, L5),
//! and never retries one that is not (transfer H7, session deletion S6). Workloads state which
//! by choosing [`Client::call`] or [`Client::retry`]. Answers no correct registry can give in
//! a workload (e.g. `UnknownProcess` for a process registered before the client started) are
//! noted as `A1` violations rather than ignored.

use std::cell::RefCell;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;

use procreg::{ErrorKind, PluginError};
use procreg_reference::{Op, OpOutput};
use procreg_sim::FaultyLink;
use procreg_sim::check::Violation;
use procreg_sim::executor::{now_ms, sleep};
use procreg_sim::history::Outcome;

/// Pause before retrying after `Unavailable`, virtual ms.
pub const RETRY_BACKOFF_MS: u64 = 7;

/// A future a [`Transport`] returns (single-threaded, like both simulators).
pub type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// How a client reaches the registry and reads time: the world's [`FaultyLink`] and virtual
/// clock, or another simulator's network and clock.
pub trait Transport {
    /// Sends `op` from `client` and resolves to what came back (`Unavailable` when it was
    /// lost). The transport records the call in its history, sharing the answer with it.
    fn call<'a>(&'a self, client: &'a str, op: &'a Arc<Op>) -> LocalFuture<'a, Outcome>;

    /// Virtual now, ms.
    fn now_ms(&self) -> u64;

    /// Resolves once `delay_ms` of virtual time passed.
    fn sleep(&self, delay_ms: u64) -> LocalFuture<'static, ()>;
}

impl Transport for FaultyLink {
    fn call<'a>(&'a self, client: &'a str, op: &'a Arc<Op>) -> LocalFuture<'a, Outcome> {
        Box::pin(FaultyLink::call_ref(self, client, op))
    }

    fn now_ms(&self) -> u64 {
        now_ms().unwrap_or(0)
    }

    fn sleep(&self, delay_ms: u64) -> LocalFuture<'static, ()> {
        Box::pin(sleep(delay_ms))
    }
}

/// Violations noted by clients while the run goes on. Clones share one list.
#[derive(Clone, Debug, Default)]
pub struct Notes {
    list: Rc<RefCell<Vec<Violation>>>,
}

impl Notes {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Notes a violation of `rule`.
    pub fn push(&self, rule: &str, message: String) {
        self.list.borrow_mut().push(Violation {
            rule: rule.to_owned(),
            call: None,
            message,
        });
    }

    /// Everything noted so far (the list is left empty).
    pub fn take(&self) -> Vec<Violation> {
        std::mem::take(&mut *self.list.borrow_mut())
    }
}

/// One simulated client: a name on the link, a deadline and a place to note surprises.
#[derive(Clone)]
pub struct Client {
    link: Rc<dyn Transport>,
    name: String,
    deadline_ms: u64,
    notes: Notes,
}

impl Client {
    /// A client called `name` (the link applies the plan's faults for that name).
    pub fn new(
        link: &FaultyLink,
        name: impl Into<String>,
        deadline_ms: u64,
        notes: &Notes,
    ) -> Self {
        Self::over(Rc::new(link.clone()), name, deadline_ms, notes)
    }

    /// A client called `name` reaching the registry through `transport`.
    pub fn over(
        transport: Rc<dyn Transport>,
        name: impl Into<String>,
        deadline_ms: u64,
        notes: &Notes,
    ) -> Self {
        Self {
            link: transport,
            name: name.into(),
            deadline_ms,
            notes: notes.clone(),
        }
    }

    /// The client's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Virtual now (the world's clock), ms.
    pub fn now(&self) -> u64 {
        self.link.now_ms()
    }

    /// Sleeps `delay_ms` of virtual time.
    pub async fn sleep(&self, delay_ms: u64) {
        self.link.sleep(delay_ms).await;
    }

    /// Whether the settle phase is over: start no new work.
    pub fn past_deadline(&self) -> bool {
        self.now() >= self.deadline_ms
    }

    /// Sends `op` once: what the registry or the link answered.
    pub async fn call(&self, op: impl Into<Arc<Op>>) -> Outcome {
        self.link.call(&self.name, &op.into()).await
    }

    /// Sends an idempotent `op`, resending it after `Unavailable` until it gets a definite
    /// answer or the deadline passes: that answer, or `Unavailable` once the deadline passed.
    pub async fn retry(&self, op: impl Into<Arc<Op>>) -> Outcome {
        let op = op.into();
        loop {
            let answer = self.link.call(&self.name, &op).await;
            if is_unavailable(&answer) && !self.past_deadline() {
                self.sleep(RETRY_BACKOFF_MS).await;
            } else {
                return answer;
            }
        }
    }

    /// Notes that `op` got an answer the contract rules out in this workload (A1: no
    /// linearization of the workload's calls gives it).
    pub fn unexpected(&self, op: &Op, got: &Result<OpOutput, PluginError>) {
        let got = match got {
            Ok(output) => format!("{output:?}"),
            Err(e) => format!("{}: {e}", e.kind().as_str()),
        };
        self.notes.push(
            "A1",
            format!(
                "{} got an answer no correct registry gives here: {} -> {got}",
                self.name,
                crate::explore::timeline::describe_op(op)
            ),
        );
    }

    /// The shared notes.
    pub fn notes(&self) -> &Notes {
        &self.notes
    }
}

/// Whether `result` is `Unavailable`.
pub fn is_unavailable<T>(result: &Result<T, PluginError>) -> bool {
    matches!(result, Err(e) if e.kind() == ErrorKind::Unavailable)
}

/// The error kind of `result`, if it is an error.
pub fn error_kind<T>(result: &Result<T, PluginError>) -> Option<ErrorKind> {
    result.as_ref().err().map(PluginError::kind)
}

/// Runs `work` until it finishes or virtual time reaches `crash_at_ms`, whichever comes
/// first; at the crash `work` is dropped at whatever await it is in (every call it had in
/// flight is abandoned, as when a worker process dies). Returns `true` if it crashed.
pub async fn until_crash(work: impl Future<Output = ()>, crash_at_ms: Option<u64>) -> bool {
    let Some(at) = crash_at_ms else {
        work.await;
        return false;
    };
    let now = now_ms().unwrap_or(0);
    let mut work = pin!(work);
    let mut crash = pin!(sleep(at.saturating_sub(now)));
    poll_fn(|cx| {
        if work.as_mut().poll(cx).is_ready() {
            return Poll::Ready(false);
        }
        if crash.as_mut().poll(cx).is_ready() {
            return Poll::Ready(true);
        }
        Poll::Pending
    })
    .await
}
