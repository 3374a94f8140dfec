//! Race bugs (A1): read-then-write without a transaction, with an await between the read and
//! the write, the way a backend talking to a database over the network gets it wrong. Each is
//! correct when calls do not overlap; only racing calls expose it.

use async_trait::async_trait;
use procreg::{
    ErrorKind, PluginError, ProcessEventAppendRequest, ProcessEventAppendResult, ProcessLease,
    ProcessRegistry,
};

use super::{Base, Broken, Twist, wrap};

pub const BROKEN: &[Broken] = &[
    Broken {
        name: "races::claim_checks_then_writes",
        bug: "A1/L1: claim reads the lease, then writes its own without re-checking, so racing claims all win (the last one holds)",
        make: |clock| wrap(clock, ClaimChecksThenWrites),
    },
    Broken {
        name: "races::sequence_read_before_insert",
        bug: "A1/E8: append computes last + 1 before inserting, so racing appends are told the same sequence",
        make: |clock| wrap(clock, SequenceReadBeforeInsert),
    },
];

struct ClaimChecksThenWrites;

#[async_trait]
impl Twist for ClaimChecksThenWrites {
    async fn claim_process_lease(
        &self,
        base: &Base,
        process_id: &str,
        owner_id: &str,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        let seen = base.model().current_lease(process_id).cloned();
        if seen.is_some_and(|l| l.is_live_at(base.now()) && l.owner_id != owner_id) {
            // The check itself is right (LeaseHeld, or an earlier error).
            return base
                .inner
                .claim_process_lease(process_id, owner_id, ttl_ms)
                .await;
        }
        tokio::task::yield_now().await;
        let answer = base
            .inner
            .claim_process_lease(process_id, owner_id, ttl_ms)
            .await;
        match answer {
            Err(e) if e.kind() == ErrorKind::LeaseHeld => {
                // The write overwrites whatever another caller stored meanwhile.
                if let Some(current) = base.model().current_lease(process_id).cloned() {
                    base.inner
                        .complete_process_lease(&current.completion())
                        .await?;
                }
                base.inner
                    .claim_process_lease(process_id, owner_id, ttl_ms)
                    .await
            }
            other => other,
        }
    }
}

struct SequenceReadBeforeInsert;

#[async_trait]
impl Twist for SequenceReadBeforeInsert {
    async fn append_event(
        &self,
        base: &Base,
        process_id: &str,
        request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        let next = base.model().events(process_id).len() as u64 + 1;
        tokio::task::yield_now().await;
        let mut result = base.inner.append_event(process_id, request).await?;
        if !result.replayed {
            result.event.sequence = next;
        }
        Ok(result)
    }
}
