//! Broken registries for the grant, transfer, session, lease, worklist, durability and
//! concurrency laws: `MemoryRegistry` behind a wrapper that breaks one rule ([`Fault2`]).
//!
//! The harness declares `Durable` with crash-and-reopen: a reopen rebuilds the store from a copy
//! of the old one's Model (faithfully unless the fault says otherwise), so the durability laws
//! run on it too.

use async_trait::async_trait;
use procreg::{
    DurabilityTier, PluginError, ProcessAwaitOutput, ProcessEvent, ProcessEventAppendRequest,
    ProcessEventAppendResult, ProcessExternalRef, ProcessHandleDescriptor, ProcessHandleGrant,
    ProcessHandleGrantEntry, ProcessLease, ProcessLeaseCompletion, ProcessRecord,
    ProcessRegistration, ProcessRegistry, ProcessScope, ProcessSessionDeleteReport, SharedClock,
};
use procreg_conformance::{Capabilities, Harness, Instance};
use procreg_reference::{MemoryRegistry, Model};
use serde_json::Value;

/// The one rule a [`Mutant2`] breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault2 {
    /// No fault: the wrapper must pass every law, durability laws included.
    None,
    /// H1: a regrant keeps the first descriptor.
    RegrantKeepsDescriptor,
    /// H7: a transfer moves ids one by one and stops at the first one not granted.
    TransferStopsAtMissing,
    /// S1, S3: session deletion revokes only the session scope's grants (not its frames') and
    /// leaves wakes pending.
    SessionSkipsFrames,
    /// L4: a renew trusts the lease token and ignores a forged fencing token.
    RenewIgnoresFence,
    /// N1: the worklist comes in descending order.
    WorklistReversed,
    /// A1: a completion checks the status, yields, then appends the terminal event: racing
    /// completions with different outputs see `ReplayConflict` instead of `AlreadyTerminal`.
    CompletionChecksThenActs,
    /// D3, L6: a reopen forgets the fencing counters.
    ReopenRestartsFences,
    /// T1: a claim reads the clock a second time for `claimed_at_ms`.
    ClaimReadsClockTwice,
}

/// `MemoryRegistry` with one [`Fault2`].
pub struct Mutant2 {
    inner: MemoryRegistry,
    clock: SharedClock,
    fault: Fault2,
}

/// Makes [`Mutant2`]s, declaring `Durable` and crash-and-reopen.
pub struct Mutant2Harness(pub Fault2);

#[async_trait]
impl Harness for Mutant2Harness {
    type Registry = Mutant2;

    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
            .durable()
            .with_crash_reopen()
            .with_call_timeout(std::time::Duration::from_millis(500))
    }

    async fn fresh(&self, instance: &Instance) -> Result<Mutant2, PluginError> {
        Ok(self.wrap(Model::new(), instance))
    }

    async fn reopen(&self, instance: &Instance, old: Mutant2) -> Result<Mutant2, PluginError> {
        let mut model = old.inner.engine().model_snapshot()?;
        if self.0 == Fault2::ReopenRestartsFences {
            model = restart_fences(&model);
        }
        Ok(self.wrap(model, instance))
    }
}

impl Mutant2Harness {
    fn wrap(&self, model: Model, instance: &Instance) -> Mutant2 {
        Mutant2 {
            inner: MemoryRegistry::with_model(model, instance.clock.clone()),
            clock: instance.clock.clone(),
            fault: self.0,
        }
    }
}

/// The Model with every process's fencing counter back at 0 (through its serialized form).
fn restart_fences(model: &Model) -> Model {
    let mut json = serde_json::to_value(model).expect("a Model serializes");
    if let Some(Value::Object(processes)) = json.get_mut("processes") {
        for state in processes.values_mut() {
            state["fencing_counter"] = Value::from(0);
        }
    }
    serde_json::from_value(json).expect("the edited Model deserializes")
}

impl Mutant2 {
    async fn session_scope_only_delete(
        &self,
        session_id: &str,
    ) -> Result<ProcessSessionDeleteReport, PluginError> {
        let scope = ProcessScope::session(session_id);
        let mut report = ProcessSessionDeleteReport {
            session_id: session_id.to_owned(),
            ..ProcessSessionDeleteReport::default()
        };
        for entry in self.inner.list_handle_grants(&scope).await? {
            let id = entry.grant.process_id;
            self.inner.revoke_handle(&scope, &id).await?;
            report.revoked_handle_count += 1;
            if entry.record.is_terminal() {
                continue;
            }
            if self.inner.handle_grants_for_process(&id).await?.is_empty() {
                report.cancel_process_ids.push(id);
            } else {
                report.preserved_process_ids.push(id);
            }
        }
        Ok(report)
    }

    async fn check_then_complete(
        &self,
        process_id: &str,
        output: ProcessAwaitOutput,
    ) -> Result<ProcessRecord, PluginError> {
        let running = self
            .inner
            .get_process(process_id)
            .await?
            .is_some_and(|r| !r.is_terminal());
        if !running {
            return self.inner.complete_process(process_id, output).await;
        }
        tokio::task::yield_now().await;
        let request = ProcessEventAppendRequest::terminal(process_id, &output);
        self.inner.append_event(process_id, request).await?;
        let record = self.inner.get_process(process_id).await?;
        record.ok_or_else(|| PluginError::unknown_process(process_id))
    }
}

#[async_trait]
impl ProcessRegistry for Mutant2 {
    fn durability_tier(&self) -> DurabilityTier {
        DurabilityTier::Durable
    }

    async fn register_process(&self, r: ProcessRegistration) -> Result<ProcessRecord, PluginError> {
        self.inner.register_process(r).await
    }

    async fn get_process(&self, id: &str) -> Result<Option<ProcessRecord>, PluginError> {
        self.inner.get_process(id).await
    }

    async fn set_external_ref(
        &self,
        id: &str,
        external_ref: ProcessExternalRef,
    ) -> Result<ProcessRecord, PluginError> {
        self.inner.set_external_ref(id, external_ref).await
    }

    async fn append_event(
        &self,
        id: &str,
        request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        self.inner.append_event(id, request).await
    }

    async fn events_after(&self, id: &str, after: u64) -> Result<Vec<ProcessEvent>, PluginError> {
        self.inner.events_after(id, after).await
    }

    async fn wake_events_after(
        &self,
        id: &str,
        after: u64,
    ) -> Result<Vec<ProcessEvent>, PluginError> {
        self.inner.wake_events_after(id, after).await
    }

    async fn ack_wake(&self, id: &str, sequence: u64) -> Result<(), PluginError> {
        self.inner.ack_wake(id, sequence).await
    }

    async fn wait_event_after(
        &self,
        id: &str,
        event_type: &str,
        after: u64,
    ) -> Result<ProcessEvent, PluginError> {
        self.inner.wait_event_after(id, event_type, after).await
    }

    async fn complete_process(
        &self,
        id: &str,
        output: ProcessAwaitOutput,
    ) -> Result<ProcessRecord, PluginError> {
        if self.fault == Fault2::CompletionChecksThenActs {
            return self.check_then_complete(id, output).await;
        }
        self.inner.complete_process(id, output).await
    }

    async fn await_process(&self, id: &str) -> Result<ProcessAwaitOutput, PluginError> {
        self.inner.await_process(id).await
    }

    async fn grant_handle(
        &self,
        scope: &ProcessScope,
        id: &str,
        descriptor: ProcessHandleDescriptor,
    ) -> Result<ProcessHandleGrant, PluginError> {
        if self.fault == Fault2::RegrantKeepsDescriptor {
            let existing = self.inner.handle_grants_for_process(id).await?;
            let scope_id = scope.normalized().id();
            if let Some(kept) = existing.into_iter().find(|g| g.scope.id() == scope_id) {
                return Ok(kept);
            }
        }
        self.inner.grant_handle(scope, id, descriptor).await
    }

    async fn revoke_handle(&self, scope: &ProcessScope, id: &str) -> Result<(), PluginError> {
        self.inner.revoke_handle(scope, id).await
    }

    async fn list_handle_grants(
        &self,
        scope: &ProcessScope,
    ) -> Result<Vec<ProcessHandleGrantEntry>, PluginError> {
        self.inner.list_handle_grants(scope).await
    }

    async fn handle_grants_for_process(
        &self,
        id: &str,
    ) -> Result<Vec<ProcessHandleGrant>, PluginError> {
        self.inner.handle_grants_for_process(id).await
    }

    async fn transfer_handle_grants(
        &self,
        from: &ProcessScope,
        to: &ProcessScope,
        ids: &[String],
    ) -> Result<(), PluginError> {
        if self.fault == Fault2::TransferStopsAtMissing {
            for id in ids {
                let one = std::slice::from_ref(id);
                self.inner.transfer_handle_grants(from, to, one).await?;
            }
            return Ok(());
        }
        self.inner.transfer_handle_grants(from, to, ids).await
    }

    async fn delete_session_process_state(
        &self,
        session_id: &str,
    ) -> Result<ProcessSessionDeleteReport, PluginError> {
        if self.fault == Fault2::SessionSkipsFrames {
            return self.session_scope_only_delete(session_id).await;
        }
        self.inner.delete_session_process_state(session_id).await
    }

    async fn claim_process_lease(
        &self,
        id: &str,
        owner_id: &str,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        let mut lease = self.inner.claim_process_lease(id, owner_id, ttl_ms).await?;
        if self.fault == Fault2::ClaimReadsClockTwice {
            lease.claimed_at_ms = self.clock.now_ms();
        }
        Ok(lease)
    }

    async fn renew_process_lease(
        &self,
        lease: &ProcessLease,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        if self.fault == Fault2::RenewIgnoresFence {
            // The reference registries issue `lease-<fencing token>` (Z7).
            let fence = lease.lease_token.strip_prefix("lease-");
            if let Some(fence) = fence.and_then(|f| f.parse().ok()) {
                let trusted = ProcessLease {
                    fencing_token: fence,
                    ..lease.clone()
                };
                return self.inner.renew_process_lease(&trusted, ttl_ms).await;
            }
        }
        self.inner.renew_process_lease(lease, ttl_ms).await
    }

    async fn complete_process_lease(
        &self,
        completion: &ProcessLeaseCompletion,
    ) -> Result<(), PluginError> {
        self.inner.complete_process_lease(completion).await
    }

    async fn list_non_terminal(&self) -> Result<Vec<ProcessRecord>, PluginError> {
        let mut records = self.inner.list_non_terminal().await?;
        if self.fault == Fault2::WorklistReversed {
            records.reverse();
        }
        Ok(records)
    }
}
