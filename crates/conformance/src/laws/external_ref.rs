//! External-ref laws (X1-X3): a process's ref to its work elsewhere is set once; an equal retry
//! is harmless, a different one is refused, and nothing else moves.

use procreg::{ErrorKind, ProcessExternalRef};
use serde_json::{Value, json};

use super::fixtures::{standard, standard_p1, success};
use crate::ctx::Ctx;
use crate::law::LawResult;

fn external(id: &str, metadata: Option<Value>) -> ProcessExternalRef {
    ProcessExternalRef {
        backend: "queue".into(),
        id: id.into(),
        metadata,
    }
}

/// X1: setting a ref on an unknown process is `UnknownProcess`.
pub async fn unknown_process_is_rejected(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    let call = "set_external_ref(missing)";
    ctx.err(
        call,
        reg.set_external_ref("missing", external("x", None)),
        ErrorKind::UnknownProcess,
    )
    .await
}

/// X1: the first assignment stores the ref, sets `updated_at_ms = now` (creation time
/// unchanged) and returns the record `get_process` then returns.
pub async fn first_assignment_stores_ref_and_touches_record(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    let created = ctx
        .ok("register_process(p1)", reg.register_process(standard("p1")))
        .await?;
    ctx.advance_ms(250);
    let stored = external("x", Some(json!({"shard": 3})));
    let record = ctx
        .ok(
            "set_external_ref(p1)",
            reg.set_external_ref("p1", stored.clone()),
        )
        .await?;
    let mut expected = created;
    expected.external_ref = Some(stored);
    expected.updated_at_ms = ctx.now_ms();
    ctx.same("the returned record", &record, &expected)?;
    let read = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    ctx.same("get_process(p1)", &read, &Some(expected))
}

/// X2, J1: assigning an equal ref again (metadata keys in another order) returns the record
/// unchanged, `updated_at_ms` included.
pub async fn equal_ref_returns_record_unchanged(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let first = external("x", Some(json!({"a": 1, "b": {"d": 2, "c": 3}})));
    let record = ctx
        .ok("set_external_ref(p1)", reg.set_external_ref("p1", first))
        .await?;
    ctx.advance_ms(250);
    let again = external("x", Some(json!({"b": {"c": 3, "d": 2}, "a": 1})));
    let retried = ctx
        .ok(
            "set_external_ref(p1) again",
            reg.set_external_ref("p1", again),
        )
        .await?;
    ctx.same("the record an equal retry returns", &retried, &record)
}

/// X3, J1: a different ref (another id, or metadata `1.0` instead of `1`) once one is stored is
/// `ExternalRefConflict`, and the stored ref stays.
pub async fn different_ref_conflicts(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let stored = external("x", Some(json!({"n": 1})));
    let record = ctx
        .ok("set_external_ref(p1)", reg.set_external_ref("p1", stored))
        .await?;
    let cases = [
        ("other id", external("y", Some(json!({"n": 1})))),
        ("metadata 1.0", external("x", Some(json!({"n": 1.0})))),
        ("no metadata", external("x", None)),
    ];
    for (what, other) in cases {
        let call = format!("set_external_ref(p1, {what})");
        let attempt = reg.set_external_ref("p1", other);
        ctx.err(call, attempt, ErrorKind::ExternalRefConflict)
            .await?;
    }
    let read = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    ctx.same("p1 after the conflicts", &read, &Some(record))
}

/// X1: a ref may be set on a terminal process.
pub async fn ref_may_be_set_on_terminal_process(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    ctx.ok(
        "complete_process(p1)",
        reg.complete_process("p1", success(json!(1))),
    )
    .await?;
    let stored = external("x", None);
    let record = ctx
        .ok(
            "set_external_ref(p1) when terminal",
            reg.set_external_ref("p1", stored.clone()),
        )
        .await?;
    ctx.same(
        "external_ref of terminal p1",
        &record.external_ref,
        &Some(stored),
    )
}

/// X1, B1, P1: a blank backend or id is `InvalidRequest`, checked after `UnknownProcess` and
/// before `ExternalRefConflict`.
pub async fn blank_backend_or_id_is_invalid_request(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    let mut blank_backend = external("x", None);
    blank_backend.backend = " ".into();
    let call = "set_external_ref(missing, blank backend)";
    let attempt = reg.set_external_ref("missing", blank_backend.clone());
    ctx.err(call, attempt, ErrorKind::UnknownProcess).await?;
    ctx.ok("register_process(p1)", reg.register_process(standard("p1")))
        .await?;
    let call = "set_external_ref(p1, blank backend)";
    let attempt = reg.set_external_ref("p1", blank_backend.clone());
    ctx.err(call, attempt, ErrorKind::InvalidRequest).await?;
    let call = "set_external_ref(p1, blank id)";
    ctx.err(
        call,
        reg.set_external_ref("p1", external("\t", None)),
        ErrorKind::InvalidRequest,
    )
    .await?;
    ctx.ok(
        "set_external_ref(p1)",
        reg.set_external_ref("p1", external("x", None)),
    )
    .await?;
    let call = "set_external_ref(p1, blank backend) once a ref is stored";
    ctx.err(
        call,
        reg.set_external_ref("p1", blank_backend),
        ErrorKind::InvalidRequest,
    )
    .await
}
