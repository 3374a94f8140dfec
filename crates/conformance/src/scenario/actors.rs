//! What each actor of a scenario remembers: the leases it was granted, per process, so that
//! `a: renew p1` presents a's lease (L4) and `a: release p1` completes it (L5), as a worker
//! would. `fence=N` picks an older lease of the same actor (a superseded one, L3).
//!
//! The book lives on the client side: a registry crash does not erase it, exactly as a worker
//! that survives the registry's crash still holds the lease object it was given (D3, D6).

use std::collections::BTreeMap;

use procreg::{ProcessLease, ProcessLeaseCompletion};
use procreg_reference::{Op, OpOutput};

use super::Call;

/// Leases each (actor, process) was granted, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Actors {
    leases: BTreeMap<(String, String), Vec<ProcessLease>>,
}

impl Actors {
    /// The op a call makes, with the actor's lease filled in.
    ///
    /// # Errors
    /// The message when the actor holds no such lease (its claims all failed).
    pub(crate) fn op_for(&self, actor: Option<&str>, call: &Call) -> Result<Op, String> {
        let lease = |process_id: &str, fence: Option<u64>| {
            self.lease(actor.unwrap_or_default(), process_id, fence)
        };
        Ok(match call {
            Call::Op(op) => op.clone(),
            Call::Renew {
                process_id,
                ttl_ms,
                fence,
            } => Op::RenewLease {
                lease: lease(process_id, *fence)?,
                lease_ttl_ms: *ttl_ms,
            },
            Call::Release { process_id, fence } => Op::CompleteLease {
                completion: ProcessLeaseCompletion::from(&lease(process_id, *fence)?),
            },
        })
    }

    fn lease(
        &self,
        actor: &str,
        process_id: &str,
        fence: Option<u64>,
    ) -> Result<ProcessLease, String> {
        let held = self
            .leases
            .get(&(actor.to_owned(), process_id.to_owned()))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let found = match fence {
            Some(fence) => held.iter().rev().find(|l| l.fencing_token == fence),
            None => held.last(),
        };
        found.cloned().ok_or_else(|| match fence {
            Some(fence) => {
                format!("`{actor}` was never granted a lease on `{process_id}` with fence {fence}")
            }
            None => {
                format!("`{actor}` holds no lease on `{process_id}`: none of its claims succeeded")
            }
        })
    }

    /// How a step presents the lease with `lease_token` that `actor` holds on `process_id`:
    /// `Some(None)` when it is the actor's latest (no `fence=`), `Some(Some(fence))` for an
    /// older one, `None` when the actor was never granted it (no step can present it).
    pub(crate) fn fence_for(
        &self,
        actor: &str,
        process_id: &str,
        lease_token: &str,
    ) -> Option<Option<u64>> {
        let held = self
            .leases
            .get(&(actor.to_owned(), process_id.to_owned()))?;
        let at = held.iter().rposition(|l| l.lease_token == lease_token)?;
        Some((at + 1 != held.len()).then(|| held[at].fencing_token))
    }

    /// Remembers a lease an op was granted (claim) or extended (renew).
    pub(crate) fn observe(&mut self, actor: Option<&str>, op: &Op, answer: Option<&OpOutput>) {
        let Some(OpOutput::Lease(lease)) = answer else {
            return;
        };
        let key = (
            actor.unwrap_or_default().to_owned(),
            lease.process_id.clone(),
        );
        let held = self.leases.entry(key).or_default();
        match op {
            Op::RenewLease { .. } => {
                match held
                    .iter_mut()
                    .rev()
                    .find(|l| l.lease_token == lease.lease_token)
                {
                    Some(known) => *known = lease.clone(),
                    None => held.push(lease.clone()),
                }
            }
            _ => held.push(lease.clone()),
        }
    }
}
