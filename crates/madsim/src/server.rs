//! The registry server node: opens (or, after a kill, reopens) the run's target, takes the
//! durability probe, then answers requests until madsim kills the node.
//!
//! Why it looks like this: a real registry service runs each request as its own task, so a
//! blocking call (a wait) does not stop the others; it runs the call on its registry and sends
//! back what the registry said. Before running a call it stamps its incarnation on the call
//! in the history (the core world's link does the same, Z23), so the linearizability checker
//! knows which incarnation ran a call whose answer was lost. Opening writes the reopen probe
//! before the socket is bound, so no client reaches a reopened registry before it is read.

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;

use madsim::net::Endpoint;
use procreg::{PluginError, ProcessRegistry, SharedClock};
use procreg_reference::execute_op;
use procreg_sim::check::durability::ReopenProbe;

use crate::cluster::{self, Cluster, SERVER_IP, SERVER_PORT};
use crate::wire::{REQUEST_TAG, RESPONSE_TAG, Request, Response, decode, round_trip};

/// The server node's init task.
pub(crate) async fn serve() {
    let Some(cluster) = cluster::current() else {
        return;
    };
    let registry = match open(&cluster).await {
        Ok(registry) => registry,
        Err(e) => {
            let message = format!("the registry failed to open or to reopen after a kill: {e}");
            cluster.problem("D4", message);
            return;
        }
    };
    let endpoint = match Endpoint::bind(SocketAddr::new(SERVER_IP, SERVER_PORT)).await {
        Ok(endpoint) => Rc::new(endpoint),
        Err(e) => return cluster.problem("cluster", format!("server cannot bind: {e}")),
    };
    let epoch = cluster.epoch.get();
    loop {
        let Ok((payload, from)) = endpoint.recv_from_raw(REQUEST_TAG).await else {
            return;
        };
        let Ok(bytes) = payload.downcast::<Vec<u8>>() else {
            continue;
        };
        let answer = answer(
            Rc::clone(&cluster),
            Arc::clone(&registry),
            epoch,
            Rc::clone(&endpoint),
            (*bytes, from),
        );
        madsim::task::spawn_local(answer);
    }
}

/// Opens the target (first incarnation) or reopens it over the killed one's substrate, and
/// probes a reopened registry before anyone can reach it.
async fn open(cluster: &Cluster) -> Result<Arc<dyn ProcessRegistry>, PluginError> {
    let taken = cluster.target.borrow_mut().take();
    let Some(mut target) = taken else {
        return Err(PluginError::storage("the target is already being opened"));
    };
    let clock: SharedClock = Arc::new(cluster.clock);
    let crashed = cluster.crashed.borrow_mut().take();
    let opened = match crashed {
        None => {
            target.set_storage_faults(&cluster.plan.storage);
            target.open(clock).await
        }
        Some(old) => {
            let rng = cluster.storage_rng.borrow_mut().take();
            let mut rng = rng.unwrap_or_else(|| {
                procreg_sim::rng::SimRng::new(0, procreg_sim::rng::Stream::Storage)
            });
            let reopened = target.crash_and_reopen(old, clock, &mut rng).await;
            *cluster.storage_rng.borrow_mut() = Some(rng);
            reopened
        }
    };
    let model = target.inspect_model();
    *cluster.target.borrow_mut() = Some(target);
    let registry = opened?;
    let epoch = cluster.epoch.get();
    if epoch > 0 {
        let probe = ReopenProbe::take(
            registry.as_ref(),
            &cluster.history.borrow(),
            epoch,
            cluster.now(),
            model,
        );
        cluster.probes.borrow_mut().push(probe);
    }
    *cluster.registry.borrow_mut() = Some(Arc::clone(&registry));
    Ok(registry)
}

/// Runs one request and sends its answer back to `from`.
async fn answer(
    cluster: Rc<Cluster>,
    registry: Arc<dyn ProcessRegistry>,
    epoch: u32,
    endpoint: Rc<Endpoint>,
    (bytes, from): (Vec<u8>, SocketAddr),
) {
    let request: Request = match decode(&bytes) {
        Ok(request) => request,
        Err(e) => return cluster.problem("wire", format!("server: {e}")),
    };
    {
        let mut history = cluster.history.borrow_mut();
        if request.call < history.len() {
            history.set_epoch(request.call, epoch);
        }
    }
    let outcome = execute_op(registry.as_ref(), &request.op).await;
    let response = Response {
        call: request.call,
        epoch,
        outcome,
    };
    match round_trip(&response) {
        Ok(bytes) => {
            // A send can only fail once the node is being killed; the client then times out.
            let _ = endpoint.send_to(from, RESPONSE_TAG, &bytes).await;
        }
        Err(e) => cluster.problem(
            "wire",
            format!("server answer to call #{}: {e}", request.call),
        ),
    }
}
