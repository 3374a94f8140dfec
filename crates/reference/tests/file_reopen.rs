//! FileRegistry reopen: every acknowledged change comes back exactly (D2, D3, D6, S5).

mod file_common;

use file_common::*;
use procreg::{DurabilityTier, ProcessRegistry, ProcessScope};

#[tokio::test]
async fn fresh_store_opens_empty() {
    let dir = tempfile::tempdir().unwrap();
    let (_, clock) = clock(1);
    let registry = open(dir.path(), &clock);
    assert_eq!(registry.durability_tier(), DurabilityTier::Durable);
    assert!(registry.list_non_terminal().await.unwrap().is_empty());
    assert_eq!(registry.engine().journal().durable_seq(), 0);
}

#[tokio::test]
async fn d2_reopen_restores_the_exact_model() {
    let dir = tempfile::tempdir().unwrap();
    let (manual, clock) = clock(1_000);
    let registry = open(dir.path(), &clock);
    populate(&registry, &manual).await;
    let before = model(&registry);
    drop(registry);
    let reopened = open(dir.path(), &clock);
    assert_eq!(model(&reopened), before);
    reopened
        .engine()
        .model_snapshot()
        .unwrap()
        .check_invariants()
        .unwrap();
}

#[tokio::test]
async fn d2_records_events_and_terminal_status_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (manual, clock) = clock(1_000);
    let registry = open(dir.path(), &clock);
    populate(&registry, &manual).await;
    let record = registry.get_process("p2").await.unwrap().unwrap();
    let events = registry.events_after("p1", 0).await.unwrap();
    drop(registry);

    let reopened = open(dir.path(), &clock);
    assert_eq!(reopened.get_process("p2").await.unwrap().unwrap(), record);
    assert!(record.is_terminal());
    assert_eq!(reopened.await_process("p2").await.unwrap(), success(42));
    assert_eq!(reopened.events_after("p1", 0).await.unwrap(), events);
    let running: Vec<_> = reopened.list_non_terminal().await.unwrap();
    let ids: Vec<_> = running.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, vec!["p1", "p3"]);
}

#[tokio::test]
async fn d6_acks_and_pending_wakes_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (manual, clock) = clock(1_000);
    let registry = open(dir.path(), &clock);
    populate(&registry, &manual).await;
    let s1 = ProcessScope::session("s1");
    registry
        .append_event("p1", ping("third", &s1))
        .await
        .unwrap();
    drop(registry);

    let reopened = open(dir.path(), &clock);
    let pending: Vec<u64> = (reopened.wake_events_after("p1", 0).await.unwrap())
        .iter()
        .map(|e| e.sequence)
        .collect();
    // 2 was acked, 3 targeted the deleted session s2 (S3), 4 is still pending.
    assert_eq!(pending, vec![4]);
}

#[tokio::test]
async fn s5_grants_external_refs_and_deleted_sessions_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (manual, clock) = clock(1_000);
    let registry = open(dir.path(), &clock);
    populate(&registry, &manual).await;
    drop(registry);

    let reopened = open(dir.path(), &clock);
    let s1 = ProcessScope::session("s1");
    let ids: Vec<_> = (reopened.list_handle_grants(&s1).await.unwrap())
        .into_iter()
        .map(|entry| entry.grant.process_id)
        .collect();
    assert_eq!(ids, vec!["p1", "p2"]);
    assert!(
        reopened
            .handle_grants_for_process("p3")
            .await
            .unwrap()
            .is_empty()
    );
    let report = reopened.delete_session_process_state("s2").await.unwrap();
    assert_eq!(
        report.revoked_handle_count, 0,
        "S5: deleted grants never come back"
    );
    assert_eq!(report.deleted_wake_count, 0);
    let record = reopened.get_process("p2").await.unwrap().unwrap();
    assert_eq!(record.external_ref.unwrap().id, "job-9");
}

#[tokio::test]
async fn d6_lease_state_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (manual, clock) = clock(1_000);
    let registry = open(dir.path(), &clock);
    populate(&registry, &manual).await;
    let held = registry
        .claim_process_lease("p1", "w1", 1_000)
        .await
        .unwrap();
    drop(registry);

    let reopened = open(dir.path(), &clock);
    let other = reopened
        .claim_process_lease("p1", "w9", 1_000)
        .await
        .unwrap_err();
    assert_eq!(other.kind(), procreg::ErrorKind::LeaseHeld);
    let renewed = reopened.renew_process_lease(&held, 2_000).await.unwrap();
    assert_eq!(renewed.fencing_token, held.fencing_token);
    assert_eq!(renewed.expires_at_ms, manual_now(&manual) + 2_000);
    reopened
        .complete_process_lease(&held.completion())
        .await
        .unwrap();
    drop(reopened);

    let again = open(dir.path(), &clock);
    let next = again.claim_process_lease("p1", "w9", 1_000).await.unwrap();
    assert_eq!(
        next.fencing_token,
        held.fencing_token + 1,
        "release survived reopen"
    );
}

fn manual_now(clock: &procreg::ManualClock) -> u64 {
    procreg::Clock::now_ms(clock)
}

#[tokio::test]
async fn d3_fencing_and_lease_tokens_are_never_reused_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (manual, clock) = clock(1_000);
    let mut issued = Vec::new();
    for round in 0..4 {
        let registry = open_every(dir.path(), &clock, 3);
        if round == 0 {
            registry
                .register_process(registration("p", "s"))
                .await
                .unwrap();
        }
        for _ in 0..3 {
            manual.advance(200);
            issued.push(registry.claim_process_lease("p", "w", 100).await.unwrap());
        }
    }
    let fences: Vec<u64> = issued.iter().map(|l| l.fencing_token).collect();
    assert_eq!(fences, (1..=12).collect::<Vec<_>>());
    let mut tokens: Vec<&str> = issued.iter().map(|l| l.lease_token.as_str()).collect();
    tokens.sort();
    tokens.dedup();
    assert_eq!(tokens.len(), 12, "L6: no lease token issued twice");
}

#[tokio::test]
async fn d3_keyed_append_replays_to_the_original_sequence_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (_, clock) = clock(1_000);
    let registry = open(dir.path(), &clock);
    registry
        .register_process(registration("p", "s"))
        .await
        .unwrap();
    registry.append_event("p", note(0)).await.unwrap();
    let first = registry
        .append_event("p", note(1).with_replay_key("k"))
        .await
        .unwrap();
    registry.append_event("p", note(2)).await.unwrap();
    drop(registry);

    let reopened = open(dir.path(), &clock);
    let replay = reopened
        .append_event("p", note(1).with_replay_key("k"))
        .await
        .unwrap();
    assert!(replay.replayed);
    assert_eq!(replay.event, first.event);
    assert_eq!(replay.event.sequence, 2);
    let conflict = reopened
        .append_event("p", note(9).with_replay_key("k"))
        .await;
    assert_eq!(
        conflict.unwrap_err().kind(),
        procreg::ErrorKind::ReplayConflict
    );
}

#[tokio::test]
async fn snapshots_compact_the_log_to_one_segment_and_reopen_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (manual, clock) = clock(1_000);
    let registry = open_every(dir.path(), &clock, 4);
    populate(&registry, &manual).await;
    for n in 0..10 {
        registry.append_event("p1", note(n)).await.unwrap();
    }
    let before = model(&registry);
    drop(registry);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    let segments = names.iter().filter(|n| n.starts_with("log-")).count();
    assert_eq!(segments, 1, "old segments are dropped: {names:?}");
    assert!(names.contains(&"snapshot".to_owned()));

    let reopened = open_every(dir.path(), &clock, 4);
    assert_eq!(model(&reopened), before);
    reopened.append_event("p1", note(99)).await.unwrap();
    let after = model(&reopened);
    drop(reopened);
    assert_eq!(model(&open(dir.path(), &clock)), after);
}

#[tokio::test]
async fn rejected_calls_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (_, clock) = clock(1_000);
    let registry = open(dir.path(), &clock);
    registry
        .register_process(registration("p", "s"))
        .await
        .unwrap();
    let seq = registry.engine().journal().durable_seq();
    assert!(registry.append_event("missing", note(1)).await.is_err());
    registry.get_process("p").await.unwrap();
    registry
        .revoke_handle(&ProcessScope::session("s"), "p")
        .await
        .unwrap();
    assert_eq!(registry.engine().journal().durable_seq(), seq);
}

/// The crash windows of the snapshot order (`file::commit`): after step 1 the live segment may
/// be missing; after step 2 the stale one may remain. Both reopen to the same state.
#[tokio::test]
async fn snapshot_crash_windows_reopen_to_the_same_state() {
    use procreg_reference::file::frame::{encode_header, segment_name};
    let dir = tempfile::tempdir().unwrap();
    let (manual, clock) = clock(1_000);
    let registry = open_every(dir.path(), &clock, 1);
    populate(&registry, &manual).await;
    let before = model(&registry);
    drop(registry);
    let live = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("log-"))
        .unwrap();
    let number: u64 = live["log-".len()..].parse().unwrap();
    assert!(number > 2, "every record took a snapshot");
    // Step 2 never happened: the live segment is missing.
    std::fs::remove_file(dir.path().join(&live)).unwrap();
    // Step 3 never happened: the stale segment is still there.
    let stale = dir.path().join(segment_name(number - 1));
    std::fs::write(&stale, encode_header(number - 1)).unwrap();

    let reopened = open(dir.path(), &clock);
    assert_eq!(model(&reopened), before);
    assert!(!stale.exists(), "open removes stale segments");
    assert!(
        dir.path().join(&live).exists(),
        "open recreates the live segment"
    );
    reopened.append_event("p1", note(5)).await.unwrap();
    let after = model(&reopened);
    drop(reopened);
    assert_eq!(model(&open(dir.path(), &clock)), after);
}
