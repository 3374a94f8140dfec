//! The recovery protocol's steps (CONTRACT.md section 10), each with the retries a real
//! worker makes after `Unavailable` and the answers it expects; anything else is noted (A1).

use std::sync::Arc;

use procreg::{ErrorKind, ProcessAwaitOutput, ProcessEventAppendRequest, ProcessLease};
use procreg_reference::{Op, OpOutput};
use serde_json::json;

use super::LEASE_TTL_MS;
use crate::explore::client::{Client, error_kind, is_unavailable};

/// Claims under `owner`, re-claiming with the same owner after `Unavailable` (section 10).
pub(super) async fn claim(client: &Client, pid: &str, owner: &str) -> Option<ProcessLease> {
    let op = Arc::new(Op::ClaimLease {
        process_id: pid.to_owned(),
        owner_id: owner.to_owned(),
        lease_ttl_ms: LEASE_TTL_MS,
    });
    let result = client.retry(Arc::clone(&op)).await;
    match (&*result, error_kind(&result)) {
        (Ok(OpOutput::Lease(lease)), _) => Some(lease.clone()),
        (_, Some(ErrorKind::LeaseHeld | ErrorKind::AlreadyTerminal | ErrorKind::Unavailable)) => {
            None
        }
        _ => {
            client.unexpected(&op, &result);
            None
        }
    }
}

/// Renews `lease`; `None` when it was lost (or the deadline passed).
pub(super) async fn renew(client: &Client, lease: &ProcessLease) -> Option<ProcessLease> {
    let op = Arc::new(Op::RenewLease {
        lease: lease.clone(),
        lease_ttl_ms: LEASE_TTL_MS,
    });
    let result = client.retry(Arc::clone(&op)).await;
    match (&*result, error_kind(&result)) {
        (Ok(OpOutput::Lease(renewed)), _) => Some(renewed.clone()),
        (_, Some(ErrorKind::LeaseLost | ErrorKind::Unavailable)) => None,
        _ => {
            client.unexpected(&op, &result);
            None
        }
    }
}

/// Appends the keyed `progress` event of `step`; `false` if that failed for good.
pub(super) async fn append_progress(client: &Client, pid: &str, step: u64) -> bool {
    let request = ProcessEventAppendRequest::new("progress", json!({ "step": step }))
        .with_replay_key(format!("{pid}/step/{step}"));
    let op = Arc::new(Op::AppendEvent {
        process_id: pid.to_owned(),
        request,
    });
    let result = client.retry(Arc::clone(&op)).await;
    match &*result {
        Ok(OpOutput::Append(_)) => true,
        Err(e) if e.kind() == ErrorKind::Unavailable => false,
        _ => {
            client.unexpected(&op, &result);
            false
        }
    }
}

pub(super) async fn complete(client: &Client, pid: &str) {
    let op = Arc::new(Op::CompleteProcess {
        process_id: pid.to_owned(),
        output: ProcessAwaitOutput::Success {
            value: json!({ "done": pid }),
        },
    });
    let result = client.retry(Arc::clone(&op)).await;
    if !matches!(*result, Ok(OpOutput::Record(_))) && !is_unavailable(&result) {
        client.unexpected(&op, &result);
    }
}

pub(super) async fn release(client: &Client, lease: &ProcessLease) {
    let op = Arc::new(Op::CompleteLease {
        completion: lease.completion(),
    });
    let result = client.retry(Arc::clone(&op)).await;
    if !matches!(*result, Ok(OpOutput::Unit)) && !is_unavailable(&result) {
        client.unexpected(&op, &result);
    }
}
