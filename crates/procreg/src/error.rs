//! Typed registry errors. Laws compare [`ErrorKind`]s, never message text.

use serde::{Deserialize, Serialize};

/// What went wrong, without the details: the value laws and scenario files compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The process id is not known (R6, E1, ...).
    UnknownProcess,
    /// The registration is malformed (R1).
    InvalidRegistration,
    /// Same id, different registration hash (R5).
    RegistrationConflict,
    /// A request argument is malformed (B1, V2, E15, H1, H7, L1).
    InvalidRequest,
    /// The event type is not declared by the process (E3).
    UndeclaredEventType,
    /// A terminal or cancel-request event came without a replay key (E4).
    ReplayKeyRequired,
    /// A used replay key came with a different (type, payload) (E2).
    ReplayConflict,
    /// The event payload does not fit its type (E5, E7).
    InvalidEvent,
    /// The process is already terminal (E6, C3, L1).
    AlreadyTerminal,
    /// A wake materialized but no target scope was given (E7).
    WakeTargetRequired,
    /// A different external ref is already stored (X3).
    ExternalRefConflict,
    /// The process is not granted in the source scope of a transfer (H7).
    HandleNotGranted,
    /// No event with that sequence exists (E13).
    UnknownEvent,
    /// A live lease is held by another owner (L1).
    LeaseHeld,
    /// The presented lease is no longer the live stored lease (L4).
    LeaseLost,
    /// Indefinite: the call may or may not have taken effect (A2).
    Unavailable,
    /// The backend's storage failed; the call took no effect (A2).
    Storage,
    /// Stored data cannot be read back faithfully (D4).
    Corrupt,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ErrorKind; 18] = [
        ErrorKind::UnknownProcess,
        ErrorKind::InvalidRegistration,
        ErrorKind::RegistrationConflict,
        ErrorKind::InvalidRequest,
        ErrorKind::UndeclaredEventType,
        ErrorKind::ReplayKeyRequired,
        ErrorKind::ReplayConflict,
        ErrorKind::InvalidEvent,
        ErrorKind::AlreadyTerminal,
        ErrorKind::WakeTargetRequired,
        ErrorKind::ExternalRefConflict,
        ErrorKind::HandleNotGranted,
        ErrorKind::UnknownEvent,
        ErrorKind::LeaseHeld,
        ErrorKind::LeaseLost,
        ErrorKind::Unavailable,
        ErrorKind::Storage,
        ErrorKind::Corrupt,
    ];

    /// The snake_case name used in scenario files and reports (`lease_held`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::UnknownProcess => "unknown_process",
            ErrorKind::InvalidRegistration => "invalid_registration",
            ErrorKind::RegistrationConflict => "registration_conflict",
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::UndeclaredEventType => "undeclared_event_type",
            ErrorKind::ReplayKeyRequired => "replay_key_required",
            ErrorKind::ReplayConflict => "replay_conflict",
            ErrorKind::InvalidEvent => "invalid_event",
            ErrorKind::AlreadyTerminal => "already_terminal",
            ErrorKind::WakeTargetRequired => "wake_target_required",
            ErrorKind::ExternalRefConflict => "external_ref_conflict",
            ErrorKind::HandleNotGranted => "handle_not_granted",
            ErrorKind::UnknownEvent => "unknown_event",
            ErrorKind::LeaseHeld => "lease_held",
            ErrorKind::LeaseLost => "lease_lost",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Storage => "storage",
            ErrorKind::Corrupt => "corrupt",
        }
    }

    /// Parses a snake_case name back into a kind.
    pub fn parse(name: &str) -> Option<ErrorKind> {
        ErrorKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }

    /// Whether an error of this kind means the call took no effect (A2): all but `Unavailable`.
    pub fn is_definite(self) -> bool {
        self != ErrorKind::Unavailable
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A registry error. Variants carry the ids involved; compare them through [`PluginError::kind`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(missing_docs)] // the fields are the ids each message names
pub enum PluginError {
    /// See [`ErrorKind::UnknownProcess`].
    #[error("unknown process `{process_id}`")]
    UnknownProcess { process_id: String },
    /// See [`ErrorKind::InvalidRegistration`].
    #[error("invalid registration of `{process_id}`: {reason}")]
    InvalidRegistration { process_id: String, reason: String },
    /// See [`ErrorKind::RegistrationConflict`].
    #[error("process `{process_id}` is already registered with a different registration")]
    RegistrationConflict { process_id: String },
    /// See [`ErrorKind::InvalidRequest`].
    #[error("invalid request: {reason}")]
    InvalidRequest { reason: String },
    /// See [`ErrorKind::UndeclaredEventType`].
    #[error("process `{process_id}` does not declare event type `{event_type}`")]
    UndeclaredEventType {
        process_id: String,
        event_type: String,
    },
    /// See [`ErrorKind::ReplayKeyRequired`].
    #[error("event type `{event_type}` on `{process_id}` needs a replay key")]
    ReplayKeyRequired {
        process_id: String,
        event_type: String,
    },
    /// See [`ErrorKind::ReplayConflict`].
    #[error("replay key `{replay_key}` on `{process_id}` was used with another type or payload")]
    ReplayConflict {
        process_id: String,
        replay_key: String,
    },
    /// See [`ErrorKind::InvalidEvent`].
    #[error("invalid event on `{process_id}`: {reason}")]
    InvalidEvent { process_id: String, reason: String },
    /// See [`ErrorKind::AlreadyTerminal`].
    #[error("process `{process_id}` is already terminal")]
    AlreadyTerminal { process_id: String },
    /// See [`ErrorKind::WakeTargetRequired`].
    #[error("event type `{event_type}` on `{process_id}` materialized a wake without a target")]
    WakeTargetRequired {
        process_id: String,
        event_type: String,
    },
    /// See [`ErrorKind::ExternalRefConflict`].
    #[error("process `{process_id}` already has a different external ref")]
    ExternalRefConflict { process_id: String },
    /// See [`ErrorKind::HandleNotGranted`].
    #[error("process `{process_id}` is not granted to `{scope_id}`")]
    HandleNotGranted {
        scope_id: String,
        process_id: String,
    },
    /// See [`ErrorKind::UnknownEvent`].
    #[error("process `{process_id}` has no event {sequence}")]
    UnknownEvent { process_id: String, sequence: u64 },
    /// See [`ErrorKind::LeaseHeld`].
    #[error("process `{process_id}` is leased by `{holder_owner_id}` until {expires_at_ms}")]
    LeaseHeld {
        process_id: String,
        holder_owner_id: String,
        expires_at_ms: u64,
    },
    /// See [`ErrorKind::LeaseLost`].
    #[error("lease on `{process_id}` was lost")]
    LeaseLost { process_id: String },
    /// See [`ErrorKind::Unavailable`].
    #[error("unavailable (outcome unknown): {reason}")]
    Unavailable { reason: String },
    /// See [`ErrorKind::Storage`].
    #[error("storage failure: {reason}")]
    Storage { reason: String },
    /// See [`ErrorKind::Corrupt`].
    #[error("store is corrupt: {reason}")]
    Corrupt { reason: String },
}

impl PluginError {
    /// The fieldless kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            PluginError::UnknownProcess { .. } => ErrorKind::UnknownProcess,
            PluginError::InvalidRegistration { .. } => ErrorKind::InvalidRegistration,
            PluginError::RegistrationConflict { .. } => ErrorKind::RegistrationConflict,
            PluginError::InvalidRequest { .. } => ErrorKind::InvalidRequest,
            PluginError::UndeclaredEventType { .. } => ErrorKind::UndeclaredEventType,
            PluginError::ReplayKeyRequired { .. } => ErrorKind::ReplayKeyRequired,
            PluginError::ReplayConflict { .. } => ErrorKind::ReplayConflict,
            PluginError::InvalidEvent { .. } => ErrorKind::InvalidEvent,
            PluginError::AlreadyTerminal { .. } => ErrorKind::AlreadyTerminal,
            PluginError::WakeTargetRequired { .. } => ErrorKind::WakeTargetRequired,
            PluginError::ExternalRefConflict { .. } => ErrorKind::ExternalRefConflict,
            PluginError::HandleNotGranted { .. } => ErrorKind::HandleNotGranted,
            PluginError::UnknownEvent { .. } => ErrorKind::UnknownEvent,
            PluginError::LeaseHeld { .. } => ErrorKind::LeaseHeld,
            PluginError::LeaseLost { .. } => ErrorKind::LeaseLost,
            PluginError::Unavailable { .. } => ErrorKind::Unavailable,
            PluginError::Storage { .. } => ErrorKind::Storage,
            PluginError::Corrupt { .. } => ErrorKind::Corrupt,
        }
    }

    /// Shorthand for [`PluginError::UnknownProcess`].
    pub fn unknown_process(process_id: &str) -> Self {
        PluginError::UnknownProcess {
            process_id: process_id.to_owned(),
        }
    }

    /// Shorthand for [`PluginError::InvalidRequest`].
    pub fn invalid_request(reason: impl Into<String>) -> Self {
        PluginError::InvalidRequest {
            reason: reason.into(),
        }
    }

    /// Shorthand for [`PluginError::Storage`].
    pub fn storage(reason: impl Into<String>) -> Self {
        PluginError::Storage {
            reason: reason.into(),
        }
    }

    /// Shorthand for [`PluginError::Corrupt`].
    pub fn corrupt(reason: impl Into<String>) -> Self {
        PluginError::Corrupt {
            reason: reason.into(),
        }
    }

    /// Shorthand for [`PluginError::Unavailable`].
    pub fn unavailable(reason: impl Into<String>) -> Self {
        PluginError::Unavailable {
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
    }

    #[test]
    fn only_unavailable_is_indefinite() {
        let indefinite: Vec<_> = ErrorKind::ALL
            .into_iter()
            .filter(|k| !k.is_definite())
            .collect();
        assert_eq!(indefinite, vec![ErrorKind::Unavailable]);
    }
}
