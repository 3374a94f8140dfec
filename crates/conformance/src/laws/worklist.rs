//! Worklist laws (N1, O1): `list_non_terminal` is the recovery worklist: every running record,
//! current, in byte order of the id, whether leased or not, and nothing terminal.

use procreg::ProcessRecord;
use serde_json::json;

use super::fixtures::{bare, cancelled, done, note, standard, success};
use crate::ctx::Ctx;
use crate::harness::RegistryHandle;
use crate::law::{LawFailure, LawResult};

async fn current(
    ctx: &Ctx,
    reg: &RegistryHandle,
    ids: &[&str],
) -> Result<Vec<ProcessRecord>, LawFailure> {
    let mut records = Vec::new();
    for id in ids {
        let record = ctx
            .ok(format!("get_process({id})"), reg.get_process(id))
            .await?;
        records.push(ctx.present(format!("record of {id}"), record)?);
    }
    Ok(records)
}

/// N1: the worklist holds every running process, leased (live or expired) or not, as its
/// current record, and no process made terminal by completion or by a custom terminal event.
pub async fn worklist_holds_running_records_leased_or_not(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    for id in ["p1", "p2", "p3", "p4", "p5", "p6"] {
        let call = format!("register_process({id})");
        ctx.ok(call, reg.register_process(standard(id))).await?;
    }
    ctx.ok("append_event(p1, note)", reg.append_event("p1", note(1)))
        .await?;
    ctx.ok(
        "complete_process(p2)",
        reg.complete_process("p2", success(json!(2))),
    )
    .await?;
    ctx.ok(
        "claim_process_lease(p3, w1)",
        reg.claim_process_lease("p3", "w1", 60_000),
    )
    .await?;
    ctx.ok(
        "claim_process_lease(p4, w1, 0)",
        reg.claim_process_lease("p4", "w1", 0),
    )
    .await?;
    ctx.ok(
        "append_event(p5, done)",
        reg.append_event("p5", done(&success(json!(5)), "d5")),
    )
    .await?;
    let listed = ctx
        .ok("list_non_terminal()", reg.list_non_terminal())
        .await?;
    let expected = current(&ctx, &reg, &["p1", "p3", "p4", "p6"]).await?;
    ctx.same("list_non_terminal()", &listed, &expected)
}

/// N1, O1: the worklist ascends by the UTF-8 bytes of the id (non-ASCII after ASCII, uppercase
/// before lowercase, `10` before `9`), with terminal processes left out wherever they sort.
pub async fn worklist_ascends_by_byte_order(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    let ids = ["ü", "b", "Ω", "B", "a", "10", "9", "ab", "a\u{301}"];
    for id in ids {
        let call = format!("register_process({id})");
        ctx.ok(call, reg.register_process(bare(id))).await?;
    }
    for id in ["ab", "Ω"] {
        let call = format!("complete_process({id})");
        ctx.ok(call, reg.complete_process(id, cancelled())).await?;
    }
    let listed = ctx
        .ok("list_non_terminal()", reg.list_non_terminal())
        .await?;
    let order: Vec<&str> = listed.iter().map(|r| r.id.as_str()).collect();
    let expected = vec!["10", "9", "B", "a", "a\u{301}", "b", "ü"];
    ctx.same("order of list_non_terminal()", &order, &expected)
}

/// N1: a registry whose processes are all terminal (or that has none) has an empty worklist.
pub async fn worklist_empties_as_processes_end(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    let listed = ctx
        .ok("list_non_terminal() when empty", reg.list_non_terminal())
        .await?;
    ctx.same("an empty registry's worklist", &listed, &vec![])?;
    for id in ["p1", "p2"] {
        let call = format!("register_process({id})");
        ctx.ok(call, reg.register_process(bare(id))).await?;
        let call = format!("complete_process({id})");
        ctx.ok(call, reg.complete_process(id, success(json!(null))))
            .await?;
    }
    let listed = ctx
        .ok("list_non_terminal()", reg.list_non_terminal())
        .await?;
    ctx.same("the worklist when all ended", &listed, &vec![])
}
