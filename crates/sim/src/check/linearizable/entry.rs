//! What each call asks of a linearization: whether it must be placed, by when, and what the
//! Model must answer (A2 for indefinite calls, E14/C4 for waits, J1 for JSON).

use procreg::{ErrorKind, PluginError};
use procreg_reference::{Op, OpOutput};

use crate::history::CallRecord;

use super::nows::{self, Observed};

/// Whether a call constrains the search at all.
///
/// Left out: indefinite reads (they changed nothing and told nobody anything, including
/// waits that never returned, E14) and `Storage`/`Corrupt` answers (definite, so no effect,
/// but not answers the Model gives; Z-lin-2).
pub(super) fn is_checked(call: &CallRecord) -> bool {
    match &call.outcome {
        None => call.op.is_mutation(),
        Some(Err(error)) => match error.kind() {
            ErrorKind::Unavailable => call.op.is_mutation(),
            ErrorKind::Storage | ErrorKind::Corrupt => false,
            _ => true,
        },
        Some(Ok(_)) => true,
    }
}

/// What the Model must answer for a placed call to match.
#[derive(Clone, Copy, Debug)]
pub(super) enum Expect<'a> {
    /// Exactly this output (leases up to token renaming, JSON per J1).
    Output(&'a OpOutput),
    /// An error of this kind.
    Error(ErrorKind),
    /// Anything: the caller never learnt the answer (A2).
    Anything,
}

impl Expect<'_> {
    /// Whether the Model's answer `got` matches.
    pub(super) fn matches(&self, got: &Result<OpOutput, PluginError>) -> bool {
        match (self, got) {
            (Expect::Anything, _) => true,
            (Expect::Error(kind), Err(error)) => error.kind() == *kind,
            (Expect::Output(observed), Ok(model)) => outputs_match(observed, model),
            _ => false,
        }
    }
}

/// Whether an observed output equals the Model's.
///
/// Leases compare every field but the token (tokens are the backend's choice; their
/// one-to-one correspondence is checked once per partition, Z-lin-1). `Pending` never
/// matches: a real wait does not return it. Outputs holding JSON compare by canonical text
/// as well (J1: `0.0` and `-0.0` differ although `serde_json` calls them equal).
pub(super) fn outputs_match(observed: &OpOutput, model: &OpOutput) -> bool {
    match (observed, model) {
        (OpOutput::Pending, _) | (_, OpOutput::Pending) => false,
        (OpOutput::Lease(seen), OpOutput::Lease(applied)) => {
            seen.process_id == applied.process_id
                && seen.owner_id == applied.owner_id
                && seen.fencing_token == applied.fencing_token
                && seen.claimed_at_ms == applied.claimed_at_ms
                && seen.expires_at_ms == applied.expires_at_ms
        }
        _ => observed == model && (!carries_json(observed) || same_canonical(observed, model)),
    }
}

/// Whether an output holds caller JSON (whose `PartialEq` is looser than J1).
fn carries_json(output: &OpOutput) -> bool {
    !matches!(
        output,
        OpOutput::Unit
            | OpOutput::Bool(_)
            | OpOutput::Lease(_)
            | OpOutput::Grant(_)
            | OpOutput::Grants(_)
            | OpOutput::DeleteReport(_)
            | OpOutput::MaybeRecord(None)
    )
}

fn same_canonical(a: &OpOutput, b: &OpOutput) -> bool {
    procreg::canonical::canonical_json_of(a) == procreg::canonical::canonical_json_of(b)
}

/// One checked call, prepared for the search.
#[derive(Clone, Debug)]
pub(super) struct Entry<'a> {
    /// The call.
    pub call: &'a CallRecord,
    /// Earliest point it may be placed at.
    pub invoke_ms: u64,
    /// It must be placed before every call invoked after this (`u64::MAX`: no deadline).
    pub deadline_ms: u64,
    /// Whether the linearization must contain it (definite answers); optional otherwise.
    pub required: bool,
    /// What the Model must answer.
    pub expect: Expect<'a>,
    /// The `now` values to try, ascending.
    pub nows: Vec<u64>,
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

fn entry<'a>(call: &'a CallRecord, observed: &Observed, processes: &[String]) -> Entry<'a> {
    let (required, expect) = match &call.outcome {
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
    Entry {
        call,
        invoke_ms: call.invoke_ms,
        deadline_ms,
        required,
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
