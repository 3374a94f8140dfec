//! Each test builds a history on a MemoryRegistry, "reopens" a registry that lost (skipped)
//! some calls, probes it, and checks the durability checker names exactly the lost call.

use std::sync::Arc;

use procreg::{
    ManualClock, PluginError, ProcessEventAppendRequest, ProcessEventType, ProcessHandleDescriptor,
    ProcessRegistration, ProcessScope, ProcessWakeSpec, WakeDedupeKey,
};
use procreg_reference::{MemoryRegistry, Model, Op, OpOutput, execute_op};
use serde_json::json;

use super::*;
use crate::target::finish_now;

struct Script {
    clock: Arc<ManualClock>,
    live: MemoryRegistry,
    history: History,
    /// (call, op, now) of every call executed on the pre-crash registry.
    applied: Vec<(CallId, Op, u64)>,
    epoch: u32,
}

impl Script {
    fn new() -> Self {
        let clock = Arc::new(ManualClock::new(1_000));
        Self {
            live: MemoryRegistry::new(clock.clone()),
            clock,
            history: History::new(),
            applied: Vec::new(),
            epoch: 0,
        }
    }

    fn call(&mut self, op: Op) -> CallId {
        let now = self.clock.now_ms_value();
        let id = self.history.invoke("c", op.clone(), now, self.epoch);
        let outcome = finish_now(execute_op(&self.live, &op));
        self.history.complete(id, outcome, now + 1);
        self.applied.push((id, op, now));
        self.clock.advance(10);
        id
    }

    /// A call the client never heard back from (it took effect or not: `took_effect`).
    fn indefinite(&mut self, op: Op, took_effect: bool) -> CallId {
        let now = self.clock.now_ms_value();
        let id = self.history.invoke("c", op.clone(), now, self.epoch);
        if took_effect {
            let _ = finish_now(execute_op(&self.live, &op));
            self.applied.push((id, op, now));
        }
        let lost = PluginError::unavailable("response lost");
        self.history.complete(id, Err(lost), now + 1);
        self.clock.advance(10);
        id
    }

    /// Crashes, "reopens" a registry that kept every applied call but `lost`, and probes it.
    fn crash(&mut self, lost: &[CallId]) -> ReopenProbe {
        let mut model = Model::new();
        for (id, op, now) in &self.applied {
            if !lost.contains(id) {
                let _ = model.apply(op, *now);
            }
        }
        self.epoch += 1;
        self.live = MemoryRegistry::with_model(model.clone(), self.clock.clone());
        self.applied.clear();
        let now = self.clock.now_ms_value();
        ReopenProbe::take(&self.live, &self.history, self.epoch, now, Some(model))
    }
}

trait NowValue {
    fn now_ms_value(&self) -> u64;
}

impl NowValue for ManualClock {
    fn now_ms_value(&self) -> u64 {
        procreg::Clock::now_ms(self)
    }
}

fn wake_registration(id: &str) -> ProcessRegistration {
    let spec = ProcessWakeSpec {
        when: None,
        input: String::new(),
        dedupe_key: WakeDedupeKey::EventIdentity,
    };
    ProcessRegistration::new(id, ProcessScope::session("owner"), "host")
        .with_event_type(ProcessEventType::plain("note"))
        .with_event_type(ProcessEventType::waking("ping", spec))
}

fn register(id: &str) -> Op {
    Op::Register {
        registration: wake_registration(id),
    }
}

fn append(id: &str, event_type: &str, key: Option<&str>) -> Op {
    let mut request = ProcessEventAppendRequest::new(event_type, json!({"n": 1}));
    if let Some(key) = key {
        request = request.with_replay_key(key);
    }
    if event_type == "ping" {
        request = request.with_wake_target(ProcessScope::session("s1"));
    }
    Op::AppendEvent {
        process_id: id.into(),
        request,
    }
}

fn grant(id: &str, session: &str) -> Op {
    Op::GrantHandle {
        scope: ProcessScope::session(session),
        process_id: id.into(),
        descriptor: ProcessHandleDescriptor::labelled("h"),
    }
}

fn claim(id: &str, owner: &str) -> Op {
    Op::ClaimLease {
        process_id: id.into(),
        owner_id: owner.into(),
        lease_ttl_ms: 10_000,
    }
}

fn rules_and_calls(violations: &[Violation]) -> Vec<(String, Option<CallId>)> {
    violations
        .iter()
        .map(|v| (v.rule.clone(), v.call))
        .collect()
}

#[test]
fn d2_nothing_lost_nothing_reported() {
    let mut s = Script::new();
    s.call(register("p"));
    s.call(append("p", "note", Some("k")));
    s.call(append("p", "ping", None));
    s.call(grant("p", "s1"));
    s.call(claim("p", "w"));
    let probe = s.crash(&[]);
    assert!(!probe.reads.is_empty());
    assert_eq!(check_durability(&s.history, &[probe]), vec![]);
}

#[test]
fn d2_lost_registration_names_the_register_call() {
    let mut s = Script::new();
    let reg = s.call(register("p"));
    let probe = s.crash(&[reg]);
    let found = check_durability(&s.history, &[probe]);
    assert_eq!(rules_and_calls(&found)[0], ("D2".into(), Some(reg)));
}

#[test]
fn d2_lost_event_names_the_append() {
    let mut s = Script::new();
    s.call(register("p"));
    s.call(append("p", "note", None));
    let second = s.call(append("p", "note", None));
    let probe = s.crash(&[second]);
    let found = check_durability(&s.history, &[probe]);
    assert_eq!(rules_and_calls(&found), vec![("D2".into(), Some(second))]);
    assert!(found[0].message.contains("p#2"), "{}", found[0].message);
}

#[test]
fn d6_acked_wake_pending_again_is_caught() {
    let mut s = Script::new();
    s.call(register("p"));
    s.call(append("p", "ping", None));
    let ack = s.call(Op::AckWake {
        process_id: "p".into(),
        sequence: 1,
    });
    let probe = s.crash(&[ack]);
    let found = check_durability(&s.history, &[probe]);
    assert_eq!(rules_and_calls(&found), vec![("D6".into(), Some(ack))]);
}

#[test]
fn d6_indefinite_ack_excuses_a_wake_no_longer_pending() {
    let mut s = Script::new();
    s.call(register("p"));
    s.call(append("p", "ping", None));
    s.indefinite(
        Op::AckWake {
            process_id: "p".into(),
            sequence: 1,
        },
        true,
    );
    let probe = s.crash(&[]);
    assert_eq!(check_durability(&s.history, &[probe]), vec![]);
}

#[test]
fn s5_grant_of_a_deleted_session_coming_back_is_caught() {
    let mut s = Script::new();
    s.call(register("p"));
    s.call(grant("p", "s1"));
    let delete = s.call(Op::DeleteSession {
        session_id: "s1".into(),
    });
    let probe = s.crash(&[delete]);
    let found = check_durability(&s.history, &[probe]);
    assert_eq!(rules_and_calls(&found), vec![("D2".into(), Some(delete))]);
}

#[test]
fn d2_indefinite_revoke_excuses_a_missing_grant() {
    let mut s = Script::new();
    s.call(register("p"));
    s.call(grant("p", "s1"));
    s.indefinite(
        Op::RevokeHandle {
            scope: ProcessScope::session("s1"),
            process_id: "p".into(),
        },
        true,
    );
    let probe = s.crash(&[]);
    assert_eq!(check_durability(&s.history, &[probe]), vec![]);
}

#[test]
fn d3_claim_after_reopen_must_exceed_acknowledged_fences() {
    let mut s = Script::new();
    s.call(register("p"));
    let first = s.call(claim("p", "w1"));
    let probe = s.crash(&[first]);
    let later = s.call(claim("p", "w2"));
    let found = check_durability(&s.history, &[probe]);
    let rules = rules_and_calls(&found);
    assert!(rules.contains(&("D3".into(), Some(later))), "{found:?}");
    // The Model's counter is behind too, and the lease state is gone (D6).
    assert!(rules.contains(&("D3".into(), Some(first))), "{found:?}");
    assert!(rules.contains(&("D6".into(), Some(first))), "{found:?}");
}

#[test]
fn d3_keyed_append_after_reopen_must_replay_its_sequence() {
    let mut s = Script::new();
    s.call(register("p"));
    s.call(append("p", "note", None));
    let keyed = s.call(append("p", "note", Some("k")));
    let probe = s.crash(&[keyed]);
    let again = s.call(append("p", "note", Some("k")));
    let Some(Ok(OpOutput::Append(result))) = s.history.calls()[again].outcome() else {
        panic!("the retry must succeed");
    };
    assert!(!result.replayed);
    let found = check_durability(&s.history, &[probe]);
    assert!(rules_and_calls(&found).contains(&("D3".into(), Some(again))));
}

#[test]
fn d6_released_lease_coming_back_is_caught() {
    let mut s = Script::new();
    s.call(register("p"));
    let claimed = s.call(claim("p", "w1"));
    let Some(Ok(OpOutput::Lease(lease))) = s.history.calls()[claimed].outcome().cloned() else {
        panic!("claim must succeed");
    };
    let release = s.call(Op::CompleteLease {
        completion: lease.completion(),
    });
    let probe = s.crash(&[release]);
    let found = check_durability(&s.history, &[probe]);
    assert_eq!(rules_and_calls(&found), vec![("D6".into(), Some(release))]);
}
