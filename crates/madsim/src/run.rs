//! One seed in cluster mode: sample the plan, start the nodes, apply the faults through madsim,
//! then judge the history with the core world's checkers.
//!
//! Nodes: `registry` (the server, 10.0.0.1), a setup node (`registrar` / `setup`), one node per
//! client (`w0`..`w2` for `recovery`, `c0`..`c3` for `grants`) and, after the run, `explorer`
//! (the judge's final read). The plan is the core world's [`FaultPlan`] for the workload,
//! applied as madsim faults:
//!
//! | plan entry | in cluster mode |
//! |---|---|
//! | per-call link faults | replaced by madsim's packet loss and 1-10 ms latency (Z41) |
//! | partition of a client | `clog_link` both ways between its node and the server, then unclog |
//! | worker crash | `kill` of its node, `restart` [`WORKER_DOWN_MS`] later (new incarnation) |
//! | worker stall | `pause` of its node for `for_ms`, then `resume` |
//! | registry crash | `kill` of the server node, `restart` [`SERVER_DOWN_MS`] later (durable only) |
//!
//! After `faults_end_ms` loss is 0 and every link is unclogged (the settle phase, W5).

use std::rc::Rc;
use std::time::Duration;

use madsim::net::NetSim;
use madsim::runtime::{Handle, NodeHandle};
use procreg::PluginError;
use procreg_conformance::explore::client::{Client, Transport};
use procreg_conformance::explore::grants;
use procreg_conformance::explore::judge::judge_with;
use procreg_conformance::explore::lin::{LIN_BUDGET, LinSummary, check_recorded};
use procreg_conformance::explore::recovery::{register_processes, run_incarnation};
use procreg_conformance::explore::{Failure, SeedOutcome};
use procreg_reference::{Op, OpOutput};
use procreg_sim::check::Violation;
use procreg_sim::world::START_MS;
use procreg_sim::{CrashEvent, FaultLevel, FaultPlan, RunEnd, RunReport, SimTarget};

pub use crate::cluster::ClusterWorkload;
use crate::cluster::{self, Cluster, Role, SERVER_IP};
use crate::transport::MadsimTransport;

/// How long a killed server node stays down before it restarts, virtual ms.
pub const SERVER_DOWN_MS: u64 = 40;
/// How long a killed worker node stays down before it restarts, virtual ms.
pub const WORKER_DOWN_MS: u64 = 10;
/// How long after the deadline the workers may take to wind down before the run counts as
/// hung, virtual ms.
pub const GRACE_MS: u64 = 2_000;

/// madsim's packet loss rate during the faulty phase at `level`.
pub fn loss_rate(level: FaultLevel) -> f64 {
    match level {
        FaultLevel::None => 0.0,
        FaultLevel::Light => 0.01,
        FaultLevel::Heavy => 0.05,
    }
}

/// Runs `job` against `target` for the runtime's seed (madsim's `MADSIM_TEST_SEED`) with a
/// plan sampled at `level`, and judges it. Must run inside a madsim runtime (see
/// [`crate::sweep`]).
pub async fn run_seed(
    job: ClusterWorkload,
    target: Box<dyn SimTarget>,
    level: FaultLevel,
) -> SeedOutcome {
    let handle = Handle::current();
    let seed = handle.seed();
    let workload = job.workload();
    let mut plan = FaultPlan::sample(seed, level, &(workload.shape)(target.durable()));
    plan.link.clear();
    let name = target.name();
    let cluster = Rc::new(Cluster::new(job, seed, plan.clone(), target));
    let _installed = cluster::install(Rc::clone(&cluster));
    let net = NetSim::current();
    net.update_config(|c| c.packet_loss_rate = loss_rate(level));
    let server = handle
        .create_node()
        .name("registry")
        .ip(SERVER_IP)
        .init(crate::server::serve)
        .build();
    let registrar = client_node(&handle, Role::Setup, job);
    let workers: Vec<NodeHandle> = (0..job.clients())
        .map(|w| client_node(&handle, Role::Client(w), job))
        .collect();
    let nodes = Nodes {
        job,
        handle: &handle,
        net: &net,
        server,
        registrar,
        workers,
    };
    for (at_ms, action) in schedule(&plan, job.clients()) {
        madsim::time::sleep_until(cluster.clock.instant(START_MS + at_ms)).await;
        nodes.apply(&cluster, &plan, at_ms, action);
    }
    madsim::time::sleep_until(cluster.clock.instant(START_MS + plan.faults_end_ms)).await;
    net.update_config(|c| c.packet_loss_rate = 0.0);
    nodes.unclog_all();
    let end = wait_for_workers(&cluster).await;
    let _explorer = client_node(&handle, Role::Explorer, job);
    while cluster.final_worklist.borrow().is_none()
        && cluster.now() < cluster.deadline_ms + 2 * GRACE_MS
    {
        madsim::time::sleep(Duration::from_millis(10)).await;
    }
    let run = report(&cluster, seed, end);
    let (failures, linearizability) = judge(&cluster, &run);
    SeedOutcome {
        workload: workload.name,
        target: name,
        seed,
        level: Some(level),
        plan,
        run: Some(run),
        failures,
        linearizability,
    }
}

/// A fault the supervisor applies at a plan instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    KillServer,
    RestartServer,
    KillWorker(u32),
    RestartWorker(u32),
    Pause(u32),
    Resume(u32),
    Clog(usize),
    Unclog(usize),
}

/// The plan as timed actions, ascending (ties keep plan order). A kill that would land while
/// the node is still down from the previous one is skipped.
fn schedule(plan: &FaultPlan, clients: u32) -> Vec<(u64, Action)> {
    let mut actions = Vec::new();
    let mut server_kills: Vec<u64> = Vec::new();
    let mut worker_kills: Vec<Vec<u64>> = vec![Vec::new(); clients as usize];
    for event in &plan.crashes {
        match *event {
            CrashEvent::Registry { at_ms } => server_kills.push(at_ms),
            CrashEvent::Worker { worker, at_ms } if worker < clients => {
                worker_kills[worker as usize].push(at_ms);
            }
            CrashEvent::Stall {
                worker,
                at_ms,
                for_ms,
            } if worker < clients => {
                actions.push((at_ms, Action::Pause(worker)));
                actions.push((at_ms + for_ms, Action::Resume(worker)));
            }
            _ => {}
        }
    }
    for at in spaced(server_kills, SERVER_DOWN_MS) {
        actions.push((at, Action::KillServer));
        actions.push((at + SERVER_DOWN_MS, Action::RestartServer));
    }
    for (worker, kills) in worker_kills.into_iter().enumerate() {
        for at in spaced(kills, WORKER_DOWN_MS) {
            actions.push((at, Action::KillWorker(worker as u32)));
            actions.push((at + WORKER_DOWN_MS, Action::RestartWorker(worker as u32)));
        }
    }
    for (index, partition) in plan.partitions.iter().enumerate() {
        actions.push((partition.from_ms, Action::Clog(index)));
        actions.push((
            partition.until_ms.min(plan.faults_end_ms),
            Action::Unclog(index),
        ));
    }
    actions.sort_by_key(|(at, _)| *at);
    actions
}

/// `times` ascending, without any that falls within `down_ms` after the previous kept one.
fn spaced(mut times: Vec<u64>, down_ms: u64) -> Vec<u64> {
    times.sort_unstable();
    let mut kept: Vec<u64> = Vec::new();
    for at in times {
        if kept.last().is_none_or(|last| at > last + down_ms) {
            kept.push(at);
        }
    }
    kept
}

struct Nodes<'a> {
    job: ClusterWorkload,
    handle: &'a Handle,
    net: &'a NetSim,
    server: NodeHandle,
    registrar: NodeHandle,
    workers: Vec<NodeHandle>,
}

impl Nodes<'_> {
    fn apply(&self, cluster: &Cluster, plan: &FaultPlan, at_ms: u64, action: Action) {
        match action {
            Action::KillServer => {
                self.handle.kill(self.server.id());
                cluster.crash();
            }
            Action::RestartServer => self.handle.restart(self.server.id()),
            Action::KillWorker(w) => self.handle.kill(self.workers[w as usize].id()),
            Action::RestartWorker(w) => self.handle.restart(self.workers[w as usize].id()),
            Action::Pause(w) => self.handle.pause(self.workers[w as usize].id()),
            Action::Resume(w) => {
                let still = plan.crashes.iter().any(|c| matches!(*c,
                    CrashEvent::Stall { worker, at_ms: from, for_ms } if worker == w && from <= at_ms && at_ms < from + for_ms));
                if !still {
                    self.handle.resume(self.workers[w as usize].id());
                }
            }
            Action::Clog(i) | Action::Unclog(i) => {
                let client = &plan.partitions[i].client;
                let Some(node) = self.node_of(client) else {
                    return;
                };
                let clog = action == Action::Clog(i) || plan.partitioned(client, at_ms);
                self.set_clogged(node, clog);
            }
        }
    }

    fn node_of(&self, client: &str) -> Option<madsim::task::NodeId> {
        if client == Role::Setup.name(self.job) {
            return Some(self.registrar.id());
        }
        (0..self.job.clients())
            .find(|w| Role::Client(*w).name(self.job) == client)
            .map(|w| self.workers[w as usize].id())
    }

    fn set_clogged(&self, node: madsim::task::NodeId, clogged: bool) {
        let server = self.server.id();
        if clogged {
            self.net.clog_link(node, server);
            self.net.clog_link(server, node);
        } else {
            self.net.unclog_link(node, server);
            self.net.unclog_link(server, node);
        }
    }

    fn unclog_all(&self) {
        self.set_clogged(self.registrar.id(), false);
        for worker in &self.workers {
            self.set_clogged(worker.id(), false);
        }
    }
}

fn client_node(handle: &Handle, role: Role, job: ClusterWorkload) -> NodeHandle {
    handle
        .create_node()
        .name(role.name(job))
        .ip(role.ip())
        .init(move || client_main(role))
        .build()
}

/// A client node's init task (re-run at every restart of the node).
async fn client_main(role: Role) {
    let Some(cluster) = cluster::current() else {
        return;
    };
    let transport = Rc::new(MadsimTransport::new(Rc::clone(&cluster), role.ip()));
    let job = cluster.workload;
    match (role, job) {
        (Role::Setup, ClusterWorkload::Recovery) => {
            let client = cluster.crew.client(transport, role.name(job));
            register_processes(&client).await;
            cluster.registered.set(true);
        }
        (Role::Setup, ClusterWorkload::Grants) => {
            let client = Client::over(
                transport,
                role.name(job),
                cluster.deadline_ms,
                &cluster.notes,
            );
            grants::run_setup(&client).await;
            cluster.registered.set(true);
        }
        (Role::Client(i), ClusterWorkload::Grants) => {
            while !cluster.registered.get() && cluster.now() < cluster.deadline_ms {
                transport.sleep(5).await;
            }
            let steps = std::mem::take(&mut cluster.grant_steps.borrow_mut()[i as usize]);
            let client = Client::over(
                transport,
                role.name(job),
                cluster.deadline_ms,
                &cluster.notes,
            );
            grants::run_client(client, steps).await;
            cluster.done.borrow_mut()[i as usize] = true;
        }
        (Role::Client(w), ClusterWorkload::Recovery) => {
            while !cluster.registered.get() && cluster.now() < cluster.deadline_ms {
                transport.sleep(5).await;
            }
            let incarnation = {
                let mut incarnations = cluster.incarnations.borrow_mut();
                incarnations[w as usize] += 1;
                incarnations[w as usize] - 1
            };
            cluster.done.borrow_mut()[w as usize] = false;
            let client = cluster.crew.client(transport, role.name(job));
            run_incarnation(&cluster.crew, &client, w, incarnation).await;
            cluster.done.borrow_mut()[w as usize] = true;
        }
        (Role::Explorer, _) => {
            let worklist = final_worklist(&transport).await;
            *cluster.final_worklist.borrow_mut() = Some(worklist);
        }
    }
}

/// The judge's read of the worklist, faults off: retried a few times, never recorded.
async fn final_worklist(transport: &MadsimTransport) -> Result<OpOutput, PluginError> {
    let mut last = Err(PluginError::unavailable("the final read was never sent"));
    for _ in 0..20 {
        last = transport.unrecorded(Op::ListNonTerminal).await;
        if last.is_ok() {
            break;
        }
    }
    last
}

async fn wait_for_workers(cluster: &Cluster) -> RunEnd {
    loop {
        if cluster.done.borrow().iter().all(|d| *d) {
            return RunEnd::Completed;
        }
        if cluster.now() > cluster.deadline_ms + GRACE_MS {
            return RunEnd::BudgetExhausted;
        }
        madsim::time::sleep(Duration::from_millis(10)).await;
    }
}

fn report(cluster: &Cluster, seed: u64, end: RunEnd) -> RunReport {
    let history = cluster.history.borrow().clone();
    let trace_hash = fingerprint(&serde_json::to_vec(&history).unwrap_or_default());
    RunReport {
        seed,
        plan: cluster.plan.clone(),
        history,
        end,
        registry_crashes: cluster.registry_crashes.borrow().clone(),
        probes: cluster.probes.borrow().clone(),
        trace_hash,
        trace: Vec::new(),
        polls: 0,
        end_ms: cluster.now(),
    }
}

/// The core world's judgement: invariants, durability, W4, W5, then linearizability.
fn judge(cluster: &Cluster, run: &RunReport) -> (Vec<Failure>, LinSummary) {
    let mut extra = match cluster.workload {
        ClusterWorkload::Recovery => cluster.crew.check(&run.history),
        ClusterWorkload::Grants => grants::check(&cluster.notes, &run.history),
    };
    extra.extend(
        cluster
            .problems
            .borrow()
            .iter()
            .map(|(rule, message)| Violation {
                rule: rule.clone(),
                call: None,
                message: message.clone(),
            }),
    );
    let worklist = cluster
        .final_worklist
        .borrow_mut()
        .take()
        .unwrap_or_else(|| Err(PluginError::unavailable("the final read did not finish")));
    let read = |op: Op| match op {
        Op::ListNonTerminal => worklist.clone(),
        _ => Err(PluginError::unavailable(
            "cluster mode reads only the worklist after a run",
        )),
    };
    let mut failures = judge_with(
        cluster.workload.workload().completes_every_process,
        run,
        extra,
        &read,
    );
    if !failures.is_empty() {
        return (failures, LinSummary::Skipped);
    }
    let (lin, violation) = check_recorded(run, LIN_BUDGET);
    failures.extend(violation.map(Failure::classed));
    (failures, lin)
}

/// FNV-1a: a stable fingerprint of a run, independent of std's hasher.
fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
