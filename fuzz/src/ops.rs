//! Decoding a fuzzer's bytes into a short program of registry calls over small pools of ids.
//!
//! Why it exists: a differential target is only as good as the collisions its inputs make.
//! Ids come from pools of two or three (processes `p0..p2`, sessions `s0..s2`, owners `o0`,
//! `o1`), so registrations conflict (R3), claims race for one lease (L1), grants move between
//! sessions (H7) and deleted sessions meet live grants (S1). Leases the Model handed out are
//! remembered and renewed or completed later (L3-L5), alongside forged ones. A few values are
//! deliberately invalid (blank ids, TTL 0, a forbidden character) so validation (V1, V2, B1)
//! is compared too.

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use procreg::{
    ProcessAwaitOutput, ProcessEventAppendRequest, ProcessEventType, ProcessExternalRef,
    ProcessHandleDescriptor, ProcessLease, ProcessRegistration, ProcessScope, ProcessWakeSpec,
    WakeDedupeKey,
};
use procreg_reference::Op;
use serde_json::json;

/// Process ids, one of them invalid (blank).
const PROCESSES: [&str; 4] = ["p0", "p1", "p2", " "];
/// Session ids, one of them invalid (a forbidden character).
const SESSIONS: [&str; 4] = ["s0", "s1", "s2", "s\n"];
/// Lease owners.
const OWNERS: [&str; 3] = ["o0", "o1", ""];
/// Lease TTLs, ms (0 is invalid).
const TTLS_MS: [u64; 4] = [0, 5, 50, 1_000];
/// Event types: declared plain, declared waking, undeclared, and a core terminal type.
const EVENT_TYPES: [&str; 4] = ["progress", "ping", "unknown", "process.completed"];

/// One step of a program.
#[derive(Clone, Debug)]
pub enum Step {
    /// Call the registry.
    Call(Op),
    /// Move the clock forward, ms.
    Advance(u64),
    /// Crash the durable registry and reopen it (D2 D3 D7).
    Crash,
}

/// Decodes one step; `leases` are the leases handed out so far (renew and complete pick one).
///
/// # Errors
/// The input ran out.
pub fn step(u: &mut Unstructured<'_>, leases: &[ProcessLease]) -> Result<Step> {
    Ok(match u.int_in_range(0u8..=25)? {
        0..=2 => Step::Call(Op::Register {
            registration: registration(u)?,
        }),
        3 => Step::Call(Op::GetProcess {
            process_id: process(u)?,
        }),
        4 => Step::Call(Op::SetExternalRef {
            process_id: process(u)?,
            external_ref: ProcessExternalRef {
                backend: "b".into(),
                id: (*u.choose(&["x", "y"])?).into(),
                metadata: None,
            },
        }),
        5..=7 => Step::Call(Op::AppendEvent {
            process_id: process(u)?,
            request: append(u)?,
        }),
        8 => Step::Call(Op::EventsAfter {
            process_id: process(u)?,
            after_sequence: u.int_in_range(0..=4)?,
        }),
        9 => Step::Call(Op::WakeEventsAfter {
            process_id: process(u)?,
            after_sequence: u.int_in_range(0..=4)?,
        }),
        10 => Step::Call(Op::AckWake {
            process_id: process(u)?,
            sequence: u.int_in_range(0..=5)?,
        }),
        11 => Step::Call(Op::WaitEventAfter {
            process_id: process(u)?,
            event_type: (*u.choose(&EVENT_TYPES)?).into(),
            after_sequence: u.int_in_range(0..=3)?,
        }),
        12 => Step::Call(Op::CompleteProcess {
            process_id: process(u)?,
            output: output(u)?,
        }),
        13 => Step::Call(Op::AwaitProcess {
            process_id: process(u)?,
        }),
        14..=21 => grant_or_lease(u, leases)?,
        22 => Step::Call(Op::ListNonTerminal),
        23 | 24 => Step::Advance(*u.choose(&[1, 5, 49, 50, 51, 1_000])?),
        _ => Step::Crash,
    })
}

fn grant_or_lease(u: &mut Unstructured<'_>, leases: &[ProcessLease]) -> Result<Step> {
    Ok(Step::Call(match u.int_in_range(0u8..=10)? {
        0 | 1 => Op::GrantHandle {
            scope: scope(u)?,
            process_id: process(u)?,
            descriptor: ProcessHandleDescriptor::labelled(*u.choose(&["h", "g"])?),
        },
        2 => Op::RevokeHandle {
            scope: scope(u)?,
            process_id: process(u)?,
        },
        3 => match u.int_in_range(0u8..=3)? {
            0 => Op::ListHandleGrants { scope: scope(u)? },
            1 => Op::ListLiveHandleGrants { scope: scope(u)? },
            2 => Op::HasHandleGrant {
                scope: scope(u)?,
                process_id: process(u)?,
            },
            _ => Op::HandleGrantsForProcess {
                process_id: process(u)?,
            },
        },
        4 => Op::TransferHandleGrants {
            from: scope(u)?,
            to: scope(u)?,
            process_ids: (0..u.int_in_range(0..=3)?)
                .map(|_| process(u))
                .collect::<Result<_>>()?,
        },
        5 => Op::DeleteSession {
            session_id: (*u.choose(&SESSIONS)?).into(),
        },
        6 | 7 => Op::ClaimLease {
            process_id: process(u)?,
            owner_id: (*u.choose(&OWNERS)?).into(),
            lease_ttl_ms: *u.choose(&TTLS_MS)?,
        },
        8 | 9 => Op::RenewLease {
            lease: lease(u, leases)?,
            lease_ttl_ms: *u.choose(&TTLS_MS)?,
        },
        _ => Op::CompleteLease {
            completion: lease(u, leases)?.completion(),
        },
    }))
}

fn process(u: &mut Unstructured<'_>) -> Result<String> {
    Ok((*u.choose(&PROCESSES)?).into())
}

fn scope(u: &mut Unstructured<'_>) -> Result<ProcessScope> {
    let session = *u.choose(&SESSIONS)?;
    Ok(match u.int_in_range(0u8..=3)? {
        0 => ProcessScope::frame(session, "f0"),
        1 => ProcessScope::frame(session, ""),
        _ => ProcessScope::session(session),
    })
}

fn registration(u: &mut Unstructured<'_>) -> Result<ProcessRegistration> {
    let owner = scope(u)?;
    let wake = ProcessWakeSpec {
        when: None,
        input: String::new(), // a JSON pointer: the whole payload

        dedupe_key: WakeDedupeKey::EventIdentity,
    };
    Ok(ProcessRegistration::new(process(u)?, owner, "host")
        .with_input(json!(u.int_in_range(0u8..=1)?))
        .with_event_type(ProcessEventType::plain("progress"))
        .with_event_type(ProcessEventType::waking("ping", wake)))
}

fn append(u: &mut Unstructured<'_>) -> Result<ProcessEventAppendRequest> {
    let mut request =
        ProcessEventAppendRequest::new(*u.choose(&EVENT_TYPES)?, json!(u.int_in_range(0u8..=2)?));
    if let Some(key) = u.choose(&[None, Some("k0"), Some("k1")])? {
        request = request.with_replay_key(*key);
    }
    if u.ratio(1u8, 3)? {
        request = request.with_wake_target(scope(u)?);
    }
    Ok(request)
}

fn output(u: &mut Unstructured<'_>) -> Result<ProcessAwaitOutput> {
    Ok(match u.int_in_range(0u8..=2)? {
        0 => ProcessAwaitOutput::Success {
            value: json!(u.int_in_range(0u8..=1)?),
        },
        1 => ProcessAwaitOutput::Failure {
            code: "e".into(),
            message: "failed".into(),
        },
        _ => ProcessAwaitOutput::Cancelled {
            message: "cancelled".into(),
        },
    })
}

/// A lease handed out earlier (usually) or a forged one with a wrong token or fence.
fn lease(u: &mut Unstructured<'_>, leases: &[ProcessLease]) -> Result<ProcessLease> {
    if !leases.is_empty() && u.ratio(4u8, 5)? {
        let mut lease = u.choose(leases)?.clone();
        if u.ratio(1u8, 8)? {
            lease.fencing_token += 1;
        }
        return Ok(lease);
    }
    Ok(ProcessLease {
        process_id: process(u)?,
        owner_id: (*u.choose(&OWNERS)?).into(),
        lease_token: "forged".into(),
        fencing_token: u.int_in_range(0..=2)?,
        claimed_at_ms: 0,
        expires_at_ms: u64::MAX,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use procreg_reference::{Model, OpOutput};

    use super::*;

    /// A fixed pseudo-random input of `len` bytes.
    fn noise(seed: u64, len: usize) -> Vec<u8> {
        let mut state = seed;
        (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (state >> 33) as u8
            })
            .collect()
    }

    /// Random programs must get past validation: a decoder whose every registration is invalid
    /// (as one was, with a wake input that was not a JSON pointer) compares only errors.
    #[test]
    fn random_programs_reach_successful_calls_of_every_area() {
        let mut succeeded = BTreeSet::new();
        let mut crash_after_registration = false;
        for seed in 0..100 {
            let bytes = noise(seed, 300);
            let mut u = Unstructured::new(&bytes);
            let (mut model, mut leases, mut registered) = (Model::new(), Vec::new(), false);
            for _ in 0..64 {
                match step(&mut u, &leases).unwrap() {
                    Step::Call(op) => {
                        let result = model.apply(&op, 1_000_000);
                        if let Ok(OpOutput::Lease(lease)) = &result {
                            leases.push(lease.clone());
                        }
                        if result.is_ok() {
                            registered |= matches!(op, Op::Register { .. });
                            succeeded.insert(op.method_name());
                        }
                    }
                    Step::Crash => crash_after_registration |= registered,
                    Step::Advance(_) => {}
                }
            }
        }
        for method in [
            "register_process",
            "append_event",
            "ack_wake",
            "complete_process",
            "grant_handle",
            "transfer_handle_grants",
            "claim_process_lease",
            "renew_process_lease",
            "complete_process_lease",
        ] {
            assert!(
                succeeded.contains(method),
                "{method} never succeeded: {succeeded:?}"
            );
        }
        assert!(crash_after_registration);
    }
}
