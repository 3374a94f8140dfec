//! The Model: the contract's state machine, pure and synchronous (every rule of CONTRACT.md).
//!
//! It exists so that there is ONE executable reading of the contract: MemoryRegistry and
//! FileRegistry run it behind a lock (the [`Engine`](crate::engine::Engine)), the
//! linearizability checker replays histories against it, and scenario bless mode writes
//! expectations from it. Time is an argument (`now_ms`, T1), never read from a clock, and every
//! map is a `BTreeMap` with `String` keys, so the Model is deterministic, comparable and
//! serializable as JSON (FileRegistry snapshots it).
//!
//! [`Model::apply`] is the one entry point for an [`Op`]; the typed methods (one per trait
//! method) are what it dispatches to. Waits never block here: they answer
//! [`OpOutput::Pending`] when the awaited thing does not exist yet.
//!
//! [`Model::revision`] moves on every actual state change and only then: a rejected call or a
//! no-op (idempotent re-register, revoke of a missing grant, ...) leaves it where it was.

mod events;
mod grants;
mod inputs;
mod invariants;
mod leases;
mod registration;
mod sessions;
mod state;
#[cfg(test)]
mod tests;
mod wake;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use procreg::{PluginError, ProcessEvent, ProcessHandleGrant, ProcessLease};
use serde::{Deserialize, Serialize};

use crate::op::{Op, OpOutput};
use state::ProcessState;

/// The contract's state machine (see the module docs).
///
/// ```
/// use procreg::{ProcessRegistration, ProcessScope};
/// use procreg_reference::Model;
/// let mut model = Model::new();
/// let reg = ProcessRegistration::new("p1", ProcessScope::session("s1"), "host");
/// let record = model.register_process(reg, 1_000).unwrap();
/// assert_eq!(record.created_at_ms, 1_000);
/// assert_eq!(model.revision(), 1);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// Every registered process, by id. Both are shared: the linearizability search clones
    /// the Model for every mutation it tries, and most tries (an error, a read's twin) write
    /// nothing, or write one process; a write copies that process's state only
    /// ([`Model::state_mut`]).
    processes: BTreeMap<Arc<str>, Arc<ProcessState>>,
    /// Handle grants: scope id -> process id -> grant. No inner map is ever empty.
    grants: BTreeMap<String, BTreeMap<String, ProcessHandleGrant>>,
    /// Moves on every state change.
    revision: u64,
}

impl Model {
    /// An empty Model: no processes, no grants, revision 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one call at `now_ms` and returns what the registry must answer (A1, T1).
    ///
    /// Waits (`WaitEventAfter`, `AwaitProcess`) return [`OpOutput::Pending`] when their answer
    /// does not exist yet (E14, C4). Errors follow P1's precedence and leave the Model
    /// untouched (A2).
    pub fn apply(&mut self, op: &Op, now_ms: u64) -> Result<OpOutput, PluginError> {
        Ok(match op {
            Op::Register { registration } => OpOutput::Record(self.register(registration, now_ms)?),
            Op::GetProcess { process_id } => OpOutput::MaybeRecord(self.get_process(process_id)),
            Op::SetExternalRef {
                process_id,
                external_ref,
            } => {
                OpOutput::Record(self.set_external_ref(process_id, external_ref.clone(), now_ms)?)
            }
            Op::AppendEvent {
                process_id,
                request,
            } => OpOutput::Append(
                self.append(process_id, Cow::Borrowed(request), None, now_ms)?
                    .result(),
            ),
            Op::EventsAfter {
                process_id,
                after_sequence,
            } => OpOutput::Events(self.events_after(process_id, *after_sequence)?),
            Op::WakeEventsAfter {
                process_id,
                after_sequence,
            } => OpOutput::Events(self.wake_events_after(process_id, *after_sequence)?),
            Op::AckWake {
                process_id,
                sequence,
            } => {
                self.ack_wake(process_id, *sequence)?;
                OpOutput::Unit
            }
            Op::WaitEventAfter {
                process_id,
                event_type,
                after_sequence,
            } => match self.wait_event_after(process_id, event_type, *after_sequence)? {
                Some(event) => OpOutput::Event(event),
                None => OpOutput::Pending,
            },
            Op::CompleteProcess { process_id, output } => {
                OpOutput::Record(self.complete_process(process_id, output.clone(), now_ms)?)
            }
            Op::AwaitProcess { process_id } => match self.await_process(process_id)? {
                Some(output) => OpOutput::AwaitOutput(output),
                None => OpOutput::Pending,
            },
            _ => self.apply_grant_or_lease(op, now_ms)?,
        })
    }

    /// The second half of [`Model::apply`]: grants, sessions, leases and the worklist.
    fn apply_grant_or_lease(&mut self, op: &Op, now_ms: u64) -> Result<OpOutput, PluginError> {
        Ok(match op {
            Op::GrantHandle {
                scope,
                process_id,
                descriptor,
            } => OpOutput::Grant(self.grant_handle(scope, process_id, descriptor.clone())?),
            Op::RevokeHandle { scope, process_id } => {
                self.revoke_handle(scope, process_id);
                OpOutput::Unit
            }
            Op::ListHandleGrants { scope } => {
                OpOutput::GrantEntries(self.list_handle_grants(scope))
            }
            Op::ListLiveHandleGrants { scope } => {
                OpOutput::GrantEntries(self.list_live_handle_grants(scope))
            }
            Op::HasHandleGrant { scope, process_id } => {
                OpOutput::Bool(self.has_handle_grant(scope, process_id))
            }
            Op::HandleGrantsForProcess { process_id } => {
                OpOutput::Grants(self.handle_grants_for_process(process_id)?)
            }
            Op::TransferHandleGrants {
                from,
                to,
                process_ids,
            } => {
                self.transfer_handle_grants(from, to, process_ids)?;
                OpOutput::Unit
            }
            Op::DeleteSession { session_id } => {
                OpOutput::DeleteReport(self.delete_session_process_state(session_id))
            }
            Op::ClaimLease {
                process_id,
                owner_id,
                lease_ttl_ms,
            } => OpOutput::Lease(self.claim_process_lease(
                process_id,
                owner_id,
                *lease_ttl_ms,
                now_ms,
            )?),
            Op::RenewLease {
                lease,
                lease_ttl_ms,
            } => OpOutput::Lease(self.renew_process_lease(lease, *lease_ttl_ms, now_ms)?),
            Op::CompleteLease { completion } => {
                self.complete_process_lease(completion);
                OpOutput::Unit
            }
            Op::ListNonTerminal => OpOutput::Records(self.list_non_terminal()),
            // `apply` handles every other op itself and never routes it here.
            other => {
                return Err(PluginError::storage(format!(
                    "internal: {} routed to the wrong dispatcher",
                    other.method_name()
                )));
            }
        })
    }

    /// The state revision: moves on every actual state change, never on a rejected or no-op
    /// call. A journal logs an op only when it moved.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// The ids of every registered process, ascending (O1).
    pub fn process_ids(&self) -> impl Iterator<Item = &str> + '_ {
        self.processes.keys().map(|pid| &**pid)
    }

    /// The whole event log of a process (empty for an unknown id).
    pub fn events(&self, process_id: &str) -> &[Arc<ProcessEvent>] {
        self.processes
            .get(process_id)
            .map_or(&[][..], |state| &state.events)
    }

    /// Whether event `sequence` of the process is a pending wake (E12).
    pub fn is_pending_wake(&self, process_id: &str, sequence: u64) -> bool {
        self.processes
            .get(process_id)
            .is_some_and(|state| state.pending_wakes.contains(&sequence))
    }

    /// The stored lease of a process, live or expired, unless it was released or never
    /// claimed (L5).
    pub fn current_lease(&self, process_id: &str) -> Option<&ProcessLease> {
        self.processes.get(process_id)?.lease.as_deref()
    }

    /// Keeps only the processes `keep` says yes to, with their grants (a scope left with no
    /// grant goes too); the revision stays. The linearizability checker searches each
    /// partition of a history from the Model cut down to that partition's processes.
    pub fn retain_processes(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.processes.retain(|pid, _| keep(pid));
        for grants in self.grants.values_mut() {
            grants.retain(|pid, _| keep(pid));
        }
        self.grants.retain(|_, grants| !grants.is_empty());
    }

    /// The highest fencing token ever issued for the process; 0 if none (L2, L6).
    pub fn highest_fencing_token(&self, process_id: &str) -> u64 {
        self.processes
            .get(process_id)
            .map_or(0, |state| state.fencing_counter)
    }

    /// Records that the state changed.
    fn bump(&mut self) {
        self.revision += 1;
    }

    /// The state of a known process, or `UnknownProcess`.
    fn state(&self, process_id: &str) -> Result<&ProcessState, PluginError> {
        self.processes
            .get(process_id)
            .map(|state| &**state)
            .ok_or_else(|| PluginError::unknown_process(process_id))
    }

    /// The mutable state of a known process, or `UnknownProcess`. Copies the state when a
    /// clone of this Model shares it, so callers ask for it only to write.
    fn state_mut(&mut self, process_id: &str) -> Result<&mut ProcessState, PluginError> {
        self.processes
            .get_mut(process_id)
            .map(Arc::make_mut)
            .ok_or_else(|| PluginError::unknown_process(process_id))
    }
}
