//! Lease laws (L1-L8, V1, P1): one live owner at a time, fencing tokens counting up by one per
//! claim over the process's whole life, renewals only by the exact current lease while it is
//! live, releases only by its token, and leases advisory to everything else.
//!
//! The trait has no lease read: a lease's state is observed through what claims, renewals and
//! releases answer.

use procreg::{ErrorKind, PluginError, ProcessLease, ProcessLeaseCompletion};
use serde_json::json;

use super::answers::answer;
use super::fixtures::{bare, note, standard, success};
use crate::ctx::Ctx;
use crate::harness::RegistryHandle;
use crate::law::{LawFailure, LawResult};

/// A TTL no law outlives.
const LONG: u64 = 60_000;

async fn registered(ctx: &Ctx) -> Result<RegistryHandle, LawFailure> {
    let reg = ctx.fresh().await?;
    ctx.ok("register_process(p1)", reg.register_process(standard("p1")))
        .await?;
    Ok(reg)
}

async fn claim(
    ctx: &Ctx,
    reg: &RegistryHandle,
    owner: &str,
    ttl: u64,
) -> Result<ProcessLease, LawFailure> {
    let call = format!("claim_process_lease(p1, {owner}, {ttl})");
    ctx.ok(call, reg.claim_process_lease("p1", owner, ttl))
        .await
}

async fn held(ctx: &Ctx, reg: &RegistryHandle, owner: &str) -> LawResult {
    let call = format!("claim_process_lease(p1, {owner})");
    let fut = reg.claim_process_lease("p1", owner, LONG);
    ctx.err(call, fut, ErrorKind::LeaseHeld).await
}

async fn lost(ctx: &Ctx, reg: &RegistryHandle, what: &str, lease: &ProcessLease) -> LawResult {
    let call = format!("renew_process_lease({what})");
    let fut = reg.renew_process_lease(lease, LONG);
    ctx.err(call, fut, ErrorKind::LeaseLost).await
}

async fn release(ctx: &Ctx, reg: &RegistryHandle, what: &str, lease: &ProcessLease) -> LawResult {
    let call = format!("complete_process_lease({what})");
    ctx.ok(call, reg.complete_process_lease(&lease.completion()))
        .await
}

/// L2, V1: the first claim gets fencing token 1, `claimed_at_ms = now` and
/// `expires_at_ms = now + ttl`, for the owner that asked.
pub async fn first_claim_gets_fence_one(ctx: Ctx) -> LawResult {
    let reg = registered(&ctx).await?;
    ctx.advance_ms(7);
    let lease = claim(&ctx, &reg, "w1", 1_000).await?;
    let expected = ProcessLease {
        process_id: "p1".into(),
        owner_id: "w1".into(),
        lease_token: lease.lease_token.clone(),
        fencing_token: 1,
        claimed_at_ms: ctx.now_ms(),
        expires_at_ms: ctx.now_ms() + 1_000,
    };
    ctx.same("the first lease", &lease, &expected)
}

/// L1, P1, B1: claim checks run in order: unknown process, then blank owner, then terminal
/// process, then a live lease of another owner.
pub async fn claim_checks_follow_precedence(ctx: Ctx) -> LawResult {
    let reg = registered(&ctx).await?;
    for owner in [" ", "w1"] {
        let fut = reg.claim_process_lease("missing", owner, LONG);
        let call = format!("claim_process_lease(missing, {owner:?})");
        ctx.err(call, fut, ErrorKind::UnknownProcess).await?;
    }
    claim(&ctx, &reg, "w1", LONG).await?;
    let fut = reg.claim_process_lease("p1", "\t", LONG);
    ctx.err(
        "claim_process_lease(p1, \"\\t\")",
        fut,
        ErrorKind::InvalidRequest,
    )
    .await?;
    held(&ctx, &reg, "w2").await?;
    ctx.ok(
        "complete_process(p1)",
        reg.complete_process("p1", success(json!(1))),
    )
    .await?;
    let fut = reg.claim_process_lease("p1", "", LONG);
    ctx.err(
        "claim_process_lease(p1, \"\")",
        fut,
        ErrorKind::InvalidRequest,
    )
    .await?;
    for owner in ["w2", "w1"] {
        let call = format!("claim_process_lease(p1, {owner}) on terminal p1");
        let fut = reg.claim_process_lease("p1", owner, LONG);
        ctx.err(call, fut, ErrorKind::AlreadyTerminal).await?;
    }
    Ok(())
}

/// L1: `LeaseHeld` names the holder's owner id and its lease's expiry.
pub async fn lease_held_names_holder_and_expiry(ctx: Ctx) -> LawResult {
    let reg = registered(&ctx).await?;
    let lease = claim(&ctx, &reg, "w1", LONG).await?;
    let call = "claim_process_lease(p1, w2)";
    let got = answer(&ctx, call, reg.claim_process_lease("p1", "w2", LONG)).await?;
    let expected = Err(PluginError::LeaseHeld {
        process_id: "p1".into(),
        holder_owner_id: "w1".into(),
        expires_at_ms: lease.expires_at_ms,
    });
    ctx.same(call, &got, &expected)
}

/// L2, L3: the same owner's re-claim succeeds with a new fencing and lease token and
/// supersedes its earlier lease, which can no longer renew, and whose release is a no-op that
/// leaves the new lease live.
pub async fn same_owner_reclaim_supersedes_earlier_lease(ctx: Ctx) -> LawResult {
    let reg = registered(&ctx).await?;
    let first = claim(&ctx, &reg, "w1", LONG).await?;
    let second = claim(&ctx, &reg, "w1", LONG).await?;
    ctx.same("fencing token of the re-claim", &second.fencing_token, &2)?;
    let new_token = second.lease_token != first.lease_token;
    ctx.ensure(
        new_token,
        "lease token of the re-claim",
        "a new token",
        &second,
    )?;
    lost(&ctx, &reg, "the superseded lease", &first).await?;
    release(&ctx, &reg, "the superseded lease", &first).await?;
    held(&ctx, &reg, "w2").await?;
    let renewed = ctx
        .ok(
            "renew_process_lease(the new lease)",
            reg.renew_process_lease(&second, LONG),
        )
        .await?;
    ctx.same(
        "token of the renewed lease",
        &renewed.lease_token,
        &second.lease_token,
    )
}

/// V1, L1, L2, L4: a lease is live while `expires_at_ms > now`: another owner is refused one
/// millisecond before expiry; at `now == expires_at_ms` the holder can no longer renew and
/// another owner claims.
pub async fn lease_expires_exactly_at_expires_at(ctx: Ctx) -> LawResult {
    let reg = registered(&ctx).await?;
    let lease = claim(&ctx, &reg, "w1", 100).await?;
    ctx.advance_ms(99);
    held(&ctx, &reg, "w2").await?;
    ctx.advance_ms(1);
    ctx.same("now", &ctx.now_ms(), &lease.expires_at_ms)?;
    lost(&ctx, &reg, "w1's lease at its expiry", &lease).await?;
    let taken = claim(&ctx, &reg, "w2", 100).await?;
    ctx.same("fencing token of w2's claim", &taken.fencing_token, &2)
}

/// V1, L2, L4: a lease claimed with TTL 0 is born expired: its holder cannot renew it and
/// another owner claims at once.
pub async fn zero_ttl_lease_is_born_expired(ctx: Ctx) -> LawResult {
    let reg = registered(&ctx).await?;
    let lease = claim(&ctx, &reg, "w1", 0).await?;
    ctx.same("expires_at_ms", &lease.expires_at_ms, &lease.claimed_at_ms)?;
    lost(&ctx, &reg, "a born-expired lease", &lease).await?;
    let taken = claim(&ctx, &reg, "w2", LONG).await?;
    ctx.same("fencing token of w2's claim", &taken.fencing_token, &2)
}

/// L4, P1: a renewal must present the stored owner id, lease token and fencing token: a forged
/// one of any of them is `LeaseLost` (an unknown process is `UnknownProcess` first), and the
/// true lease still renews afterwards.
pub async fn renew_checks_owner_and_both_tokens(ctx: Ctx) -> LawResult {
    let reg = registered(&ctx).await?;
    let lease = claim(&ctx, &reg, "w1", LONG).await?;
    let forged = [
        (
            "owner w2",
            ProcessLease {
                owner_id: "w2".into(),
                ..lease.clone()
            },
        ),
        (
            "lease token",
            ProcessLease {
                lease_token: "forged".into(),
                ..lease.clone()
            },
        ),
        (
            "fence + 1",
            ProcessLease {
                fencing_token: 2,
                ..lease.clone()
            },
        ),
        (
            "fence 0",
            ProcessLease {
                fencing_token: 0,
                ..lease.clone()
            },
        ),
    ];
    for (what, presented) in &forged {
        lost(&ctx, &reg, &format!("forged {what}"), presented).await?;
    }
    let unknown = ProcessLease {
        process_id: "missing".into(),
        lease_token: "forged".into(),
        ..lease.clone()
    };
    let fut = reg.renew_process_lease(&unknown, LONG);
    ctx.err(
        "renew_process_lease(missing)",
        fut,
        ErrorKind::UnknownProcess,
    )
    .await?;
    let renewed = ctx
        .ok(
            "renew_process_lease(w1's lease)",
            reg.renew_process_lease(&lease, LONG),
        )
        .await?;
    ctx.same(
        "fencing token after renew",
        &renewed.fencing_token,
        &lease.fencing_token,
    )
}

/// L4: a renewal ignores the presented timestamps, sets `expires_at_ms = now + ttl` and keeps
/// the claim time and both tokens; it returns the stored lease.
pub async fn renew_extends_from_now_keeping_claim_and_tokens(ctx: Ctx) -> LawResult {
    let reg = registered(&ctx).await?;
    let lease = claim(&ctx, &reg, "w1", 100).await?;
    ctx.advance_ms(60);
    let presented = ProcessLease {
        claimed_at_ms: 1,
        expires_at_ms: 2,
        ..lease.clone()
    };
    let renewed = ctx
        .ok(
            "renew_process_lease(w1's lease with other timestamps, 500)",
            reg.renew_process_lease(&presented, 500),
        )
        .await?;
    let expected = ProcessLease {
        expires_at_ms: ctx.now_ms() + 500,
        ..lease
    };
    ctx.same("the renewed lease", &renewed, &expected)?;
    ctx.advance_ms(499);
    held(&ctx, &reg, "w2").await
}

/// L4, V1: an expired lease cannot be renewed even when nobody claimed since; its owner must
/// claim again, which issues the next fencing token.
pub async fn expired_lease_cannot_renew(ctx: Ctx) -> LawResult {
    let reg = registered(&ctx).await?;
    let lease = claim(&ctx, &reg, "w1", 50).await?;
    ctx.advance_ms(51);
    lost(&ctx, &reg, "an expired lease", &lease).await?;
    let again = claim(&ctx, &reg, "w1", 50).await?;
    ctx.same("fencing token of the new claim", &again.fencing_token, &2)
}

/// L4, V1: a renewal with TTL 0 succeeds and leaves the lease expired: no further renewal, and
/// another owner claims.
pub async fn renew_with_zero_ttl_leaves_lease_expired(ctx: Ctx) -> LawResult {
    let reg = registered(&ctx).await?;
    let lease = claim(&ctx, &reg, "w1", LONG).await?;
    let renewed = ctx
        .ok(
            "renew_process_lease(w1's lease, 0)",
            reg.renew_process_lease(&lease, 0),
        )
        .await?;
    let kept = (renewed.lease_token.as_str(), renewed.fencing_token);
    ctx.same(
        "tokens after renew",
        &kept,
        &(lease.lease_token.as_str(), 1),
    )?;
    lost(&ctx, &reg, "the lease renewed with TTL 0", &lease).await?;
    claim(&ctx, &reg, "w2", LONG).await.map(drop)
}

/// L5, B1: a release with a token that is not the current lease's does nothing; with the
/// current token it releases; it is always `Ok`, idempotent, also for unknown and blank ids.
pub async fn release_needs_current_token_and_is_idempotent(ctx: Ctx) -> LawResult {
    let reg = registered(&ctx).await?;
    let lease = claim(&ctx, &reg, "w1", LONG).await?;
    let forged = ProcessLease {
        lease_token: "forged".into(),
        ..lease.clone()
    };
    release(&ctx, &reg, "a forged token", &forged).await?;
    held(&ctx, &reg, "w2").await?;
    release(&ctx, &reg, "w1's lease", &lease).await?;
    lost(&ctx, &reg, "a released lease", &lease).await?;
    let taken = claim(&ctx, &reg, "w2", LONG).await?;
    release(&ctx, &reg, "w1's lease again", &lease).await?;
    held(&ctx, &reg, "w3").await?;
    for (process_id, token) in [("missing", "t"), ("", ""), (" ", "lease-1")] {
        let completion = ProcessLeaseCompletion {
            process_id: process_id.into(),
            lease_token: token.into(),
        };
        let call = format!("complete_process_lease({process_id:?}, {token:?})");
        ctx.ok(call, reg.complete_process_lease(&completion))
            .await?;
    }
    ctx.ok(
        "renew_process_lease(w2's lease)",
        reg.renew_process_lease(&taken, LONG),
    )
    .await
    .map(drop)
}

/// L5, L6, L2: the fencing counter survives releases, expiries and supersession: each claim
/// gets the previous highest token + 1.
pub async fn release_keeps_the_fencing_counter(ctx: Ctx) -> LawResult {
    let reg = registered(&ctx).await?;
    let first = claim(&ctx, &reg, "w1", LONG).await?;
    release(&ctx, &reg, "the first lease", &first).await?;
    let second = claim(&ctx, &reg, "w1", 0).await?;
    let third = claim(&ctx, &reg, "w2", LONG).await?;
    let fourth = claim(&ctx, &reg, "w2", LONG).await?;
    release(&ctx, &reg, "the fourth lease", &fourth).await?;
    let fifth = claim(&ctx, &reg, "w3", LONG).await?;
    let fences: Vec<u64> = [first, second, third, fourth, fifth]
        .iter()
        .map(|l| l.fencing_token)
        .collect();
    ctx.same(
        "fencing tokens in claim order",
        &fences,
        &vec![1, 2, 3, 4, 5],
    )
}

/// L6, L2: lease tokens never repeat for a process, and fencing tokens count per process (a
/// second process's first claim gets 1).
pub async fn lease_tokens_never_repeat_per_process(ctx: Ctx) -> LawResult {
    let reg = registered(&ctx).await?;
    let mut tokens = Vec::new();
    // Per owner: a released lease, an expired one, a live one, its supersession, released.
    for round in 0..12u64 {
        let owner = format!("w{}", round / 4);
        let ttl = if round % 4 == 1 { 0 } else { LONG };
        let lease = claim(&ctx, &reg, &owner, ttl).await?;
        if round % 4 == 0 || round % 4 == 3 {
            release(&ctx, &reg, "the lease", &lease).await?;
        }
        tokens.push(lease.lease_token);
    }
    let mut distinct = tokens.clone();
    distinct.sort();
    distinct.dedup();
    let all_new = distinct.len() == tokens.len();
    ctx.ensure(
        all_new,
        "lease tokens of 12 claims",
        "all distinct",
        &tokens,
    )?;
    ctx.ok("register_process(p2)", reg.register_process(bare("p2")))
        .await?;
    let other = ctx
        .ok(
            "claim_process_lease(p2, w1)",
            reg.claim_process_lease("p2", "w1", LONG),
        )
        .await?;
    ctx.same(
        "fencing token of p2's first claim",
        &other.fencing_token,
        &1,
    )
}

/// L8, C5: a terminal event leaves the lease untouched: its holder still renews it (same
/// tokens) and releases it, as on a running process; nobody can claim a terminal process.
pub async fn terminal_event_leaves_lease_untouched(ctx: Ctx) -> LawResult {
    let reg = registered(&ctx).await?;
    let lease = claim(&ctx, &reg, "w1", LONG).await?;
    ctx.ok(
        "complete_process(p1)",
        reg.complete_process("p1", success(json!("done"))),
    )
    .await?;
    let renewed = ctx
        .ok(
            "renew_process_lease(w1's lease)",
            reg.renew_process_lease(&lease, LONG),
        )
        .await?;
    let tokens = (renewed.lease_token.as_str(), renewed.fencing_token);
    ctx.same(
        "tokens after renew",
        &tokens,
        &(lease.lease_token.as_str(), 1),
    )?;
    let fut = reg.claim_process_lease("p1", "w2", LONG);
    ctx.err(
        "claim_process_lease(p1, w2)",
        fut,
        ErrorKind::AlreadyTerminal,
    )
    .await?;
    release(&ctx, &reg, "w1's lease", &lease).await?;
    lost(&ctx, &reg, "the released lease", &lease).await
}

/// L7, C5: leases are advisory: while one owner holds the lease, anyone appends events, sets
/// the external ref, grants handles and completes the process.
pub async fn leases_are_advisory(ctx: Ctx) -> LawResult {
    let reg = registered(&ctx).await?;
    claim(&ctx, &reg, "w1", LONG).await?;
    ctx.ok("append_event(p1, note)", reg.append_event("p1", note(1)))
        .await?;
    let external = procreg::ProcessExternalRef {
        backend: "k8s".into(),
        id: "job-1".into(),
        metadata: None,
    };
    ctx.ok("set_external_ref(p1)", reg.set_external_ref("p1", external))
        .await?;
    let scope = procreg::ProcessScope::session("s1");
    ctx.ok(
        "grant_handle(s1, p1)",
        reg.grant_handle(&scope, "p1", procreg::ProcessHandleDescriptor::default()),
    )
    .await?;
    let record = ctx
        .ok(
            "complete_process(p1)",
            reg.complete_process("p1", success(json!(1))),
        )
        .await?;
    ctx.ensure(
        record.is_terminal(),
        "p1 after completion",
        "terminal",
        &record,
    )
}
