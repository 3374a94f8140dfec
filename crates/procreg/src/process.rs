//! Processes: registrations, declared event types, records and terminal outcomes (sections 2, 4).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::scope::ProcessScope;

/// Name of the core plain event that asks a process to cancel (R2).
pub const EVENT_CANCEL_REQUESTED: &str = "process.cancel_requested";
/// Name of the core terminal event for `completed` (R2).
pub const EVENT_COMPLETED: &str = "process.completed";
/// Name of the core terminal event for `failed` (R2).
pub const EVENT_FAILED: &str = "process.failed";
/// Name of the core terminal event for `cancelled` (R2).
pub const EVENT_CANCELLED: &str = "process.cancelled";
/// The core event type names, in the order R2 appends them.
pub const CORE_EVENT_TYPES: [&str; 4] = [
    EVENT_CANCEL_REQUESTED,
    EVENT_COMPLETED,
    EVENT_FAILED,
    EVENT_CANCELLED,
];

/// The terminal state a process ends in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessTerminalState {
    /// The process succeeded.
    Completed,
    /// The process failed.
    Failed,
    /// The process was cancelled.
    Cancelled,
}

impl ProcessTerminalState {
    /// The core event type that carries this state (`process.completed`, ...).
    pub fn core_event_type(self) -> &'static str {
        match self {
            ProcessTerminalState::Completed => EVENT_COMPLETED,
            ProcessTerminalState::Failed => EVENT_FAILED,
            ProcessTerminalState::Cancelled => EVENT_CANCELLED,
        }
    }
}

/// How a wake's dedupe key is derived (E7). Externally tagged in JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WakeDedupeKey {
    /// `<process_id>:<sequence>`.
    EventIdentity,
    /// The value at this JSON pointer in the payload.
    Pointer(String),
    /// This constant (may be empty).
    Const(String),
}

/// Wake semantics of an event type (E7).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessWakeSpec {
    /// A JSON pointer; when set and the value there is missing or falsy, no wake materializes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// A JSON pointer to the wake input.
    pub input: String,
    /// How the dedupe key is derived.
    pub dedupe_key: WakeDedupeKey,
}

/// An event type a process declares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessEventType {
    /// The type name, unique within a registration.
    pub name: String,
    /// The terminal state this event sets, for terminal types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminal: Option<ProcessTerminalState>,
    /// Wake semantics, for wake types. A terminal type never wakes (R1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wake: Option<ProcessWakeSpec>,
}

impl ProcessEventType {
    /// A plain event type: neither terminal nor waking.
    pub fn plain(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            terminal: None,
            wake: None,
        }
    }

    /// A terminal event type with `state`.
    pub fn terminal(name: impl Into<String>, state: ProcessTerminalState) -> Self {
        Self {
            name: name.into(),
            terminal: Some(state),
            wake: None,
        }
    }

    /// A wake event type.
    pub fn waking(name: impl Into<String>, wake: ProcessWakeSpec) -> Self {
        Self {
            name: name.into(),
            terminal: None,
            wake: Some(wake),
        }
    }

    /// The four core types in R2 order.
    pub fn core_types() -> Vec<ProcessEventType> {
        vec![
            ProcessEventType::plain(EVENT_CANCEL_REQUESTED),
            ProcessEventType::terminal(EVENT_COMPLETED, ProcessTerminalState::Completed),
            ProcessEventType::terminal(EVENT_FAILED, ProcessTerminalState::Failed),
            ProcessEventType::terminal(EVENT_CANCELLED, ProcessTerminalState::Cancelled),
        ]
    }
}

/// Where a process came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessProvenance {
    /// The scope that registered the process.
    pub owner_scope: ProcessScope,
    /// The host profile the process runs under.
    pub host_profile_id: String,
}

/// A request to register a process (R1-R5).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProcessRegistration {
    /// The process id (non-blank, B1).
    pub id: String,
    /// Opaque input.
    pub input: Value,
    /// Declared event types; the core types are appended when missing (R2).
    #[serde(default)]
    pub event_types: Vec<ProcessEventType>,
    /// Where the process came from.
    pub provenance: ProcessProvenance,
}

impl ProcessRegistration {
    /// A registration with input `null` and no declared types beyond the core ones.
    pub fn new(id: impl Into<String>, owner_scope: ProcessScope, host: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            input: Value::Null,
            event_types: Vec::new(),
            provenance: ProcessProvenance {
                owner_scope,
                host_profile_id: host.into(),
            },
        }
    }

    /// This registration with `input`.
    pub fn with_input(mut self, input: Value) -> Self {
        self.input = input;
        self
    }

    /// This registration with one more declared event type.
    pub fn with_event_type(mut self, event_type: ProcessEventType) -> Self {
        self.event_types.push(event_type);
        self
    }
}

/// What a finished process hands to whoever awaits it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ProcessAwaitOutput {
    /// Completed with a value.
    Success {
        /// The result.
        value: Value,
    },
    /// Failed.
    Failure {
        /// A machine-readable code.
        code: String,
        /// A message for people.
        message: String,
    },
    /// Cancelled.
    Cancelled {
        /// Why.
        message: String,
    },
}

impl ProcessAwaitOutput {
    /// The terminal state this output belongs to (E5).
    pub fn terminal_state(&self) -> ProcessTerminalState {
        match self {
            ProcessAwaitOutput::Success { .. } => ProcessTerminalState::Completed,
            ProcessAwaitOutput::Failure { .. } => ProcessTerminalState::Failed,
            ProcessAwaitOutput::Cancelled { .. } => ProcessTerminalState::Cancelled,
        }
    }
}

/// A process's status: running until exactly one terminal event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ProcessStatus {
    /// Not yet terminal.
    Running,
    /// Terminal: completed.
    Completed {
        /// The recorded output.
        await_output: ProcessAwaitOutput,
    },
    /// Terminal: failed.
    Failed {
        /// The recorded output.
        await_output: ProcessAwaitOutput,
    },
    /// Terminal: cancelled.
    Cancelled {
        /// The recorded output.
        await_output: ProcessAwaitOutput,
    },
}

impl ProcessStatus {
    /// The terminal status recording `output` in the state it belongs to.
    pub fn terminal(output: ProcessAwaitOutput) -> Self {
        match output.terminal_state() {
            ProcessTerminalState::Completed => ProcessStatus::Completed {
                await_output: output,
            },
            ProcessTerminalState::Failed => ProcessStatus::Failed {
                await_output: output,
            },
            ProcessTerminalState::Cancelled => ProcessStatus::Cancelled {
                await_output: output,
            },
        }
    }

    /// Whether the process is terminal.
    pub fn is_terminal(&self) -> bool {
        !matches!(self, ProcessStatus::Running)
    }

    /// The recorded await output, for terminal statuses.
    pub fn await_output(&self) -> Option<&ProcessAwaitOutput> {
        match self {
            ProcessStatus::Running => None,
            ProcessStatus::Completed { await_output }
            | ProcessStatus::Failed { await_output }
            | ProcessStatus::Cancelled { await_output } => Some(await_output),
        }
    }
}

/// A reference to where the process's work lives in some other system (X1-X3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProcessExternalRef {
    /// The other system (non-blank).
    pub backend: String,
    /// The id there (non-blank).
    pub id: String,
    /// Free-form metadata; `Some(Null)` is normalized to `None` (J1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

/// The stored state of a process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProcessRecord {
    /// The process id.
    pub id: String,
    /// hash(normalized registration) (R2).
    pub registration_hash: String,
    /// The registered input.
    pub input: Value,
    /// The normalized event types (R2).
    pub event_types: Vec<ProcessEventType>,
    /// Where the process came from.
    pub provenance: ProcessProvenance,
    /// When it was registered.
    pub created_at_ms: u64,
    /// Changed only by R3, X1 and E8 (R7).
    pub updated_at_ms: u64,
    /// The external ref, once set (X1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<ProcessExternalRef>,
    /// Running or terminal.
    pub status: ProcessStatus,
}

impl ProcessRecord {
    /// Whether the process is terminal.
    pub fn is_terminal(&self) -> bool {
        self.status.is_terminal()
    }

    /// The declared event type named `name`.
    pub fn event_type(&self, name: &str) -> Option<&ProcessEventType> {
        self.event_types.iter().find(|t| t.name == name)
    }
}
