//! A fixed script of durable calls run against FileRegistry on SimStorage, recorded as a
//! History, and the exact check that a reopened store holds a prefix of it.
#![allow(dead_code)] // each test binary uses part of it

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use procreg::{
    Clock, ManualClock, PluginError, ProcessAwaitOutput, ProcessEventAppendRequest,
    ProcessEventType, ProcessExternalRef, ProcessHandleDescriptor, ProcessLease,
    ProcessRegistration, ProcessScope, ProcessWakeSpec, WakeDedupeKey,
};
use procreg_reference::{FileOptions, FileRegistry, Model, Op, OpOutput, Storage, execute_op};
use procreg_sim::History;
use serde_json::json;

/// Records between snapshots: small, so the script crosses several snapshots.
pub const SNAPSHOT_EVERY: u64 = 8;

/// Runs a future that never waits (FileRegistry does its I/O inline).
pub fn block_on<T>(future: impl Future<Output = T>) -> T {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("a FileRegistry call waited"),
    }
}

/// Opens a FileRegistry on `storage`.
pub fn open(
    storage: Arc<dyn Storage>,
    clock: &Arc<ManualClock>,
) -> Result<FileRegistry, PluginError> {
    let options = FileOptions {
        snapshot_every_records: SNAPSHOT_EVERY,
    };
    FileRegistry::open_with(storage, clock.clone(), options)
}

/// One step of the script: a call, or a lease call built from the last lease of a process.
#[derive(Clone, Debug)]
pub enum Step {
    Call(Op),
    Renew(&'static str),
    Release(&'static str),
}

fn registration(id: &str) -> ProcessRegistration {
    let spec = ProcessWakeSpec {
        when: None,
        input: String::new(),
        dedupe_key: WakeDedupeKey::EventIdentity,
    };
    ProcessRegistration::new(id, ProcessScope::session("owner"), "host")
        .with_input(json!({"job": id}))
        .with_event_type(ProcessEventType::plain("note"))
        .with_event_type(ProcessEventType::waking("ping", spec))
}

fn append(p: &str, event_type: &str, key: Option<&str>, wake_to: Option<&str>) -> Step {
    let mut request = ProcessEventAppendRequest::new(event_type, json!({"at": p, "t": event_type}));
    if let Some(key) = key {
        request = request.with_replay_key(key);
    }
    if let Some(session) = wake_to {
        request = request.with_wake_target(ProcessScope::session(session));
    }
    Step::Call(Op::AppendEvent {
        process_id: p.into(),
        request,
    })
}

fn grant(p: &str, scope: ProcessScope) -> Step {
    Step::Call(Op::GrantHandle {
        scope,
        process_id: p.into(),
        descriptor: ProcessHandleDescriptor::labelled(format!("{p}-handle")),
    })
}

fn claim(p: &str, owner: &str) -> Step {
    Step::Call(Op::ClaimLease {
        process_id: p.into(),
        owner_id: owner.into(),
        lease_ttl_ms: 1_000,
    })
}

fn complete(p: &str, output: ProcessAwaitOutput) -> Step {
    Step::Call(Op::CompleteProcess {
        process_id: p.into(),
        output,
    })
}

/// The fixed script: 31 durable calls over three processes, touching every kind of state.
pub fn script() -> Vec<Step> {
    let s = ProcessScope::session;
    let reg = |p: &str| {
        Step::Call(Op::Register {
            registration: registration(p),
        })
    };
    vec![
        reg("p1"),
        reg("p2"),
        reg("p3"),
        append("p1", "note", None, None),
        append("p1", "note", Some("k1"), None),
        append("p1", "ping", Some("w1"), Some("s1")),
        grant("p1", s("s1")),
        grant("p2", ProcessScope::frame("s1", "f1")),
        grant("p2", s("s2")),
        claim("p1", "w1"),
        Step::Renew("p1"),
        Step::Call(Op::SetExternalRef {
            process_id: "p1".into(),
            external_ref: ProcessExternalRef {
                backend: "queue".into(),
                id: "job-1".into(),
                metadata: Some(json!({"attempt": 1})),
            },
        }),
        append("p2", "ping", None, Some("s2")),
        Step::Call(Op::AckWake {
            process_id: "p2".into(),
            sequence: 1,
        }),
        Step::Call(Op::TransferHandleGrants {
            from: s("s1"),
            to: s("s3"),
            process_ids: vec!["p1".into()],
        }),
        claim("p2", "w2"),
        Step::Release("p2"),
        claim("p2", "w3"),
        complete("p1", ProcessAwaitOutput::Success { value: json!(1) }),
        Step::Release("p1"),
        Step::Call(Op::DeleteSession {
            session_id: "s2".into(),
        }),
        append("p3", "ping", None, Some("s2")),
        grant("p3", s("s2")),
        claim("p3", "w4"),
        Step::Renew("p3"),
        append("p3", "note", Some("k3"), None),
        complete(
            "p2",
            ProcessAwaitOutput::Failure {
                code: "E".into(),
                message: "boom".into(),
            },
        ),
        Step::Call(Op::RevokeHandle {
            scope: ProcessScope::frame("s1", "f1"),
            process_id: "p2".into(),
        }),
        append("p3", "process.cancel_requested", Some("c3"), None),
        complete(
            "p3",
            ProcessAwaitOutput::Cancelled {
                message: "stop".into(),
            },
        ),
        Step::Call(Op::AckWake {
            process_id: "p3".into(),
            sequence: 1,
        }),
    ]
}

/// Runs steps against one registry, recording every call.
pub struct Runner {
    pub clock: Arc<ManualClock>,
    pub history: History,
    pub leases: BTreeMap<String, ProcessLease>,
    pub epoch: u32,
}

impl Runner {
    pub fn new(clock: Arc<ManualClock>) -> Self {
        Self {
            clock,
            history: History::new(),
            leases: BTreeMap::new(),
            epoch: 0,
        }
    }

    fn resolve(&self, step: &Step) -> Option<Op> {
        match step {
            Step::Call(op) => Some(op.clone()),
            Step::Renew(p) => Some(Op::RenewLease {
                lease: self.leases.get(*p)?.clone(),
                lease_ttl_ms: 1_000,
            }),
            Step::Release(p) => Some(Op::CompleteLease {
                completion: self.leases.get(*p)?.completion(),
            }),
        }
    }

    /// Runs one call at the current instant and advances time; returns its outcome.
    pub fn call(&mut self, registry: &FileRegistry, op: Op) -> Result<OpOutput, PluginError> {
        let now = self.clock.now_ms();
        let id = self.history.invoke("script", op.clone(), now, self.epoch);
        let outcome = block_on(execute_op(registry, &op));
        if let Ok(OpOutput::Lease(lease)) = &outcome {
            self.leases.insert(lease.process_id.clone(), lease.clone());
        }
        self.history.complete(id, outcome.clone(), now);
        self.clock.advance(5);
        outcome
    }

    /// Runs `steps` until one fails with something other than a contract error (the storage
    /// died under it); returns how many ran.
    pub fn run(&mut self, registry: &FileRegistry, steps: &[Step]) -> usize {
        for (i, step) in steps.iter().enumerate() {
            let Some(op) = self.resolve(step) else {
                continue;
            };
            if let Err(e) = self.call(registry, op)
                && matches!(
                    e.kind(),
                    procreg::ErrorKind::Unavailable | procreg::ErrorKind::Storage
                )
            {
                return i + 1;
            }
        }
        steps.len()
    }
}

/// The Model after each prefix of the history (index `i`: the first `i` calls applied at
/// their invocation time).
pub fn prefix_models(history: &History) -> Vec<Model> {
    let mut model = Model::new();
    let mut states = vec![model.clone()];
    for call in history.calls() {
        let _ = model.apply(&call.op, call.invoke_ms);
        states.push(model.clone());
    }
    states
}

/// D2 exactly: the reopened Model equals the state after some prefix of the calls that
/// includes every acknowledged mutation, and at most the one call in flight beyond them.
/// Returns the prefix length, or why none fits.
pub fn reopened_prefix(history: &History, reopened: &Model) -> Result<usize, String> {
    let calls = history.calls();
    let last_acked = calls
        .iter()
        .rposition(|c| c.op.is_mutation() && matches!(c.outcome(), Some(Ok(_))))
        .map_or(0, |i| i + 1);
    let in_flight = calls
        .iter()
        .rposition(|c| c.is_indefinite())
        .map_or(last_acked, |i| (i + 1).max(last_acked));
    let states = prefix_models(history);
    (last_acked..=in_flight)
        .rev()
        .find(|&i| states[i] == *reopened)
        .ok_or_else(|| {
            format!(
                "the reopened state is no prefix of {last_acked}..={in_flight} calls \
                 (revision {}, expected revision {})",
                reopened.revision(),
                states[last_acked].revision()
            )
        })
}
