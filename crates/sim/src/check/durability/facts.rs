//! D2 and D6 facts about records, events, wakes and grants (see the table in the parent).

use procreg::canonical::canonical_json_of;
use procreg::{ProcessEvent, ProcessRecord, ProcessScope};
use procreg_reference::{Op, OpOutput};

use super::{Ctx, Seen, before, seen_of};
use crate::history::CallRecord;

fn records_in(output: &OpOutput) -> Vec<&ProcessRecord> {
    match output {
        OpOutput::Record(record) | OpOutput::MaybeRecord(Some(record)) => vec![record],
        OpOutput::Records(records) => records.iter().collect(),
        OpOutput::GrantEntries(entries) => entries.iter().map(|e| &e.record).collect(),
        _ => Vec::new(),
    }
}

fn events_in(output: &OpOutput) -> Vec<&ProcessEvent> {
    match output {
        OpOutput::Append(result) => vec![&result.event],
        OpOutput::Events(events) => events.iter().collect(),
        OpOutput::Event(event) => vec![event],
        _ => Vec::new(),
    }
}

/// D2: every record an acknowledged call returned still exists, unchanged where it cannot
/// change (registration, creation time, terminal status, external ref) and not older.
pub(super) fn check_records(ctx: &mut Ctx<'_>) {
    for (call, output) in ctx.acked().collect::<Vec<_>>() {
        for acked in records_in(output) {
            compare_record(ctx, call, acked);
        }
    }
}

fn compare_record(ctx: &mut Ctx<'_>, call: &CallRecord, acked: &ProcessRecord) {
    let p = acked.id.as_str();
    let now = match ctx.seen.records.get(p) {
        Some(Some(record)) => *record,
        Some(None) => {
            let message = format!("process {p} (returned by call {}) is gone", call.id);
            return ctx.report("D2", call.id, format!("record:{p}"), message);
        }
        None => {
            let why = ctx
                .seen
                .record_errors
                .get(p)
                .map_or("not probed".to_owned(), |e| e.to_string());
            let message = format!("process {p} cannot be read back: {why}");
            return ctx.report("D2", call.id, format!("record:{p}"), message);
        }
    };
    if now.registration_hash != acked.registration_hash || now.created_at_ms != acked.created_at_ms
    {
        let message = format!(
            "process {p} was registered again: hash {} created {} became hash {} created {}",
            acked.registration_hash, acked.created_at_ms, now.registration_hash, now.created_at_ms
        );
        ctx.report("D2", call.id, format!("registration:{p}"), message);
    }
    if now.updated_at_ms < acked.updated_at_ms {
        let message = format!(
            "process {p} went back in time: updated_at_ms {} was acknowledged, {} after reopen",
            acked.updated_at_ms, now.updated_at_ms
        );
        ctx.report("D2", call.id, format!("updated:{p}"), message);
    }
    if acked.status.is_terminal()
        && canonical_json_of(&now.status) != canonical_json_of(&acked.status)
    {
        let message = format!(
            "process {p}: terminal status {} became {}",
            canonical_json_of(&acked.status),
            canonical_json_of(&now.status)
        );
        ctx.report("D2", call.id, format!("status:{p}"), message);
    }
    if acked.external_ref.is_some()
        && canonical_json_of(&now.external_ref) != canonical_json_of(&acked.external_ref)
    {
        let message = format!(
            "process {p}: external ref {} became {}",
            canonical_json_of(&acked.external_ref),
            canonical_json_of(&now.external_ref)
        );
        ctx.report("D2", call.id, format!("external_ref:{p}"), message);
    }
}

/// D2: every event an acknowledged call returned is still in the log, at its sequence.
pub(super) fn check_events(ctx: &mut Ctx<'_>) {
    for (call, output) in ctx.acked().collect::<Vec<_>>() {
        for event in events_in(output) {
            let p = event.process_id.as_str();
            let s = event.sequence;
            let problem = match seen_of(&ctx.seen.events, p) {
                Seen::Found(log) => match log.get((s as usize).wrapping_sub(1)) {
                    Some(now) if canonical_json_of(now) == canonical_json_of(event) => None,
                    Some(now) => Some(format!(
                        "event {p}#{s} changed from {} to {}",
                        canonical_json_of(event),
                        canonical_json_of(now)
                    )),
                    None => Some(format!(
                        "event {p}#{s} is lost: the log holds {} events",
                        log.len()
                    )),
                },
                Seen::Unknown => Some(format!("event {p}#{s} is lost with its process")),
                Seen::Failed(why) => Some(format!("events of {p} cannot be read back: {why}")),
            };
            if let Some(message) = problem {
                ctx.report("D2", call.id, format!("event:{p}"), message);
            }
        }
    }
}

/// A wake known pending when `call` returned.
struct PendingWake<'a> {
    call: &'a CallRecord,
    process_id: &'a str,
    sequence: u64,
    target: &'a ProcessScope,
}

fn pending_wakes_seen<'a>(call: &'a CallRecord, output: &'a OpOutput) -> Vec<PendingWake<'a>> {
    let fresh: Vec<&ProcessEvent> = match (&*call.op, output) {
        (Op::AppendEvent { .. }, OpOutput::Append(result)) if !result.replayed => {
            vec![&result.event]
        }
        (Op::WakeEventsAfter { .. }, OpOutput::Events(events)) => events.iter().collect(),
        _ => Vec::new(),
    };
    fresh
        .into_iter()
        .filter_map(|event| {
            let wake = event.wake.as_ref()?;
            Some(PendingWake {
                call,
                process_id: &event.process_id,
                sequence: event.sequence,
                target: &wake.target_scope,
            })
        })
        .collect()
}

/// D6: acknowledged acks stay acked, acknowledged session deletions keep their wakes
/// deleted (S3), and wakes known pending stay pending unless something may have acked them.
pub(super) fn check_wakes(ctx: &mut Ctx<'_>) {
    let acked: Vec<_> = ctx.acked().collect();
    let possible: Vec<&CallRecord> = ctx.possible().collect();
    for (call, output) in &acked {
        if let Op::AckWake {
            process_id,
            sequence,
        } = &*call.op
            && let Seen::Found(pending) = seen_of(&ctx.seen.wakes, process_id)
            && pending.contains(sequence)
        {
            let message = format!("wake {process_id}#{sequence}, acknowledged, is pending again");
            ctx.report(
                "D6",
                call.id,
                format!("ack:{process_id}:{sequence}"),
                message,
            );
        }
        if let Op::DeleteSession { session_id } = &*call.op {
            check_deleted_wakes(ctx, call, session_id, &possible);
        }
        for wake in pending_wakes_seen(call, output) {
            check_still_pending(ctx, &wake, &possible);
        }
    }
}

fn check_deleted_wakes(
    ctx: &mut Ctx<'_>,
    delete: &CallRecord,
    session_id: &str,
    possible: &[&CallRecord],
) {
    let mut found = Vec::new();
    for (p, pending) in &ctx.seen.wakes {
        let (Ok(pending), Some(Ok(log))) = (pending, ctx.seen.events.get(p)) else {
            continue;
        };
        for s in pending {
            let target = log
                .get((*s as usize).wrapping_sub(1))
                .and_then(|e| e.wake.as_ref())
                .map(|w| w.target_scope.session_id.as_str());
            // An append that may follow the deletion can add a new wake into the session (S6).
            let may_follow = possible.iter().any(|c| {
                matches!(&*c.op, Op::AppendEvent { process_id, .. } if process_id == p)
                    && !before(c, delete)
            });
            if target == Some(session_id) && !may_follow {
                found.push(format!("{p}#{s}"));
            }
        }
    }
    for wake in found {
        let message = format!("wake {wake} into deleted session {session_id} is pending again");
        ctx.report("D6", delete.id, format!("deleted-wake:{wake}"), message);
    }
}

fn check_still_pending(ctx: &mut Ctx<'_>, wake: &PendingWake<'_>, possible: &[&CallRecord]) {
    let (p, s) = (wake.process_id, wake.sequence);
    let may_clear = possible.iter().any(|c| match &*c.op {
        Op::AckWake {
            process_id,
            sequence,
        } => process_id == p && *sequence == s,
        Op::DeleteSession { session_id } => {
            *session_id == wake.target.session_id && !before(c, wake.call)
        }
        _ => false,
    });
    if may_clear {
        return;
    }
    if let Seen::Found(pending) = seen_of(&ctx.seen.wakes, p)
        && !pending.contains(&s)
    {
        let message = format!(
            "wake {p}#{s}, pending when call {} returned and never acked, is no longer pending",
            wake.call.id
        );
        ctx.report("D6", wake.call.id, format!("pending:{p}:{s}"), message);
    }
}

/// Whether `op` may remove the grant of `p` to `scope`.
fn may_remove(op: &Op, scope: &ProcessScope, p: &str) -> bool {
    match op {
        Op::RevokeHandle {
            scope: s,
            process_id,
        } => s.id() == scope.id() && process_id == p,
        Op::TransferHandleGrants {
            from,
            to,
            process_ids,
        } => from.id() == scope.id() && from.id() != to.id() && process_ids.iter().any(|i| i == p),
        Op::DeleteSession { session_id } => *session_id == scope.session_id,
        _ => false,
    }
}

/// Whether `op` may add a grant of `p` to `scope`.
fn may_add(op: &Op, scope: &ProcessScope, p: &str) -> bool {
    match op {
        Op::GrantHandle {
            scope: s,
            process_id,
            ..
        } => s.id() == scope.id() && process_id == p,
        Op::TransferHandleGrants {
            from,
            to,
            process_ids,
        } => to.id() == scope.id() && from.id() != to.id() && process_ids.iter().any(|i| i == p),
        _ => false,
    }
}

/// Grants an acknowledged call made: (scope, process).
fn grants_made(op: &Op) -> Vec<(&ProcessScope, &str)> {
    match op {
        Op::GrantHandle {
            scope, process_id, ..
        } => vec![(scope, process_id.as_str())],
        Op::TransferHandleGrants {
            from,
            to,
            process_ids,
        } if from.id() != to.id() => process_ids.iter().map(|p| (to, p.as_str())).collect(),
        _ => Vec::new(),
    }
}

/// D2 (H1, H7, S1, S5): acknowledged grants exist and acknowledged removals stay removed,
/// unless a possible later call undid them.
pub(super) fn check_grants(ctx: &mut Ctx<'_>) {
    let acked: Vec<_> = ctx.acked().collect();
    let possible: Vec<&CallRecord> = ctx.possible().collect();
    for (call, _) in &acked {
        for (scope, p) in grants_made(&call.op) {
            let removed = possible
                .iter()
                .any(|c| may_remove(&c.op, scope, p) && !before(c, call));
            if removed {
                continue;
            }
            let present = match seen_of(&ctx.seen.grants, p) {
                Seen::Found(grants) => grants.iter().any(|g| g.scope.id() == scope.id()),
                Seen::Unknown => false,
                Seen::Failed(_) => continue,
            };
            if !present {
                let message = format!("grant of {p} to {} is lost", scope.id());
                ctx.report("D2", call.id, format!("grant:{}:{p}", scope.id()), message);
            }
        }
        check_removed_grants(ctx, call, &possible);
    }
}

fn check_removed_grants(ctx: &mut Ctx<'_>, removal: &CallRecord, possible: &[&CallRecord]) {
    let mut back = Vec::new();
    for (p, grants) in &ctx.seen.grants {
        let Ok(grants) = grants else { continue };
        for grant in grants.iter() {
            if !may_remove(&removal.op, &grant.scope, p) {
                continue;
            }
            let re_added = possible
                .iter()
                .any(|c| may_add(&c.op, &grant.scope, p) && !before(c, removal));
            if !re_added {
                back.push(format!("{}:{p}", grant.scope.id()));
            }
        }
    }
    for key in back {
        let message = format!("grant {key} removed by call {} is back", removal.id);
        ctx.report("D2", removal.id, format!("removed:{key}"), message);
    }
}
