//! Reads and waits: stale reads, reads from the future, blocking waits (E14, C4), J1
//! equality and answers the Model does not give (Storage).

use procreg::{PluginError, ProcessExternalRef};
use procreg_reference::{Op, OpOutput};
use serde_json::json;

use super::*;

impl Builder {
    /// Moves call `id` to the window `[invoke, ret]`, keeping its answer.
    fn move_window(&mut self, id: CallId, invoke: u64, ret: u64) {
        self.calls[id].invoke_ms = invoke;
        self.calls[id].return_ms = Some(ret);
    }
}

fn set_ref(pid: &str) -> Op {
    Op::SetExternalRef {
        process_id: pid.to_owned(),
        external_ref: ProcessExternalRef {
            backend: "k8s".into(),
            id: "job-1".into(),
            metadata: None,
        },
    }
}

#[test]
fn a1_read_seeing_a_write_invoked_after_it_returned_is_not_linearizable() {
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    b.run("w", set_ref("p1"), 20, 20, 21);
    let read = b.at("r", get("p1"), 22);
    b.move_window(read, 10, 12); // it returned before the write was sent
    let verdict = b.check();
    assert!(violation(&verdict).stuck.contains(&read), "{verdict}");
}

#[test]
fn a1_stale_read_is_not_linearizable() {
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    let read = b.at("r", events_after("p1", 0), 5); // empty
    b.run("w", append("p1", json!({"n": 1})), 10, 11, 12);
    b.move_window(read, 20, 22); // but sent after the append returned
    let verdict = b.check();
    assert!(violation(&verdict).stuck.contains(&read), "{verdict}");
}

#[test]
fn a1_read_concurrent_with_a_write_may_miss_it() {
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    b.run("r", events_after("p1", 0), 11, 11, 13);
    b.run("w", append("p1", json!({"n": 1})), 10, 12, 12);
    assert!(b.check().is_linearizable());
}

#[test]
fn e14_wait_answered_by_an_append_made_while_it_blocked_is_linearizable() {
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    b.run("w", append("p1", json!({"n": 1})), 20, 22, 25);
    let wait = b.at("r", wait_step("p1", 0), 26);
    assert!(matches!(b.answer(wait), OpOutput::Event(_)));
    b.move_window(wait, 5, 30);
    assert!(b.check().is_linearizable());
}

#[test]
fn e14_wait_returning_before_the_append_was_sent_is_not_linearizable() {
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    b.run("w", append("p1", json!({"n": 1})), 20, 22, 25);
    let wait = b.at("r", wait_step("p1", 0), 26);
    b.move_window(wait, 5, 15);
    let verdict = b.check();
    assert!(
        violation(&verdict).explanation.contains("pending"),
        "{verdict}"
    );
}

#[test]
fn e14_wait_that_never_returned_imposes_nothing() {
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    b.record("r", wait_step("p1", 0), 5, None, None);
    let verdict = b.check();
    assert!(verdict.is_linearizable());
    assert_eq!(
        verdict.partitions().parts[0].calls,
        1,
        "the wait is not searched"
    );
}

#[test]
fn c4_await_answered_by_a_completion_made_while_it_blocked_is_linearizable() {
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    let done = b.run("w", complete("p1", json!("ok")), 20, 21, 22);
    assert!(matches!(b.answer(done), OpOutput::Record(_)));
    let waited = b.at(
        "r",
        Op::AwaitProcess {
            process_id: "p1".into(),
        },
        23,
    );
    b.move_window(waited, 5, 30);
    assert!(b.check().is_linearizable());
    b.move_window(waited, 5, 19);
    assert!(b.check().is_violation());
}

#[test]
fn j1_negative_zero_read_back_as_zero_is_not_linearizable() {
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    b.at("w", append("p1", json!({"x": -0.0})), 10);
    let read = b.at("r", events_after("p1", 0), 20);
    let Some(Ok(OpOutput::Events(mut events))) = b.calls[read].outcome().cloned() else {
        panic!("no events");
    };
    assert!(b.check().is_linearizable());
    events[0].payload = json!({"x": 0.0});
    assert_eq!(
        events[0].payload,
        json!({"x": -0.0}),
        "serde_json calls them equal"
    );
    b.tell(read, Ok(OpOutput::Events(events)));
    assert!(b.check().is_violation());
}

#[test]
fn z_lin_2_storage_answers_are_left_out() {
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    b.record(
        "a",
        claim("p1", "a", 100),
        10,
        Some(11),
        Some(Err(PluginError::storage("fsync"))),
    );
    b.at("b", claim("p1", "b", 100), 20);
    let verdict = b.check();
    assert!(verdict.is_linearizable());
    assert_eq!(verdict.partitions().parts[0].calls, 2);
}
