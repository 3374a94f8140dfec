//! The faulty link between every simulated client and the registry.
//!
//! Why it exists: real clients talk to a registry over something that delays, loses and
//! repeats messages, and real registries crash under them. Every simulated call goes through
//! [`FaultyLink::call`], which applies the [`FaultPlan`]'s fault for that client's n-th call:
//!
//! | fault | executed? | the client sees |
//! |---|---|---|
//! | delay | yes, late | the real answer, late |
//! | drop request / partition at send | no | `Unavailable` after `timeout_ms` |
//! | drop response / partition at reply | yes | `Unavailable` after `timeout_ms` |
//! | duplicate | twice | the first answer (the copy is in the history as `<client>+dup`) |
//! | registry crash while in flight | maybe | `Unavailable` |
//!
//! Every call, including the duplicate copies clients never see, is recorded in the
//! [`History`] with its virtual invoke and return times, so the checkers judge exactly what
//! happened. A lost response is always `Unavailable`, never a made-up answer (R6).

use std::cell::{Cell, Ref, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use procreg::{Clock, PluginError, ProcessRegistry};
use procreg_reference::{Op, OpOutput, execute_op};

use crate::clock::SimClock;
use crate::executor::{sleep, waiting_on, waiting_on_lazy};
use crate::history::{History, Outcome};
use crate::plan::{FaultPlan, LinkFault};

/// Calls a link's history has room for before it grows: a simulated seed makes a few
/// hundred.
const HISTORY_CAPACITY: usize = 256;

struct LinkState {
    plan: FaultPlan,
    clock: SimClock,
    /// Virtual time the link was created: plan times are relative to it.
    origin_ms: u64,
    target: RefCell<Option<Arc<dyn ProcessRegistry>>>,
    epoch: Cell<u32>,
    crash_wakers: RefCell<Vec<Waker>>,
    history: RefCell<History>,
    call_counts: RefCell<BTreeMap<String, u64>>,
}

/// The link. Clones share one link, one registry slot and one history.
#[derive(Clone)]
pub struct FaultyLink {
    state: Rc<LinkState>,
}

impl FaultyLink {
    /// A link applying `plan`, on `clock`, to `registry`.
    pub fn new(plan: FaultPlan, clock: SimClock, registry: Arc<dyn ProcessRegistry>) -> Self {
        Self {
            state: Rc::new(LinkState {
                plan,
                origin_ms: clock.now_ms(),
                clock,
                target: RefCell::new(Some(registry)),
                epoch: Cell::new(0),
                crash_wakers: RefCell::new(Vec::new()),
                history: RefCell::new(History::with_capacity(HISTORY_CAPACITY)),
                call_counts: RefCell::new(BTreeMap::new()),
            }),
        }
    }

    /// The plan this link applies.
    pub fn plan(&self) -> &FaultPlan {
        &self.state.plan
    }

    /// The history so far.
    pub fn history(&self) -> Ref<'_, History> {
        self.state.history.borrow()
    }

    /// Takes the history out of the link, leaving it empty (the end of a run: no copy).
    pub fn take_history(&self) -> History {
        std::mem::take(&mut *self.state.history.borrow_mut())
    }

    /// The registry incarnation calls are sent to now.
    pub fn epoch(&self) -> u32 {
        self.state.epoch.get()
    }

    /// Crashes the registry: every call in flight on it returns `Unavailable`, new calls fail
    /// until [`FaultyLink::reopen`]. Returns the old registry so the caller can drop it last.
    pub fn crash(&self) -> Option<Arc<dyn ProcessRegistry>> {
        self.state.epoch.set(self.state.epoch.get() + 1);
        for waker in self.state.crash_wakers.borrow_mut().drain(..) {
            waker.wake();
        }
        self.state.target.borrow_mut().take()
    }

    /// Connects the link to a reopened registry.
    pub fn reopen(&self, registry: Arc<dyn ProcessRegistry>) {
        *self.state.target.borrow_mut() = Some(registry);
    }

    /// Sends `op` from `client` through the link. See the module docs for what faults do.
    ///
    /// # Errors
    /// What the registry returned, or `Unavailable` when the link lost the call.
    pub async fn call(&self, client: &str, op: Op) -> Outcome {
        self.call_ref(client, &Arc::new(op)).await
    }

    /// [`FaultyLink::call`] with a shared `op`, for a caller that resends it: the history
    /// records the same `op`, and the answer is shared with the history, not copied.
    ///
    /// What the registry returned, or `Unavailable` when the link lost the call.
    pub async fn call_ref(&self, client: &str, op: &Arc<Op>) -> Outcome {
        let index = {
            let mut counts = self.state.call_counts.borrow_mut();
            // The name is copied only on a client's first call.
            let count = match counts.get_mut(client) {
                Some(count) => count,
                None => counts.entry(client.to_owned()).or_insert(0),
            };
            *count += 1;
            *count - 1
        };
        // The settle phase (W5) is fault-free: no planned fault fires after `faults_end_ms`.
        let fault = if self.in_faulty_phase() {
            self.state.plan.link_fault(client, index).cloned()
        } else {
            None
        };
        let id = self.record_invoke(client, op);
        let state = Rc::clone(&self.state);
        // Written only if a quiescence report asks: from the history, which holds the call.
        waiting_on_lazy(move || {
            let history = state.history.borrow();
            match history.calls().get(id) {
                Some(call) => format!("{}: {} (call #{id})", call.client, call.op.method_name()),
                None => format!("call #{id}"),
            }
        });
        let delay = match fault {
            Some(LinkFault::Delay { delay_ms }) => delay_ms,
            _ => 0,
        };
        sleep(self.state.plan.latency_ms + delay).await;
        let result = Outcome::new(self.deliver(id, client, op, fault.as_ref()).await);
        self.state
            .history
            .borrow_mut()
            .complete(id, Outcome::clone(&result), self.now());
        waiting_on(None);
        result
    }

    fn now(&self) -> u64 {
        self.state.clock.now_ms()
    }

    /// Time since the link was created: the clock plan times are written in.
    fn plan_now(&self) -> u64 {
        self.now().saturating_sub(self.state.origin_ms)
    }

    fn in_faulty_phase(&self) -> bool {
        self.plan_now() < self.state.plan.faults_end_ms
    }

    fn partitioned(&self, client: &str) -> bool {
        self.state.plan.partitioned(client, self.plan_now())
    }

    fn record_invoke(&self, client: &str, op: &Arc<Op>) -> usize {
        let epoch = self.state.epoch.get();
        self.state
            .history
            .borrow_mut()
            .invoke(client, Arc::clone(op), self.now(), epoch)
    }

    async fn lost(&self, what: &str) -> Result<OpOutput, PluginError> {
        sleep(self.state.plan.timeout_ms).await;
        Err(PluginError::unavailable(what))
    }

    async fn deliver(
        &self,
        id: usize,
        client: &str,
        op: &Arc<Op>,
        fault: Option<&LinkFault>,
    ) -> Result<OpOutput, PluginError> {
        if fault == Some(&LinkFault::DropRequest) || self.partitioned(client) {
            return self.lost("request lost by the link").await;
        }
        // The call runs on the incarnation that is up now, whatever it was sent to.
        let executed_on = self.state.epoch.get();
        self.state.history.borrow_mut().set_epoch(id, executed_on);
        let Some(result) = self.execute(op).await else {
            return Err(PluginError::unavailable("registry crashed during the call"));
        };
        if fault == Some(&LinkFault::Duplicate) {
            let copy = self.record_invoke(&format!("{client}+dup"), op);
            let outcome = self
                .execute(op)
                .await
                .unwrap_or_else(|| Err(PluginError::unavailable("registry crashed")));
            self.state
                .history
                .borrow_mut()
                .complete(copy, outcome, self.now());
        }
        if fault == Some(&LinkFault::DropResponse) || self.partitioned(client) {
            return self.lost("response lost by the link").await;
        }
        sleep(self.state.plan.latency_ms).await;
        if self.state.epoch.get() != executed_on {
            // The registry crashed while the answer was on the wire: the client never gets it.
            return Err(PluginError::unavailable(
                "registry crashed before answering",
            ));
        }
        result
    }

    /// Runs `op` on the current registry; `None` if there is none or it crashed meanwhile.
    async fn execute(&self, op: &Op) -> Option<Result<OpOutput, PluginError>> {
        let registry = self.state.target.borrow().clone()?;
        let epoch = self.state.epoch.get();
        let call = execute_op(registry.as_ref(), op);
        UntilCrash {
            link: &self.state,
            epoch,
            call: pin!(call),
        }
        .await
    }
}

/// Resolves to the call's result, or `None` as soon as the registry epoch moves on.
struct UntilCrash<'a, F> {
    link: &'a LinkState,
    epoch: u32,
    call: Pin<&'a mut F>,
}

impl<F: Future> Future for UntilCrash<'_, F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.link.epoch.get() != self.epoch {
            return Poll::Ready(None);
        }
        if let Poll::Ready(out) = self.call.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        let mut wakers = self.link.crash_wakers.borrow_mut();
        if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
            wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests;
