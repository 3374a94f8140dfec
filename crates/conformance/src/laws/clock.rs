//! Clock laws (T1, T2): a registry takes its time only from the injected clock, and each call
//! reads it once, using that one reading for every timestamp it writes.
//!
//! T1 is checked on a clock that moves on after every reading ([`Ctx::tick_on_every_read`]): a
//! call that read it twice would write two different times.

use procreg::{ProcessExternalRef, ProcessLease};
use serde_json::json;

use super::fixtures::{note, standard, success, wake};
use crate::ctx::Ctx;
use crate::law::LawResult;

/// T1: with a clock that moves after each reading, every call still writes one time: a new
/// record's `created_at_ms == updated_at_ms`; an append's event, wake delivery and record
/// agree; a claim's and a renewal's expiry is that reading + TTL; a completion's terminal event
/// and record agree.
pub async fn each_call_writes_one_reading(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    ctx.tick_on_every_read(1);
    let record = ctx
        .ok("register_process(p1)", reg.register_process(standard("p1")))
        .await?;
    ctx.same(
        "updated_at_ms of a new record",
        &record.updated_at_ms,
        &record.created_at_ms,
    )?;
    let appended = ctx
        .ok("append_event(p1, wake)", reg.append_event("p1", wake("m")))
        .await?;
    let written = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    let created = appended.wake_delivery.map(|d| d.created_at_ms);
    let occurred = appended.event.occurred_at_ms;
    let times = (created, written.map(|r| r.updated_at_ms));
    ctx.same(
        "wake created_at_ms, record updated_at_ms",
        &times,
        &(Some(occurred), Some(occurred)),
    )?;
    let lease = ctx
        .ok(
            "claim_process_lease(p1, w1, 100)",
            reg.claim_process_lease("p1", "w1", 100),
        )
        .await?;
    let span = |l: &ProcessLease| l.expires_at_ms.saturating_sub(l.claimed_at_ms);
    ctx.same(
        "expires_at_ms - claimed_at_ms of the claim",
        &span(&lease),
        &100,
    )?;
    let external = ProcessExternalRef {
        backend: "b".into(),
        id: "x".into(),
        metadata: None,
    };
    let record = ctx
        .ok("set_external_ref(p1)", reg.set_external_ref("p1", external))
        .await?;
    let completed = ctx
        .ok(
            "complete_process(p1)",
            reg.complete_process("p1", success(json!(1))),
        )
        .await?;
    ctx.ensure(
        completed.updated_at_ms > record.updated_at_ms,
        "updated_at_ms after completion",
        "later than before (the clock moved)",
        &completed,
    )?;
    let events = ctx
        .ok("events_after(p1, 1)", reg.events_after("p1", 1))
        .await?;
    let occurred: Vec<u64> = events.iter().map(|e| e.occurred_at_ms).collect();
    ctx.same(
        "occurred_at_ms of the terminal event",
        &occurred,
        &vec![completed.updated_at_ms],
    )
}

/// T2: a registry on the injected clock takes every time it writes from it, however far the
/// clock is from the wall clock: records, events and leases carry exactly the injected time.
pub async fn timestamps_come_from_the_injected_clock(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    const TEN_YEARS_MS: u64 = 10 * 365 * 24 * 3_600_000;
    ctx.advance_ms(TEN_YEARS_MS + 7);
    let record = ctx
        .ok("register_process(p1)", reg.register_process(standard("p1")))
        .await?;
    ctx.same("created_at_ms", &record.created_at_ms, &ctx.now_ms())?;
    ctx.advance_ms(3);
    let appended = ctx
        .ok("append_event(p1, note)", reg.append_event("p1", note(1)))
        .await?;
    ctx.same(
        "occurred_at_ms",
        &appended.event.occurred_at_ms,
        &ctx.now_ms(),
    )?;
    ctx.advance_ms(5);
    let lease = ctx
        .ok(
            "claim_process_lease(p1, w1, 10)",
            reg.claim_process_lease("p1", "w1", 10),
        )
        .await?;
    let times = (lease.claimed_at_ms, lease.expires_at_ms);
    ctx.same(
        "claimed_at_ms, expires_at_ms",
        &times,
        &(ctx.now_ms(), ctx.now_ms() + 10),
    )
}
