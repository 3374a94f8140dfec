//! World scenarios: their words are refused outside a `world` file with a hint, every call a
//! workload makes writes back as itself, each `!fault` does to the call what it says, and a
//! run is judged by the checkers.

use std::path::Path;

use procreg::ErrorKind;
use procreg_reference::{Op, OpOutput};
use procreg_sim::{MemoryTarget, SimFileTarget};

use super::super::parse::parse_text;
use super::super::write::{lease_step_text, op_text};
use super::super::{Action, Call, run_world_text};
use super::parse_error;
use crate::explore::{self, run_seed};

#[test]
fn world_words_outside_a_world_file_and_bad_world_lines_are_errors_with_hints() {
    for (text, needle) in [
        (
            "@5 a: claim p1 ttl=10",
            "x.scn:1:1: `@T` times need a `world` line first",
        ),
        (
            "a: claim p1 ttl=10 !drop-request",
            "`!` faults need a `world` line",
        ),
        ("world latency=1", "`world` needs `seed=N`"),
        ("world seed=1 speed=3", "`world` has no setting `speed`"),
        ("world seed=x", "`seed` takes a whole number"),
        ("world seed=1 torn=2", "`torn` is a probability"),
        (
            "register p1\nworld seed=1",
            "x.scn:2:1: `world` comes once, before every step",
        ),
        (
            "world seed=1\nregister p1",
            "x.scn:2:1: a world scenario's step starts with `@T`",
        ),
        (
            "world seed=1\n@x register p1",
            "is not `@` and whole milliseconds",
        ),
        (
            "world seed=1\n@1 wait p1 x => pending",
            "a world step cannot expect `pending`",
        ),
        (
            "world seed=1\n@1 advance 5",
            "moves time with `@T` prefixes",
        ),
        ("world seed=1\n@1 get p1 !lose", "unknown fault `!lose`"),
        (
            "world seed=1\n@1 get p1 !duplicate !drop-request",
            "one link fault at most",
        ),
        ("world seed=1\n@1 crash !duplicate", "`crash` is not a call"),
        (
            "world seed=1\n@1 partition a",
            "`partition` takes a client and `until=T`",
        ),
        ("world seed=1 workload=none\n@1 get p1", ""),
    ] {
        if needle.is_empty() {
            assert!(parse_text(text, Path::new("x.scn")).is_ok(), "{text}");
            continue;
        }
        let error = parse_error(text);
        assert!(error.contains(needle), "{text:?}: {error}");
    }
}

#[test]
fn every_call_of_every_workload_writes_back_as_itself() {
    let mut checked = 0;
    for workload in explore::workloads() {
        for seed in 0..3 {
            let outcome = run_seed(
                workload,
                &mut MemoryTarget,
                seed,
                procreg_sim::FaultLevel::Light,
            );
            let run = outcome.run.expect("memory runs");
            for call in run.history.calls() {
                let text = match op_text(&call.op) {
                    Some(text) => format!("{}: {text}", call.client),
                    None => lease_step_text(&call.client, &call.op, None).expect("a lease call"),
                };
                // A renew needs an earlier claim of the same actor to parse.
                let claimed = match &*call.op {
                    Op::RenewLease { lease, .. } => lease.process_id.as_str(),
                    Op::CompleteLease { completion } => completion.process_id.as_str(),
                    _ => "p",
                };
                let claim = format!("@0 {}: claim {claimed} ttl=1", call.client);
                let file = format!("world seed=0\n{claim}\n@0 {text}\n");
                let scenario =
                    parse_text(&file, Path::new("w.scn")).unwrap_or_else(|e| panic!("{text}: {e}"));
                let Action::Call { call: written, .. } = &scenario.steps[1].action else {
                    panic!("{text}: not a call");
                };
                match (written, &*call.op) {
                    (Call::Op(op), original) => assert_eq!(op, original, "{text}"),
                    (
                        Call::Renew {
                            process_id, ttl_ms, ..
                        },
                        Op::RenewLease {
                            lease,
                            lease_ttl_ms,
                        },
                    ) => {
                        assert_eq!(
                            (process_id, ttl_ms),
                            (&lease.process_id, lease_ttl_ms),
                            "{text}"
                        );
                    }
                    (Call::Release { process_id, .. }, Op::CompleteLease { completion }) => {
                        assert_eq!(process_id, &completion.process_id, "{text}");
                    }
                    (written, original) => panic!("{text}: {written:?} for {original:?}"),
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 500, "only {checked} calls checked");
}

const FAULTS: &str = "\
world seed=3 latency=1 timeout=50
@0   setup: register p1
@0   setup: register p2
@10  a: claim p1 ttl=100 owner=w.1   !drop-request
@10  b: claim p2 ttl=100             !drop-response
@10  c: append p1 x {} key=k1        !duplicate
@10  d: get p2                       !delay=30
@10  e: claim p2 ttl=100
@100 e: renew p2 ttl=100
@120 crash
@130 e: release p2
@200 partition f until=300
@210 f: get p1
@400 f: get p1
@400 g: events p1
";

#[test]
fn each_fault_word_does_what_it_says_and_the_checkers_judge_the_run() {
    let with_types = FAULTS.replace("register p1", "register p1 types=x");
    for durable in [false, true] {
        let report = if durable {
            run_world_text(&with_types, "faults.scn", &mut SimFileTarget::new())
        } else {
            run_world_text(&with_types, "faults.scn", &mut MemoryTarget)
        };
        let report = report.unwrap_or_else(|e| panic!("{e}"));
        assert!(report.passed(), "{:?}", report.failures);
        let run = report.run.expect("a run");
        let calls = run.history.calls();
        let of = |client: &str| {
            calls
                .iter()
                .filter(|c| c.client == client)
                .collect::<Vec<_>>()
        };
        let unavailable = |c: &&procreg_sim::CallRecord| matches!(c.outcome(), Some(Err(e)) if e.kind() == ErrorKind::Unavailable);
        // Dropped request: never executed (a later claim by `e` gets fence 1 on p2, and p1's
        // claim is not seen); dropped response: executed, the client saw `Unavailable`.
        assert!(unavailable(&of("a")[0]) && unavailable(&of("b")[0]));
        assert_eq!(of("c+dup").len(), 1, "the duplicate copy is in the history");
        let delayed = &of("d")[0];
        assert!(delayed.return_ms.unwrap() - delayed.invoke_ms >= 30);
        assert!(
            matches!(
                of("e")[0].outcome(),
                Some(Err(e)) if e.kind() == ErrorKind::LeaseHeld
            ),
            "b's lost answer still took the lease"
        );
        let f = of("f");
        assert!(unavailable(&f[0]), "partitioned until 300");
        assert!(matches!(
            f[1].outcome(),
            Some(Ok(OpOutput::MaybeRecord(Some(_))))
        ));
        assert_eq!(run.registry_crashes.len(), usize::from(durable));
    }
}
