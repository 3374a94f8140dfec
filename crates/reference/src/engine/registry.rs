//! `ProcessRegistry` for [`Engine`]: each method turns its arguments into an [`Op`], runs it
//! through [`Engine::call`] and unpacks the matching [`OpOutput`]. This is the one place the
//! trait is implemented for registries built on the Model.

use async_trait::async_trait;
use procreg::{
    DurabilityTier, PluginError, ProcessAwaitOutput, ProcessEvent, ProcessEventAppendRequest,
    ProcessEventAppendResult, ProcessExternalRef, ProcessHandleDescriptor, ProcessHandleGrant,
    ProcessHandleGrantEntry, ProcessLease, ProcessLeaseCompletion, ProcessRecord,
    ProcessRegistration, ProcessRegistry, ProcessScope, ProcessSessionDeleteReport,
};

use super::Engine;
use crate::journal::Journal;
use crate::op::{Op, OpOutput};

/// Runs `$op` and unpacks the output variant `$variant`; any other variant is an internal
/// error reported as `Storage` rather than a panic.
macro_rules! run {
    ($engine:expr, $op:expr, $variant:ident) => {{
        let op = $op;
        match $engine.call(&op).await? {
            OpOutput::$variant(value) => Ok(value),
            other => Err(unexpected(&op, &other)),
        }
    }};
}

/// Runs `$op`, expecting [`OpOutput::Unit`].
macro_rules! run_unit {
    ($engine:expr, $op:expr) => {{
        let op = $op;
        match $engine.call(&op).await? {
            OpOutput::Unit => Ok(()),
            other => Err(unexpected(&op, &other)),
        }
    }};
}

fn unexpected(op: &Op, output: &OpOutput) -> PluginError {
    PluginError::storage(format!(
        "internal: {} answered {output:?}",
        op.method_name()
    ))
}

#[async_trait]
impl<J: Journal> ProcessRegistry for Engine<J> {
    fn durability_tier(&self) -> DurabilityTier {
        self.journal.durability_tier()
    }

    async fn register_process(
        &self,
        registration: ProcessRegistration,
    ) -> Result<ProcessRecord, PluginError> {
        run!(self, Op::Register { registration }, Record)
    }

    async fn get_process(&self, process_id: &str) -> Result<Option<ProcessRecord>, PluginError> {
        let process_id = process_id.to_owned();
        run!(self, Op::GetProcess { process_id }, MaybeRecord)
    }

    async fn set_external_ref(
        &self,
        process_id: &str,
        external_ref: ProcessExternalRef,
    ) -> Result<ProcessRecord, PluginError> {
        let process_id = process_id.to_owned();
        let op = Op::SetExternalRef {
            process_id,
            external_ref,
        };
        run!(self, op, Record)
    }

    async fn append_event(
        &self,
        process_id: &str,
        request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        let process_id = process_id.to_owned();
        run!(
            self,
            Op::AppendEvent {
                process_id,
                request
            },
            Append
        )
    }

    async fn events_after(
        &self,
        process_id: &str,
        after_sequence: u64,
    ) -> Result<Vec<ProcessEvent>, PluginError> {
        let process_id = process_id.to_owned();
        let op = Op::EventsAfter {
            process_id,
            after_sequence,
        };
        run!(self, op, Events)
    }

    async fn wake_events_after(
        &self,
        process_id: &str,
        after_sequence: u64,
    ) -> Result<Vec<ProcessEvent>, PluginError> {
        let process_id = process_id.to_owned();
        let op = Op::WakeEventsAfter {
            process_id,
            after_sequence,
        };
        run!(self, op, Events)
    }

    async fn ack_wake(&self, process_id: &str, sequence: u64) -> Result<(), PluginError> {
        let process_id = process_id.to_owned();
        run_unit!(
            self,
            Op::AckWake {
                process_id,
                sequence
            }
        )
    }

    async fn wait_event_after(
        &self,
        process_id: &str,
        event_type: &str,
        after_sequence: u64,
    ) -> Result<ProcessEvent, PluginError> {
        let op = Op::WaitEventAfter {
            process_id: process_id.to_owned(),
            event_type: event_type.to_owned(),
            after_sequence,
        };
        run!(self, op, Event)
    }

    async fn complete_process(
        &self,
        process_id: &str,
        output: ProcessAwaitOutput,
    ) -> Result<ProcessRecord, PluginError> {
        let process_id = process_id.to_owned();
        run!(self, Op::CompleteProcess { process_id, output }, Record)
    }

    async fn await_process(&self, process_id: &str) -> Result<ProcessAwaitOutput, PluginError> {
        let process_id = process_id.to_owned();
        run!(self, Op::AwaitProcess { process_id }, AwaitOutput)
    }

    async fn grant_handle(
        &self,
        scope: &ProcessScope,
        process_id: &str,
        descriptor: ProcessHandleDescriptor,
    ) -> Result<ProcessHandleGrant, PluginError> {
        let op = Op::GrantHandle {
            scope: scope.clone(),
            process_id: process_id.to_owned(),
            descriptor,
        };
        run!(self, op, Grant)
    }

    async fn revoke_handle(
        &self,
        scope: &ProcessScope,
        process_id: &str,
    ) -> Result<(), PluginError> {
        let op = Op::RevokeHandle {
            scope: scope.clone(),
            process_id: process_id.to_owned(),
        };
        run_unit!(self, op)
    }

    async fn list_handle_grants(
        &self,
        scope: &ProcessScope,
    ) -> Result<Vec<ProcessHandleGrantEntry>, PluginError> {
        let scope = scope.clone();
        run!(self, Op::ListHandleGrants { scope }, GrantEntries)
    }

    async fn list_live_handle_grants(
        &self,
        scope: &ProcessScope,
    ) -> Result<Vec<ProcessHandleGrantEntry>, PluginError> {
        let scope = scope.clone();
        run!(self, Op::ListLiveHandleGrants { scope }, GrantEntries)
    }

    async fn has_handle_grant(
        &self,
        scope: &ProcessScope,
        process_id: &str,
    ) -> Result<bool, PluginError> {
        let op = Op::HasHandleGrant {
            scope: scope.clone(),
            process_id: process_id.to_owned(),
        };
        run!(self, op, Bool)
    }

    async fn handle_grants_for_process(
        &self,
        process_id: &str,
    ) -> Result<Vec<ProcessHandleGrant>, PluginError> {
        let process_id = process_id.to_owned();
        run!(self, Op::HandleGrantsForProcess { process_id }, Grants)
    }

    async fn transfer_handle_grants(
        &self,
        from: &ProcessScope,
        to: &ProcessScope,
        process_ids: &[String],
    ) -> Result<(), PluginError> {
        let op = Op::TransferHandleGrants {
            from: from.clone(),
            to: to.clone(),
            process_ids: process_ids.to_vec(),
        };
        run_unit!(self, op)
    }

    async fn delete_session_process_state(
        &self,
        session_id: &str,
    ) -> Result<ProcessSessionDeleteReport, PluginError> {
        let session_id = session_id.to_owned();
        run!(self, Op::DeleteSession { session_id }, DeleteReport)
    }

    async fn claim_process_lease(
        &self,
        process_id: &str,
        owner_id: &str,
        lease_ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        let op = Op::ClaimLease {
            process_id: process_id.to_owned(),
            owner_id: owner_id.to_owned(),
            lease_ttl_ms,
        };
        run!(self, op, Lease)
    }

    async fn renew_process_lease(
        &self,
        lease: &ProcessLease,
        lease_ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        let op = Op::RenewLease {
            lease: lease.clone(),
            lease_ttl_ms,
        };
        run!(self, op, Lease)
    }

    async fn complete_process_lease(
        &self,
        completion: &ProcessLeaseCompletion,
    ) -> Result<(), PluginError> {
        let completion = completion.clone();
        run_unit!(self, Op::CompleteLease { completion })
    }

    async fn list_non_terminal(&self) -> Result<Vec<ProcessRecord>, PluginError> {
        run!(self, Op::ListNonTerminal, Records)
    }
}
