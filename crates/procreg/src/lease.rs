//! Leases and durability tiers (sections 9, 10).

use serde::{Deserialize, Serialize};

/// The single-owner right to execute a process (L1-L8).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessLease {
    /// The process.
    pub process_id: String,
    /// Who holds the lease.
    pub owner_id: String,
    /// Never issued twice for one process (L6).
    pub lease_token: String,
    /// Strictly increasing per process (L2, L6).
    pub fencing_token: u64,
    /// When the lease was claimed.
    pub claimed_at_ms: u64,
    /// Live iff `expires_at_ms > now` (V1).
    pub expires_at_ms: u64,
}

impl ProcessLease {
    /// Whether the lease is live at `now_ms` (V1).
    pub fn is_live_at(&self, now_ms: u64) -> bool {
        self.expires_at_ms > now_ms
    }

    /// The completion that releases this lease (L5).
    pub fn completion(&self) -> ProcessLeaseCompletion {
        ProcessLeaseCompletion {
            process_id: self.process_id.clone(),
            lease_token: self.lease_token.clone(),
        }
    }
}

/// Releases a lease if it is still the current one (L5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessLeaseCompletion {
    /// The process.
    pub process_id: String,
    /// The lease token being released.
    pub lease_token: String,
}

impl From<&ProcessLease> for ProcessLeaseCompletion {
    fn from(lease: &ProcessLease) -> Self {
        lease.completion()
    }
}

/// Whether acknowledged state survives a crash (D1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DurabilityTier {
    /// State may vanish on crash.
    #[default]
    Inline,
    /// Every acknowledged mutation survives crash and reopen.
    Durable,
}
