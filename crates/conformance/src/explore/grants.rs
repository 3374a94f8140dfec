//! The `grants` workload: clients with their own sessions race grants, revokes, transfers and
//! session deletions over a few processes, and read grants back from both sides (by scope and
//! by process).
//!
//! A `setup` client registers [`PROCESSES`] processes and grants each to session `sA`, then
//! starts [`CLIENTS`] clients, each running its own list of operations drawn from the seed's
//! workload stream (so the operations do not depend on the schedule). Idempotent calls (grant
//! H1, revoke H2, reads) are retried after `Unavailable`; transfers (H7) and session deletions
//! (S6) are not. Every client ends by reading every scope and every process.
//!
//! The check ([`check_grant_reads`]) treats each (scope, process) grant as a register and
//! judges every successful read against every write that completed before the read began: a
//! read may contradict such a write only if some other call that sets the read value could
//! have taken effect in between. That is sound under any interleaving (no false alarms) and
//! catches a transfer that is not all-or-nothing (H7: an id left behind in `from`, or missing
//! from `to`, or a failed transfer that moved something), a deleted session that still owns a
//! grant afterwards (S1, S5) unless a later grant or transfer into it could explain it, and
//! lost or resurrected grants and revokes (H1, H2). The full interleaving is left to the
//! linearizability checker.

use std::collections::BTreeMap;
use std::rc::Rc;

use procreg::{ProcessHandleDescriptor, ProcessRegistration, ProcessScope};
use procreg_reference::{Op, OpOutput};
use procreg_sim::check::Violation;
use procreg_sim::executor::{sleep, spawn};
use procreg_sim::history::{CallId, History};
use procreg_sim::rng::{SimRng, Stream};
use procreg_sim::PlanShape;

use super::client::{Client, Notes, error_kind, is_unavailable};
use super::{Start, Workload, WorkloadCheck};

/// Processes registered up front.
pub const PROCESSES: usize = 3;
/// Clients racing on the grants.
pub const CLIENTS: usize = 3;
/// Operations per client (before its final reads).
pub const OPS_PER_CLIENT: usize = 14;

/// The catalogue entry.
pub const WORKLOAD: Workload = Workload {
    name: "grants",
    about: "clients race grant / revoke / transfer / delete-session over shared processes and \
            read grants back by scope and by process",
    rules: &["H1", "H2", "H3", "H6", "H7", "S1", "S5", "S6"],
    shape,
    settle_ms: 2_000,
    completes_every_process: false,
    start,
};

fn shape(registry_crashes: bool) -> PlanShape {
    let mut clients = vec!["setup".to_owned()];
    clients.extend((0..CLIENTS).map(client_name));
    PlanShape {
        clients,
        calls_per_client: (OPS_PER_CLIENT + 10) as u64,
        workers: 0,
        faulty_phase_ms: 600,
        lease_ttl_ms: 100,
        registry_crashes,
    }
}

fn client_name(index: usize) -> String {
    format!("c{index}")
}

fn process_ids() -> Vec<String> {
    (0..PROCESSES).map(|i| format!("g{i}")).collect()
}

/// The scopes clients use: two sessions with a frame each, and a third bare session.
fn scopes() -> Vec<ProcessScope> {
    vec![
        ProcessScope::session("sA"),
        ProcessScope::frame("sA", "f1"),
        ProcessScope::session("sB"),
        ProcessScope::frame("sB", "f1"),
        ProcessScope::session("sC"),
    ]
}

fn start(start: Start<'_>) -> WorkloadCheck {
    let notes = Notes::new();
    let mut rng = SimRng::new(start.seed, Stream::Workload);
    let plans: Vec<Vec<(u64, Op)>> = (0..CLIENTS).map(|_| draw_ops(&mut rng)).collect();
    let setup = Client::new(start.link, "setup", start.deadline_ms, &notes);
    let link = start.link.clone();
    let deadline_ms = start.deadline_ms;
    let client_notes = notes.clone();
    start.executor.spawn("setup", async move {
        run_setup(&setup).await;
        for (index, ops) in plans.into_iter().enumerate() {
            let client = Client::new(&link, client_name(index), deadline_ms, &client_notes);
            spawn(client_name(index), run_client(client, ops));
        }
    });
    let notes = Rc::new(notes);
    Box::new(move |run| {
        let mut violations = notes.take();
        violations.extend(check_grant_reads(&run.history));
        violations
    })
}

fn draw_ops(rng: &mut SimRng) -> Vec<(u64, Op)> {
    let (scopes, pids) = (scopes(), process_ids());
    let pick_scope = |rng: &mut SimRng| scopes[rng.below(scopes.len() as u64) as usize].clone();
    (0..OPS_PER_CLIENT)
        .map(|_| {
            let think_ms = rng.between(0, 12);
            let pid = pids[rng.below(pids.len() as u64) as usize].clone();
            let op = match rng.below(20) {
                0..=4 => Op::GrantHandle {
                    scope: pick_scope(rng),
                    process_id: pid,
                    descriptor: ProcessHandleDescriptor::default(),
                },
                5..=6 => Op::RevokeHandle {
                    scope: pick_scope(rng),
                    process_id: pid,
                },
                7..=11 => {
                    let mut ids = vec![pid];
                    if rng.chance(0.5) {
                        let other = pids[rng.below(pids.len() as u64) as usize].clone();
                        if other != ids[0] {
                            ids.push(other);
                        }
                    }
                    Op::TransferHandleGrants {
                        from: pick_scope(rng),
                        to: pick_scope(rng),
                        process_ids: ids,
                    }
                }
                12..=13 => Op::DeleteSession {
                    session_id: ["sA", "sB", "sC"][rng.below(3) as usize].to_owned(),
                },
                14..=17 => Op::ListHandleGrants {
                    scope: pick_scope(rng),
                },
                _ => Op::HandleGrantsForProcess { process_id: pid },
            };
            (think_ms, op)
        })
        .collect()
}

async fn run_setup(setup: &Client) {
    for pid in process_ids() {
        let registration = ProcessRegistration::new(pid.clone(), ProcessScope::session("owner"), "host");
        expect_ok(setup, Op::Register { registration }).await;
        let grant = Op::GrantHandle {
            scope: ProcessScope::session("sA"),
            process_id: pid,
            descriptor: ProcessHandleDescriptor::labelled("initial"),
        };
        expect_ok(setup, grant).await;
    }
}

/// Retries an idempotent op; anything but success or `Unavailable` is noted.
async fn expect_ok(client: &Client, op: Op) {
    let result = client.retry(op.clone()).await;
    if result.is_err() && !is_unavailable(&result) {
        client.unexpected(&op, &result);
    }
}

async fn run_client(client: Client, ops: Vec<(u64, Op)>) {
    for (think_ms, op) in ops {
        sleep(think_ms).await;
        if client.past_deadline() {
            return;
        }
        match op {
            Op::TransferHandleGrants { .. } => {
                let result = client.call(op.clone()).await;
                let expected = result.is_ok()
                    || is_unavailable(&result)
                    || error_kind(&result) == Some(procreg::ErrorKind::HandleNotGranted);
                if !expected {
                    client.unexpected(&op, &result);
                }
            }
            Op::DeleteSession { .. } => {
                let result = client.call(op.clone()).await;
                if result.is_err() && !is_unavailable(&result) {
                    client.unexpected(&op, &result);
                }
            }
            op => expect_ok(&client, op).await,
        }
    }
    for scope in scopes() {
        expect_ok(&client, Op::ListHandleGrants { scope }).await;
    }
    for process_id in process_ids() {
        expect_ok(&client, Op::HandleGrantsForProcess { process_id }).await;
    }
}

/// A call that may have set a grant register: when, to what, whether it surely happened.
struct Write {
    call: Option<CallId>,
    invoke_ms: u64,
    /// `None`: never returned (may take effect any time after invoke).
    return_ms: Option<u64>,
    definite: bool,
    value: bool,
    rule: &'static str,
}

type Key = (String, String);

/// Every (scope id, process) register each call may have written.
fn writes(history: &History) -> BTreeMap<Key, Vec<Write>> {
    let mut out: BTreeMap<Key, Vec<Write>> = BTreeMap::new();
    for scope in scopes() {
        for pid in process_ids() {
            let initial = Write { call: None, invoke_ms: 0, return_ms: Some(0), definite: true, value: false, rule: "A1" };
            out.entry((scope.id(), pid)).or_default().push(initial);
        }
    }
    for call in history.calls() {
        if call.is_definite_error() {
            continue;
        }
        let mut put = |scope: &ProcessScope, pid: &str, value: bool, rule: &'static str| {
            if let Some(list) = out.get_mut(&(scope.id(), pid.to_owned())) {
                list.push(Write { call: Some(call.id), invoke_ms: call.invoke_ms, return_ms: call.return_ms, definite: !call.is_indefinite(), value, rule });
            }
        };
        match &call.op {
            Op::GrantHandle { scope, process_id, .. } => put(scope, process_id, true, "H1"),
            Op::RevokeHandle { scope, process_id } => put(scope, process_id, false, "H2"),
            Op::TransferHandleGrants { from, to, process_ids } if from.id() != to.id() => {
                for pid in process_ids {
                    put(from, pid, false, "H7");
                    put(to, pid, true, "H7");
                }
            }
            Op::DeleteSession { session_id } => {
                for scope in scopes().iter().filter(|s| &s.session_id == session_id) {
                    process_ids().iter().for_each(|pid| put(scope, pid, false, "S1"));
                }
            }
            _ => {}
        }
    }
    out
}

/// Every (key, value) a successful read observed, with the read's call.
fn reads(history: &History) -> Vec<(Key, bool, CallId, u64, u64)> {
    let mut out = Vec::new();
    for call in history.calls() {
        let (Some(Ok(output)), Some(ret)) = (&call.outcome, call.return_ms) else { continue };
        let mut saw = |scope: &ProcessScope, pid: &str, value: bool| {
            out.push(((scope.id(), pid.to_owned()), value, call.id, call.invoke_ms, ret));
        };
        match (&call.op, output) {
            (Op::ListHandleGrants { scope }, OpOutput::GrantEntries(entries)) => {
                for pid in process_ids() {
                    saw(scope, &pid, entries.iter().any(|e| e.grant.process_id == pid));
                }
            }
            (Op::HandleGrantsForProcess { process_id }, OpOutput::Grants(grants)) => {
                for scope in scopes() {
                    saw(&scope, process_id, grants.iter().any(|g| g.scope.id() == scope.id()));
                }
            }
            _ => {}
        }
    }
    out
}

/// See the module docs: each read against each write that completed before it.
pub fn check_grant_reads(history: &History) -> Vec<Violation> {
    let writes = writes(history);
    let mut out = Vec::new();
    for (key, value, read, read_invoke, read_return) in reads(history) {
        let Some(list) = writes.get(&key) else { continue };
        let contradicted = list.iter().find(|w| {
            w.definite
                && w.value != value
                && w.return_ms.is_some_and(|r| r < read_invoke)
                && !list.iter().any(|other| {
                    other.value == value
                        && other.invoke_ms <= read_return
                        && other.return_ms.is_none_or(|r| r >= w.invoke_ms)
                })
        });
        if let Some(w) = contradicted {
            let by = w.call.map_or("the initial state (never granted)".to_owned(), |c| format!("call #{c}"));
            out.push(Violation {
                rule: w.rule.to_owned(),
                call: Some(read),
                message: format!(
                    "read #{read} saw grant {} on {} = {value}, but {by} had set it to {} before the \
                     read began and no call that could set it back ran in between",
                    key.0, key.1, !value
                ),
            });
        }
    }
    out
}
