//! Registration and records: R1-R7, X1-X3 and the recovery worklist N1.

use std::cell::RefCell;
use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

use procreg::{
    CORE_EVENT_TYPES, PluginError, ProcessEventType, ProcessExternalRef, ProcessProvenance,
    ProcessRecord, ProcessRegistration, ProcessStatus, ProcessTerminalState, WakeDedupeKey,
};

use super::inputs::{
    id_problem, is_json_pointer, normalize_external_ref, same_json, scope_problem,
};
use super::{Model, ProcessState};

impl Model {
    /// Registers a process, or returns the existing record of an identical registration.
    ///
    /// # Errors
    /// `InvalidRegistration` (R1) > `RegistrationConflict` (R5).
    pub fn register_process(
        &mut self,
        registration: ProcessRegistration,
        now_ms: u64,
    ) -> Result<ProcessRecord, PluginError> {
        self.register(&registration, now_ms)
    }

    /// [`Model::register_process`] on a borrowed registration (normalizing copies it anyway).
    pub(super) fn register(
        &mut self,
        registration: &ProcessRegistration,
        now_ms: u64,
    ) -> Result<ProcessRecord, PluginError> {
        let normalized = normalize_registration(registration)?;
        let registration_hash = registration_hash(&normalized);
        if let Some(existing) = self.processes.get(normalized.id.as_str()) {
            // R4: idempotent start, whatever the status; R5: a different registration.
            return if existing.registered.registration_hash == registration_hash {
                Ok(existing.record())
            } else {
                Err(PluginError::RegistrationConflict {
                    process_id: normalized.id,
                })
            };
        }
        // R3: a running record, created == updated == now, no external ref.
        let record = ProcessRecord {
            id: normalized.id.clone(),
            registration_hash,
            input: normalized.input,
            event_types: normalized.event_types,
            provenance: normalized.provenance,
            created_at_ms: now_ms,
            updated_at_ms: now_ms,
            external_ref: None,
            status: ProcessStatus::Running,
        };
        self.processes.insert(
            normalized.id.into(),
            Arc::new(ProcessState::new(record.clone())),
        );
        self.bump();
        Ok(record)
    }

    /// The current record, or `None` for an unknown id (R6).
    pub fn get_process(&self, process_id: &str) -> Option<ProcessRecord> {
        self.processes.get(process_id).map(|state| state.record())
    }

    /// Stores the external ref once (X1-X3); allowed on terminal processes.
    ///
    /// # Errors
    /// `UnknownProcess` > `InvalidRequest` (blank backend or id) > `ExternalRefConflict` (X3).
    pub fn set_external_ref(
        &mut self,
        process_id: &str,
        external_ref: ProcessExternalRef,
        now_ms: u64,
    ) -> Result<ProcessRecord, PluginError> {
        let state = self.state(process_id)?;
        let external_ref = normalize_external_ref(external_ref);
        let problem = id_problem("external ref backend", &external_ref.backend)
            .or_else(|| id_problem("external ref id", &external_ref.id));
        if let Some(reason) = problem {
            return Err(PluginError::invalid_request(reason));
        }
        match &state.registered.external_ref {
            // X2: the equal ref again (J1) returns the record unchanged.
            Some(stored) if super::inputs::json_equal(stored, &external_ref) => Ok(state.record()),
            Some(_) => Err(PluginError::ExternalRefConflict {
                process_id: process_id.to_owned(),
            }),
            None => {
                let state = self.state_mut(process_id)?;
                Arc::make_mut(&mut state.registered).external_ref = Some(external_ref);
                state.updated_at_ms = now_ms; // R7: X1 touches updated_at_ms.
                let record = state.record();
                self.bump();
                Ok(record)
            }
        }
    }

    /// Every running record, ascending process id, leased or not (N1).
    pub fn list_non_terminal(&self) -> Vec<ProcessRecord> {
        self.processes
            .values()
            .filter(|state| !state.is_terminal())
            .map(|state| state.record())
            .collect()
    }
}

/// Checks a registration (R1) and normalizes it (V2 scope, R2 core types).
fn normalize_registration(
    registration: &ProcessRegistration,
) -> Result<ProcessRegistration, PluginError> {
    let invalid = |reason: String| PluginError::InvalidRegistration {
        process_id: registration.id.clone(),
        reason,
    };
    let provenance = &registration.provenance;
    let problem = id_problem("process id", &registration.id)
        .or_else(|| scope_problem(&provenance.owner_scope).map(|p| format!("owner scope: {p}")))
        .or_else(|| id_problem("host profile id", &provenance.host_profile_id))
        .or_else(|| event_types_problem(&registration.event_types));
    if let Some(reason) = problem {
        return Err(invalid(reason));
    }
    // Room for the core types up front: pushing them would regrow a clone sized to fit.
    let mut event_types =
        Vec::with_capacity(registration.event_types.len() + CORE_EVENT_TYPES.len());
    event_types.extend_from_slice(&registration.event_types);
    for name in CORE_EVENT_TYPES {
        if !event_types.iter().any(|t| t.name == name) {
            event_types.push(core_type(name));
        }
    }
    Ok(ProcessRegistration {
        id: registration.id.clone(),
        input: registration.input.clone(),
        event_types,
        provenance: ProcessProvenance {
            owner_scope: provenance.owner_scope.normalized(),
            host_profile_id: provenance.host_profile_id.clone(),
        },
    })
}

/// How many recent registrations [`registration_hash`] remembers per thread.
const REMEMBERED_HASHES: usize = 32;

thread_local! {
    /// Recently hashed normalized registrations and their hashes, oldest first. The hash is a
    /// pure function of the registration, so this memo changes no answer; it spares the
    /// canonical JSON and SHA-256 of a registration seen again (a client's retry, the
    /// linearizability checker replaying one register call on many candidate states).
    static HASHES: RefCell<VecDeque<(ProcessRegistration, String)>> =
        const { RefCell::new(VecDeque::new()) };
}

/// `hash(normalized)` (R4, J1), remembered for the last [`REMEMBERED_HASHES`] registrations.
fn registration_hash(normalized: &ProcessRegistration) -> String {
    HASHES.with(|memo| {
        let mut memo = memo.borrow_mut();
        if let Some((_, hash)) = memo.iter().find(|(seen, _)| same_text(seen, normalized)) {
            return hash.clone();
        }
        let hash = procreg::canonical::hash(normalized);
        if memo.len() == REMEMBERED_HASHES {
            memo.pop_front();
        }
        memo.push_back((normalized.clone(), hash.clone()));
        hash
    })
}

/// Whether two registrations certainly have one canonical text: equal, with JSON numbers
/// compared by representation (`0.0 == -0.0` as `f64`, but their texts differ) and object
/// entries in one order. `false` only costs a hash.
fn same_text(a: &ProcessRegistration, b: &ProcessRegistration) -> bool {
    a.id == b.id
        && a.event_types == b.event_types
        && a.provenance == b.provenance
        && same_json(&a.input, &b.input)
}

/// The core event type named `name`, one of [`CORE_EVENT_TYPES`] (R2): plain, or terminal
/// in the state whose core event type it is. Equal to its entry in
/// [`ProcessEventType::core_types`], which registration would otherwise build whole, twice.
pub(super) fn core_type(name: &str) -> ProcessEventType {
    ProcessEventType {
        name: name.to_owned(),
        terminal: core_terminal(name),
        wake: None,
    }
}

/// Whether `event_type`, named like a core type, has that core type's semantics, without
/// building it.
fn is_core_type(event_type: &ProcessEventType) -> bool {
    event_type.wake.is_none() && event_type.terminal == core_terminal(&event_type.name)
}

/// The terminal state whose core event type is `name`, if any.
fn core_terminal(name: &str) -> Option<ProcessTerminalState> {
    use ProcessTerminalState::{Cancelled, Completed, Failed};
    [Completed, Failed, Cancelled]
        .into_iter()
        .find(|state| state.core_event_type() == name)
}

/// Why the declared event types are not acceptable, if they are not (R1).
fn event_types_problem(event_types: &[ProcessEventType]) -> Option<String> {
    let mut seen = BTreeSet::new();
    for event_type in event_types {
        let name = &event_type.name;
        if let Some(problem) = id_problem("event type name", name) {
            return Some(problem);
        }
        if !seen.insert(name.as_str()) {
            return Some(format!("event type `{name}` is declared twice"));
        }
        if CORE_EVENT_TYPES.contains(&name.as_str()) && !is_core_type(event_type) {
            return Some(format!(
                "core event type `{name}` declared with other semantics"
            ));
        }
        if let Some(wake) = &event_type.wake {
            if event_type.terminal.is_some() {
                return Some(format!("terminal event type `{name}` also wakes"));
            }
            let mut pointers = vec![wake.input.as_str()];
            pointers.extend(wake.when.as_deref());
            match &wake.dedupe_key {
                WakeDedupeKey::Pointer(pointer) => pointers.push(pointer),
                // Z4: a const dedupe key is a key (V2): no U+0000 or newline.
                WakeDedupeKey::Const(key) if procreg::validate::has_forbidden_char(key) => {
                    return Some(format!(
                        "dedupe key of `{name}` contains U+0000 or a newline"
                    ));
                }
                WakeDedupeKey::Const(_) | WakeDedupeKey::EventIdentity => {}
            }
            if let Some(bad) = pointers.into_iter().find(|p| !is_json_pointer(p)) {
                return Some(format!(
                    "wake pointer `{bad}` of `{name}` is not a JSON pointer"
                ));
            }
        }
    }
    None
}
