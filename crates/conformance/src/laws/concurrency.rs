//! Concurrency laws (A1): calls racing on one registry, each in its own task on the law's
//! runtime, end as some one-at-a-time order of them would: one claim wins, one keyed append
//! is stored, one completion decides, a transfer and a session deletion do not mix, and racing
//! appends get distinct dense sequences.
//!
//! Every racer is started before any is awaited, so a backend that yields inside a call (I/O,
//! locks, retries) interleaves them; a backend that never yields runs them one after another,
//! which is one of the orders A1 allows.

use procreg::{ErrorKind, PluginError, ProcessScope, ProcessSessionDeleteReport};
use serde_json::json;

use super::answers::{Answer, joined, kind_of, spawn_answer};
use super::fixtures::{note, standard, success};
use super::grant_setup::{grant, listed, strings};
use crate::ctx::{Ctx, Spawned};
use crate::harness::RegistryHandle;
use crate::law::{LawFailure, LawResult};

/// How many callers race.
const RACERS: u64 = 8;

async fn registered(ctx: &Ctx, ids: &[&str]) -> Result<RegistryHandle, LawFailure> {
    let reg = ctx.fresh().await?;
    for id in ids {
        let call = format!("register_process({id})");
        ctx.ok(call, reg.register_process(standard(id))).await?;
    }
    Ok(reg)
}

/// Joins racers named `calls[i]`, in start order.
async fn join_all<T>(
    ctx: &Ctx,
    racers: Vec<(String, Spawned<Answer<T>>)>,
) -> Result<Vec<Answer<T>>, LawFailure> {
    let mut answers = Vec::new();
    for (call, spawned) in racers {
        answers.push(joined(ctx, &call, spawned).await?);
    }
    Ok(answers)
}

/// A1, L1, L2: of racing claims by different owners, exactly one wins (fencing token 1) and
/// every other gets `LeaseHeld` naming the winner.
pub async fn racing_claims_have_one_winner(ctx: Ctx) -> LawResult {
    let reg = registered(&ctx, &["p1"]).await?;
    let racers = (0..RACERS)
        .map(|i| {
            let (reg, owner) = (reg.clone(), format!("w{i}"));
            let call = format!("claim_process_lease(p1, {owner}) racing");
            let fut = async move { reg.claim_process_lease("p1", &owner, 60_000).await };
            (call.clone(), spawn_answer(&ctx, &call, fut))
        })
        .collect();
    let answers = join_all(&ctx, racers).await?;
    let winners: Vec<_> = answers.iter().filter_map(|a| a.as_ref().ok()).collect();
    if winners.len() != 1 {
        return ctx.ensure(false, "racing claims", "exactly one winner", &answers);
    }
    let winner = winners[0];
    ctx.same("the winner's fencing token", &winner.fencing_token, &1)?;
    let held = Err(PluginError::LeaseHeld {
        process_id: "p1".into(),
        holder_owner_id: winner.owner_id.clone(),
        expires_at_ms: winner.expires_at_ms,
    });
    for got in answers.iter().filter(|a| a.is_err()) {
        ctx.same("a losing claim", got, &held)?;
    }
    Ok(())
}

/// A1, E2: racing appends of one keyed request store one event: every caller gets it, exactly
/// one as not replayed, and the log holds it once.
pub async fn racing_keyed_appends_share_one_sequence(ctx: Ctx) -> LawResult {
    let reg = registered(&ctx, &["p1"]).await?;
    let racers = (0..RACERS)
        .map(|i| {
            let reg = reg.clone();
            let call = format!("append_event(p1, note keyed k) racer {i}");
            let fut = async move { reg.append_event("p1", note(1).with_replay_key("k")).await };
            (call.clone(), spawn_answer(&ctx, &call, fut))
        })
        .collect();
    let answers = join_all(&ctx, racers).await?;
    let mut results = Vec::new();
    for got in answers {
        results.push(got.map_err(|e| ctx.unexpected_error("a racing keyed append", &e))?);
    }
    let fresh = results.iter().filter(|r| !r.replayed).count();
    ctx.same("appends not replayed", &fresh, &1)?;
    let log = ctx
        .ok("events_after(p1, 0)", reg.events_after("p1", 0))
        .await?;
    for result in &results {
        ctx.same("the event a racer got", &vec![result.event.clone()], &log)?;
    }
    Ok(())
}

/// A1, C2: racing completions with one output all succeed with the same terminal record, and
/// exactly one terminal event is appended.
pub async fn racing_equal_completions_append_one_terminal_event(ctx: Ctx) -> LawResult {
    let reg = registered(&ctx, &["p1"]).await?;
    let racers = (0..RACERS)
        .map(|i| {
            let reg = reg.clone();
            let call = format!("complete_process(p1, success 7) racer {i}");
            let fut = async move { reg.complete_process("p1", success(json!(7))).await };
            (call.clone(), spawn_answer(&ctx, &call, fut))
        })
        .collect();
    let answers = join_all(&ctx, racers).await?;
    let record = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    let record = ctx.present("record of p1", record)?;
    for got in &answers {
        ctx.same("a racing completion", got, &Ok(record.clone()))?;
    }
    let events = ctx
        .ok("events_after(p1, 0)", reg.events_after("p1", 0))
        .await?;
    ctx.same("events after racing completions", &events.len(), &1)
}

/// A1, C3: of racing completions with different outputs exactly one wins; every other gets
/// `AlreadyTerminal`, and the status holds the winner's output.
pub async fn racing_different_completions_have_one_winner(ctx: Ctx) -> LawResult {
    let reg = registered(&ctx, &["p1"]).await?;
    let racers = (0..RACERS)
        .map(|i| {
            let reg = reg.clone();
            let call = format!("complete_process(p1, success {i}) racing");
            let fut = async move { reg.complete_process("p1", success(json!(i))).await };
            (call.clone(), spawn_answer(&ctx, &call, fut))
        })
        .collect();
    let answers = join_all(&ctx, racers).await?;
    let kinds: Vec<Option<ErrorKind>> = answers.iter().map(kind_of).collect();
    let winners = kinds.iter().filter(|k| k.is_none()).count();
    let losers_terminal = kinds
        .iter()
        .all(|k| matches!(k, None | Some(ErrorKind::AlreadyTerminal)));
    let claim = "one success, every other already_terminal";
    ctx.ensure(
        winners == 1 && losers_terminal,
        "racing completions",
        claim,
        &kinds,
    )?;
    let record = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    let winner = answers.into_iter().find_map(Result::ok);
    ctx.same("p1 after the race", &record, &winner)
}

/// A1, H7, S1, S2: a transfer out of a session racing that session's deletion is all or
/// nothing: either every grant moved and the deletion found only the frame's grant, or the
/// deletion took them all and the transfer moved nothing (`HandleNotGranted`). Each of the two
/// is started first in turn.
pub async fn transfer_racing_session_deletion_is_all_or_nothing(ctx: Ctx) -> LawResult {
    for round in 0..4 {
        race_transfer_and_deletion(&ctx, round).await?;
    }
    Ok(())
}

async fn race_transfer_and_deletion(ctx: &Ctx, round: usize) -> LawResult {
    let ids = ["p1", "p2", "p3", "p4"];
    let reg = registered(ctx, &ids).await?;
    let (s1, s2) = (ProcessScope::session("s1"), ProcessScope::session("s2"));
    let f1 = ProcessScope::frame("s1", "f1");
    for id in ids {
        grant(ctx, &reg, &s1, id, id).await?;
    }
    grant(ctx, &reg, &f1, "p1", "frame").await?;
    let (mover, deleter) = (reg.clone(), reg.clone());
    let (from, to) = (s1.clone(), s2.clone());
    let moving = async move {
        mover
            .transfer_handle_grants(&from, &to, &strings(&ids))
            .await
    };
    let deleting = async move { deleter.delete_session_process_state("s1").await };
    let call = "transfer_handle_grants(s1, s2, [p1..p4]) racing";
    let delete_call = "delete_session_process_state(s1) racing";
    let (transfer, deletion) = if round.is_multiple_of(2) {
        let transfer = spawn_answer(ctx, call, moving);
        yield_times(round).await;
        (transfer, spawn_answer(ctx, delete_call, deleting))
    } else {
        let deletion = spawn_answer(ctx, delete_call, deleting);
        yield_times(round).await;
        (spawn_answer(ctx, call, moving), deletion)
    };
    let moved = joined(ctx, call, transfer).await?;
    let report = joined(ctx, delete_call, deletion).await?;
    let report = report.map_err(|e| ctx.unexpected_error(delete_call, &e))?;
    let (expected_report, expected_s2) = match kind_of(&moved) {
        None => (after_transfer(), strings(&ids)),
        Some(ErrorKind::HandleNotGranted) => (after_deletion(), vec![]),
        Some(_) => {
            let claim = "ok or handle_not_granted";
            return ctx.ensure(false, "the racing transfer", claim, &moved);
        }
    };
    ctx.same("the racing deletion's report", &report, &expected_report)?;
    ctx.same("grants of s2", &listed(ctx, &reg, &s2).await?, &expected_s2)?;
    for scope in [&s1, &f1] {
        let left = listed(ctx, &reg, scope).await?;
        ctx.same(format!("grants of {}", scope.id()), &left, &vec![])?;
    }
    Ok(())
}

async fn yield_times(n: usize) {
    for _ in 0..n {
        tokio::task::yield_now().await;
    }
}

/// What deleting s1 reports after the transfer moved p1-p4 to s2.
fn after_transfer() -> ProcessSessionDeleteReport {
    ProcessSessionDeleteReport {
        session_id: "s1".into(),
        revoked_handle_count: 1,
        preserved_process_ids: strings(&["p1"]),
        ..ProcessSessionDeleteReport::default()
    }
}

/// What deleting s1 reports before the transfer.
fn after_deletion() -> ProcessSessionDeleteReport {
    ProcessSessionDeleteReport {
        session_id: "s1".into(),
        revoked_handle_count: 5,
        cancel_process_ids: strings(&["p1", "p2", "p3", "p4"]),
        ..ProcessSessionDeleteReport::default()
    }
}

/// A1, E8: racing unkeyed appends all succeed with distinct sequences 1..n, and the log holds
/// each racer's payload at the sequence it was told.
pub async fn racing_appends_get_distinct_dense_sequences(ctx: Ctx) -> LawResult {
    let reg = registered(&ctx, &["p1"]).await?;
    let racers = (0..RACERS)
        .map(|i| {
            let reg = reg.clone();
            let call = format!("append_event(p1, note {i}) racing");
            let fut = async move { reg.append_event("p1", note(i)).await };
            (call.clone(), spawn_answer(&ctx, &call, fut))
        })
        .collect();
    let answers = join_all(&ctx, racers).await?;
    let mut told = Vec::new();
    for got in answers {
        let result = got.map_err(|e| ctx.unexpected_error("a racing append", &e))?;
        told.push(result.event);
    }
    told.sort_by_key(|e| e.sequence);
    let sequences: Vec<u64> = told.iter().map(|e| e.sequence).collect();
    ctx.same(
        "sequences the racers got",
        &sequences,
        &(1..=RACERS).collect(),
    )?;
    let log = ctx
        .ok("events_after(p1, 0)", reg.events_after("p1", 0))
        .await?;
    ctx.same("the log", &log, &told)
}
