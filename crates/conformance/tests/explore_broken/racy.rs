//! `Racy`: a registry built on `MemoryRegistry` that keeps leases, replay keys and wait
//! notifications in its own side tables, as a backend over a plain database would. Each
//! side table has a check and a write; with `Bug::None` nothing can run between them, and each
//! bug puts one await point (a database round trip) between the check and the write. A
//! zero-time await (`yield_now`) is a window racing tasks can hit without any latency, so the
//! law catalogue's concurrency laws catch it too; a round trip of virtual time
//! (`procreg_sim::executor::sleep`, instant outside the simulator) is a window only simulated
//! latency opens, so only the explorer sees it.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use async_trait::async_trait;
use procreg::{
    DurabilityTier, PluginError, ProcessAwaitOutput, ProcessEvent, ProcessEventAppendRequest,
    ProcessEventAppendResult, ProcessExternalRef, ProcessHandleDescriptor, ProcessHandleGrant,
    ProcessHandleGrantEntry, ProcessLease, ProcessLeaseCompletion, ProcessRecord,
    ProcessRegistration, ProcessRegistry, ProcessScope, ProcessSessionDeleteReport, SharedClock,
};
use procreg_reference::MemoryRegistry;
use tokio::sync::Notify;

use super::keys::KeyTable;
use super::leases::LeaseSlot;

/// Which await point `Racy` puts between a check and its write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// None: every check and its write run without an await between them.
    None,
    /// A claim yields between "is it held?" and "record my lease" (L1, L2 -> W2, W3).
    ClaimRace,
    /// A renew checks the lease, then writes the extension after a slow round trip,
    /// overwriting whatever lease is current by then (L3, L4 -> W2).
    RenewRace,
    /// A wait checks the log, then subscribes to the notification a round trip later, missing
    /// an append in between (E14).
    LateWakeSubscription,
    /// A keyed append checks the replay-key table, yields, then appends and records the key:
    /// two concurrent appends with one key both append (E2).
    ReplayRace,
    /// A transfer checks every grant, then moves them one call at a time: a concurrent
    /// change between two moves leaves it half done (H7).
    TransferPiecewise,
    /// Not a race: every renew panics (the explorer must contain it and class it `panic`).
    RenewPanics,
    /// Not a race: a claim never returns (the explorer must report a deadlock).
    ClaimHangs,
}

/// Suspends once, letting every other ready task run (a zero-time database round trip).
pub fn yield_now() -> impl Future<Output = ()> + Send {
    struct YieldNow(bool);
    impl Future for YieldNow {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                return Poll::Ready(());
            }
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
    YieldNow(false)
}

/// See the module docs.
pub struct Racy {
    pub(super) inner: MemoryRegistry,
    pub(super) clock: SharedClock,
    pub(super) bug: Bug,
    pub(super) leases: Mutex<BTreeMap<String, LeaseSlot>>,
    pub(super) keys: Mutex<KeyTable>,
    channels: Mutex<BTreeMap<(String, String), Arc<Notify>>>,
}

impl Racy {
    pub fn new(clock: SharedClock, bug: Bug) -> Self {
        Self {
            inner: MemoryRegistry::new(clock.clone()),
            clock,
            bug,
            leases: Mutex::default(),
            keys: Mutex::default(),
            channels: Mutex::default(),
        }
    }

    pub(super) fn channel(&self, process_id: &str, event_type: &str) -> Arc<Notify> {
        let mut channels = self.channels.lock().unwrap();
        let key = (process_id.to_owned(), event_type.to_owned());
        Arc::clone(channels.entry(key).or_default())
    }

    /// Wakes the waiters of `event`'s (process, type) channel.
    pub(super) fn announce(&self, event: &ProcessEvent) {
        self.channel(&event.process_id, &event.event_type)
            .notify_waiters();
    }

    async fn wait(
        &self,
        process_id: &str,
        event_type: &str,
        after: u64,
    ) -> Result<ProcessEvent, PluginError> {
        let record = self.inner.get_process(process_id).await?;
        let record = record.ok_or_else(|| PluginError::unknown_process(process_id))?;
        if record.event_type(event_type).is_none() {
            return Err(PluginError::UndeclaredEventType {
                process_id: process_id.to_owned(),
                event_type: event_type.to_owned(),
            });
        }
        let channel = self.channel(process_id, event_type);
        loop {
            // A `Notified` hears every `notify_waiters` from its creation on: creating it
            // BEFORE looking is what makes the wait lose nothing (E14).
            let early = (self.bug != Bug::LateWakeSubscription).then(|| channel.notified());
            let events = self.events_after(process_id, after).await?;
            if let Some(event) = events.into_iter().find(|e| e.event_type == event_type) {
                return Ok(event);
            }
            match early {
                Some(notified) => notified.await,
                None => {
                    procreg_sim::executor::sleep(2).await; // the subscription's round trip
                    channel.notified().await;
                }
            }
        }
    }
}

#[async_trait]
impl ProcessRegistry for Racy {
    fn durability_tier(&self) -> DurabilityTier {
        DurabilityTier::Inline
    }
    async fn register_process(
        &self,
        registration: ProcessRegistration,
    ) -> Result<ProcessRecord, PluginError> {
        self.inner.register_process(registration).await
    }
    async fn get_process(&self, process_id: &str) -> Result<Option<ProcessRecord>, PluginError> {
        self.inner.get_process(process_id).await
    }
    async fn set_external_ref(
        &self,
        process_id: &str,
        external_ref: ProcessExternalRef,
    ) -> Result<ProcessRecord, PluginError> {
        self.inner.set_external_ref(process_id, external_ref).await
    }
    async fn append_event(
        &self,
        process_id: &str,
        request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        self.keyed_append(process_id, request).await
    }
    async fn events_after(
        &self,
        process_id: &str,
        after_sequence: u64,
    ) -> Result<Vec<ProcessEvent>, PluginError> {
        let events = self.inner.events_after(process_id, after_sequence).await?;
        Ok(self.with_keys(events))
    }
    async fn wake_events_after(
        &self,
        process_id: &str,
        after_sequence: u64,
    ) -> Result<Vec<ProcessEvent>, PluginError> {
        let events = self
            .inner
            .wake_events_after(process_id, after_sequence)
            .await?;
        Ok(self.with_keys(events))
    }
    async fn ack_wake(&self, process_id: &str, sequence: u64) -> Result<(), PluginError> {
        self.inner.ack_wake(process_id, sequence).await
    }
    async fn wait_event_after(
        &self,
        process_id: &str,
        event_type: &str,
        after_sequence: u64,
    ) -> Result<ProcessEvent, PluginError> {
        self.wait(process_id, event_type, after_sequence).await
    }
    async fn complete_process(
        &self,
        process_id: &str,
        output: ProcessAwaitOutput,
    ) -> Result<ProcessRecord, PluginError> {
        let before = self
            .inner
            .events_after(process_id, 0)
            .await
            .map(|e| e.len())
            .unwrap_or(0);
        let record = self.inner.complete_process(process_id, output).await?;
        for event in self.inner.events_after(process_id, before as u64).await? {
            self.announce(&event);
        }
        Ok(record)
    }
    async fn await_process(&self, process_id: &str) -> Result<ProcessAwaitOutput, PluginError> {
        self.inner.await_process(process_id).await
    }
    async fn grant_handle(
        &self,
        scope: &ProcessScope,
        process_id: &str,
        descriptor: ProcessHandleDescriptor,
    ) -> Result<ProcessHandleGrant, PluginError> {
        self.inner.grant_handle(scope, process_id, descriptor).await
    }
    async fn revoke_handle(
        &self,
        scope: &ProcessScope,
        process_id: &str,
    ) -> Result<(), PluginError> {
        self.inner.revoke_handle(scope, process_id).await
    }
    async fn list_handle_grants(
        &self,
        scope: &ProcessScope,
    ) -> Result<Vec<ProcessHandleGrantEntry>, PluginError> {
        self.inner.list_handle_grants(scope).await
    }
    async fn handle_grants_for_process(
        &self,
        process_id: &str,
    ) -> Result<Vec<ProcessHandleGrant>, PluginError> {
        self.inner.handle_grants_for_process(process_id).await
    }
    async fn transfer_handle_grants(
        &self,
        from: &ProcessScope,
        to: &ProcessScope,
        process_ids: &[String],
    ) -> Result<(), PluginError> {
        self.transfer(from, to, process_ids).await
    }
    async fn delete_session_process_state(
        &self,
        session_id: &str,
    ) -> Result<ProcessSessionDeleteReport, PluginError> {
        self.inner.delete_session_process_state(session_id).await
    }
    async fn claim_process_lease(
        &self,
        process_id: &str,
        owner_id: &str,
        lease_ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        self.claim(process_id, owner_id, lease_ttl_ms).await
    }
    async fn renew_process_lease(
        &self,
        lease: &ProcessLease,
        lease_ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        self.renew(lease, lease_ttl_ms).await
    }
    async fn complete_process_lease(
        &self,
        completion: &ProcessLeaseCompletion,
    ) -> Result<(), PluginError> {
        self.release(completion);
        Ok(())
    }
    async fn list_non_terminal(&self) -> Result<Vec<ProcessRecord>, PluginError> {
        self.inner.list_non_terminal().await
    }
}

/// `Racy` with one planted bug as a simulator target (Inline: never crashed).
pub struct RacyTarget(pub Bug);

#[async_trait(?Send)]
impl procreg_sim::SimTarget for RacyTarget {
    fn name(&self) -> String {
        format!("racy-{:?}", self.0)
    }
    fn durable(&self) -> bool {
        false
    }
    async fn open(&mut self, clock: SharedClock) -> Result<Arc<dyn ProcessRegistry>, PluginError> {
        Ok(Arc::new(Racy::new(clock, self.0)))
    }
    async fn crash_and_reopen(
        &mut self,
        old: Arc<dyn ProcessRegistry>,
        clock: SharedClock,
        _rng: &mut procreg_sim::rng::SimRng,
    ) -> Result<Arc<dyn ProcessRegistry>, PluginError> {
        drop(old);
        self.open(clock).await
    }
}
