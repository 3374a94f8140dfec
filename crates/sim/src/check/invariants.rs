//! End-to-end safety properties judged from the history alone (W1-W3 of CONTRACT.md), plus
//! dense event sequences (E8) as seen by readers.
//!
//! Why it exists: the linearizability checker needs a search and a budget; these properties
//! need neither, hold for any backend, and name the exact call that broke them. They read only
//! what clients were told (successful results, registry timestamps); indefinite calls
//! (`Unavailable`, never returned) assert nothing.
//!
//! What each check verifies, and what it leaves alone:
//! - **W1** no two distinct terminal events of one process were ever reported (appends,
//!   completions seen through `events_after`, reads of the log).
//! - **W2** no two leases of one process held by different owners were live at one instant by
//!   the registry's own timestamps: a claim by another owner before the earlier lease's expiry
//!   (as extended by renews answered before that claim) is a violation unless a release of the
//!   earlier lease returned before the claim was sent. A renew that succeeded after a later
//!   claim superseded its lease is a violation too (L3).
//! - **W3** fencing tokens of one process increase strictly in real-time order (a claim
//!   answered before another was sent has the smaller token), and no token is handed to two
//!   different leases. Concurrent claims are left to the linearizability checker.
//! - **E8** every `events_after(p, 0)` read is dense from 1.
//!
//! W4 (the fenced resource) is checked by [`crate::resource`]; W5 (liveness) by the explorer.

use std::collections::BTreeMap;

use procreg::{ProcessEvent, ProcessLease};
use procreg_reference::{Op, OpOutput};
use serde::{Deserialize, Serialize};

use crate::history::{CallId, CallRecord, History};

/// A broken rule, with the call that shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The rule id (`W2`, `E8`, ...).
    pub rule: String,
    /// The call that exposed it.
    pub call: Option<CallId>,
    /// What was expected and what was seen, for a person.
    pub message: String,
}

impl Violation {
    fn at(rule: &str, call: CallId, message: String) -> Self {
        Self {
            rule: rule.to_owned(),
            call: Some(call),
            message,
        }
    }
}

/// A lease as one successful claim or renew reported it.
struct LeaseSighting<'a> {
    call: &'a CallRecord,
    lease: &'a ProcessLease,
    renew_ttl_ms: Option<u64>,
}

impl LeaseSighting<'_> {
    /// When the registry made this decision: a claim's `claimed_at_ms`, a renew's
    /// `expires_at_ms - ttl` (or its return time when the expiry saturated).
    fn decided_at(&self) -> u64 {
        match self.renew_ttl_ms {
            None => self.lease.claimed_at_ms,
            Some(ttl) if self.lease.expires_at_ms < procreg::MAX_TIMESTAMP_MS => {
                self.lease.expires_at_ms.saturating_sub(ttl)
            }
            Some(_) => self.call.return_ms.unwrap_or(self.call.invoke_ms),
        }
    }
}

/// Runs every check; returns the violations found, in history order.
pub fn check_invariants(history: &History) -> Vec<Violation> {
    let mut violations = Vec::new();
    check_terminal_events(history, &mut violations);
    check_leases(history, &mut violations);
    check_dense_reads(history, &mut violations);
    violations.sort_by_key(|v| v.call);
    violations
}

fn terminal_events_seen(call: &CallRecord) -> Vec<&ProcessEvent> {
    match call.outcome() {
        Some(Ok(OpOutput::Append(result))) => vec![&result.event],
        Some(Ok(OpOutput::Events(events))) => events.iter().collect(),
        Some(Ok(OpOutput::Event(event))) => vec![event],
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|e| e.terminal.is_some())
    .collect()
}

fn check_terminal_events(history: &History, out: &mut Vec<Violation>) {
    let mut first: BTreeMap<&str, u64> = BTreeMap::new();
    for call in history.calls() {
        for event in terminal_events_seen(call) {
            match first.get(event.process_id.as_str()) {
                Some(seq) if *seq != event.sequence => out.push(Violation::at(
                    "W1",
                    call.id,
                    format!(
                        "{} has a second terminal event: sequence {} after sequence {seq}",
                        event.process_id, event.sequence
                    ),
                )),
                Some(_) => {}
                None => {
                    first.insert(&event.process_id, event.sequence);
                }
            }
        }
    }
}

fn lease_sightings(history: &History) -> BTreeMap<&str, Vec<LeaseSighting<'_>>> {
    let mut by_process: BTreeMap<&str, Vec<LeaseSighting<'_>>> = BTreeMap::new();
    for call in history.calls() {
        let Some(Ok(OpOutput::Lease(lease))) = call.outcome() else {
            continue;
        };
        let renew_ttl_ms = match &*call.op {
            Op::RenewLease { lease_ttl_ms, .. } => Some(*lease_ttl_ms),
            _ => None,
        };
        by_process
            .entry(&lease.process_id)
            .or_default()
            .push(LeaseSighting {
                call,
                lease,
                renew_ttl_ms,
            });
    }
    by_process
}

fn released_before(history: &History, lease: &ProcessLease, before_ms: u64) -> bool {
    history.calls().iter().any(|call| {
        matches!(&*call.op, Op::CompleteLease { completion }
            if completion.process_id == lease.process_id && completion.lease_token == lease.lease_token)
            && matches!(call.outcome(), Some(Ok(_)))
            && call.return_ms.is_some_and(|r| r < before_ms)
    })
}

fn check_leases(history: &History, out: &mut Vec<Violation>) {
    for (process, sightings) in lease_sightings(history) {
        let claims: Vec<&LeaseSighting<'_>> = sightings
            .iter()
            .filter(|s| s.renew_ttl_ms.is_none())
            .collect();
        check_fencing_order(process, &claims, out);
        for later in &claims {
            for earlier in &sightings {
                if earlier.lease.fencing_token >= later.lease.fencing_token {
                    continue;
                }
                let claim_at = later.decided_at();
                let earlier_at = earlier.decided_at();
                if earlier.renew_ttl_ms.is_some() && earlier_at > claim_at {
                    out.push(Violation::at(
                        "W2",
                        earlier.call.id,
                        format!(
                            "{process}: lease fence={} of {} was renewed at {earlier_at}, after fence={} \
                             superseded it at {claim_at} (L3)",
                            earlier.lease.fencing_token,
                            earlier.lease.owner_id,
                            later.lease.fencing_token
                        ),
                    ));
                    continue;
                }
                let overlap = earlier_at <= claim_at && earlier.lease.expires_at_ms > claim_at;
                if overlap
                    && earlier.lease.owner_id != later.lease.owner_id
                    && !released_before(history, earlier.lease, later.call.invoke_ms)
                {
                    out.push(Violation::at(
                        "W2",
                        later.call.id,
                        format!(
                            "{process}: {} claimed fence={} at {claim_at} while {}'s fence={} was live \
                             until {}",
                            later.lease.owner_id,
                            later.lease.fencing_token,
                            earlier.lease.owner_id,
                            earlier.lease.fencing_token,
                            earlier.lease.expires_at_ms
                        ),
                    ));
                }
            }
        }
    }
}

fn check_fencing_order(process: &str, claims: &[&LeaseSighting<'_>], out: &mut Vec<Violation>) {
    let mut by_fence: BTreeMap<u64, &LeaseSighting<'_>> = BTreeMap::new();
    for claim in claims {
        if let Some(other) = by_fence.insert(claim.lease.fencing_token, claim)
            && other.lease.lease_token != claim.lease.lease_token
        {
            out.push(Violation::at(
                "W3",
                claim.call.id,
                format!(
                    "{process}: fencing token {} issued to two leases ({} and {})",
                    claim.lease.fencing_token, other.lease.owner_id, claim.lease.owner_id
                ),
            ));
        }
    }
    for a in claims {
        for b in claims {
            // Real-time order only: concurrent claims may read the clock in either order (A1).
            let a_first = a.call.return_ms.is_some_and(|r| r < b.call.invoke_ms);
            if a_first && a.lease.fencing_token >= b.lease.fencing_token {
                out.push(Violation::at(
                    "W3",
                    b.call.id,
                    format!(
                        "{process}: fencing went backwards: fence={} claimed after fence={}",
                        b.lease.fencing_token, a.lease.fencing_token
                    ),
                ));
            }
        }
    }
}

fn check_dense_reads(history: &History, out: &mut Vec<Violation>) {
    for call in history.calls() {
        let (
            Op::EventsAfter {
                after_sequence: 0, ..
            },
            Some(Ok(OpOutput::Events(events))),
        ) = (&*call.op, call.outcome())
        else {
            continue;
        };
        for (i, event) in events.iter().enumerate() {
            if event.sequence != i as u64 + 1 {
                out.push(Violation::at(
                    "E8",
                    call.id,
                    format!(
                        "{}: events are not dense: position {} holds sequence {}",
                        event.process_id,
                        i + 1,
                        event.sequence
                    ),
                ));
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests;
