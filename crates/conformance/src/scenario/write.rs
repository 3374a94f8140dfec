//! Writing calls back as scenario steps: the inverse of the verbs, so a recorded history (a
//! failing explorer seed) becomes a file a person reads and the runner replays.
//!
//! Why it exists: counterexamples are written by the shrinker, never by hand, and must parse
//! back to exactly the calls that were recorded. `op_text` and `lease_step_text` write only
//! what differs from a verb's defaults; the tests feed every call of every workload's history
//! through the parser and compare.

use procreg::canonical::to_canonical_json;
use procreg::{ErrorKind, PluginError};
use procreg::{
    ProcessAwaitOutput, ProcessEventType, ProcessScope, ProcessTerminalState, WakeDedupeKey,
};
use procreg_reference::{Op, OpOutput};
use serde_json::Value;

use super::expect::{self, Actual};
use super::fields::Shape;
use super::values::{render_scope, render_text};
use super::verbs::{DEFAULT_HOST, DEFAULT_OWNER, find};

/// The step that makes `op`, without an actor; `None` for lease calls, which need one (see
/// [`lease_step_text`]).
pub(crate) fn op_text(op: &Op) -> Option<String> {
    let w = |s: &str| render_text(s);
    Some(match op {
        Op::Register { registration } => {
            let mut text = format!("register {}", w(&registration.id));
            if !registration.event_types.is_empty() {
                text.push_str(&format!(" types={}", types_text(&registration.event_types)));
            }
            if registration.input != Value::Null {
                text.push_str(&format!(" input={}", json(&registration.input)));
            }
            let provenance = &registration.provenance;
            if provenance.owner_scope != ProcessScope::session(DEFAULT_OWNER) {
                text.push_str(&format!(" owner={}", render_scope(&provenance.owner_scope)));
            }
            if provenance.host_profile_id != DEFAULT_HOST {
                text.push_str(&format!(" host={}", w(&provenance.host_profile_id)));
            }
            text
        }
        Op::GetProcess { process_id } => format!("get {}", w(process_id)),
        Op::SetExternalRef {
            process_id,
            external_ref,
        } => {
            let mut text = format!(
                "set-ref {} backend={} id={}",
                w(process_id),
                w(&external_ref.backend),
                w(&external_ref.id)
            );
            if let Some(meta) = &external_ref.metadata {
                text.push_str(&format!(" meta={}", json(meta)));
            }
            text
        }
        Op::AppendEvent {
            process_id,
            request,
        } => {
            let mut text = format!(
                "append {} {} {}",
                w(process_id),
                w(&request.event_type),
                json(&request.payload)
            );
            if let Some(key) = &request.replay_key {
                text.push_str(&format!(" key={}", w(key)));
            }
            if let Some(target) = &request.wake_target_scope {
                text.push_str(&format!(" target={}", render_scope(target)));
            }
            text
        }
        Op::EventsAfter {
            process_id,
            after_sequence,
        } => format!("events {}{}", w(process_id), after(*after_sequence)),
        Op::WakeEventsAfter {
            process_id,
            after_sequence,
        } => format!("wakes {}{}", w(process_id), after(*after_sequence)),
        Op::AckWake {
            process_id,
            sequence,
        } => format!("ack {} {sequence}", w(process_id)),
        Op::WaitEventAfter {
            process_id,
            event_type,
            after_sequence,
        } => format!(
            "wait {} {}{}",
            w(process_id),
            w(event_type),
            after(*after_sequence)
        ),
        Op::CompleteProcess { process_id, output } => {
            format!("complete {} {}", w(process_id), output_text(output))
        }
        Op::AwaitProcess { process_id } => format!("await {}", w(process_id)),
        Op::GrantHandle {
            scope,
            process_id,
            descriptor,
        } => {
            let mut text = format!("grant {} {}", render_scope(scope), w(process_id));
            if let Some(label) = &descriptor.label {
                text.push_str(&format!(" label={}", w(label)));
            }
            if let Some(kind) = &descriptor.kind {
                text.push_str(&format!(" kind={}", w(kind)));
            }
            text
        }
        Op::RevokeHandle { scope, process_id } => {
            format!("revoke {} {}", render_scope(scope), w(process_id))
        }
        Op::ListHandleGrants { scope } => format!("grants {}", render_scope(scope)),
        Op::ListLiveHandleGrants { scope } => format!("live-grants {}", render_scope(scope)),
        Op::HasHandleGrant { scope, process_id } => {
            format!("has-grant {} {}", render_scope(scope), w(process_id))
        }
        Op::HandleGrantsForProcess { process_id } => format!("grants-of {}", w(process_id)),
        Op::TransferHandleGrants {
            from,
            to,
            process_ids,
        } => format!(
            "transfer {} {} {}",
            render_scope(from),
            render_scope(to),
            list_text(process_ids)
        ),
        Op::DeleteSession { session_id } => format!("delete-session {}", w(session_id)),
        Op::ListNonTerminal => "worklist".to_owned(),
        Op::ClaimLease { .. } | Op::RenewLease { .. } | Op::CompleteLease { .. } => return None,
    })
}

/// The step an actor makes a lease call with: `claim` (with `owner=` when the owner id is not
/// the actor), `renew` / `release` presenting the actor's lease on the process, or the one
/// with fence `fence` when it is not the actor's latest. `None` for other calls.
pub(crate) fn lease_step_text(actor: &str, op: &Op, fence: Option<u64>) -> Option<String> {
    let a = render_text(actor);
    let fence = fence.map_or(String::new(), |f| format!(" fence={f}"));
    Some(match op {
        Op::ClaimLease {
            process_id,
            owner_id,
            lease_ttl_ms,
        } => {
            let owner = if owner_id == actor {
                String::new()
            } else {
                format!(" owner={}", render_text(owner_id))
            };
            format!(
                "{a}: claim {} ttl={lease_ttl_ms}{owner}",
                render_text(process_id)
            )
        }
        Op::RenewLease {
            lease,
            lease_ttl_ms,
        } => format!(
            "{a}: renew {} ttl={lease_ttl_ms}{fence}",
            render_text(&lease.process_id)
        ),
        Op::CompleteLease { completion } => {
            format!(
                "{a}: release {}{fence}",
                render_text(&completion.process_id)
            )
        }
        _ => return None,
    })
}

fn json(value: &Value) -> String {
    to_canonical_json(value)
}

fn after(sequence: u64) -> String {
    if sequence == 0 {
        String::new()
    } else {
        format!(" after={sequence}")
    }
}

fn list_text(ids: &[String]) -> String {
    if ids
        .iter()
        .all(|id| render_text(id) == *id && !id.contains(','))
        && !ids.is_empty()
    {
        ids.join(",")
    } else {
        serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
    }
}

fn output_text(output: &ProcessAwaitOutput) -> String {
    match output {
        ProcessAwaitOutput::Success { value: Value::Null } => "success".into(),
        ProcessAwaitOutput::Success { value } => format!("success={}", json(value)),
        ProcessAwaitOutput::Failure { code, message } => {
            format!(
                "failure code={} msg={}",
                render_text(code),
                render_text(message)
            )
        }
        ProcessAwaitOutput::Cancelled { message } => {
            format!("cancelled msg={}", render_text(message))
        }
    }
}

/// `types=` in the short form when every type fits it, else as a JSON array.
fn types_text(types: &[ProcessEventType]) -> String {
    let short: Option<Vec<String>> = types.iter().map(short_type).collect();
    match short {
        Some(items) => items.join(","),
        None => serde_json::to_string(types).unwrap_or_else(|_| "[]".into()),
    }
}

/// One type in the short form, if it fits: a plain name, and not both terminal and waking.
fn short_type(ty: &ProcessEventType) -> Option<String> {
    let plain = |s: &str| render_text(s) == s && !s.contains([':', ',', '(', ')', '=']);
    if !plain(&ty.name) {
        return None;
    }
    match (&ty.terminal, &ty.wake) {
        (None, None) => Some(ty.name.clone()),
        (Some(state), None) => {
            let kind = match state {
                ProcessTerminalState::Completed => "completed",
                ProcessTerminalState::Failed => "failed",
                ProcessTerminalState::Cancelled => "cancelled",
            };
            Some(format!("{}:{kind}", ty.name))
        }
        (None, Some(wake)) => {
            let value = |s: &str| plain(s) || s.is_empty();
            let dedupe = match &wake.dedupe_key {
                WakeDedupeKey::EventIdentity => "identity".to_owned(),
                WakeDedupeKey::Pointer(p) => format!("pointer:{p}"),
                WakeDedupeKey::Const(c) => format!("const:{c}"),
            };
            let when = wake.when.as_deref();
            if !value(&wake.input) || !when.is_none_or(value) || !plain(&dedupe.replace(':', "")) {
                return None;
            }
            let mut options = format!("input={}", render_text(&wake.input));
            if let Some(when) = when {
                options.push_str(&format!(",when={}", render_text(when)));
            }
            options.push_str(&format!(",dedupe={dedupe}"));
            Some(format!("{}:wake({options})", ty.name))
        }
        (Some(_), Some(_)) => None,
    }
}

/// What a recorded call saw, in the file's notation (`ok fence=2`, `err lease_held
/// holder=w1`, `unavailable`, `no answer`), for a world scenario's `# saw` comment.
pub(crate) fn saw_text(op: &Op, outcome: Option<&Result<OpOutput, PluginError>>) -> String {
    let Some(result) = outcome else {
        return "no answer".into();
    };
    if matches!(result, Err(e) if e.kind() == ErrorKind::Unavailable) {
        return "unavailable".into();
    }
    let shape = find(verb_of(op)).map_or(Shape::Unit, |v| v.shape);
    expect::written(None, shape, &Actual::from_result(result.clone()))
}

/// The verb that makes `op`.
fn verb_of(op: &Op) -> &'static str {
    match op {
        Op::Register { .. } => "register",
        Op::GetProcess { .. } => "get",
        Op::SetExternalRef { .. } => "set-ref",
        Op::AppendEvent { .. } => "append",
        Op::EventsAfter { .. } => "events",
        Op::WakeEventsAfter { .. } => "wakes",
        Op::AckWake { .. } => "ack",
        Op::WaitEventAfter { .. } => "wait",
        Op::CompleteProcess { .. } => "complete",
        Op::AwaitProcess { .. } => "await",
        Op::GrantHandle { .. } => "grant",
        Op::RevokeHandle { .. } => "revoke",
        Op::ListHandleGrants { .. } => "grants",
        Op::ListLiveHandleGrants { .. } => "live-grants",
        Op::HasHandleGrant { .. } => "has-grant",
        Op::HandleGrantsForProcess { .. } => "grants-of",
        Op::TransferHandleGrants { .. } => "transfer",
        Op::DeleteSession { .. } => "delete-session",
        Op::ClaimLease { .. } => "claim",
        Op::RenewLease { .. } => "renew",
        Op::CompleteLease { .. } => "release",
        Op::ListNonTerminal => "worklist",
    }
}
