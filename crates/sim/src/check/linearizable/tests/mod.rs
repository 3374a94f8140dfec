//! Tests of the linearizability checker: hand-built histories (run through the Model at a
//! chosen point of each window, then perturbed) and generated ones.

use procreg::{
    PluginError, ProcessAwaitOutput, ProcessEventAppendRequest, ProcessEventType, ProcessLease,
    ProcessRegistration, ProcessScope,
};
use procreg_reference::{Model, Op, OpOutput};

use super::entry::is_checked;
use super::matching::Expect;
use super::tokens::LeaseTokens;
use super::{PartitionOutcome, SearchBudget, Verdict, check};
use crate::history::{CallId, CallRecord};

mod generated;
mod indefinite;
mod leases;
mod partitions;
mod reads;

use crate::history as sim_history;

#[path = "../../../../benches/support/lease_mix.rs"]
#[allow(dead_code)]
mod lease_mix;

/// A history under construction, with the Model that produced its answers.
struct Builder {
    model: Model,
    calls: Vec<CallRecord>,
}

impl Builder {
    fn new() -> Self {
        Self {
            model: Model::new(),
            calls: Vec::new(),
        }
    }

    /// Records a call in window `[invoke, ret]` whose answer is what the Model gives at
    /// `now` (its true linearization point); returns its id.
    fn run(&mut self, client: &str, op: Op, invoke: u64, now: u64, ret: u64) -> CallId {
        let answer = self.model.apply(&op, now);
        self.record(client, op, invoke, Some(ret), Some(answer))
    }

    /// Runs `op` sequentially: a window of one instant.
    fn at(&mut self, client: &str, op: Op, now: u64) -> CallId {
        self.run(client, op, now, now, now)
    }

    /// Records a call whose effect happened at `now` (or never, if `None`) but whose caller
    /// was told `Unavailable` at `ret` (or nothing, if `None`).
    fn lost(
        &mut self,
        client: &str,
        op: Op,
        invoke: u64,
        now: Option<u64>,
        ret: Option<u64>,
    ) -> CallId {
        if let Some(now) = now {
            let _ = self.model.apply(&op, now);
        }
        let outcome = ret.map(|_| Err(PluginError::unavailable("lost")));
        self.record(client, op, invoke, ret, outcome)
    }

    /// Records a call with the given answer, without touching the Model.
    fn record(
        &mut self,
        client: &str,
        op: Op,
        invoke: u64,
        ret: Option<u64>,
        outcome: Option<Result<OpOutput, PluginError>>,
    ) -> CallId {
        let id = self.calls.len();
        self.calls.push(CallRecord {
            id,
            client: client.to_owned(),
            op: op.into(),
            invoke_ms: invoke,
            return_ms: ret,
            outcome: outcome.map(Into::into),
            epoch: 0,
        });
        id
    }

    /// The answer call `id` got.
    fn answer(&self, id: CallId) -> &OpOutput {
        match self.calls[id].outcome() {
            Some(Ok(output)) => output,
            other => panic!("call {id} has no output: {other:?}"),
        }
    }

    /// The lease call `id` got.
    fn lease(&self, id: CallId) -> ProcessLease {
        match self.answer(id) {
            OpOutput::Lease(lease) => lease.clone(),
            other => panic!("call {id} got no lease: {other:?}"),
        }
    }

    /// Replaces the answer of call `id`.
    fn tell(&mut self, id: CallId, outcome: Result<OpOutput, PluginError>) {
        self.calls[id].outcome = Some(outcome.into());
    }

    fn check(&self) -> Verdict {
        let verdict = check(&self.calls, &Model::new(), SearchBudget::default());
        assert_witnesses_hold(&self.calls, &Model::new(), &verdict);
        verdict
    }
}

/// Every witness a verdict gives is a real linearization: each definite call of the
/// partition placed once, real-time order kept, `now` in the window, and the Model giving the
/// observed answer at each step.
fn assert_witnesses_hold(calls: &[CallRecord], initial: &Model, verdict: &Verdict) {
    let tokens = LeaseTokens::learn(calls.iter());
    let mut placed = Vec::new();
    for part in &verdict.partitions().parts {
        let PartitionOutcome::Linearizable { witness } = &part.outcome else {
            continue;
        };
        let mut model = initial.clone();
        for (position, step) in witness.iter().enumerate() {
            let call = &calls[step.call];
            placed.push(call.id);
            assert!(
                step.now_ms >= call.invoke_ms,
                "#{} placed before its invocation",
                call.id
            );
            if !call.is_indefinite() {
                let returned = call.return_ms.unwrap();
                assert!(
                    step.now_ms <= returned,
                    "#{} placed after its return",
                    call.id
                );
            }
            for later in &witness[position + 1..] {
                let later = &calls[later.call];
                let first =
                    !later.is_indefinite() && later.return_ms.is_some_and(|r| r < call.invoke_ms);
                assert!(
                    !first,
                    "#{} placed after #{} that returned first",
                    later.id, call.id
                );
            }
            let op = tokens.translate(&call.op, &model);
            let got = model.apply(&op, step.now_ms);
            let expect = match call.outcome() {
                Some(Ok(output)) => Expect::Output(output),
                Some(Err(e)) if !call.is_indefinite() => Expect::Error(e.kind()),
                _ => Expect::Anything,
            };
            assert!(
                expect.matches(&got),
                "#{} answers {got:?} in the witness",
                call.id
            );
        }
    }
    if verdict.is_linearizable() {
        for call in calls.iter().filter(|c| is_checked(c) && !c.is_indefinite()) {
            assert!(placed.contains(&call.id), "definite #{} left out", call.id);
        }
    }
}

fn registration(id: &str) -> ProcessRegistration {
    ProcessRegistration::new(id, ProcessScope::session("s1"), "host")
        .with_event_type(ProcessEventType::plain("step"))
}

fn register(id: &str) -> Op {
    Op::Register {
        registration: registration(id),
    }
}

fn claim(pid: &str, owner: &str, ttl: u64) -> Op {
    Op::ClaimLease {
        process_id: pid.to_owned(),
        owner_id: owner.to_owned(),
        lease_ttl_ms: ttl,
    }
}

fn renew(lease: &ProcessLease, ttl: u64) -> Op {
    Op::RenewLease {
        lease: lease.clone(),
        lease_ttl_ms: ttl,
    }
}

fn release(lease: &ProcessLease) -> Op {
    Op::CompleteLease {
        completion: lease.completion(),
    }
}

fn append(pid: &str, payload: serde_json::Value) -> Op {
    Op::AppendEvent {
        process_id: pid.to_owned(),
        request: ProcessEventAppendRequest::new("step", payload),
    }
}

fn events_after(pid: &str, after: u64) -> Op {
    Op::EventsAfter {
        process_id: pid.to_owned(),
        after_sequence: after,
    }
}

fn wait_step(pid: &str, after: u64) -> Op {
    Op::WaitEventAfter {
        process_id: pid.to_owned(),
        event_type: "step".to_owned(),
        after_sequence: after,
    }
}

fn complete(pid: &str, value: serde_json::Value) -> Op {
    Op::CompleteProcess {
        process_id: pid.to_owned(),
        output: ProcessAwaitOutput::Success { value },
    }
}

fn get(pid: &str) -> Op {
    Op::GetProcess {
        process_id: pid.to_owned(),
    }
}

/// The explanation of a violation (panics with the verdict otherwise).
fn violation(verdict: &Verdict) -> &super::NonLinearizable {
    match verdict {
        Verdict::NotLinearizable { failure, .. } => failure,
        other => panic!("expected a violation, got {other}"),
    }
}
