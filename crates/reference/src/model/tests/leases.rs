//! L1-L8: claims, renewals, releases and fencing.

use procreg::{ErrorKind, MAX_TIMESTAMP_MS, PluginError, ProcessAwaitOutput};
use serde_json::json;

use super::model_with;

#[test]
fn l2_first_fencing_token_is_one() {
    let mut model = model_with(&["p1"]);
    let lease = model.claim_process_lease("p1", "w", 100, 10).unwrap();
    assert_eq!(lease.fencing_token, 1);
    assert_eq!((lease.claimed_at_ms, lease.expires_at_ms), (10, 110));
    assert_eq!(model.highest_fencing_token("p1"), 1);
}

#[test]
fn l1_live_lease_of_other_owner_is_held() {
    let mut model = model_with(&["p1"]);
    model.claim_process_lease("p1", "a", 100, 0).unwrap();
    let err = model.claim_process_lease("p1", "b", 100, 99).unwrap_err();
    assert_eq!(
        err,
        PluginError::LeaseHeld {
            process_id: "p1".into(),
            holder_owner_id: "a".into(),
            expires_at_ms: 100,
        }
    );
    // V1: expires_at == now is expired.
    assert_eq!(
        model
            .claim_process_lease("p1", "b", 100, 100)
            .unwrap()
            .fencing_token,
        2
    );
}

#[test]
fn l1_checks_run_in_order() {
    let mut model = model_with(&["p1"]);
    let err = model.claim_process_lease("nope", " ", 1, 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownProcess);
    model.claim_process_lease("p1", "a", 100, 0).unwrap();
    model
        .complete_process("p1", ProcessAwaitOutput::Success { value: json!(1) }, 0)
        .unwrap();
    let err = model.claim_process_lease("p1", "\t", 1, 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    let err = model.claim_process_lease("p1", "b", 1, 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyTerminal);
}

#[test]
fn l3_superseded_lease_cannot_renew_or_release() {
    let mut model = model_with(&["p1"]);
    let old = model.claim_process_lease("p1", "a", 100, 0).unwrap();
    let new = model.claim_process_lease("p1", "a", 100, 1).unwrap();
    assert!(new.fencing_token > old.fencing_token);
    assert_ne!(new.lease_token, old.lease_token);
    let err = model.renew_process_lease(&old, 100, 2).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LeaseLost);
    model.complete_process_lease(&old.completion());
    assert_eq!(model.current_lease("p1"), Some(&new));
}

#[test]
fn l4_renew_extends_and_ignores_presented_timestamps() {
    let mut model = model_with(&["p1"]);
    let lease = model.claim_process_lease("p1", "a", 100, 0).unwrap();
    let mut presented = lease.clone();
    presented.expires_at_ms = 1;
    presented.claimed_at_ms = 77;
    let renewed = model.renew_process_lease(&presented, 500, 50).unwrap();
    assert_eq!(renewed.expires_at_ms, 550);
    assert_eq!(renewed.claimed_at_ms, 0);
    assert_eq!(renewed.fencing_token, lease.fencing_token);
}

#[test]
fn l4_renew_of_expired_or_forged_lease_is_lost() {
    let mut model = model_with(&["p1"]);
    let lease = model.claim_process_lease("p1", "a", 100, 0).unwrap();
    let mut forged = lease.clone();
    forged.owner_id = "b".into();
    assert_eq!(
        model.renew_process_lease(&forged, 1, 1).unwrap_err().kind(),
        ErrorKind::LeaseLost
    );
    assert_eq!(
        model
            .renew_process_lease(&lease, 1, 100)
            .unwrap_err()
            .kind(),
        ErrorKind::LeaseLost
    );
    let mut unknown = lease;
    unknown.process_id = "q".into();
    let err = model.renew_process_lease(&unknown, 1, 1).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownProcess);
}

#[test]
fn l4_renew_with_ttl_zero_leaves_lease_expired() {
    let mut model = model_with(&["p1"]);
    let lease = model.claim_process_lease("p1", "a", 100, 0).unwrap();
    let renewed = model.renew_process_lease(&lease, 0, 10).unwrap();
    assert!(!renewed.is_live_at(10));
    assert_eq!(
        model
            .claim_process_lease("p1", "b", 1, 10)
            .unwrap()
            .fencing_token,
        2
    );
}

#[test]
fn l5_release_keeps_fencing_counter_and_is_idempotent() {
    let mut model = model_with(&["p1"]);
    let lease = model.claim_process_lease("p1", "a", 100, 0).unwrap();
    model.complete_process_lease(&lease.completion());
    assert_eq!(model.current_lease("p1"), None);
    let revision = model.revision();
    model.complete_process_lease(&lease.completion());
    let mut unknown = lease.completion();
    unknown.process_id = "nope".into();
    model.complete_process_lease(&unknown);
    assert_eq!(model.revision(), revision);
    // L6: fencing continues after release.
    assert_eq!(
        model
            .claim_process_lease("p1", "b", 1, 0)
            .unwrap()
            .fencing_token,
        2
    );
    assert_eq!(
        model.renew_process_lease(&lease, 1, 0).unwrap_err().kind(),
        ErrorKind::LeaseLost
    );
}

#[test]
fn l5_expired_lease_can_still_be_released() {
    let mut model = model_with(&["p1"]);
    let lease = model.claim_process_lease("p1", "a", 0, 0).unwrap();
    model.complete_process_lease(&lease.completion());
    assert_eq!(model.current_lease("p1"), None);
}

#[test]
fn l6_lease_tokens_never_repeat_for_a_process() {
    let mut model = model_with(&["p1"]);
    let mut tokens = std::collections::BTreeSet::new();
    for now in 0..20 {
        let lease = model.claim_process_lease("p1", "a", 1, now).unwrap();
        assert_eq!(lease.fencing_token, now + 1);
        assert!(tokens.insert(lease.lease_token.clone()));
        if now % 3 == 0 {
            model.complete_process_lease(&lease.completion());
        }
    }
}

#[test]
fn l8_renew_and_release_ignore_status() {
    let mut model = model_with(&["p1"]);
    let lease = model.claim_process_lease("p1", "a", 100, 0).unwrap();
    model
        .complete_process("p1", ProcessAwaitOutput::Success { value: json!(1) }, 1)
        .unwrap();
    assert!(model.renew_process_lease(&lease, 100, 2).is_ok());
    model.complete_process_lease(&lease.completion());
    assert_eq!(model.current_lease("p1"), None);
}

#[test]
fn v3_expiry_saturates_below_two_to_the_63() {
    let mut model = model_with(&["p1"]);
    let lease = model.claim_process_lease("p1", "a", u64::MAX, 5).unwrap();
    assert_eq!(lease.expires_at_ms, MAX_TIMESTAMP_MS);
    let renewed = model.renew_process_lease(&lease, u64::MAX, 6).unwrap();
    assert_eq!(renewed.expires_at_ms, MAX_TIMESTAMP_MS);
}
