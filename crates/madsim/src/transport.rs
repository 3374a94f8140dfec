//! The clients' side of the wire: each call is one request datagram from a fresh endpoint on
//! the client's node and one awaited answer, bounded by the plan's timeout.
//!
//! Why it exists: it is the [`Transport`] the explorer's unchanged recovery protocol calls
//! through in cluster mode (the core world's is the `FaultyLink`). It records each call in the
//! run's history at invocation and return, as the link does; a call whose node is killed
//! mid-await is dropped and stays unanswered, like a worker crash in the core world. A lost
//! request or answer, a partition or a dead server all look the same to the client: no answer
//! within `timeout_ms`, so `Unavailable` (A2), which the protocol retries.

use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use madsim::net::Endpoint;
use procreg::PluginError;
use procreg_conformance::explore::client::{LocalFuture, Transport};
use procreg_reference::{Op, OpOutput};
use procreg_sim::history::Outcome;

use crate::cluster::{Cluster, SERVER_IP, SERVER_PORT};
use crate::wire::{REQUEST_TAG, RESPONSE_TAG, Request, Response, decode, round_trip};

/// A client node's way to the registry server.
pub(crate) struct MadsimTransport {
    cluster: Rc<Cluster>,
    ip: IpAddr,
}

impl MadsimTransport {
    /// The transport of the node at `ip`.
    pub(crate) fn new(cluster: Rc<Cluster>, ip: IpAddr) -> Self {
        Self { cluster, ip }
    }

    async fn round_trip(&self, call: usize, op: Op) -> Result<OpOutput, PluginError> {
        let bytes = match round_trip(&Request { call, op }) {
            Ok(bytes) => bytes,
            Err(e) => {
                self.cluster
                    .problem("wire", format!("request #{call}: {e}"));
                return Err(PluginError::unavailable("request could not be encoded"));
            }
        };
        let endpoint = Endpoint::bind(SocketAddr::new(self.ip, 0))
            .await
            .map_err(|e| PluginError::unavailable(format!("cannot bind: {e}")))?;
        let server = SocketAddr::new(SERVER_IP, SERVER_PORT);
        endpoint
            .send_to(server, REQUEST_TAG, &bytes)
            .await
            .map_err(|e| PluginError::unavailable(format!("send failed: {e}")))?;
        let deadline =
            madsim::time::Instant::now() + Duration::from_millis(self.cluster.plan.timeout_ms);
        loop {
            let receive = endpoint.recv_from_raw(RESPONSE_TAG);
            let left = deadline.saturating_duration_since(madsim::time::Instant::now());
            let answer = match madsim::time::timeout(left, receive).await {
                Err(_) => return Err(PluginError::unavailable("no answer within the timeout")),
                Ok(Err(e)) => return Err(PluginError::unavailable(format!("receive failed: {e}"))),
                Ok(Ok((payload, _))) => payload,
            };
            let decoded = answer
                .downcast::<Vec<u8>>()
                .map_err(|_| crate::wire::WireError("answer is not bytes".into()))
                .and_then(|bytes| decode::<Response>(&bytes));
            match decoded {
                Ok(response) if response.call == call => return response.outcome,
                // A late answer to an earlier call whose endpoint had the same port: a real
                // client drops answers to requests it did not send and keeps waiting.
                Ok(_) => {}
                Err(e) => {
                    self.cluster
                        .problem("wire", format!("answer to #{call}: {e}"));
                    return Err(PluginError::unavailable("undecodable answer"));
                }
            }
        }
    }
}

impl Transport for MadsimTransport {
    fn call<'a>(&'a self, client: &'a str, op: &'a Arc<Op>) -> LocalFuture<'a, Outcome> {
        Box::pin(async move {
            let cluster = &self.cluster;
            let (now, epoch) = (cluster.now(), cluster.epoch.get());
            let id = cluster
                .history
                .borrow_mut()
                .invoke(client, Arc::clone(op), now, epoch);
            let result = Outcome::new(self.round_trip(id, Op::clone(op)).await);
            let now = cluster.now();
            cluster
                .history
                .borrow_mut()
                .complete(id, Outcome::clone(&result), now);
            result
        })
    }

    fn now_ms(&self) -> u64 {
        self.cluster.now()
    }

    fn sleep(&self, delay_ms: u64) -> LocalFuture<'static, ()> {
        Box::pin(madsim::time::sleep(Duration::from_millis(delay_ms)))
    }
}

impl MadsimTransport {
    /// Sends `op` without recording it in the history (the judge's final read).
    pub(crate) async fn unrecorded(&self, op: Op) -> Result<OpOutput, PluginError> {
        self.round_trip(usize::MAX, op).await
    }
}
