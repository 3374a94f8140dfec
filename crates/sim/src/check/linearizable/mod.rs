//! Linearizability of one registry epoch against the [`Model`] (A1 with T1, A2, E14, C4).
//!
//! Why it exists: the online invariants judge a few properties call by call; only a search can
//! say whether *some* order of the calls explains every answer. A history is linearizable when
//! some total order of its calls, consistent with real time (a call that returned before
//! another was invoked comes first), makes each call, applied to the Model at its own `now`,
//! give the observed answer. `now` lies in the call's window `[invoke_ms, return_ms]` and need
//! not increase along the order (T1).
//!
//! What the checker decides, call by call:
//! - **Definite answers** must match: `Ok` outputs exactly (J1 for JSON), errors by
//!   [`ErrorKind`](procreg::ErrorKind) only, never by message or payload.
//! - **Indefinite calls** (never returned, or `Unavailable`, A2) are optional: a mutation may
//!   take effect anywhere after its invocation, with any answer, or not at all; a read that
//!   told nobody anything is dropped.
//! - **Blocking waits** (`wait_event_after`, `await_process`) that returned are reads placed
//!   no later than their return: the Model must give that answer there ([`OpOutput::Pending`]
//!   never matches). A wait that never returned imposes nothing (E14, C4).
//! - **`Storage` and `Corrupt` answers** are definite (no effect) but not the Model's to give,
//!   so such calls are left out; the durability checks and laws judge them (Z32).
//! - **Lease tokens** are the backend's to choose (L2 only forbids reuse), so lease outputs
//!   match up to a renaming of tokens that is one-to-one per process and fencing token; a
//!   presented token is translated to the Model's token of the same lease (Z31).
//! - **`now`** is bound from the timestamps an answer reveals (`claimed_at_ms` of a claim,
//!   `occurred_at_ms` of a new event, `updated_at_ms`/`created_at_ms` of a written record,
//!   `expires_at_ms - ttl` of an unsaturated renew); otherwise it is searched over a small
//!   candidate set (see `nows`). A call that changed state read its clock before its write
//!   became visible, so its `now` is no later than the return of any call ordered after it
//!   (Z33; this is what keeps a lost call from being given a far-future `now`).
//! - **Real time** is strict: a call that returned at `t` precedes one invoked after `t`;
//!   one invoked at `t` itself is concurrent with it (Z34: one virtual millisecond holds
//!   many events whose order the history does not record).
//!
//! The search (`search`, `choices`) is Wing & Gong's with Lowe's just-in-time pruning and a
//! memo of (placed set, state fingerprint, frontier) as in Porcupine (`fingerprint`), split
//! into independent partitions (`partition`): per process when every call touches one
//! process (P-compositionality), otherwise per connected component of the processes each
//! call can touch, or whole when a call reads every process. Lost appends an answer proves
//! took effect become required (`reveal`). A search that runs out of its [`SearchBudget`]
//! says [`Verdict::Unknown`], never a guess; so does a failed search that had to cap some
//! lost call's `now` candidates.
//!
//! What it leaves alone: crashes (one call takes the calls of ONE registry epoch plus the
//! Model state at that epoch's start; the durability checker relates epochs), liveness, and
//! everything the online invariants already name precisely.
//!
//! ```
//! use procreg::{PluginError, ProcessRegistration, ProcessScope};
//! use procreg_reference::{Model, Op};
//! use procreg_sim::History;
//! use procreg_sim::check::linearizable::{SearchBudget, check};
//!
//! let registration = ProcessRegistration::new("p1", ProcessScope::session("s"), "host");
//! let claim = |owner: &str| Op::ClaimLease {
//!     process_id: "p1".into(),
//!     owner_id: owner.into(),
//!     lease_ttl_ms: 1_000,
//! };
//! let mut model = Model::new();
//! let mut history = History::new();
//! let id = history.invoke("a", Op::Register { registration: registration.clone() }, 1, 0);
//! history.complete(id, model.apply(&Op::Register { registration }, 1), 1);
//! // Two overlapping claims: one wins, the other is told the lease is held.
//! let a = history.invoke("a", claim("a"), 10, 0);
//! let b = history.invoke("b", claim("b"), 11, 0);
//! history.complete(b, model.apply(&claim("b"), 12), 14);
//! history.complete(a, model.apply(&claim("a"), 13), 15);
//! let verdict = check(history.calls(), &Model::new(), SearchBudget::default());
//! assert!(verdict.is_linearizable(), "{verdict}");
//! ```

mod choices;
mod entry;
mod explain;
mod fingerprint;
mod matching;
mod nows;
mod partition;
mod reveal;
mod search;
#[cfg(test)]
mod tests;
mod tokens;
mod verdict;

use procreg_reference::Model;

use crate::history::{CallRecord, History};

pub use verdict::{
    LinearizedCall, NonLinearizable, PartitionOutcome, PartitionStrategy, PartitionSummary,
    Partitioning, Verdict,
};

/// How much searching a check may do before it answers [`Verdict::Unknown`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SearchBudget {
    /// Candidate states each partition's search may compute (one per application of a call
    /// to the Model at a `now`, whether it fits or not). Default: 500,000, a few seconds of
    /// release-build search for one hard partition (5-25 µs a state, more for whole-history
    /// partitions, whose Model clones are bigger); linearizable simulator histories of
    /// hundreds of calls take a few thousand.
    pub max_states: u64,
}

impl Default for SearchBudget {
    fn default() -> Self {
        Self {
            max_states: 500_000,
        }
    }
}

impl SearchBudget {
    /// A budget of `max_states` states per partition.
    pub fn states(max_states: u64) -> Self {
        Self { max_states }
    }
}

/// Checks that `calls`, all sent to one registry epoch, are linearizable against the Model
/// starting from `initial` (A1).
///
/// `initial` is the Model state when the epoch began: [`Model::new`] for the first epoch, or
/// the state rebuilt from the durable calls of earlier ones. Lease tokens presented in
/// `calls` are translated through the leases `calls` themselves reveal; use [`check_epoch`]
/// when calls may present leases handed out in earlier epochs.
///
/// Calls from more than one epoch give [`Verdict::Unknown`] (the durability checker, not
/// this one, relates epochs).
pub fn check(calls: &[CallRecord], initial: &Model, budget: SearchBudget) -> Verdict {
    let calls: Vec<&CallRecord> = calls.iter().collect();
    check_calls(&calls, &calls, initial, budget)
}

/// [`check`] over borrowed calls, for a caller that picks one epoch's calls out of a longer
/// history: nothing is copied.
pub fn check_borrowed(calls: &[&CallRecord], initial: &Model, budget: SearchBudget) -> Verdict {
    check_calls(calls, calls, initial, budget)
}

/// Checks the calls of `epoch` in `history`, starting from `initial` (the Model at that
/// epoch's start); leases revealed in earlier epochs translate tokens presented in this one.
pub fn check_epoch(
    history: &History,
    epoch: u32,
    initial: &Model,
    budget: SearchBudget,
) -> Verdict {
    // References, not clones: a seed's history is read many times and copied never.
    let known: Vec<&CallRecord> = history
        .calls()
        .iter()
        .filter(|call| call.epoch <= epoch)
        .collect();
    let calls: Vec<&CallRecord> = known
        .iter()
        .copied()
        .filter(|call| call.epoch == epoch)
        .collect();
    check_calls(&calls, &known, initial, budget)
}

/// [`check`] with the calls whose leases translate presented tokens given apart.
fn check_calls(
    calls: &[&CallRecord],
    known: &[&CallRecord],
    initial: &Model,
    budget: SearchBudget,
) -> Verdict {
    if let Some(reason) = mixed_epochs(calls) {
        return Verdict::Unknown {
            partitions: Partitioning::default(),
            reason,
            states_explored: 0,
        };
    }
    let plan = partition::plan(calls, initial);
    let tokens = tokens::LeaseTokens::learn(known.iter().copied());
    let mut summaries = Vec::with_capacity(plan.parts.len());
    let mut failure = None;
    for part in &plan.parts {
        let outcome = search::check_partition(part, calls, &tokens, initial, budget);
        let (summary, found) = verdict::summarize(part, outcome);
        summaries.push(summary);
        if failure.is_none() {
            failure = found;
        }
    }
    verdict::combine(plan.strategy, summaries, failure)
}

/// Why `calls` cannot be checked as one epoch, if they span several.
fn mixed_epochs(calls: &[&CallRecord]) -> Option<String> {
    let first = calls.first()?.epoch;
    let other = calls.iter().find(|call| call.epoch != first)?;
    Some(format!(
        "calls span registry epochs {first} and {} (call #{}); check one epoch at a time",
        other.epoch, other.id
    ))
}
