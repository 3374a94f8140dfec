//! Which `now` values to try for a call (T1): one reading per call, inside its window, not
//! necessarily increasing along the linearization.
//!
//! Only six calls depend on `now` at all: `register_process`, `set_external_ref`,
//! `append_event` and `complete_process` write it as a timestamp; `claim_process_lease` and
//! `renew_process_lease` write it and also compare it with a lease's expiry (V1). So:
//!
//! | call | candidates |
//! |---|---|
//! | any other call | `invoke_ms` (the answer cannot depend on `now`) |
//! | definite `Ok` revealing the timestamp it wrote (`created_at_ms`, `updated_at_ms`, `occurred_at_ms`, `claimed_at_ms`, `expires_at_ms - ttl` of an unsaturated renew) | that value if it lies in the window; else `invoke_ms` (the answer did not write it, e.g. an idempotent re-register, so `now` is irrelevant, or nothing matches) |
//! | definite `Ok` revealing nothing (a saturated renew), or a definite error of a claim or renew | `invoke_ms` and `return_ms`: liveness is monotone in `now`, so a window's ends decide it |
//! | indefinite mutation | first the values the partition's answers point at: the `occurred_at_ms` of a seen event with its type and payload (else record update times, those no seen event explains first, Z51), `created_at_ms` of its record, `updated_at_ms` of records showing its external ref; for a claim or renew, for each `LeaseHeld` error naming its owner with an expiry no lease answer explains, `expires_at_ms - ttl` and `t - ttl + 1` for the error's call sent at `t` (its lease is then live there), and `n - ttl + 1` for each lease answer of its owner that read `now = n` (a later renew that needed the lease live). Then `invoke_ms` and `return_ms` if any; then, for a claim or renew, the first three expiries of the process's seen leases inside its window (a claim run just after the holder's expiry wins). And, chosen by the search at each state, for a claim meeting another owner's live lease, that lease's expiry ([`on_state`], Z50) |
//!
//! An indefinite call has no upper bound on `now` (A2: it may take effect after its caller
//! saw `Unavailable`), so its set is a heuristic; it is capped at [`MAX_CANDIDATES`] values,
//! and a search that fails with a capped set answers "unknown", never "not linearizable".

use std::collections::{BTreeMap, BTreeSet};

use procreg::{
    ErrorKind, MAX_TIMESTAMP_MS, PluginError, ProcessEvent, ProcessExternalRef, ProcessLease,
    ProcessRecord,
};
use procreg_reference::{Model, Op, OpOutput};
use serde_json::Value;

use crate::history::CallRecord;

use super::entry::Entry;

/// Most `now` candidates tried for one indefinite call.
pub(super) const MAX_CANDIDATES: usize = 16;

/// Most lease expiries tried as the `now` of one lost claim or renew.
const EXPIRY_CANDIDATES: usize = 3;

/// The candidates for `call`, in trying order, and whether the list was capped.
pub(super) fn candidates(call: &CallRecord, observed: &Observed<'_>) -> (Nows, bool) {
    let invoke = call.invoke_ms;
    if !depends_on_now(&call.op) {
        return (Nows::one(invoke), false);
    }
    let window = |returned: u64| {
        if returned > invoke {
            Nows::two(invoke, returned)
        } else {
            Nows::one(invoke)
        }
    };
    match (call.outcome(), call.return_ms) {
        (Some(Ok(output)), Some(returned)) => match revealed_now(&call.op, output) {
            Some(now) if (invoke..=returned).contains(&now) => (Nows::one(now), false),
            Some(_) => (Nows::one(invoke), false),
            None => (window(returned), false),
        },
        (Some(Err(error)), Some(returned)) if error.kind() != ErrorKind::Unavailable => {
            (window(returned), false)
        }
        _ => {
            let (values, truncated) = indefinite(call, observed);
            (Nows::Listed(values), truncated)
        }
    }
}

/// The `now` candidates of one call, in trying order. Every definite call has one or two,
/// kept inline: a `Vec` each cost an allocation per checked call of every seed.
#[derive(Clone, Debug)]
pub(super) enum Nows {
    /// The first `.1` values of `.0`.
    Inline([u64; 2], usize),
    /// An indefinite call's list.
    Listed(Vec<u64>),
}

impl Nows {
    fn one(now: u64) -> Self {
        Nows::Inline([now, now], 1)
    }

    fn two(first: u64, second: u64) -> Self {
        Nows::Inline([first, second], 2)
    }
}

impl std::ops::Deref for Nows {
    type Target = [u64];

    fn deref(&self) -> &[u64] {
        match self {
            Nows::Inline(values, len) => &values[..*len],
            Nows::Listed(values) => values,
        }
    }
}

/// The `now`, beyond `entry`'s own candidates, at which the search state `model` makes an
/// indefinite claim start to succeed: the expiry of the live lease of another owner it meets
/// at its invocation (Z50).
///
/// The static candidates cannot know it: that lease may have been made by another lost call,
/// and a claim that took effect at the earliest instant it could hands out the lease that
/// expires first, the one later claims most easily get past. Definite calls need nothing
/// here (their window's ends decide, see the table).
pub(super) fn on_state(entry: &Entry, model: &Model) -> Option<u64> {
    if entry.required {
        return None;
    }
    let Op::ClaimLease {
        process_id,
        owner_id,
        ..
    } = &*entry.call.op
    else {
        return None;
    };
    let held = model.current_lease(process_id)?;
    let turning = held.expires_at_ms;
    let met = held.owner_id != *owner_id && held.is_live_at(entry.invoke_ms);
    (met && turning < MAX_TIMESTAMP_MS).then_some(turning)
}

/// Whether the op's answer or effect can depend on `now`.
fn depends_on_now(op: &Op) -> bool {
    matches!(
        op,
        Op::Register { .. }
            | Op::SetExternalRef { .. }
            | Op::AppendEvent { .. }
            | Op::CompleteProcess { .. }
            | Op::ClaimLease { .. }
            | Op::RenewLease { .. }
    )
}

/// The `now` an `Ok` answer shows it wrote, if it shows one.
fn revealed_now(op: &Op, output: &OpOutput) -> Option<u64> {
    match (op, output) {
        (Op::Register { .. }, OpOutput::Record(record)) => Some(record.created_at_ms),
        (Op::SetExternalRef { .. } | Op::CompleteProcess { .. }, OpOutput::Record(record)) => {
            Some(record.updated_at_ms)
        }
        (Op::AppendEvent { .. }, OpOutput::Append(result)) => Some(result.event.occurred_at_ms),
        (Op::ClaimLease { .. }, OpOutput::Lease(lease)) => Some(lease.claimed_at_ms),
        (Op::RenewLease { lease_ttl_ms, .. }, OpOutput::Lease(lease))
            if lease.expires_at_ms < MAX_TIMESTAMP_MS =>
        {
            // An expiry below the TTL cannot come from any `now`: nothing in the window.
            Some(
                lease
                    .expires_at_ms
                    .checked_sub(*lease_ttl_ms)
                    .unwrap_or(u64::MAX),
            )
        }
        _ => None,
    }
}

/// Candidates for an indefinite mutation (see the module docs): what the answers point at
/// first (most often right), then the window's ends.
fn indefinite(call: &CallRecord, observed: &Observed<'_>) -> (Vec<u64>, bool) {
    let invoke = call.invoke_ms;
    let pid = call.op.single_process().unwrap_or_default();
    let mut values = observed
        .by_process
        .get(pid)
        .map(|seen| seen.suggestions(&call.op))
        .unwrap_or_default();
    values.extend(std::iter::once(invoke).chain(call.return_ms));
    if let (Some(seen), Op::ClaimLease { .. } | Op::RenewLease { .. }) =
        (observed.by_process.get(pid), &*call.op)
    {
        values.extend(seen.expiries_after(invoke, call.return_ms));
    }
    let mut tried = BTreeSet::new();
    values.retain(|&now| now >= invoke && tried.insert(now));
    let truncated = values.len() > MAX_CANDIDATES;
    values.truncate(MAX_CANDIDATES);
    (values, truncated)
}

/// Timestamps a partition's definite answers revealed, per process. Borrows from the
/// history it reads (a partition's calls), copying nothing.
#[derive(Default)]
pub(super) struct Observed<'a> {
    by_process: BTreeMap<&'a str, Seen<'a>>,
}

#[derive(Default)]
struct Seen<'a> {
    created: Vec<u64>,
    /// (updated_at_ms, external ref) of every record seen
    updated: Vec<(u64, Option<&'a ProcessExternalRef>)>,
    events: Vec<&'a ProcessEvent>,
    leases: Vec<&'a ProcessLease>,
    /// (holder owner id, expires_at_ms, invoke_ms of the call told so)
    held: Vec<(&'a str, u64, u64)>,
}

impl<'a> Observed<'a> {
    /// Collects what the definite answers among `calls` reveal.
    pub(super) fn collect(calls: impl Iterator<Item = &'a CallRecord>) -> Self {
        let mut observed = Observed::default();
        for call in calls {
            match call.outcome() {
                Some(Ok(output)) => observed.add_output(output),
                Some(Err(PluginError::LeaseHeld {
                    process_id,
                    holder_owner_id,
                    expires_at_ms,
                })) => observed.seen(process_id).held.push((
                    holder_owner_id.as_str(),
                    *expires_at_ms,
                    call.invoke_ms,
                )),
                _ => {}
            }
        }
        observed
    }

    fn seen(&mut self, pid: &'a str) -> &mut Seen<'a> {
        self.by_process.entry(pid).or_default()
    }

    fn add_record(&mut self, record: &'a ProcessRecord) {
        let seen = self.seen(&record.id);
        seen.created.push(record.created_at_ms);
        seen.updated
            .push((record.updated_at_ms, record.external_ref.as_ref()));
    }

    fn add_event(&mut self, event: &'a ProcessEvent) {
        self.seen(&event.process_id).events.push(event);
    }

    fn add_output(&mut self, output: &'a OpOutput) {
        match output {
            OpOutput::Record(record) | OpOutput::MaybeRecord(Some(record)) => {
                self.add_record(record)
            }
            OpOutput::Records(records) => records.iter().for_each(|r| self.add_record(r)),
            OpOutput::GrantEntries(entries) => {
                entries.iter().for_each(|e| self.add_record(&e.record))
            }
            OpOutput::Append(result) => self.add_event(&result.event),
            OpOutput::Event(event) => self.add_event(event),
            OpOutput::Events(events) => events.iter().for_each(|e| self.add_event(e)),
            OpOutput::Lease(lease) => self.seen(&lease.process_id).leases.push(lease),
            _ => {}
        }
    }
}

impl Seen<'_> {
    /// Values of `now` that would make `op` write something the partition saw.
    fn suggestions(&self, op: &Op) -> Vec<u64> {
        match op {
            Op::Register { .. } => self.created.clone(),
            Op::SetExternalRef { external_ref, .. } => self
                .updated
                .iter()
                .filter(|(_, seen)| {
                    seen.as_ref().is_some_and(|seen| {
                        seen.backend == external_ref.backend && seen.id == external_ref.id
                    })
                })
                .map(|&(at, _)| at)
                .collect(),
            Op::AppendEvent { request, .. } => {
                self.event_times(&request.event_type, |payload| *payload == request.payload)
            }
            Op::CompleteProcess { output, .. } => {
                let kind = output.terminal_state().core_event_type();
                let output = serde_json::to_value(output).ok();
                self.event_times(kind, |payload| {
                    payload.get("await_output") == output.as_ref()
                })
            }
            Op::ClaimLease {
                owner_id,
                lease_ttl_ms,
                ..
            } => self.lease_times(owner_id, *lease_ttl_ms),
            Op::RenewLease {
                lease,
                lease_ttl_ms,
            } => self.lease_times(&lease.owner_id, *lease_ttl_ms),
            _ => Vec::new(),
        }
    }

    /// For a lost claim or renew: the first [`EXPIRY_CANDIDATES`] expiries of leases seen on
    /// the process that fall in the call's window (from `invoke`, up to its return if it
    /// returned). A claim's answer only changes where a lease expires (live iff `expires_at >
    /// now`), so one sent just before the holder's expiry and run just after it takes the lease.
    fn expiries_after(&self, invoke: u64, returned: Option<u64>) -> Vec<u64> {
        let expiries: BTreeSet<u64> = self
            .leases
            .iter()
            .map(|l| l.expires_at_ms)
            .chain(self.held.iter().map(|(_, expires, _)| *expires))
            .filter(|&at| at >= invoke && returned.is_none_or(|r| at <= r))
            .collect();
        expiries.into_iter().take(EXPIRY_CANDIDATES).collect()
    }

    /// When an event of `event_type` with a payload passing `same` was seen to occur; if
    /// none was, the record update times (the event may be unread, its time visible only as
    /// a record's `updated_at_ms`): first those no seen event or registration explains, then
    /// the others, since one millisecond may hold several events (Z51).
    fn event_times(&self, event_type: &str, same: impl Fn(&Value) -> bool) -> Vec<u64> {
        let seen: Vec<u64> = self
            .events
            .iter()
            .filter(|e| e.event_type == event_type && same(&e.payload))
            .map(|e| e.occurred_at_ms)
            .collect();
        if !seen.is_empty() {
            return seen;
        }
        let explained = |at: u64| {
            self.created.contains(&at) || self.events.iter().any(|e| e.occurred_at_ms == at)
        };
        let (mut first, then): (Vec<u64>, Vec<u64>) = self
            .updated
            .iter()
            .map(|&(at, _)| at)
            .partition(|&at| !explained(at));
        first.extend(then);
        first
    }

    /// For a lost claim or renew of `owner`: the starts that give the expiry a `LeaseHeld`
    /// error naming `owner` reported, and the latest starts that make the lease live when
    /// that error's call was sent, for each such error no lease answer explains (a lease of
    /// `owner` with that expiry was never handed out, so a lost call must have made it).
    fn lease_times(&self, owner: &str, ttl: u64) -> Vec<u64> {
        let start_for = |expires: u64| {
            (expires < MAX_TIMESTAMP_MS)
                .then(|| expires.checked_sub(ttl))
                .flatten()
        };
        let explained = |expires: u64| {
            self.leases
                .iter()
                .any(|l| l.owner_id == owner && l.expires_at_ms == expires)
        };
        let unexplained = || {
            self.held
                .iter()
                .filter(|(holder, expires, _)| *holder == owner && !explained(*expires))
        };
        // The reported expiries first (exact), then the looser bounds.
        let mut values: Vec<u64> = unexplained()
            .filter_map(|(_, expires, _)| start_for(*expires))
            .collect();
        values.sort_unstable();
        let mut live: Vec<u64> = unexplained()
            // Live when that error's call was sent: now + ttl > told_at.
            .filter_map(|(_, _, told_at)| told_at.saturating_add(1).checked_sub(ttl))
            .collect();
        // Live when a later renew of `owner` read its clock: a lease answer of `owner` at
        // `now` (its expiry less the TTL) needs the lost call to start after `now - ttl`.
        live.extend(
            self.leases
                .iter()
                .filter(|l| l.owner_id == owner)
                .filter_map(|l| start_for(l.expires_at_ms))
                .filter_map(|now| now.saturating_add(1).checked_sub(ttl)),
        );
        live.sort_unstable();
        values.extend(live);
        values
    }
}
