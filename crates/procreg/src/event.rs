//! Events, wakes and append results (section 5).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::process::{ProcessAwaitOutput, ProcessTerminalState};
use crate::scope::ProcessScope;

/// A request to append one event (E1-E10).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProcessEventAppendRequest {
    /// A declared event type name.
    pub event_type: String,
    /// The payload.
    pub payload: Value,
    /// Makes the append idempotent (E2); blank counts as absent (B1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_key: Option<String>,
    /// Where a materialized wake is delivered (E7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wake_target_scope: Option<ProcessScope>,
}

impl ProcessEventAppendRequest {
    /// A request with no replay key and no wake target.
    pub fn new(event_type: impl Into<String>, payload: Value) -> Self {
        Self {
            event_type: event_type.into(),
            payload,
            replay_key: None,
            wake_target_scope: None,
        }
    }

    /// This request with a replay key.
    pub fn with_replay_key(mut self, replay_key: impl Into<String>) -> Self {
        self.replay_key = Some(replay_key.into());
        self
    }

    /// This request with a wake target.
    pub fn with_wake_target(mut self, scope: ProcessScope) -> Self {
        self.wake_target_scope = Some(scope);
        self
    }

    /// The request `complete_process(process_id, output)` appends (C1).
    pub fn terminal(process_id: &str, output: &ProcessAwaitOutput) -> Self {
        let event_type = output.terminal_state().core_event_type();
        Self::new(event_type, serde_json::json!({ "await_output": output }))
            .with_replay_key(terminal_replay_key(process_id))
    }
}

/// The replay key reserved for terminal events of `process_id` (C1, E15).
pub fn terminal_replay_key(process_id: &str) -> String {
    format!("process:{process_id}:terminal")
}

/// A wake that materialized when its event was appended (E7).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaterializedWake {
    /// Who is woken.
    pub target_scope: ProcessScope,
    /// The wake input (E7 rendering).
    pub input: String,
    /// The dedupe key (E7 rendering).
    pub dedupe_key: String,
}

/// One entry of a process's append-only log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProcessEvent {
    /// The process.
    pub process_id: String,
    /// 1-based, dense, per process (E8).
    pub sequence: u64,
    /// The event type.
    pub event_type: String,
    /// The payload.
    pub payload: Value,
    /// The replay key, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_key: Option<String>,
    /// The terminal state, for terminal events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminal: Option<ProcessTerminalState>,
    /// The wake, when one materialized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wake: Option<MaterializedWake>,
    /// When it was appended.
    pub occurred_at_ms: u64,
}

/// A wake delivery derived from a wake event (E9).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessWakeDelivery {
    /// `wake:` + hex SHA-256 of `<target scope id>\n<dedupe key>`.
    pub wake_id: String,
    /// Who is woken.
    pub target_scope: ProcessScope,
    /// The process.
    pub process_id: String,
    /// The wake event's sequence.
    pub sequence: u64,
    /// The wake event's type.
    pub event_type: String,
    /// The dedupe key.
    pub dedupe_key: String,
    /// The wake input.
    pub input: String,
    /// The wake event's `occurred_at_ms`.
    pub created_at_ms: u64,
}

impl ProcessWakeDelivery {
    /// The delivery derived from `event`, when it carries a wake (E9).
    pub fn from_event(event: &ProcessEvent) -> Option<Self> {
        let wake = event.wake.as_ref()?;
        Some(Self {
            wake_id: crate::canonical::wake_id(&wake.target_scope, &wake.dedupe_key),
            target_scope: wake.target_scope.clone(),
            process_id: event.process_id.clone(),
            sequence: event.sequence,
            event_type: event.event_type.clone(),
            dedupe_key: wake.dedupe_key.clone(),
            input: wake.input.clone(),
            created_at_ms: event.occurred_at_ms,
        })
    }
}

/// What `append_event` returns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProcessEventAppendResult {
    /// The stored event (the original one on replay).
    pub event: ProcessEvent,
    /// The wake delivery, when the event carries a wake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wake_delivery: Option<ProcessWakeDelivery>,
    /// Whether this was a replay of an earlier append (E2).
    pub replayed: bool,
}
