//! Wait laws (E14): `wait_event_after` returns the lowest matching event at once if there is one,
//! else as soon as one is appended (no lost wake-up), across handles within the declared bound,
//! never hangs on an error, and dropping it has no effect.
//!
//! Waiters run in their own tokio task; the law moves on by yielding to the runtime
//! ([`Ctx::settle`]), never by sleeping. A waiter that never returns is caught by the call bound.

use procreg::{ErrorKind, ProcessEvent};
use serde_json::json;

use super::fixtures::{NOTE, TICK, event, note, standard, standard_p1};
use crate::ctx::{Ctx, Spawned};
use crate::harness::RegistryHandle;
use crate::law::LawResult;

fn spawn_wait(
    ctx: &Ctx,
    reg: &RegistryHandle,
    event_type: &'static str,
    after: u64,
) -> Spawned<ProcessEvent> {
    let reg = reg.clone();
    let call = format!("wait_event_after(p1, {event_type}, {after}) in a task");
    ctx.spawn(call, async move {
        reg.wait_event_after("p1", event_type, after).await
    })
}

/// E14: with matching events present, the wait returns the lowest one of exactly that type above
/// `after`, at once.
pub async fn existing_event_is_returned_at_once(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    ctx.ok("append_event(p1, note)", reg.append_event("p1", note(1)))
        .await?;
    ctx.ok(
        "append_event(p1, tick)",
        reg.append_event("p1", event(TICK, json!(2))),
    )
    .await?;
    ctx.ok("append_event(p1, note)", reg.append_event("p1", note(3)))
        .await?;
    for (event_type, after, expected) in [(NOTE, 0, 1), (NOTE, 1, 3), (TICK, 0, 2), (NOTE, 2, 3)] {
        let call = format!("wait_event_after(p1, {event_type}, {after})");
        let found = ctx
            .ok(&call, reg.wait_event_after("p1", event_type, after))
            .await?;
        ctx.same(format!("{call}: sequence"), &found.sequence, &expected)?;
    }
    Ok(())
}

/// E14: a waiting task is woken by a later append of its type from another task, and not by an
/// append of another type.
pub async fn later_append_of_its_type_wakes_waiting_task(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let mut waiter = spawn_wait(&ctx, &reg, NOTE, 0);
    ctx.settle().await;
    ctx.still_pending(&mut waiter, "waiting: no note yet")
        .await?;
    ctx.ok(
        "append_event(p1, tick)",
        reg.append_event("p1", event(TICK, json!(1))),
    )
    .await?;
    ctx.settle().await;
    ctx.still_pending(&mut waiter, "waiting: a tick is not a note")
        .await?;
    let appended = ctx
        .ok("append_event(p1, note)", reg.append_event("p1", note(2)))
        .await?;
    let found = ctx.joined_ok(waiter, ctx.call_timeout()).await?;
    ctx.same("the event the waiter got", &found, &appended.event)
}

/// E14: no lost wake-up: a wait started just before (or racing with) an append on the same
/// handle always returns that append, however the two interleave.
pub async fn racing_appends_are_never_missed(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    for round in 0..16u64 {
        let waiter = spawn_wait(&ctx, &reg, NOTE, round);
        for _ in 0..round % 4 {
            tokio::task::yield_now().await;
        }
        let call = format!("append_event(p1, note {round})");
        ctx.ok(call, reg.append_event("p1", note(round))).await?;
        let found = ctx.joined_ok(waiter, ctx.call_timeout()).await?;
        ctx.same(
            "sequence the racing waiter got",
            &found.sequence,
            &(round + 1),
        )?;
    }
    Ok(())
}

/// E14: dropping a waiting future has no effect: later appends, other waiters and new waits
/// behave as if it never existed.
pub async fn dropped_wait_has_no_effect(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let before = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    let dropped = spawn_wait(&ctx, &reg, NOTE, 0);
    let kept = spawn_wait(&ctx, &reg, NOTE, 0);
    ctx.settle().await;
    dropped.abort().await;
    let after = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    ctx.same("p1 after a dropped wait", &after, &before)?;
    let appended = ctx
        .ok("append_event(p1, note)", reg.append_event("p1", note(1)))
        .await?;
    ctx.same(
        "sequence after a dropped wait",
        &appended.event.sequence,
        &1,
    )?;
    let found = ctx.joined_ok(kept, ctx.call_timeout()).await?;
    ctx.same("the event the other waiter got", &found, &appended.event)?;
    let again = ctx
        .ok(
            "wait_event_after(p1, note, 0)",
            reg.wait_event_after("p1", NOTE, 0),
        )
        .await?;
    ctx.same("a new wait", &again, &appended.event)
}

/// E14, P1: a wait on an unknown process is `UnknownProcess` (even for an undeclared type), and
/// on an undeclared type `UndeclaredEventType`, at once: a wait never hangs on an error.
pub async fn wait_errors_return_at_once(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    let call = "wait_event_after(missing, note, 0)";
    ctx.err(
        call,
        reg.wait_event_after("missing", NOTE, 0),
        ErrorKind::UnknownProcess,
    )
    .await?;
    let call = "wait_event_after(missing, nope, 0)";
    ctx.err(
        call,
        reg.wait_event_after("missing", "nope", 0),
        ErrorKind::UnknownProcess,
    )
    .await?;
    ctx.ok("register_process(p1)", reg.register_process(standard("p1")))
        .await?;
    let call = "wait_event_after(p1, nope, 0)";
    ctx.err(
        call,
        reg.wait_event_after("p1", "nope", 0),
        ErrorKind::UndeclaredEventType,
    )
    .await
}

/// E14, D5: an append through one handle wakes a wait on another handle of the same store
/// within the harness's declared bound, in both directions.
pub async fn append_through_other_handle_wakes_wait(ctx: Ctx) -> LawResult {
    let first = ctx.fresh().await?;
    let second = ctx.second_handle(&first).await?;
    let bound = ctx
        .capabilities()
        .second_handle_wait_bound
        .unwrap_or(ctx.call_timeout());
    ctx.ok(
        "register_process(p1) on the first",
        first.register_process(standard("p1")),
    )
    .await?;
    let waiter = spawn_wait(&ctx, &first, NOTE, 0);
    ctx.settle().await;
    let appended = ctx
        .ok(
            "append_event(p1, note) on the second",
            second.append_event("p1", note(1)),
        )
        .await?;
    let found = ctx.joined_ok(waiter, bound).await?;
    ctx.same(
        "the event the first handle's waiter got",
        &found,
        &appended.event,
    )?;

    let waiter = spawn_wait(&ctx, &second, NOTE, 1);
    ctx.settle().await;
    let appended = ctx
        .ok(
            "append_event(p1, note) on the first",
            first.append_event("p1", note(2)),
        )
        .await?;
    let found = ctx.joined_ok(waiter, bound).await?;
    ctx.same(
        "the event the second handle's waiter got",
        &found,
        &appended.event,
    )
}
