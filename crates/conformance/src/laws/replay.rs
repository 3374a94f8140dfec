//! Replay-key laws (E2, E4, E15): a keyed append is safe to retry: an equal retry returns the
//! stored event, a different one is refused, the replay check comes before every other, and the
//! terminal key is reserved for terminal events.

use procreg::{
    EVENT_CANCEL_REQUESTED, EVENT_COMPLETED, ErrorKind, ProcessEvent, ProcessEventAppendResult,
    ProcessScope, terminal_replay_key,
};
use serde_json::json;

use super::fixtures::{
    DONE, NOTE, TICK, event, failure, note, standard_p1, success, terminal, wake,
};
use crate::ctx::Ctx;
use crate::law::LawResult;

fn sequences(events: &[ProcessEvent]) -> Vec<u64> {
    events.iter().map(|e| e.sequence).collect()
}

/// E2, J1: a repeated keyed append with equal type and payload (keys reordered) returns the
/// stored event with `replayed: true`; nothing changes, timestamps included.
pub async fn replayed_append_returns_stored_event(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let first = event(NOTE, json!({"a": 1, "b": 2})).with_replay_key("k1");
    let original = ctx
        .ok(
            "append_event(p1, note, key k1)",
            reg.append_event("p1", first),
        )
        .await?;
    ctx.advance_ms(100);
    ctx.ok("append_event(p1, note)", reg.append_event("p1", note(2)))
        .await?;
    let before = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    ctx.advance_ms(100);
    let retry = event(NOTE, json!({"b": 2, "a": 1})).with_replay_key("k1");
    let replayed = ctx
        .ok(
            "append_event(p1, note, key k1) again",
            reg.append_event("p1", retry),
        )
        .await?;
    ctx.same("replayed", &replayed.replayed, &true)?;
    ctx.same("the replayed event", &replayed.event, &original.event)?;
    let after = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    ctx.same("p1 after the replay", &after, &before)?;
    let events = ctx
        .ok("events_after(p1, 0)", reg.events_after("p1", 0))
        .await?;
    ctx.same(
        "sequences after the replay",
        &sequences(&events),
        &vec![1, 2],
    )
}

/// E2, E9: a replay does not compare the wake target: another target, or none, still replays
/// and returns the original delivery.
pub async fn replay_ignores_wake_target(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let original = ctx
        .ok(
            "append_event(p1, wake, key w1)",
            reg.append_event("p1", wake("hi").with_replay_key("w1")),
        )
        .await?;
    let elsewhere = wake("hi")
        .with_replay_key("w1")
        .with_wake_target(ProcessScope::session("other"));
    let replayed = ctx
        .ok(
            "append_event(p1, wake, key w1, other target)",
            reg.append_event("p1", elsewhere),
        )
        .await?;
    ctx.same(
        "replay with another target",
        &replayed,
        &ProcessEventAppendResult {
            replayed: true,
            ..original.clone()
        },
    )?;
    let mut untargeted = wake("hi").with_replay_key("w1");
    untargeted.wake_target_scope = None;
    let replayed = ctx
        .ok(
            "append_event(p1, wake, key w1, no target)",
            reg.append_event("p1", untargeted),
        )
        .await?;
    ctx.same(
        "replay without a target",
        &replayed,
        &ProcessEventAppendResult {
            replayed: true,
            ..original
        },
    )
}

/// E2, J1, E10: a used replay key with another payload (`1.0` for `1`) or another type is
/// `ReplayConflict`, and nothing is appended.
pub async fn reused_replay_key_with_other_content_conflicts(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let first = event(NOTE, json!({"n": 1})).with_replay_key("k1");
    ctx.ok(
        "append_event(p1, note, key k1)",
        reg.append_event("p1", first),
    )
    .await?;
    let float = event(NOTE, json!({"n": 1.0})).with_replay_key("k1");
    ctx.err(
        "append_event(p1, note 1.0, key k1)",
        reg.append_event("p1", float),
        ErrorKind::ReplayConflict,
    )
    .await?;
    let other_type = event(TICK, json!({"n": 1})).with_replay_key("k1");
    ctx.err(
        "append_event(p1, tick, key k1)",
        reg.append_event("p1", other_type),
        ErrorKind::ReplayConflict,
    )
    .await?;
    let events = ctx
        .ok("events_after(p1, 0)", reg.events_after("p1", 0))
        .await?;
    ctx.same(
        "sequences after the conflicts",
        &sequences(&events),
        &vec![1],
    )
}

/// E2, P1, E6: the replay check comes first: replaying the terminal event of a terminal process
/// succeeds, and a used key with other content is `ReplayConflict` even where `AlreadyTerminal`
/// or `UndeclaredEventType` would also apply.
pub async fn replay_precedes_every_other_check(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    ctx.ok(
        "append_event(p1, note, key k1)",
        reg.append_event("p1", note(1).with_replay_key("k1")),
    )
    .await?;
    let output = success(json!("ok"));
    ctx.ok(
        "complete_process(p1)",
        reg.complete_process("p1", output.clone()),
    )
    .await?;
    let replayed = ctx
        .ok(
            "append_event(p1, terminal) again",
            reg.append_event("p1", terminal("p1", &output)),
        )
        .await?;
    ctx.same(
        "replay of the terminal event: replayed",
        &replayed.replayed,
        &true,
    )?;
    ctx.same(
        "replay of the terminal event: sequence",
        &replayed.event.sequence,
        &2,
    )?;
    let other = terminal("p1", &failure("late"));
    ctx.err(
        "append_event(p1, failed, terminal key)",
        reg.append_event("p1", other),
        ErrorKind::ReplayConflict,
    )
    .await?;
    let undeclared = event("nope", json!(1)).with_replay_key("k1");
    ctx.err(
        "append_event(p1, undeclared, key k1)",
        reg.append_event("p1", undeclared),
        ErrorKind::ReplayConflict,
    )
    .await
}

/// E4, B1: a terminal event or a cancel request without a replay key, or with a blank one, is
/// `ReplayKeyRequired`.
pub async fn terminal_and_cancel_request_need_replay_key(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let output = json!({ "await_output": success(json!(1)) });
    for name in [EVENT_COMPLETED, DONE, EVENT_CANCEL_REQUESTED] {
        let unkeyed = event(name, output.clone());
        let call = format!("append_event(p1, {name}, no key)");
        ctx.err(
            call,
            reg.append_event("p1", unkeyed.clone()),
            ErrorKind::ReplayKeyRequired,
        )
        .await?;
        let call = format!("append_event(p1, {name}, key \"  \")");
        let blank = unkeyed.with_replay_key("  ");
        ctx.err(
            call,
            reg.append_event("p1", blank),
            ErrorKind::ReplayKeyRequired,
        )
        .await?;
    }
    let cancel = event(EVENT_CANCEL_REQUESTED, json!({})).with_replay_key("c1");
    ctx.ok(
        "append_event(p1, cancel request, key c1)",
        reg.append_event("p1", cancel),
    )
    .await?;
    Ok(())
}

/// E15, P1: the key `process:<p>:terminal` on a non-terminal type is `InvalidRequest`, even for
/// an undeclared type; another process's terminal key is an ordinary key.
pub async fn terminal_replay_key_is_reserved(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let reserved = terminal_replay_key("p1");
    let cases = [
        ("note", note(1)),
        ("cancel request", event(EVENT_CANCEL_REQUESTED, json!({}))),
        ("undeclared type", event("nope", json!(1))),
    ];
    for (what, request) in cases {
        let call = format!("append_event(p1, {what}, key {reserved})");
        ctx.err(
            call,
            reg.append_event("p1", request.with_replay_key(&reserved)),
            ErrorKind::InvalidRequest,
        )
        .await?;
    }
    let foreign = note(1).with_replay_key(terminal_replay_key("p2"));
    let appended = ctx
        .ok(
            "append_event(p1, note, key process:p2:terminal)",
            reg.append_event("p1", foreign),
        )
        .await?;
    ctx.same("sequence of the note", &appended.event.sequence, &1)
}
