//! What each call asks of a linearization: whether it must be placed, by when, and what the
//! Model must answer (A2 for indefinite calls, E14/C4 for waits, J1 for JSON).

use procreg::ErrorKind;
use procreg_reference::Op;

use crate::history::CallRecord;

use super::matching::Expect;
use super::nows::{self, Nows, Observed};

/// Whether a call constrains the search at all.
///
/// Left out: indefinite reads (they changed nothing and told nobody anything, including
/// waits that never returned, E14) and `Storage`/`Corrupt` answers (definite, so no effect,
/// but not answers the Model gives; Z32).
pub(super) fn is_checked(call: &CallRecord) -> bool {
    match call.outcome() {
        None => call.op.is_mutation(),
        Some(Err(error)) => match error.kind() {
            ErrorKind::Unavailable => call.op.is_mutation(),
            ErrorKind::Storage | ErrorKind::Corrupt => false,
            _ => true,
        },
        Some(Ok(_)) => true,
    }
}

/// One checked call, prepared for the search.
#[derive(Clone, Debug)]
pub(super) struct Entry<'a> {
    /// The call.
    pub call: &'a CallRecord,
    /// Earliest point it may be placed at.
    pub invoke_ms: u64,
    /// It must be placed before every call invoked after this (`u64::MAX`: no deadline):
    /// its return, or for a revealed lost append the return of the read that saw it.
    pub deadline_ms: u64,
    /// Whether the linearization must contain it: definite answers, and lost appends an
    /// answer proves took effect (`reveal`); optional otherwise.
    pub required: bool,
    /// Whether it is definite and, placed with its answer, leaves the state as it is (a
    /// read, or an error: A2).
    pub keeps_state: bool,
    /// What the Model must answer.
    pub expect: Expect<'a>,
    /// The `now` values to try, in trying order.
    pub nows: Nows,
    /// Whether `nows` was cut short (a failure is then only "unknown").
    pub nows_truncated: bool,
    /// The partition-local index of the one process it touches, if one (fingerprints).
    pub key: Option<usize>,
}

/// Builds the entries of one partition's calls (`calls` in history order).
pub(super) fn entries<'a>(
    calls: impl Iterator<Item = &'a CallRecord>,
    processes: &[String],
) -> Vec<Entry<'a>> {
    let calls: Vec<&CallRecord> = calls.collect();
    let observed = Observed::collect(calls.iter().copied());
    let mut entries: Vec<Entry<'a>> = calls
        .into_iter()
        .map(|call| entry(call, &observed, processes))
        .collect();
    entries.sort_by_key(|entry| (entry.invoke_ms, entry.call.id));
    entries
}

fn entry<'a>(call: &'a CallRecord, observed: &Observed<'a>, processes: &[String]) -> Entry<'a> {
    let (required, expect) = match call.outcome() {
        Some(Ok(output)) => (true, Expect::Output(output)),
        Some(Err(error)) if error.kind() != ErrorKind::Unavailable => {
            (true, Expect::Error(error.kind()))
        }
        _ => (false, Expect::Anything),
    };
    let deadline_ms = match (required, call.return_ms) {
        (true, Some(returned)) => returned,
        _ => u64::MAX,
    };
    let (nows, nows_truncated) = nows::candidates(call, observed);
    let keeps_state = match expect {
        Expect::Output(_) => !call.op.is_mutation(),
        Expect::Error(_) => true,
        Expect::Anything => false,
    };
    Entry {
        call,
        invoke_ms: call.invoke_ms,
        deadline_ms,
        required,
        keeps_state,
        expect,
        nows,
        nows_truncated,
        key: key_of(&call.op, processes),
    }
}

/// The partition-local index of the single process a mutation touches, if it touches one.
///
/// Mutations of different processes commute, so the search fingerprints each process's
/// chain of mutations apart; multi-process mutations (transfer, session deletion) are
/// `None` and fold every chain into one.
fn key_of(op: &Op, processes: &[String]) -> Option<usize> {
    let pid = match op {
        Op::GrantHandle { process_id, .. } | Op::RevokeHandle { process_id, .. } => {
            Some(process_id.as_str())
        }
        other => other.single_process(),
    }?;
    processes.binary_search_by(|p| p.as_str().cmp(pid)).ok()
}
