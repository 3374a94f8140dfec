//! Provided-method laws (M1): a backend that overrides `list_live_handle_grants` or
//! `has_handle_grant` answers exactly what the trait's default, built on `list_handle_grants`,
//! would.

use procreg::{ProcessHandleDescriptor, ProcessHandleGrantEntry, ProcessScope};
use serde_json::json;

use super::fixtures::{bare, success};
use crate::ctx::Ctx;
use crate::harness::RegistryHandle;
use crate::law::LawResult;

/// Grants p1 (running), p2 (completed) and p3 (running) to `s1`, p3 also to frame `s1/f1`.
async fn granted_mix(ctx: &Ctx, reg: &RegistryHandle) -> LawResult {
    let s1 = ProcessScope::session("s1");
    let frame = ProcessScope::frame("s1", "f1");
    for id in ["p1", "p2", "p3"] {
        ctx.ok(
            format!("register_process({id})"),
            reg.register_process(bare(id)),
        )
        .await?;
        let grant = reg.grant_handle(&s1, id, ProcessHandleDescriptor::labelled(id));
        ctx.ok(format!("grant_handle(s1, {id})"), grant).await?;
    }
    ctx.ok(
        "grant_handle(s1/f1, p3)",
        reg.grant_handle(&frame, "p3", ProcessHandleDescriptor::default()),
    )
    .await?;
    ctx.ok(
        "complete_process(p2)",
        reg.complete_process("p2", success(json!(1))),
    )
    .await?;
    Ok(())
}

/// M1, H4: `list_live_handle_grants(s)` equals `list_handle_grants(s)` without terminal
/// processes, for every scope.
pub async fn live_grants_match_default(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    granted_mix(&ctx, &reg).await?;
    let scopes = [
        ProcessScope::session("s1"),
        ProcessScope::frame("s1", "f1"),
        ProcessScope::session("nobody"),
    ];
    for scope in scopes {
        let id = scope.id();
        let all = ctx
            .ok(
                format!("list_handle_grants({id})"),
                reg.list_handle_grants(&scope),
            )
            .await?;
        let default: Vec<ProcessHandleGrantEntry> = all
            .into_iter()
            .filter(|e| !e.record.is_terminal())
            .collect();
        let live = ctx
            .ok(
                format!("list_live_handle_grants({id})"),
                reg.list_live_handle_grants(&scope),
            )
            .await?;
        ctx.same(format!("list_live_handle_grants({id})"), &live, &default)?;
    }
    let s1 = ProcessScope::session("s1");
    let live = ctx
        .ok(
            "list_live_handle_grants(s1)",
            reg.list_live_handle_grants(&s1),
        )
        .await?;
    let ids: Vec<&str> = live.iter().map(|e| e.grant.process_id.as_str()).collect();
    ctx.same("live grants of s1", &ids, &vec!["p1", "p3"])
}

/// M1, H5: `has_handle_grant(s, p)` is whether `list_handle_grants(s)` holds `p`, for granted,
/// terminal, ungranted, unknown and blank ids and for frame scopes.
pub async fn has_grant_matches_default(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    granted_mix(&ctx, &reg).await?;
    let scopes = [
        ProcessScope::session("s1"),
        ProcessScope::frame("s1", "f1"),
        ProcessScope::session("nobody"),
    ];
    for scope in scopes {
        let id = scope.id();
        let all = ctx
            .ok(
                format!("list_handle_grants({id})"),
                reg.list_handle_grants(&scope),
            )
            .await?;
        for process_id in ["p1", "p2", "p3", "missing", ""] {
            let default = all.iter().any(|e| e.grant.process_id == process_id);
            let call = format!("has_handle_grant({id}, {process_id:?})");
            let has = ctx
                .ok(&call, reg.has_handle_grant(&scope, process_id))
                .await?;
            ctx.same(call, &has, &default)?;
        }
    }
    Ok(())
}
