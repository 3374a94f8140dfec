//! The `recovery` workload (the default): workers running CONTRACT.md's recovery protocol
//! (section 10) against a fenced downstream resource, through worker crashes, stalls longer
//! than the lease TTL, link faults and registry crashes.
//!
//! A `registrar` registers [`PROCESSES`] processes (retrying, R4), then starts [`WORKERS`]
//! workers. Each worker loops: `list_non_terminal` (N1); for each record, claim under a fresh
//! owner id, skipping on `LeaseHeld` / `AlreadyTerminal` and re-claiming with the SAME owner
//! after `Unavailable` (L2, L3); re-read the record and release if it became terminal; run
//! [`STEPS`] steps (sleep, write the step to the [`FencedResource`] with the current fencing
//! token, append a keyed `progress` event (E2), renew when the lease is half gone (L4)); renew
//! once more as a fence; `complete_process` (C2 retries); `complete_process_lease` (L5
//! retries). A worker exits when the worklist is empty.
//!
//! Faults the workload applies itself, from the plan: `CrashEvent::Worker` drops the worker
//! mid-await and starts a fresh incarnation with new owner ids; `CrashEvent::Stall` makes the
//! worker sleep `for_ms` at its next work step and then carry on as if nothing happened (its
//! late writes must be fenced off, W4).
//!
//! Checks: W4 ([`FencedResource::check`]) plus every generic check (W1-W3, E8, W5).

use std::sync::Arc;

use std::cell::RefCell;
use std::rc::Rc;

use procreg::{ProcessEventType, ProcessRegistration, ProcessScope};
use procreg_reference::{Op, OpOutput};
use procreg_sim::check::Violation;
use procreg_sim::executor::spawn;
use procreg_sim::history::History;
use procreg_sim::resource::FencedResource;
use procreg_sim::world::START_MS;
use procreg_sim::{CrashEvent, FaultPlan, PlanShape};
use serde_json::json;

use super::client::{Client, Notes, Transport, is_unavailable, until_crash};
use super::{Start, Workload, WorkloadCheck};
use steps::{append_progress, claim, complete, release, renew};

mod steps;

/// Processes registered up front.
pub const PROCESSES: usize = 6;
/// Workers running the protocol.
pub const WORKERS: u32 = 3;
/// Lease TTL, virtual ms.
pub const LEASE_TTL_MS: u64 = 100;
/// Work steps per process.
pub const STEPS: u64 = 5;
/// Virtual time one step takes, ms.
pub const STEP_MS: u64 = 20;
/// Length of the faulty phase, virtual ms.
pub const FAULTY_PHASE_MS: u64 = 500;
/// Pause when every listed process was leased by someone else, virtual ms.
const IDLE_MS: u64 = 30;

/// The catalogue entry.
pub const WORKLOAD: Workload = Workload {
    name: "recovery",
    about: "workers run the recovery protocol (claim, fenced steps, renew, complete, release) \
            through worker crashes, stalls past the TTL, link faults and registry crashes",
    rules: &[
        "W1", "W2", "W3", "W4", "W5", "E2", "L2", "L3", "L4", "L5", "C2", "N1",
    ],
    shape,
    settle_ms: 4_000,
    completes_every_process: true,
    start: start_with::<PROCESSES>,
    history_check: None,
};

/// The `recovery` workload with `N` processes instead of [`PROCESSES`], for benchmarks that
/// want longer seeds (11 processes make about 200 calls a seed). Same clients, plan shape and
/// checks; not in the catalogue, so a failure it reports cannot be replayed by name.
pub const fn with_processes<const N: usize>() -> Workload {
    Workload {
        name: "recovery-scaled",
        start: start_with::<N>,
        ..WORKLOAD
    }
}

fn shape(registry_crashes: bool) -> PlanShape {
    let mut clients = vec!["registrar".to_owned()];
    clients.extend((0..WORKERS).map(worker_name));
    PlanShape {
        clients,
        calls_per_client: 80,
        workers: WORKERS,
        faulty_phase_ms: FAULTY_PHASE_MS,
        lease_ttl_ms: LEASE_TTL_MS,
        registry_crashes,
    }
}

/// The client name of worker `worker` (`w0`, `w1`, ...).
pub fn worker_name(worker: u32) -> String {
    format!("w{worker}")
}

/// The id of the `index`-th process.
pub fn process_id(index: usize) -> String {
    format!("p{index}")
}

/// A stall still to come: (absolute time, duration), ms.
type PendingStall = (u64, u64);

/// What one run's workers share, whatever carries their calls: where surprises are noted, the
/// fenced resource they write to (W4), the deadline, and each worker's stalls still to come.
/// Cluster mode (`procreg-madsim`) runs the same protocol over madsim's network and stalls
/// workers by pausing their nodes, so it passes no stalls here.
pub struct Crew {
    notes: Notes,
    resource: FencedResource,
    deadline_ms: u64,
    stalls: Vec<RefCell<Vec<PendingStall>>>,
}

impl Crew {
    /// A crew whose clients give up at `deadline_ms`; `stalls[w]` lists worker `w`'s stalls as
    /// (absolute time, duration) pairs, ascending.
    pub fn new(deadline_ms: u64, stalls: Vec<Vec<(u64, u64)>>) -> Self {
        Self {
            notes: Notes::new(),
            resource: FencedResource::new(),
            deadline_ms,
            stalls: stalls.into_iter().map(RefCell::new).collect(),
        }
    }

    /// A client called `name` calling through `transport`, noting into this crew.
    pub fn client(&self, transport: Rc<dyn Transport>, name: impl Into<String>) -> Client {
        Client::over(transport, name, self.deadline_ms, &self.notes)
    }

    /// The workload's end-of-run check: what the clients noted, plus W4 on the resource.
    pub fn check(&self, history: &History) -> Vec<Violation> {
        let mut violations = self.notes.take();
        violations.extend(self.resource.check(history));
        violations
    }
}

struct Shared {
    crew: Crew,
    link: procreg_sim::FaultyLink,
    crashes: Vec<Vec<u64>>,
}

fn start_with<const N: usize>(start: Start<'_>) -> WorkloadCheck {
    let (crashes, stalls) = worker_faults(start.plan);
    let shared = Rc::new(Shared {
        crew: Crew::new(start.deadline_ms, stalls),
        link: start.link.clone(),
        crashes,
    });
    start
        .executor
        .spawn("registrar", registrar(Rc::clone(&shared), N));
    Box::new(move |run| shared.crew.check(&run.history))
}

/// Per worker: planned crash instants and stalls, absolute and ascending.
fn worker_faults(plan: &FaultPlan) -> (Vec<Vec<u64>>, Vec<Vec<PendingStall>>) {
    let mut crashes = vec![Vec::new(); WORKERS as usize];
    let mut stalls = vec![Vec::new(); WORKERS as usize];
    for event in &plan.crashes {
        match *event {
            CrashEvent::Worker { worker, at_ms } if worker < WORKERS => {
                crashes[worker as usize].push(START_MS + at_ms);
            }
            CrashEvent::Stall {
                worker,
                at_ms,
                for_ms,
            } if worker < WORKERS => stalls[worker as usize].push((START_MS + at_ms, for_ms)),
            _ => {}
        }
    }
    crashes.iter_mut().for_each(|c| c.sort_unstable());
    stalls.iter_mut().for_each(|s| s.sort_unstable());
    (crashes, stalls)
}

async fn registrar(shared: Rc<Shared>, processes: usize) {
    let client = shared
        .crew
        .client(Rc::new(shared.link.clone()), "registrar");
    register_n(&client, processes).await;
    for worker in 0..WORKERS {
        spawn(worker_name(worker), worker_main(Rc::clone(&shared), worker));
    }
}

/// Registers the [`PROCESSES`] processes, retrying each (R4).
pub async fn register_processes(client: &Client) {
    register_n(client, PROCESSES).await;
}

/// Registers processes `p0..p{processes}`, retrying each (R4).
async fn register_n(client: &Client, processes: usize) {
    for index in 0..processes {
        let registration =
            ProcessRegistration::new(process_id(index), ProcessScope::session("owner"), "host")
                .with_input(json!({ "index": index }))
                .with_event_type(ProcessEventType::plain("progress"));
        let op = Arc::new(Op::Register { registration });
        let result = client.retry(Arc::clone(&op)).await;
        if !matches!(*result, Ok(OpOutput::Record(_))) && !is_unavailable(&result) {
            client.unexpected(&op, &result);
        }
    }
}

/// One worker across its incarnations: each planned crash drops the running incarnation.
async fn worker_main(shared: Rc<Shared>, worker: u32) {
    let mut incarnation = 0;
    loop {
        let now = procreg_sim::executor::now_ms().unwrap_or(0);
        let crash_at = shared.crashes[worker as usize]
            .iter()
            .copied()
            .find(|at| *at > now);
        let client = shared
            .crew
            .client(Rc::new(shared.link.clone()), worker_name(worker));
        let work = run_incarnation(&shared.crew, &client, worker, incarnation);
        if !until_crash(work, crash_at).await {
            return;
        }
        incarnation += 1;
    }
}

/// One incarnation of `worker` calling as `client`: works the worklist until it is empty or
/// the deadline passes (owner ids `w<worker>.<incarnation>.<n>` are fresh per claim).
pub async fn run_incarnation(crew: &Crew, client: &Client, worker: u32, incarnation: u32) {
    let mut claims = 0u32;
    while !client.past_deadline() {
        let op = Arc::new(Op::ListNonTerminal);
        let answer = client.call(Arc::clone(&op)).await;
        let records = match &*answer {
            Ok(OpOutput::Records(records)) => records,
            result => {
                if !is_unavailable(result) {
                    client.unexpected(&op, result);
                }
                client.sleep(IDLE_MS).await;
                continue;
            }
        };
        if records.is_empty() {
            return;
        }
        let mut worked = false;
        for record in records {
            let owner = format!("w{worker}.{incarnation}.{claims}");
            claims += 1;
            worked |= run_one(crew, client, worker, &record.id, &owner).await;
        }
        if !worked {
            client.sleep(IDLE_MS).await;
        }
    }
}

/// Claims and works one process. Returns whether it got the lease.
async fn run_one(crew: &Crew, client: &Client, worker: u32, pid: &str, owner: &str) -> bool {
    let Some(mut lease) = claim(client, pid, owner).await else {
        return false;
    };
    let get = Arc::new(Op::GetProcess {
        process_id: pid.to_owned(),
    });
    match &*client.retry(Arc::clone(&get)).await {
        Ok(OpOutput::MaybeRecord(Some(record))) if record.is_terminal() => {
            release(client, &lease).await;
            return true;
        }
        Ok(OpOutput::MaybeRecord(Some(_))) => {}
        result => {
            if !is_unavailable(result) {
                client.unexpected(&get, result);
            }
            return true;
        }
    }
    for step in 0..STEPS {
        stall_point(crew, client, worker).await;
        client.sleep(STEP_MS).await;
        if lease.expires_at_ms.saturating_sub(client.now()) < LEASE_TTL_MS / 2 {
            let Some(renewed) = renew(client, &lease).await else {
                return true;
            };
            lease = renewed;
        }
        let value = format!("{pid} step {step}");
        if !crew.resource.write(pid, owner, lease.fencing_token, &value) {
            return true; // fenced off: someone newer owns the work (W4)
        }
        if !append_progress(client, pid, step).await {
            return true;
        }
    }
    stall_point(crew, client, worker).await;
    let Some(lease) = renew(client, &lease).await else {
        return true; // the fence: a lost lease must not complete
    };
    complete(client, pid).await;
    release(client, &lease).await;
    true
}

/// Sleeps through every stall of `worker` that is due: the worker stops making progress and
/// then carries on as if nothing happened.
async fn stall_point(crew: &Crew, client: &Client, worker: u32) {
    let Some(stalls) = crew.stalls.get(worker as usize) else {
        return;
    };
    loop {
        let now = client.now();
        let due = {
            let mut stalls = stalls.borrow_mut();
            match stalls.first() {
                Some(&(at, for_ms)) if at <= now => {
                    stalls.remove(0);
                    Some(for_ms)
                }
                _ => None,
            }
        };
        match due {
            Some(for_ms) => client.sleep(for_ms).await,
            None => return,
        }
    }
}
