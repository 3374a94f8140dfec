//! Every registry call as a value: what the FileRegistry logs, the linearizability checker
//! replays, and scenario files and the simulator record.
//!
//! `Model::apply(&op, now)` is the one entry point that gives any call its contract meaning, so
//! every consumer of "what should this call have returned" goes through the same code.

use procreg::{
    ProcessAwaitOutput, ProcessEvent, ProcessEventAppendRequest, ProcessEventAppendResult,
    ProcessExternalRef, ProcessHandleDescriptor, ProcessHandleGrant, ProcessHandleGrantEntry,
    ProcessLease, ProcessLeaseCompletion, ProcessRecord, ProcessRegistration, ProcessScope,
    ProcessSessionDeleteReport,
};
use serde::{Deserialize, Serialize};

/// One `ProcessRegistry` call with its arguments (all but `durability_tier`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
#[allow(missing_docs)] // fields mirror the trait method's parameters
pub enum Op {
    /// `register_process`
    Register { registration: ProcessRegistration },
    /// `get_process`
    GetProcess { process_id: String },
    /// `set_external_ref`
    SetExternalRef {
        process_id: String,
        external_ref: ProcessExternalRef,
    },
    /// `append_event`
    AppendEvent {
        process_id: String,
        request: ProcessEventAppendRequest,
    },
    /// `events_after`
    EventsAfter {
        process_id: String,
        after_sequence: u64,
    },
    /// `wake_events_after`
    WakeEventsAfter {
        process_id: String,
        after_sequence: u64,
    },
    /// `ack_wake`
    AckWake { process_id: String, sequence: u64 },
    /// `wait_event_after` (never blocks in the Model: see [`OpOutput::Pending`])
    WaitEventAfter {
        process_id: String,
        event_type: String,
        after_sequence: u64,
    },
    /// `complete_process`
    CompleteProcess {
        process_id: String,
        output: ProcessAwaitOutput,
    },
    /// `await_process` (never blocks in the Model: see [`OpOutput::Pending`])
    AwaitProcess { process_id: String },
    /// `grant_handle`
    GrantHandle {
        scope: ProcessScope,
        process_id: String,
        descriptor: ProcessHandleDescriptor,
    },
    /// `revoke_handle`
    RevokeHandle {
        scope: ProcessScope,
        process_id: String,
    },
    /// `list_handle_grants`
    ListHandleGrants { scope: ProcessScope },
    /// `list_live_handle_grants`
    ListLiveHandleGrants { scope: ProcessScope },
    /// `has_handle_grant`
    HasHandleGrant {
        scope: ProcessScope,
        process_id: String,
    },
    /// `handle_grants_for_process`
    HandleGrantsForProcess { process_id: String },
    /// `transfer_handle_grants`
    TransferHandleGrants {
        from: ProcessScope,
        to: ProcessScope,
        process_ids: Vec<String>,
    },
    /// `delete_session_process_state`
    DeleteSession { session_id: String },
    /// `claim_process_lease`
    ClaimLease {
        process_id: String,
        owner_id: String,
        lease_ttl_ms: u64,
    },
    /// `renew_process_lease`
    RenewLease {
        lease: ProcessLease,
        lease_ttl_ms: u64,
    },
    /// `complete_process_lease`
    CompleteLease { completion: ProcessLeaseCompletion },
    /// `list_non_terminal`
    ListNonTerminal,
}

impl Op {
    /// The trait method this op calls (`claim_process_lease`, ...).
    pub fn method_name(&self) -> &'static str {
        match self {
            Op::Register { .. } => "register_process",
            Op::GetProcess { .. } => "get_process",
            Op::SetExternalRef { .. } => "set_external_ref",
            Op::AppendEvent { .. } => "append_event",
            Op::EventsAfter { .. } => "events_after",
            Op::WakeEventsAfter { .. } => "wake_events_after",
            Op::AckWake { .. } => "ack_wake",
            Op::WaitEventAfter { .. } => "wait_event_after",
            Op::CompleteProcess { .. } => "complete_process",
            Op::AwaitProcess { .. } => "await_process",
            Op::GrantHandle { .. } => "grant_handle",
            Op::RevokeHandle { .. } => "revoke_handle",
            Op::ListHandleGrants { .. } => "list_handle_grants",
            Op::ListLiveHandleGrants { .. } => "list_live_handle_grants",
            Op::HasHandleGrant { .. } => "has_handle_grant",
            Op::HandleGrantsForProcess { .. } => "handle_grants_for_process",
            Op::TransferHandleGrants { .. } => "transfer_handle_grants",
            Op::DeleteSession { .. } => "delete_session_process_state",
            Op::ClaimLease { .. } => "claim_process_lease",
            Op::RenewLease { .. } => "renew_process_lease",
            Op::CompleteLease { .. } => "complete_process_lease",
            Op::ListNonTerminal => "list_non_terminal",
        }
    }

    /// Whether the op may change state (reads and waits never do).
    pub fn is_mutation(&self) -> bool {
        matches!(
            self,
            Op::Register { .. }
                | Op::SetExternalRef { .. }
                | Op::AppendEvent { .. }
                | Op::AckWake { .. }
                | Op::CompleteProcess { .. }
                | Op::GrantHandle { .. }
                | Op::RevokeHandle { .. }
                | Op::TransferHandleGrants { .. }
                | Op::DeleteSession { .. }
                | Op::ClaimLease { .. }
                | Op::RenewLease { .. }
                | Op::CompleteLease { .. }
        )
    }

    /// The single process this op touches, when it touches exactly one (used to split
    /// histories for linearizability checking). Lists, transfers and session deletion touch
    /// many and return `None`.
    pub fn single_process(&self) -> Option<&str> {
        match self {
            Op::Register { registration } => Some(&registration.id),
            Op::GetProcess { process_id }
            | Op::SetExternalRef { process_id, .. }
            | Op::AppendEvent { process_id, .. }
            | Op::EventsAfter { process_id, .. }
            | Op::WakeEventsAfter { process_id, .. }
            | Op::AckWake { process_id, .. }
            | Op::WaitEventAfter { process_id, .. }
            | Op::CompleteProcess { process_id, .. }
            | Op::AwaitProcess { process_id }
            | Op::ClaimLease { process_id, .. } => Some(process_id),
            Op::RenewLease { lease, .. } => Some(&lease.process_id),
            Op::CompleteLease { completion } => Some(&completion.process_id),
            _ => None,
        }
    }
}

/// What an [`Op`] returned, one variant per return type of the trait.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "output", content = "value", rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum OpOutput {
    Unit,
    Bool(bool),
    Record(ProcessRecord),
    MaybeRecord(Option<ProcessRecord>),
    Records(Vec<ProcessRecord>),
    Append(ProcessEventAppendResult),
    Event(ProcessEvent),
    Events(Vec<ProcessEvent>),
    AwaitOutput(ProcessAwaitOutput),
    Grant(ProcessHandleGrant),
    Grants(Vec<ProcessHandleGrant>),
    GrantEntries(Vec<ProcessHandleGrantEntry>),
    DeleteReport(ProcessSessionDeleteReport),
    Lease(ProcessLease),
    /// A wait (`WaitEventAfter`, `AwaitProcess`) whose answer does not exist yet: the real call
    /// would block.
    Pending,
}
