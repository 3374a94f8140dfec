//! The laws of sections 7-10 can fail: each registry of `laws2_support` breaks one rule, and
//! the laws of that rule's area reject it; the unbroken wrapper passes every law, durability
//! laws included.

mod laws2_support;

use laws2_support::{Fault2, Mutant2Harness};
use procreg_conformance::{FailureClass, Report, Runner};

async fn run(fault: Fault2) -> Report {
    Runner::new(Mutant2Harness(fault)).run_all().await
}

fn assert_rejected_by(report: &Report, laws: &[&str]) {
    let failed = report.failed();
    for law in laws {
        assert!(
            failed.contains(law),
            "{law} did not fail; failed: {failed:?}\n{report}"
        );
    }
    for failure in report.failures() {
        assert_eq!(failure.class, FailureClass::Violation, "{failure}");
    }
}

#[tokio::test]
async fn l2_unbroken_durable_wrapper_passes_every_law() {
    let report = run(Fault2::None).await;
    assert!(report.is_success(), "{report}");
    let ignored = report.ignored();
    assert!(
        ignored
            .iter()
            .all(|id| *id == "wait::append_through_other_handle_wakes_wait"),
        "{report}"
    );
}

#[tokio::test]
async fn l2_h1_regrant_keeping_descriptor_is_rejected() {
    let report = run(Fault2::RegrantKeepsDescriptor).await;
    assert_rejected_by(&report, &["grant::regrant_replaces_descriptor"]);
}

#[tokio::test]
async fn l2_h7_partial_transfer_is_rejected() {
    let report = run(Fault2::TransferStopsAtMissing).await;
    assert_rejected_by(&report, &["transfer::missing_grant_moves_nothing"]);
}

#[tokio::test]
async fn l2_s1_deletion_skipping_frames_is_rejected() {
    let report = run(Fault2::SessionSkipsFrames).await;
    assert_rejected_by(
        &report,
        &[
            "session::deletion_removes_session_and_frame_grants_never_by_prefix",
            "session::pending_wakes_of_the_session_stop_pending",
        ],
    );
}

#[tokio::test]
async fn l2_l4_renew_ignoring_fence_is_rejected() {
    let report = run(Fault2::RenewIgnoresFence).await;
    assert_rejected_by(&report, &["lease::renew_checks_owner_and_both_tokens"]);
}

#[tokio::test]
async fn l2_n1_reversed_worklist_is_rejected() {
    let report = run(Fault2::WorklistReversed).await;
    assert_rejected_by(
        &report,
        &[
            "worklist::worklist_holds_running_records_leased_or_not",
            "worklist::worklist_ascends_by_byte_order",
        ],
    );
}

#[tokio::test]
async fn l2_d3_fences_restarting_after_reopen_are_rejected() {
    let report = run(Fault2::ReopenRestartsFences).await;
    assert_rejected_by(
        &report,
        &[
            "durability::tokens_are_never_reused_after_reopen",
            "durability::lease_state_survives_reopen",
        ],
    );
}

#[tokio::test]
async fn l2_a1_check_then_act_completion_is_rejected() {
    let report = run(Fault2::CompletionChecksThenActs).await;
    assert_rejected_by(
        &report,
        &["concurrency::racing_different_completions_have_one_winner"],
    );
}

#[tokio::test]
async fn l2_t1_second_clock_reading_is_rejected() {
    let report = run(Fault2::ClaimReadsClockTwice).await;
    assert_rejected_by(&report, &["clock::each_call_writes_one_reading"]);
    assert_eq!(report.failed().len(), 1, "{report}");
}
