//! Behaviour every bundled registry shares, each body written once and run over every
//! substrate: `MemoryRegistry`, and `FileRegistry` on a temp dir (test paths
//! `memory::<claim>` and `file::<claim>`). The conformance laws check the whole contract; these
//! are the reference crate's own smoke checks across substrates.

use std::sync::Arc;

use procreg::{
    DurabilityTier, ErrorKind, ManualClock, ProcessAwaitOutput, ProcessEventAppendRequest,
    ProcessEventType, ProcessHandleDescriptor, ProcessRegistration, ProcessRegistry, ProcessScope,
};
use procreg_reference::MemoryRegistry;
use procreg_reference::file::FileRegistry;
use serde_json::json;

/// A registry under test, its clock, and whatever keeps its substrate alive.
struct Fixture {
    registry: Box<dyn ProcessRegistry>,
    clock: ManualClock,
    tier: DurabilityTier,
    _dir: Option<tempfile::TempDir>,
}

fn memory() -> Fixture {
    let clock = ManualClock::new(1_000);
    Fixture {
        registry: Box::new(MemoryRegistry::new(Arc::new(clock.clone()))),
        clock,
        tier: DurabilityTier::Inline,
        _dir: None,
    }
}

fn file() -> Fixture {
    let clock = ManualClock::new(1_000);
    let dir = tempfile::tempdir().unwrap();
    let registry = FileRegistry::open_dir(dir.path(), Arc::new(clock.clone())).unwrap();
    Fixture {
        registry: Box::new(registry),
        clock,
        tier: DurabilityTier::Durable,
        _dir: Some(dir),
    }
}

/// One `#[tokio::test]` per (substrate, claim).
macro_rules! over_every_substrate {
    ($($claim:ident),* $(,)?) => {
        mod memory {
            $( #[tokio::test] async fn $claim() { super::$claim(super::memory()).await } )*
        }
        mod file {
            $( #[tokio::test] async fn $claim() { super::$claim(super::file()).await } )*
        }
    };
}

over_every_substrate!(
    d1_tier_is_reported_truthfully,
    r4_r5_registration_is_idempotent_and_conflicts_on_change,
    e2_e8_keyed_append_replays_and_sequences_stay_dense,
    c1_c3_completion_is_idempotent_and_final,
    l2_l3_claims_supersede_with_increasing_fences,
    e14_wait_returns_an_event_appended_after_it_began,
    h7_s1_grants_transfer_whole_and_vanish_with_their_session,
);

fn registration(id: &str) -> ProcessRegistration {
    ProcessRegistration::new(id, ProcessScope::session("s"), "host")
        .with_event_type(ProcessEventType::plain("note"))
}

fn note(n: u64) -> ProcessEventAppendRequest {
    ProcessEventAppendRequest::new("note", json!({ "n": n }))
}

async fn d1_tier_is_reported_truthfully(f: Fixture) {
    assert_eq!(f.registry.durability_tier(), f.tier);
}

async fn r4_r5_registration_is_idempotent_and_conflicts_on_change(f: Fixture) {
    let r = &f.registry;
    let first = r.register_process(registration("p")).await.unwrap();
    f.clock.advance(5);
    assert_eq!(r.register_process(registration("p")).await.unwrap(), first);
    let changed = registration("p").with_input(json!(1));
    let error = r.register_process(changed).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::RegistrationConflict);
    assert_eq!(r.get_process("p").await.unwrap(), Some(first));
}

async fn e2_e8_keyed_append_replays_and_sequences_stay_dense(f: Fixture) {
    let r = &f.registry;
    r.register_process(registration("p")).await.unwrap();
    let keyed = r
        .append_event("p", note(1).with_replay_key("k"))
        .await
        .unwrap();
    assert_eq!(
        r.append_event("p", note(2)).await.unwrap().event.sequence,
        2
    );
    let replay = r
        .append_event("p", note(1).with_replay_key("k"))
        .await
        .unwrap();
    assert!(replay.replayed);
    assert_eq!(replay.event, keyed.event);
    let conflict = r.append_event("p", note(3).with_replay_key("k")).await;
    assert_eq!(conflict.unwrap_err().kind(), ErrorKind::ReplayConflict);
    assert_eq!(
        r.append_event("p", note(4)).await.unwrap().event.sequence,
        3
    );
    let sequences: Vec<u64> = (r.events_after("p", 0).await.unwrap())
        .iter()
        .map(|e| e.sequence)
        .collect();
    assert_eq!(sequences, vec![1, 2, 3]);
}

async fn c1_c3_completion_is_idempotent_and_final(f: Fixture) {
    let r = &f.registry;
    r.register_process(registration("p")).await.unwrap();
    let done = ProcessAwaitOutput::Success { value: json!(7) };
    let record = r.complete_process("p", done.clone()).await.unwrap();
    assert!(record.is_terminal());
    f.clock.advance(5);
    assert_eq!(r.complete_process("p", done.clone()).await.unwrap(), record);
    let other = ProcessAwaitOutput::Cancelled {
        message: "late".into(),
    };
    let error = r.complete_process("p", other).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AlreadyTerminal);
    assert_eq!(r.await_process("p").await.unwrap(), done);
    assert_eq!(r.events_after("p", 0).await.unwrap().len(), 1);
}

async fn l2_l3_claims_supersede_with_increasing_fences(f: Fixture) {
    let r = &f.registry;
    r.register_process(registration("p")).await.unwrap();
    let a = r.claim_process_lease("p", "a", 100).await.unwrap();
    let held = r.claim_process_lease("p", "b", 100).await.unwrap_err();
    assert_eq!(held.kind(), ErrorKind::LeaseHeld);
    f.clock.advance(100); // V1: expires_at == now is expired
    let b = r.claim_process_lease("p", "b", 100).await.unwrap();
    assert!(b.fencing_token > a.fencing_token);
    assert_ne!(b.lease_token, a.lease_token);
    let lost = r.renew_process_lease(&a, 100).await.unwrap_err();
    assert_eq!(lost.kind(), ErrorKind::LeaseLost);
    r.complete_process_lease(&a.completion()).await.unwrap(); // superseded: a no-op
    let renewed = r.renew_process_lease(&b, 50).await.unwrap();
    assert_eq!(renewed.fencing_token, b.fencing_token);
}

async fn e14_wait_returns_an_event_appended_after_it_began(f: Fixture) {
    let r = &f.registry;
    r.register_process(registration("p")).await.unwrap();
    let wait = r.wait_event_after("p", "note", 0);
    let append = async {
        tokio::task::yield_now().await;
        r.append_event("p", note(1)).await.unwrap()
    };
    let (waited, appended) = tokio::join!(wait, append);
    assert_eq!(waited.unwrap(), appended.event);
}

async fn h7_s1_grants_transfer_whole_and_vanish_with_their_session(f: Fixture) {
    let r = &f.registry;
    let (from, to) = (ProcessScope::session("a"), ProcessScope::frame("b", "f"));
    for id in ["p1", "p2"] {
        r.register_process(registration(id)).await.unwrap();
        let descriptor = ProcessHandleDescriptor::labelled(id);
        r.grant_handle(&from, id, descriptor).await.unwrap();
    }
    let partly_missing = vec!["p1".to_owned(), "nope".to_owned()];
    let error = (r.transfer_handle_grants(&from, &to, &partly_missing))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::HandleNotGranted);
    assert!(
        r.has_handle_grant(&from, "p1").await.unwrap(),
        "nothing moved"
    );
    let p1 = vec!["p1".to_owned()];
    r.transfer_handle_grants(&from, &to, &p1).await.unwrap();
    assert!(r.has_handle_grant(&to, "p1").await.unwrap());
    let report = r.delete_session_process_state("b").await.unwrap();
    assert_eq!(report.revoked_handle_count, 1);
    assert_eq!(report.cancel_process_ids, vec!["p1".to_owned()]);
    assert!(r.list_handle_grants(&to).await.unwrap().is_empty());
}
