//! The `events` workload: writers racing keyed appends (the same replay keys, so each key must
//! map to one sequence), wake events acknowledged by an acker, and waiters following the logs
//! with `wait_event_after` and `await_process` that must wake.
//!
//! A `setup` client registers [`PROCESSES`] processes declaring `progress` (plain), `note`
//! (waking, target session `sW`) and `done` (plain), then starts:
//! - two writers, each appending to every process (in the same order, so they race on every
//!   key) the keyed `progress`
//!   events `0..STEPS`, its own keyed `note`, the shared keyed `done`, then completing it, all
//!   retried after `Unavailable` (E2, C2);
//! - one follower per process, waiting for each `progress` event in turn, then `done`, then
//!   the process's end (E14, C4), retrying a wait the link lost;
//! - an acker listing pending wakes and acknowledging them until every process is terminal
//!   and nothing is pending (E12, E13).
//!
//! Checks, against the final logs read back through the link (events never change once
//! appended, so any answer can be compared with them):
//! - **E2** every successful append with one replay key got one sequence, and at most one of
//!   them was not `replayed`;
//! - **E11** every event a read returned equals the final log's event at that sequence;
//! - **E14** a wait returned the lowest event of its type above its sequence;
//! - **C4** `await_process` returned the output the process ended with;
//! - **E13** a wake acknowledged before a listing began is not listed as pending again.
//!
//! Lost wake-ups and deadlocks at quiescence are judged generically ([`super::judge`]).

use std::collections::BTreeMap;

use procreg::{
    ProcessAwaitOutput, ProcessEvent, ProcessEventAppendRequest, ProcessEventType,
    ProcessRegistration, ProcessScope, ProcessWakeSpec, WakeDedupeKey,
};
use procreg_reference::{Op, OpOutput};
use procreg_sim::check::Violation;
use procreg_sim::executor::{sleep, spawn};
use procreg_sim::history::{CallRecord, History};
use procreg_sim::{FaultyLink, PlanShape};
use serde_json::json;

use super::client::{Client, Notes, is_unavailable};
use super::judge::read_now;
use super::{Start, Workload, WorkloadCheck};

/// Processes registered up front.
pub const PROCESSES: usize = 2;
/// Keyed `progress` events per process.
pub const STEPS: u64 = 4;
/// Writers racing on the same keys.
pub const WRITERS: usize = 2;

/// The catalogue entry.
pub const WORKLOAD: Workload = Workload {
    name: "events",
    about: "writers race keyed appends on shared replay keys; an acker acknowledges wakes; \
            followers wait for each event and for the end",
    rules: &["E2", "E8", "E11", "E12", "E13", "E14", "C2", "C4"],
    shape,
    settle_ms: 2_000,
    completes_every_process: true,
    start,
};

fn shape(registry_crashes: bool) -> PlanShape {
    let mut clients = vec!["setup".to_owned(), "acker".to_owned()];
    clients.extend((0..WRITERS).map(|i| format!("writer{i}")));
    clients.extend((0..PROCESSES).map(|i| format!("follower{i}")));
    PlanShape {
        clients,
        calls_per_client: 40,
        workers: 0,
        faulty_phase_ms: 500,
        lease_ttl_ms: 100,
        registry_crashes,
    }
}

fn pid(index: usize) -> String {
    format!("e{index}")
}

fn registration(index: usize) -> ProcessRegistration {
    let wake = ProcessWakeSpec {
        when: None,
        input: "/text".to_owned(),
        dedupe_key: WakeDedupeKey::EventIdentity,
    };
    ProcessRegistration::new(pid(index), ProcessScope::session("owner"), "host")
        .with_event_type(ProcessEventType::plain("progress"))
        .with_event_type(ProcessEventType::waking("note", wake))
        .with_event_type(ProcessEventType::plain("done"))
}

fn start(start: Start<'_>) -> WorkloadCheck {
    let notes = Notes::new();
    let (link, deadline) = (start.link.clone(), start.deadline_ms);
    let client = move |name: String| Client::new(&link, name, deadline, &notes);
    let setup = client("setup".to_owned());
    let notes = setup.notes().clone();
    start.executor.spawn("setup", async move {
        for index in 0..PROCESSES {
            let op = Op::Register {
                registration: registration(index),
            };
            expect(&setup, op, |o| matches!(o, OpOutput::Record(_))).await;
        }
        for i in 0..WRITERS {
            spawn(format!("writer{i}"), writer(client(format!("writer{i}")), i));
        }
        for i in 0..PROCESSES {
            spawn(format!("follower{i}"), follower(client(format!("follower{i}")), i));
        }
        spawn("acker", acker(client("acker".to_owned())));
    });
    let link = start.link.clone();
    Box::new(move |run| {
        let mut violations = notes.take();
        violations.extend(check_events(&run.history, &link));
        violations
    })
}

/// Retries an idempotent `op`; an answer other than `Unavailable` failing `ok` is noted.
async fn expect(client: &Client, op: Op, ok: impl Fn(&OpOutput) -> bool) -> Option<OpOutput> {
    let result = client.retry(op.clone()).await;
    match result {
        Ok(output) if ok(&output) => Some(output),
        result => {
            if !is_unavailable(&result) {
                client.unexpected(&op, &result);
            }
            None
        }
    }
}

async fn append(client: &Client, process: &str, request: ProcessEventAppendRequest) {
    let op = Op::AppendEvent {
        process_id: process.to_owned(),
        request,
    };
    expect(client, op, |o| matches!(o, OpOutput::Append(_))).await;
}

async fn writer(client: Client, me: usize) {
    for index in 0..PROCESSES {
        let p = pid(index);
        for step in 0..STEPS {
            let request = ProcessEventAppendRequest::new("progress", json!({ "step": step }))
                .with_replay_key(format!("{p}/progress/{step}"));
            append(&client, &p, request).await;
        }
        let note = ProcessEventAppendRequest::new("note", json!({ "text": format!("from {me}") }))
            .with_replay_key(format!("{p}/note/{me}"))
            .with_wake_target(ProcessScope::session("sW"));
        append(&client, &p, note).await;
        let done = ProcessEventAppendRequest::new("done", json!({})).with_replay_key(format!("{p}/done"));
        append(&client, &p, done).await;
        let output = ProcessAwaitOutput::Success { value: json!("ok") };
        let op = Op::CompleteProcess { process_id: p, output };
        expect(&client, op, |o| matches!(o, OpOutput::Record(_))).await;
    }
}

async fn follower(client: Client, index: usize) {
    let p = pid(index);
    let mut after = 0;
    for _ in 0..STEPS {
        let op = Op::WaitEventAfter { process_id: p.clone(), event_type: "progress".to_owned(), after_sequence: after };
        match expect(&client, op, |o| matches!(o, OpOutput::Event(_))).await {
            Some(OpOutput::Event(event)) => after = event.sequence,
            _ => return,
        }
    }
    let done = Op::WaitEventAfter { process_id: p.clone(), event_type: "done".to_owned(), after_sequence: 0 };
    if expect(&client, done, |o| matches!(o, OpOutput::Event(_))).await.is_none() {
        return;
    }
    expect(&client, Op::AwaitProcess { process_id: p }, |o| matches!(o, OpOutput::AwaitOutput(_))).await;
}

async fn acker(client: Client) {
    while !client.past_deadline() {
        let mut quiet = true;
        for index in 0..PROCESSES {
            let p = pid(index);
            let list = Op::WakeEventsAfter { process_id: p.clone(), after_sequence: 0 };
            let Some(OpOutput::Events(pending)) = expect(&client, list, |o| matches!(o, OpOutput::Events(_))).await else {
                quiet = false;
                continue;
            };
            for event in pending {
                quiet = false;
                let ack = Op::AckWake { process_id: p.clone(), sequence: event.sequence };
                expect(&client, ack, |o| matches!(o, OpOutput::Unit)).await;
            }
            let get = Op::GetProcess { process_id: p };
            let terminal = matches!(client.retry(get).await, Ok(OpOutput::MaybeRecord(Some(r))) if r.is_terminal());
            quiet &= terminal;
        }
        if quiet {
            return;
        }
        sleep(10).await;
    }
}

/// The final log and end state of each process, read through the link.
fn final_state(link: &FaultyLink) -> BTreeMap<String, (Vec<ProcessEvent>, Option<ProcessAwaitOutput>)> {
    (0..PROCESSES)
        .filter_map(|i| {
            let events = match read_now(link, Op::EventsAfter { process_id: pid(i), after_sequence: 0 }) {
                Ok(OpOutput::Events(events)) => events,
                _ => return None,
            };
            let output = match read_now(link, Op::GetProcess { process_id: pid(i) }) {
                Ok(OpOutput::MaybeRecord(Some(record))) => record.status.await_output().cloned(),
                _ => None,
            };
            Some((pid(i), (events, output)))
        })
        .collect()
}

fn violation(rule: &str, call: &CallRecord, message: String) -> Violation {
    Violation { rule: rule.to_owned(), call: Some(call.id), message }
}

/// See the module docs.
pub fn check_events(history: &History, link: &FaultyLink) -> Vec<Violation> {
    let finals = final_state(link);
    let mut out = Vec::new();
    let mut by_key: BTreeMap<(&str, &str), Vec<(&CallRecord, u64, bool)>> = BTreeMap::new();
    let mut acked: Vec<(&str, u64, u64)> = Vec::new();
    for call in history.calls() {
        let Some(Ok(output)) = &call.outcome else { continue };
        let log = call.op.single_process().and_then(|p| finals.get(p));
        let in_log = |e: &ProcessEvent| log.is_some_and(|(l, _)| l.get(e.sequence as usize - 1) == Some(e));
        match (&call.op, output) {
            (Op::AppendEvent { process_id, request }, OpOutput::Append(result)) => {
                if let Some(key) = &request.replay_key {
                    by_key.entry((process_id, key)).or_default().push((call, result.event.sequence, result.replayed));
                }
            }
            (Op::EventsAfter { .. } | Op::WakeEventsAfter { .. }, OpOutput::Events(events)) => {
                if let Some(e) = events.iter().find(|e| e.sequence == 0 || !in_log(e)) {
                    out.push(violation("E11", call, format!("read returned {}#{} unlike the final log: {e:?}", e.process_id, e.sequence)));
                }
            }
            (Op::WaitEventAfter { event_type, after_sequence, .. }, OpOutput::Event(event)) => {
                let lowest = log.and_then(|(l, _)| l.iter().find(|e| &e.event_type == event_type && e.sequence > *after_sequence));
                if lowest != Some(event) {
                    out.push(violation("E14", call, format!("wait returned seq={} {}, but the lowest {event_type} above {after_sequence} in the final log is {:?}", event.sequence, event.event_type, lowest.map(|e| e.sequence))));
                }
            }
            (Op::AwaitProcess { .. }, OpOutput::AwaitOutput(got)) => {
                if log.and_then(|(_, o)| o.as_ref()) != Some(got) {
                    out.push(violation("C4", call, format!("await_process returned {got:?}, the process ended with {:?}", log.map(|(_, o)| o))));
                }
            }
            (Op::AckWake { process_id, sequence }, OpOutput::Unit) => {
                acked.push((process_id, *sequence, call.return_ms.unwrap_or(u64::MAX)));
            }
            _ => {}
        }
    }
    for ((process, key), seen) in &by_key {
        let first = seen[0].1;
        let fresh = seen.iter().filter(|(_, _, replayed)| !replayed).count();
        if let Some((call, seq, _)) = seen.iter().find(|(_, s, _)| *s != first) {
            out.push(violation("E2", call, format!("{process}: replay key {key} answered seq={seq}, earlier seq={first}")));
        } else if fresh > 1 {
            out.push(violation("E2", seen[0].0, format!("{process}: replay key {key} was applied {fresh} times (replayed=false)")));
        }
    }
    out.extend(check_acks(history, &acked));
    out
}

/// E13: a wake acknowledged before a listing began is not pending in it.
fn check_acks(history: &History, acked: &[(&str, u64, u64)]) -> Vec<Violation> {
    let mut out = Vec::new();
    for call in history.calls() {
        let (Op::WakeEventsAfter { process_id, .. }, Some(Ok(OpOutput::Events(events)))) = (&call.op, &call.outcome) else { continue };
        let stale = events.iter().find(|e| {
            acked.iter().any(|(p, s, at)| p == process_id && *s == e.sequence && *at < call.invoke_ms)
        });
        if let Some(e) = stale {
            out.push(violation("E13", call, format!("{process_id}#{} listed as pending after its ack returned", e.sequence)));
        }
    }
    out
}
