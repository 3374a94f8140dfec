//! Session deletion laws (S1-S6): `delete_session_process_state` removes exactly what a session
//! owns at that instant (grants of its session and frame scopes, pending wakes targeting them),
//! reports which running processes lost their last grant, and touches nothing else.

use procreg::{ErrorKind, ProcessEventAppendRequest, ProcessScope, ProcessSessionDeleteReport};
use serde_json::json;

use super::fixtures::{WAKE_IDENTITY, event, note, standard, success};
use super::grant_setup::{grant, grants_of, listed, register, strings};
use crate::ctx::Ctx;
use crate::harness::RegistryHandle;
use crate::law::{LawFailure, LawResult};

/// A wake event targeted at `scope`.
fn wake_to(scope: &ProcessScope, msg: &str) -> ProcessEventAppendRequest {
    event(WAKE_IDENTITY, json!({ "msg": msg })).with_wake_target(scope.clone())
}

/// The report of a deletion that found nothing.
fn empty_report(session_id: &str) -> ProcessSessionDeleteReport {
    ProcessSessionDeleteReport {
        session_id: session_id.to_owned(),
        ..ProcessSessionDeleteReport::default()
    }
}

async fn delete(
    ctx: &Ctx,
    reg: &RegistryHandle,
    session_id: &str,
) -> Result<ProcessSessionDeleteReport, LawFailure> {
    let call = format!("delete_session_process_state({session_id:?})");
    ctx.ok(call, reg.delete_session_process_state(session_id))
        .await
}

/// The sequences `wake_events_after(process_id, 0)` lists.
async fn pending(
    ctx: &Ctx,
    reg: &RegistryHandle,
    process_id: &str,
) -> Result<Vec<u64>, LawFailure> {
    let call = format!("wake_events_after({process_id}, 0)");
    let events = ctx.ok(call, reg.wake_events_after(process_id, 0)).await?;
    Ok(events.iter().map(|e| e.sequence).collect())
}

/// S1, V2: deletion removes the grants of the session scope and of every frame scope of that
/// session, matched by exact session id: `s10`, `s1-x` and `S1` keep theirs.
pub async fn deletion_removes_session_and_frame_grants_never_by_prefix(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    register(&ctx, &reg, &["p1", "p2"]).await?;
    let owned = [
        ProcessScope::session("s1"),
        ProcessScope::frame("s1", "f1"),
        ProcessScope::frame("s1", "f2"),
    ];
    let others = [
        ProcessScope::session("s10"),
        ProcessScope::session("s1-x"),
        ProcessScope::session("S1"),
        ProcessScope::frame("s10", "f1"),
    ];
    for scope in owned.iter().chain(&others) {
        grant(&ctx, &reg, scope, "p1", "x").await?;
    }
    grant(&ctx, &reg, &owned[1], "p2", "x").await?;
    let report = delete(&ctx, &reg, "s1").await?;
    ctx.same("revoked_handle_count", &report.revoked_handle_count, &4)?;
    for scope in &owned {
        let left = listed(&ctx, &reg, scope).await?;
        ctx.same(format!("grants of {}", scope.id()), &left, &vec![])?;
    }
    for scope in &others {
        let left = listed(&ctx, &reg, scope).await?;
        ctx.same(
            format!("grants of {}", scope.id()),
            &left,
            &strings(&["p1"]),
        )?;
    }
    Ok(())
}

/// S2, O1: a running process that lost a grant is preserved if a grant of it remains anywhere,
/// else cancelled; terminal and untouched processes are in neither list; both lists ascend by
/// byte order, hold no duplicates and are disjoint.
pub async fn lost_grants_are_cancelled_or_preserved(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    let ids = ["pz", "pa", "pm", "pb", "pt", "pu", "pn", "é", "Pq"];
    register(&ctx, &reg, &ids).await?;
    for id in ["pt", "pu"] {
        let call = format!("complete_process({id})");
        ctx.ok(call, reg.complete_process(id, success(json!(0))))
            .await?;
    }
    let (s1, s2) = (ProcessScope::session("s1"), ProcessScope::session("s2"));
    let (f1, f3) = (
        ProcessScope::frame("s1", "f1"),
        ProcessScope::frame("s1", "f3"),
    );
    let grants: [(&ProcessScope, &str); 12] = [
        (&s1, "pz"),
        (&s1, "pa"),
        (&f1, "pa"),
        (&s1, "pm"),
        (&s2, "pm"),
        (&f3, "pb"),
        (&ProcessScope::frame("s2", "f1"), "pb"),
        (&s1, "pt"),
        (&s1, "pu"),
        (&s2, "pu"),
        (&s2, "pn"),
        (&f1, "é"),
    ];
    for (scope, id) in grants {
        grant(&ctx, &reg, scope, id, "x").await?;
    }
    grant(&ctx, &reg, &s1, "Pq", "x").await?;
    let report = delete(&ctx, &reg, "s1").await?;
    let expected = ProcessSessionDeleteReport {
        session_id: "s1".into(),
        revoked_handle_count: 9,
        deleted_wake_count: 0,
        cancel_process_ids: strings(&["Pq", "pa", "pz", "é"]),
        preserved_process_ids: strings(&["pb", "pm"]),
    };
    ctx.same("the deletion report", &report, &expected)
}

/// S3: every pending wake whose target is the session or one of its frames stops pending and
/// is counted; acked wakes, other sessions' wakes and the event log stay as they were.
pub async fn pending_wakes_of_the_session_stop_pending(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    for id in ["p1", "p2"] {
        let call = format!("register_process({id})");
        ctx.ok(call, reg.register_process(standard(id))).await?;
    }
    let appends = [
        ("p1", wake_to(&ProcessScope::session("s1"), "a")),
        ("p1", wake_to(&ProcessScope::frame("s1", "f1"), "b")),
        ("p1", wake_to(&ProcessScope::session("s10"), "c")),
        ("p1", wake_to(&ProcessScope::session("s1"), "acked")),
        ("p1", note(5)),
        ("p1", wake_to(&ProcessScope::frame("s2", "f1"), "e")),
        ("p2", wake_to(&ProcessScope::frame("s1", "f9"), "f")),
    ];
    for (id, request) in appends {
        let call = format!("append_event({id}, {})", request.event_type);
        ctx.ok(call, reg.append_event(id, request)).await?;
    }
    ctx.ok("ack_wake(p1, 4)", reg.ack_wake("p1", 4)).await?;
    let log = ctx
        .ok("events_after(p1, 0)", reg.events_after("p1", 0))
        .await?;
    let report = delete(&ctx, &reg, "s1").await?;
    ctx.same("deleted_wake_count", &report.deleted_wake_count, &3)?;
    ctx.same(
        "pending wakes of p1",
        &pending(&ctx, &reg, "p1").await?,
        &vec![3, 6],
    )?;
    ctx.same(
        "pending wakes of p2",
        &pending(&ctx, &reg, "p2").await?,
        &vec![],
    )?;
    let after = ctx
        .ok("events_after(p1, 0) after", reg.events_after("p1", 0))
        .await?;
    ctx.same("the log of p1", &after, &log)
}

/// S4: deletion changes nothing else: records, events and leases stay, other sessions' grants
/// stay, and nothing is cancelled (no event is appended for the processes to cancel).
pub async fn deletion_changes_nothing_else(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    register(&ctx, &reg, &["p1", "p2"]).await?;
    let (s1, s2) = (ProcessScope::session("s1"), ProcessScope::session("s2"));
    grant(&ctx, &reg, &s1, "p1", "x").await?;
    grant(&ctx, &reg, &s1, "p2", "x").await?;
    grant(&ctx, &reg, &s2, "p2", "kept").await?;
    let lease = ctx
        .ok(
            "claim_process_lease(p1, w1)",
            reg.claim_process_lease("p1", "w1", 60_000),
        )
        .await?;
    let records = ctx
        .ok("list_non_terminal()", reg.list_non_terminal())
        .await?;
    ctx.advance_ms(10);
    let report = delete(&ctx, &reg, "s1").await?;
    ctx.same(
        "cancel_process_ids",
        &report.cancel_process_ids,
        &strings(&["p1"]),
    )?;
    let after = ctx
        .ok("list_non_terminal()", reg.list_non_terminal())
        .await?;
    ctx.same("records after the deletion", &after, &records)?;
    for id in ["p1", "p2"] {
        let call = format!("events_after({id}, 0)");
        let events = ctx.ok(call, reg.events_after(id, 0)).await?;
        ctx.same(format!("events of {id}"), &events.len(), &0)?;
    }
    let kept = grants_of(&ctx, &reg, &["p2"]).await?;
    let labels: Vec<_> = kept
        .iter()
        .map(|g| (g.scope.id(), g.descriptor.clone()))
        .collect();
    let expected = vec![(s2.id(), super::grant_setup::label("kept"))];
    ctx.same("grants of p2", &labels, &expected)?;
    let call = "claim_process_lease(p1, w2)";
    let fut = reg.claim_process_lease("p1", "w2", 60_000);
    ctx.err(call, fut, ErrorKind::LeaseHeld).await?;
    ctx.ok(
        "renew_process_lease(w1's lease)",
        reg.renew_process_lease(&lease, 60_000),
    )
    .await?;
    Ok(())
}

/// S5, B1: deleting an unknown session, a blank one, a frame-shaped id, or the same session a
/// second time reports zero counts and empty lists, and removes nothing.
pub async fn unknown_or_repeated_deletion_reports_nothing(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    ctx.ok("register_process(p1)", reg.register_process(standard("p1")))
        .await?;
    let f1 = ProcessScope::frame("s1", "f1");
    grant(&ctx, &reg, &f1, "p1", "x").await?;
    ctx.ok(
        "append_event(p1, wake to s1/f1)",
        reg.append_event("p1", wake_to(&f1, "m")),
    )
    .await?;
    for session_id in ["nobody", " ", "", "s1/frame:f1"] {
        let report = delete(&ctx, &reg, session_id).await?;
        let call = format!("report of deleting {session_id:?}");
        ctx.same(call, &report, &empty_report(session_id))?;
    }
    ctx.same(
        "grants of s1/f1",
        &listed(&ctx, &reg, &f1).await?,
        &strings(&["p1"]),
    )?;
    ctx.same(
        "pending wakes of p1",
        &pending(&ctx, &reg, "p1").await?,
        &vec![1],
    )?;
    let first = delete(&ctx, &reg, "s1").await?;
    ctx.same(
        "revoked by the first deletion",
        &first.revoked_handle_count,
        &1,
    )?;
    let second = delete(&ctx, &reg, "s1").await?;
    ctx.same("the second deletion's report", &second, &empty_report("s1"))
}

/// S6, S5: there is no tombstone: grants, transfers and wakes into a deleted session after its
/// deletion are new state, listed and deleted like any other.
pub async fn later_state_in_a_deleted_session_is_new(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    for id in ["p1", "p2"] {
        let call = format!("register_process({id})");
        ctx.ok(call, reg.register_process(standard(id))).await?;
    }
    let (s1, s2) = (ProcessScope::session("s1"), ProcessScope::session("s2"));
    let f1 = ProcessScope::frame("s1", "f1");
    grant(&ctx, &reg, &s1, "p1", "x").await?;
    grant(&ctx, &reg, &s2, "p2", "x").await?;
    delete(&ctx, &reg, "s1").await?;
    grant(&ctx, &reg, &s1, "p1", "again").await?;
    let ids = strings(&["p2"]);
    ctx.ok(
        "transfer_handle_grants(s2, s1/f1, [p2])",
        reg.transfer_handle_grants(&s2, &f1, &ids),
    )
    .await?;
    ctx.ok(
        "append_event(p1, wake to s1)",
        reg.append_event("p1", wake_to(&s1, "m")),
    )
    .await?;
    ctx.same(
        "grants of s1",
        &listed(&ctx, &reg, &s1).await?,
        &strings(&["p1"]),
    )?;
    ctx.same("grants of s1/f1", &listed(&ctx, &reg, &f1).await?, &ids)?;
    ctx.same(
        "pending wakes of p1",
        &pending(&ctx, &reg, "p1").await?,
        &vec![1],
    )?;
    let report = delete(&ctx, &reg, "s1").await?;
    let expected = ProcessSessionDeleteReport {
        session_id: "s1".into(),
        revoked_handle_count: 2,
        deleted_wake_count: 1,
        cancel_process_ids: strings(&["p1", "p2"]),
        preserved_process_ids: vec![],
    };
    ctx.same("the second deletion's report", &report, &expected)
}
