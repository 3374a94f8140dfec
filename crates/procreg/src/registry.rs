//! The `ProcessRegistry` trait: the 23 methods every backend implements (section 3).

use async_trait::async_trait;

use crate::error::PluginError;
use crate::event::{ProcessEvent, ProcessEventAppendRequest, ProcessEventAppendResult};
use crate::grant::{
    ProcessHandleDescriptor, ProcessHandleGrant, ProcessHandleGrantEntry,
    ProcessSessionDeleteReport,
};
use crate::lease::{DurabilityTier, ProcessLease, ProcessLeaseCompletion};
use crate::process::{ProcessAwaitOutput, ProcessExternalRef, ProcessRecord, ProcessRegistration};
use crate::scope::ProcessScope;

/// A store of durable background processes, their event logs, handle grants and leases.
///
/// Every call is atomic and linearizable (A1) and reads its clock once (T1). Errors are typed;
/// every kind but `Unavailable` means the call took no effect (A2). The rule ids in each method's
/// doc point into `docs/CONTRACT.md`.
#[async_trait]
pub trait ProcessRegistry: Send + Sync {
    /// The durability tier this registry provides (D1). Default: `Inline`.
    fn durability_tier(&self) -> DurabilityTier {
        DurabilityTier::Inline
    }

    /// Registers a process, or returns the existing record for an identical registration
    /// (R1-R5).
    async fn register_process(
        &self,
        registration: ProcessRegistration,
    ) -> Result<ProcessRecord, PluginError>;

    /// The current record, or `None` when the id is unknown (R6).
    async fn get_process(&self, process_id: &str) -> Result<Option<ProcessRecord>, PluginError>;

    /// Stores the external ref once (X1-X3).
    async fn set_external_ref(
        &self,
        process_id: &str,
        external_ref: ProcessExternalRef,
    ) -> Result<ProcessRecord, PluginError>;

    /// Appends an event, or replays a keyed one (E1-E10, E15).
    async fn append_event(
        &self,
        process_id: &str,
        request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError>;

    /// Every event with sequence above `after_sequence`, ascending (E11).
    async fn events_after(
        &self,
        process_id: &str,
        after_sequence: u64,
    ) -> Result<Vec<ProcessEvent>, PluginError>;

    /// The pending wake events with sequence above `after_sequence`, ascending (E12).
    async fn wake_events_after(
        &self,
        process_id: &str,
        after_sequence: u64,
    ) -> Result<Vec<ProcessEvent>, PluginError>;

    /// Acknowledges the wake event `sequence` (E13).
    async fn ack_wake(&self, process_id: &str, sequence: u64) -> Result<(), PluginError>;

    /// The lowest event of exactly `event_type` above `after_sequence`, waiting for one if
    /// needed (E14).
    async fn wait_event_after(
        &self,
        process_id: &str,
        event_type: &str,
        after_sequence: u64,
    ) -> Result<ProcessEvent, PluginError>;

    /// Completes a process idempotently (C1-C3, C5).
    async fn complete_process(
        &self,
        process_id: &str,
        output: ProcessAwaitOutput,
    ) -> Result<ProcessRecord, PluginError>;

    /// The await output once the process is terminal (C4).
    async fn await_process(&self, process_id: &str) -> Result<ProcessAwaitOutput, PluginError>;

    /// Grants `scope` a handle on the process, replacing the descriptor (H1).
    async fn grant_handle(
        &self,
        scope: &ProcessScope,
        process_id: &str,
        descriptor: ProcessHandleDescriptor,
    ) -> Result<ProcessHandleGrant, PluginError>;

    /// Removes a grant if present (H2).
    async fn revoke_handle(
        &self,
        scope: &ProcessScope,
        process_id: &str,
    ) -> Result<(), PluginError>;

    /// The grants of exactly `scope`, ascending process id (H3).
    async fn list_handle_grants(
        &self,
        scope: &ProcessScope,
    ) -> Result<Vec<ProcessHandleGrantEntry>, PluginError>;

    /// The grants of exactly `scope` whose process is running (H4).
    async fn list_live_handle_grants(
        &self,
        scope: &ProcessScope,
    ) -> Result<Vec<ProcessHandleGrantEntry>, PluginError> {
        let mut entries = self.list_handle_grants(scope).await?;
        entries.retain(|entry| !entry.record.is_terminal());
        Ok(entries)
    }

    /// Whether `scope` holds a grant on the process (H5).
    async fn has_handle_grant(
        &self,
        scope: &ProcessScope,
        process_id: &str,
    ) -> Result<bool, PluginError> {
        let entries = self.list_handle_grants(scope).await?;
        Ok(entries
            .iter()
            .any(|entry| entry.grant.process_id == process_id))
    }

    /// Every grant of the process, ascending scope id (H6).
    async fn handle_grants_for_process(
        &self,
        process_id: &str,
    ) -> Result<Vec<ProcessHandleGrant>, PluginError>;

    /// Moves grants from one scope to another, all or nothing (H7).
    async fn transfer_handle_grants(
        &self,
        from: &ProcessScope,
        to: &ProcessScope,
        process_ids: &[String],
    ) -> Result<(), PluginError>;

    /// Removes what session `session_id` owns and reports it (S1-S6).
    async fn delete_session_process_state(
        &self,
        session_id: &str,
    ) -> Result<ProcessSessionDeleteReport, PluginError>;

    /// Claims the lease of a process (L1-L3).
    async fn claim_process_lease(
        &self,
        process_id: &str,
        owner_id: &str,
        lease_ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError>;

    /// Extends a live lease the caller still holds (L4).
    async fn renew_process_lease(
        &self,
        lease: &ProcessLease,
        lease_ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError>;

    /// Releases a lease if it is still the current one (L5).
    async fn complete_process_lease(
        &self,
        completion: &ProcessLeaseCompletion,
    ) -> Result<(), PluginError>;

    /// Every running record, ascending process id: the recovery worklist (N1).
    async fn list_non_terminal(&self) -> Result<Vec<ProcessRecord>, PluginError>;
}
