//! Laws about the harness itself: fresh registries are really fresh, the declared capabilities
//! match the registry (D1), and a declared crash-and-reopen really reopens the same store (D7).
//! If these fail, every other law's verdict is suspect.

use procreg::ProcessRecord;

use serde_json::json;

use super::fixtures::{bare, note, standard, standard_p1, success};
use crate::ctx::Ctx;
use crate::law::LawResult;

/// R6, R3: two fresh registries share no state: what one holds the other never sees, and the
/// same id registers anew in each.
pub async fn fresh_registries_share_no_state(ctx: Ctx) -> LawResult {
    let first = ctx.fresh().await?;
    let seen = ctx.ok("get_process(p1)", first.get_process("p1")).await?;
    ctx.same("a fresh registry holds no p1", &seen, &None)?;
    let listed = ctx
        .ok("list_non_terminal()", first.list_non_terminal())
        .await?;
    ctx.same(
        "a fresh registry lists nothing",
        &listed,
        &Vec::<ProcessRecord>::new(),
    )?;
    ctx.ok(
        "register_process(p1)",
        first.register_process(standard("p1")),
    )
    .await?;

    let second = ctx.fresh().await?;
    let seen = ctx
        .ok("get_process(p1) on the second", second.get_process("p1"))
        .await?;
    ctx.same("the second registry holds no p1", &seen, &None)?;
    let listed = ctx
        .ok(
            "list_non_terminal() on the second",
            second.list_non_terminal(),
        )
        .await?;
    ctx.same(
        "the second registry lists nothing",
        &listed,
        &Vec::<ProcessRecord>::new(),
    )?;
    // A shared store would answer RegistrationConflict (R5) here.
    ctx.ok(
        "register_process(p1, other registration) on the second",
        second.register_process(bare("p1")),
    )
    .await?;
    Ok(())
}

/// D1: the registry reports the durability tier its harness declares.
pub async fn durability_tier_matches_declaration(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    let declared = ctx.capabilities().durability;
    ctx.same("durability_tier()", &reg.durability_tier(), &declared)
}

/// D2, D7: after a crash and reopen, a Durable registry holds what was acknowledged before:
/// records, events and terminal status, on the same store (and the harness really reopens).
pub async fn reopened_registry_holds_acknowledged_state(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    ctx.ok("append_event(p1, note)", reg.append_event("p1", note(1)))
        .await?;
    ctx.ok("register_process(p2)", reg.register_process(standard("p2")))
        .await?;
    ctx.ok(
        "complete_process(p2)",
        reg.complete_process("p2", success(json!(2))),
    )
    .await?;
    let p1 = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    let p2 = ctx.ok("get_process(p2)", reg.get_process("p2")).await?;
    let events = ctx
        .ok("events_after(p1, 0)", reg.events_after("p1", 0))
        .await?;

    let reopened = ctx.reopen(reg).await?;
    let reg = reopened.map_err(|e| ctx.unexpected_error("reopen after a clean crash", &e))?;
    let read = ctx
        .ok("get_process(p1) after reopen", reg.get_process("p1"))
        .await?;
    ctx.same("p1 after reopen", &read, &p1)?;
    let read = ctx
        .ok("get_process(p2) after reopen", reg.get_process("p2"))
        .await?;
    ctx.same("p2 after reopen", &read, &p2)?;
    let read = ctx
        .ok(
            "events_after(p1, 0) after reopen",
            reg.events_after("p1", 0),
        )
        .await?;
    ctx.same("the log of p1 after reopen", &read, &events)
}
