//! An example backend: a `ProcessRegistry` that delegates every call to procreg's
//! `MemoryRegistry`. It stands in for "your registry" in the README, and its
//! `tests/conformance.rs` is the snippet the README shows, so the snippet cannot rot.
#![deny(missing_docs)]

use async_trait::async_trait;
use procreg::{
    PluginError, ProcessAwaitOutput, ProcessEvent, ProcessEventAppendRequest,
    ProcessEventAppendResult, ProcessExternalRef, ProcessHandleDescriptor, ProcessHandleGrant,
    ProcessHandleGrantEntry, ProcessLease, ProcessLeaseCompletion, ProcessRecord,
    ProcessRegistration, ProcessRegistry, ProcessScope, ProcessSessionDeleteReport, SharedClock,
};
use procreg_reference::MemoryRegistry;

/// "Your" registry: here, a thin layer over `MemoryRegistry`.
pub struct MyRegistry {
    inner: MemoryRegistry,
}

impl MyRegistry {
    /// A fresh, empty registry reading time from `clock`.
    pub fn new(clock: SharedClock) -> Self {
        Self {
            inner: MemoryRegistry::new(clock),
        }
    }
}

#[async_trait]
impl ProcessRegistry for MyRegistry {
    async fn register_process(&self, r: ProcessRegistration) -> Result<ProcessRecord, PluginError> {
        self.inner.register_process(r).await
    }
    async fn get_process(&self, p: &str) -> Result<Option<ProcessRecord>, PluginError> {
        self.inner.get_process(p).await
    }
    async fn set_external_ref(
        &self,
        p: &str,
        r: ProcessExternalRef,
    ) -> Result<ProcessRecord, PluginError> {
        self.inner.set_external_ref(p, r).await
    }
    async fn append_event(
        &self,
        p: &str,
        r: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        self.inner.append_event(p, r).await
    }
    async fn events_after(&self, p: &str, n: u64) -> Result<Vec<ProcessEvent>, PluginError> {
        self.inner.events_after(p, n).await
    }
    async fn wake_events_after(&self, p: &str, n: u64) -> Result<Vec<ProcessEvent>, PluginError> {
        self.inner.wake_events_after(p, n).await
    }
    async fn ack_wake(&self, p: &str, n: u64) -> Result<(), PluginError> {
        self.inner.ack_wake(p, n).await
    }
    async fn wait_event_after(
        &self,
        p: &str,
        t: &str,
        n: u64,
    ) -> Result<ProcessEvent, PluginError> {
        self.inner.wait_event_after(p, t, n).await
    }
    async fn complete_process(
        &self,
        p: &str,
        o: ProcessAwaitOutput,
    ) -> Result<ProcessRecord, PluginError> {
        self.inner.complete_process(p, o).await
    }
    async fn await_process(&self, p: &str) -> Result<ProcessAwaitOutput, PluginError> {
        self.inner.await_process(p).await
    }
    async fn grant_handle(
        &self,
        s: &ProcessScope,
        p: &str,
        d: ProcessHandleDescriptor,
    ) -> Result<ProcessHandleGrant, PluginError> {
        self.inner.grant_handle(s, p, d).await
    }
    async fn revoke_handle(&self, s: &ProcessScope, p: &str) -> Result<(), PluginError> {
        self.inner.revoke_handle(s, p).await
    }
    async fn list_handle_grants(
        &self,
        s: &ProcessScope,
    ) -> Result<Vec<ProcessHandleGrantEntry>, PluginError> {
        self.inner.list_handle_grants(s).await
    }
    async fn handle_grants_for_process(
        &self,
        p: &str,
    ) -> Result<Vec<ProcessHandleGrant>, PluginError> {
        self.inner.handle_grants_for_process(p).await
    }
    async fn transfer_handle_grants(
        &self,
        from: &ProcessScope,
        to: &ProcessScope,
        ids: &[String],
    ) -> Result<(), PluginError> {
        self.inner.transfer_handle_grants(from, to, ids).await
    }
    async fn delete_session_process_state(
        &self,
        s: &str,
    ) -> Result<ProcessSessionDeleteReport, PluginError> {
        self.inner.delete_session_process_state(s).await
    }
    async fn claim_process_lease(
        &self,
        p: &str,
        owner: &str,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        self.inner.claim_process_lease(p, owner, ttl_ms).await
    }
    async fn renew_process_lease(
        &self,
        l: &ProcessLease,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        self.inner.renew_process_lease(l, ttl_ms).await
    }
    async fn complete_process_lease(&self, c: &ProcessLeaseCompletion) -> Result<(), PluginError> {
        self.inner.complete_process_lease(c).await
    }
    async fn list_non_terminal(&self) -> Result<Vec<ProcessRecord>, PluginError> {
        self.inner.list_non_terminal().await
    }
}
