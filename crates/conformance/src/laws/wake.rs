//! Wake laws (E7, E9, E12, E13): when an event's wake materializes and how it renders, the
//! delivery and its `wake_id`, and how a wake event stays pending until acknowledged.

use procreg::canonical::wake_id;
use procreg::{ErrorKind, MaterializedWake, ProcessEvent, ProcessScope, ProcessWakeDelivery};
use serde_json::{Value, json};

use super::fixtures::{
    WAKE_CONST, WAKE_IDENTITY, WAKE_WHEN, event, note, standard, standard_p1, target, wake,
};
use crate::ctx::Ctx;
use crate::law::LawResult;

fn sequences(events: &[ProcessEvent]) -> Vec<u64> {
    events.iter().map(|e| e.sequence).collect()
}

fn when_payload(go: Option<Value>) -> Value {
    let mut payload = json!({"msg": "m", "key": "k"});
    if let (Some(go), Some(map)) = (go, payload.as_object_mut()) {
        map.insert("go".into(), go);
    }
    payload
}

/// E7, E9: an `event_identity` wake materializes with the input at its pointer and key
/// `<process>:<sequence>`; its delivery has `wake_id = wake:` + SHA-256 of
/// `<target scope id>\n<key>` and `created_at_ms` = the event's time.
pub async fn identity_wake_materializes_with_its_delivery(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    ctx.ok("append_event(p1, note)", reg.append_event("p1", note(1)))
        .await?;
    let appended = ctx
        .ok("append_event(p1, wake)", reg.append_event("p1", wake("hi")))
        .await?;
    let expected_wake = MaterializedWake {
        target_scope: target(),
        input: "hi".into(),
        dedupe_key: "p1:2".into(),
    };
    ctx.same(
        "the event's wake",
        &appended.event.wake,
        &Some(expected_wake),
    )?;
    let expected = ProcessWakeDelivery {
        wake_id: wake_id(&target(), "p1:2"),
        target_scope: target(),
        process_id: "p1".into(),
        sequence: 2,
        event_type: WAKE_IDENTITY.into(),
        dedupe_key: "p1:2".into(),
        input: "hi".into(),
        created_at_ms: appended.event.occurred_at_ms,
    };
    ctx.same(
        "the wake delivery",
        &appended.wake_delivery,
        &Some(expected),
    )
}

/// E7: a `when` value that is missing or falsy (null, false, "", [], {}) materializes no wake,
/// needs no target and stores none given; every other value (`0`, `"false"`, `[0]`, `true`) wakes.
pub async fn falsy_when_suppresses_wake_and_target(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let falsy = [
        None,
        Some(json!(null)),
        Some(json!(false)),
        Some(json!("")),
        Some(json!([])),
        Some(json!({})),
    ];
    for go in falsy {
        let call = format!("append_event(p1, wake.when, go {go:?}, no target)");
        let request = event(WAKE_WHEN, when_payload(go.clone()));
        let appended = ctx
            .ok(&call, reg.append_event("p1", request.clone()))
            .await?;
        ctx.same(format!("{call}: delivery"), &appended.wake_delivery, &None)?;
        let call = format!("append_event(p1, wake.when, go {go:?}, with target)");
        let appended = ctx
            .ok(
                &call,
                reg.append_event("p1", request.with_wake_target(target())),
            )
            .await?;
        ctx.same(format!("{call}: stored wake"), &appended.event.wake, &None)?;
    }
    for go in [
        json!(0),
        json!("false"),
        json!([0]),
        json!(true),
        json!({"a": null}),
    ] {
        let call = format!("append_event(p1, wake.when, go {go})");
        let request = event(WAKE_WHEN, when_payload(Some(go))).with_wake_target(target());
        let appended = ctx.ok(&call, reg.append_event("p1", request)).await?;
        let key = appended.wake_delivery.map(|d| d.dedupe_key);
        ctx.same(format!("{call}: dedupe key"), &key, &Some("k".to_owned()))?;
    }
    Ok(())
}

/// E7, J1: a wake input or pointer dedupe key renders a string as is and other JSON as
/// canonical JSON; input pointer `""` selects the whole payload.
pub async fn wake_values_render_strings_raw_and_json_canonical(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let payload = json!({"go": 1, "msg": {"b": 1, "a": [1.0, -0.0]}, "key": 2.5});
    let request = event(WAKE_WHEN, payload).with_wake_target(target());
    let appended = ctx
        .ok(
            "append_event(p1, wake.when, JSON values)",
            reg.append_event("p1", request),
        )
        .await?;
    let rendered = appended.event.wake.map(|w| (w.input, w.dedupe_key));
    let expected = (r#"{"a":[1.0,-0.0],"b":1}"#.to_owned(), "2.5".to_owned());
    ctx.same("input and key of wake.when", &rendered, &Some(expected))?;

    let payload = json!({"z": "é", "a": {"y": 1, "x": 2}});
    let request = event(WAKE_CONST, payload).with_wake_target(target());
    let appended = ctx
        .ok(
            "append_event(p1, wake.const)",
            reg.append_event("p1", request),
        )
        .await?;
    let rendered = appended.event.wake.map(|w| (w.input, w.dedupe_key));
    let expected = (r#"{"a":{"x":2,"y":1},"z":"é"}"#.to_owned(), "k".to_owned());
    ctx.same("input and key of wake.const", &rendered, &Some(expected))
}

/// E7, E10: a wake whose input or dedupe pointer finds no value is `InvalidEvent`, leaving no
/// trace.
pub async fn missing_wake_pointer_value_is_invalid_event(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let cases = [
        (
            "wake.identity without /msg",
            event(WAKE_IDENTITY, json!({"x": 1})),
        ),
        (
            "wake.when without /msg",
            event(WAKE_WHEN, json!({"go": true, "key": "k"})),
        ),
        (
            "wake.when without /key",
            event(WAKE_WHEN, json!({"go": true, "msg": "m"})),
        ),
    ];
    for (what, request) in cases {
        let call = format!("append_event(p1, {what})");
        let attempt = reg.append_event("p1", request.with_wake_target(target()));
        ctx.err(call, attempt, ErrorKind::InvalidEvent).await?;
    }
    let events = ctx
        .ok("events_after(p1, 0)", reg.events_after("p1", 0))
        .await?;
    ctx.same("events after the rejections", &events, &Vec::new())
}

/// E7: a wake that materializes without a wake target is `WakeTargetRequired`.
pub async fn materialized_wake_needs_a_target(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let untargeted = event(WAKE_IDENTITY, json!({"msg": "m"}));
    ctx.err(
        "append_event(p1, wake, no target)",
        reg.append_event("p1", untargeted),
        ErrorKind::WakeTargetRequired,
    )
    .await?;
    let untargeted = event(WAKE_CONST, json!({}));
    ctx.err(
        "append_event(p1, wake.const, no target)",
        reg.append_event("p1", untargeted),
        ErrorKind::WakeTargetRequired,
    )
    .await
}

/// E9, E12: equal targets and dedupe keys give equal wake ids, yet each wake event is pending
/// on its own (the registry never dedupes by `wake_id`); another target gives another id.
pub async fn equal_targets_and_keys_give_equal_wake_ids(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let request = event(WAKE_CONST, json!({"n": 1})).with_wake_target(target());
    let first = ctx
        .ok(
            "append_event(p1, wake.const)",
            reg.append_event("p1", request.clone()),
        )
        .await?;
    let second = ctx
        .ok(
            "append_event(p1, wake.const) again",
            reg.append_event("p1", request),
        )
        .await?;
    let ids =
        |r: &procreg::ProcessEventAppendResult| r.wake_delivery.as_ref().map(|d| d.wake_id.clone());
    ctx.same(
        "wake_id of the second delivery",
        &ids(&second),
        &ids(&first),
    )?;
    ctx.same("wake_id", &ids(&first), &Some(wake_id(&target(), "k")))?;
    let elsewhere =
        event(WAKE_CONST, json!({"n": 1})).with_wake_target(ProcessScope::session("waker"));
    let third = ctx
        .ok(
            "append_event(p1, wake.const, session target)",
            reg.append_event("p1", elsewhere),
        )
        .await?;
    ctx.ensure(
        ids(&third) != ids(&first),
        "wake_id for another target",
        "differs from the first",
        &ids(&third),
    )?;
    let pending = ctx
        .ok("wake_events_after(p1, 0)", reg.wake_events_after("p1", 0))
        .await?;
    ctx.same(
        "pending wake sequences",
        &sequences(&pending),
        &vec![1, 2, 3],
    )
}

/// E12: `wake_events_after(p, n)` lists the pending wake events above `n`, ascending, and
/// nothing else; unknown process: `UnknownProcess`.
pub async fn pending_wakes_are_listed_ascending(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    ctx.ok("append_event(p1, note)", reg.append_event("p1", note(1)))
        .await?;
    ctx.ok("append_event(p1, wake)", reg.append_event("p1", wake("a")))
        .await?;
    let quiet = event(WAKE_WHEN, when_payload(Some(json!(false))));
    ctx.ok(
        "append_event(p1, wake.when falsy)",
        reg.append_event("p1", quiet),
    )
    .await?;
    ctx.ok("append_event(p1, wake)", reg.append_event("p1", wake("b")))
        .await?;
    for (after, expected) in [(0, vec![2, 4]), (2, vec![4]), (4, vec![])] {
        let call = format!("wake_events_after(p1, {after})");
        let pending = ctx.ok(&call, reg.wake_events_after("p1", after)).await?;
        ctx.same(call, &sequences(&pending), &expected)?;
    }
    ctx.err(
        "wake_events_after(missing, 0)",
        reg.wake_events_after("missing", 0),
        ErrorKind::UnknownProcess,
    )
    .await
}

/// E13, R7: an acked wake stops being pending, idempotently; acking a non-wake event is a
/// no-op; the log and the record are untouched.
pub async fn acked_wake_stops_pending(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    ctx.ok("append_event(p1, note)", reg.append_event("p1", note(1)))
        .await?;
    ctx.ok("append_event(p1, wake)", reg.append_event("p1", wake("a")))
        .await?;
    ctx.ok("append_event(p1, wake)", reg.append_event("p1", wake("b")))
        .await?;
    let record = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    let events = ctx
        .ok("events_after(p1, 0)", reg.events_after("p1", 0))
        .await?;
    ctx.advance_ms(100);
    ctx.ok("ack_wake(p1, 2)", reg.ack_wake("p1", 2)).await?;
    ctx.ok("ack_wake(p1, 2) again", reg.ack_wake("p1", 2))
        .await?;
    ctx.ok("ack_wake(p1, 1) (a note)", reg.ack_wake("p1", 1))
        .await?;
    let pending = ctx
        .ok("wake_events_after(p1, 0)", reg.wake_events_after("p1", 0))
        .await?;
    ctx.same("pending wake sequences", &sequences(&pending), &vec![3])?;
    let after = ctx
        .ok("events_after(p1, 0)", reg.events_after("p1", 0))
        .await?;
    ctx.same("the log after the acks", &after, &events)?;
    let read = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    ctx.same("p1 after the acks", &read, &record)
}

/// E13, P1: `ack_wake` on an unknown process is `UnknownProcess` (whatever the sequence); on a
/// sequence the process does not have, `UnknownEvent`.
pub async fn ack_checks_process_then_event(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    ctx.err(
        "ack_wake(missing, 99)",
        reg.ack_wake("missing", 99),
        ErrorKind::UnknownProcess,
    )
    .await?;
    ctx.ok("register_process(p1)", reg.register_process(standard("p1")))
        .await?;
    ctx.ok("append_event(p1, wake)", reg.append_event("p1", wake("a")))
        .await?;
    ctx.err(
        "ack_wake(p1, 0)",
        reg.ack_wake("p1", 0),
        ErrorKind::UnknownEvent,
    )
    .await?;
    ctx.err(
        "ack_wake(p1, 2)",
        reg.ack_wake("p1", 2),
        ErrorKind::UnknownEvent,
    )
    .await
}

/// E2, E9: replaying a keyed wake append returns the original delivery even after the wake
/// was acked, and does not make it pending again.
pub async fn replayed_wake_append_returns_its_delivery(ctx: Ctx) -> LawResult {
    let reg = standard_p1(&ctx).await?;
    let request = wake("a").with_replay_key("w1");
    let original = ctx
        .ok(
            "append_event(p1, wake, key w1)",
            reg.append_event("p1", request.clone()),
        )
        .await?;
    ctx.ok("ack_wake(p1, 1)", reg.ack_wake("p1", 1)).await?;
    let replayed = ctx
        .ok(
            "append_event(p1, wake, key w1) again",
            reg.append_event("p1", request),
        )
        .await?;
    ctx.same(
        "delivery of the replay",
        &replayed.wake_delivery,
        &original.wake_delivery,
    )?;
    ctx.ensure(
        replayed.wake_delivery.is_some(),
        "delivery of the replay",
        "a delivery",
        &replayed.wake_delivery,
    )?;
    let pending = ctx
        .ok("wake_events_after(p1, 0)", reg.wake_events_after("p1", 0))
        .await?;
    ctx.same("pending wakes after the replay", &pending, &Vec::new())
}
