//! Durability across registry crashes (D2, D3, D6), judged from the history plus what the
//! world read from each reopened registry before any client reached it.
//!
//! Why it exists: the linearizability checker catches a lost acknowledged write only if some
//! later call happens to observe it. This checker makes the observation explicit and cheap:
//! right after every reopen the world takes a [`ReopenProbe`] — `list_non_terminal`, and for
//! every process id the history mentions `get_process`, `events_after(p, 0)`,
//! `wake_events_after(p, 0)` and `handle_grants_for_process(p)` — plus, when the target can
//! show it, the reopened Model ([`SimTarget::inspect_model`](crate::SimTarget::inspect_model)).
//! The probe's reads are not client calls and are not in the history.
//!
//! # What a probe is compared with
//!
//! *Acknowledged* calls are those that returned `Ok` before the crash (the probe lists them:
//! a call can execute before a crash and still return after it, so returning is what counts).
//! *Possible* calls are all calls invoked before the crash that did not fail definitely: they
//! may have taken effect. Only facts no possible call could have undone are asserted:
//!
//! | rule | acknowledged before the crash | after the reopen |
//! |---|---|---|
//! | D2 | a record was returned (register, reads, completion, external ref) | it exists with the same registration hash and `created_at_ms`, an `updated_at_ms` no older, the same terminal status and external ref once set |
//! | D2 | an event was returned (append, reads, waits) | the same event at the same sequence |
//! | D2 | a grant was made or transferred in | it exists, unless a possible revoke, transfer out or session deletion followed |
//! | D2 (S5) | a revoke, transfer out or session deletion | the grants it removed stay removed, unless a possible grant or transfer in followed |
//! | D6 | `ack_wake(p, s)` | `s` is not pending |
//! | D6 (S3) | a session deletion | wakes into that session appended before it are not pending |
//! | D6 | a new wake event was appended, or a wake read pending | still pending, unless a possible ack or deletion of its target session followed |
//! | D3 | a lease with fencing token `f` and lease token `t` | every claim invoked after the reopen has a fence above `f` and a lease token other than `t`; the Model's fencing counter is at least `f` |
//! | D3 | a keyed append got sequence `s` | the same key appended after the reopen answers `s` |
//! | D6 | the lease calls of `p` all acknowledged, one after another | the Model's current lease is exactly the one they leave |
//!
//! "Followed" means "did not provably return before the acknowledged call was invoked". The
//! D6 lease check needs the Model; for black-box targets the fences are still checked through
//! the claims made after the reopen.

mod facts;
mod leases;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use procreg::{
    ErrorKind, PluginError, ProcessEvent, ProcessHandleGrant, ProcessRecord, ProcessRegistry,
};
use procreg_reference::{Model, Op, OpOutput, execute_op};
use serde::{Deserialize, Serialize};

use super::invariants::Violation;
use crate::history::{CallId, CallRecord, History};
use crate::target::finish_now;

/// One read the probe made, and its answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeRead {
    /// The read.
    pub op: Op,
    /// What the reopened registry answered.
    pub outcome: Result<OpOutput, PluginError>,
}

/// What the world read from a registry right after reopening it, and which calls had returned
/// when it crashed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReopenProbe {
    /// The epoch of the reopened registry (calls of this epoch came after the probe).
    pub epoch: u32,
    /// Virtual time of the crash and the probe.
    pub at_ms: u64,
    /// Calls with a smaller id were invoked before the crash; later ones after the reopen.
    pub invoked_before: CallId,
    /// The calls that had returned when the registry crashed.
    pub returned_before: BTreeSet<CallId>,
    /// The reads, in the order made.
    pub reads: Vec<ProbeRead>,
    /// The reopened Model, when the target can show it.
    pub model: Option<Model>,
}

impl ReopenProbe {
    /// Reads [`probe_reads`] from `registry`, right after a reopen at `at_ms`, before any
    /// client call reaches it. A read that would block is recorded as a `Storage` error.
    pub fn take(
        registry: &dyn ProcessRegistry,
        history: &History,
        epoch: u32,
        at_ms: u64,
        model: Option<Model>,
    ) -> Self {
        let reads = probe_reads(history)
            .into_iter()
            .map(|op| {
                let outcome = finish_now(execute_op(registry, &op));
                ProbeRead { op, outcome }
            })
            .collect();
        let returned_before = history
            .calls()
            .iter()
            .filter(|c| c.outcome.is_some())
            .map(|c| c.id)
            .collect();
        Self {
            epoch,
            at_ms,
            invoked_before: history.len(),
            returned_before,
            reads,
            model,
        }
    }
}

/// The reads a probe makes for `history`: `list_non_terminal`, then per process id the
/// history mentions (ascending) its record, events, pending wakes and grants.
pub fn probe_reads(history: &History) -> Vec<Op> {
    let mut ids = BTreeSet::new();
    for call in history.calls() {
        ids.extend(process_ids_of(&call.op).map(str::to_owned));
    }
    let mut ops = vec![Op::ListNonTerminal];
    for process_id in ids {
        ops.push(Op::GetProcess {
            process_id: process_id.clone(),
        });
        ops.push(Op::EventsAfter {
            process_id: process_id.clone(),
            after_sequence: 0,
        });
        ops.push(Op::WakeEventsAfter {
            process_id: process_id.clone(),
            after_sequence: 0,
        });
        ops.push(Op::HandleGrantsForProcess { process_id });
    }
    ops
}

fn process_ids_of(op: &Op) -> Box<dyn Iterator<Item = &str> + '_> {
    match op {
        Op::GrantHandle { process_id, .. }
        | Op::RevokeHandle { process_id, .. }
        | Op::HasHandleGrant { process_id, .. }
        | Op::HandleGrantsForProcess { process_id } => {
            Box::new(std::iter::once(process_id.as_str()))
        }
        Op::TransferHandleGrants { process_ids, .. } => {
            Box::new(process_ids.iter().map(String::as_str))
        }
        other => Box::new(other.single_process().into_iter()),
    }
}

/// Checks every probe against the history; returns the violations found, by call.
pub fn check_durability(history: &History, probes: &[ReopenProbe]) -> Vec<Violation> {
    let mut violations = Vec::new();
    for probe in probes {
        let mut ctx = Ctx::new(history, probe);
        facts::check_records(&mut ctx);
        facts::check_events(&mut ctx);
        facts::check_wakes(&mut ctx);
        facts::check_grants(&mut ctx);
        leases::check_fences(&mut ctx);
        leases::check_keyed_replays(&mut ctx);
        leases::check_lease_state(&mut ctx);
        violations.extend(ctx.out);
    }
    violations.sort_by_key(|v| v.call);
    violations
}

/// What a probe read of one process answered.
enum Seen<T> {
    /// The registry answered.
    Found(T),
    /// The registry does not know the process.
    Unknown,
    /// The read failed otherwise (or was not made): nothing can be verified.
    Failed(String),
}

/// The probe's reads, by process.
#[derive(Default)]
struct Observed<'a> {
    records: BTreeMap<&'a str, Option<&'a ProcessRecord>>,
    events: BTreeMap<&'a str, Result<&'a [ProcessEvent], &'a PluginError>>,
    wakes: BTreeMap<&'a str, Result<BTreeSet<u64>, &'a PluginError>>,
    grants: BTreeMap<&'a str, Result<&'a [ProcessHandleGrant], &'a PluginError>>,
    record_errors: BTreeMap<&'a str, &'a PluginError>,
}

impl<'a> Observed<'a> {
    fn from_reads(reads: &'a [ProbeRead]) -> Self {
        let mut seen = Observed::default();
        for read in reads {
            match (&read.op, &read.outcome) {
                (Op::GetProcess { process_id }, Ok(OpOutput::MaybeRecord(r))) => {
                    seen.records.insert(process_id, r.as_ref());
                }
                (Op::GetProcess { process_id }, Err(e)) => {
                    seen.record_errors.insert(process_id, e);
                }
                (Op::EventsAfter { process_id, .. }, outcome) => {
                    let events = match outcome {
                        Ok(OpOutput::Events(events)) => Ok(events.as_slice()),
                        Ok(_) => Ok(&[][..]),
                        Err(e) => Err(e),
                    };
                    seen.events.insert(process_id, events);
                }
                (Op::WakeEventsAfter { process_id, .. }, outcome) => {
                    let wakes = match outcome {
                        Ok(OpOutput::Events(events)) => {
                            Ok(events.iter().map(|e| e.sequence).collect())
                        }
                        Ok(_) => Ok(BTreeSet::new()),
                        Err(e) => Err(e),
                    };
                    seen.wakes.insert(process_id, wakes);
                }
                (Op::HandleGrantsForProcess { process_id }, outcome) => {
                    let grants = match outcome {
                        Ok(OpOutput::Grants(grants)) => Ok(grants.as_slice()),
                        Ok(_) => Ok(&[][..]),
                        Err(e) => Err(e),
                    };
                    seen.grants.insert(process_id, grants);
                }
                _ => {}
            }
        }
        seen
    }
}

fn seen_of<T: Clone>(map: &BTreeMap<&str, Result<T, &PluginError>>, process_id: &str) -> Seen<T> {
    match map.get(process_id) {
        Some(Ok(value)) => Seen::Found(value.clone()),
        Some(Err(e)) if e.kind() == ErrorKind::UnknownProcess => Seen::Unknown,
        Some(Err(e)) => Seen::Failed(e.to_string()),
        None => Seen::Failed("not probed".into()),
    }
}

/// One probe being checked.
struct Ctx<'a> {
    history: &'a History,
    probe: &'a ReopenProbe,
    seen: Observed<'a>,
    out: Vec<Violation>,
    reported: BTreeSet<String>,
}

impl<'a> Ctx<'a> {
    fn new(history: &'a History, probe: &'a ReopenProbe) -> Self {
        Self {
            history,
            probe,
            seen: Observed::from_reads(&probe.reads),
            out: Vec::new(),
            reported: BTreeSet::new(),
        }
    }

    /// Calls that returned `Ok` before the crash, with their output.
    fn acked(&self) -> impl Iterator<Item = (&'a CallRecord, &'a OpOutput)> + 'a {
        let probe = self.probe;
        self.history
            .calls()
            .iter()
            .filter_map(move |call| match call.outcome() {
                Some(Ok(output)) if probe.returned_before.contains(&call.id) => {
                    Some((call, output))
                }
                _ => None,
            })
    }

    /// Calls invoked before the crash that may have taken effect.
    fn possible(&self) -> impl Iterator<Item = &'a CallRecord> + 'a {
        let limit = self.probe.invoked_before;
        self.history.calls()[..limit.min(self.history.len())]
            .iter()
            .filter(|call| !call.is_definite_error())
    }

    /// Calls invoked after the reopen that returned `Ok`, with their output.
    fn later(&self) -> impl Iterator<Item = (&'a CallRecord, &'a OpOutput)> + 'a {
        let limit = self.probe.invoked_before;
        self.history
            .calls()
            .iter()
            .skip(limit)
            .filter_map(|call| match call.outcome() {
                Some(Ok(output)) => Some((call, output)),
                _ => None,
            })
    }

    /// Reports once per `key` (the first, lowest call wins).
    fn report(&mut self, rule: &str, call: CallId, key: String, message: String) {
        if self.reported.insert(format!("{rule}:{key}")) {
            self.out.push(Violation {
                rule: rule.to_owned(),
                call: Some(call),
                message: format!(
                    "after the crash at {} (epoch {}): {message}",
                    self.probe.at_ms, self.probe.epoch
                ),
            });
        }
    }
}

/// Whether `a` provably returned before `b` was invoked.
fn before(a: &CallRecord, b: &CallRecord) -> bool {
    a.return_ms.is_some_and(|r| r < b.invoke_ms)
}
