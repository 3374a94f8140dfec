//! Indefinite calls (A2): lost requests and lost responses may or may not have taken effect,
//! possibly after their caller gave up.

use procreg::{PluginError, ProcessLease};
use procreg_reference::OpOutput;
use serde_json::json;

use super::super::entry::is_checked;
use super::*;

#[test]
fn a2_unavailable_claim_that_took_effect_is_linearizable() {
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    b.lost("a", claim("p1", "a", 100), 10, Some(11), Some(20));
    // The retry with the same owner supersedes the lost lease and gets fencing 2.
    let retry = b.at("a", claim("p1", "a", 100), 30);
    assert_eq!(b.lease(retry).fencing_token, 2);
    let verdict = b.check();
    assert!(verdict.is_linearizable(), "{verdict}");
}

#[test]
fn a2_fencing_gap_without_any_lost_claim_is_not_linearizable() {
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    b.lost("a", claim("p1", "a", 100), 10, Some(11), Some(20));
    b.at("a", claim("p1", "a", 100), 30);
    // Without the lost call nothing explains fencing 2.
    b.calls.remove(1);
    b.calls[1].id = 1;
    b.calls[0].id = 0;
    let verdict = b.check();
    assert!(violation(&verdict).stuck.contains(&1), "{verdict}");
}

#[test]
fn a2_unavailable_claim_that_never_took_effect_is_linearizable() {
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    b.lost("a", claim("p1", "a", 100), 10, None, Some(20));
    let other = b.at("b", claim("p1", "b", 100), 30);
    assert_eq!(b.lease(other).fencing_token, 1);
    assert!(b.check().is_linearizable());
}

#[test]
fn a2_claim_that_never_returned_may_take_effect_late() {
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    // Sent at 10, delayed in the link, executed at 500: live until 600.
    b.lost("a", claim("p1", "a", 100), 10, Some(500), None);
    let held = b.at("b", claim("p1", "b", 100), 550);
    assert!(matches!(
        b.calls[held].outcome(),
        Some(Err(PluginError::LeaseHeld { .. }))
    ));
    let won = b.at("b", claim("p1", "b", 100), 650);
    assert_eq!(b.lease(won).fencing_token, 2);
    let verdict = b.check();
    assert!(verdict.is_linearizable(), "{verdict}");
}

#[test]
fn a2_lost_renew_that_kept_the_lease_live_for_a_later_renew_is_linearizable() {
    // Claimed at 373 (live until 473); a renew sent at 454 ran at 460 but its caller gave up
    // at 540; the next renew at 555 succeeds only because the lost one ran after 455.
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    let claimed = b.at("a", claim("p1", "a", 100), 373);
    let lease = b.lease(claimed).clone();
    b.lost("a", renew(&lease, 100), 454, Some(460), Some(540));
    let renewed = b.at("a", renew(&lease, 100), 555);
    assert_eq!(b.lease(renewed).expires_at_ms, 655);
    let verdict = b.check();
    assert!(verdict.is_linearizable(), "{verdict}");
}

#[test]
fn a2_lost_claim_run_just_after_the_holders_expiry_is_linearizable() {
    // The holder's lease runs out at 375; a claim sent at 365 (its caller then died) ran at
    // 376 and took fencing 2, so the next claim gets fencing 3.
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    b.at("a", claim("p1", "a", 100), 275);
    b.lost("b", claim("p1", "b", 100), 365, Some(376), None);
    let next = b.at("c", claim("p1", "c", 100), 650);
    assert_eq!(b.lease(next).fencing_token, 3);
    let verdict = b.check();
    assert!(verdict.is_linearizable(), "{verdict}");
}

#[test]
fn a2_append_that_took_effect_after_its_caller_gave_up_is_linearizable() {
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    b.lost("a", append("p1", json!({"n": 1})), 10, Some(50), Some(20));
    let read = b.at("r", events_after("p1", 0), 100);
    match b.answer(read) {
        OpOutput::Events(events) => assert_eq!(events[0].occurred_at_ms, 50),
        other => panic!("{other:?}"),
    }
    assert!(b.check().is_linearizable());
}

#[test]
fn a2_read_of_an_event_nobody_appended_is_not_linearizable() {
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    b.lost("a", append("p1", json!({"n": 1})), 10, Some(50), Some(20));
    let read = b.at("r", events_after("p1", 0), 100);
    let Some(Ok(OpOutput::Events(mut events))) = b.calls[read].outcome().cloned() else {
        panic!("no events");
    };
    events[0].payload = json!({"n": 2}); // not what the lost append carried
    b.tell(read, Ok(OpOutput::Events(events)));
    assert!(b.check().is_violation());
}

#[test]
fn a2_indefinite_reads_are_not_searched() {
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    b.record(
        "r",
        get("p1"),
        5,
        Some(9),
        Some(Err(PluginError::unavailable("lost"))),
    );
    let verdict = b.check();
    assert!(verdict.is_linearizable());
    assert_eq!(verdict.partitions().parts[0].calls, 1);
}

#[test]
fn a2_lost_claim_that_failed_at_its_invocation_may_succeed_later_in_its_window() {
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    b.at("a", claim("p1", "a", 90), 10); // live until 100
    // b's claim would meet a's lease at its invocation (95) but took effect at 105.
    b.lost("b", claim("p1", "b", 100), 95, Some(105), Some(110));
    let held = b.at("c", claim("p1", "c", 100), 150);
    assert!(matches!(
        b.calls[held].outcome(),
        Some(Err(PluginError::LeaseHeld { holder_owner_id, .. })) if holder_owner_id == "b"
    ));
    let verdict = b.check();
    assert!(verdict.is_linearizable(), "{verdict}");
}

#[test]
fn z_lin_3_a_lost_write_seen_before_its_timestamp_is_not_linearizable() {
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    b.lost("a", append("p1", json!({"n": 1})), 10, Some(500), None);
    let read = b.at("r", events_after("p1", 0), 600);
    // The read returned at 21 having seen an event stamped 500 by the one shared clock.
    b.calls[read].invoke_ms = 20;
    b.calls[read].return_ms = Some(21);
    let verdict = b.check();
    assert!(violation(&verdict).stuck.contains(&read), "{verdict}");
}

/// The entries of `b`'s calls with lost appends revealed, by call id.
fn revealed(b: &Builder, initial: &procreg_reference::Model) -> Vec<(CallId, bool, u64)> {
    let checked = b.calls.iter().filter(|c| is_checked(c));
    let mut entries = super::super::entry::entries(checked, &["p1".to_owned()]);
    super::super::reveal::mark_revealed(&mut entries, initial);
    let mut seen: Vec<_> = entries
        .iter()
        .map(|e| (e.call.id, e.required, e.deadline_ms))
        .collect();
    seen.sort();
    seen
}

#[test]
fn a2_a_lost_append_a_read_shows_is_required_before_that_read() {
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    let lost = b.lost("a", append("p1", json!({"n": 1})), 10, Some(12), None);
    b.lost("a", append("p1", json!({"n": 2})), 11, None, None);
    b.run("r", events_after("p1", 0), 20, 22, 25);
    let marks = revealed(&b, &procreg_reference::Model::new());
    assert_eq!(marks[lost], (lost, true, 25));
    assert_eq!(
        marks[lost + 1],
        (lost + 1, false, u64::MAX),
        "its event was never seen"
    );
    assert!(b.check().is_linearizable());
}

#[test]
fn a2_a_lost_append_stays_optional_when_another_could_have_made_the_event() {
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    let first = b.lost("a", append("p1", json!({"n": 1})), 10, Some(12), None);
    let retry = b.lost("a", append("p1", json!({"n": 1})), 13, None, Some(15));
    b.run("r", events_after("p1", 0), 20, 22, 25);
    let marks = revealed(&b, &procreg_reference::Model::new());
    assert!(!marks[first].1 && !marks[retry].1, "{marks:?}");
    // Nor when the event was there before the epoch began.
    let mut initial = procreg_reference::Model::new();
    initial.apply(&register("p1"), 1).unwrap();
    initial.apply(&append("p1", json!({"n": 9})), 2).unwrap();
    let mut b = Builder::new();
    b.model = initial.clone();
    let lost = b.lost("a", append("p1", json!({"n": 9})), 10, None, None);
    b.run("r", events_after("p1", 0), 20, 22, 25);
    assert!(!revealed(&b, &initial)[lost].1);
}

/// The shape of explorer seed 3900 (recovery, memory, heavy): a lost claim whose request met
/// a live lease at its invocation took effect the instant that lease expired, a retry of it
/// never ran, and the next claim's fencing token counts only the first.
fn superseded_at_expiry(first_lost_invoke: u64) -> Builder {
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    b.run("a", claim("p1", "a", 100), 240, 241, 242); // live until 341
    let took_effect = first_lost_invoke.max(341);
    b.lost(
        "b",
        claim("p1", "b", 100),
        first_lost_invoke,
        Some(took_effect),
        Some(first_lost_invoke + 51),
    );
    b.lost("b", claim("p1", "b", 100), 398, None, Some(449));
    b.run("c", claim("p1", "c", 100), 442, 443, 444);
    b.at("c", get("p1"), 444);
    b
}

#[test]
fn z50_lost_claim_may_take_effect_when_the_lease_it_supersedes_expires() {
    let b = superseded_at_expiry(340);
    // The response-dropped claim ran at 341 (fencing 2, live until 441), so c got 3.
    assert_eq!(b.lease(4).fencing_token, 3);
    let verdict = b.check();
    assert!(verdict.is_linearizable(), "{verdict}");
}

#[test]
fn z50_lost_claim_invoked_too_late_cannot_explain_the_next_fencing_token() {
    let mut b = superseded_at_expiry(344);
    // Invoked at 344 it lives until 444 at least, so c's claim at 443 is held; c is told
    // fencing 3 anyway, as if the lost claim had run unseen before its invocation.
    assert!(matches!(
        b.calls[4].outcome(),
        Some(Err(PluginError::LeaseHeld { .. }))
    ));
    let lease = ProcessLease {
        process_id: "p1".to_owned(),
        owner_id: "c".to_owned(),
        lease_token: "lease-3".to_owned(),
        fencing_token: 3,
        claimed_at_ms: 443,
        expires_at_ms: 543,
    };
    b.tell(4, Ok(OpOutput::Lease(lease)));
    let verdict = b.check();
    assert!(violation(&verdict).stuck.contains(&4), "{verdict}");
}

/// The shape of explorer seed 3646 (events, heavy): a lost completion took effect in the
/// millisecond an append of another event type did, and only the record's `updated_at_ms`
/// (echoed by a later, idempotent completion) shows when.
fn completed_in_an_appends_millisecond(told_updated: u64) -> Builder {
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    b.run("w0", append("p1", json!({"note": 0})), 142, 143, 144);
    b.lost("w1", complete("p1", json!("ok")), 142, Some(143), Some(193));
    let again = b.run("w0", complete("p1", json!("ok")), 146, 147, 148);
    let Some(Ok(OpOutput::Record(mut record))) = b.calls[again].outcome().cloned() else {
        panic!("no record");
    };
    assert_eq!(
        record.updated_at_ms, 143,
        "the first completion's record (C2)"
    );
    record.updated_at_ms = told_updated;
    b.tell(again, Ok(OpOutput::Record(record)));
    b
}

#[test]
fn z51_lost_completion_may_share_its_millisecond_with_a_seen_event() {
    let verdict = completed_in_an_appends_millisecond(143).check();
    assert!(verdict.is_linearizable(), "{verdict}");
}

#[test]
fn z51_completion_time_no_call_could_write_is_not_linearizable() {
    // 141: before the lost completion was invoked, and no other call completes.
    let b = completed_in_an_appends_millisecond(141);
    let verdict = b.check();
    assert!(violation(&verdict).stuck.contains(&3), "{verdict}");
}
