//! Scopes: who may address a process (a session, optionally narrowed to one agent frame).

use serde::{Deserialize, Serialize};

/// A session, optionally narrowed to one agent frame (V2: normalized on input).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ProcessScope {
    /// The session id. Must not contain `/frame:` (V2).
    pub session_id: String,
    /// The agent frame id; `Some("")` means the same as `None` (V2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_frame_id: Option<String>,
}

impl ProcessScope {
    /// The session scope of `session_id`.
    pub fn session(session_id: impl Into<String>) -> Self {
        Self {
            session_id: session_id.into(),
            agent_frame_id: None,
        }
    }

    /// The scope of frame `frame_id` inside session `session_id`.
    pub fn frame(session_id: impl Into<String>, frame_id: impl Into<String>) -> Self {
        Self {
            session_id: session_id.into(),
            agent_frame_id: Some(frame_id.into()),
        }
    }

    /// The scope id: `session:<sid>` or `session:<sid>/frame:<fid>`.
    ///
    /// ```
    /// # use procreg::ProcessScope;
    /// assert_eq!(ProcessScope::session("a").id(), "session:a");
    /// assert_eq!(ProcessScope::frame("a", "").id(), "session:a");
    /// ```
    pub fn id(&self) -> String {
        match self.agent_frame_id.as_deref() {
            Some(frame) if !frame.is_empty() => {
                format!("session:{}/frame:{}", self.session_id, frame)
            }
            _ => format!("session:{}", self.session_id),
        }
    }

    /// This scope with `agent_frame_id: Some("")` turned into `None` (V2).
    pub fn normalized(&self) -> Self {
        match self.agent_frame_id.as_deref() {
            Some("") => Self {
                session_id: self.session_id.clone(),
                agent_frame_id: None,
            },
            _ => self.clone(),
        }
    }
}
