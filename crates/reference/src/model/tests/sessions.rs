//! S1-S6: session deletion.

use procreg::{
    ProcessAwaitOutput, ProcessEventAppendRequest as Req, ProcessEventType,
    ProcessHandleDescriptor as Desc, ProcessScope, ProcessWakeSpec, WakeDedupeKey,
};
use serde_json::json;

use super::{model_with, registration};
use crate::model::Model;

#[test]
fn s1_removes_session_and_frame_scopes_by_exact_id() {
    let mut model = model_with(&["p1", "p2"]);
    model
        .grant_handle(&ProcessScope::session("s"), "p1", Desc::default())
        .unwrap();
    model
        .grant_handle(&ProcessScope::frame("s", "f"), "p2", Desc::default())
        .unwrap();
    model
        .grant_handle(&ProcessScope::session("s2"), "p2", Desc::default())
        .unwrap();
    model
        .grant_handle(&ProcessScope::session("ss"), "p1", Desc::default())
        .unwrap();
    let report = model.delete_session_process_state("s");
    assert_eq!(report.revoked_handle_count, 2);
    assert!(model.has_handle_grant(&ProcessScope::session("s2"), "p2"));
    assert!(model.has_handle_grant(&ProcessScope::session("ss"), "p1"));
    model.check_invariants().unwrap();
}

#[test]
fn s2_lists_are_sorted_and_disjoint() {
    let mut model = model_with(&["c", "b", "a", "done"]);
    for id in ["c", "b", "a", "done"] {
        model
            .grant_handle(&ProcessScope::session("s"), id, Desc::default())
            .unwrap();
    }
    model
        .grant_handle(&ProcessScope::frame("s", "f"), "c", Desc::default())
        .unwrap();
    model
        .grant_handle(&ProcessScope::session("other"), "b", Desc::default())
        .unwrap();
    model
        .complete_process("done", ProcessAwaitOutput::Success { value: json!(1) }, 1)
        .unwrap();
    let report = model.delete_session_process_state("s");
    assert_eq!(report.session_id, "s");
    assert_eq!(report.revoked_handle_count, 5);
    assert_eq!(report.cancel_process_ids, ["a", "c"]);
    assert_eq!(report.preserved_process_ids, ["b"]);
}

#[test]
fn s3_pending_wakes_targeting_session_stop_pending() {
    let spec = ProcessWakeSpec {
        when: None,
        input: "".into(),
        dedupe_key: WakeDedupeKey::EventIdentity,
    };
    let reg = registration("p1").with_event_type(ProcessEventType::waking("w", spec));
    let mut model = Model::new();
    model.register_process(reg, 0).unwrap();
    for target in [
        ProcessScope::frame("s", "f"),
        ProcessScope::session("t"),
        ProcessScope::session("s"),
    ] {
        model
            .append_event("p1", Req::new("w", json!(1)).with_wake_target(target), 0)
            .unwrap();
    }
    model.ack_wake("p1", 3).unwrap();
    let report = model.delete_session_process_state("s");
    assert_eq!(report.deleted_wake_count, 1);
    assert!(!model.is_pending_wake("p1", 1));
    assert!(model.is_pending_wake("p1", 2));
    assert_eq!(model.events("p1").len(), 3, "S4: events stay");
}

#[test]
fn s5_second_or_unknown_deletion_reports_nothing_and_keeps_revision() {
    let mut model = model_with(&["p1"]);
    model
        .grant_handle(&ProcessScope::session("s"), "p1", Desc::default())
        .unwrap();
    model.delete_session_process_state("s");
    let revision = model.revision();
    for sid in ["s", "unknown", " "] {
        let report = model.delete_session_process_state(sid);
        assert_eq!(report.revoked_handle_count + report.deleted_wake_count, 0);
        assert!(report.cancel_process_ids.is_empty() && report.preserved_process_ids.is_empty());
    }
    assert_eq!(model.revision(), revision);
}

#[test]
fn s6_later_grants_into_deleted_session_are_new_state() {
    let mut model = model_with(&["p1"]);
    model.delete_session_process_state("s");
    model
        .grant_handle(&ProcessScope::session("s"), "p1", Desc::default())
        .unwrap();
    assert!(model.has_handle_grant(&ProcessScope::session("s"), "p1"));
}
