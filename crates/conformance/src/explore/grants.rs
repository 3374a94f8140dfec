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
//! The check ([`super::grants_check`]) treats each (scope, process) grant as a register and
//! judges every successful read against every write that completed before the read began: a
//! read may contradict such a write only if some other call that sets the read value could
//! have taken effect in between. That is sound under any interleaving (no false alarms) and
//! catches a transfer that is not all-or-nothing (H7: an id left behind in `from`, or missing
//! from `to`, or a failed transfer that moved something), a deleted session that still owns a
//! grant afterwards (S1, S5) unless a later grant or transfer into it could explain it, and
//! lost or resurrected grants and revokes (H1, H2). The full interleaving is left to the
//! linearizability checker.

use std::sync::Arc;

use std::rc::Rc;

use procreg::{ProcessHandleDescriptor, ProcessRegistration, ProcessScope};
use procreg_reference::{Op, OpOutput};
use procreg_sim::check::Violation;
use procreg_sim::executor::spawn;
use procreg_sim::history::History;
use procreg_sim::rng::{SimRng, Stream};
use procreg_sim::{FaultyLink, PlanShape, RunReport};

use super::client::{Client, Notes, error_kind, is_unavailable};
use super::grants_check::check_grant_reads;
use super::{Start, Workload, WorkloadCheck};

/// Processes registered up front.
pub const PROCESSES: usize = 3;
/// Clients racing on the grants.
pub const CLIENTS: usize = 4;
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
    history_check: Some(history_check),
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

/// The name of client `index` (`c0`, `c1`, ...).
pub fn client_name(index: usize) -> String {
    format!("c{index}")
}

fn process_ids() -> Vec<String> {
    (0..PROCESSES).map(|i| format!("g{i}")).collect()
}

/// The scopes clients use: a session with a frame, and two bare sessions.
fn scopes() -> Vec<ProcessScope> {
    vec![
        ProcessScope::session("sA"),
        ProcessScope::frame("sA", "f1"),
        ProcessScope::session("sB"),
        ProcessScope::session("sC"),
    ]
}

fn start(start: Start<'_>) -> WorkloadCheck {
    let notes = Notes::new();
    let plans = client_steps(start.seed);
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
    Box::new(move |run| check(&notes, &run.history))
}

/// The workload's end-of-run check: what the clients noted, plus the grant reads judged
/// against the history ([`super::grants_check`]).
pub fn check(notes: &Notes, history: &History) -> Vec<Violation> {
    let mut violations = notes.take();
    violations.extend(grant_reads(history));
    violations
}

/// What no interleaving of a correct registry contradicts in the reads (H1 H2 H7 S1 S5).
fn grant_reads(history: &History) -> Vec<Violation> {
    check_grant_reads(history, &scopes(), &process_ids())
}

/// [`grant_reads`] as the workload's history check: it needs no client state, so it judges
/// world scenarios of this workload too.
fn history_check(run: &RunReport, _link: &FaultyLink) -> Vec<Violation> {
    grant_reads(&run.history)
}

/// Each client's steps for `seed`, drawn from the seed's workload stream.
pub fn client_steps(seed: u64) -> Vec<Vec<(u64, Step)>> {
    let mut rng = SimRng::new(seed, Stream::Workload);
    (0..CLIENTS).map(|_| draw_ops(&mut rng)).collect()
}

/// One step of a client: a call, or "move everything `from` holds to `to`" (a read of
/// `from`, then one transfer of what it listed: the transfer races whatever changes `from` in
/// between, as a real session handing its processes over does).
#[derive(Clone, Debug)]
pub enum Step {
    /// One call.
    Call(Op),
    /// A read of `from`, then one transfer of what it listed to `to`.
    MoveAll {
        /// The scope emptied.
        from: ProcessScope,
        /// The scope filled.
        to: ProcessScope,
    },
}

fn draw_ops(rng: &mut SimRng) -> Vec<(u64, Step)> {
    let (scopes, pids) = (scopes(), process_ids());
    let pick_scope = |rng: &mut SimRng| scopes[rng.below(scopes.len() as u64) as usize].clone();
    (0..OPS_PER_CLIENT)
        .map(|_| {
            let think_ms = rng.between(0, 8);
            let pid = pids[rng.below(pids.len() as u64) as usize].clone();
            let op = match rng.below(20) {
                0..=5 => Op::GrantHandle {
                    scope: pick_scope(rng),
                    process_id: pid,
                    descriptor: ProcessHandleDescriptor::default(),
                },
                6..=7 => Op::RevokeHandle {
                    scope: pick_scope(rng),
                    process_id: pid,
                },
                8..=14 => {
                    let (from, to) = (pick_scope(rng), pick_scope(rng));
                    return (think_ms, Step::MoveAll { from, to });
                }
                15 => Op::DeleteSession {
                    session_id: ["sA", "sB", "sC"][rng.below(3) as usize].to_owned(),
                },
                16..=17 => Op::ListHandleGrants {
                    scope: pick_scope(rng),
                },
                _ => Op::HandleGrantsForProcess { process_id: pid },
            };
            (think_ms, Step::Call(op))
        })
        .collect()
}

/// Registers the [`PROCESSES`] processes and grants each to session `sA`.
pub async fn run_setup(setup: &Client) {
    for pid in process_ids() {
        let registration =
            ProcessRegistration::new(pid.clone(), ProcessScope::session("owner"), "host");
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
async fn expect_ok(client: &Client, op: impl Into<Arc<Op>>) {
    let op = op.into();
    let result = client.retry(Arc::clone(&op)).await;
    if result.is_err() && !is_unavailable(&result) {
        client.unexpected(&op, &result);
    }
}

/// Runs one client's `steps`, then reads every scope and every process.
pub async fn run_client(client: Client, steps: Vec<(u64, Step)>) {
    for (think_ms, step) in steps {
        client.sleep(think_ms).await;
        if client.past_deadline() {
            return;
        }
        match step {
            Step::MoveAll { from, to } => move_all(&client, from, to).await,
            Step::Call(op @ Op::DeleteSession { .. }) => {
                // Not retried: a second deletion would report nothing (S5, S6).
                let op = Arc::new(op);
                let result = client.call(Arc::clone(&op)).await;
                if result.is_err() && !is_unavailable(&result) {
                    client.unexpected(&op, &result);
                }
            }
            Step::Call(op) => expect_ok(&client, op).await,
        }
    }
    for scope in scopes() {
        expect_ok(&client, Op::ListHandleGrants { scope }).await;
    }
    for process_id in process_ids() {
        expect_ok(&client, Op::HandleGrantsForProcess { process_id }).await;
    }
}

/// Reads what `from` holds and transfers all of it to `to`, once (H7 is not idempotent).
async fn move_all(client: &Client, from: ProcessScope, to: ProcessScope) {
    let list = Arc::new(Op::ListHandleGrants {
        scope: from.clone(),
    });
    let process_ids: Vec<String> = match &*client.retry(Arc::clone(&list)).await {
        Ok(OpOutput::GrantEntries(entries)) => {
            entries.iter().map(|e| e.grant.process_id.clone()).collect()
        }
        result => {
            if !is_unavailable(result) {
                client.unexpected(&list, result);
            }
            return;
        }
    };
    if process_ids.is_empty() {
        return;
    }
    let op = Arc::new(Op::TransferHandleGrants {
        from,
        to,
        process_ids,
    });
    let result = client.call(Arc::clone(&op)).await;
    let expected = result.is_ok()
        || is_unavailable(&result)
        || error_kind(&result) == Some(procreg::ErrorKind::HandleNotGranted);
    if !expected {
        client.unexpected(&op, &result);
    }
}
