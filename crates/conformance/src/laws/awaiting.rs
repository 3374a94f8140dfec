//! Await laws (C4): `await_process` returns the await output as soon as the process is terminal,
//! at once if it already is, with the same no-lost-wake-up guarantee as waits (E14).
//!
//! (The area is `awaiting` because `await` is a Rust keyword and cannot name a module.)

use procreg::{ErrorKind, ProcessAwaitOutput};
use serde_json::json;

use super::fixtures::{done, note, standard, standard_p1, success};
use crate::ctx::{Ctx, Spawned};
use crate::harness::RegistryHandle;
use crate::law::LawResult;

fn spawn_await(ctx: &Ctx, reg: &RegistryHandle) -> Spawned<ProcessAwaitOutput> {
    let reg = reg.clone();
    ctx.spawn("await_process(p1) in a task", async move {
        reg.await_process("p1").await
    })
}

/// C4: on a terminal process the await output comes at once, however it became terminal.
pub async fn terminal_process_returns_output_at_once(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let output = success(json!({"answer": 42}));
    ctx.ok(
        "complete_process(p1)",
        reg.complete_process("p1", output.clone()),
    )
    .await?;
    let got = ctx.ok("await_process(p1)", reg.await_process("p1")).await?;
    ctx.same("await_process(p1)", &got, &output)?;

    ctx.ok("register_process(p2)", reg.register_process(standard("p2")))
        .await?;
    let custom = success(json!("custom"));
    ctx.ok(
        "append_event(p2, done)",
        reg.append_event("p2", done(&custom, "d1")),
    )
    .await?;
    let got = ctx.ok("await_process(p2)", reg.await_process("p2")).await?;
    ctx.same("await_process(p2)", &got, &custom)
}

/// C4: an awaiting task is woken by the completion from another task, and not before: a plain
/// event does not end the wait.
pub async fn completion_wakes_awaiting_task(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let mut awaiter = spawn_await(&ctx, &reg);
    ctx.settle().await;
    ctx.still_pending(&mut awaiter, "awaiting: p1 is running")
        .await?;
    ctx.ok("append_event(p1, note)", reg.append_event("p1", note(1)))
        .await?;
    ctx.settle().await;
    ctx.still_pending(&mut awaiter, "awaiting: a note does not end p1")
        .await?;
    let output = success(json!("finally"));
    ctx.ok(
        "complete_process(p1)",
        reg.complete_process("p1", output.clone()),
    )
    .await?;
    let got = ctx.joined_ok(awaiter, ctx.call_timeout()).await?;
    ctx.same("the output the awaiter got", &got, &output)
}

/// C4: a dropped await has no effect, and another awaiter is still woken.
pub async fn dropped_await_has_no_effect(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let dropped = spawn_await(&ctx, &reg);
    let kept = spawn_await(&ctx, &reg);
    ctx.settle().await;
    dropped.abort().await;
    let output = success(json!(1));
    ctx.ok(
        "complete_process(p1)",
        reg.complete_process("p1", output.clone()),
    )
    .await?;
    let got = ctx.joined_ok(kept, ctx.call_timeout()).await?;
    ctx.same("the output the other awaiter got", &got, &output)
}

/// C4: awaiting an unknown process is `UnknownProcess`, at once.
pub async fn unknown_process_is_rejected(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    ctx.err(
        "await_process(missing)",
        reg.await_process("missing"),
        ErrorKind::UnknownProcess,
    )
    .await
}
