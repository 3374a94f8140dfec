//! A timeline a person can read: the calls around a failure, one per line, with virtual time,
//! client, call, outcome, and the planned faults (link faults, partitions, worker crashes and
//! stalls, registry crashes) marked where they hit.
//!
//! Why it exists: a seed and a plan replay a failure, but a person decides what it means by
//! reading what each client did and saw in order. Times are relative to the start of the run
//! (`+123ms`).

use std::collections::BTreeMap;
use std::fmt::Write;

use procreg::ProcessStatus;
use procreg_reference::{Op, OpOutput};
use procreg_sim::history::CallRecord;
use procreg_sim::world::START_MS;
use procreg_sim::{CrashEvent, FaultPlan, LinkFault, RunReport};

/// `op` in a few words: `claim p1 owner=w0.0.3 ttl=100`.
pub fn describe_op(op: &Op) -> String {
    match op {
        Op::Register { registration } => format!("register {}", registration.id),
        Op::GetProcess { process_id } => format!("get {process_id}"),
        Op::SetExternalRef { process_id, .. } => format!("set_external_ref {process_id}"),
        Op::AppendEvent {
            process_id,
            request,
        } => {
            let key = request
                .replay_key
                .as_deref()
                .map_or(String::new(), |k| format!(" key={k}"));
            format!("append {process_id} {}{key}", request.event_type)
        }
        Op::EventsAfter {
            process_id,
            after_sequence,
        } => format!("events_after {process_id} >{after_sequence}"),
        Op::WakeEventsAfter {
            process_id,
            after_sequence,
        } => format!("wake_events_after {process_id} >{after_sequence}"),
        Op::AckWake {
            process_id,
            sequence,
        } => format!("ack_wake {process_id} #{sequence}"),
        Op::WaitEventAfter {
            process_id,
            event_type,
            after_sequence,
        } => format!("wait {process_id} {event_type} >{after_sequence}"),
        Op::CompleteProcess { process_id, output } => {
            format!("complete {process_id} {:?}", output.terminal_state())
        }
        Op::AwaitProcess { process_id } => format!("await {process_id}"),
        Op::GrantHandle {
            scope, process_id, ..
        } => format!("grant {} {process_id}", scope.id()),
        Op::RevokeHandle { scope, process_id } => format!("revoke {} {process_id}", scope.id()),
        Op::ListHandleGrants { scope } => format!("list_grants {}", scope.id()),
        Op::ListLiveHandleGrants { scope } => format!("list_live_grants {}", scope.id()),
        Op::HasHandleGrant { scope, process_id } => {
            format!("has_grant {} {process_id}", scope.id())
        }
        Op::HandleGrantsForProcess { process_id } => format!("grants_for {process_id}"),
        Op::TransferHandleGrants {
            from,
            to,
            process_ids,
        } => format!(
            "transfer {} -> {} [{}]",
            from.id(),
            to.id(),
            process_ids.join(",")
        ),
        Op::DeleteSession { session_id } => format!("delete_session {session_id}"),
        Op::ClaimLease {
            process_id,
            owner_id,
            lease_ttl_ms,
        } => format!("claim {process_id} owner={owner_id} ttl={lease_ttl_ms}"),
        Op::RenewLease {
            lease,
            lease_ttl_ms,
        } => format!(
            "renew {} owner={} fence={} ttl={lease_ttl_ms}",
            lease.process_id, lease.owner_id, lease.fencing_token
        ),
        Op::CompleteLease { completion } => {
            format!(
                "release {} token={}",
                completion.process_id, completion.lease_token
            )
        }
        Op::ListNonTerminal => "list_non_terminal".to_owned(),
    }
}

fn rel(ms: u64) -> String {
    format!("+{}", ms.saturating_sub(START_MS))
}

/// What a call got back, in a few words.
pub fn describe_outcome(call: &CallRecord) -> String {
    let output = match call.outcome() {
        None => return "(no answer: abandoned, cancelled or still waiting)".to_owned(),
        Some(Err(e)) => return format!("err {}", e.kind().as_str()),
        Some(Ok(output)) => output,
    };
    let ids = |ids: Vec<&str>| format!("[{}]", ids.join(","));
    match output {
        OpOutput::Unit => "ok".to_owned(),
        OpOutput::Bool(b) => format!("ok {b}"),
        OpOutput::Record(r) | OpOutput::MaybeRecord(Some(r)) => format!("ok {}", status(&r.status)),
        OpOutput::MaybeRecord(None) => "ok none".to_owned(),
        OpOutput::Records(rs) => format!("ok {}", ids(rs.iter().map(|r| r.id.as_str()).collect())),
        OpOutput::Append(a) => {
            let replayed = if a.replayed { " (replayed)" } else { "" };
            format!("ok seq={}{replayed}", a.event.sequence)
        }
        OpOutput::Event(e) => format!("ok seq={} {}", e.sequence, e.event_type),
        OpOutput::Events(es) => {
            let seqs: Vec<String> = es.iter().map(|e| e.sequence.to_string()).collect();
            format!("ok seqs=[{}]", seqs.join(","))
        }
        OpOutput::AwaitOutput(o) => format!("ok {:?}", o.terminal_state()),
        OpOutput::Grant(g) => format!("ok {} {}", g.scope.id(), g.process_id),
        OpOutput::Grants(gs) => {
            let scopes: Vec<String> = gs.iter().map(|g| g.scope.id()).collect();
            format!("ok [{}]", scopes.join(","))
        }
        OpOutput::GrantEntries(es) => ids(es.iter().map(|e| e.grant.process_id.as_str()).collect()),
        OpOutput::DeleteReport(r) => format!(
            "ok revoked={} wakes={} cancel={:?} preserved={:?}",
            r.revoked_handle_count,
            r.deleted_wake_count,
            r.cancel_process_ids,
            r.preserved_process_ids
        ),
        OpOutput::Lease(l) => format!(
            "ok fence={} owner={} token={} expires={}",
            l.fencing_token,
            l.owner_id,
            l.lease_token,
            rel(l.expires_at_ms)
        ),
        OpOutput::Pending => "pending".to_owned(),
    }
}

fn status(status: &ProcessStatus) -> &'static str {
    match status {
        ProcessStatus::Running => "running",
        ProcessStatus::Completed { .. } => "completed",
        ProcessStatus::Failed { .. } => "failed",
        ProcessStatus::Cancelled { .. } => "cancelled",
    }
}

/// The planned link fault each call met, by call id (the link numbers each client's calls
/// from 0 in invocation order).
pub(crate) fn link_faults(run: &RunReport) -> BTreeMap<usize, &LinkFault> {
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for call in run.history.calls() {
        if call.client.ends_with("+dup") {
            continue;
        }
        let count = counts.entry(&call.client).or_insert(0);
        if let Some(fault) = run.plan.link_fault(&call.client, *count) {
            out.insert(call.id, fault);
        }
        *count += 1;
    }
    out
}

/// Plan events (crashes, stalls, partitions, registry crashes) as `(absolute ms, text)`.
fn plan_marks(plan: &FaultPlan, run: &RunReport) -> Vec<(u64, String)> {
    let mut marks: Vec<(u64, String)> = plan
        .crashes
        .iter()
        .filter_map(|c| match c {
            CrashEvent::Worker { worker, at_ms } => Some((
                START_MS + at_ms,
                format!("worker w{worker} crashes (a fresh incarnation starts)"),
            )),
            CrashEvent::Stall {
                worker,
                at_ms,
                for_ms,
            } => Some((
                START_MS + at_ms,
                format!("worker w{worker} stalls for {for_ms}ms (at its next step)"),
            )),
            CrashEvent::Registry { .. } => None,
        })
        .collect();
    for p in &plan.partitions {
        marks.push((
            START_MS + p.from_ms,
            format!(
                "{} partitioned until {}",
                p.client,
                rel(START_MS + p.until_ms)
            ),
        ));
    }
    for at in &run.registry_crashes {
        marks.push((
            *at,
            "REGISTRY CRASH: in-flight calls cancelled, reopened".to_owned(),
        ));
    }
    marks.push((
        START_MS + plan.faults_end_ms,
        "faults end; settle phase".to_owned(),
    ));
    marks.sort();
    marks
}

/// The timeline of calls `from..=to` (call ids), with plan events merged in by time.
pub fn render(run: &RunReport, from: usize, to: usize) -> String {
    let faults = link_faults(run);
    let calls = &run.history.calls()[from.min(run.history.len())..(to + 1).min(run.history.len())];
    let (start_ms, end_ms) = match (calls.first(), calls.last()) {
        (Some(a), Some(b)) => (a.invoke_ms, b.return_ms.unwrap_or(b.invoke_ms)),
        _ => return "  (no calls)\n".to_owned(),
    };
    let mut marks = plan_marks(&run.plan, run)
        .into_iter()
        .filter(|(at, _)| *at >= start_ms && *at <= end_ms)
        .peekable();
    let mut out = String::new();
    for call in calls {
        while let Some((at, text)) = marks.next_if(|(at, _)| *at <= call.invoke_ms) {
            let _ = writeln!(out, "  {:>7}ms  ====== {text}", rel(at));
        }
        let returned = call.return_ms.map_or("  ?".to_owned(), rel);
        let fault = faults
            .get(&call.id)
            .map_or(String::new(), |f| format!("   !{}", fault_name(f)));
        let _ = writeln!(
            out,
            "  {:>7}ms  #{:<4} {:<12} {} -> {} (at {returned}ms){fault}",
            rel(call.invoke_ms),
            call.id,
            call.client,
            describe_op(&call.op),
            describe_outcome(call)
        );
    }
    for (at, text) in marks {
        let _ = writeln!(out, "  {:>7}ms  ====== {text}", rel(at));
    }
    out
}

fn fault_name(fault: &LinkFault) -> String {
    match fault {
        LinkFault::Delay { delay_ms } => format!("delayed {delay_ms}ms"),
        LinkFault::DropRequest => "request dropped".to_owned(),
        LinkFault::DropResponse => "response dropped".to_owned(),
        LinkFault::Duplicate => "duplicated".to_owned(),
    }
}
