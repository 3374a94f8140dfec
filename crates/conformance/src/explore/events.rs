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
//! Checks: [`super::events_check`] (E2, E11, E13, E14, C4).
//!
//! Lost wake-ups and deadlocks at quiescence are judged generically ([`super::judge`]).

use std::sync::Arc;

use procreg::{
    ProcessAwaitOutput, ProcessEventAppendRequest, ProcessEventType, ProcessRegistration,
    ProcessScope, ProcessWakeSpec, WakeDedupeKey,
};
use procreg_reference::{Op, OpOutput};
use procreg_sim::check::Violation;
use procreg_sim::executor::{sleep, spawn};
use procreg_sim::{FaultyLink, PlanShape, RunReport};
use serde_json::json;

use super::client::{Client, Notes, is_unavailable};
use super::events_check::check_events;
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
    history_check: Some(history_check),
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

fn process_ids() -> Vec<String> {
    (0..PROCESSES).map(pid).collect()
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
            let op = Arc::new(Op::Register {
                registration: registration(index),
            });
            expect(&setup, op, |o| matches!(o, OpOutput::Record(_))).await;
        }
        for i in 0..WRITERS {
            spawn(
                format!("writer{i}"),
                writer(client(format!("writer{i}")), i),
            );
        }
        for i in 0..PROCESSES {
            spawn(
                format!("follower{i}"),
                follower(client(format!("follower{i}")), i),
            );
        }
        spawn("acker", acker(client("acker".to_owned())));
    });
    let link = start.link.clone();
    Box::new(move |run| {
        let mut violations = notes.take();
        violations.extend(history_check(run, &link));
        violations
    })
}

/// E2 E13 E14 C4 from the history and the registry's final state; it needs no client state,
/// so it judges world scenarios of this workload too.
fn history_check(run: &RunReport, link: &FaultyLink) -> Vec<Violation> {
    check_events(&run.history, link, &process_ids())
}

/// Retries an idempotent `op`; an answer other than `Unavailable` failing `ok` is noted.
async fn expect(
    client: &Client,
    op: impl Into<Arc<Op>>,
    ok: impl Fn(&OpOutput) -> bool,
) -> Option<OpOutput> {
    let op = op.into();
    let result = client.retry(Arc::clone(&op)).await;
    match &*result {
        Ok(output) if ok(output) => Some(output.clone()),
        result => {
            if !is_unavailable(result) {
                client.unexpected(&op, result);
            }
            None
        }
    }
}

async fn append(client: &Client, process: &str, request: ProcessEventAppendRequest) {
    let op = Arc::new(Op::AppendEvent {
        process_id: process.to_owned(),
        request,
    });
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
        let done =
            ProcessEventAppendRequest::new("done", json!({})).with_replay_key(format!("{p}/done"));
        append(&client, &p, done).await;
        let output = ProcessAwaitOutput::Success { value: json!("ok") };
        let op = Arc::new(Op::CompleteProcess {
            process_id: p,
            output,
        });
        expect(&client, op, |o| matches!(o, OpOutput::Record(_))).await;
    }
}

async fn follower(client: Client, index: usize) {
    let p = pid(index);
    let mut after = 0;
    for _ in 0..STEPS {
        let op = Arc::new(Op::WaitEventAfter {
            process_id: p.clone(),
            event_type: "progress".to_owned(),
            after_sequence: after,
        });
        match expect(&client, op, |o| matches!(o, OpOutput::Event(_))).await {
            Some(OpOutput::Event(event)) => after = event.sequence,
            _ => return,
        }
    }
    let done = Op::WaitEventAfter {
        process_id: p.clone(),
        event_type: "done".to_owned(),
        after_sequence: 0,
    };
    if expect(&client, done, |o| matches!(o, OpOutput::Event(_)))
        .await
        .is_none()
    {
        return;
    }
    expect(&client, Op::AwaitProcess { process_id: p }, |o| {
        matches!(o, OpOutput::AwaitOutput(_))
    })
    .await;
}

async fn acker(client: Client) {
    while !client.past_deadline() {
        let mut quiet = true;
        for index in 0..PROCESSES {
            let p = pid(index);
            let list = Op::WakeEventsAfter {
                process_id: p.clone(),
                after_sequence: 0,
            };
            let Some(OpOutput::Events(pending)) =
                expect(&client, list, |o| matches!(o, OpOutput::Events(_))).await
            else {
                quiet = false;
                continue;
            };
            for event in pending {
                quiet = false;
                let ack = Op::AckWake {
                    process_id: p.clone(),
                    sequence: event.sequence,
                };
                expect(&client, ack, |o| matches!(o, OpOutput::Unit)).await;
            }
            let get = Op::GetProcess { process_id: p };
            let terminal = matches!(&*client.retry(get).await, Ok(OpOutput::MaybeRecord(Some(r))) if r.is_terminal());
            quiet &= terminal;
        }
        if quiet {
            return;
        }
        sleep(10).await;
    }
}
