//! P1: when several errors apply, the first in the contract's table wins.

use procreg::{
    ErrorKind, ProcessAwaitOutput, ProcessEventAppendRequest as Req, ProcessEventType,
    ProcessScope, ProcessWakeSpec, WakeDedupeKey,
};
use serde_json::json;

use super::registration;
use crate::model::Model;

/// `p1` with a wake type `w` (input `/in`) and a user terminal type `done`.
fn model() -> Model {
    let spec = ProcessWakeSpec {
        when: None,
        input: "/in".into(),
        dedupe_key: WakeDedupeKey::EventIdentity,
    };
    let reg = registration("p1")
        .with_event_type(ProcessEventType::waking("w", spec))
        .with_event_type(ProcessEventType::terminal(
            "done",
            procreg::ProcessTerminalState::Completed,
        ));
    let mut model = Model::new();
    model.register_process(reg, 0).unwrap();
    model
}

fn kind(model: &mut Model, process_id: &str, request: Req) -> ErrorKind {
    model
        .append_event(process_id, request, 1)
        .unwrap_err()
        .kind()
}

#[test]
fn p1_append_unknown_process_beats_everything() {
    let bad = Req::new("undeclared", json!(1)).with_wake_target(ProcessScope::session(" "));
    assert_eq!(kind(&mut model(), "nope", bad), ErrorKind::UnknownProcess);
}

#[test]
fn p1_append_invalid_request_beats_undeclared_type() {
    let mut model = model();
    let blank_target = Req::new("undeclared", json!(1)).with_wake_target(ProcessScope::session(""));
    assert_eq!(
        kind(&mut model, "p1", blank_target),
        ErrorKind::InvalidRequest
    );
    let reserved = Req::new("undeclared", json!(1)).with_replay_key("process:p1:terminal");
    assert_eq!(kind(&mut model, "p1", reserved), ErrorKind::InvalidRequest);
}

#[test]
fn p1_append_blank_target_is_invalid_even_without_a_wake() {
    let req = Req::new("process.cancel_requested", json!({}))
        .with_replay_key("k")
        .with_wake_target(ProcessScope::session(" "));
    assert_eq!(kind(&mut model(), "p1", req), ErrorKind::InvalidRequest);
}

#[test]
fn p1_append_undeclared_beats_replay_key_required() {
    assert_eq!(
        kind(&mut model(), "p1", Req::new("x", json!(1))),
        ErrorKind::UndeclaredEventType
    );
}

#[test]
fn p1_append_replay_key_required_beats_invalid_payload() {
    let req = Req::new("done", json!("not an await output"));
    assert_eq!(kind(&mut model(), "p1", req), ErrorKind::ReplayKeyRequired);
}

#[test]
fn p1_append_invalid_payload_beats_already_terminal() {
    let mut model = model();
    model
        .complete_process("p1", ProcessAwaitOutput::Success { value: json!(1) }, 0)
        .unwrap();
    let bad = Req::new("done", json!({})).with_replay_key("k2");
    assert_eq!(kind(&mut model, "p1", bad), ErrorKind::InvalidEvent);
    let good = ProcessAwaitOutput::Success { value: json!(2) };
    let late = Req::new("done", json!({ "await_output": good })).with_replay_key("k2");
    assert_eq!(kind(&mut model, "p1", late), ErrorKind::AlreadyTerminal);
}

#[test]
fn p1_append_pointer_error_beats_missing_target() {
    let mut model = model();
    assert_eq!(
        kind(&mut model, "p1", Req::new("w", json!({}))),
        ErrorKind::InvalidEvent
    );
    let req = Req::new("w", json!({"in": 1}));
    assert_eq!(kind(&mut model, "p1", req), ErrorKind::WakeTargetRequired);
}

#[test]
fn p1_append_replay_beats_later_checks() {
    let mut model = model();
    let target = ProcessScope::session("s");
    let first = Req::new("w", json!({"in": 1}))
        .with_replay_key("k")
        .with_wake_target(target);
    model.append_event("p1", first, 1).unwrap();
    // Same (type, payload), no target: replayed (E2 does not compare the target).
    let again = Req::new("w", json!({"in": 1})).with_replay_key("k");
    let replayed = model.append_event("p1", again, 2).unwrap();
    assert!(replayed.replayed && replayed.wake_delivery.is_some());
    // Replayed even after the wake was acknowledged.
    model.ack_wake("p1", 1).unwrap();
    let again = Req::new("w", json!({"in": 1})).with_replay_key("k");
    assert!(
        model
            .append_event("p1", again, 3)
            .unwrap()
            .wake_delivery
            .is_some()
    );
    // Blank target on a replay: replay comes first.
    let blank = Req::new("w", json!({"in": 1}))
        .with_replay_key("k")
        .with_wake_target(ProcessScope::session(""));
    assert!(model.append_event("p1", blank, 3).unwrap().replayed);
}

#[test]
fn p1_complete_unknown_beats_terminal_checks() {
    let err = model()
        .complete_process(
            "nope",
            ProcessAwaitOutput::Cancelled {
                message: "m".into(),
            },
            0,
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownProcess);
}

#[test]
fn p1_wait_unknown_beats_undeclared() {
    let err = model()
        .wait_event_after("nope", "undeclared", 0)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownProcess);
}

#[test]
fn p1_ack_unknown_process_beats_unknown_event() {
    assert_eq!(
        model().ack_wake("nope", 9).unwrap_err().kind(),
        ErrorKind::UnknownProcess
    );
}

#[test]
fn p1_renew_unknown_beats_lease_lost() {
    let mut model = model();
    let mut lease = model.claim_process_lease("p1", "a", 10, 0).unwrap();
    lease.process_id = "nope".into();
    lease.lease_token = "forged".into();
    let err = model.renew_process_lease(&lease, 10, 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownProcess);
}
