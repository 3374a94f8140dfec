//! Handle grants and session deletion reports (sections 7, 8).

use serde::{Deserialize, Serialize};

use crate::process::ProcessRecord;
use crate::scope::ProcessScope;

/// A cosmetic description of a handle; never compared by the registry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessHandleDescriptor {
    /// What kind of handle this is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// A label for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl ProcessHandleDescriptor {
    /// A descriptor with only a label.
    pub fn labelled(label: impl Into<String>) -> Self {
        Self {
            kind: None,
            label: Some(label.into()),
        }
    }
}

/// "Scope `scope` may address process `process_id`" (H1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessHandleGrant {
    /// Who may address the process.
    pub scope: ProcessScope,
    /// The process.
    pub process_id: String,
    /// Cosmetic.
    pub descriptor: ProcessHandleDescriptor,
}

/// A grant with the process's current record (H3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProcessHandleGrantEntry {
    /// The grant.
    pub grant: ProcessHandleGrant,
    /// The process's current record.
    pub record: ProcessRecord,
}

/// What `delete_session_process_state` removed and what it leaves to the caller (S1-S6).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessSessionDeleteReport {
    /// The deleted session.
    pub session_id: String,
    /// Grants removed (S1).
    pub revoked_handle_count: u64,
    /// Pending wakes that stopped being pending (S3).
    pub deleted_wake_count: u64,
    /// Running processes that lost their last grant (S2), ascending.
    pub cancel_process_ids: Vec<String>,
    /// Running processes that lost a grant but keep another (S2), ascending.
    pub preserved_process_ids: Vec<String>,
}
