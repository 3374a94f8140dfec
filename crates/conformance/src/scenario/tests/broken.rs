//! A registry that breaks L2/L6: every claim reports fencing token 1, as a backend that forgot
//! to bump the counter on re-claim would. Everything else is `MemoryRegistry`.

use async_trait::async_trait;
use procreg::{
    PluginError, ProcessAwaitOutput, ProcessEvent, ProcessEventAppendRequest,
    ProcessEventAppendResult, ProcessExternalRef, ProcessHandleDescriptor, ProcessHandleGrant,
    ProcessHandleGrantEntry, ProcessLease, ProcessLeaseCompletion, ProcessRecord,
    ProcessRegistration, ProcessRegistry, ProcessScope, ProcessSessionDeleteReport,
};
use procreg_reference::MemoryRegistry;

use crate::harness::{Harness, Instance};

/// `MemoryRegistry` whose claims always report fence 1.
pub(crate) struct StuckFence(MemoryRegistry);

/// Makes [`StuckFence`] registries.
pub(crate) struct StuckFenceHarness;

#[async_trait]
impl Harness for StuckFenceHarness {
    type Registry = StuckFence;

    async fn fresh(&self, instance: &Instance) -> Result<StuckFence, PluginError> {
        Ok(StuckFence(MemoryRegistry::new(instance.clock.clone())))
    }
}

#[async_trait]
impl ProcessRegistry for StuckFence {
    async fn register_process(&self, r: ProcessRegistration) -> Result<ProcessRecord, PluginError> {
        self.0.register_process(r).await
    }
    async fn get_process(&self, p: &str) -> Result<Option<ProcessRecord>, PluginError> {
        self.0.get_process(p).await
    }
    async fn set_external_ref(
        &self,
        p: &str,
        x: ProcessExternalRef,
    ) -> Result<ProcessRecord, PluginError> {
        self.0.set_external_ref(p, x).await
    }
    async fn append_event(
        &self,
        p: &str,
        r: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        self.0.append_event(p, r).await
    }
    async fn events_after(&self, p: &str, n: u64) -> Result<Vec<ProcessEvent>, PluginError> {
        self.0.events_after(p, n).await
    }
    async fn wake_events_after(&self, p: &str, n: u64) -> Result<Vec<ProcessEvent>, PluginError> {
        self.0.wake_events_after(p, n).await
    }
    async fn ack_wake(&self, p: &str, n: u64) -> Result<(), PluginError> {
        self.0.ack_wake(p, n).await
    }
    async fn wait_event_after(
        &self,
        p: &str,
        t: &str,
        n: u64,
    ) -> Result<ProcessEvent, PluginError> {
        self.0.wait_event_after(p, t, n).await
    }
    async fn complete_process(
        &self,
        p: &str,
        o: ProcessAwaitOutput,
    ) -> Result<ProcessRecord, PluginError> {
        self.0.complete_process(p, o).await
    }
    async fn await_process(&self, p: &str) -> Result<ProcessAwaitOutput, PluginError> {
        self.0.await_process(p).await
    }
    async fn grant_handle(
        &self,
        s: &ProcessScope,
        p: &str,
        d: ProcessHandleDescriptor,
    ) -> Result<ProcessHandleGrant, PluginError> {
        self.0.grant_handle(s, p, d).await
    }
    async fn revoke_handle(&self, s: &ProcessScope, p: &str) -> Result<(), PluginError> {
        self.0.revoke_handle(s, p).await
    }
    async fn list_handle_grants(
        &self,
        s: &ProcessScope,
    ) -> Result<Vec<ProcessHandleGrantEntry>, PluginError> {
        self.0.list_handle_grants(s).await
    }
    async fn handle_grants_for_process(
        &self,
        p: &str,
    ) -> Result<Vec<ProcessHandleGrant>, PluginError> {
        self.0.handle_grants_for_process(p).await
    }
    async fn transfer_handle_grants(
        &self,
        from: &ProcessScope,
        to: &ProcessScope,
        ids: &[String],
    ) -> Result<(), PluginError> {
        self.0.transfer_handle_grants(from, to, ids).await
    }
    async fn delete_session_process_state(
        &self,
        s: &str,
    ) -> Result<ProcessSessionDeleteReport, PluginError> {
        self.0.delete_session_process_state(s).await
    }
    async fn claim_process_lease(
        &self,
        p: &str,
        owner: &str,
        ttl: u64,
    ) -> Result<ProcessLease, PluginError> {
        let mut lease = self.0.claim_process_lease(p, owner, ttl).await?;
        lease.fencing_token = 1;
        Ok(lease)
    }
    async fn renew_process_lease(
        &self,
        l: &ProcessLease,
        ttl: u64,
    ) -> Result<ProcessLease, PluginError> {
        self.0.renew_process_lease(l, ttl).await
    }
    async fn complete_process_lease(&self, c: &ProcessLeaseCompletion) -> Result<(), PluginError> {
        self.0.complete_process_lease(c).await
    }
    async fn list_non_terminal(&self) -> Result<Vec<ProcessRecord>, PluginError> {
        self.0.list_non_terminal().await
    }
}
