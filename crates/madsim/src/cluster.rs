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
use procreg_conformance::explore::recovery::{Crew, WORKERS};
use procreg_sim::check::durability::ReopenProbe;
use procreg_sim::rng::{SimRng, Stream};
use procreg_sim::{FaultPlan, History, SimTarget};

use crate::clock::MadsimClock;

/// The registry server's address.
pub(crate) const SERVER_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
/// The port the server listens on.
pub(crate) const SERVER_PORT: u16 = 7000;

/// A client node's role; its init closure captures only this (it is `Send + Sync`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Registers the processes, then lets the workers start.
    Registrar,
    /// Runs the recovery protocol.
    Worker(u32),
    /// Reads the final worklist once faults are off (the judge's client).
    Explorer,
}

impl Role {
    /// The node's address.
    pub(crate) fn ip(self) -> IpAddr {
        match self {
            Role::Registrar => IpAddr::V4(Ipv4Addr::new(10, 0, 1, 100)),
            Role::Worker(w) => IpAddr::V4(Ipv4Addr::new(10, 0, 1, (w % 100) as u8)),
            Role::Explorer => IpAddr::V4(Ipv4Addr::new(10, 0, 2, 1)),
        }
    }
}

/// Everything one run's nodes share. See the module docs.
pub(crate) struct Cluster {
    pub(crate) plan: FaultPlan,
    pub(crate) clock: MadsimClock,
    pub(crate) deadline_ms: u64,
    pub(crate) history: RefCell<History>,
    /// The server incarnation that is (or was last) up; bumped at every kill.
    pub(crate) epoch: Cell<u32>,
    pub(crate) crew: Crew,
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
        seed: u64,
        plan: FaultPlan,
        target: Box<dyn SimTarget>,
        settle_ms: u64,
    ) -> Self {
        let clock = MadsimClock::start();
        let deadline_ms = clock.now_ms() + plan.faults_end_ms + settle_ms;
        Self {
            crew: Crew::new(deadline_ms, Vec::new()),
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
            incarnations: RefCell::new(vec![0; WORKERS as usize]),
            done: RefCell::new(vec![false; WORKERS as usize]),
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
