//! Leases (L1-L8): single-owner claims with strictly increasing fencing tokens.
//!
//! Lease tokens are derived from the fencing token (`lease-<fencing>`), so they are
//! deterministic from state (a replayed Model issues the same ones) and, since the fencing
//! counter only grows and survives release (L5, L6), never issued twice for one process.

use std::sync::Arc;

use procreg::{PluginError, ProcessLease, ProcessLeaseCompletion};

use super::Model;
use super::inputs::{expiry, id_problem};

impl Model {
    /// Claims the lease of a process, superseding every earlier lease (L1-L3).
    ///
    /// # Errors
    /// `UnknownProcess` > `InvalidRequest` (blank owner) > `AlreadyTerminal` > `LeaseHeld`
    /// (a live lease of another owner).
    pub fn claim_process_lease(
        &mut self,
        process_id: &str,
        owner_id: &str,
        lease_ttl_ms: u64,
        now_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        let state = self.state(process_id)?;
        if let Some(reason) = id_problem("owner id", owner_id) {
            return Err(PluginError::invalid_request(reason));
        }
        if state.is_terminal() {
            return Err(PluginError::AlreadyTerminal {
                process_id: process_id.to_owned(),
            });
        }
        if let Some(held) = &state.lease
            && held.is_live_at(now_ms)
            && held.owner_id != owner_id
        {
            return Err(PluginError::LeaseHeld {
                process_id: process_id.to_owned(),
                holder_owner_id: held.owner_id.clone(),
                expires_at_ms: held.expires_at_ms,
            });
        }
        let fencing_token = state
            .fencing_counter
            .checked_add(1)
            .filter(|token| *token <= procreg::MAX_TIMESTAMP_MS)
            .ok_or_else(|| PluginError::storage("fencing tokens exhausted (V3)"))?;
        let lease = ProcessLease {
            process_id: process_id.to_owned(),
            owner_id: owner_id.to_owned(),
            lease_token: lease_token(fencing_token),
            fencing_token,
            claimed_at_ms: now_ms,
            expires_at_ms: expiry(now_ms, lease_ttl_ms),
        };
        let state = self.state_mut(process_id)?;
        state.fencing_counter = fencing_token;
        state.lease = Some(Arc::new(lease.clone()));
        self.bump();
        Ok(lease)
    }

    /// Extends the stored lease when `lease` still is it and it is live (L4); status is not
    /// checked (L8). The presented timestamps are ignored.
    ///
    /// # Errors
    /// `UnknownProcess` > `LeaseLost`.
    pub fn renew_process_lease(
        &mut self,
        lease: &ProcessLease,
        lease_ttl_ms: u64,
        now_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        let state = self.state(&lease.process_id)?;
        let stored = match &state.lease {
            Some(stored)
                if stored.owner_id == lease.owner_id
                    && stored.lease_token == lease.lease_token
                    && stored.fencing_token == lease.fencing_token
                    && stored.is_live_at(now_ms) =>
            {
                stored
            }
            _ => {
                return Err(PluginError::LeaseLost {
                    process_id: lease.process_id.clone(),
                });
            }
        };
        let expires_at_ms = expiry(now_ms, lease_ttl_ms);
        let renewed = ProcessLease {
            expires_at_ms,
            ..ProcessLease::clone(stored)
        };
        if stored.expires_at_ms != expires_at_ms {
            let state = self.state_mut(&lease.process_id)?;
            if let Some(stored) = &mut state.lease {
                Arc::make_mut(stored).expires_at_ms = expires_at_ms;
            }
            self.bump();
        }
        Ok(renewed)
    }

    /// Releases the current lease if its token is `completion.lease_token`, live or expired;
    /// otherwise nothing happens (L5). The fencing counter stays.
    pub fn complete_process_lease(&mut self, completion: &ProcessLeaseCompletion) {
        let held = self
            .processes
            .get(completion.process_id.as_str())
            .and_then(|state| state.lease.as_ref())
            .is_some_and(|lease| lease.lease_token == completion.lease_token);
        if held && let Ok(state) = self.state_mut(&completion.process_id) {
            state.lease = None;
            self.bump();
        }
    }
}

/// The lease token of the lease with `fencing_token` (unique per process, L6).
fn lease_token(fencing_token: u64) -> String {
    format!("lease-{fencing_token}")
}
