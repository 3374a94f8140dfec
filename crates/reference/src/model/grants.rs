//! Handle grants: grant, revoke, list, transfer (H1-H8). Grants never append events, touch
//! leases or change records (H8).

use std::collections::BTreeSet;

use procreg::{
    PluginError, ProcessHandleDescriptor, ProcessHandleGrant, ProcessHandleGrantEntry, ProcessScope,
};

use super::Model;
use super::inputs::{scope_key, scope_problem};

impl Model {
    /// Upserts the grant of `scope` on the process, replacing its descriptor (H1).
    ///
    /// # Errors
    /// `UnknownProcess` > `InvalidRequest` (blank or malformed session id, B1/V2).
    pub fn grant_handle(
        &mut self,
        scope: &ProcessScope,
        process_id: &str,
        descriptor: ProcessHandleDescriptor,
    ) -> Result<ProcessHandleGrant, PluginError> {
        self.state(process_id)?;
        if let Some(problem) = scope_problem(scope) {
            return Err(PluginError::invalid_request(format!(
                "grant scope: {problem}"
            )));
        }
        let scope = scope.normalized();
        let grant = ProcessHandleGrant {
            process_id: process_id.to_owned(),
            descriptor,
            scope,
        };
        self.upsert_grant(grant.clone());
        Ok(grant)
    }

    /// Removes the grant of `scope` on the process if present; always succeeds (H2).
    pub fn revoke_handle(&mut self, scope: &ProcessScope, process_id: &str) {
        let Some(key) = scope_key(scope) else { return };
        if self.remove_grant(&key, process_id).is_some() {
            self.bump();
        }
    }

    /// The grants of exactly `scope`, every status, ascending process id (H3, O1).
    pub fn list_handle_grants(&self, scope: &ProcessScope) -> Vec<ProcessHandleGrantEntry> {
        let Some(grants) = scope_key(scope).and_then(|key| self.grants.get(&key)) else {
            return Vec::new();
        };
        grants
            .values()
            .filter_map(|grant| {
                let state = self.processes.get(grant.process_id.as_str())?;
                Some(ProcessHandleGrantEntry {
                    grant: grant.clone(),
                    record: state.record(),
                })
            })
            .collect()
    }

    /// The grants of exactly `scope` whose process is running (H4, M1).
    pub fn list_live_handle_grants(&self, scope: &ProcessScope) -> Vec<ProcessHandleGrantEntry> {
        let mut entries = self.list_handle_grants(scope);
        entries.retain(|entry| !entry.record.is_terminal());
        entries
    }

    /// Whether `scope` holds a grant on the process; false for unknown ids (H5, M1).
    pub fn has_handle_grant(&self, scope: &ProcessScope, process_id: &str) -> bool {
        scope_key(scope)
            .and_then(|key| self.grants.get(&key))
            .is_some_and(|grants| grants.contains_key(process_id))
    }

    /// Every grant of the process, ascending scope id (H6, O1).
    ///
    /// # Errors
    /// `UnknownProcess`.
    pub fn handle_grants_for_process(
        &self,
        process_id: &str,
    ) -> Result<Vec<ProcessHandleGrant>, PluginError> {
        self.state(process_id)?;
        Ok(self
            .grants
            .values()
            .filter_map(|grants| grants.get(process_id).cloned())
            .collect())
    }

    /// Moves grants from `from` to `to`, all or nothing, keeping descriptors (H7).
    ///
    /// # Errors
    /// `InvalidRequest` (duplicate id, blank or malformed session) > `HandleNotGranted` (an id
    /// without a grant in `from`, known process or not). An empty list or `from == to` then
    /// changes nothing.
    pub fn transfer_handle_grants(
        &mut self,
        from: &ProcessScope,
        to: &ProcessScope,
        process_ids: &[String],
    ) -> Result<(), PluginError> {
        let mut seen = BTreeSet::new();
        if let Some(duplicate) = process_ids.iter().find(|id| !seen.insert(id.as_str())) {
            return Err(PluginError::invalid_request(format!(
                "process id `{duplicate}` is listed twice"
            )));
        }
        for (side, scope) in [("from", from), ("to", to)] {
            if let Some(problem) = scope_problem(scope) {
                return Err(PluginError::invalid_request(format!(
                    "{side} scope: {problem}"
                )));
            }
        }
        let from_key = from.normalized().id();
        let to_key = to.normalized().id();
        for process_id in process_ids {
            if !self.has_handle_grant(from, process_id) {
                return Err(PluginError::HandleNotGranted {
                    scope_id: from_key,
                    process_id: process_id.clone(),
                });
            }
        }
        if process_ids.is_empty() || from_key == to_key {
            return Ok(());
        }
        for process_id in process_ids {
            if let Some(mut grant) = self.remove_grant(&from_key, process_id) {
                grant.scope = to.normalized();
                self.upsert_grant(grant);
            }
        }
        self.bump();
        Ok(())
    }

    /// Inserts or replaces a grant (keyed by its normalized scope id); bumps the revision when
    /// that changed anything.
    fn upsert_grant(&mut self, grant: ProcessHandleGrant) {
        let grants = self.grants.entry(grant.scope.id()).or_default();
        if grants.get(&grant.process_id) != Some(&grant) {
            grants.insert(grant.process_id.clone(), grant);
            self.bump();
        }
    }

    /// Removes one grant, dropping the scope's map when it empties. Does not bump.
    pub(super) fn remove_grant(
        &mut self,
        scope_key: &str,
        process_id: &str,
    ) -> Option<ProcessHandleGrant> {
        let grants = self.grants.get_mut(scope_key)?;
        let removed = grants.remove(process_id);
        if grants.is_empty() {
            self.grants.remove(scope_key);
        }
        removed
    }
}
