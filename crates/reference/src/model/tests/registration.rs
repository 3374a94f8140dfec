//! R1-R7, X1-X3, N1.

use procreg::{ErrorKind, ProcessEventType, ProcessScope, ProcessStatus};
use serde_json::json;

use super::{model_with, registration};
use crate::model::Model;

#[test]
fn r3_new_id_inserts_running_record() {
    let mut model = Model::new();
    let record = model.register_process(registration("p1"), 5).unwrap();
    assert_eq!(record.status, ProcessStatus::Running);
    assert_eq!((record.created_at_ms, record.updated_at_ms), (5, 5));
    assert_eq!(record.external_ref, None);
    assert_eq!(model.get_process("p1"), Some(record));
}

#[test]
fn r2_core_types_are_appended_in_order() {
    let mut model = Model::new();
    let reg = registration("p1").with_event_type(ProcessEventType::plain("x"));
    let record = model.register_process(reg, 0).unwrap();
    let names: Vec<_> = record.event_types.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "x",
            "process.cancel_requested",
            "process.completed",
            "process.failed",
            "process.cancelled"
        ]
    );
}

#[test]
fn r4_same_registration_returns_existing_record_without_revision() {
    let mut model = model_with(&["p1"]);
    let revision = model.revision();
    let again = model.register_process(registration("p1"), 99).unwrap();
    assert_eq!(again.created_at_ms, 0);
    assert_eq!(model.revision(), revision);
}

#[test]
fn r5_different_registration_conflicts() {
    let mut model = model_with(&["p1"]);
    let other = registration("p1").with_input(json!(1));
    let err = model.register_process(other, 1).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RegistrationConflict);
}

#[test]
fn v2_empty_frame_normalizes_before_hashing() {
    let mut model = model_with(&["p1"]);
    let mut reg = registration("p1");
    reg.provenance.owner_scope = ProcessScope::frame("s1", "");
    let record = model.register_process(reg, 1).unwrap();
    assert_eq!(record.provenance.owner_scope, ProcessScope::session("s1"));
}

#[test]
fn r1_rejects_malformed_registrations() {
    let core_as_plain = ProcessEventType::plain("process.completed");
    let wake = procreg::ProcessWakeSpec {
        when: None,
        input: "x".into(),
        dedupe_key: procreg::WakeDedupeKey::EventIdentity,
    };
    let cases = vec![
        registration(" "),
        registration("a\nb"),
        procreg::ProcessRegistration::new("p", ProcessScope::session(""), "h"),
        procreg::ProcessRegistration::new("p", ProcessScope::session("a/frame:b"), "h"),
        procreg::ProcessRegistration::new("p", ProcessScope::session("s"), "\t"),
        registration("p").with_event_type(ProcessEventType::plain("")),
        registration("p")
            .with_event_type(ProcessEventType::plain("x"))
            .with_event_type(ProcessEventType::plain("x")),
        registration("p").with_event_type(core_as_plain),
        registration("p").with_event_type(ProcessEventType::waking("w", wake)),
    ];
    let mut model = Model::new();
    for reg in cases {
        let err = model.register_process(reg.clone(), 0).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRegistration, "{reg:?}");
    }
    assert_eq!(model, Model::new());
}

#[test]
fn r1_terminal_type_that_wakes_is_invalid() {
    let mut bad = ProcessEventType::terminal("done", procreg::ProcessTerminalState::Completed);
    bad.wake = Some(procreg::ProcessWakeSpec {
        when: None,
        input: "".into(),
        dedupe_key: procreg::WakeDedupeKey::Const("k".into()),
    });
    let err = Model::new()
        .register_process(registration("p").with_event_type(bad), 0)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRegistration);
}

#[test]
fn x1_first_external_ref_is_stored_and_touches_updated_at() {
    let mut model = model_with(&["p1"]);
    let reference = procreg::ProcessExternalRef {
        backend: "k8s".into(),
        id: "job-1".into(),
        metadata: Some(json!(null)),
    };
    let record = model.set_external_ref("p1", reference.clone(), 7).unwrap();
    assert_eq!(record.updated_at_ms, 7);
    assert_eq!(record.external_ref.as_ref().unwrap().metadata, None);
    // X2: equal again (Null metadata normalized) is unchanged, no revision.
    let revision = model.revision();
    let again = model.set_external_ref("p1", reference.clone(), 9).unwrap();
    assert_eq!(again, record);
    assert_eq!(model.revision(), revision);
    // X3: a different one conflicts.
    let other = procreg::ProcessExternalRef {
        id: "job-2".into(),
        ..reference
    };
    let err = model.set_external_ref("p1", other, 9).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ExternalRefConflict);
}

#[test]
fn x1_precedence_unknown_before_invalid() {
    let mut model = model_with(&["p1"]);
    let blank = procreg::ProcessExternalRef {
        backend: " ".into(),
        id: "x".into(),
        metadata: None,
    };
    let err = model
        .set_external_ref("nope", blank.clone(), 0)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownProcess);
    let err = model.set_external_ref("p1", blank, 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
}

#[test]
fn n1_lists_running_records_ascending() {
    let mut model = model_with(&["b", "a", "c"]);
    model
        .complete_process(
            "b",
            procreg::ProcessAwaitOutput::Success { value: json!(1) },
            1,
        )
        .unwrap();
    let ids: Vec<_> = model
        .list_non_terminal()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, ["a", "c"]);
}

#[test]
fn r5_remembered_hash_tells_negative_zero_from_zero() {
    // `0.0 == -0.0` as f64, but their canonical texts differ (J1): the hash memo must not
    // hand one the other's hash.
    for (first, second) in [(json!(0.0), json!(-0.0)), (json!(-0.0), json!(0.0))] {
        let mut model = Model::new();
        model
            .register_process(registration("p1").with_input(first.clone()), 0)
            .unwrap();
        let again = model.register_process(registration("p1").with_input(first), 1);
        assert!(
            again.is_ok(),
            "the same input again is R4's idempotent start"
        );
        let other = model.register_process(registration("p1").with_input(second), 2);
        assert_eq!(other.unwrap_err().kind(), ErrorKind::RegistrationConflict);
    }
}

#[test]
fn r4_remembered_hash_is_the_canonical_hash() {
    let mut model = Model::new();
    let reg = registration("p1").with_input(json!({"b": [1, 2.5], "a": null}));
    let first = model.register_process(reg.clone(), 0).unwrap();
    let mut fresh = Model::new();
    let again = fresh.register_process(reg, 0).unwrap();
    assert_eq!(first.registration_hash, again.registration_hash);
    let expected = procreg::canonical::hash(&procreg::ProcessRegistration {
        id: first.id.clone(),
        input: first.input.clone(),
        event_types: first.event_types.clone(),
        provenance: first.provenance.clone(),
    });
    assert_eq!(first.registration_hash, expected);
}

#[test]
fn r2_core_types_are_built_as_the_contract_defines_them() {
    use crate::model::registration::core_type;
    let built: Vec<ProcessEventType> = procreg::CORE_EVENT_TYPES.map(core_type).into();
    assert_eq!(built, ProcessEventType::core_types());
}
