//! The history of a simulated run: every call a client made, with its arguments, its outcome
//! and its virtual invoke and return times.
//!
//! Why it exists: the checkers (online invariants, linearizability against the Model,
//! durability across crashes) and the failure report's timeline all read this one record, so a
//! failure can always be explained from what the clients saw.

use std::sync::Arc;

use procreg::{ErrorKind, PluginError};
use procreg_reference::{Op, OpOutput};
use serde::{Deserialize, Serialize};

/// What a call returned, shared by the client that got it and the history that records it:
/// an answer (a page of records, an event) is built once and never copied to be kept.
pub type Outcome = Arc<Result<OpOutput, PluginError>>;

/// Index of a call in its history.
pub type CallId = usize;

/// One call as a client saw it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    /// Position in the history (invocation order).
    pub id: CallId,
    /// The simulated client that made the call (`worker-2`, `client-a`).
    pub client: String,
    /// The call and its arguments (shared with the client that may resend it).
    pub op: Arc<Op>,
    /// Virtual time at invocation.
    pub invoke_ms: u64,
    /// Virtual time at return; `None` if the call never returned (cancelled by a crash of the
    /// client or of the registry, or still blocked at the end of the run).
    pub return_ms: Option<u64>,
    /// What the client got back, once it returned ([`CallRecord::outcome`] borrows it).
    pub outcome: Option<Outcome>,
    /// Which incarnation of the registry executed the call (bumped at every registry crash); the
    /// one it was sent to when it never reached one.
    pub epoch: u32,
}

impl CallRecord {
    /// What the client got back, once it returned.
    pub fn outcome(&self) -> Option<&Result<OpOutput, PluginError>> {
        self.outcome.as_deref()
    }

    /// Whether the call may or may not have taken effect: it never returned, or returned
    /// `Unavailable` (A2). The linearizability checker treats such calls as optional.
    pub fn is_indefinite(&self) -> bool {
        match self.outcome() {
            None => true,
            Some(Err(e)) => e.kind() == ErrorKind::Unavailable,
            Some(Ok(_)) => false,
        }
    }

    /// Whether the call returned a definite error (took no effect, A2).
    pub fn is_definite_error(&self) -> bool {
        matches!(self.outcome(), Some(Err(e)) if e.kind() != ErrorKind::Unavailable)
    }
}

/// An append-only list of calls.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    calls: Vec<CallRecord>,
}

impl History {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty history with room for `calls` calls (a seed's history is a few hundred
    /// calls: growing to that size call by call copies it a handful of times).
    pub fn with_capacity(calls: usize) -> Self {
        Self {
            calls: Vec::with_capacity(calls),
        }
    }

    /// Records an invocation; returns its id for [`History::complete`].
    pub fn invoke(
        &mut self,
        client: &str,
        op: impl Into<Arc<Op>>,
        invoke_ms: u64,
        epoch: u32,
    ) -> CallId {
        let id = self.calls.len();
        self.calls.push(CallRecord {
            id,
            client: client.to_owned(),
            op: op.into(),
            invoke_ms,
            return_ms: None,
            outcome: None,
            epoch,
        });
        id
    }

    /// Records the return of call `id` (an owned result or an [`Outcome`] shared with the
    /// client). Completing an unknown or already completed call is a bug in the simulator and
    /// panics.
    pub fn complete(&mut self, id: CallId, outcome: impl Into<Outcome>, return_ms: u64) {
        let call = &mut self.calls[id];
        assert!(call.outcome.is_none(), "call {id} completed twice");
        assert!(
            return_ms >= call.invoke_ms,
            "call {id} returned before it was invoked"
        );
        call.outcome = Some(outcome.into());
        call.return_ms = Some(return_ms);
    }

    /// Records that call `id` was executed by registry incarnation `epoch` (it may have been
    /// sent while an earlier one was up).
    pub fn set_epoch(&mut self, id: CallId, epoch: u32) {
        self.calls[id].epoch = epoch;
    }

    /// Every call, in invocation order.
    pub fn calls(&self) -> &[CallRecord] {
        &self.calls
    }

    /// Number of calls.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// Whether no call was made.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }
}
