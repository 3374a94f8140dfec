//! `Model::apply` dispatch, revision accounting, invariants and JSON round trips (A1, A2).

use procreg::{
    ProcessAwaitOutput, ProcessEventAppendRequest, ProcessHandleDescriptor, ProcessScope,
};
use serde_json::json;

use super::registration;
use crate::model::Model;
use crate::op::{Op, OpOutput};

/// A workload touching every kind of op.
fn ops() -> Vec<Op> {
    let scope = ProcessScope::session("s");
    let p1 = || "p1".to_owned();
    vec![
        Op::Register {
            registration: registration("p1"),
        },
        Op::Register {
            registration: registration("p2"),
        },
        Op::AppendEvent {
            process_id: p1(),
            request: ProcessEventAppendRequest::new("process.cancel_requested", json!({}))
                .with_replay_key("c"),
        },
        Op::GrantHandle {
            scope: scope.clone(),
            process_id: p1(),
            descriptor: ProcessHandleDescriptor::default(),
        },
        Op::ClaimLease {
            process_id: p1(),
            owner_id: "w".into(),
            lease_ttl_ms: 50,
        },
        Op::WaitEventAfter {
            process_id: p1(),
            event_type: "process.completed".into(),
            after_sequence: 0,
        },
        Op::AwaitProcess { process_id: p1() },
        Op::CompleteProcess {
            process_id: p1(),
            output: ProcessAwaitOutput::Success { value: json!(1) },
        },
        Op::AwaitProcess { process_id: p1() },
        Op::TransferHandleGrants {
            from: scope.clone(),
            to: ProcessScope::session("t"),
            process_ids: vec![p1()],
        },
        Op::DeleteSession {
            session_id: "t".into(),
        },
        Op::ListNonTerminal,
        Op::Register {
            registration: registration("p1"),
        },
    ]
}

#[test]
fn a1_apply_dispatches_and_waits_pend() {
    let mut model = Model::new();
    let outputs: Vec<_> = ops().iter().map(|op| model.apply(op, 3)).collect();
    assert_eq!(outputs[5], Ok(OpOutput::Pending));
    assert_eq!(outputs[6], Ok(OpOutput::Pending));
    assert!(matches!(outputs[8], Ok(OpOutput::AwaitOutput(_))));
    match &outputs[11] {
        Ok(OpOutput::Records(records)) => assert_eq!(records[0].id, "p2"),
        other => panic!("unexpected {other:?}"),
    }
    let waited = model.apply(&ops()[5], 3).unwrap();
    assert!(matches!(waited, OpOutput::Event(event) if event.sequence == 2));
    model.check_invariants().unwrap();
}

#[test]
fn revision_moves_only_on_state_changes() {
    let mut model = Model::new();
    let mut revisions = Vec::new();
    for op in ops() {
        let before = model.revision();
        let snapshot = model.clone();
        let _ = model.apply(&op, 3);
        let changed = model.processes != snapshot.processes || model.grants != snapshot.grants;
        assert_eq!(model.revision() != before, changed, "{op:?}");
        revisions.push(model.revision());
    }
    assert!(revisions.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn replaying_ops_gives_an_equal_model() {
    let mut first = Model::new();
    let mut second = Model::new();
    for op in ops() {
        assert_eq!(first.apply(&op, 7), second.apply(&op, 7));
    }
    assert_eq!(first, second);
}

/// A Model after every op of `ops()` at `now_ms`.
fn after_ops(now_ms: u64) -> Model {
    let mut model = Model::new();
    for op in ops() {
        let _ = model.apply(&op, now_ms);
    }
    model
}

#[test]
fn model_round_trips_through_json() {
    let model = after_ops(9);
    let text = serde_json::to_string(&model).unwrap();
    let back: Model = serde_json::from_str(&text).unwrap();
    assert_eq!(back, model);
    back.check_invariants().unwrap();
}

#[test]
fn model_json_keeps_a_whole_record_per_process() {
    // FileRegistry snapshots hold this layout: a process's record is stored whole, however
    // the Model keeps it in memory.
    let model = after_ops(9);
    let json = serde_json::to_value(&model).unwrap();
    let record = &json["processes"]["p1"]["record"];
    let expected = serde_json::to_value(model.get_process("p1").unwrap()).unwrap();
    assert_eq!(record, &expected);
}

#[test]
fn check_invariants_spots_a_broken_model() {
    let mut model = Model::new();
    model.apply(&ops()[0], 0).unwrap();
    let state = std::sync::Arc::make_mut(model.processes.get_mut("p1").unwrap());
    state.pending_wakes.insert(4);
    assert!(model.check_invariants().is_err());
}
