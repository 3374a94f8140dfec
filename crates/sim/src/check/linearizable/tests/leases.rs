//! Leases: concurrent claims, expiry decided inside a window (V1, T1), superseded renews
//! (L3) and backend-chosen tokens (Z31).

use procreg::{PluginError, ProcessLease};
use procreg_reference::{Op, OpOutput};
use serde_json::json;

use super::super::PartitionStrategy;
use super::*;

/// A process `p1` registered at time 1, and `owner`'s lease on it claimed at 10 with `ttl`.
fn leased(owner: &str, ttl: u64) -> (Builder, ProcessLease) {
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    let id = b.at(owner, claim("p1", owner, ttl), 10);
    let lease = b.lease(id);
    (b, lease)
}

#[test]
fn a1_sequential_lease_lifecycle_is_linearizable() {
    let (mut b, lease) = leased("a", 100);
    b.at("a", append("p1", json!({"n": 1})), 20);
    let renewed = b.at("a", renew(&lease, 100), 30);
    b.at("a", events_after("p1", 0), 40);
    b.at("a", release(&b.lease(renewed)), 50);
    let next = b.at("b", claim("p1", "b", 100), 60);
    assert_eq!(b.lease(next).fencing_token, 2);
    let verdict = b.check();
    assert!(verdict.is_linearizable(), "{verdict}");
    assert_eq!(verdict.partitions().strategy, PartitionStrategy::PerProcess);
    assert_eq!(verdict.partitions().parts.len(), 1);
}

#[test]
fn l1_two_overlapping_claims_that_both_won_are_not_linearizable() {
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    b.run("a", claim("p1", "a", 1000), 10, 11, 20);
    let loser = b.run("b", claim("p1", "b", 1000), 12, 13, 22);
    assert!(matches!(
        b.calls[loser].outcome(),
        Some(Err(PluginError::LeaseHeld { .. }))
    ));
    let won = ProcessLease {
        process_id: "p1".into(),
        owner_id: "b".into(),
        lease_token: "lease-2".into(),
        fencing_token: 2,
        claimed_at_ms: 13,
        expires_at_ms: 1013,
    };
    b.tell(loser, Ok(OpOutput::Lease(won)));
    let verdict = b.check();
    let failure = violation(&verdict);
    assert_eq!(failure.processes, vec!["p1".to_owned()]);
    assert!(failure.stuck.contains(&loser), "{}", failure.explanation);
    assert!(
        failure.explanation.contains("lease_held"),
        "{}",
        failure.explanation
    );
}

#[test]
fn t1_claim_in_a_window_spanning_expiry_may_find_the_lease_live() {
    let (mut b, _) = leased("a", 100); // expires at 110
    let held = b.run("b", claim("p1", "b", 100), 105, 108, 115);
    assert!(matches!(b.calls[held].outcome(), Some(Err(_))));
    assert!(b.check().is_linearizable());
}

#[test]
fn t1_claim_in_a_window_spanning_expiry_may_find_it_expired() {
    let (mut b, _) = leased("a", 100);
    let won = b.run("b", claim("p1", "b", 100), 105, 112, 115);
    assert_eq!(b.lease(won).claimed_at_ms, 112);
    assert!(b.check().is_linearizable());
}

#[test]
fn v1_lease_held_told_at_or_after_expiry_is_not_linearizable() {
    let (mut b, _) = leased("a", 100);
    // The whole window lies at or after expiry (110 == expires_at is expired, V1).
    let late = b.run("b", claim("p1", "b", 100), 110, 110, 115);
    b.tell(
        late,
        Err(PluginError::LeaseHeld {
            process_id: "p1".into(),
            holder_owner_id: "a".into(),
            expires_at_ms: 110,
        }),
    );
    let verdict = b.check();
    assert!(violation(&verdict).stuck.contains(&late));
}

#[test]
fn t1_renew_told_lease_lost_is_judged_at_the_end_of_its_window() {
    let (mut b, lease) = leased("a", 100);
    let lost = b.run("a", renew(&lease, 100), 105, 112, 115);
    assert!(matches!(
        b.calls[lost].outcome(),
        Some(Err(PluginError::LeaseLost { .. }))
    ));
    assert!(b.check().is_linearizable());

    let (mut b, lease) = leased("a", 100);
    let early = b.run("a", renew(&lease, 100), 100, 105, 109);
    b.tell(
        early,
        Err(PluginError::LeaseLost {
            process_id: "p1".into(),
        }),
    );
    assert!(b.check().is_violation());
}

#[test]
fn l3_renew_invoked_before_a_superseding_claim_may_linearize_after_it() {
    let (mut b, lease) = leased("a", 1000);
    // a re-claims (same owner, L3 supersedes) while its renew of lease 1 is in flight.
    let renew_id = b.record("a", renew(&lease, 1000), 100, Some(130), None);
    let reclaim = b.run("a", claim("p1", "a", 1000), 105, 106, 110);
    assert_eq!(b.lease(reclaim).fencing_token, 2);
    let answer = b.model.apply(&renew(&lease, 1000), 120);
    assert!(matches!(answer, Err(PluginError::LeaseLost { .. })));
    b.tell(renew_id, answer);
    assert!(b.check().is_linearizable());
}

#[test]
fn l3_renew_succeeding_after_a_superseding_claim_returned_is_not_linearizable() {
    let (mut b, lease) = leased("a", 1000);
    b.run("a", claim("p1", "a", 1000), 105, 106, 110);
    let stale = b.run("a", renew(&lease, 1000), 111, 115, 130);
    let mut extended = lease.clone();
    extended.expires_at_ms = 1115;
    b.tell(stale, Ok(OpOutput::Lease(extended)));
    let verdict = b.check();
    assert!(violation(&verdict).stuck.contains(&stale), "{verdict}");
}

#[test]
fn t1_now_need_not_increase_along_the_order() {
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    // Sequence 1 took effect at 105, sequence 2 at 96: overlapping windows allow it.
    let first = b.run("a", append("p1", json!(1)), 90, 105, 110);
    let second = b.run("b", append("p1", json!(2)), 95, 96, 110);
    match (b.answer(first), b.answer(second)) {
        (OpOutput::Append(one), OpOutput::Append(two)) => {
            assert_eq!((one.event.sequence, two.event.sequence), (1, 2));
            assert!(two.event.occurred_at_ms < one.event.occurred_at_ms);
        }
        other => panic!("{other:?}"),
    }
    assert!(b.check().is_linearizable());
}

#[test]
fn a2_definite_errors_match_by_kind_only() {
    let (mut b, _) = leased("a", 1000);
    let held = b.run("b", claim("p1", "b", 1000), 20, 20, 20);
    // Wrong holder and expiry in the error: kinds still match (errors compare by kind).
    b.tell(
        held,
        Err(PluginError::LeaseHeld {
            process_id: "p1".into(),
            holder_owner_id: "someone-else".into(),
            expires_at_ms: 7,
        }),
    );
    assert!(b.check().is_linearizable());
    b.tell(held, Err(PluginError::invalid_request("owner")));
    assert!(b.check().is_violation());
}

/// Rewrites every lease token `from` in ops and answers to `to`.
fn rename_token(calls: &mut [CallRecord], from: &str, to: &str) {
    let swap = |token: &mut String| {
        if token == from {
            *token = to.to_owned();
        }
    };
    for call in calls {
        match std::sync::Arc::make_mut(&mut call.op) {
            Op::RenewLease { lease, .. } => swap(&mut lease.lease_token),
            Op::CompleteLease { completion } => swap(&mut completion.lease_token),
            _ => {}
        }
        if let Some(Ok(OpOutput::Lease(lease))) =
            call.outcome.as_mut().map(std::sync::Arc::make_mut)
        {
            swap(&mut lease.lease_token);
        }
    }
}

#[test]
fn z_lin_1_backend_lease_tokens_match_up_to_renaming() {
    let (mut b, lease) = leased("a", 100);
    let renewed = b.at("a", renew(&lease, 100), 20);
    b.at("a", release(&b.lease(renewed)), 30);
    b.at("b", claim("p1", "b", 100), 40);
    rename_token(&mut b.calls, "lease-1", "9f1c-uuid");
    rename_token(&mut b.calls, "lease-2", "0b77-uuid");
    assert!(b.check().is_linearizable());
}

#[test]
fn l6_one_token_for_two_leases_is_not_linearizable() {
    let (mut b, _) = leased("a", 100);
    b.at("b", claim("p1", "b", 100), 200);
    rename_token(&mut b.calls, "lease-1", "same");
    rename_token(&mut b.calls, "lease-2", "same");
    let verdict = b.check();
    assert!(violation(&verdict).explanation.contains("L6"), "{verdict}");
}

#[test]
fn z_lin_1_a_renew_presenting_a_stale_token_must_fail() {
    let (mut b, lease) = leased("a", 100);
    b.at("a", release(&lease), 20);
    b.at("b", claim("p1", "b", 100), 30);
    // a presents its released lease: the Model sees lease 1's token against lease 2.
    let stale = b.at("a", renew(&lease, 100), 40);
    assert!(matches!(
        b.calls[stale].outcome(),
        Some(Err(PluginError::LeaseLost { .. }))
    ));
    rename_token(&mut b.calls, "lease-1", "tok-a");
    rename_token(&mut b.calls, "lease-2", "tok-b");
    assert!(b.check().is_linearizable());
    let mut stolen = b.lease(1);
    stolen.expires_at_ms = 140;
    b.tell(stale, Ok(OpOutput::Lease(stolen)));
    assert!(b.check().is_violation());
}
