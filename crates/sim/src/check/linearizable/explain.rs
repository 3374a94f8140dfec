//! Failure reports a person can read: the prefix that worked, the call that cannot go next,
//! what its caller was told and what the Model answers there.

use procreg::{PluginError, ProcessLease};
use procreg_reference::{Model, Op, OpOutput};

use crate::history::CallRecord;

use super::entry::Entry;
use super::matching::outputs_match;
use super::search::DeadEnd;
use super::tokens::LeaseTokens;
use super::verdict::{LinearizedCall, NonLinearizable};

/// How many stuck calls a report names besides the most urgent one.
const MORE_STUCK: usize = 3;
/// How many of the last placed calls a report names (the whole prefix is in the failure).
const SHOWN_PREFIX: usize = 8;
/// How many `now` candidates a report shows the Model's answer at.
const SHOWN_NOWS: usize = 4;

/// "process `p1`" / "processes `p1`, `p2`" / "calls touching no process".
pub(super) fn processes(processes: &[String]) -> String {
    match processes {
        [] => "calls touching no process".to_owned(),
        [one] => format!("process `{one}`"),
        many => {
            let names: Vec<String> = many.iter().map(|p| format!("`{p}`")).collect();
            format!("processes {}", names.join(", "))
        }
    }
}

/// The report when the search failed before placing anything anywhere (cannot normally
/// happen: the root is always a dead end first).
pub(super) fn no_dead_end(procs: &[String]) -> NonLinearizable {
    NonLinearizable {
        processes: procs.to_vec(),
        prefix: Vec::new(),
        stuck: Vec::new(),
        explanation: format!("{}: no call can be placed first", processes(procs)),
    }
}

/// How far a search that ran out of budget got: "deepest dead end after 12 of 40 calls, at
/// #31".
pub(super) fn progress(deepest: Option<&DeadEnd>, entries: &[Entry]) -> String {
    match deepest.and_then(|d| Some((d.prefix.len(), *d.stuck.first()?))) {
        Some((placed, stuck)) => format!(
            "deepest dead end after {placed} of {} calls, at {}",
            entries.len(),
            call(entries[stuck].call)
        ),
        None => "no dead end met yet".to_owned(),
    }
}

/// The report of the deepest dead end.
pub(super) fn dead_end(
    dead_end: &DeadEnd,
    entries: &[Entry],
    tokens: &LeaseTokens,
    procs: &[String],
) -> NonLinearizable {
    let prefix: Vec<LinearizedCall> = dead_end
        .prefix
        .iter()
        .map(|&(e, now_ms)| LinearizedCall {
            call: entries[e].call.id,
            now_ms,
        })
        .collect();
    let shown = prefix.len().saturating_sub(SHOWN_PREFIX);
    let mut placed: Vec<String> = prefix[shown..]
        .iter()
        .map(|step| format!("#{}@{}", step.call, step.now_ms))
        .collect();
    if shown > 0 {
        placed.insert(0, format!("{shown} more,"));
    }
    let mut text = format!(
        "{}: after placing {} call(s) (call@now: {}), no remaining call fits.",
        processes(procs),
        prefix.len(),
        placed.join(" ")
    );
    if let Some(&urgent) = dead_end.stuck.first() {
        let entry = &entries[urgent];
        text.push_str(&format!(
            "\n  {} was told {}; the Model answers {}",
            call(entry.call),
            outcome(entry.call.outcome()),
            model_answers(entry, &dead_end.model, tokens)
        ));
        for &other in dead_end.stuck.iter().skip(1).take(MORE_STUCK) {
            let other = entries[other].call;
            text.push_str(&format!(
                "\n  also unplaceable: {} told {}",
                call(other),
                outcome(other.outcome())
            ));
        }
    }
    NonLinearizable {
        processes: procs.to_vec(),
        prefix,
        stuck: dead_end.stuck.iter().map(|&e| entries[e].call.id).collect(),
        explanation: text,
    }
}

/// What the Model answers for `entry` at each of its candidate `now`s.
fn model_answers(entry: &Entry, model: &Model, tokens: &LeaseTokens) -> String {
    let mut answers = Vec::new();
    for &now in entry.nows.iter().take(SHOWN_NOWS) {
        let op = tokens.translate(&entry.call.op, model);
        let answer = model.clone().apply(&op, now);
        let mut shown = result(&answer);
        if let (Some(Ok(seen)), Ok(got)) = (entry.call.outcome(), &answer)
            && shown == outcome(entry.call.outcome())
            && !outputs_match(seen, got)
        {
            shown = format!("{got:?} (observed {seen:?})");
        }
        answers.push(format!("{shown} at now={now}"));
    }
    answers.join(", ")
}

/// `#12 worker-2 claim_process_lease(p1, owner=w2, ttl=1000) [10..12]`.
pub(super) fn call(call: &CallRecord) -> String {
    let window = match call.return_ms {
        Some(returned) => format!("[{}..{}]", call.invoke_ms, returned),
        None => format!("[{}.., never returned]", call.invoke_ms),
    };
    format!(
        "#{} {} {}({}) {}",
        call.id,
        call.client,
        call.op.method_name(),
        arguments(&call.op),
        window
    )
}

fn arguments(op: &Op) -> String {
    match op {
        Op::ClaimLease {
            process_id,
            owner_id,
            lease_ttl_ms,
        } => format!("{process_id}, owner={owner_id}, ttl={lease_ttl_ms}"),
        Op::RenewLease {
            lease,
            lease_ttl_ms,
        } => format!("{}, ttl={lease_ttl_ms}", lease_summary(lease)),
        Op::CompleteLease { completion } => {
            format!(
                "{}, token={}",
                completion.process_id, completion.lease_token
            )
        }
        Op::AppendEvent {
            process_id,
            request,
        } => format!(
            "{process_id}, {}{}",
            request.event_type,
            request
                .replay_key
                .as_ref()
                .map(|key| format!(", key={key}"))
                .unwrap_or_default()
        ),
        Op::EventsAfter {
            process_id,
            after_sequence,
        }
        | Op::WakeEventsAfter {
            process_id,
            after_sequence,
        } => format!("{process_id}, after={after_sequence}"),
        Op::WaitEventAfter {
            process_id,
            event_type,
            after_sequence,
        } => format!("{process_id}, {event_type}, after={after_sequence}"),
        Op::GrantHandle {
            scope, process_id, ..
        }
        | Op::RevokeHandle { scope, process_id }
        | Op::HasHandleGrant { scope, process_id } => format!("{}, {process_id}", scope.id()),
        Op::ListHandleGrants { scope } | Op::ListLiveHandleGrants { scope } => scope.id(),
        Op::TransferHandleGrants {
            from,
            to,
            process_ids,
        } => format!("{} -> {}, {}", from.id(), to.id(), process_ids.join(",")),
        Op::DeleteSession { session_id } => session_id.clone(),
        other => other.single_process().unwrap_or_default().to_owned(),
    }
}

/// What a caller was told.
pub(super) fn outcome(outcome: Option<&Result<OpOutput, PluginError>>) -> String {
    match outcome {
        None => "nothing (never returned)".to_owned(),
        Some(answer) => result(answer),
    }
}

fn result(answer: &Result<OpOutput, PluginError>) -> String {
    match answer {
        Ok(output) => format!("ok {}", output_summary(output)),
        Err(error) => format!("err {}", error.kind().as_str()),
    }
}

fn output_summary(output: &OpOutput) -> String {
    match output {
        OpOutput::Unit => "()".to_owned(),
        OpOutput::Bool(value) => value.to_string(),
        OpOutput::Record(record) | OpOutput::MaybeRecord(Some(record)) => format!(
            "record {} {:?} created={} updated={}",
            record.id, record.status, record.created_at_ms, record.updated_at_ms
        ),
        OpOutput::MaybeRecord(None) => "none".to_owned(),
        OpOutput::Records(records) => {
            let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
            format!("records [{}]", ids.join(", "))
        }
        OpOutput::Append(result) => format!(
            "event {}#{} {} at {}{}",
            result.event.process_id,
            result.event.sequence,
            result.event.event_type,
            result.event.occurred_at_ms,
            if result.replayed { " (replayed)" } else { "" }
        ),
        OpOutput::Event(event) => format!(
            "event {}#{} {}",
            event.process_id, event.sequence, event.event_type
        ),
        OpOutput::Events(events) => {
            let seqs: Vec<String> = events
                .iter()
                .map(|e| format!("{}:{}", e.sequence, e.event_type))
                .collect();
            format!("events [{}]", seqs.join(", "))
        }
        OpOutput::Lease(lease) => format!("lease {}", lease_summary(lease)),
        OpOutput::Pending => "pending (a real wait would still block)".to_owned(),
        other => format!("{other:?}"),
    }
}

fn lease_summary(lease: &ProcessLease) -> String {
    format!(
        "{} owner={} fencing={} claimed={} expires={}",
        lease.process_id,
        lease.owner_id,
        lease.fencing_token,
        lease.claimed_at_ms,
        lease.expires_at_ms
    )
}
