//! The events workload's check, against the final logs read back through the link: events
//! never change once appended, so any answer a client got can be compared with them.
//!
//! - **E2** every successful append with one replay key got one sequence, and at most one of
//!   them was not `replayed`;
//! - **E11** every event a read returned equals the final log's event at that sequence;
//! - **E14** a wait returned the lowest event of its type above its sequence;
//! - **C4** `await_process` returned the output the process ended with;
//! - **E13** a wake acknowledged before a listing began is not listed as pending again.
//!
//! Why it exists: these are the event rules a history shows without a search. What it leaves
//! alone: lost wake-ups (judged at quiescence by [`super::judge`]) and orderings only the
//! linearizability checker decides.

use std::collections::BTreeMap;

use procreg::{ProcessAwaitOutput, ProcessEvent};
use procreg_reference::{Op, OpOutput};
use procreg_sim::FaultyLink;
use procreg_sim::check::Violation;
use procreg_sim::history::{CallRecord, History};

use super::judge::read_now;

/// A process's final log and, once terminal, its await output.
type FinalState = (Vec<ProcessEvent>, Option<ProcessAwaitOutput>);

/// Successful keyed appends: (process, key) -> (call, sequence, replayed).
type KeyedAppends<'a> = BTreeMap<(&'a str, &'a str), Vec<(&'a CallRecord, u64, bool)>>;

/// The final log and end state of each process, read through the link.
fn final_state(link: &FaultyLink, pids: &[String]) -> BTreeMap<String, FinalState> {
    pids.iter()
        .filter_map(|pid| {
            let read = Op::EventsAfter {
                process_id: pid.clone(),
                after_sequence: 0,
            };
            let Ok(OpOutput::Events(events)) = read_now(link, read) else {
                return None;
            };
            let get = Op::GetProcess {
                process_id: pid.clone(),
            };
            let output = match read_now(link, get) {
                Ok(OpOutput::MaybeRecord(Some(record))) => record.status.await_output().cloned(),
                _ => None,
            };
            Some((pid.clone(), (events, output)))
        })
        .collect()
}

fn violation(rule: &str, call: &CallRecord, message: String) -> Violation {
    Violation {
        rule: rule.to_owned(),
        call: Some(call.id),
        message,
    }
}

/// See the module docs. `pids` are the processes the workload registered.
pub fn check_events(history: &History, link: &FaultyLink, pids: &[String]) -> Vec<Violation> {
    let finals = final_state(link, pids);
    let mut out = Vec::new();
    let mut by_key: KeyedAppends<'_> = BTreeMap::new();
    for call in history.calls() {
        let Some(Ok(output)) = call.outcome() else {
            continue;
        };
        if let (
            Op::AppendEvent {
                process_id,
                request,
            },
            OpOutput::Append(result),
        ) = (&*call.op, output)
            && let Some(key) = &request.replay_key
        {
            by_key.entry((process_id, key)).or_default().push((
                call,
                result.event.sequence,
                result.replayed,
            ));
        }
        let log = call.op.single_process().and_then(|p| finals.get(p));
        if let Some((rule, message)) = check_answer(&call.op, output, log) {
            out.push(violation(rule, call, message));
        }
    }
    out.extend(check_keys(&by_key));
    out.extend(check_acks(history));
    out
}

/// E11, E14, C4: one answer against the final state of its process.
fn check_answer(
    op: &Op,
    output: &OpOutput,
    log: Option<&FinalState>,
) -> Option<(&'static str, String)> {
    let in_log = |e: &ProcessEvent| {
        e.sequence > 0 && log.is_some_and(|(l, _)| l.get(e.sequence as usize - 1) == Some(e))
    };
    match (op, output) {
        (Op::EventsAfter { .. } | Op::WakeEventsAfter { .. }, OpOutput::Events(events)) => {
            let e = events.iter().find(|e| !in_log(e))?;
            Some((
                "E11",
                format!(
                    "read returned {}#{} unlike the final log: {e:?}",
                    e.process_id, e.sequence
                ),
            ))
        }
        (
            Op::WaitEventAfter {
                event_type,
                after_sequence,
                ..
            },
            OpOutput::Event(event),
        ) => {
            let lowest = log.and_then(|(l, _)| {
                l.iter()
                    .find(|e| &e.event_type == event_type && e.sequence > *after_sequence)
            });
            (lowest != Some(event)).then(|| {
                let lowest = lowest.map(|e| e.sequence);
                ("E14", format!("wait returned seq={} {}, but the lowest {event_type} above {after_sequence} in the final log is {lowest:?}", event.sequence, event.event_type))
            })
        }
        (Op::AwaitProcess { .. }, OpOutput::AwaitOutput(got)) => {
            let ended = log.and_then(|(_, o)| o.as_ref());
            (ended != Some(got)).then(|| {
                (
                    "C4",
                    format!("await_process returned {got:?}, the process ended with {ended:?}"),
                )
            })
        }
        _ => None,
    }
}

/// E2: one key, one sequence, applied once.
fn check_keys(by_key: &KeyedAppends<'_>) -> Vec<Violation> {
    let mut out = Vec::new();
    for ((process, key), seen) in by_key {
        let first = seen[0].1;
        let fresh = seen.iter().filter(|(_, _, replayed)| !replayed).count();
        if let Some((call, seq, _)) = seen.iter().find(|(_, s, _)| *s != first) {
            let message =
                format!("{process}: replay key {key} answered seq={seq}, earlier seq={first}");
            out.push(violation("E2", call, message));
        } else if fresh > 1 {
            let message =
                format!("{process}: replay key {key} was applied {fresh} times (replayed=false)");
            out.push(violation("E2", seen[0].0, message));
        }
    }
    out
}

/// E13: a wake acknowledged before a listing began is not pending in it.
fn check_acks(history: &History) -> Vec<Violation> {
    // (process, sequence, when the ack returned)
    let acked: Vec<(&str, u64, u64)> = history
        .calls()
        .iter()
        .filter_map(|call| match (&*call.op, call.outcome(), call.return_ms) {
            (
                Op::AckWake {
                    process_id,
                    sequence,
                },
                Some(Ok(_)),
                Some(at),
            ) => Some((process_id.as_str(), *sequence, at)),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for call in history.calls() {
        let (Op::WakeEventsAfter { process_id, .. }, Some(Ok(OpOutput::Events(events)))) =
            (&*call.op, call.outcome())
        else {
            continue;
        };
        let stale = events.iter().find(|e| {
            acked
                .iter()
                .any(|(p, s, at)| p == process_id && *s == e.sequence && *at < call.invoke_ms)
        });
        if let Some(e) = stale {
            out.push(violation(
                "E13",
                call,
                format!(
                    "{process_id}#{} listed as pending after its ack returned",
                    e.sequence
                ),
            ));
        }
    }
    out
}
