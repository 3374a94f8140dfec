//! Claim bugs (L1, L2, L8, V1, B1, P1): fencing, expiry, precedence and ownership gone wrong in the ways a
//! backend's SQL or a hand-rolled state machine usually gets them wrong.

use async_trait::async_trait;
use procreg::validate::is_blank;
use procreg::{
    ErrorKind, PluginError, ProcessAwaitOutput, ProcessEventAppendRequest,
    ProcessEventAppendResult, ProcessLease, ProcessRecord,
};

use super::{Base, Broken, Twist, wrap};
use procreg::ProcessRegistry;

pub const BROKEN: &[Broken] = &[
    Broken {
        name: "leases::same_owner_reclaim_keeps_fencing",
        bug: "L2/L3: a same-owner re-claim of a live lease extends it instead of issuing a new fencing token",
        make: |clock| wrap(clock, SameOwnerReclaimKeepsFencing),
    },
    Broken {
        name: "leases::live_at_expiry_instant",
        bug: "V1: liveness is `expires_at >= now`, so a lease is still live at now == expires_at",
        make: |clock| wrap(clock, LiveAtExpiryInstant),
    },
    Broken {
        name: "leases::zero_ttl_gets_default",
        bug: "V1: a TTL of 0 is read as 'use the default TTL' (30 s) instead of born expired",
        make: |clock| wrap(clock, ZeroTtlGetsDefault),
    },
    Broken {
        name: "leases::claim_on_unknown_process",
        bug: "L1: claiming an unknown process issues a lease instead of UnknownProcess",
        make: |clock| wrap(clock, ClaimOnUnknownProcess),
    },
    Broken {
        name: "leases::claim_on_terminal_process",
        bug: "L1: claiming a terminal process issues a lease instead of AlreadyTerminal",
        make: |clock| wrap(clock, ClaimOnTerminalProcess),
    },
    Broken {
        name: "leases::same_owner_gets_lease_held",
        bug: "L2: the same owner re-claiming its live lease gets LeaseHeld",
        make: |clock| wrap(clock, SameOwnerGetsLeaseHeld),
    },
    Broken {
        name: "leases::blank_owner_accepted",
        bug: "L1/B1: a blank owner id is accepted",
        make: |clock| wrap(clock, BlankOwnerAccepted),
    },
    Broken {
        name: "leases::terminal_event_releases_lease",
        bug: "L8: a terminal event (or completion) also releases the process's lease",
        make: |clock| wrap(clock, TerminalEventReleasesLease),
    },
    Broken {
        name: "leases::lease_checked_before_status",
        bug: "L1/P1: claim checks the lease before the status, so a terminal process with a live lease answers LeaseHeld, not AlreadyTerminal",
        make: |clock| wrap(clock, LeaseCheckedBeforeStatus),
    },
    Broken {
        name: "leases::owner_validated_before_process",
        bug: "L1/P1: claim validates the owner first, so a blank owner on an unknown process answers InvalidRequest, not UnknownProcess",
        make: |clock| wrap(clock, OwnerValidatedBeforeProcess),
    },
    Broken {
        name: "leases::lease_held_names_claimant",
        bug: "L1: LeaseHeld names the caller's owner id instead of the holder's",
        make: |clock| wrap(clock, LeaseHeldNamesClaimant),
    },
];

/// The stored lease of `process_id` (live or expired) in the reference state.
pub(super) fn stored_lease(base: &Base, process_id: &str) -> Option<ProcessLease> {
    base.model().current_lease(process_id).cloned()
}

/// The stored lease when it is live now (V1).
fn live_lease(base: &Base, process_id: &str) -> Option<ProcessLease> {
    stored_lease(base, process_id).filter(|l| l.is_live_at(base.now()))
}

fn lease_held(lease: &ProcessLease) -> PluginError {
    PluginError::LeaseHeld {
        process_id: lease.process_id.clone(),
        holder_owner_id: lease.owner_id.clone(),
        expires_at_ms: lease.expires_at_ms,
    }
}

/// A lease the registry did not store (what a backend that skips a check hands out).
fn made_up_lease(base: &Base, process_id: &str, owner_id: &str, ttl_ms: u64) -> ProcessLease {
    let fencing = base.model().highest_fencing_token(process_id) + 1;
    ProcessLease {
        process_id: process_id.to_owned(),
        owner_id: owner_id.to_owned(),
        lease_token: format!("lease-{fencing}"),
        fencing_token: fencing,
        claimed_at_ms: base.now(),
        expires_at_ms: base.now().saturating_add(ttl_ms),
    }
}

/// Whether `presented` names the stored lease (owner and both tokens).
pub(super) fn same_lease(stored: &ProcessLease, presented: &ProcessLease) -> bool {
    stored.owner_id == presented.owner_id
        && stored.lease_token == presented.lease_token
        && stored.fencing_token == presented.fencing_token
}

struct SameOwnerReclaimKeepsFencing;

#[async_trait]
impl Twist for SameOwnerReclaimKeepsFencing {
    async fn claim_process_lease(
        &self,
        base: &Base,
        process_id: &str,
        owner_id: &str,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        let record = base.record(process_id).await;
        if let Some(live) = live_lease(base, process_id)
            && live.owner_id == owner_id
            && record.is_some_and(|r| !r.is_terminal())
        {
            return base.inner.renew_process_lease(&live, ttl_ms).await;
        }
        base.inner
            .claim_process_lease(process_id, owner_id, ttl_ms)
            .await
    }
}

struct LiveAtExpiryInstant;

#[async_trait]
impl Twist for LiveAtExpiryInstant {
    async fn claim_process_lease(
        &self,
        base: &Base,
        process_id: &str,
        owner_id: &str,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        let running = base
            .record(process_id)
            .await
            .is_some_and(|r| !r.is_terminal());
        if let Some(lease) = stored_lease(base, process_id)
            && running
            && !is_blank(owner_id)
            && lease.owner_id != owner_id
            && lease.expires_at_ms == base.now()
        {
            return Err(lease_held(&lease));
        }
        base.inner
            .claim_process_lease(process_id, owner_id, ttl_ms)
            .await
    }

    async fn renew_process_lease(
        &self,
        base: &Base,
        lease: &ProcessLease,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        if let Some(stored) = stored_lease(base, &lease.process_id)
            && same_lease(&stored, lease)
            && stored.expires_at_ms == base.now()
        {
            return Ok(ProcessLease {
                expires_at_ms: base.now().saturating_add(ttl_ms),
                ..stored
            });
        }
        base.inner.renew_process_lease(lease, ttl_ms).await
    }
}

struct ZeroTtlGetsDefault;

const DEFAULT_TTL_MS: u64 = 30_000;

#[async_trait]
impl Twist for ZeroTtlGetsDefault {
    async fn claim_process_lease(
        &self,
        base: &Base,
        process_id: &str,
        owner_id: &str,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        let ttl_ms = if ttl_ms == 0 { DEFAULT_TTL_MS } else { ttl_ms };
        base.inner
            .claim_process_lease(process_id, owner_id, ttl_ms)
            .await
    }

    async fn renew_process_lease(
        &self,
        base: &Base,
        lease: &ProcessLease,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        let ttl_ms = if ttl_ms == 0 { DEFAULT_TTL_MS } else { ttl_ms };
        base.inner.renew_process_lease(lease, ttl_ms).await
    }
}

struct ClaimOnUnknownProcess;

#[async_trait]
impl Twist for ClaimOnUnknownProcess {
    async fn claim_process_lease(
        &self,
        base: &Base,
        process_id: &str,
        owner_id: &str,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        if base.record(process_id).await.is_none() && !is_blank(owner_id) {
            return Ok(made_up_lease(base, process_id, owner_id, ttl_ms));
        }
        base.inner
            .claim_process_lease(process_id, owner_id, ttl_ms)
            .await
    }
}

struct ClaimOnTerminalProcess;

#[async_trait]
impl Twist for ClaimOnTerminalProcess {
    async fn claim_process_lease(
        &self,
        base: &Base,
        process_id: &str,
        owner_id: &str,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        let result = base
            .inner
            .claim_process_lease(process_id, owner_id, ttl_ms)
            .await;
        match result {
            Err(e) if e.kind() == ErrorKind::AlreadyTerminal => {
                if let Some(live) = live_lease(base, process_id)
                    && live.owner_id != owner_id
                {
                    return Err(lease_held(&live));
                }
                Ok(made_up_lease(base, process_id, owner_id, ttl_ms))
            }
            other => other,
        }
    }
}

struct SameOwnerGetsLeaseHeld;

#[async_trait]
impl Twist for SameOwnerGetsLeaseHeld {
    async fn claim_process_lease(
        &self,
        base: &Base,
        process_id: &str,
        owner_id: &str,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        let running = base
            .record(process_id)
            .await
            .is_some_and(|r| !r.is_terminal());
        if let Some(live) = live_lease(base, process_id)
            && running
            && live.owner_id == owner_id
        {
            return Err(lease_held(&live));
        }
        base.inner
            .claim_process_lease(process_id, owner_id, ttl_ms)
            .await
    }
}

struct BlankOwnerAccepted;

const ANONYMOUS: &str = "anonymous-owner";

#[async_trait]
impl Twist for BlankOwnerAccepted {
    async fn claim_process_lease(
        &self,
        base: &Base,
        process_id: &str,
        owner_id: &str,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        if !is_blank(owner_id) {
            return base
                .inner
                .claim_process_lease(process_id, owner_id, ttl_ms)
                .await;
        }
        let mut lease = base
            .inner
            .claim_process_lease(process_id, ANONYMOUS, ttl_ms)
            .await?;
        lease.owner_id = owner_id.to_owned();
        Ok(lease)
    }
}

struct TerminalEventReleasesLease;

impl TerminalEventReleasesLease {
    async fn release(&self, base: &Base, process_id: &str) -> Result<(), PluginError> {
        match stored_lease(base, process_id) {
            Some(lease) => base.inner.complete_process_lease(&lease.completion()).await,
            None => Ok(()),
        }
    }
}

#[async_trait]
impl Twist for TerminalEventReleasesLease {
    async fn append_event(
        &self,
        base: &Base,
        process_id: &str,
        request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        let result = base.inner.append_event(process_id, request).await?;
        if result.event.terminal.is_some() && !result.replayed {
            self.release(base, process_id).await?;
        }
        Ok(result)
    }

    async fn complete_process(
        &self,
        base: &Base,
        process_id: &str,
        output: ProcessAwaitOutput,
    ) -> Result<ProcessRecord, PluginError> {
        let record = base.inner.complete_process(process_id, output).await?;
        self.release(base, process_id).await?;
        Ok(record)
    }
}

struct LeaseCheckedBeforeStatus;

#[async_trait]
impl Twist for LeaseCheckedBeforeStatus {
    async fn claim_process_lease(
        &self,
        base: &Base,
        process_id: &str,
        owner_id: &str,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        if let Some(live) = live_lease(base, process_id)
            && !is_blank(owner_id)
            && live.owner_id != owner_id
        {
            return Err(lease_held(&live));
        }
        base.inner
            .claim_process_lease(process_id, owner_id, ttl_ms)
            .await
    }
}

struct OwnerValidatedBeforeProcess;

#[async_trait]
impl Twist for OwnerValidatedBeforeProcess {
    async fn claim_process_lease(
        &self,
        base: &Base,
        process_id: &str,
        owner_id: &str,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        if is_blank(owner_id) {
            return Err(PluginError::invalid_request("owner id is blank"));
        }
        base.inner
            .claim_process_lease(process_id, owner_id, ttl_ms)
            .await
    }
}

struct LeaseHeldNamesClaimant;

#[async_trait]
impl Twist for LeaseHeldNamesClaimant {
    async fn claim_process_lease(
        &self,
        base: &Base,
        process_id: &str,
        owner_id: &str,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        let answer = base
            .inner
            .claim_process_lease(process_id, owner_id, ttl_ms)
            .await;
        match answer {
            Err(PluginError::LeaseHeld {
                process_id,
                expires_at_ms,
                ..
            }) => Err(PluginError::LeaseHeld {
                process_id,
                holder_owner_id: owner_id.to_owned(),
                expires_at_ms,
            }),
            other => other,
        }
    }
}
