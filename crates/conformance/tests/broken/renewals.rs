//! Renew and release bugs (L3-L6): renewals that check too little or change too much, releases
//! that free the wrong lease or reset the fencing counter, fencing tokens off by one.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use procreg::{ErrorKind, PluginError, ProcessLease, ProcessLeaseCompletion, ProcessRegistry};

use super::leases::{same_lease, stored_lease};
use super::{Base, Broken, Twist, wrap};

pub const BROKEN: &[Broken] = &[
    Broken {
        name: "renewals::renew_checks_owner_only",
        bug: "L3/L4: renew matches the owner id and ignores both tokens, so a lease superseded by the same owner still renews",
        make: |clock| wrap(clock, RenewChecksOwnerOnly),
    },
    Broken {
        name: "renewals::renew_ignores_fencing_token",
        bug: "L4: renew matches owner and lease token but not the fencing token",
        make: |clock| wrap(clock, RenewIgnoresFencingToken),
    },
    Broken {
        name: "renewals::renew_revives_expired_lease",
        bug: "L4: renew of an expired (but not superseded) lease succeeds",
        make: |clock| wrap(clock, RenewRevivesExpiredLease),
    },
    Broken {
        name: "renewals::renew_resets_claimed_at",
        bug: "L4: renew sets claimed_at_ms to now",
        make: |clock| wrap(clock, RenewResetsClaimedAt),
    },
    Broken {
        name: "renewals::renew_extends_from_old_expiry",
        bug: "L4: renew sets expires_at = old expires_at + ttl instead of now + ttl",
        make: |clock| wrap(clock, RenewExtendsFromOldExpiry),
    },
    Broken {
        name: "renewals::release_resets_fencing_counter",
        bug: "L5/L6: releasing a lease deletes its row, so the next claim starts fencing at 1 again",
        make: |clock| wrap(clock, ReleaseResetsFencingCounter::default()),
    },
    Broken {
        name: "renewals::stale_release_frees_live_lease",
        bug: "L5: release ignores the lease token, so a stale completion releases the live lease",
        make: |clock| wrap(clock, StaleReleaseFreesLiveLease),
    },
    Broken {
        name: "renewals::fencing_starts_at_zero",
        bug: "L2: the fencing token is the counter read before its increment, so the first claim gets 0",
        make: |clock| wrap(clock, FencingStartsAtZero),
    },
];

struct RenewChecksOwnerOnly;

#[async_trait]
impl Twist for RenewChecksOwnerOnly {
    async fn renew_process_lease(
        &self,
        base: &Base,
        lease: &ProcessLease,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        match stored_lease(base, &lease.process_id) {
            Some(stored) if stored.owner_id == lease.owner_id => {
                base.inner.renew_process_lease(&stored, ttl_ms).await
            }
            _ => base.inner.renew_process_lease(lease, ttl_ms).await,
        }
    }
}

struct RenewIgnoresFencingToken;

#[async_trait]
impl Twist for RenewIgnoresFencingToken {
    async fn renew_process_lease(
        &self,
        base: &Base,
        lease: &ProcessLease,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        match stored_lease(base, &lease.process_id) {
            Some(stored)
                if stored.owner_id == lease.owner_id && stored.lease_token == lease.lease_token =>
            {
                base.inner.renew_process_lease(&stored, ttl_ms).await
            }
            _ => base.inner.renew_process_lease(lease, ttl_ms).await,
        }
    }
}

struct RenewRevivesExpiredLease;

#[async_trait]
impl Twist for RenewRevivesExpiredLease {
    async fn renew_process_lease(
        &self,
        base: &Base,
        lease: &ProcessLease,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        match base.inner.renew_process_lease(lease, ttl_ms).await {
            Err(e) if e.kind() == ErrorKind::LeaseLost => {
                match stored_lease(base, &lease.process_id) {
                    Some(stored) if same_lease(&stored, lease) => Ok(ProcessLease {
                        expires_at_ms: base.now().saturating_add(ttl_ms),
                        ..stored
                    }),
                    _ => Err(e),
                }
            }
            other => other,
        }
    }
}

struct RenewResetsClaimedAt;

#[async_trait]
impl Twist for RenewResetsClaimedAt {
    async fn renew_process_lease(
        &self,
        base: &Base,
        lease: &ProcessLease,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        let mut renewed = base.inner.renew_process_lease(lease, ttl_ms).await?;
        renewed.claimed_at_ms = base.now();
        Ok(renewed)
    }
}

struct RenewExtendsFromOldExpiry;

#[async_trait]
impl Twist for RenewExtendsFromOldExpiry {
    async fn renew_process_lease(
        &self,
        base: &Base,
        lease: &ProcessLease,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        let before = stored_lease(base, &lease.process_id);
        let mut renewed = base.inner.renew_process_lease(lease, ttl_ms).await?;
        if let Some(before) = before {
            renewed.expires_at_ms = before.expires_at_ms.saturating_add(ttl_ms);
        }
        Ok(renewed)
    }
}

/// Fencing tokens shown to callers are the reference's minus the counter at the last release.
#[derive(Default)]
struct ReleaseResetsFencingCounter {
    offsets: Mutex<BTreeMap<String, u64>>,
}

impl ReleaseResetsFencingCounter {
    fn offset(&self, process_id: &str) -> u64 {
        let offsets = self.offsets.lock().unwrap();
        offsets.get(process_id).copied().unwrap_or(0)
    }
}

#[async_trait]
impl Twist for ReleaseResetsFencingCounter {
    async fn claim_process_lease(
        &self,
        base: &Base,
        process_id: &str,
        owner_id: &str,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        let mut lease = base
            .inner
            .claim_process_lease(process_id, owner_id, ttl_ms)
            .await?;
        lease.fencing_token -= self.offset(process_id);
        Ok(lease)
    }

    async fn renew_process_lease(
        &self,
        base: &Base,
        lease: &ProcessLease,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        let offset = self.offset(&lease.process_id);
        let mut presented = lease.clone();
        presented.fencing_token = presented.fencing_token.saturating_add(offset);
        let mut renewed = base.inner.renew_process_lease(&presented, ttl_ms).await?;
        renewed.fencing_token -= offset;
        Ok(renewed)
    }

    async fn complete_process_lease(
        &self,
        base: &Base,
        completion: &ProcessLeaseCompletion,
    ) -> Result<(), PluginError> {
        let releases = stored_lease(base, &completion.process_id)
            .is_some_and(|l| l.lease_token == completion.lease_token);
        if releases {
            let counter = base.model().highest_fencing_token(&completion.process_id);
            let mut offsets = self.offsets.lock().unwrap();
            offsets.insert(completion.process_id.clone(), counter);
        }
        base.inner.complete_process_lease(completion).await
    }
}

struct StaleReleaseFreesLiveLease;

#[async_trait]
impl Twist for StaleReleaseFreesLiveLease {
    async fn complete_process_lease(
        &self,
        base: &Base,
        completion: &ProcessLeaseCompletion,
    ) -> Result<(), PluginError> {
        match stored_lease(base, &completion.process_id) {
            Some(current) => {
                base.inner
                    .complete_process_lease(&current.completion())
                    .await
            }
            None => Ok(()),
        }
    }
}

struct FencingStartsAtZero;

#[async_trait]
impl Twist for FencingStartsAtZero {
    async fn claim_process_lease(
        &self,
        base: &Base,
        process_id: &str,
        owner_id: &str,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        let mut lease = base
            .inner
            .claim_process_lease(process_id, owner_id, ttl_ms)
            .await?;
        lease.fencing_token -= 1;
        Ok(lease)
    }

    async fn renew_process_lease(
        &self,
        base: &Base,
        lease: &ProcessLease,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        let mut presented = lease.clone();
        presented.fencing_token = presented.fencing_token.saturating_add(1);
        let mut renewed = base.inner.renew_process_lease(&presented, ttl_ms).await?;
        renewed.fencing_token -= 1;
        Ok(renewed)
    }
}
