use procreg::{ProcessEvent, ProcessLease, ProcessLeaseCompletion, ProcessTerminalState};
use procreg_reference::{Op, OpOutput};
use serde_json::json;

use super::*;

fn lease(owner: &str, fence: u64, claimed: u64, expires: u64) -> ProcessLease {
    ProcessLease {
        process_id: "p1".into(),
        owner_id: owner.into(),
        lease_token: format!("lt-{fence}"),
        fencing_token: fence,
        claimed_at_ms: claimed,
        expires_at_ms: expires,
    }
}

fn claim(h: &mut History, l: &ProcessLease, invoke: u64, ret: u64) {
    let op = Op::ClaimLease {
        process_id: "p1".into(),
        owner_id: l.owner_id.clone(),
        lease_ttl_ms: 100,
    };
    let id = h.invoke(&l.owner_id, op, invoke, 0);
    h.complete(id, Ok(OpOutput::Lease(l.clone())), ret);
}

fn renew(h: &mut History, l: &ProcessLease, invoke: u64, ret: u64) {
    let op = Op::RenewLease {
        lease: l.clone(),
        lease_ttl_ms: 100,
    };
    let id = h.invoke(&l.owner_id, op, invoke, 0);
    h.complete(id, Ok(OpOutput::Lease(l.clone())), ret);
}

fn rules(h: &History) -> Vec<String> {
    check_invariants(h).into_iter().map(|v| v.rule).collect()
}

#[test]
fn w2_claim_after_expiry_is_fine() {
    let mut h = History::new();
    claim(&mut h, &lease("a", 1, 10, 110), 9, 11);
    claim(&mut h, &lease("b", 2, 110, 210), 109, 111);
    assert!(rules(&h).is_empty(), "{:?}", check_invariants(&h));
}

#[test]
fn w2_claim_by_other_owner_while_live_is_caught() {
    let mut h = History::new();
    claim(&mut h, &lease("a", 1, 10, 110), 9, 11);
    claim(&mut h, &lease("b", 2, 50, 150), 49, 51);
    assert_eq!(rules(&h), vec!["W2"]);
}

#[test]
fn w2_claim_after_release_is_fine() {
    let mut h = History::new();
    let a = lease("a", 1, 10, 110);
    claim(&mut h, &a, 9, 11);
    let completion = ProcessLeaseCompletion {
        process_id: "p1".into(),
        lease_token: a.lease_token.clone(),
    };
    let id = h.invoke("a", Op::CompleteLease { completion }, 20, 0);
    h.complete(id, Ok(OpOutput::Unit), 21);
    claim(&mut h, &lease("b", 2, 50, 150), 49, 51);
    assert!(rules(&h).is_empty());
}

#[test]
fn w2_renew_of_a_superseded_lease_is_caught() {
    let mut h = History::new();
    claim(&mut h, &lease("a", 1, 10, 110), 9, 11);
    claim(&mut h, &lease("a", 2, 50, 150), 49, 51);
    renew(&mut h, &lease("a", 1, 10, 160), 59, 61);
    assert_eq!(rules(&h), vec!["W2"]);
}

#[test]
fn w3_fence_reuse_and_regression_are_caught() {
    let mut h = History::new();
    claim(&mut h, &lease("a", 2, 10, 20), 9, 11);
    let mut reused = lease("b", 2, 30, 40);
    reused.lease_token = "other".into();
    claim(&mut h, &reused, 29, 31);
    claim(&mut h, &lease("c", 1, 50, 60), 49, 51);
    let found = rules(&h);
    assert!(
        found.iter().filter(|r| *r == "W3").count() >= 2,
        "{found:?}"
    );
}

fn event(seq: u64, terminal: bool) -> ProcessEvent {
    ProcessEvent {
        process_id: "p1".into(),
        sequence: seq,
        event_type: if terminal {
            "process.completed".into()
        } else {
            "progress".into()
        },
        payload: json!({}),
        replay_key: None,
        terminal: terminal.then_some(ProcessTerminalState::Completed),
        wake: None,
        occurred_at_ms: 5,
    }
}

#[test]
fn w1_and_e8_reads_are_checked() {
    let mut h = History::new();
    let op = Op::EventsAfter {
        process_id: "p1".into(),
        after_sequence: 0,
    };
    let id = h.invoke("r", op.clone(), 1, 0);
    h.complete(
        id,
        Ok(OpOutput::Events(vec![event(1, false), event(2, true)])),
        2,
    );
    assert!(rules(&h).is_empty());
    let id = h.invoke("r", op, 3, 0);
    h.complete(
        id,
        Ok(OpOutput::Events(vec![event(1, false), event(3, true)])),
        4,
    );
    assert_eq!(rules(&h), vec!["W1", "E8"]);
}
