//! Laws about the harness itself: fresh registries are really fresh, and the declared
//! capabilities match the registry (D1). If these fail, every other law's verdict is suspect.

use procreg::ProcessRecord;

use super::fixtures::{bare, standard};
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
