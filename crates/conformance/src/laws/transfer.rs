//! Transfer laws (H7, P1): `transfer_handle_grants` moves grants all or nothing, keeping their
//! descriptors, checks duplicates and blank sessions before missing grants, and is not
//! idempotent.

use procreg::{ErrorKind, ProcessHandleGrant, ProcessScope};
use serde_json::json;

use super::fixtures::success;
use super::grant_setup::{grant, grants_of, label, listed, register, strings};
use crate::ctx::Ctx;
use crate::harness::RegistryHandle;
use crate::law::LawResult;

const IDS: [&str; 3] = ["p1", "p2", "p3"];

/// Registers p1-p3 and grants each to session `s1`, labelled with its id.
async fn granted_to_s1(ctx: &Ctx, reg: &RegistryHandle) -> LawResult {
    register(ctx, reg, &IDS).await?;
    for id in IDS {
        grant(ctx, reg, &ProcessScope::session("s1"), id, id).await?;
    }
    Ok(())
}

/// A transfer that must fail with `expected` and leave every grant of p1-p3 where it was.
async fn refused(
    ctx: &Ctx,
    reg: &RegistryHandle,
    (from, to): (&ProcessScope, &ProcessScope),
    ids: &[&str],
    expected: ErrorKind,
) -> LawResult {
    let before = grants_of(ctx, reg, &IDS).await?;
    let call = format!(
        "transfer_handle_grants({}, {}, {ids:?})",
        from.id(),
        to.id()
    );
    let ids = strings(ids);
    let fut = reg.transfer_handle_grants(from, to, &ids);
    ctx.err(&call, fut, expected).await?;
    let after = grants_of(ctx, reg, &IDS).await?;
    ctx.same(format!("grants after refused {call}"), &after, &before)
}

/// H7: the listed grants leave `from` and are upserted into `to` with their descriptors,
/// replacing the descriptor `to` already had; unlisted grants stay.
pub async fn transfer_moves_grants_keeping_descriptors(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    granted_to_s1(&ctx, &reg).await?;
    let (s1, s2) = (ProcessScope::session("s1"), ProcessScope::session("s2"));
    grant(&ctx, &reg, &s2, "p2", "s2's own").await?;
    let ids = strings(&["p2", "p1"]);
    ctx.ok(
        "transfer_handle_grants(s1, s2, [p2, p1])",
        reg.transfer_handle_grants(&s1, &s2, &ids),
    )
    .await?;
    ctx.same(
        "grants of s1",
        &listed(&ctx, &reg, &s1).await?,
        &strings(&["p3"]),
    )?;
    let entries = ctx
        .ok("list_handle_grants(s2)", reg.list_handle_grants(&s2))
        .await?;
    let grants: Vec<ProcessHandleGrant> = entries.into_iter().map(|e| e.grant).collect();
    let expected: Vec<ProcessHandleGrant> = ["p1", "p2"]
        .into_iter()
        .map(|id| ProcessHandleGrant {
            scope: s2.clone(),
            process_id: id.into(),
            descriptor: label(id),
        })
        .collect();
    ctx.same("grants of s2", &grants, &expected)
}

/// H7, P1, A2: an id not granted in `from`, of a known or an unknown process, is
/// `HandleNotGranted`, and then nothing moves, not even the granted ids listed before it (a
/// definite error took no effect).
pub async fn missing_grant_moves_nothing(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    granted_to_s1(&ctx, &reg).await?;
    register(&ctx, &reg, &["p4"]).await?;
    let (s1, s2) = (ProcessScope::session("s1"), ProcessScope::session("s2"));
    let not_granted = ErrorKind::HandleNotGranted;
    refused(&ctx, &reg, (&s1, &s2), &["p1", "p2", "p4"], not_granted).await?;
    refused(&ctx, &reg, (&s1, &s2), &["p1", "missing"], not_granted).await?;
    refused(&ctx, &reg, (&s2, &s1), &["p1"], not_granted).await?;
    let same = ctx.fresh().await?;
    granted_to_s1(&ctx, &same).await?;
    // The check comes before the same-scope no-op.
    refused(&ctx, &same, (&s1, &s1), &["p4"], not_granted).await
}

/// H7, P1: a duplicate id is `InvalidRequest`, even when the id is not granted (it beats
/// `HandleNotGranted`); nothing moves.
pub async fn duplicate_id_beats_missing_grant(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    granted_to_s1(&ctx, &reg).await?;
    let (s1, s2) = (ProcessScope::session("s1"), ProcessScope::session("s2"));
    let invalid = ErrorKind::InvalidRequest;
    refused(&ctx, &reg, (&s1, &s2), &["p1", "p2", "p1"], invalid).await?;
    refused(&ctx, &reg, (&s1, &s2), &["missing", "missing"], invalid).await?;
    refused(&ctx, &reg, (&s1, &s1), &["p1", "p1"], invalid).await
}

/// H7, B1, P1: a blank session in `from` or `to` (session or frame scope) is `InvalidRequest`,
/// before missing grants are looked at; nothing moves.
pub async fn blank_session_is_invalid_request(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    granted_to_s1(&ctx, &reg).await?;
    let s1 = ProcessScope::session("s1");
    let invalid = ErrorKind::InvalidRequest;
    for blank in [ProcessScope::session(" "), ProcessScope::frame("", "f1")] {
        refused(&ctx, &reg, (&s1, &blank), &["p1"], invalid).await?;
        refused(&ctx, &reg, (&blank, &s1), &["p1"], invalid).await?;
        refused(&ctx, &reg, (&s1, &blank), &["missing"], invalid).await?;
        refused(&ctx, &reg, (&s1, &blank), &[], invalid).await?;
    }
    Ok(())
}

/// H7: an empty list, or `from` and `to` with equal scope ids, changes nothing.
pub async fn empty_list_and_same_scope_change_nothing(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    granted_to_s1(&ctx, &reg).await?;
    let (s1, s2) = (ProcessScope::session("s1"), ProcessScope::session("s2"));
    let before = grants_of(&ctx, &reg, &IDS).await?;
    let none: Vec<String> = Vec::new();
    ctx.ok(
        "transfer_handle_grants(s1, s2, [])",
        reg.transfer_handle_grants(&s1, &s2, &none),
    )
    .await?;
    let ids = strings(&["p1", "p2"]);
    ctx.ok(
        "transfer_handle_grants(s1, s1, [p1, p2])",
        reg.transfer_handle_grants(&s1, &s1, &ids),
    )
    .await?;
    let s1_empty_frame = ProcessScope::frame("s1", "");
    ctx.ok(
        "transfer_handle_grants(s1, s1 with frame \"\", [p1, p2])",
        reg.transfer_handle_grants(&s1, &s1_empty_frame, &ids),
    )
    .await?;
    let after = grants_of(&ctx, &reg, &IDS).await?;
    ctx.same("grants after the no-op transfers", &after, &before)
}

/// H7: terminal processes move like running ones.
pub async fn terminal_processes_move(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    granted_to_s1(&ctx, &reg).await?;
    ctx.ok(
        "complete_process(p2)",
        reg.complete_process("p2", success(json!(2))),
    )
    .await?;
    let (s1, s2) = (ProcessScope::session("s1"), ProcessScope::session("s2"));
    let ids = strings(&["p2", "p3"]);
    ctx.ok(
        "transfer_handle_grants(s1, s2, [p2, p3])",
        reg.transfer_handle_grants(&s1, &s2, &ids),
    )
    .await?;
    ctx.same("grants of s2", &listed(&ctx, &reg, &s2).await?, &ids)?;
    ctx.same(
        "grants of s1",
        &listed(&ctx, &reg, &s1).await?,
        &strings(&["p1"]),
    )
}

/// H7, V2: a frame scope and its session scope are distinct: a grant of the frame is not in
/// the session scope, and moves between them like between sessions.
pub async fn frame_scopes_are_distinct_from_session_scope(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    register(&ctx, &reg, &IDS).await?;
    let s1 = ProcessScope::session("s1");
    let (f1, f2) = (
        ProcessScope::frame("s1", "f1"),
        ProcessScope::frame("s1", "f2"),
    );
    grant(&ctx, &reg, &f1, "p1", "f1").await?;
    refused(&ctx, &reg, (&s1, &f2), &["p1"], ErrorKind::HandleNotGranted).await?;
    let ids = strings(&["p1"]);
    ctx.ok(
        "transfer_handle_grants(s1/f1, s1, [p1])",
        reg.transfer_handle_grants(&f1, &s1, &ids),
    )
    .await?;
    ctx.same("grants of s1", &listed(&ctx, &reg, &s1).await?, &ids)?;
    ctx.ok(
        "transfer_handle_grants(s1, s1/f2, [p1])",
        reg.transfer_handle_grants(&s1, &f2, &ids),
    )
    .await?;
    let grants = grants_of(&ctx, &reg, &["p1"]).await?;
    let expected = ProcessHandleGrant {
        scope: f2,
        process_id: "p1".into(),
        descriptor: label("f1"),
    };
    ctx.same("grants of p1", &grants, &vec![expected])
}

/// H7: transfer is not idempotent: repeating a transfer that succeeded is `HandleNotGranted`
/// (the grants are no longer in `from`), and moves nothing back.
pub async fn repeated_transfer_is_handle_not_granted(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    granted_to_s1(&ctx, &reg).await?;
    let (s1, s2) = (ProcessScope::session("s1"), ProcessScope::session("s2"));
    let ids = strings(&["p1", "p2"]);
    ctx.ok(
        "transfer_handle_grants(s1, s2, [p1, p2])",
        reg.transfer_handle_grants(&s1, &s2, &ids),
    )
    .await?;
    refused(
        &ctx,
        &reg,
        (&s1, &s2),
        &["p1", "p2"],
        ErrorKind::HandleNotGranted,
    )
    .await?;
    ctx.same("grants of s2", &listed(&ctx, &reg, &s2).await?, &ids)
}
