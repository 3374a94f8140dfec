//! The laws can fail: each deliberately broken registry (a `MemoryRegistry` wrapper breaking one
//! rule, see `support`) is rejected by the laws that check that rule, and the unbroken wrapper
//! passes them all.

mod support;

use procreg_conformance::{FailureClass, Need, Report, Runner, catalogue, find_law};
use support::{Fault, MutantHarness};

async fn run(fault: Fault) -> Report {
    Runner::new(MutantHarness(fault)).run_all().await
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
async fn unbroken_wrapper_passes_every_law_including_cross_handle() {
    let report = run(Fault::None).await;
    assert!(report.is_success(), "{report}");
    assert!(
        report
            .passed()
            .contains(&"wait::append_through_other_handle_wakes_wait")
    );
    // An Inline registry cannot run the durability laws; nothing else may be skipped.
    for id in report.ignored() {
        let law = find_law(id).expect("a catalogue law");
        assert!(
            law.needs.contains(&Need::Durable),
            "{id} was ignored:\n{report}"
        );
    }
}

#[tokio::test]
async fn e2_ignored_replay_key_is_rejected() {
    let report = run(Fault::ReplayKeyIgnored).await;
    assert_rejected_by(
        &report,
        &[
            "replay::replayed_append_returns_stored_event",
            "replay::reused_replay_key_with_other_content_conflicts",
            "wake::replayed_wake_append_returns_its_delivery",
        ],
    );
}

#[tokio::test]
async fn c2_repeated_completion_appending_is_rejected() {
    let report = run(Fault::RepeatedCompletionAppends).await;
    assert_rejected_by(
        &report,
        &[
            "completion::repeated_complete_returns_first_record",
            "completion::retry_after_custom_terminal_event_is_harmless",
        ],
    );
}

#[tokio::test]
async fn e14_lost_wakeups_are_rejected() {
    let report = run(Fault::WaitLosesWakeups).await;
    assert_rejected_by(
        &report,
        &[
            "wait::later_append_of_its_type_wakes_waiting_task",
            "wait::racing_appends_are_never_missed",
            "wait::append_through_other_handle_wakes_wait",
        ],
    );
}

#[tokio::test]
async fn r7_reads_touching_updated_at_are_rejected() {
    let report = run(Fault::ReadsTouchUpdatedAt).await;
    assert_rejected_by(
        &report,
        &["registration::only_registration_refs_and_events_touch_updated_at"],
    );
}

#[tokio::test]
async fn j1_float_normalization_is_rejected() {
    let report = run(Fault::FloatsNormalized).await;
    assert_rejected_by(
        &report,
        &[
            "validation::stored_json_round_trips_canonically",
            "registration::different_registration_conflicts",
        ],
    );
}

#[tokio::test]
async fn b1_trimmed_ids_are_rejected() {
    let report = run(Fault::IdsTrimmed).await;
    assert_rejected_by(&report, &["registration::ids_are_stored_verbatim"]);
}

#[tokio::test]
async fn a2_unavailable_is_an_environment_failure_not_a_violation() {
    let report = run(Fault::ReadsUnavailable).await;
    let failures = report.failures();
    assert!(failures.len() > 10, "{report}");
    for failure in failures {
        assert_eq!(failure.class, FailureClass::Environment, "{failure}");
        assert!(
            failure.to_string().contains("environment failure"),
            "{failure}"
        );
    }
}

#[tokio::test]
async fn panicking_backend_fails_its_laws_with_the_last_call() {
    let report = run(Fault::AckPanics).await;
    let failure = report
        .failures()
        .into_iter()
        .find(|f| f.law == "wake::acked_wake_stops_pending")
        .cloned()
        .expect("the law failed");
    assert_eq!(failure.call, "ack_wake(p1, 2)");
    assert!(
        failure
            .actual
            .to_string()
            .contains("panicked: ack_wake exploded"),
        "{failure}"
    );
    assert!(
        report.passed().len() > 50,
        "the run went on after the panic:\n{report}"
    );
}

#[tokio::test]
async fn t2_laws_needing_the_clock_are_ignored_not_passed() {
    let report = run(Fault::OwnClock).await;
    let needs_clock: Vec<&str> = catalogue()
        .iter()
        .filter(|law| law.needs.contains(&Need::Clock))
        .map(|law| law.id)
        .collect();
    assert!(!needs_clock.is_empty());
    for id in &needs_clock {
        assert!(
            report.ignored().contains(id),
            "{id} was not ignored:\n{report}"
        );
        assert!(!report.passed().contains(id));
    }
    assert!(report.is_success(), "{report}");
    let line = "IGNORED registration::new_registration_is_a_running_record: needs time control";
    assert!(report.to_string().contains(line), "{report}");
}

#[tokio::test]
async fn failure_names_law_rules_step_call_kinds_and_rerun_command() {
    let report = run(Fault::IdsTrimmed).await;
    let failure = report
        .failures()
        .into_iter()
        .find(|f| f.law == "registration::ids_are_stored_verbatim")
        .cloned()
        .expect("the law failed");
    let text = failure.to_string();
    assert!(
        text.starts_with("law registration::ids_are_stored_verbatim broken (rules B1)"),
        "{text}"
    );
    assert!(text.contains("step 2:"), "{text}");
    assert!(text.contains(r#"expected: ok " p1 ""#), "{text}");
    assert!(text.contains(r#"actual:   ok "p1""#), "{text}");
    assert!(
        text.ends_with("rerun:    cargo test registration::ids_are_stored_verbatim"),
        "{text}"
    );
}
