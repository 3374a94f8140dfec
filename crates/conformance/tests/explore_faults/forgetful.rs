//! `Forgetful`: `FileRegistry` on simulated storage behind a wrapper that issues its OWN lease
//! identities — fencing tokens or lease tokens — from a per-process counter, and translates
//! them back to the real lease for renew and release through an in-memory map.
//!
//! Why it exists: D3 and L6 say a reopen never reuses a fence or lease token issued before a
//! crash. With [`Forgets::Nothing`] the wrapper derives its identities from the durable
//! fencing counter (the fix); with a bug the counter lives only in memory and restarts at 0
//! on every open, so after a registry crash old fences (W3, D3, W4) or old lease tokens (D3;
//! a stale holder's release then frees the new holder's lease) come back. No law run crashes
//! the registry, so only the explorer's crash plans can see either bug.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use procreg::{
    DurabilityTier, PluginError, ProcessLease, ProcessLeaseCompletion, ProcessRegistry, SharedClock,
};
use procreg_reference::FileRegistry;
use procreg_sim::plan::StorageFaults;
use procreg_sim::rng::SimRng;
use procreg_sim::{SimFileTarget, SimTarget};

use super::forward::forwarding_impl;

/// Which lease identity the wrapper keeps in memory only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forgets {
    /// Nothing: fences are the store's, lease tokens `t<fence>` (unique because fences are).
    Nothing,
    /// Fences come from a counter that restarts at 0 on open (D3/L6 -> W3, W4).
    FencingCounter,
    /// Lease tokens `t<n>` come from a counter that restarts at 0 on open (D3/L6).
    LeaseTokens,
}

/// What the wrapper handed out for one real lease.
#[derive(Clone, Debug)]
struct Issued {
    real: ProcessLease,
    fence: u64,
    token: String,
}

/// See the module docs.
pub struct Forgetful {
    inner: Arc<FileRegistry>,
    forgets: Forgets,
    /// Per process: the last number issued in this incarnation (only used by the bugs).
    counters: Mutex<BTreeMap<String, u64>>,
    /// (process, issued lease token) -> the real lease behind it.
    issued: Mutex<BTreeMap<(String, String), Issued>>,
}

impl Forgetful {
    pub fn new(inner: Arc<FileRegistry>, forgets: Forgets) -> Self {
        Self {
            inner,
            forgets,
            counters: Mutex::default(),
            issued: Mutex::default(),
        }
    }

    fn next_number(&self, process_id: &str) -> u64 {
        let mut counters = self.counters.lock().unwrap();
        let counter = counters.entry(process_id.to_owned()).or_insert(0);
        *counter += 1; // BUG (when used): starts again at 1 after every open
        *counter
    }

    /// The lease the caller sees for `real`, remembered for the way back.
    fn issue(&self, real: ProcessLease) -> ProcessLease {
        let (fence, token) = match self.forgets {
            Forgets::Nothing => (real.fencing_token, format!("t{}", real.fencing_token)),
            Forgets::FencingCounter => {
                (self.next_number(&real.process_id), real.lease_token.clone())
            }
            Forgets::LeaseTokens => (
                real.fencing_token,
                format!("t{}", self.next_number(&real.process_id)),
            ),
        };
        let issued = Issued {
            real: real.clone(),
            fence,
            token: token.clone(),
        };
        let key = (real.process_id.clone(), token);
        self.issued.lock().unwrap().insert(key, issued.clone());
        shown(&real, &issued)
    }

    /// The real lease behind an issued token. A miss after a reopen: the fix reads it back
    /// from the store (its tokens are `t<fence>`); the bugs pass the token through unchanged.
    fn real_of(&self, process_id: &str, token: &str) -> Option<Issued> {
        let key = (process_id.to_owned(), token.to_owned());
        if let Some(issued) = self.issued.lock().unwrap().get(&key) {
            return Some(issued.clone());
        }
        if self.forgets != Forgets::Nothing {
            return None;
        }
        let model = self.inner.engine().model_snapshot().ok()?;
        let real = model.current_lease(process_id)?.clone();
        (token == format!("t{}", real.fencing_token)).then(|| Issued {
            fence: real.fencing_token,
            token: token.to_owned(),
            real,
        })
    }
}

/// `real` as the caller sees it under `issued`'s identity.
fn shown(real: &ProcessLease, issued: &Issued) -> ProcessLease {
    ProcessLease {
        fencing_token: issued.fence,
        lease_token: issued.token.clone(),
        ..real.clone()
    }
}

forwarding_impl!(
    Forgetful;
    [
        register_process,
        get_process,
        set_external_ref,
        append_event,
        events_after,
        wake_events_after,
        ack_wake,
        wait_event_after,
        complete_process,
        await_process,
        grant_handle,
        revoke_handle,
        list_handle_grants,
        handle_grants_for_process,
        transfer_handle_grants,
        delete_session_process_state,
        list_non_terminal,
    ];
    fn durability_tier(&self) -> DurabilityTier {
        self.inner.durability_tier()
    }


    async fn claim_process_lease(
        &self,
        process_id: &str,
        owner_id: &str,
        lease_ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        let real = self
            .inner
            .claim_process_lease(process_id, owner_id, lease_ttl_ms)
            .await?;
        Ok(self.issue(real))
    }

    async fn renew_process_lease(
        &self,
        lease: &ProcessLease,
        lease_ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        let found = self.real_of(&lease.process_id, &lease.lease_token);
        let Some(issued) = found.filter(|i| i.fence == lease.fencing_token) else {
            // Not one of ours: the store judges it as presented (LeaseLost, normally).
            return self.inner.renew_process_lease(lease, lease_ttl_ms).await;
        };
        let presented = ProcessLease {
            owner_id: lease.owner_id.clone(),
            ..issued.real.clone()
        };
        let renewed = self
            .inner
            .renew_process_lease(&presented, lease_ttl_ms)
            .await?;
        Ok(shown(&renewed, &issued))
    }

    async fn complete_process_lease(
        &self,
        completion: &ProcessLeaseCompletion,
    ) -> Result<(), PluginError> {
        let real = match self.real_of(&completion.process_id, &completion.lease_token) {
            Some(issued) => ProcessLeaseCompletion::from(&issued.real),
            None => completion.clone(),
        };
        self.inner.complete_process_lease(&real).await
    }
);

/// [`Forgetful`] over a [`SimFileTarget`]: every open and reopen wraps the fresh
/// `FileRegistry` in a fresh wrapper (its counters and map start empty).
pub struct ForgetfulTarget {
    file: SimFileTarget,
    forgets: Forgets,
}

impl ForgetfulTarget {
    pub fn new(forgets: Forgets) -> Self {
        Self {
            file: SimFileTarget::new(),
            forgets,
        }
    }

    fn wrap(&self) -> Result<Arc<dyn ProcessRegistry>, PluginError> {
        let inner = self
            .file
            .registry()
            .ok_or_else(|| PluginError::storage("the file target opened nothing"))?;
        Ok(Arc::new(Forgetful::new(Arc::clone(inner), self.forgets)))
    }
}

#[async_trait(?Send)]
impl SimTarget for ForgetfulTarget {
    fn name(&self) -> String {
        format!("forgetful-{:?}", self.forgets)
    }

    fn durable(&self) -> bool {
        true
    }

    fn set_storage_faults(&mut self, faults: &StorageFaults) {
        self.file.set_storage_faults(faults);
    }

    async fn open(&mut self, clock: SharedClock) -> Result<Arc<dyn ProcessRegistry>, PluginError> {
        self.file.open(clock).await?;
        self.wrap()
    }

    async fn crash_and_reopen(
        &mut self,
        old: Arc<dyn ProcessRegistry>,
        clock: SharedClock,
        rng: &mut SimRng,
    ) -> Result<Arc<dyn ProcessRegistry>, PluginError> {
        // The wrapper holds the old FileRegistry; the file target drops both before the disk
        // comes back (D7).
        self.file.crash_and_reopen(old, clock, rng).await?;
        self.wrap()
    }
}
