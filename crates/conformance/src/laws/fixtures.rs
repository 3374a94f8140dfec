//! Registrations, requests and outputs the laws share, so each law reads as its claim.
//!
//! [`standard`] declares one event type of each kind a law needs: plain (`note`, `tick`), custom
//! terminal (`done`), and three wake types exercising each dedupe-key form (E7).

use procreg::{
    ProcessAwaitOutput, ProcessEventAppendRequest, ProcessEventType, ProcessRegistration,
    ProcessScope, ProcessTerminalState, ProcessWakeSpec, WakeDedupeKey,
};
use serde_json::{Value, json};

use crate::ctx::Ctx;
use crate::harness::RegistryHandle;
use crate::law::LawFailure;

/// The session that registers every fixture process.
pub const OWNER_SESSION: &str = "owner";
/// The host profile of every fixture process.
pub const HOST: &str = "host-1";
/// A plain event type.
pub const NOTE: &str = "note";
/// Another plain event type.
pub const TICK: &str = "tick";
/// A custom terminal type (state `completed`).
pub const DONE: &str = "done";
/// Wake type: input `/msg`, dedupe key `event_identity`.
pub const WAKE_IDENTITY: &str = "wake.identity";
/// Wake type: when `/go`, input `/msg`, dedupe key at pointer `/key`.
pub const WAKE_WHEN: &str = "wake.when";
/// Wake type: input `""` (the whole payload), dedupe key `const("k")`.
pub const WAKE_CONST: &str = "wake.const";

/// The owner scope of fixture processes.
pub fn owner() -> ProcessScope {
    ProcessScope::session(OWNER_SESSION)
}

/// The scope wakes are delivered to.
pub fn target() -> ProcessScope {
    ProcessScope::frame("waker", "f1")
}

/// A registration of `id` declaring no types beyond the core ones.
pub fn bare(id: &str) -> ProcessRegistration {
    ProcessRegistration::new(id, owner(), HOST)
}

/// A registration of `id` declaring [`NOTE`], [`TICK`], [`DONE`] and the three wake types.
pub fn standard(id: &str) -> ProcessRegistration {
    bare(id)
        .with_input(json!({"task": id}))
        .with_event_type(ProcessEventType::plain(NOTE))
        .with_event_type(ProcessEventType::plain(TICK))
        .with_event_type(ProcessEventType::terminal(
            DONE,
            ProcessTerminalState::Completed,
        ))
        .with_event_type(wake_type(
            WAKE_IDENTITY,
            None,
            "/msg",
            WakeDedupeKey::EventIdentity,
        ))
        .with_event_type(wake_type(
            WAKE_WHEN,
            Some("/go"),
            "/msg",
            WakeDedupeKey::Pointer("/key".into()),
        ))
        .with_event_type(wake_type(
            WAKE_CONST,
            None,
            "",
            WakeDedupeKey::Const("k".into()),
        ))
}

/// A wake event type.
pub fn wake_type(
    name: &str,
    when: Option<&str>,
    input: &str,
    dedupe_key: WakeDedupeKey,
) -> ProcessEventType {
    ProcessEventType::waking(
        name,
        ProcessWakeSpec {
            when: when.map(str::to_owned),
            input: input.to_owned(),
            dedupe_key,
        },
    )
}

/// An append of `event_type` with `payload`, no replay key, no wake target.
pub fn event(event_type: &str, payload: Value) -> ProcessEventAppendRequest {
    ProcessEventAppendRequest::new(event_type, payload)
}

/// A [`NOTE`] append with payload `{"n": n}`.
pub fn note(n: u64) -> ProcessEventAppendRequest {
    event(NOTE, json!({ "n": n }))
}

/// A [`WAKE_IDENTITY`] append with message `msg`, targeted at [`target`].
pub fn wake(msg: &str) -> ProcessEventAppendRequest {
    event(WAKE_IDENTITY, json!({ "msg": msg })).with_wake_target(target())
}

/// A success output with `value`.
pub fn success(value: Value) -> ProcessAwaitOutput {
    ProcessAwaitOutput::Success { value }
}

/// A failure output.
pub fn failure(code: &str) -> ProcessAwaitOutput {
    ProcessAwaitOutput::Failure {
        code: code.to_owned(),
        message: format!("{code} happened"),
    }
}

/// A cancelled output.
pub fn cancelled() -> ProcessAwaitOutput {
    ProcessAwaitOutput::Cancelled {
        message: "stopped".to_owned(),
    }
}

/// The append `complete_process(process_id, output)` makes (C1).
pub fn terminal(process_id: &str, output: &ProcessAwaitOutput) -> ProcessEventAppendRequest {
    ProcessEventAppendRequest::terminal(process_id, output)
}

/// A [`DONE`] append carrying `output`, keyed `key`.
pub fn done(output: &ProcessAwaitOutput, key: &str) -> ProcessEventAppendRequest {
    event(DONE, json!({ "await_output": output })).with_replay_key(key)
}

/// A fresh registry holding `p1`, registered with [`standard`]: where most laws start.
///
/// # Errors
/// A failure when the harness or the registration fails.
pub async fn standard_p1(ctx: &Ctx) -> Result<RegistryHandle, LawFailure> {
    let reg = ctx.fresh().await?;
    ctx.ok("register_process(p1)", reg.register_process(standard("p1")))
        .await?;
    Ok(reg)
}
