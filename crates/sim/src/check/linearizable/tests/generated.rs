//! Generated histories (linearizable by construction) pass with valid witnesses; one
//! corrupted answer in them is found.

use procreg_reference::{Model, OpOutput};

use super::lease_mix::{MixSettings, lease_mix};
use super::*;

fn check_generated(calls: &[CallRecord]) -> Verdict {
    let verdict = check(calls, &Model::new(), SearchBudget::default());
    assert_witnesses_hold(calls, &Model::new(), &verdict);
    verdict
}

#[test]
fn a1_generated_lease_mix_histories_are_linearizable() {
    for seed in 0..12 {
        let (calls, _) = lease_mix(MixSettings::new(200, seed));
        let verdict = check_generated(&calls);
        assert!(verdict.is_linearizable(), "seed {seed}: {verdict}");
        assert_eq!(verdict.partitions().parts.len(), 8);
    }
}

#[test]
fn a2_generated_histories_with_lost_calls_are_linearizable() {
    for seed in 0..12 {
        let settings = MixSettings {
            lost_every: 5,
            ..MixSettings::new(200, seed)
        };
        let (calls, _) = lease_mix(settings);
        assert!(calls.iter().any(CallRecord::is_indefinite));
        let verdict = check_generated(&calls);
        assert!(verdict.is_linearizable(), "seed {seed}: {verdict}");
    }
}

#[test]
fn a1_one_corrupted_claim_answer_in_a_generated_history_is_found() {
    for seed in 0..12 {
        let (mut calls, _) = lease_mix(MixSettings::new(200, seed));
        let Some(call) = calls
            .iter_mut()
            .rev()
            .find(|c| matches!(c.outcome(), Some(Ok(OpOutput::Lease(_)))))
        else {
            continue;
        };
        let id = call.id;
        if let Some(Ok(OpOutput::Lease(lease))) =
            call.outcome.as_mut().map(std::sync::Arc::make_mut)
        {
            lease.claimed_at_ms += 1; // no `now` gives this claimed time with this expiry
        }
        let verdict = check_generated(&calls);
        assert!(verdict.is_violation(), "seed {seed}: {verdict}");
        assert!(
            violation(&verdict).stuck.contains(&id),
            "seed {seed}: {verdict}"
        );
    }
}

#[test]
fn a1_one_dropped_event_in_a_generated_read_is_found() {
    for seed in 0..12 {
        let (mut calls, _) = lease_mix(MixSettings::new(200, seed));
        let Some(call) = calls.iter_mut().rev().find(
            |c| matches!(c.outcome(), Some(Ok(OpOutput::Events(events))) if events.len() >= 2),
        ) else {
            continue;
        };
        if let Some(Ok(OpOutput::Events(events))) =
            call.outcome.as_mut().map(std::sync::Arc::make_mut)
        {
            events.remove(0); // a gap no log can show
        }
        assert!(check_generated(&calls).is_violation(), "seed {seed}");
    }
}
