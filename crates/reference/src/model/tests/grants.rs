//! H1-H8: grants, revokes, lists and all-or-nothing transfers.

use procreg::{ErrorKind, ProcessAwaitOutput, ProcessHandleDescriptor as Desc, ProcessScope};
use serde_json::json;

use super::super::Model;
use super::model_with;

fn session(id: &str) -> ProcessScope {
    ProcessScope::session(id)
}

fn ids(entries: Vec<procreg::ProcessHandleGrantEntry>) -> Vec<String> {
    entries.into_iter().map(|e| e.grant.process_id).collect()
}

#[test]
fn h1_grant_upserts_and_replaces_descriptor() {
    let mut model = model_with(&["p1"]);
    model
        .grant_handle(&session("s"), "p1", Desc::labelled("a"))
        .unwrap();
    let grant = model
        .grant_handle(&session("s"), "p1", Desc::labelled("b"))
        .unwrap();
    assert_eq!(grant.descriptor, Desc::labelled("b"));
    let listed = model.list_handle_grants(&session("s"));
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].grant, grant);
    let revision = model.revision();
    model
        .grant_handle(&session("s"), "p1", Desc::labelled("b"))
        .unwrap();
    assert_eq!(
        model.revision(),
        revision,
        "an identical grant changes nothing"
    );
}

#[test]
fn h1_unknown_process_before_invalid_scope() {
    let mut model = model_with(&["p1"]);
    let err = model
        .grant_handle(&session(" "), "nope", Desc::default())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownProcess);
    for bad in [
        session(" "),
        session("a/frame:b"),
        ProcessScope::frame("s", "f\0"),
    ] {
        let err = model.grant_handle(&bad, "p1", Desc::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    }
}

#[test]
fn h2_revoke_is_idempotent_and_missing_grant_keeps_revision() {
    let mut model = model_with(&["p1"]);
    model
        .grant_handle(&session("s"), "p1", Desc::default())
        .unwrap();
    model.revoke_handle(&session("s"), "p1");
    assert!(!model.has_handle_grant(&session("s"), "p1"));
    let revision = model.revision();
    model.revoke_handle(&session("s"), "p1");
    model.revoke_handle(&session(""), "unknown");
    assert_eq!(model.revision(), revision);
    model.check_invariants().unwrap();
}

#[test]
fn h3_lists_exact_scope_ascending_with_every_status() {
    let mut model = model_with(&["b", "a", "c"]);
    for id in ["b", "a"] {
        model
            .grant_handle(&session("s"), id, Desc::default())
            .unwrap();
    }
    model
        .grant_handle(&ProcessScope::frame("s", "f"), "c", Desc::default())
        .unwrap();
    model
        .complete_process("a", ProcessAwaitOutput::Success { value: json!(1) }, 1)
        .unwrap();
    assert_eq!(ids(model.list_handle_grants(&session("s"))), ["a", "b"]);
    assert_eq!(
        ids(model.list_handle_grants(&ProcessScope::frame("s", "f"))),
        ["c"]
    );
    // H4: running only.
    assert_eq!(ids(model.list_live_handle_grants(&session("s"))), ["b"]);
}

#[test]
fn v2_session_id_with_frame_marker_never_aliases_a_frame_scope() {
    let mut model = model_with(&["p1"]);
    model
        .grant_handle(&ProcessScope::frame("a", "b"), "p1", Desc::default())
        .unwrap();
    let alias = session("a/frame:b");
    assert!(model.list_handle_grants(&alias).is_empty());
    assert!(!model.has_handle_grant(&alias, "p1"));
    model.revoke_handle(&alias, "p1");
    assert!(model.has_handle_grant(&ProcessScope::frame("a", "b"), "p1"));
}

#[test]
fn h5_has_grant_is_false_for_unknown_ids() {
    let model = model_with(&["p1"]);
    assert!(!model.has_handle_grant(&session("s"), "p1"));
    assert!(!model.has_handle_grant(&session("s"), "nope"));
}

#[test]
fn h6_grants_for_process_ascend_by_scope_id() {
    let mut model = model_with(&["p1"]);
    for scope in [session("b"), ProcessScope::frame("a", "z"), session("a")] {
        model.grant_handle(&scope, "p1", Desc::default()).unwrap();
    }
    let scopes: Vec<_> = model
        .handle_grants_for_process("p1")
        .unwrap()
        .into_iter()
        .map(|g| g.scope.id())
        .collect();
    assert_eq!(scopes, ["session:a", "session:a/frame:z", "session:b"]);
    let err = model.handle_grants_for_process("q").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownProcess);
}

#[test]
fn h7_transfer_moves_all_keeping_descriptors() {
    let mut model = model_with(&["p1", "p2"]);
    model
        .grant_handle(&session("from"), "p1", Desc::labelled("one"))
        .unwrap();
    model
        .grant_handle(&session("from"), "p2", Desc::labelled("two"))
        .unwrap();
    model
        .grant_handle(&session("to"), "p1", Desc::labelled("old"))
        .unwrap();
    let moving = ["p1".to_owned(), "p2".to_owned()];
    model
        .transfer_handle_grants(&session("from"), &session("to"), &moving)
        .unwrap();
    assert!(model.list_handle_grants(&session("from")).is_empty());
    let to = model.list_handle_grants(&session("to"));
    let labels: Vec<_> = to
        .iter()
        .map(|e| e.grant.descriptor.label.clone().unwrap())
        .collect();
    assert_eq!(labels, ["one", "two"]);
    assert_eq!(to[0].grant.scope, session("to"));
    model.check_invariants().unwrap();
}

#[test]
fn h7_transfer_is_all_or_nothing() {
    let mut model = model_with(&["p1", "p2"]);
    model
        .grant_handle(&session("from"), "p1", Desc::default())
        .unwrap();
    let before = model.clone();
    let cases: Vec<(Vec<&str>, ProcessScope, ErrorKind)> = vec![
        (vec!["p1", "p2"], session("to"), ErrorKind::HandleNotGranted),
        (
            vec!["p1", "nope"],
            session("to"),
            ErrorKind::HandleNotGranted,
        ),
        (vec!["p1", "p1"], session("to"), ErrorKind::InvalidRequest),
        (vec!["p1"], session(" "), ErrorKind::InvalidRequest),
        // P1: InvalidRequest before HandleNotGranted.
        (
            vec!["nope", "nope"],
            session("to"),
            ErrorKind::InvalidRequest,
        ),
    ];
    for (ids, to, kind) in cases {
        let ids: Vec<String> = ids.into_iter().map(String::from).collect();
        let err = model
            .transfer_handle_grants(&session("from"), &to, &ids)
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{ids:?} -> {to:?}");
        assert_eq!(model, before);
    }
}

#[test]
fn h7_empty_or_same_scope_transfer_changes_nothing() {
    let mut model = model_with(&["p1"]);
    model
        .grant_handle(&ProcessScope::frame("s", ""), "p1", Desc::default())
        .unwrap();
    let before = model.clone();
    model
        .transfer_handle_grants(&session("s"), &session("t"), &[])
        .unwrap();
    let p1 = ["p1".to_owned()];
    model
        .transfer_handle_grants(&session("s"), &ProcessScope::frame("s", ""), &p1)
        .unwrap();
    assert_eq!(model, before);
    let err = model.transfer_handle_grants(&session("s"), &session("s"), &["x".into()]);
    assert_eq!(err.unwrap_err().kind(), ErrorKind::HandleNotGranted);
}

#[test]
fn h8_grants_never_touch_records_events_or_leases() {
    let mut model = model_with(&["p1"]);
    let lease = model.claim_process_lease("p1", "w", 100, 0).unwrap();
    let record = model.get_process("p1").unwrap();
    model
        .grant_handle(&session("s"), "p1", Desc::default())
        .unwrap();
    model
        .transfer_handle_grants(&session("s"), &session("t"), &["p1".into()])
        .unwrap();
    model.revoke_handle(&session("t"), "p1");
    assert_eq!(model.get_process("p1").unwrap(), record);
    assert!(model.events("p1").is_empty());
    assert_eq!(model.current_lease("p1"), Some(&lease));
}

#[test]
fn retained_processes_keep_their_grants_and_empty_scopes_go() {
    let mut model = model_with(&["p1", "p2"]);
    model
        .grant_handle(&session("a"), "p1", Desc::default())
        .unwrap();
    model
        .grant_handle(&session("b"), "p2", Desc::default())
        .unwrap();
    let revision = model.revision();
    model.retain_processes(|pid| pid == "p1");
    assert_eq!(model.process_ids().collect::<Vec<_>>(), ["p1"]);
    assert_eq!(ids(model.list_handle_grants(&session("a"))), ["p1"]);
    assert!(model.list_handle_grants(&session("b")).is_empty());
    assert_eq!(model.revision(), revision, "cutting is not a state change");
    let mut only_p1 = model_with(&["p1"]);
    only_p1
        .grant_handle(&session("a"), "p1", Desc::default())
        .unwrap();
    let json = |m: &Model| serde_json::to_value(m).unwrap();
    assert_eq!(
        json(&model)["grants"],
        json(&only_p1)["grants"],
        "scope b is gone"
    );
}
