//! Registration laws (R1-R7, with B1 and V2 as registrations apply them): what a new id inserts,
//! how the declared types are normalized and hashed, why a retried start is harmless, and what
//! is rejected before anything is written.

use procreg::canonical::hash;
use procreg::{
    ErrorKind, ProcessEventType, ProcessRecord, ProcessRegistration, ProcessScope, ProcessStatus,
    ProcessTerminalState, WakeDedupeKey,
};
use serde_json::json;

use super::fixtures::{
    HOST, NOTE, OWNER_SESSION, bare, note, owner, standard, standard_p1, success, wake_type,
};
use crate::ctx::Ctx;
use crate::law::LawResult;

/// The registration R2 says is hashed: scopes normalized (V2), missing core types appended.
pub fn normalized(registration: &ProcessRegistration) -> ProcessRegistration {
    let mut normal = registration.clone();
    normal.provenance.owner_scope = normal.provenance.owner_scope.normalized();
    for core in ProcessEventType::core_types() {
        if !normal.event_types.iter().any(|t| t.name == core.name) {
            normal.event_types.push(core);
        }
    }
    normal
}

/// R3, R6: a new id inserts a running record created and updated at `now`, with no external
/// ref, which `get_process` returns.
pub async fn new_registration_is_a_running_record(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    let registration = standard("p1");
    let now = ctx.now_ms();
    let record = ctx
        .ok(
            "register_process(p1)",
            reg.register_process(registration.clone()),
        )
        .await?;
    let expected = ProcessRecord {
        id: "p1".into(),
        registration_hash: hash(&normalized(&registration)),
        input: registration.input.clone(),
        event_types: normalized(&registration).event_types,
        provenance: registration.provenance.clone(),
        created_at_ms: now,
        updated_at_ms: now,
        external_ref: None,
        status: ProcessStatus::Running,
    };
    ctx.same("the new record", &record, &expected)?;
    let read = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    ctx.same("get_process(p1)", &read, &Some(expected))
}

/// R2: the core types are appended when missing, in R2 order, after the declared ones; a
/// declared core type with its own semantics keeps its place and is not repeated.
pub async fn core_types_are_appended_in_order(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    let record = ctx
        .ok("register_process(p1)", reg.register_process(bare("p1")))
        .await?;
    ctx.same(
        "event types of a bare registration",
        &record.event_types,
        &ProcessEventType::core_types(),
    )?;

    let failed = ProcessEventType::terminal("process.failed", ProcessTerminalState::Failed);
    let declared = bare("p2")
        .with_event_type(ProcessEventType::plain("note"))
        .with_event_type(failed.clone());
    let record = ctx
        .ok("register_process(p2)", reg.register_process(declared))
        .await?;
    let mut expected = vec![ProcessEventType::plain("note"), failed];
    expected.extend(
        ProcessEventType::core_types()
            .into_iter()
            .filter(|t| t.name != "process.failed"),
    );
    ctx.same("event types of p2", &record.event_types, &expected)
}

/// R2, J1, V2: `registration_hash` is the hash of the normalized registration: core types
/// appended and an empty frame id dropped from the owner scope.
pub async fn registration_hash_is_hash_of_normalized_registration(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    let plain = standard("p1");
    let record = ctx
        .ok("register_process(p1)", reg.register_process(plain.clone()))
        .await?;
    ctx.same(
        "registration_hash of p1",
        &record.registration_hash,
        &hash(&normalized(&plain)),
    )?;

    let mut framed = standard("p2");
    framed.provenance.owner_scope = ProcessScope::frame(OWNER_SESSION, "");
    let record = ctx
        .ok(
            "register_process(p2, frame \"\")",
            reg.register_process(framed),
        )
        .await?;
    ctx.same(
        "registration_hash of p2",
        &record.registration_hash,
        &hash(&normalized(&standard("p2"))),
    )
}

/// R4, R7: registering the same id with an equal registration (J1: key order does not matter)
/// returns the current record unchanged, even later on.
pub async fn same_registration_returns_current_record(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    let typed = bare("p1").with_event_type(ProcessEventType::plain(NOTE));
    let first = typed
        .clone()
        .with_input(json!({"a": 1, "b": [1.5, {"y": null, "x": "z"}]}));
    ctx.ok("register_process(p1)", reg.register_process(first))
        .await?;
    ctx.advance_ms(10);
    ctx.ok("append_event(p1, note)", reg.append_event("p1", note(1)))
        .await?;
    let current = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    ctx.advance_ms(1_000);
    let again = typed.with_input(json!({"b": [1.5, {"x": "z", "y": null}], "a": 1}));
    let record = ctx
        .ok("register_process(p1) again", reg.register_process(again))
        .await?;
    ctx.same(
        "the record a retried start returns",
        &Some(record),
        &current,
    )?;
    let events = ctx
        .ok("events_after(p1, 0)", reg.events_after("p1", 0))
        .await?;
    ctx.same("event count after the retried start", &events.len(), &1)
}

/// R4: a retried start of a terminal process returns the terminal record; it does not restart.
pub async fn reregistering_a_terminal_process_returns_it(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let done = ctx
        .ok(
            "complete_process(p1)",
            reg.complete_process("p1", success(json!(7))),
        )
        .await?;
    let again = ctx
        .ok(
            "register_process(p1) again",
            reg.register_process(standard("p1")),
        )
        .await?;
    ctx.same("the record a retried start returns", &again, &done)
}

/// R5, J1: the same id with a different registration (input `1` vs `1.0`, another host, one
/// more type) is `RegistrationConflict`, and the record stays as it was.
pub async fn different_registration_conflicts(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    let original = bare("p1").with_input(json!({"n": 1}));
    let record = ctx
        .ok(
            "register_process(p1)",
            reg.register_process(original.clone()),
        )
        .await?;
    let float = bare("p1").with_input(json!({"n": 1.0}));
    ctx.err(
        "register_process(p1, input 1.0)",
        reg.register_process(float),
        ErrorKind::RegistrationConflict,
    )
    .await?;
    let mut host = original.clone();
    host.provenance.host_profile_id = "host-2".into();
    ctx.err(
        "register_process(p1, other host)",
        reg.register_process(host),
        ErrorKind::RegistrationConflict,
    )
    .await?;
    let typed = original.with_event_type(ProcessEventType::plain("extra"));
    ctx.err(
        "register_process(p1, one more type)",
        reg.register_process(typed),
        ErrorKind::RegistrationConflict,
    )
    .await?;
    let read = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    ctx.same("p1 after the conflicts", &read, &Some(record))
}

/// R1, B1: a blank process id, owner session id or host profile id (empty, spaces, Unicode
/// whitespace) is `InvalidRegistration`, and nothing is written.
pub async fn blank_ids_are_invalid_registrations(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    for blank in ["", "  ", "\u{3000}\t"] {
        let call = format!("register_process(id {blank:?})");
        ctx.err(
            &call,
            reg.register_process(bare(blank)),
            ErrorKind::InvalidRegistration,
        )
        .await?;
        let session = ProcessRegistration::new("p1", ProcessScope::session(blank), HOST);
        let call = format!("register_process(p1, owner session {blank:?})");
        ctx.err(
            &call,
            reg.register_process(session),
            ErrorKind::InvalidRegistration,
        )
        .await?;
        let host = ProcessRegistration::new("p1", owner(), blank);
        let call = format!("register_process(p1, host {blank:?})");
        ctx.err(
            &call,
            reg.register_process(host),
            ErrorKind::InvalidRegistration,
        )
        .await?;
    }
    let listed = ctx
        .ok("list_non_terminal()", reg.list_non_terminal())
        .await?;
    ctx.same("records after rejected registrations", &listed, &Vec::new())
}

/// R1: blank or duplicate type names, a core name with other semantics, a terminal type that
/// wakes, and wake pointers that are neither `""` nor start with `/` are `InvalidRegistration`.
pub async fn malformed_event_types_are_invalid_registrations(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    let mut terminal_wake = wake_type("t", None, "/m", WakeDedupeKey::EventIdentity);
    terminal_wake.terminal = Some(ProcessTerminalState::Completed);
    let cases = [
        ("blank type name", vec![ProcessEventType::plain(" ")]),
        (
            "duplicate type names",
            vec![ProcessEventType::plain("a"), ProcessEventType::plain("a")],
        ),
        (
            "process.completed declared plain",
            vec![ProcessEventType::plain("process.completed")],
        ),
        (
            "process.cancel_requested declared terminal",
            vec![ProcessEventType::terminal(
                "process.cancel_requested",
                ProcessTerminalState::Cancelled,
            )],
        ),
        (
            "process.failed declared completed",
            vec![ProcessEventType::terminal(
                "process.failed",
                ProcessTerminalState::Completed,
            )],
        ),
        ("terminal type that wakes", vec![terminal_wake]),
        (
            "input pointer `m`",
            vec![wake_type("w", None, "m", WakeDedupeKey::EventIdentity)],
        ),
        (
            "when pointer `go`",
            vec![wake_type(
                "w",
                Some("go"),
                "/m",
                WakeDedupeKey::EventIdentity,
            )],
        ),
        (
            "dedupe pointer `k`",
            vec![wake_type(
                "w",
                None,
                "/m",
                WakeDedupeKey::Pointer("k".into()),
            )],
        ),
    ];
    for (what, types) in cases {
        let mut registration = bare("p1");
        registration.event_types = types;
        let call = format!("register_process(p1, {what})");
        ctx.err(
            &call,
            reg.register_process(registration),
            ErrorKind::InvalidRegistration,
        )
        .await?;
    }
    let read = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    ctx.same("p1 after rejected registrations", &read, &None)
}

/// R1, R5, P1: an invalid registration of a known id is `InvalidRegistration`, not
/// `RegistrationConflict`.
pub async fn invalid_registration_beats_conflict(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    ctx.ok("register_process(p1)", reg.register_process(bare("p1")))
        .await?;
    let invalid = ProcessRegistration::new("p1", owner(), " ");
    ctx.err(
        "register_process(p1, blank host)",
        reg.register_process(invalid),
        ErrorKind::InvalidRegistration,
    )
    .await
}

/// B1: ids are stored verbatim, never trimmed: ` p1 ` and `p1` are different processes.
pub async fn ids_are_stored_verbatim(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    let record = ctx
        .ok(
            "register_process(\" p1 \")",
            reg.register_process(bare(" p1 ")),
        )
        .await?;
    ctx.same("id of the record", &record.id.as_str(), &" p1 ")?;
    let trimmed = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    ctx.same("get_process(p1)", &trimmed, &None)?;
    let other = ctx
        .ok("register_process(p1)", reg.register_process(bare("p1")))
        .await?;
    ctx.same("id of the second record", &other.id.as_str(), &"p1")
}

/// R1, V2, Z4: U+0000 or a newline in the id, owner session or frame, host, a type name or a
/// `const` dedupe key, or `/frame:` in the owner session id, is `InvalidRegistration`.
pub async fn forbidden_characters_are_invalid_registrations(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    let cases = [
        ("id with newline", bare("a\nb")),
        ("id with NUL", bare("a\0b")),
        (
            "session with `/frame:`",
            ProcessRegistration::new("p1", ProcessScope::session("s/frame:f"), HOST),
        ),
        (
            "owner frame with NUL",
            ProcessRegistration::new("p1", ProcessScope::frame("s", "f\0"), HOST),
        ),
        (
            "session with newline",
            ProcessRegistration::new("p1", ProcessScope::session("s\n"), HOST),
        ),
        (
            "host with NUL",
            ProcessRegistration::new("p1", owner(), "h\0"),
        ),
        (
            "type name with newline",
            bare("p1").with_event_type(ProcessEventType::plain("a\nb")),
        ),
        (
            "const dedupe key with newline",
            bare("p1").with_event_type(wake_type(
                "w",
                None,
                "",
                WakeDedupeKey::Const("k\n".into()),
            )),
        ),
    ];
    for (what, registration) in cases {
        let call = format!("register_process({what})");
        ctx.err(
            &call,
            reg.register_process(registration),
            ErrorKind::InvalidRegistration,
        )
        .await?;
    }
    Ok(())
}

/// V2, R4: an owner scope with frame id `""` is stored as the session scope, so registering
/// with either form is the same registration.
pub async fn empty_frame_owner_is_normalized(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    let mut framed = bare("p1");
    framed.provenance.owner_scope = ProcessScope::frame(OWNER_SESSION, "");
    let record = ctx
        .ok(
            "register_process(p1, frame \"\")",
            reg.register_process(framed),
        )
        .await?;
    ctx.same(
        "stored owner scope",
        &record.provenance.owner_scope,
        &owner(),
    )?;
    let again = ctx
        .ok(
            "register_process(p1, no frame)",
            reg.register_process(bare("p1")),
        )
        .await?;
    ctx.same("the record the session form returns", &again, &record)
}

/// R6, B1: an unknown id, and a blank one, read as `None`.
pub async fn unknown_ids_read_as_none(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    ctx.ok("register_process(p1)", reg.register_process(bare("p1")))
        .await?;
    for id in ["p2", "", "  ", "P1"] {
        let read = ctx
            .ok(format!("get_process({id:?})"), reg.get_process(id))
            .await?;
        ctx.same(format!("get_process({id:?})"), &read, &None)?;
    }
    Ok(())
}

/// R7: only registration (R3), the first external ref (X1) and appends (E8) change
/// `updated_at_ms`; reads, retried starts, grants, leases and acks leave it.
pub async fn only_registration_refs_and_events_touch_updated_at(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    let created = ctx
        .ok("register_process(p1)", reg.register_process(standard("p1")))
        .await?;
    ctx.advance_ms(100);
    ctx.ok(
        "register_process(p1) again",
        reg.register_process(standard("p1")),
    )
    .await?;
    let scope = ProcessScope::session("s1");
    let descriptor = procreg::ProcessHandleDescriptor::labelled("h");
    ctx.ok(
        "grant_handle(s1, p1)",
        reg.grant_handle(&scope, "p1", descriptor),
    )
    .await?;
    let lease = ctx
        .ok(
            "claim_process_lease(p1)",
            reg.claim_process_lease("p1", "w1", 1_000),
        )
        .await?;
    ctx.ok(
        "renew_process_lease(p1)",
        reg.renew_process_lease(&lease, 1_000),
    )
    .await?;
    ctx.ok(
        "complete_process_lease(p1)",
        reg.complete_process_lease(&lease.completion()),
    )
    .await?;
    ctx.ok("events_after(p1, 0)", reg.events_after("p1", 0))
        .await?;
    ctx.ok("revoke_handle(s1, p1)", reg.revoke_handle(&scope, "p1"))
        .await?;
    let read = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    ctx.same(
        "p1 after calls that must not touch it",
        &read,
        &Some(created),
    )?;

    ctx.advance_ms(100);
    let external = procreg::ProcessExternalRef {
        backend: "b".into(),
        id: "x".into(),
        metadata: None,
    };
    let record = ctx
        .ok("set_external_ref(p1)", reg.set_external_ref("p1", external))
        .await?;
    ctx.same(
        "updated_at_ms after set_external_ref",
        &record.updated_at_ms,
        &ctx.now_ms(),
    )?;
    ctx.advance_ms(100);
    ctx.ok("append_event(p1, note)", reg.append_event("p1", note(1)))
        .await?;
    let read = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    let updated = read.map(|r| r.updated_at_ms);
    ctx.same(
        "updated_at_ms after append_event",
        &updated,
        &Some(ctx.now_ms()),
    )
}
