//! C1-C5: idempotent completion and the non-blocking await.

use procreg::{ErrorKind, ProcessAwaitOutput, ProcessStatus};
use serde_json::json;

use super::model_with;

#[test]
fn c1_complete_appends_terminal_core_event() {
    let mut model = model_with(&["p1"]);
    let out = ProcessAwaitOutput::Failure {
        code: "c".into(),
        message: "m".into(),
    };
    let record = model.complete_process("p1", out.clone(), 8).unwrap();
    assert_eq!(record.status, ProcessStatus::terminal(out.clone()));
    assert_eq!(record.updated_at_ms, 8);
    let events = model.events("p1");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "process.failed");
    assert_eq!(events[0].replay_key.as_deref(), Some("process:p1:terminal"));
    assert_eq!(events[0].payload, json!({ "await_output": out }));
}

#[test]
fn c2_equal_retry_returns_record_unchanged() {
    let mut model = model_with(&["p1"]);
    let out = ProcessAwaitOutput::Success {
        value: json!({"a": 1}),
    };
    let first = model.complete_process("p1", out.clone(), 1).unwrap();
    let revision = model.revision();
    let again = model.complete_process("p1", out, 2).unwrap();
    assert_eq!(again, first);
    assert_eq!(model.revision(), revision);
    assert_eq!(model.events("p1").len(), 1);
}

#[test]
fn c3_different_output_is_already_terminal() {
    let mut model = model_with(&["p1"]);
    model
        .complete_process("p1", ProcessAwaitOutput::Success { value: json!(1) }, 1)
        .unwrap();
    let err = model
        .complete_process("p1", ProcessAwaitOutput::Success { value: json!(1.0) }, 2)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyTerminal);
    let err = model
        .complete_process("q", ProcessAwaitOutput::Success { value: json!(1) }, 2)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownProcess);
}

#[test]
fn c4_await_pends_until_terminal() {
    let mut model = model_with(&["p1"]);
    assert_eq!(model.await_process("p1").unwrap(), None);
    let out = ProcessAwaitOutput::Cancelled {
        message: "bye".into(),
    };
    model.complete_process("p1", out.clone(), 1).unwrap();
    assert_eq!(model.await_process("p1").unwrap(), Some(out));
    assert_eq!(
        model.await_process("q").unwrap_err().kind(),
        ErrorKind::UnknownProcess
    );
}

#[test]
fn c5_completion_ignores_leases() {
    let mut model = model_with(&["p1"]);
    let lease = model.claim_process_lease("p1", "worker", 1_000, 0).unwrap();
    let out = ProcessAwaitOutput::Success { value: json!(null) };
    model.complete_process("p1", out, 1).unwrap();
    // L8: the terminal event leaves the lease untouched.
    assert_eq!(model.current_lease("p1"), Some(&lease));
}
