//! Handle grant laws (H1-H6, H8): grants are upserts keyed by the exact scope id, revokes are
//! idempotent, lists hold exactly one scope in byte order with current records, and grants never
//! reach events, leases or records.

use procreg::{ErrorKind, ProcessHandleDescriptor, ProcessHandleGrant, ProcessScope};
use serde_json::json;

use super::fixtures::{note, standard, success};
use super::grant_setup::{grant, label, listed, register, strings};
use crate::ctx::Ctx;
use crate::law::LawResult;

/// H1: granting returns the grant; granting the same scope and process again replaces the
/// descriptor (one grant, the new descriptor), it does not add a second grant.
pub async fn regrant_replaces_descriptor(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    register(&ctx, &reg, &["p1"]).await?;
    let s1 = ProcessScope::session("s1");
    let first = grant(&ctx, &reg, &s1, "p1", "old").await?;
    let expected = ProcessHandleGrant {
        scope: s1.clone(),
        process_id: "p1".into(),
        descriptor: label("old"),
    };
    ctx.same("the grant returned", &first, &expected)?;
    let kind = ProcessHandleDescriptor {
        kind: Some("shell".into()),
        label: None,
    };
    let call = "grant_handle(s1, p1, kind shell)";
    let second = ctx
        .ok(call, reg.grant_handle(&s1, "p1", kind.clone()))
        .await?;
    let expected = ProcessHandleGrant {
        descriptor: kind,
        ..expected
    };
    ctx.same("the regrant returned", &second, &expected)?;
    let grants = ctx
        .ok(
            "handle_grants_for_process(p1)",
            reg.handle_grants_for_process("p1"),
        )
        .await?;
    ctx.same("grants of p1 after the regrant", &grants, &vec![expected])
}

/// H1, P1: granting on an unknown process is `UnknownProcess`, before the blank session is
/// looked at.
pub async fn unknown_process_is_rejected(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    let s1 = ProcessScope::session("s1");
    let call = "grant_handle(s1, missing)";
    let fut = reg.grant_handle(&s1, "missing", label("x"));
    ctx.err(call, fut, ErrorKind::UnknownProcess).await?;
    let blank = ProcessScope::session(" ");
    let call = "grant_handle(\" \", missing)";
    let fut = reg.grant_handle(&blank, "missing", label("x"));
    ctx.err(call, fut, ErrorKind::UnknownProcess).await?;
    let listed = listed(&ctx, &reg, &s1).await?;
    ctx.same("grants of s1", &listed, &Vec::<String>::new())
}

/// H1, B1: a blank session id is `InvalidRequest` and grants nothing.
pub async fn blank_session_is_invalid_request(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    register(&ctx, &reg, &["p1"]).await?;
    for session in ["", " ", "\t\u{3000}"] {
        for scope in [
            ProcessScope::session(session),
            ProcessScope::frame(session, "f1"),
        ] {
            let call = format!("grant_handle({:?}, p1)", scope.id());
            let fut = reg.grant_handle(&scope, "p1", label("x"));
            ctx.err(call, fut, ErrorKind::InvalidRequest).await?;
        }
    }
    let grants = ctx
        .ok(
            "handle_grants_for_process(p1)",
            reg.handle_grants_for_process("p1"),
        )
        .await?;
    ctx.same("grants of p1", &grants, &vec![])
}

/// H1, H3: a terminal process may be granted, and is listed with its terminal record.
pub async fn terminal_process_may_be_granted(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    register(&ctx, &reg, &["p1"]).await?;
    let record = ctx
        .ok(
            "complete_process(p1)",
            reg.complete_process("p1", success(json!(1))),
        )
        .await?;
    let s1 = ProcessScope::session("s1");
    grant(&ctx, &reg, &s1, "p1", "done").await?;
    let entries = ctx
        .ok("list_handle_grants(s1)", reg.list_handle_grants(&s1))
        .await?;
    let records: Vec<_> = entries.into_iter().map(|e| e.record).collect();
    ctx.same("records listed for s1", &records, &vec![record])
}

/// H2: a revoke removes exactly that grant and is always `Ok`: again, for an ungranted scope,
/// an unknown process, a blank id.
pub async fn revoke_is_idempotent_also_for_unknown_ids(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    register(&ctx, &reg, &["p1", "p2"]).await?;
    let s1 = ProcessScope::session("s1");
    let f1 = ProcessScope::frame("s1", "f1");
    grant(&ctx, &reg, &s1, "p1", "a").await?;
    grant(&ctx, &reg, &s1, "p2", "b").await?;
    grant(&ctx, &reg, &f1, "p1", "c").await?;
    ctx.ok("revoke_handle(s1, p1)", reg.revoke_handle(&s1, "p1"))
        .await?;
    let unknown = ProcessScope::session("nobody");
    let blank = ProcessScope::session(" ");
    let retries: [(&str, &ProcessScope, &str); 5] = [
        ("revoke_handle(s1, p1) again", &s1, "p1"),
        ("revoke_handle(nobody, p2)", &unknown, "p2"),
        ("revoke_handle(s1, missing)", &s1, "missing"),
        ("revoke_handle(\" \", p2)", &blank, "p2"),
        ("revoke_handle(s1, \"\")", &s1, ""),
    ];
    for (call, scope, id) in retries {
        ctx.ok(call, reg.revoke_handle(scope, id)).await?;
    }
    ctx.same(
        "grants of s1",
        &listed(&ctx, &reg, &s1).await?,
        &strings(&["p2"]),
    )?;
    ctx.same(
        "grants of s1/f1",
        &listed(&ctx, &reg, &f1).await?,
        &strings(&["p1"]),
    )
}

/// H3, O1, V2: a list holds exactly the grants of that scope id (a session scope, its frames and
/// a longer session id are different scopes), every status, ascending by id, each with the
/// process's current record.
pub async fn list_holds_exactly_the_scope(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    for id in ["pb", "pa", "pc"] {
        let call = format!("register_process({id})");
        ctx.ok(call, reg.register_process(standard(id))).await?;
    }
    let s1 = ProcessScope::session("s1");
    let f1 = ProcessScope::frame("s1", "f1");
    grant(&ctx, &reg, &s1, "pb", "b").await?;
    grant(&ctx, &reg, &s1, "pa", "a").await?;
    grant(&ctx, &reg, &s1, "pc", "c").await?;
    grant(&ctx, &reg, &f1, "pa", "frame").await?;
    grant(&ctx, &reg, &ProcessScope::session("s10"), "pb", "s10").await?;
    grant(&ctx, &reg, &ProcessScope::frame("s1", "f2"), "pc", "f2").await?;
    ctx.ok("append_event(pb, note)", reg.append_event("pb", note(1)))
        .await?;
    ctx.ok(
        "complete_process(pc)",
        reg.complete_process("pc", success(json!("c"))),
    )
    .await?;
    let entries = ctx
        .ok("list_handle_grants(s1)", reg.list_handle_grants(&s1))
        .await?;
    let mut expected = Vec::new();
    for (id, text) in [("pa", "a"), ("pb", "b"), ("pc", "c")] {
        let call = format!("get_process({id})");
        let record = ctx.ok(call, reg.get_process(id)).await?;
        let record = ctx.present(format!("record of {id}"), record)?;
        let grant = ProcessHandleGrant {
            scope: s1.clone(),
            process_id: id.into(),
            descriptor: label(text),
        };
        expected.push(procreg::ProcessHandleGrantEntry { grant, record });
    }
    ctx.same("list_handle_grants(s1)", &entries, &expected)?;
    let normalized = ProcessScope::frame("s1", "");
    let same = listed(&ctx, &reg, &normalized).await?;
    ctx.same(
        "list_handle_grants(s1 with frame \"\")",
        &same,
        &strings(&["pa", "pb", "pc"]),
    )?;
    ctx.same(
        "grants of s1/f1",
        &listed(&ctx, &reg, &f1).await?,
        &strings(&["pa"]),
    )
}

/// H4: the live list holds the granted running processes only; a grant of a terminal process
/// stays (H3) but is not live.
pub async fn live_list_excludes_terminal_processes(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    register(&ctx, &reg, &["p1", "p2", "p3"]).await?;
    let s1 = ProcessScope::session("s1");
    for id in ["p1", "p2", "p3"] {
        grant(&ctx, &reg, &s1, id, id).await?;
    }
    ctx.ok(
        "complete_process(p2)",
        reg.complete_process("p2", success(json!(2))),
    )
    .await?;
    let live = ctx
        .ok(
            "list_live_handle_grants(s1)",
            reg.list_live_handle_grants(&s1),
        )
        .await?;
    let live: Vec<&str> = live.iter().map(|e| e.grant.process_id.as_str()).collect();
    ctx.same("live grants of s1", &live, &vec!["p1", "p3"])?;
    let all = listed(&ctx, &reg, &s1).await?;
    ctx.same("all grants of s1", &all, &strings(&["p1", "p2", "p3"]))
}

/// H5: `has_handle_grant` is true exactly for an existing grant of that scope id: not for a
/// frame of the granted session, another session, a revoked grant or an unknown process.
pub async fn has_handle_grant_is_exact(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    register(&ctx, &reg, &["p1", "p2"]).await?;
    let s1 = ProcessScope::session("s1");
    grant(&ctx, &reg, &s1, "p1", "a").await?;
    grant(&ctx, &reg, &s1, "p2", "b").await?;
    ctx.ok("revoke_handle(s1, p2)", reg.revoke_handle(&s1, "p2"))
        .await?;
    let cases = [
        (s1.clone(), "p1", true),
        (ProcessScope::frame("s1", ""), "p1", true),
        (ProcessScope::frame("s1", "f1"), "p1", false),
        (ProcessScope::session("s10"), "p1", false),
        (s1.clone(), "p2", false),
        (s1.clone(), "missing", false),
    ];
    for (scope, id, expected) in cases {
        let call = format!("has_handle_grant({}, {id})", scope.id());
        let has = ctx.ok(&call, reg.has_handle_grant(&scope, id)).await?;
        ctx.same(call, &has, &expected)?;
    }
    Ok(())
}

/// H6, O1: `handle_grants_for_process` lists every grant of the process ascending by the whole
/// scope-id string (`session:s1-` before `session:s1/frame:f`), empty when it has none, and an
/// unknown process is `UnknownProcess`.
pub async fn grants_for_process_ascend_by_scope_id(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    register(&ctx, &reg, &["p1", "p2"]).await?;
    let scopes = [
        ProcessScope::frame("s1", "f"),
        ProcessScope::session("s1-"),
        ProcessScope::session("s1"),
        ProcessScope::session("S2"),
    ];
    for scope in &scopes {
        grant(&ctx, &reg, scope, "p1", &scope.id()).await?;
    }
    let grants = ctx
        .ok(
            "handle_grants_for_process(p1)",
            reg.handle_grants_for_process("p1"),
        )
        .await?;
    let order: Vec<String> = grants.iter().map(|g| g.scope.id()).collect();
    let expected = [
        "session:S2",
        "session:s1",
        "session:s1-",
        "session:s1/frame:f",
    ];
    ctx.same(
        "scope ids of p1's grants",
        &order,
        &expected.map(String::from).to_vec(),
    )?;
    let none = ctx
        .ok(
            "handle_grants_for_process(p2)",
            reg.handle_grants_for_process("p2"),
        )
        .await?;
    ctx.same("grants of ungranted p2", &none, &vec![])?;
    let call = "handle_grants_for_process(missing)";
    let fut = reg.handle_grants_for_process("missing");
    ctx.err(call, fut, ErrorKind::UnknownProcess).await
}

/// H8, R7: granting, regranting, revoking and transferring append no event, leave the lease as
/// it was and change no record (`updated_at_ms` included), even as time passes.
pub async fn grants_never_touch_events_leases_or_records(ctx: Ctx) -> LawResult {
    let reg = ctx.fresh().await?;
    ctx.ok("register_process(p1)", reg.register_process(standard("p1")))
        .await?;
    ctx.ok("append_event(p1, note)", reg.append_event("p1", note(1)))
        .await?;
    let lease = ctx
        .ok(
            "claim_process_lease(p1, w1)",
            reg.claim_process_lease("p1", "w1", 60_000),
        )
        .await?;
    let before = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    let (s1, s2) = (ProcessScope::session("s1"), ProcessScope::session("s2"));
    ctx.advance_ms(10);
    grant(&ctx, &reg, &s1, "p1", "a").await?;
    ctx.advance_ms(10);
    grant(&ctx, &reg, &s1, "p1", "b").await?;
    let ids = vec!["p1".to_owned()];
    ctx.ok(
        "transfer_handle_grants(s1, s2, [p1])",
        reg.transfer_handle_grants(&s1, &s2, &ids),
    )
    .await?;
    ctx.ok("revoke_handle(s2, p1)", reg.revoke_handle(&s2, "p1"))
        .await?;
    let after = ctx.ok("get_process(p1)", reg.get_process("p1")).await?;
    ctx.same("p1 after grants", &after, &before)?;
    let events = ctx
        .ok("events_after(p1, 0)", reg.events_after("p1", 0))
        .await?;
    ctx.same("events of p1 after grants", &events.len(), &1)?;
    let call = "claim_process_lease(p1, w2)";
    let fut = reg.claim_process_lease("p1", "w2", 60_000);
    ctx.err(call, fut, ErrorKind::LeaseHeld).await?;
    let renewed = ctx
        .ok(
            "renew_process_lease(w1's lease)",
            reg.renew_process_lease(&lease, 60_000),
        )
        .await?;
    ctx.same(
        "tokens of the renewed lease",
        &(renewed.lease_token, renewed.fencing_token),
        &(lease.lease_token, lease.fencing_token),
    )
}
