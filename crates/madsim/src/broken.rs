//! Broken registries cluster mode must find (each one realistic bug), as sim targets.
//!
//! - [`WallClockLeases`]: a lease reaper that reads the wall clock. Leases are stamped from the
//!   injected clock, but the registry also keeps each lease's deadline in whole Unix seconds
//!   read from `SystemTime::now()` (`now_s + ttl_ms / 1000`, integer division, as a seconds
//!   column or an `EXPIREAT` would), and when another owner claims a process whose wall-clock
//!   deadline has passed, it releases the holder's lease first. A 100 ms lease is thus reaped as
//!   soon as the wall clock's second ticks over, up to 100 ms early, while its holder still
//!   works. In the core world the wall clock is the machine's and a run lasts milliseconds, so
//!   a second rarely ticks during one and which seeds fail depends on when they run; madsim
//!   simulates `SystemTime` from the seed, so here every failing seed fails again.
//! - [`lying_sync_target`]: `FileRegistry` on a disk whose `sync` returns at once without making
//!   anything durable (a write cache that lies): the registry acknowledges before persisting,
//!   and a kill of the server node loses acknowledged writes (D2).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use procreg::{
    PluginError, ProcessAwaitOutput, ProcessEvent, ProcessEventAppendRequest,
    ProcessEventAppendResult, ProcessExternalRef, ProcessHandleDescriptor, ProcessHandleGrant,
    ProcessHandleGrantEntry, ProcessLease, ProcessLeaseCompletion, ProcessRecord,
    ProcessRegistration, ProcessRegistry, ProcessScope, ProcessSessionDeleteReport, SharedClock,
};
use procreg_reference::MemoryRegistry;
use procreg_sim::rng::SimRng;
use procreg_sim::{LyingSync, SimFileTarget, SimTarget};

/// Whole wall-clock seconds since the Unix epoch: the bug reads these, not the injected clock.
fn wall_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `MemoryRegistry` with a wall-clock lease reaper. See the module docs.
#[derive(Debug)]
pub struct WallClockLeases {
    inner: MemoryRegistry,
    /// Per process: the last lease handed out and its wall-clock deadline, whole seconds.
    leases: Mutex<BTreeMap<String, (ProcessLease, u64)>>,
}

impl WallClockLeases {
    /// A registry stamping times from `clock` (and reaping leases by the wall clock).
    pub fn new(clock: SharedClock) -> Self {
        Self {
            inner: MemoryRegistry::new(clock),
            leases: Mutex::new(BTreeMap::new()),
        }
    }

    fn leases(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, (ProcessLease, u64)>> {
        self.leases.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn remember(&self, lease: &ProcessLease, ttl_ms: u64) {
        let deadline_s = wall_seconds() + ttl_ms / 1000;
        self.leases()
            .insert(lease.process_id.clone(), (lease.clone(), deadline_s));
    }
}

#[async_trait]
impl ProcessRegistry for WallClockLeases {
    async fn claim_process_lease(
        &self,
        p: &str,
        owner: &str,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        let held = self.leases().get(p).cloned();
        if let Some((lease, deadline_s)) = held
            && lease.owner_id != owner
            && wall_seconds() > deadline_s
        {
            // The reaper: by the wall clock the holder's lease is over, so release it.
            let _ = self.inner.complete_process_lease(&lease.completion()).await;
            self.leases().remove(p);
        }
        let lease = self.inner.claim_process_lease(p, owner, ttl_ms).await?;
        self.remember(&lease, ttl_ms);
        Ok(lease)
    }
    async fn renew_process_lease(
        &self,
        l: &ProcessLease,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        let lease = self.inner.renew_process_lease(l, ttl_ms).await?;
        self.remember(&lease, ttl_ms);
        Ok(lease)
    }
    async fn complete_process_lease(&self, c: &ProcessLeaseCompletion) -> Result<(), PluginError> {
        self.inner.complete_process_lease(c).await?;
        self.leases().remove(&c.process_id);
        Ok(())
    }
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
    async fn list_non_terminal(&self) -> Result<Vec<ProcessRecord>, PluginError> {
        self.inner.list_non_terminal().await
    }
}

/// [`WallClockLeases`] as a sim target (Inline, like `MemoryTarget`).
#[derive(Debug, Default)]
pub struct WallClockTarget;

#[async_trait(?Send)]
impl SimTarget for WallClockTarget {
    fn name(&self) -> String {
        "broken:wall-clock-leases".into()
    }

    fn durable(&self) -> bool {
        false
    }

    async fn open(&mut self, clock: SharedClock) -> Result<Arc<dyn ProcessRegistry>, PluginError> {
        Ok(Arc::new(WallClockLeases::new(clock)))
    }

    async fn crash_and_reopen(
        &mut self,
        old: Arc<dyn ProcessRegistry>,
        clock: SharedClock,
        _rng: &mut SimRng,
    ) -> Result<Arc<dyn ProcessRegistry>, PluginError> {
        drop(old);
        self.open(clock).await
    }
}

/// `FileRegistry` over a [`SimStorage`] behind [`LyingSync`] (declares Durable). See the
/// module docs.
pub fn lying_sync_target() -> SimFileTarget {
    SimFileTarget::new().through("broken:file-on-lying-sync", |disk| {
        Arc::new(LyingSync(disk))
    })
}
