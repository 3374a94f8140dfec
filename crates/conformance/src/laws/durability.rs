//! Durability laws (D1-D3, D6, S5, L6), for Durable registries whose harness can crash and
//! reopen them (D7): every acknowledged grant, external ref, ack, deletion and lease survives
//! exactly, fencing and lease tokens are never reused, and keyed appends still replay.
//!
//! Records, events and terminal status across reopen are the harness area's first probe
//! (`harness::reopened_registry_holds_acknowledged_state`); these laws cover the rest of the
//! state.

use procreg::{
    DurabilityTier, PluginError, ProcessExternalRef, ProcessLease, ProcessScope,
    ProcessSessionDeleteReport,
};
use serde_json::json;

use super::answers::answer;
use super::fixtures::{WAKE_IDENTITY, event, note, standard, success, wake};
use super::grant_setup::{grant, grants_of, listed};
use crate::ctx::Ctx;
use crate::harness::RegistryHandle;
use crate::law::{LawFailure, LawResult};

const LONG: u64 = 60_000;

/// Crashes and reopens `reg`: a reopen that fails is a violation (D2), not an environment
/// failure.
async fn reopened(ctx: &Ctx, reg: RegistryHandle) -> Result<RegistryHandle, LawFailure> {
    ctx.reopen(reg)
        .await?
        .map_err(|e| ctx.unexpected_error("reopen after a crash", &e))
}

async fn register(ctx: &Ctx, reg: &RegistryHandle, ids: &[&str]) -> LawResult {
    for id in ids {
        let call = format!("register_process({id})");
        ctx.ok(call, reg.register_process(standard(id))).await?;
    }
    Ok(())
}

async fn claim(
    ctx: &Ctx,
    reg: &RegistryHandle,
    process_id: &str,
    owner: &str,
    ttl: u64,
) -> Result<ProcessLease, LawFailure> {
    let call = format!("claim_process_lease({process_id}, {owner}, {ttl})");
    ctx.ok(call, reg.claim_process_lease(process_id, owner, ttl))
        .await
}

async fn release(ctx: &Ctx, reg: &RegistryHandle, lease: &ProcessLease) -> LawResult {
    let call = format!("complete_process_lease({})", lease.lease_token);
    ctx.ok(call, reg.complete_process_lease(&lease.completion()))
        .await
}

/// D2, D1, H6, X1: grants (with descriptors, in every scope), external refs, records and the
/// worklist read back after a crash exactly as acknowledged, and the reopened registry still
/// reports `Durable`.
pub async fn grants_and_refs_survive_reopen(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    register(&ctx, &reg, &["p1", "p2"]).await?;
    let scopes = [
        ProcessScope::session("s1"),
        ProcessScope::frame("s1", "f1"),
        ProcessScope::session("s2"),
    ];
    for (scope, id) in scopes.iter().zip(["p1", "p1", "p2"]) {
        grant(&ctx, &reg, scope, id, &scope.id()).await?;
    }
    grant(&ctx, &reg, &scopes[0], "p1", "regranted").await?;
    let external = ProcessExternalRef {
        backend: "k8s".into(),
        id: "job-1".into(),
        metadata: Some(json!({"ns": "default", "n": 1.0})),
    };
    ctx.ok("set_external_ref(p1)", reg.set_external_ref("p1", external))
        .await?;
    ctx.ok(
        "complete_process(p2)",
        reg.complete_process("p2", success(json!(2))),
    )
    .await?;
    let grants = grants_of(&ctx, &reg, &["p1", "p2"]).await?;
    let records = ctx
        .ok("list_non_terminal()", reg.list_non_terminal())
        .await?;
    let p2 = ctx.ok("get_process(p2)", reg.get_process("p2")).await?;

    let reg = reopened(&ctx, reg).await?;
    let tier = reg.durability_tier();
    ctx.same(
        "durability_tier() after reopen",
        &tier,
        &DurabilityTier::Durable,
    )?;
    let read = grants_of(&ctx, &reg, &["p1", "p2"]).await?;
    ctx.same("grants after reopen", &read, &grants)?;
    let read = ctx
        .ok("list_non_terminal()", reg.list_non_terminal())
        .await?;
    ctx.same("the worklist after reopen", &read, &records)?;
    let read = ctx.ok("get_process(p2)", reg.get_process("p2")).await?;
    ctx.same("p2 after reopen", &read, &p2)
}

/// D6, E12, E13: pending wakes survive a crash exactly: acked ones stay acked, the others stay
/// pending and can be acked after the reopen.
pub async fn pending_wakes_survive_reopen(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    register(&ctx, &reg, &["p1"]).await?;
    for msg in ["a", "b", "c"] {
        let call = format!("append_event(p1, wake {msg})");
        ctx.ok(call, reg.append_event("p1", wake(msg))).await?;
    }
    ctx.ok("ack_wake(p1, 2)", reg.ack_wake("p1", 2)).await?;
    let pending = ctx
        .ok("wake_events_after(p1, 0)", reg.wake_events_after("p1", 0))
        .await?;

    let reg = reopened(&ctx, reg).await?;
    let read = ctx
        .ok("wake_events_after(p1, 0)", reg.wake_events_after("p1", 0))
        .await?;
    ctx.same("pending wakes after reopen", &read, &pending)?;
    ctx.ok("ack_wake(p1, 1)", reg.ack_wake("p1", 1)).await?;
    let read = ctx
        .ok("wake_events_after(p1, 0)", reg.wake_events_after("p1", 0))
        .await?;
    let sequences: Vec<u64> = read.iter().map(|e| e.sequence).collect();
    ctx.same("pending after acking 1", &sequences, &vec![3])
}

/// S5, D2: a session deleted before a crash stays deleted: its grants and wakes do not come
/// back, and deleting it again reports nothing.
pub async fn deleted_sessions_stay_deleted_after_reopen(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    register(&ctx, &reg, &["p1"]).await?;
    let (s1, f1) = (ProcessScope::session("s1"), ProcessScope::frame("s1", "f1"));
    grant(&ctx, &reg, &s1, "p1", "x").await?;
    grant(&ctx, &reg, &f1, "p1", "x").await?;
    let request = event(WAKE_IDENTITY, json!({"msg": "m"})).with_wake_target(f1.clone());
    ctx.ok(
        "append_event(p1, wake to s1/f1)",
        reg.append_event("p1", request),
    )
    .await?;
    ctx.ok(
        "delete_session_process_state(s1)",
        reg.delete_session_process_state("s1"),
    )
    .await?;
    // A deletion that only revokes grants, and one that only clears a wake, are each a change
    // that must survive the crash on its own.
    let s2 = ProcessScope::session("s2");
    grant(&ctx, &reg, &s2, "p1", "x").await?;
    let request =
        event(WAKE_IDENTITY, json!({"msg": "m"})).with_wake_target(ProcessScope::session("s3"));
    ctx.ok(
        "append_event(p1, wake to s3)",
        reg.append_event("p1", request),
    )
    .await?;
    for sid in ["s2", "s3"] {
        let call = format!("delete_session_process_state({sid})");
        ctx.ok(call, reg.delete_session_process_state(sid)).await?;
    }

    let reg = reopened(&ctx, reg).await?;
    let left = listed(&ctx, &reg, &s2).await?;
    ctx.same("grants of session:s2 after reopen", &left, &vec![])?;
    for scope in [&s1, &f1] {
        let left = listed(&ctx, &reg, scope).await?;
        ctx.same(
            format!("grants of {} after reopen", scope.id()),
            &left,
            &vec![],
        )?;
    }
    let pending = ctx
        .ok("wake_events_after(p1, 0)", reg.wake_events_after("p1", 0))
        .await?;
    ctx.same("pending wakes after reopen", &pending, &vec![])?;
    let report = ctx
        .ok(
            "delete_session_process_state(s1) again",
            reg.delete_session_process_state("s1"),
        )
        .await?;
    let empty = ProcessSessionDeleteReport {
        session_id: "s1".into(),
        ..ProcessSessionDeleteReport::default()
    };
    ctx.same("the repeated deletion's report", &report, &empty)
}

/// D3, L6: after each of two crashes, a claim gets a fencing token above every token issued
/// before, and a lease token never issued before for the process.
pub async fn tokens_are_never_reused_after_reopen(ctx: Ctx) -> LawResult {
    let mut reg = ctx.fresh().await?;
    register(&ctx, &reg, &["p1"]).await?;
    let mut issued: Vec<ProcessLease> = Vec::new();
    for crash in 0..2 {
        for owner in ["w1", "w2"] {
            let lease = claim(&ctx, &reg, "p1", owner, LONG).await?;
            release(&ctx, &reg, &lease).await?;
            issued.push(lease);
        }
        reg = reopened(&ctx, reg).await?;
        let lease = claim(&ctx, &reg, "p1", "w3", LONG).await?;
        let above = issued.iter().all(|l| l.fencing_token < lease.fencing_token);
        let new = issued.iter().all(|l| l.lease_token != lease.lease_token);
        let what = format!("the claim after crash {}", crash + 1);
        let wanted = "fencing token above and lease token unlike every earlier one";
        ctx.ensure(above && new, what, wanted, &(&lease, &issued))?;
        release(&ctx, &reg, &lease).await?;
        issued.push(lease);
    }
    Ok(())
}

/// D3, E2, C2: after a crash, a replayed keyed append returns the original event with its
/// sequence, and a repeated completion returns the terminal record without a new event.
pub async fn keyed_appends_replay_after_reopen(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    register(&ctx, &reg, &["p1"]).await?;
    ctx.ok("append_event(p1, note 1)", reg.append_event("p1", note(1)))
        .await?;
    let keyed = note(2).with_replay_key("k2");
    let first = ctx
        .ok(
            "append_event(p1, note 2 keyed k2)",
            reg.append_event("p1", keyed.clone()),
        )
        .await?;
    let output = success(json!({"rows": 3}));
    let record = ctx
        .ok(
            "complete_process(p1)",
            reg.complete_process("p1", output.clone()),
        )
        .await?;

    let reg = reopened(&ctx, reg).await?;
    let replayed = ctx
        .ok(
            "append_event(p1, note 2 keyed k2) again",
            reg.append_event("p1", keyed),
        )
        .await?;
    ctx.same("replayed", &replayed.replayed, &true)?;
    ctx.same("the replayed event", &replayed.event, &first.event)?;
    let again = ctx
        .ok(
            "complete_process(p1) again",
            reg.complete_process("p1", output),
        )
        .await?;
    ctx.same("the repeated completion's record", &again, &record)?;
    let events = ctx
        .ok("events_after(p1, 0)", reg.events_after("p1", 0))
        .await?;
    ctx.same("events after the replays", &events.len(), &3)
}

/// D6, L1, L3, L4, L5: lease state survives a crash exactly: a live lease is still held by its
/// owner until the same expiry and still renews with its tokens, a superseded lease still
/// cannot renew, a released or expired lease can be claimed by another owner.
pub async fn lease_state_survives_reopen(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    register(&ctx, &reg, &["p1", "p2", "p3"]).await?;
    let superseded = claim(&ctx, &reg, "p1", "w1", LONG).await?;
    let live = claim(&ctx, &reg, "p1", "w1", LONG).await?;
    let live = ctx
        .ok(
            "renew_process_lease(p1, w1)",
            reg.renew_process_lease(&live, 2 * LONG),
        )
        .await?;
    let released = claim(&ctx, &reg, "p2", "w1", LONG).await?;
    release(&ctx, &reg, &released).await?;
    claim(&ctx, &reg, "p3", "w1", 0).await?;

    let reg = reopened(&ctx, reg).await?;
    let call = "claim_process_lease(p1, w2)";
    let got = answer(&ctx, call, reg.claim_process_lease("p1", "w2", LONG)).await?;
    let expected = Err(PluginError::LeaseHeld {
        process_id: "p1".into(),
        holder_owner_id: "w1".into(),
        expires_at_ms: live.expires_at_ms,
    });
    ctx.same(call, &got, &expected)?;
    let fut = reg.renew_process_lease(&superseded, LONG);
    ctx.err(
        "renew_process_lease(superseded)",
        fut,
        procreg::ErrorKind::LeaseLost,
    )
    .await?;
    let renewed = ctx
        .ok(
            "renew_process_lease(live)",
            reg.renew_process_lease(&live, LONG),
        )
        .await?;
    let kept = (
        &renewed.lease_token,
        renewed.fencing_token,
        renewed.claimed_at_ms,
    );
    ctx.same(
        "the live lease's tokens",
        &kept,
        &(&live.lease_token, 2, live.claimed_at_ms),
    )?;
    for process_id in ["p2", "p3"] {
        let taken = claim(&ctx, &reg, process_id, "w2", LONG).await?;
        let what = format!("fencing token of w2's claim on {process_id}");
        ctx.same(what, &taken.fencing_token, &2)?;
    }
    Ok(())
}
