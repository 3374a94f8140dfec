//! `Racy`'s lease table (L1-L5): one slot per process, checked and then written. The bugs put
//! an await between the two.

use procreg::validate::is_blank;
use procreg::{
    MAX_TIMESTAMP_MS, PluginError, ProcessLease, ProcessLeaseCompletion, ProcessRegistry,
};

use super::racy::{Bug, Racy, yield_now};

/// How long `Bug::RenewRace` takes to write a renewal, virtual ms.
const SLOW_WRITE_MS: u64 = 40;

/// One process's leases: the current one (live or expired) and the highest fence issued.
#[derive(Debug, Default)]
pub struct LeaseSlot {
    current: Option<ProcessLease>,
    highest_fence: u64,
}

impl Racy {
    async fn known(&self, process_id: &str) -> Result<procreg::ProcessRecord, PluginError> {
        self.inner
            .get_process(process_id)
            .await?
            .ok_or_else(|| PluginError::unknown_process(process_id))
    }

    pub(super) async fn claim(
        &self,
        process_id: &str,
        owner: &str,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        let record = self.known(process_id).await?;
        if self.bug == Bug::ClaimHangs {
            std::future::pending::<()>().await;
        }
        if is_blank(owner) {
            return Err(PluginError::invalid_request("blank owner id"));
        }
        if record.is_terminal() {
            return Err(PluginError::AlreadyTerminal {
                process_id: process_id.to_owned(),
            });
        }
        let now = self.clock.now_ms();
        let fence = {
            let leases = self.leases.lock().unwrap();
            let slot = leases.get(process_id);
            if let Some(held) = slot.and_then(|s| s.current.as_ref())
                && held.is_live_at(now)
                && held.owner_id != owner
            {
                return Err(PluginError::LeaseHeld {
                    process_id: process_id.to_owned(),
                    holder_owner_id: held.owner_id.clone(),
                    expires_at_ms: held.expires_at_ms,
                });
            }
            slot.map_or(0, |s| s.highest_fence) + 1
        };
        if self.bug == Bug::ClaimRace {
            yield_now().await; // BUG: another claim can pass the same check here
        }
        let lease = ProcessLease {
            process_id: process_id.to_owned(),
            owner_id: owner.to_owned(),
            lease_token: format!("lease-{fence}-{owner}"),
            fencing_token: fence,
            claimed_at_ms: now,
            expires_at_ms: now.saturating_add(ttl_ms).min(MAX_TIMESTAMP_MS),
        };
        let mut leases = self.leases.lock().unwrap();
        let slot = leases.entry(process_id.to_owned()).or_default();
        slot.highest_fence = slot.highest_fence.max(fence);
        slot.current = Some(lease.clone());
        Ok(lease)
    }

    pub(super) async fn renew(
        &self,
        lease: &ProcessLease,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        self.known(&lease.process_id).await?;
        assert!(self.bug != Bug::RenewPanics, "renew exploded");
        let now = self.clock.now_ms();
        let lost = || PluginError::LeaseLost {
            process_id: lease.process_id.clone(),
        };
        let stored = {
            let leases = self.leases.lock().unwrap();
            let current = leases
                .get(&lease.process_id)
                .and_then(|s| s.current.clone());
            match current {
                Some(c)
                    if c.owner_id == lease.owner_id
                        && c.lease_token == lease.lease_token
                        && c.fencing_token == lease.fencing_token
                        && c.is_live_at(now) =>
                {
                    c
                }
                _ => return Err(lost()),
            }
        };
        if self.bug == Bug::RenewRace {
            // BUG: the write lands a round trip later, over whatever lease is current by then.
            procreg_sim::executor::sleep(SLOW_WRITE_MS).await;
        }
        let renewed = ProcessLease {
            expires_at_ms: now.saturating_add(ttl_ms).min(MAX_TIMESTAMP_MS),
            ..stored
        };
        let mut leases = self.leases.lock().unwrap();
        leases.entry(lease.process_id.clone()).or_default().current = Some(renewed.clone());
        Ok(renewed)
    }

    pub(super) fn release(&self, completion: &ProcessLeaseCompletion) {
        let mut leases = self.leases.lock().unwrap();
        if let Some(slot) = leases.get_mut(&completion.process_id)
            && slot
                .current
                .as_ref()
                .is_some_and(|c| c.lease_token == completion.lease_token)
        {
            slot.current = None;
        }
    }
}
