//! Session deletion (S1-S6): remove what a session owns at that instant and report which
//! running processes lost their last grant. The registry cancels nothing itself (S4).

use std::collections::BTreeSet;
use std::sync::Arc;

use procreg::{ProcessEvent, ProcessSessionDeleteReport};

use super::Model;

impl Model {
    /// Removes every grant and pending wake of session `session_id` (all its scopes, matched by
    /// exact session id, never by prefix) and reports it (S1-S6). Unknown, blank or already
    /// deleted sessions give an empty report.
    pub fn delete_session_process_state(&mut self, session_id: &str) -> ProcessSessionDeleteReport {
        let mut report = ProcessSessionDeleteReport {
            session_id: session_id.to_owned(),
            ..ProcessSessionDeleteReport::default()
        };
        // S1: the session scope and its frame scopes, by exact session id.
        let owned_keys: Vec<String> = self
            .grants
            .iter()
            .filter(|(_, grants)| {
                grants
                    .values()
                    .next()
                    .is_some_and(|grant| grant.scope.session_id == session_id)
            })
            .map(|(key, _)| key.clone())
            .collect();
        let mut lost_grant = BTreeSet::new();
        for key in owned_keys {
            if let Some(grants) = self.grants.remove(&key) {
                report.revoked_handle_count += grants.len() as u64;
                lost_grant.extend(grants.into_keys());
            }
        }
        // S2: after all removals, running processes that lost a grant are preserved or cancelled.
        for process_id in lost_grant {
            let running = self
                .processes
                .get(process_id.as_str())
                .is_some_and(|state| !state.is_terminal());
            if !running {
                continue;
            }
            if self.grants.values().any(|g| g.contains_key(&process_id)) {
                report.preserved_process_ids.push(process_id);
            } else {
                report.cancel_process_ids.push(process_id);
            }
        }
        // S3: pending wakes targeting the session stop being pending.
        let targets_session = |events: &[Arc<ProcessEvent>], sequence: u64| {
            let target = sequence
                .checked_sub(1)
                .and_then(|index| events.get(index as usize))
                .and_then(|event| event.wake.as_ref());
            target.is_some_and(|wake| wake.target_scope.session_id == session_id)
        };
        for state in self.processes.values_mut() {
            // A state shared with a clone of this Model is copied only when it changes.
            if !(state.pending_wakes.iter()).any(|&s| targets_session(&state.events, s)) {
                continue;
            }
            let state = Arc::make_mut(state);
            let events = &state.events;
            let before = state.pending_wakes.len();
            (state.pending_wakes).retain(|&sequence| !targets_session(events, sequence));
            report.deleted_wake_count += (before - state.pending_wakes.len()) as u64;
        }
        if report.revoked_handle_count > 0 || report.deleted_wake_count > 0 {
            self.bump();
        }
        report
    }
}
