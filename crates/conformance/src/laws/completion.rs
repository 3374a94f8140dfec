//! Completion laws (C1-C3, C5): `complete_process` appends the one terminal core event, and a
//! retried completion is harmless whether it repeats the recorded output or not.

use procreg::{
    EVENT_CANCELLED, EVENT_COMPLETED, EVENT_FAILED, ErrorKind, ProcessAwaitOutput, ProcessEvent,
    ProcessStatus, ProcessTerminalState, terminal_replay_key,
};
use serde_json::json;

use super::fixtures::{cancelled, done, failure, note, standard, standard_p1, success, terminal};
use crate::ctx::Ctx;
use crate::law::LawResult;

/// C1, E8: completing a running process appends `process.completed` with payload
/// `{"await_output": out}` and key `process:<p>:terminal` at `now`, and returns the terminal
/// record.
pub async fn complete_appends_terminal_core_event(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    let created = ctx
        .ok("register_process(p1)", reg.register_process(standard("p1")))
        .await?;
    ctx.ok("append_event(p1, note)", reg.append_event("p1", note(1)))
        .await?;
    ctx.advance_ms(40);
    let output = success(json!({"rows": 2}));
    let record = ctx
        .ok(
            "complete_process(p1)",
            reg.complete_process("p1", output.clone()),
        )
        .await?;
    let mut expected = created;
    expected.status = ProcessStatus::terminal(output.clone());
    expected.updated_at_ms = ctx.now_ms();
    ctx.same("the returned record", &record, &expected)?;
    let events = ctx
        .ok("events_after(p1, 1)", reg.events_after("p1", 1))
        .await?;
    let terminal_event = ProcessEvent {
        process_id: "p1".into(),
        sequence: 2,
        event_type: EVENT_COMPLETED.into(),
        payload: json!({ "await_output": output }),
        replay_key: Some(terminal_replay_key("p1")),
        terminal: Some(ProcessTerminalState::Completed),
        wake: None,
        occurred_at_ms: ctx.now_ms(),
    };
    ctx.same("the log after completion", &events, &vec![terminal_event])
}

/// C1: each output selects its core type: failure `process.failed`, cancelled
/// `process.cancelled`, success `process.completed`.
pub async fn each_output_selects_its_core_type(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    let cases: [(&str, ProcessAwaitOutput, &str); 3] = [
        ("p1", success(json!(null)), EVENT_COMPLETED),
        ("p2", failure("boom"), EVENT_FAILED),
        ("p3", cancelled(), EVENT_CANCELLED),
    ];
    for (id, output, event_type) in cases {
        ctx.ok(
            format!("register_process({id})"),
            reg.register_process(standard(id)),
        )
        .await?;
        let record = ctx
            .ok(
                format!("complete_process({id})"),
                reg.complete_process(id, output.clone()),
            )
            .await?;
        ctx.same(
            format!("status of {id}"),
            &record.status,
            &ProcessStatus::terminal(output),
        )?;
        let events = ctx
            .ok(format!("events_after({id}, 0)"), reg.events_after(id, 0))
            .await?;
        let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        ctx.same(format!("event types of {id}"), &types, &vec![event_type])?;
    }
    Ok(())
}

/// C2: repeating a completion with the same output, later, returns the first record unchanged
/// and appends nothing.
pub async fn repeated_complete_returns_first_record(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let output = success(json!("done"));
    let first = ctx
        .ok(
            "complete_process(p1)",
            reg.complete_process("p1", output.clone()),
        )
        .await?;
    ctx.advance_ms(500);
    let again = ctx
        .ok(
            "complete_process(p1) again",
            reg.complete_process("p1", output),
        )
        .await?;
    ctx.same("the record a retried completion returns", &again, &first)?;
    let events = ctx
        .ok("events_after(p1, 0)", reg.events_after("p1", 0))
        .await?;
    ctx.same("events after the retry", &events.len(), &1)
}

/// C2, C3, J1: the retry's output is compared as JSON: reordered keys are equal (C2), `1.0`
/// for `1` is a different output (C3).
pub async fn retried_output_is_compared_as_json(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let first = ctx
        .ok(
            "complete_process(p1)",
            reg.complete_process("p1", success(json!({"a": 1, "b": 2}))),
        )
        .await?;
    let reordered = success(json!({"b": 2, "a": 1}));
    let again = ctx
        .ok(
            "complete_process(p1, keys reordered)",
            reg.complete_process("p1", reordered),
        )
        .await?;
    ctx.same("the record the reordered retry returns", &again, &first)?;
    let float = success(json!({"a": 1.0, "b": 2}));
    ctx.err(
        "complete_process(p1, 1.0 for 1)",
        reg.complete_process("p1", float),
        ErrorKind::AlreadyTerminal,
    )
    .await
}

/// C2: a completion retried after the process became terminal through a custom terminal event
/// with the same output is harmless too.
pub async fn retry_after_custom_terminal_event_is_harmless(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let output = success(json!(3));
    ctx.ok(
        "append_event(p1, done)",
        reg.append_event("p1", done(&output, "d1")),
    )
    .await?;
    let terminal_record = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    ctx.advance_ms(10);
    let record = ctx
        .ok("complete_process(p1)", reg.complete_process("p1", output))
        .await?;
    ctx.same(
        "the record the completion returns",
        &Some(record),
        &terminal_record,
    )?;
    let events = ctx
        .ok("events_after(p1, 0)", reg.events_after("p1", 0))
        .await?;
    ctx.same("events after the completion", &events.len(), &1)
}

/// C3: completing a terminal process with a different output is `AlreadyTerminal`; the record
/// and the log stay.
pub async fn different_output_is_already_terminal(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let record = ctx
        .ok(
            "complete_process(p1)",
            reg.complete_process("p1", success(json!(1))),
        )
        .await?;
    for (what, other) in [
        ("failure", failure("late")),
        ("cancelled", cancelled()),
        ("success 2", success(json!(2))),
    ] {
        let call = format!("complete_process(p1, {what})");
        ctx.err(
            call,
            reg.complete_process("p1", other),
            ErrorKind::AlreadyTerminal,
        )
        .await?;
    }
    let read = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    ctx.same("p1 after the refused completions", &read, &Some(record))?;
    let events = ctx
        .ok("events_after(p1, 0)", reg.events_after("p1", 0))
        .await?;
    ctx.same("events after the refused completions", &events.len(), &1)
}

/// C1, P1: completing an unknown process is `UnknownProcess`.
pub async fn unknown_process_is_rejected(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    let call = "complete_process(missing)";
    ctx.err(
        call,
        reg.complete_process("missing", success(json!(1))),
        ErrorKind::UnknownProcess,
    )
    .await
}

/// C5: completion is not fenced by leases: a process leased to one worker is completed by any
/// caller.
pub async fn completion_ignores_leases(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    ctx.ok(
        "claim_process_lease(p1, w1)",
        reg.claim_process_lease("p1", "w1", 60_000),
    )
    .await?;
    let output = success(json!("by someone else"));
    let record = ctx
        .ok(
            "complete_process(p1) without the lease",
            reg.complete_process("p1", output.clone()),
        )
        .await?;
    ctx.same(
        "status of p1",
        &record.status,
        &ProcessStatus::terminal(output),
    )
}

/// C1, E2: a completion is an ordinary keyed terminal append: appending the same terminal
/// request afterwards replays it.
pub async fn completion_replays_as_terminal_append(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let output = failure("bad input");
    ctx.ok(
        "complete_process(p1)",
        reg.complete_process("p1", output.clone()),
    )
    .await?;
    let events = ctx
        .ok("events_after(p1, 0)", reg.events_after("p1", 0))
        .await?;
    let replayed = ctx
        .ok(
            "append_event(p1, terminal request)",
            reg.append_event("p1", terminal("p1", &output)),
        )
        .await?;
    ctx.same("replayed", &replayed.replayed, &true)?;
    ctx.same(
        "the replayed event",
        &Some(replayed.event),
        &events.first().cloned(),
    )
}
