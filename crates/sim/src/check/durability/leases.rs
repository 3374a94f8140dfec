//! D3 (fences, lease tokens, keyed replays) and D6 (lease state) across a reopen.

use std::collections::BTreeMap;

use procreg::ProcessLease;
use procreg::validate::is_blank;
use procreg_reference::{Op, OpOutput};

use super::{Ctx, before};
use crate::history::{CallId, CallRecord};

/// D3 / L6: claims after the reopen get fences above, and lease tokens other than, every one
/// acknowledged before it; the reopened Model's fencing counter (when shown) is not behind.
pub(super) fn check_fences(ctx: &mut Ctx<'_>) {
    let mut highest: BTreeMap<&str, (u64, CallId)> = BTreeMap::new();
    let mut tokens: BTreeMap<(&str, &str), CallId> = BTreeMap::new();
    for (call, output) in ctx.acked() {
        let OpOutput::Lease(lease) = output else {
            continue;
        };
        let entry = highest.entry(&lease.process_id).or_insert((0, call.id));
        if lease.fencing_token > entry.0 {
            *entry = (lease.fencing_token, call.id);
        }
        tokens
            .entry((&lease.process_id, &lease.lease_token))
            .or_insert(call.id);
    }
    for (call, output) in ctx.later().collect::<Vec<_>>() {
        let (Op::ClaimLease { .. }, OpOutput::Lease(lease)) = (&*call.op, output) else {
            continue;
        };
        let p = lease.process_id.as_str();
        if let Some((fence, acked)) = highest.get(p)
            && lease.fencing_token <= *fence
        {
            let message = format!(
                "{p}: claim after reopen got fence={} but call {acked} was acknowledged fence={fence}",
                lease.fencing_token
            );
            ctx.report("D3", call.id, format!("fence:{}", call.id), message);
        }
        if let Some(acked) = tokens.get(&(p, lease.lease_token.as_str())) {
            let message = format!(
                "{p}: claim after reopen reused lease token {} acknowledged by call {acked}",
                lease.lease_token
            );
            ctx.report("D3", call.id, format!("token:{}", call.id), message);
        }
    }
    let Some(model) = ctx.probe.model.as_ref() else {
        return;
    };
    let mut behind = Vec::new();
    for (p, (fence, call)) in &highest {
        let counter = model.highest_fencing_token(p);
        if counter < *fence {
            behind.push((
                *call,
                format!(
                    "{p}: fencing counter {counter} after reopen, fence={fence} was acknowledged"
                ),
            ));
        }
    }
    for (call, message) in behind {
        ctx.report("D3", call, format!("counter:{call}"), message);
    }
}

/// D3 / E2: a keyed append after the reopen is a replay of the one acknowledged before it:
/// same sequence, `replayed: true`.
pub(super) fn check_keyed_replays(ctx: &mut Ctx<'_>) {
    let mut keyed: BTreeMap<(&str, &str), (u64, CallId)> = BTreeMap::new();
    for (call, output) in ctx.acked() {
        if let (
            Op::AppendEvent {
                process_id,
                request,
            },
            OpOutput::Append(result),
        ) = (&*call.op, output)
            && let Some(key) = request.replay_key.as_deref().filter(|k| !is_blank(k))
        {
            keyed
                .entry((process_id, key))
                .or_insert((result.event.sequence, call.id));
        }
    }
    for (call, output) in ctx.later().collect::<Vec<_>>() {
        if let (
            Op::AppendEvent {
                process_id,
                request,
            },
            OpOutput::Append(result),
        ) = (&*call.op, output)
            && let Some(key) = request.replay_key.as_deref()
            && let Some((sequence, acked)) = keyed.get(&(process_id.as_str(), key))
            && (result.event.sequence != *sequence || !result.replayed)
        {
            let message = format!(
                "{process_id}: replay key {key} answered sequence {} (replayed: {}) after reopen; \
                 call {acked} was acknowledged sequence {sequence}",
                result.event.sequence, result.replayed
            );
            ctx.report("D3", call.id, format!("replay:{}", call.id), message);
        }
    }
}

fn lease_process(op: &Op) -> Option<&str> {
    match op {
        Op::ClaimLease { process_id, .. } => Some(process_id),
        Op::RenewLease { lease, .. } => Some(&lease.process_id),
        Op::CompleteLease { completion } => Some(&completion.process_id),
        _ => None,
    }
}

/// D6: when every lease call of a process was acknowledged, one after another, the reopened
/// Model (when shown) holds exactly the lease they leave. Anything concurrent or indefinite
/// is left to the linearizability checker.
pub(super) fn check_lease_state(ctx: &mut Ctx<'_>) {
    let Some(model) = ctx.probe.model.as_ref() else {
        return;
    };
    let mut by_process: BTreeMap<&str, Vec<&CallRecord>> = BTreeMap::new();
    for call in ctx.possible() {
        if let Some(p) = lease_process(&call.op) {
            by_process.entry(p).or_default().push(call);
        }
    }
    let mut wrong = Vec::new();
    for (p, calls) in by_process {
        let Some(expected) = replay_leases(ctx, &calls) else {
            continue;
        };
        let now = model.current_lease(p);
        if now != expected.as_ref() {
            let last = calls.last().map_or(0, |c| c.id);
            wrong.push((last, p, format!("{expected:?}"), format!("{now:?}")));
        }
    }
    for (call, p, expected, now) in wrong {
        let message =
            format!("{p}: lease after reopen is {now}, acknowledged calls left {expected}");
        ctx.report("D6", call, format!("lease:{p}"), message);
    }
}

/// The lease `calls` leave, if they were all acknowledged in a known order.
fn replay_leases(ctx: &Ctx<'_>, calls: &[&CallRecord]) -> Option<Option<ProcessLease>> {
    let ordered = calls.windows(2).all(|w| before(w[0], w[1]));
    let acked = calls
        .iter()
        .all(|c| ctx.probe.returned_before.contains(&c.id));
    if !ordered || !acked {
        return None;
    }
    let mut lease: Option<ProcessLease> = None;
    for call in calls {
        match (&*call.op, call.outcome()) {
            (_, Some(Ok(OpOutput::Lease(l)))) => lease = Some(l.clone()),
            (Op::CompleteLease { completion }, Some(Ok(_))) => {
                if lease
                    .as_ref()
                    .is_some_and(|l| l.lease_token == completion.lease_token)
                {
                    lease = None;
                }
            }
            _ => return None,
        }
    }
    Some(lease)
}
