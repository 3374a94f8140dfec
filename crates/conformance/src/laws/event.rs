//! Event-log laws (E1, E3, E5, E6, E8, E10, E11, and P1's order for `append_event`): dense
//! sequences, one terminal event per process, and rejected appends that leave no trace.
//! Replay keys have their own area (`replay`), wakes theirs (`wake`).

use procreg::{
    EVENT_CANCEL_REQUESTED, EVENT_COMPLETED, EVENT_FAILED, ErrorKind, ProcessEvent, ProcessScope,
    ProcessStatus, ProcessTerminalState, terminal_replay_key,
};
use serde_json::json;

use super::fixtures::{
    DONE, NOTE, TICK, WAKE_IDENTITY, done, event, failure, note, standard, standard_p1, success,
    wake,
};
use crate::ctx::Ctx;
use crate::law::LawResult;

fn sequences(events: &[ProcessEvent]) -> Vec<u64> {
    events.iter().map(|e| e.sequence).collect()
}

/// E1, E11, B1: appending to or reading the log of an unknown (or blank) id is
/// `UnknownProcess`.
pub async fn unknown_process_is_rejected(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    for id in ["missing", "", " "] {
        let call = format!("append_event({id:?}, note)");
        ctx.err(
            call,
            reg.append_event(id, note(1)),
            ErrorKind::UnknownProcess,
        )
        .await?;
        let call = format!("events_after({id:?}, 0)");
        ctx.err(call, reg.events_after(id, 0), ErrorKind::UnknownProcess)
            .await?;
    }
    Ok(())
}

/// E8: new events get sequences 1, 2, 3 and `occurred_at_ms = now`, and each sets the record's
/// `updated_at_ms = now`.
pub async fn sequences_are_dense_from_one(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    for n in 1..=3u64 {
        ctx.advance_ms(5);
        let call = format!("append_event(p1, note {n})");
        let appended = ctx.ok(&call, reg.append_event("p1", note(n))).await?;
        let expected = ProcessEvent {
            process_id: "p1".into(),
            sequence: n,
            event_type: NOTE.into(),
            payload: json!({ "n": n }),
            replay_key: None,
            terminal: None,
            wake: None,
            occurred_at_ms: ctx.now_ms(),
        };
        ctx.same(format!("{call}: event"), &appended.event, &expected)?;
        ctx.same(format!("{call}: replayed"), &appended.replayed, &false)?;
        let read = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
        let updated = read.map(|r| r.updated_at_ms);
        ctx.same(
            "updated_at_ms after the append",
            &updated,
            &Some(ctx.now_ms()),
        )?;
    }
    Ok(())
}

/// E11: `events_after(p, n)` returns every event above `n`, ascending; nothing past the end.
pub async fn events_after_lists_later_events_ascending(ctx: Ctx) -> LawResult {
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
    for (after, expected) in [
        (0, vec![1, 2, 3]),
        (1, vec![2, 3]),
        (3, vec![]),
        (99, vec![]),
    ] {
        let call = format!("events_after(p1, {after})");
        let events = ctx.ok(&call, reg.events_after("p1", after)).await?;
        ctx.same(call, &sequences(&events), &expected)?;
    }
    Ok(())
}

/// E3, E10: an undeclared event type (names are case-sensitive) is `UndeclaredEventType`.
pub async fn undeclared_type_is_rejected(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    for name in ["nope", "NOTE", "note "] {
        let call = format!("append_event(p1, {name:?})");
        ctx.err(
            call,
            reg.append_event("p1", event(name, json!(1))),
            ErrorKind::UndeclaredEventType,
        )
        .await?;
    }
    let events = ctx
        .ok("events_after(p1, 0)", reg.events_after("p1", 0))
        .await?;
    ctx.same("events after the rejections", &events, &Vec::new())
}

/// E5, E10: a terminal payload without an `await_output` of the type's state is `InvalidEvent`.
pub async fn terminal_payload_must_match_state(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let cases = [
        ("done, empty payload", event(DONE, json!({}))),
        (
            "done, await_output a string",
            event(DONE, json!({"await_output": "x"})),
        ),
        (
            "completed, failure output",
            event(EVENT_COMPLETED, json!({"await_output": failure("f")})),
        ),
        (
            "failed, success output",
            event(EVENT_FAILED, json!({"await_output": success(json!(1))})),
        ),
    ];
    for (what, request) in cases {
        let call = format!("append_event(p1, {what})");
        ctx.err(
            call,
            reg.append_event("p1", request.with_replay_key("t1")),
            ErrorKind::InvalidEvent,
        )
        .await?;
    }
    let good = done(&success(json!(1)), "t1");
    let appended = ctx
        .ok(
            "append_event(p1, done, key t1)",
            reg.append_event("p1", good),
        )
        .await?;
    ctx.same(
        "sequence of the first accepted event",
        &appended.event.sequence,
        &1,
    )
}

/// E6: a terminal event on a terminal process is `AlreadyTerminal`; plain events and a late
/// cancel request are still accepted.
pub async fn second_terminal_event_is_rejected(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    ctx.ok(
        "append_event(p1, done, key d1)",
        reg.append_event("p1", done(&success(json!(1)), "d1")),
    )
    .await?;
    let failed = event(EVENT_FAILED, json!({"await_output": failure("f")})).with_replay_key("f1");
    ctx.err(
        "append_event(p1, failed, key f1)",
        reg.append_event("p1", failed),
        ErrorKind::AlreadyTerminal,
    )
    .await?;
    ctx.err(
        "append_event(p1, done, key d2)",
        reg.append_event("p1", done(&success(json!(1)), "d2")),
        ErrorKind::AlreadyTerminal,
    )
    .await?;
    ctx.ok("append_event(p1, note)", reg.append_event("p1", note(1)))
        .await?;
    let cancel = event(EVENT_CANCEL_REQUESTED, json!({})).with_replay_key("c1");
    let late = ctx
        .ok(
            "append_event(p1, cancel request)",
            reg.append_event("p1", cancel),
        )
        .await?;
    ctx.same(
        "sequence of the late cancel request",
        &late.event.sequence,
        &3,
    )
}

/// E8: a terminal event sets the status, with its await output, in the same step.
pub async fn terminal_event_sets_status_in_same_step(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let output = success(json!({"rows": 3}));
    let appended = ctx
        .ok(
            "append_event(p1, done)",
            reg.append_event("p1", done(&output, "d1")),
        )
        .await?;
    ctx.same(
        "terminal of the event",
        &appended.event.terminal,
        &Some(ProcessTerminalState::Completed),
    )?;
    let read = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    let status = read.map(|r| r.status);
    ctx.same(
        "status of p1",
        &status,
        &Some(ProcessStatus::terminal(output)),
    )
}

/// E10, R7: rejected appends consume no sequence and change nothing: the next accepted event
/// gets the next sequence, and the record is as before.
pub async fn rejected_appends_leave_no_trace(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    ctx.ok(
        "append_event(p1, note, key k1)",
        reg.append_event("p1", note(1).with_replay_key("k1")),
    )
    .await?;
    let before = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    ctx.advance_ms(100);
    let mut untargeted = wake("x");
    untargeted.wake_target_scope = None;
    let rejected = [
        (
            "undeclared",
            event("nope", json!(1)),
            ErrorKind::UndeclaredEventType,
        ),
        (
            "conflicting replay",
            note(9).with_replay_key("k1"),
            ErrorKind::ReplayConflict,
        ),
        (
            "unkeyed terminal",
            done(&success(json!(1)), ""),
            ErrorKind::ReplayKeyRequired,
        ),
        (
            "bad terminal payload",
            event(DONE, json!({})).with_replay_key("d"),
            ErrorKind::InvalidEvent,
        ),
        ("untargeted wake", untargeted, ErrorKind::WakeTargetRequired),
    ];
    for (what, request, kind) in rejected {
        let call = format!("append_event(p1, {what})");
        ctx.err(call, reg.append_event("p1", request), kind).await?;
    }
    let after = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    ctx.same("p1 after rejected appends", &after, &before)?;
    let next = ctx
        .ok(
            "append_event(p1, tick)",
            reg.append_event("p1", event(TICK, json!(2))),
        )
        .await?;
    ctx.same(
        "sequence of the next accepted event",
        &next.event.sequence,
        &2,
    )
}

/// P1, E15, E4, E5, E6, E7: when several errors apply to an append, the first in P1's order
/// wins.
pub async fn append_checks_follow_precedence(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    let reserved = terminal_replay_key("p1");
    let all_wrong = event("nope", json!(1)).with_replay_key(&reserved);
    ctx.err(
        "append_event(missing, everything wrong)",
        reg.append_event("missing", all_wrong.clone()),
        ErrorKind::UnknownProcess,
    )
    .await?;
    ctx.ok("register_process(p1)", reg.register_process(standard("p1")))
        .await?;
    let blank_target = event("nope", json!(1)).with_wake_target(ProcessScope::session(" "));
    ctx.err(
        "append_event(p1, undeclared, blank target session)",
        reg.append_event("p1", blank_target),
        ErrorKind::InvalidRequest,
    )
    .await?;
    let missing_input = event(WAKE_IDENTITY, json!({"other": 1}));
    ctx.err(
        "append_event(p1, wake without input and target)",
        reg.append_event("p1", missing_input),
        ErrorKind::InvalidEvent,
    )
    .await?;
    ctx.ok(
        "complete_process(p1)",
        reg.complete_process("p1", success(json!(1))),
    )
    .await?;
    let unkeyed = event(DONE, json!({"await_output": success(json!(2))}));
    ctx.err(
        "append_event(terminal p1, done, no key)",
        reg.append_event("p1", unkeyed),
        ErrorKind::ReplayKeyRequired,
    )
    .await?;
    let bad_payload = event(DONE, json!({})).with_replay_key("d1");
    ctx.err(
        "append_event(terminal p1, done, bad payload)",
        reg.append_event("p1", bad_payload),
        ErrorKind::InvalidEvent,
    )
    .await?;
    let good_payload = done(&success(json!(2)), "d1");
    ctx.err(
        "append_event(terminal p1, done, key d1)",
        reg.append_event("p1", good_payload),
        ErrorKind::AlreadyTerminal,
    )
    .await?;
    Ok(())
}

/// E5, E8, Z6: a terminal payload may carry more than its `await_output`, and the output may
/// carry unknown fields: the status records the parsed output, the event keeps the payload
/// verbatim.
pub async fn terminal_payload_extra_fields_are_kept_in_event(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let payload = json!({
        "await_output": {"type": "success", "value": [1, 2], "extra": true},
        "note": "kept",
    });
    let request = event(DONE, payload.clone()).with_replay_key("d1");
    let appended = ctx
        .ok(
            "append_event(p1, done, extra fields)",
            reg.append_event("p1", request),
        )
        .await?;
    ctx.same("the stored payload", &appended.event.payload, &payload)?;
    let read = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    let status = read.map(|r| r.status);
    let parsed = ProcessStatus::terminal(success(json!([1, 2])));
    ctx.same("status of p1", &status, &Some(parsed))
}
