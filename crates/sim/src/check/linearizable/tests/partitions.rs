//! Partitioning (P-compositionality), epochs and the search budget.

use procreg::{ProcessHandleDescriptor, ProcessScope, ProcessSessionDeleteReport};
use procreg_reference::{Model, Op, OpOutput};
use serde_json::json;

use super::super::{PartitionStrategy, check_epoch};
use super::*;
use crate::history::History;

fn grant(session: &str, pid: &str) -> Op {
    Op::GrantHandle {
        scope: ProcessScope::session(session),
        process_id: pid.to_owned(),
        descriptor: ProcessHandleDescriptor::labelled(pid),
    }
}

fn list(session: &str) -> Op {
    Op::ListHandleGrants {
        scope: ProcessScope::session(session),
    }
}

/// Three processes, each with a claim and an append.
fn three_processes() -> Builder {
    let mut b = Builder::new();
    for (i, pid) in ["p1", "p2", "p3"].into_iter().enumerate() {
        let t = 10 * i as u64;
        b.at("setup", register(pid), t + 1);
        b.run("w", claim(pid, "w", 100), t + 2, t + 3, t + 4);
        b.run("w", append(pid, json!(i)), t + 3, t + 5, t + 6);
    }
    b
}

#[test]
fn a1_single_process_calls_are_checked_per_process() {
    let verdict = three_processes().check();
    assert!(verdict.is_linearizable());
    let partitions = verdict.partitions();
    assert_eq!(partitions.strategy, PartitionStrategy::PerProcess);
    let names: Vec<Vec<String>> = partitions
        .parts
        .iter()
        .map(|p| p.processes.clone())
        .collect();
    assert_eq!(
        names,
        vec![vec!["p1".to_owned()], vec!["p2".into()], vec!["p3".into()]]
    );
}

#[test]
fn a1_a_violation_names_its_process() {
    let mut b = three_processes();
    let read = b.at("r", events_after("p2", 0), 100);
    b.tell(read, Ok(OpOutput::Events(Vec::new())));
    let verdict = b.check();
    let failure = violation(&verdict);
    assert_eq!(failure.processes, vec!["p2".to_owned()]);
    assert!(
        failure.explanation.contains(&format!("#{read}")),
        "{}",
        failure.explanation
    );
}

#[test]
fn a1_grant_listings_join_the_processes_they_can_see() {
    let mut b = three_processes();
    b.at("c", grant("s1", "p1"), 50);
    b.at("c", grant("s1", "p2"), 51);
    b.at("c", grant("s2", "p3"), 52);
    let listed = b.at("c", list("s1"), 53);
    let verdict = b.check();
    assert!(verdict.is_linearizable(), "{verdict}");
    let partitions = verdict.partitions();
    assert_eq!(partitions.strategy, PartitionStrategy::Components);
    let names: Vec<Vec<String>> = partitions
        .parts
        .iter()
        .map(|p| p.processes.clone())
        .collect();
    assert_eq!(
        names,
        vec![vec!["p1".to_owned(), "p2".into()], vec!["p3".into()]]
    );

    let OpOutput::GrantEntries(mut entries) = b.answer(listed).clone() else {
        panic!("no entries");
    };
    entries.pop();
    b.tell(listed, Ok(OpOutput::GrantEntries(entries)));
    let verdict = b.check();
    assert_eq!(
        violation(&verdict).processes,
        vec!["p1".to_owned(), "p2".into()]
    );
}

#[test]
fn s1_session_deletion_joins_what_the_session_may_own() {
    let mut b = three_processes();
    b.at("c", grant("s1", "p1"), 50);
    b.at("c", grant("s2", "p3"), 51);
    let deleted = b.at(
        "c",
        Op::DeleteSession {
            session_id: "s1".into(),
        },
        60,
    );
    let verdict = b.check();
    assert!(verdict.is_linearizable(), "{verdict}");
    assert_eq!(verdict.partitions().parts.len(), 3);
    let report = ProcessSessionDeleteReport {
        session_id: "s1".into(),
        revoked_handle_count: 1,
        deleted_wake_count: 0,
        cancel_process_ids: Vec::new(), // should list p1, which lost its only grant
        preserved_process_ids: Vec::new(),
    };
    b.tell(deleted, Ok(OpOutput::DeleteReport(report)));
    assert!(b.check().is_violation());
}

#[test]
fn n1_listing_every_process_checks_the_history_whole() {
    let mut b = three_processes();
    b.at("c", Op::ListNonTerminal, 50);
    let verdict = b.check();
    assert!(verdict.is_linearizable(), "{verdict}");
    assert_eq!(verdict.partitions().strategy, PartitionStrategy::Whole);
    assert_eq!(verdict.partitions().parts.len(), 1);
}

#[test]
fn calls_of_several_epochs_are_unknown() {
    let mut b = three_processes();
    b.calls[4].epoch = 1;
    let verdict = b.check();
    assert!(matches!(verdict, Verdict::Unknown { .. }), "{verdict}");
    assert!(verdict.to_string().contains("epoch"));
}

#[test]
fn check_epoch_starts_from_the_given_model() {
    let mut history = History::new();
    let mut model = Model::new();
    let id = history.invoke("setup", register("p1"), 1, 0);
    history.complete(id, model.apply(&register("p1"), 1), 1);
    let id = history.invoke("a", claim("p1", "a", 100), 2, 0);
    history.complete(id, model.apply(&claim("p1", "a", 100), 2), 2);
    // Epoch 1 (after a crash of a durable store): the lease survived.
    let id = history.invoke("b", claim("p1", "b", 100), 50, 1);
    history.complete(id, model.apply(&claim("p1", "b", 100), 50), 50);
    let verdict = check_epoch(
        &history,
        1,
        &model_at_epoch_start(&history),
        SearchBudget::default(),
    );
    assert!(verdict.is_linearizable(), "{verdict}");
    assert!(check_epoch(&history, 1, &Model::new(), SearchBudget::default()).is_violation());
}

/// The Model after replaying epoch 0's calls.
fn model_at_epoch_start(history: &History) -> Model {
    let mut model = Model::new();
    for call in history.calls().iter().filter(|c| c.epoch == 0) {
        let _ = model.apply(&call.op, call.invoke_ms);
    }
    model
}

#[test]
fn an_exhausted_budget_is_unknown_not_a_verdict() {
    let mut b = Builder::new();
    b.at("setup", register("p1"), 1);
    for i in 0..8 {
        b.run(&format!("w{i}"), append("p1", json!(i)), 10, 10 + i, 30);
    }
    let read = b.at("r", events_after("p1", 0), 40);
    let verdict = check(&b.calls, &Model::new(), SearchBudget::states(3));
    assert!(matches!(verdict, Verdict::Unknown { .. }), "{verdict}");
    assert!(verdict.to_string().contains("budget"), "{verdict}");
    assert_eq!(verdict.states_explored(), 3);
    // The same history within budget: fine; and a wrong read is still found.
    assert!(b.check().is_linearizable());
    b.tell(read, Ok(OpOutput::Events(Vec::new())));
    assert!(b.check().is_violation());
}

#[test]
fn each_partition_starts_from_the_initial_model_cut_to_its_processes() {
    let mut initial = Model::new();
    for pid in ["p1", "p2", "p3"] {
        initial.apply(&register(pid), 1).unwrap();
        initial.apply(&grant("s1", pid), 2).unwrap();
    }
    initial.apply(&claim("p2", "w", 1000), 3).unwrap();
    let part = super::super::partition::Part {
        processes: vec!["p1".into(), "p2".into()],
        calls: Vec::new(),
        whole: false,
    };
    let mut cut = super::super::partition::initial_for(&part, &initial);
    assert_eq!(cut.process_ids().collect::<Vec<_>>(), ["p1", "p2"]);
    assert_eq!(cut.current_lease("p2"), initial.current_lease("p2"));
    let listed = cut.apply(&list("s1"), 4).unwrap();
    let OpOutput::GrantEntries(entries) = listed else {
        panic!("{listed:?}");
    };
    let ids: Vec<&str> = entries
        .iter()
        .map(|e| e.grant.process_id.as_str())
        .collect();
    assert_eq!(ids, ["p1", "p2"], "p3's grant went with p3");
    let whole = super::super::partition::Part {
        whole: true,
        ..part
    };
    assert_eq!(
        super::super::partition::initial_for(&whole, &initial),
        initial
    );
}

#[test]
fn a_later_epoch_checks_per_process_from_a_cut_initial_model() {
    let mut initial = Model::new();
    for pid in ["p1", "p2"] {
        initial.apply(&register(pid), 1).unwrap();
    }
    let mut b = Builder::new();
    b.model = initial.clone();
    b.at("a", claim("p1", "a", 100), 10);
    b.at("b", claim("p2", "b", 100), 11);
    let stale = b.at("c", get("p2"), 12);
    let verdict = check(&b.calls, &initial, SearchBudget::default());
    assert!(verdict.is_linearizable(), "{verdict}");
    assert_eq!(verdict.partitions().parts.len(), 2);
    b.tell(stale, Ok(OpOutput::MaybeRecord(None)));
    let verdict = check(&b.calls, &initial, SearchBudget::default());
    assert_eq!(violation(&verdict).processes, vec!["p2".to_owned()]);
}
