//! E1-E15: appends, replay, wakes, reads, acks and the non-blocking waits.

use procreg::{
    ErrorKind, ProcessAwaitOutput, ProcessEventAppendRequest as Req, ProcessEventType,
    ProcessScope, ProcessTerminalState, ProcessWakeSpec, WakeDedupeKey,
};
use serde_json::json;

use super::{model_with, registration};
use crate::model::Model;

/// A model with `p1` declaring a plain `note` and a wake type `ping` (input `/msg`, dedupe by
/// `/key`, only when `/go` is truthy).
fn wake_model() -> Model {
    let spec = ProcessWakeSpec {
        when: Some("/go".into()),
        input: "/msg".into(),
        dedupe_key: WakeDedupeKey::Pointer("/key".into()),
    };
    let reg = registration("p1")
        .with_event_type(ProcessEventType::plain("note"))
        .with_event_type(ProcessEventType::waking("ping", spec));
    let mut model = Model::new();
    model.register_process(reg, 0).unwrap();
    model
}

fn target() -> ProcessScope {
    ProcessScope::frame("s2", "f")
}

#[test]
fn e1_append_on_unknown_process_is_unknown() {
    let err = Model::new()
        .append_event("p", Req::new("note", json!({})), 0)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownProcess);
}

#[test]
fn e8_sequences_are_dense_and_touch_updated_at() {
    let mut model = wake_model();
    for (i, now) in [10, 20, 30].into_iter().enumerate() {
        let result = model
            .append_event("p1", Req::new("note", json!(i)), now)
            .unwrap();
        assert_eq!(result.event.sequence, i as u64 + 1);
        assert_eq!(result.event.occurred_at_ms, now);
        assert!(!result.replayed);
    }
    assert_eq!(model.get_process("p1").unwrap().updated_at_ms, 30);
    model.check_invariants().unwrap();
}

#[test]
fn e2_replay_returns_stored_event_unchanged() {
    let mut model = wake_model();
    let req = Req::new("note", json!({"a": 1, "b": 2})).with_replay_key("k");
    let first = model.append_event("p1", req, 5).unwrap();
    let revision = model.revision();
    let again = Req::new("note", json!({"b": 2, "a": 1})).with_replay_key("k");
    let replayed = model.append_event("p1", again, 50).unwrap();
    assert!(replayed.replayed);
    assert_eq!(replayed.event, first.event);
    assert_eq!(model.revision(), revision);
    assert_eq!(model.get_process("p1").unwrap().updated_at_ms, 5);
}

#[test]
fn e2_replay_with_other_payload_conflicts() {
    let mut model = wake_model();
    let req = Req::new("note", json!(1)).with_replay_key("k");
    model.append_event("p1", req, 5).unwrap();
    let err = model
        .append_event("p1", Req::new("note", json!(1.0)).with_replay_key("k"), 6)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReplayConflict);
    assert_eq!(model.events("p1").len(), 1);
}

#[test]
fn e2_replaying_terminal_event_on_terminal_process_succeeds() {
    let mut model = model_with(&["p1"]);
    let out = ProcessAwaitOutput::Success { value: json!(1) };
    model.complete_process("p1", out.clone(), 1).unwrap();
    let result = model
        .append_event("p1", Req::terminal("p1", &out), 2)
        .unwrap();
    assert!(result.replayed);
    assert_eq!(result.event.sequence, 1);
}

#[test]
fn e3_undeclared_type_is_rejected() {
    let err = wake_model()
        .append_event("p1", Req::new("nope", json!(1)), 0)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UndeclaredEventType);
}

#[test]
fn e4_terminal_and_cancel_request_need_replay_key() {
    let mut model = model_with(&["p1"]);
    let out = ProcessAwaitOutput::Success { value: json!(1) };
    let terminal = Req::new("process.completed", json!({"await_output": out}));
    let err = model.append_event("p1", terminal, 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReplayKeyRequired);
    let cancel = Req::new("process.cancel_requested", json!({})).with_replay_key("  ");
    let err = model.append_event("p1", cancel, 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReplayKeyRequired);
}

#[test]
fn e5_terminal_payload_must_match_state() {
    let mut model = model_with(&["p1"]);
    let wrong = ProcessAwaitOutput::Cancelled {
        message: "x".into(),
    };
    for payload in [json!({}), json!({"await_output": wrong}), json!(3)] {
        let req = Req::new("process.completed", payload).with_replay_key("k");
        let err = model.append_event("p1", req, 0).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidEvent);
    }
    assert!(model.events("p1").is_empty());
}

#[test]
fn e6_second_terminal_is_rejected_but_plain_events_continue() {
    let mut model = model_with(&["p1"]);
    let ok = ProcessAwaitOutput::Success { value: json!(1) };
    model.complete_process("p1", ok, 1).unwrap();
    let fail = ProcessAwaitOutput::Failure {
        code: "c".into(),
        message: "m".into(),
    };
    let req = Req::new("process.failed", json!({ "await_output": fail })).with_replay_key("x");
    assert_eq!(
        model.append_event("p1", req, 2).unwrap_err().kind(),
        ErrorKind::AlreadyTerminal
    );
    let cancel = Req::new("process.cancel_requested", json!({})).with_replay_key("c");
    assert_eq!(
        model.append_event("p1", cancel, 3).unwrap().event.sequence,
        2
    );
    model.check_invariants().unwrap();
}

#[test]
fn e7_wake_materializes_with_rendered_input_and_pointer_key() {
    let mut model = wake_model();
    let payload = json!({"go": 1, "msg": {"b": 1, "a": 2}, "key": "k1"});
    let req = Req::new("ping", payload).with_wake_target(ProcessScope::frame("s2", ""));
    let result = model.append_event("p1", req, 4).unwrap();
    let wake = result.event.wake.clone().unwrap();
    assert_eq!(wake.input, r#"{"a":2,"b":1}"#);
    assert_eq!(wake.dedupe_key, "k1");
    assert_eq!(wake.target_scope, ProcessScope::session("s2"));
    let delivery = result.wake_delivery.unwrap();
    assert_eq!(delivery.created_at_ms, 4);
    assert_eq!(
        delivery.wake_id,
        procreg::canonical::wake_id(&ProcessScope::session("s2"), "k1")
    );
    assert!(model.is_pending_wake("p1", 1));
}

#[test]
fn e7_falsy_when_gives_no_wake_and_ignores_target() {
    for go in [json!(null), json!(false), json!(""), json!([]), json!({})] {
        let mut model = wake_model();
        let req = Req::new("ping", json!({ "go": go })).with_wake_target(target());
        let result = model.append_event("p1", req, 0).unwrap();
        assert_eq!(result.event.wake, None);
        assert_eq!(result.wake_delivery, None);
    }
}

#[test]
fn e7_missing_pointers_are_invalid_and_missing_target_is_required() {
    let mut model = wake_model();
    let no_input = Req::new("ping", json!({"go": true, "key": 1})).with_wake_target(target());
    assert_eq!(
        model.append_event("p1", no_input, 0).unwrap_err().kind(),
        ErrorKind::InvalidEvent
    );
    let no_key = Req::new("ping", json!({"go": true, "msg": "m"})).with_wake_target(target());
    assert_eq!(
        model.append_event("p1", no_key, 0).unwrap_err().kind(),
        ErrorKind::InvalidEvent
    );
    let no_target = Req::new("ping", json!({"go": true, "msg": "m", "key": 2}));
    let err = model.append_event("p1", no_target, 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WakeTargetRequired);
    assert_eq!(model.revision(), 1, "E10: rejected appends leave no trace");
}

#[test]
fn e7_event_identity_and_const_keys() {
    let identity = ProcessWakeSpec {
        when: None,
        input: "".into(),
        dedupe_key: WakeDedupeKey::EventIdentity,
    };
    let constant = ProcessWakeSpec {
        dedupe_key: WakeDedupeKey::Const(String::new()),
        ..identity.clone()
    };
    let reg = registration("p1")
        .with_event_type(ProcessEventType::waking("a", identity))
        .with_event_type(ProcessEventType::waking("b", constant));
    let mut model = Model::new();
    model.register_process(reg, 0).unwrap();
    let a = model.append_event(
        "p1",
        Req::new("a", json!("x")).with_wake_target(target()),
        0,
    );
    let a = a.unwrap().event.wake.unwrap();
    assert_eq!((a.input.as_str(), a.dedupe_key.as_str()), ("x", "p1:1"));
    let b = model.append_event("p1", Req::new("b", json!(7)).with_wake_target(target()), 0);
    let b = b.unwrap().event.wake.unwrap();
    assert_eq!((b.input.as_str(), b.dedupe_key.as_str()), ("7", ""));
}

#[test]
fn e11_e12_reads_above_sequence_and_pending_only() {
    let mut model = wake_model();
    let ping = |key: u64| {
        Req::new("ping", json!({"go": true, "msg": "m", "key": key})).with_wake_target(target())
    };
    model.append_event("p1", ping(1), 0).unwrap();
    model
        .append_event("p1", Req::new("note", json!(0)), 0)
        .unwrap();
    model.append_event("p1", ping(2), 0).unwrap();
    let seqs = |events: Vec<procreg::ProcessEvent>| -> Vec<u64> {
        events.into_iter().map(|e| e.sequence).collect()
    };
    assert_eq!(seqs(model.events_after("p1", 1).unwrap()), [2, 3]);
    assert_eq!(seqs(model.wake_events_after("p1", 0).unwrap()), [1, 3]);
    model.ack_wake("p1", 1).unwrap();
    assert_eq!(seqs(model.wake_events_after("p1", 0).unwrap()), [3]);
    let unknown = model.events_after("q", 0).unwrap_err();
    assert_eq!(unknown.kind(), ErrorKind::UnknownProcess);
    assert_eq!(
        model.wake_events_after("q", 0).unwrap_err().kind(),
        ErrorKind::UnknownProcess
    );
}

#[test]
fn e13_ack_is_idempotent_and_checks_existence() {
    let mut model = wake_model();
    model
        .append_event("p1", Req::new("note", json!(0)), 0)
        .unwrap();
    let revision = model.revision();
    model.ack_wake("p1", 1).unwrap(); // a non-wake event: no-op
    assert_eq!(model.revision(), revision);
    assert_eq!(
        model.ack_wake("p1", 2).unwrap_err().kind(),
        ErrorKind::UnknownEvent
    );
    assert_eq!(
        model.ack_wake("p1", 0).unwrap_err().kind(),
        ErrorKind::UnknownEvent
    );
    assert_eq!(
        model.ack_wake("q", 1).unwrap_err().kind(),
        ErrorKind::UnknownProcess
    );
}

#[test]
fn e14_wait_finds_lowest_matching_event_or_pends() {
    let mut model = wake_model();
    assert_eq!(model.wait_event_after("p1", "note", 0).unwrap(), None);
    model
        .append_event("p1", Req::new("note", json!(1)), 0)
        .unwrap();
    model
        .append_event("p1", Req::new("note", json!(2)), 0)
        .unwrap();
    let found = model.wait_event_after("p1", "note", 0).unwrap().unwrap();
    assert_eq!(found.sequence, 1);
    assert_eq!(
        model
            .wait_event_after("p1", "note", 1)
            .unwrap()
            .unwrap()
            .sequence,
        2
    );
    let err = model.wait_event_after("p1", "undeclared", 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UndeclaredEventType);
    let err = model.wait_event_after("q", "undeclared", 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownProcess);
}

#[test]
fn e15_terminal_replay_key_is_reserved() {
    let mut model = wake_model();
    let req = Req::new("note", json!(1)).with_replay_key("process:p1:terminal");
    assert_eq!(
        model.append_event("p1", req, 0).unwrap_err().kind(),
        ErrorKind::InvalidRequest
    );
    // Other processes' reserved keys are ordinary keys here.
    let req = Req::new("note", json!(1)).with_replay_key("process:p2:terminal");
    assert!(model.append_event("p1", req, 0).is_ok());
}

#[test]
fn v2_replay_key_with_newline_is_invalid_request() {
    let mut model = wake_model();
    let req = Req::new("note", json!(1)).with_replay_key("a\nb");
    assert_eq!(
        model.append_event("p1", req, 0).unwrap_err().kind(),
        ErrorKind::InvalidRequest
    );
}

#[test]
fn user_terminal_type_sets_status() {
    let reg = registration("p1").with_event_type(ProcessEventType::terminal(
        "done",
        ProcessTerminalState::Completed,
    ));
    let mut model = Model::new();
    model.register_process(reg, 0).unwrap();
    let out = ProcessAwaitOutput::Success { value: json!("v") };
    let req = Req::new("done", json!({"await_output": out, "extra": 1})).with_replay_key("k");
    let result = model.append_event("p1", req, 3).unwrap();
    assert_eq!(result.event.terminal, Some(ProcessTerminalState::Completed));
    assert_eq!(model.await_process("p1").unwrap(), Some(out.clone()));
    // C2: completing with the equal output is a harmless retry.
    let record = model.complete_process("p1", out, 9).unwrap();
    assert_eq!(record.updated_at_ms, 3);
    model.check_invariants().unwrap();
}

#[test]
fn e15_reserved_key_check_agrees_with_terminal_replay_key() {
    use crate::model::events::is_terminal_replay_key;
    for pid in ["p1", "", "a:b", "process:x", "p:terminal"] {
        let reserved = procreg::terminal_replay_key(pid);
        assert!(is_terminal_replay_key(&reserved, pid), "{reserved}");
        for other in ["p1", "", "a", "process:", ":terminal", "process::terminal"] {
            let near = [
                format!("{reserved}x"),
                format!("x{reserved}"),
                other.to_owned(),
            ];
            for key in near {
                assert_eq!(
                    is_terminal_replay_key(&key, pid),
                    key == reserved,
                    "{key} {pid}"
                );
            }
        }
    }
}

#[test]
fn j1_replay_payload_comparison_agrees_with_canonical_texts() {
    use crate::model::inputs::{json_equal, json_values_equal};
    let values = [
        json!(0.0),
        json!(-0.0),
        json!(1),
        json!(1.0),
        json!(-1),
        json!({"a": 1, "b": [1, 2.5]}),
        json!({"b": [1, 2.5], "a": 1}),
        json!({"a": 1, "b": [1, 2.5, null]}),
        json!("x"),
        json!(null),
    ];
    for a in &values {
        for b in &values {
            assert_eq!(json_values_equal(a, b), json_equal(a, b), "{a} {b}");
        }
    }
}
