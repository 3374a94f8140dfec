//! One cluster run's shared state, and how the nodes reach it.
//!
//! Why a thread-local: madsim re-runs a node's `init` closure at every restart and requires it
//! to be `Send + Sync`, while the explorer's clients, crew and history are single-threaded
//! (`Rc`, `RefCell`), as in the core world. madsim runs every node of a runtime on the one
//! thread that calls `block_on`, so the supervisor installs the run's [`Cluster`] here when the
//! run starts ([`install`]) and each node's init reads it ([`current`]); nothing crosses threads.

use std::cell::{Cell, RefCell};
use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;
use std::sync::Arc;

use procreg::{Clock, PluginError, ProcessRegistry};
use procreg_conformance::explore::client::Notes;
use procreg_conformance::explore::grants::{self, Step};
use procreg_conformance::explore::recovery::{self, Crew};
use procreg_conformance::explore::{Workload, find_workload};
use procreg_sim::check::durability::ReopenProbe;
use procreg_sim::rng::{SimRng, Stream};
use procreg_sim::{FaultPlan, History, SimTarget};

use crate::clock::MadsimClock;

/// The registry server's address.
pub(crate) const SERVER_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
/// The port the server listens on.
pub(crate) const SERVER_PORT: u16 = 7000;

/// Which of the explorer's workloads a cluster runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterWorkload {
    /// `recovery`: workers run the recovery protocol (the default).
    Recovery,
    /// `grants`: clients race grants, revokes, transfers and session deletions.
    Grants,
}

impl ClusterWorkload {
    /// The explorer's catalogue entry.
    pub fn workload(self) -> &'static Workload {
        let name = match self {
            ClusterWorkload::Recovery => "recovery",
            ClusterWorkload::Grants => "grants",
        };
        find_workload(name).unwrap_or(&procreg_conformance::explore::WORKLOADS[0])
    }

    /// How many client nodes run after the setup node.
    pub(crate) fn clients(self) -> u32 {
        match self {
            ClusterWorkload::Recovery => recovery::WORKERS,
            ClusterWorkload::Grants => grants::CLIENTS as u32,
        }
    }
}

/// A client node's role; its init closure captures only this (it is `Send + Sync`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Registers the processes (`registrar` / `setup`), then lets the clients start.
    Setup,
    /// A recovery worker or a grants client.
    Client(u32),
    /// Reads the final worklist once faults are off (the judge's client).
    Explorer,
}

impl Role {
    /// The node's address.
    pub(crate) fn ip(self) -> IpAddr {
        match self {
            Role::Setup => IpAddr::V4(Ipv4Addr::new(10, 0, 1, 100)),
            Role::Client(w) => IpAddr::V4(Ipv4Addr::new(10, 0, 1, (w % 100) as u8)),
            Role::Explorer => IpAddr::V4(Ipv4Addr::new(10, 0, 2, 1)),
        }
    }

    /// The node's (and its client's) name in `workload`, as the plan names it.
    pub(crate) fn name(self, workload: ClusterWorkload) -> String {
        match (self, workload) {
            (Role::Setup, ClusterWorkload::Recovery) => "registrar".to_owned(),
            (Role::Setup, ClusterWorkload::Grants) => "setup".to_owned(),
            (Role::Client(w), ClusterWorkload::Recovery) => recovery::worker_name(w),
            (Role::Client(i), ClusterWorkload::Grants) => grants::client_name(i as usize),
            (Role::Explorer, _) => procreg_conformance::explore::judge::JUDGE_CLIENT.to_owned(),
        }
    }
}

/// Everything one run's nodes share. See the module docs.
pub(crate) struct Cluster {
    pub(crate) workload: ClusterWorkload,
    pub(crate) plan: FaultPlan,
    pub(crate) clock: MadsimClock,
    pub(crate) deadline_ms: u64,
    pub(crate) history: RefCell<History>,
    /// The server incarnation that is (or was last) up; bumped at every kill.
    pub(crate) epoch: Cell<u32>,
    pub(crate) crew: Crew,
    /// Where grants clients note surprises.
    pub(crate) notes: Notes,
    /// Each grants client's steps, taken by its node.
    pub(crate) grant_steps: RefCell<Vec<Vec<(u64, Step)>>>,
    /// The target, while no server incarnation is opening it.
    pub(crate) target: RefCell<Option<Box<dyn SimTarget>>>,
    /// The open registry; taken out at a kill, handed to the reopen.
    pub(crate) registry: RefCell<Option<Arc<dyn ProcessRegistry>>>,
    /// The killed incarnation's registry, until the restart reopens over it.
    pub(crate) crashed: RefCell<Option<Arc<dyn ProcessRegistry>>>,
    pub(crate) storage_rng: RefCell<Option<SimRng>>,
    pub(crate) probes: RefCell<Vec<ReopenProbe>>,
    pub(crate) registry_crashes: RefCell<Vec<u64>>,
    pub(crate) registered: Cell<bool>,
    pub(crate) incarnations: RefCell<Vec<u32>>,
    pub(crate) done: RefCell<Vec<bool>>,
    /// What went wrong outside the registry's answers: (rule, message).
    pub(crate) problems: RefCell<Vec<(String, String)>>,
    pub(crate) final_worklist: RefCell<Option<Result<procreg_reference::OpOutput, PluginError>>>,
}

impl Cluster {
    pub(crate) fn new(
        workload: ClusterWorkload,
        seed: u64,
        plan: FaultPlan,
        target: Box<dyn SimTarget>,
    ) -> Self {
        let clock = MadsimClock::start();
        let deadline_ms = clock.now_ms() + plan.faults_end_ms + workload.workload().settle_ms;
        let clients = workload.clients() as usize;
        let grant_steps = match workload {
            ClusterWorkload::Grants => grants::client_steps(seed),
            ClusterWorkload::Recovery => Vec::new(),
        };
        Self {
            workload,
            crew: Crew::new(deadline_ms, Vec::new()),
            notes: Notes::new(),
            grant_steps: RefCell::new(grant_steps),
            plan,
            clock,
            deadline_ms,
            history: RefCell::new(History::new()),
            epoch: Cell::new(0),
            target: RefCell::new(Some(target)),
            registry: RefCell::new(None),
            crashed: RefCell::new(None),
            storage_rng: RefCell::new(Some(SimRng::new(seed, Stream::Storage))),
            probes: RefCell::new(Vec::new()),
            registry_crashes: RefCell::new(Vec::new()),
            registered: Cell::new(false),
            incarnations: RefCell::new(vec![0; clients]),
            done: RefCell::new(vec![false; clients]),
            problems: RefCell::new(Vec::new()),
            final_worklist: RefCell::new(None),
        }
    }

    /// Virtual now on the run's clock, ms.
    pub(crate) fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    /// Notes a failure that is not a registry answer (a wire error, a failed reopen).
    pub(crate) fn problem(&self, rule: &str, message: String) {
        self.problems.borrow_mut().push((rule.to_owned(), message));
    }

    /// The server node was killed: the next incarnation reopens over the killed registry.
    pub(crate) fn crash(&self) {
        let old = self.registry.borrow_mut().take();
        if let Some(old) = old {
            *self.crashed.borrow_mut() = Some(old);
        }
        self.epoch.set(self.epoch.get() + 1);
        self.registry_crashes.borrow_mut().push(self.now());
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<Cluster>>> = const { RefCell::new(None) };
}

/// Uninstalls the run's state when dropped (also when the run panics).
pub(crate) struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        CURRENT.with(|c| c.borrow_mut().take());
    }
}

/// Makes `cluster` the state every node of this thread's run reads.
pub(crate) fn install(cluster: Rc<Cluster>) -> Installed {
    CURRENT.with(|c| *c.borrow_mut() = Some(cluster));
    Installed
}

/// The running cluster, if a run is installed on this thread.
pub(crate) fn current() -> Option<Rc<Cluster>> {
    CURRENT.with(|c| c.borrow().clone())
}
