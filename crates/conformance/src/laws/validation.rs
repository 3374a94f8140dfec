//! Cross-cutting input and value laws: JSON values come back with identical canonical text
//! (J1), scopes are normalized and forbidden characters refused (V2), timestamps stay below
//! 2^63 (V3), blank ids read as unknown (B1), and id-ordered lists use byte order (O1).

use procreg::canonical::wake_id;
use procreg::{
    ErrorKind, MAX_TIMESTAMP_MS, ProcessExternalRef, ProcessHandleDescriptor, ProcessScope,
};
use serde_json::{Value, json};

use super::fixtures::{WAKE_IDENTITY, bare, event, note, standard, standard_p1, success};
use crate::ctx::Ctx;
use crate::law::LawResult;

/// Values whose canonical text a careless store changes: integer vs float, negative zero,
/// integer extremes, key order, non-ASCII text.
fn tricky_json() -> Value {
    json!({
        "int": 1, "float": 1.0, "neg_zero": -0.0, "tenth": 0.1, "huge": 1e300,
        "u64_max": u64::MAX, "i64_min": i64::MIN,
        "text": "é \u{1F600} \"quoted\" \\ \t", "nested": {"b": [true, null, []], "a": {}},
    })
}

/// J1: registration input, event payloads, external-ref metadata and await outputs come back
/// with identical canonical text (`1` stays `1`, `1.0` stays `1.0`, `-0.0` survives).
pub async fn stored_json_round_trips_canonically(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    let value = tricky_json();
    let registration = standard("p1").with_input(value.clone());
    ctx.ok("register_process(p1)", reg.register_process(registration))
        .await?;
    ctx.ok(
        "append_event(p1, note)",
        reg.append_event("p1", event("note", value.clone())),
    )
    .await?;
    let external = ProcessExternalRef {
        backend: "b".into(),
        id: "x".into(),
        metadata: Some(value.clone()),
    };
    ctx.ok("set_external_ref(p1)", reg.set_external_ref("p1", external))
        .await?;
    ctx.ok(
        "complete_process(p1)",
        reg.complete_process("p1", success(value.clone())),
    )
    .await?;

    let record = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    let record = ctx.present("get_process(p1)", record)?;
    ctx.same("input", &record.input, &value)?;
    let metadata = record.external_ref.and_then(|r| r.metadata);
    ctx.same("external ref metadata", &metadata, &Some(value.clone()))?;
    let events = ctx
        .ok("events_after(p1, 0)", reg.events_after("p1", 0))
        .await?;
    let payload = events.first().map(|e| e.payload.clone());
    ctx.same("event payload", &payload, &Some(value.clone()))?;
    let output = ctx.ok("await_process(p1)", reg.await_process("p1")).await?;
    ctx.same("await output", &output, &success(value))
}

/// J1, X2: external-ref metadata `Some(null)` is stored as `None`, so it equals a ref without
/// metadata.
pub async fn null_metadata_is_normalized_to_none(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    ctx.ok("register_process(p1)", reg.register_process(bare("p1")))
        .await?;
    let with_null = ProcessExternalRef {
        backend: "b".into(),
        id: "x".into(),
        metadata: Some(Value::Null),
    };
    let record = ctx
        .ok(
            "set_external_ref(p1, metadata null)",
            reg.set_external_ref("p1", with_null),
        )
        .await?;
    let expected = ProcessExternalRef {
        backend: "b".into(),
        id: "x".into(),
        metadata: None,
    };
    ctx.same("stored ref", &record.external_ref, &Some(expected))?;
    let without = ProcessExternalRef {
        backend: "b".into(),
        id: "x".into(),
        metadata: None,
    };
    let again = ctx
        .ok(
            "set_external_ref(p1, no metadata)",
            reg.set_external_ref("p1", without),
        )
        .await?;
    ctx.same("the record the equal ref returns", &again, &record)
}

/// V2: a newline or U+0000 in a replay key, an external ref or a wake-target or grant scope
/// (session or frame id), or `/frame:` in such a session id, is `InvalidRequest`.
pub async fn forbidden_characters_in_requests_are_invalid(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    for key in ["k\n", "k\0"] {
        let call = format!("append_event(p1, note, key {key:?})");
        ctx.err(
            call,
            reg.append_event("p1", note(1).with_replay_key(key)),
            ErrorKind::InvalidRequest,
        )
        .await?;
    }
    let scopes = [
        ProcessScope::session("s/frame:f"),
        ProcessScope::session("s\n"),
        ProcessScope::frame("s", "f\n"),
        ProcessScope::frame("s", "f\0"),
    ];
    for scope in scopes {
        let request = event(WAKE_IDENTITY, json!({"msg": "m"})).with_wake_target(scope.clone());
        let call = format!("append_event(p1, wake, target {scope:?})");
        let attempt = reg.append_event("p1", request);
        ctx.err(call, attempt, ErrorKind::InvalidRequest).await?;
        let call = format!("grant_handle({scope:?}, p1)");
        let grant = reg.grant_handle(&scope, "p1", ProcessHandleDescriptor::default());
        ctx.err(call, grant, ErrorKind::InvalidRequest).await?;
    }
    for (backend, id) in [("b\n", "x"), ("b", "x\0")] {
        let external = ProcessExternalRef {
            backend: backend.into(),
            id: id.into(),
            metadata: None,
        };
        let call = format!("set_external_ref(p1, {backend:?}, {id:?})");
        ctx.err(
            call,
            reg.set_external_ref("p1", external),
            ErrorKind::InvalidRequest,
        )
        .await?;
    }
    let events = ctx
        .ok("events_after(p1, 0)", reg.events_after("p1", 0))
        .await?;
    ctx.same("events after the rejections", &events, &Vec::new())
}

/// V2, E9: a wake target with frame id `""` is stored as the session scope, and the wake id is
/// computed from the normalized scope.
pub async fn empty_frame_wake_target_is_normalized(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let request =
        event(WAKE_IDENTITY, json!({"msg": "m"})).with_wake_target(ProcessScope::frame("s1", ""));
    let appended = ctx
        .ok(
            "append_event(p1, wake, target frame \"\")",
            reg.append_event("p1", request),
        )
        .await?;
    let session = ProcessScope::session("s1");
    let stored = appended.event.wake.map(|w| w.target_scope);
    ctx.same("stored wake target", &stored, &Some(session.clone()))?;
    let delivery = appended.wake_delivery.map(|d| (d.target_scope, d.wake_id));
    ctx.same(
        "delivery target and id",
        &delivery,
        &Some((session.clone(), wake_id(&session, "p1:1"))),
    )
}

/// V3: an expiry past 2^63 - 1 saturates there (`ttl = u64::MAX`), on claim and on renew.
pub async fn lease_expiry_saturates_below_2_pow_63(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    ctx.ok("register_process(p1)", reg.register_process(bare("p1")))
        .await?;
    let lease = ctx
        .ok(
            "claim_process_lease(p1, ttl u64::MAX)",
            reg.claim_process_lease("p1", "w1", u64::MAX),
        )
        .await?;
    ctx.same(
        "expires_at_ms of the claim",
        &lease.expires_at_ms,
        &MAX_TIMESTAMP_MS,
    )?;
    let renewed = ctx
        .ok(
            "renew_process_lease(p1, ttl u64::MAX)",
            reg.renew_process_lease(&lease, u64::MAX),
        )
        .await?;
    ctx.same(
        "expires_at_ms of the renewal",
        &renewed.expires_at_ms,
        &MAX_TIMESTAMP_MS,
    )
}

/// B1: reads, revokes and deletions with blank ids behave as for unknown ids.
pub async fn blank_ids_read_as_unknown(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let scope = ProcessScope::session("s1");
    ctx.ok(
        "grant_handle(s1, p1)",
        reg.grant_handle(&scope, "p1", ProcessHandleDescriptor::default()),
    )
    .await?;
    let read = ctx.ok("get_process(\" \")", reg.get_process(" ")).await?;
    ctx.same("get_process(\" \")", &read, &None)?;
    ctx.err(
        "events_after(\"\", 0)",
        reg.events_after("", 0),
        ErrorKind::UnknownProcess,
    )
    .await?;
    ctx.err(
        "handle_grants_for_process(\" \")",
        reg.handle_grants_for_process(" "),
        ErrorKind::UnknownProcess,
    )
    .await?;
    ctx.ok("revoke_handle(s1, \"\")", reg.revoke_handle(&scope, ""))
        .await?;
    let has = ctx
        .ok(
            "has_handle_grant(s1, \" \")",
            reg.has_handle_grant(&scope, " "),
        )
        .await?;
    ctx.same("has_handle_grant(s1, \" \")", &has, &false)?;
    let report = ctx
        .ok(
            "delete_session_process_state(\" \")",
            reg.delete_session_process_state(" "),
        )
        .await?;
    let counts = (
        report.revoked_handle_count,
        report.deleted_wake_count,
        report.cancel_process_ids,
        report.preserved_process_ids,
    );
    ctx.same(
        "report of deleting session \" \"",
        &counts,
        &(0, 0, vec![], vec![]),
    )?;
    let grants = ctx
        .ok("list_handle_grants(s1)", reg.list_handle_grants(&scope))
        .await?;
    ctx.same("grants of s1", &grants.len(), &1)
}

/// O1, N1, H3, H6: id-ordered lists are ascending by the UTF-8 bytes of the id (uppercase
/// before lowercase, non-ASCII after ASCII); grants of a process by the whole scope id.
pub async fn id_ordered_lists_use_byte_order(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    let ids = ["b", "é", "a", "\u{1F600}", "Z", "aa", "ä", "a b", "10", "9"];
    let scope = ProcessScope::session("s1");
    for id in ids {
        ctx.ok(
            format!("register_process({id})"),
            reg.register_process(bare(id)),
        )
        .await?;
        let grant = reg.grant_handle(&scope, id, ProcessHandleDescriptor::default());
        ctx.ok(format!("grant_handle(s1, {id})"), grant).await?;
    }
    let mut sorted: Vec<&str> = ids.to_vec();
    sorted.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let listed = ctx
        .ok("list_non_terminal()", reg.list_non_terminal())
        .await?;
    let listed: Vec<&str> = listed.iter().map(|r| r.id.as_str()).collect();
    ctx.same("list_non_terminal() order", &listed, &sorted)?;
    let grants = ctx
        .ok("list_handle_grants(s1)", reg.list_handle_grants(&scope))
        .await?;
    let granted: Vec<&str> = grants.iter().map(|g| g.grant.process_id.as_str()).collect();
    ctx.same("list_handle_grants(s1) order", &granted, &sorted)?;

    let scopes = [
        ProcessScope::session("é"),
        ProcessScope::session("b"),
        ProcessScope::frame("a", "f"),
        ProcessScope::session("a"),
        ProcessScope::session("Z"),
        ProcessScope::session("a-"),
    ];
    for s in &scopes {
        ctx.ok(
            format!("grant_handle({}, a)", s.id()),
            reg.grant_handle(s, "a", ProcessHandleDescriptor::default()),
        )
        .await?;
    }
    let mut expected: Vec<String> = scopes
        .iter()
        .map(ProcessScope::id)
        .chain([scope.id()])
        .collect();
    expected.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let grants = ctx
        .ok(
            "handle_grants_for_process(a)",
            reg.handle_grants_for_process("a"),
        )
        .await?;
    let order: Vec<String> = grants.iter().map(|g| g.scope.id()).collect();
    ctx.same("handle_grants_for_process(a) order", &order, &expected)
}
