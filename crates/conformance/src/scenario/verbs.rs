//! The verbs of a step: one per `ProcessRegistry` method, each turning its words into a [`Call`]
//! and naming the [`Shape`] of its answer. The usage line of each verb is both its hint in parse
//! errors and its row in `docs/SCENARIOS.md`.

use procreg::{
    ProcessAwaitOutput, ProcessEventAppendRequest, ProcessExternalRef, ProcessHandleDescriptor,
    ProcessProvenance, ProcessRegistration, ProcessScope,
};
use procreg_reference::Op;
use serde_json::{Value, json};

use super::Call;
use super::args::Args;
use super::event_types::parse_types;
use super::fields::Shape;
use super::lex::Token;
use super::parse::Problem;
use super::values::{parse_json, parse_word_list};

/// The session that registers a process when `register` has no `owner=`.
pub(crate) const DEFAULT_OWNER: &str = "owner";
/// The host profile id when `register` has no `host=`.
pub(crate) const DEFAULT_HOST: &str = "host";

type Build = fn(&mut Args<'_>, Option<&str>) -> Result<Call, Problem>;

/// One verb: its name, usage line, answer shape and builder.
pub(crate) struct VerbSpec {
    pub(crate) name: &'static str,
    pub(crate) usage: &'static str,
    pub(crate) shape: Shape,
    build: Build,
}

macro_rules! verb {
    ($name:literal, $usage:expr, $shape:ident, $build:expr) => {
        VerbSpec {
            name: $name,
            usage: $usage,
            shape: Shape::$shape,
            build: $build,
        }
    };
}

/// Every call verb (`advance` and `crash` are handled by the parser).
pub(crate) const VERBS: &[VerbSpec] = &[
    verb!(
        "register",
        concat!(
            "register P [types=T1,T2:completed,T3:wake(input=/ptr, when=/ptr, ",
            "dedupe=identity|pointer:/ptr|const:K)] [input=JSON] [owner=SESSION[/FRAME]] [host=H]"
        ),
        Record,
        register
    ),
    verb!("get", "get P", MaybeRecord, |a, _| Ok(op(Op::GetProcess {
        process_id: a.word("a process id")?
    }))),
    verb!(
        "set-ref",
        "set-ref P backend=B id=I [meta=JSON]",
        Record,
        set_ref
    ),
    verb!(
        "append",
        "append P TYPE [PAYLOAD-JSON] [key=K] [target=SESSION[/FRAME]]",
        Append,
        append
    ),
    verb!("events", "events P [after=N]", Events, |a, _| {
        let process_id = a.word("a process id")?;
        let after_sequence = a.opt_u64("after")?.unwrap_or(0);
        Ok(op(Op::EventsAfter {
            process_id,
            after_sequence,
        }))
    }),
    verb!("wakes", "wakes P [after=N]", Events, |a, _| {
        let process_id = a.word("a process id")?;
        let after_sequence = a.opt_u64("after")?.unwrap_or(0);
        Ok(op(Op::WakeEventsAfter {
            process_id,
            after_sequence,
        }))
    }),
    verb!("ack", "ack P SEQ", Unit, |a, _| {
        let process_id = a.word("a process id")?;
        let sequence = a.u64("a sequence number")?;
        Ok(op(Op::AckWake {
            process_id,
            sequence,
        }))
    }),
    verb!("wait", "wait P TYPE [after=N]", Event, |a, _| {
        let process_id = a.word("a process id")?;
        let event_type = a.word("an event type")?;
        let after_sequence = a.opt_u64("after")?.unwrap_or(0);
        Ok(op(Op::WaitEventAfter {
            process_id,
            event_type,
            after_sequence,
        }))
    }),
    verb!(
        "complete",
        "complete P success[=JSON] | complete P failure [code=C] [msg=M] | complete P cancelled [msg=M]",
        Record,
        complete
    ),
    verb!("await", "await P", AwaitOutput, |a, _| Ok(op(
        Op::AwaitProcess {
            process_id: a.word("a process id")?
        }
    ))),
    verb!(
        "grant",
        "grant SESSION[/FRAME] P [label=L] [kind=K]",
        Grant,
        |a, _| {
            let scope = a.scope("a scope")?;
            let process_id = a.word("a process id")?;
            let label = a.opt_word("label")?;
            let kind = a.opt_word("kind")?;
            Ok(op(Op::GrantHandle {
                scope,
                process_id,
                descriptor: ProcessHandleDescriptor { kind, label },
            }))
        }
    ),
    verb!("revoke", "revoke SESSION[/FRAME] P", Unit, |a, _| {
        let scope = a.scope("a scope")?;
        Ok(op(Op::RevokeHandle {
            scope,
            process_id: a.word("a process id")?,
        }))
    }),
    verb!("grants", "grants SESSION[/FRAME]", GrantEntries, |a, _| Ok(
        op(Op::ListHandleGrants {
            scope: a.scope("a scope")?
        })
    )),
    verb!(
        "live-grants",
        "live-grants SESSION[/FRAME]",
        GrantEntries,
        |a, _| Ok(op(Op::ListLiveHandleGrants {
            scope: a.scope("a scope")?
        }))
    ),
    verb!("has-grant", "has-grant SESSION[/FRAME] P", Bool, |a, _| {
        let scope = a.scope("a scope")?;
        Ok(op(Op::HasHandleGrant {
            scope,
            process_id: a.word("a process id")?,
        }))
    }),
    verb!("grants-of", "grants-of P", Grants, |a, _| Ok(op(
        Op::HandleGrantsForProcess {
            process_id: a.word("a process id")?
        }
    ))),
    verb!("transfer", "transfer FROM TO [P1,P2,...]", Unit, |a, _| {
        let from = a.scope("a source scope")?;
        let to = a.scope("a target scope")?;
        let process_ids = match a.next() {
            Some(t) => parse_word_list(t.text).map_err(|m| Problem::at(t, m))?,
            None => Vec::new(),
        };
        Ok(op(Op::TransferHandleGrants {
            from,
            to,
            process_ids,
        }))
    }),
    verb!(
        "delete-session",
        "delete-session SESSION",
        DeleteReport,
        |a, _| Ok(op(Op::DeleteSession {
            session_id: a.word("a session id")?
        }))
    ),
    verb!("claim", "A: claim P ttl=MS [owner=O]", Lease, |a, actor| {
        // `owner=` names an owner id other than the actor (a worker claiming under a fresh
        // owner id per attempt, as the recovery protocol does); the actor keeps the lease.
        let named = a.opt_word("owner")?;
        let owner_id = match named {
            Some(owner) => owner,
            None => a.actor(actor)?,
        };
        let process_id = a.word("a process id")?;
        let lease_ttl_ms = a.required_u64("ttl")?;
        Ok(op(Op::ClaimLease {
            process_id,
            owner_id,
            lease_ttl_ms,
        }))
    }),
    verb!("renew", "A: renew P ttl=MS [fence=N]", Lease, |a, actor| {
        a.actor(actor)?;
        let process_id = a.word("a process id")?;
        let ttl_ms = a.required_u64("ttl")?;
        Ok(Call::Renew {
            process_id,
            ttl_ms,
            fence: a.opt_u64("fence")?,
        })
    }),
    verb!("release", "A: release P [fence=N]", Unit, |a, actor| {
        a.actor(actor)?;
        let process_id = a.word("a process id")?;
        Ok(Call::Release {
            process_id,
            fence: a.opt_u64("fence")?,
        })
    }),
    verb!("worklist", "worklist", Records, |_, _| Ok(op(
        Op::ListNonTerminal
    ))),
];

fn op(op: Op) -> Call {
    Call::Op(op)
}

/// The verb named `name`.
pub(crate) fn find(name: &str) -> Option<&'static VerbSpec> {
    VERBS.iter().find(|v| v.name == name)
}

/// All verb names, for "did you mean" hints.
pub(crate) fn names() -> impl Iterator<Item = &'static str> {
    VERBS
        .iter()
        .map(|v| v.name)
        .chain(["advance", "crash", "include", "onlyif", "skipif"])
}

impl VerbSpec {
    /// Builds the call from the words after the verb.
    pub(crate) fn build<'a>(
        &'a self,
        verb: &'a Token<'a>,
        words: &'a [Token<'a>],
        actor: Option<&str>,
        line_end: usize,
    ) -> Result<Call, Problem> {
        let mut args = Args::new(self, verb, words, line_end);
        let call = (self.build)(&mut args, actor)?;
        args.finish()?;
        Ok(call)
    }
}

fn register(a: &mut Args<'_>, _: Option<&str>) -> Result<Call, Problem> {
    let id = a.word("a process id")?;
    let event_types = match a.option("types") {
        Some(t) => parse_types(t.1).map_err(|m| Problem::at(t.0, m))?,
        None => Vec::new(),
    };
    let input = a.opt_json("input")?.unwrap_or(Value::Null);
    let owner_scope = a
        .opt_scope("owner")?
        .unwrap_or_else(|| ProcessScope::session(DEFAULT_OWNER));
    let host_profile_id = a.opt_word("host")?.unwrap_or_else(|| DEFAULT_HOST.into());
    Ok(op(Op::Register {
        registration: ProcessRegistration {
            id,
            input,
            event_types,
            provenance: ProcessProvenance {
                owner_scope,
                host_profile_id,
            },
        },
    }))
}

fn set_ref(a: &mut Args<'_>, _: Option<&str>) -> Result<Call, Problem> {
    let process_id = a.word("a process id")?;
    let backend = a.required_word("backend")?;
    let id = a.required_word("id")?;
    let metadata = a.opt_json("meta")?;
    Ok(op(Op::SetExternalRef {
        process_id,
        external_ref: ProcessExternalRef {
            backend,
            id,
            metadata,
        },
    }))
}

fn append(a: &mut Args<'_>, _: Option<&str>) -> Result<Call, Problem> {
    let process_id = a.word("a process id")?;
    let event_type = a.word("an event type")?;
    let payload = match a.next() {
        Some(t) => parse_json(t.text).map_err(|m| {
            Problem::at(t, format!("payload {m}"))
                .hint("a payload is JSON on one line: {\"msg\": \"hi\"}, 42, \"text\"")
        })?,
        None => json!({}),
    };
    let mut request = ProcessEventAppendRequest::new(event_type, payload);
    request.replay_key = a.opt_word("key")?;
    request.wake_target_scope = a.opt_scope("target")?;
    Ok(op(Op::AppendEvent {
        process_id,
        request,
    }))
}

fn complete(a: &mut Args<'_>, _: Option<&str>) -> Result<Call, Problem> {
    let process_id = a.word("a process id")?;
    let output = if let Some(value) = a.opt_json("success")? {
        ProcessAwaitOutput::Success { value }
    } else {
        let outcome = a.next_token("an outcome: success, failure or cancelled")?;
        match outcome.text {
            "success" => ProcessAwaitOutput::Success { value: Value::Null },
            "failure" => ProcessAwaitOutput::Failure {
                code: a.opt_word("code")?.unwrap_or_else(|| "error".into()),
                message: a.opt_word("msg")?.unwrap_or_default(),
            },
            "cancelled" => ProcessAwaitOutput::Cancelled {
                message: a.opt_word("msg")?.unwrap_or_default(),
            },
            other => {
                return Err(Problem::at(
                    outcome,
                    format!("`{other}` is not an outcome: write success, failure or cancelled"),
                ));
            }
        }
    };
    Ok(op(Op::CompleteProcess { process_id, output }))
}
