//! What the Model keeps about one process, laid out for cheap copies.
//!
//! The linearizability search clones the Model once per call it places, and the Engine hands
//! out a [`ProcessRecord`] on most answers. So the parts of a record that almost never change
//! after registration (id, hash, input, event types, provenance, external ref) sit behind one
//! `Arc` ([`Registered`]), and the two fields appends change (`updated_at_ms`, `status`) sit
//! beside it: an append to a cloned Model copies no string of the record. A whole
//! [`ProcessRecord`] is assembled only when an answer needs one ([`ProcessState::record`]).
//!
//! Stored (FileRegistry snapshots) in the layout it always had, a `record` beside the log and
//! the rest ([`Stored`]), so snapshots written before and after read alike.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use procreg::{
    ProcessEvent, ProcessEventType, ProcessExternalRef, ProcessLease, ProcessProvenance,
    ProcessRecord, ProcessStatus,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Everything the Model keeps about one process.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "Stored", into = "Stored")]
pub(super) struct ProcessState {
    /// The record's fields appends leave alone; shared, so a clone of the Model copies them
    /// only when a write changes one (`Arc::make_mut`: registration never, X1 once).
    pub(super) registered: Arc<Registered>,
    /// Changed only by R3, X1 and E8 (R7).
    pub(super) updated_at_ms: u64,
    /// Running until the one terminal event (W1).
    pub(super) status: ProcessStatus,
    /// The log; `events[i].sequence == i + 1` (E8). Events never change once appended, so
    /// they are shared: cloning a Model (the linearizability search does, once per call it
    /// places) copies pointers, not payloads.
    pub(super) events: Vec<Arc<ProcessEvent>>,
    /// Replay key -> sequence of the event that used it (E2). Shared, and its keys are
    /// shared strings, so neither a Model clone nor the copy a keyed append then makes
    /// copies a key.
    pub(super) replay_keys: Arc<BTreeMap<Arc<str>, u64>>,
    /// Sequences of the wake events still pending (E12, E13, S3).
    pub(super) pending_wakes: BTreeSet<u64>,
    /// The current lease, live or expired; `None` when never claimed or released (L5).
    /// Shared, so copying the state for an append or a claim copies none of its strings.
    pub(super) lease: Option<Arc<ProcessLease>>,
    /// The highest fencing token ever issued (L2, L6); survives release.
    pub(super) fencing_counter: u64,
}

impl Clone for ProcessState {
    /// A state is copied to be written (`Arc::make_mut` on a Model shared with a clone), most
    /// often by an append: the copied log gets room for one more event, so that append does
    /// not reallocate it at once.
    fn clone(&self) -> Self {
        let mut events = Vec::with_capacity(self.events.len() + 1);
        events.extend(self.events.iter().cloned());
        ProcessState {
            registered: Arc::clone(&self.registered),
            updated_at_ms: self.updated_at_ms,
            status: self.status.clone(),
            events,
            replay_keys: Arc::clone(&self.replay_keys),
            pending_wakes: self.pending_wakes.clone(),
            lease: self.lease.clone(),
            fencing_counter: self.fencing_counter,
        }
    }
}

/// The fields of a [`ProcessRecord`] that appends never change.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Registered {
    pub(super) id: String,
    pub(super) registration_hash: String,
    pub(super) input: Value,
    pub(super) event_types: Vec<ProcessEventType>,
    pub(super) provenance: ProcessProvenance,
    pub(super) created_at_ms: u64,
    /// Set once (X1-X3).
    pub(super) external_ref: Option<ProcessExternalRef>,
}

impl ProcessState {
    /// The state of a process just registered from `record` (R3).
    pub(super) fn new(record: ProcessRecord) -> Self {
        Stored {
            record,
            events: Vec::new(),
            replay_keys: Arc::default(),
            pending_wakes: BTreeSet::new(),
            lease: None,
            fencing_counter: 0,
        }
        .into()
    }

    /// The process's record as the contract shows it.
    pub(super) fn record(&self) -> ProcessRecord {
        let registered = &*self.registered;
        ProcessRecord {
            id: registered.id.clone(),
            registration_hash: registered.registration_hash.clone(),
            input: registered.input.clone(),
            event_types: registered.event_types.clone(),
            provenance: registered.provenance.clone(),
            created_at_ms: registered.created_at_ms,
            updated_at_ms: self.updated_at_ms,
            external_ref: registered.external_ref.clone(),
            status: self.status.clone(),
        }
    }

    /// The process id.
    pub(super) fn id(&self) -> &str {
        &self.registered.id
    }

    /// Whether the process is terminal.
    pub(super) fn is_terminal(&self) -> bool {
        self.status.is_terminal()
    }

    /// The declared event type named `name`.
    pub(super) fn event_type(&self, name: &str) -> Option<&ProcessEventType> {
        self.registered.event_types.iter().find(|t| t.name == name)
    }
}

/// How a [`ProcessState`] is serialized: the layout of the Model's snapshots.
#[derive(Clone, Serialize, Deserialize)]
struct Stored {
    record: ProcessRecord,
    events: Vec<Arc<ProcessEvent>>,
    replay_keys: Arc<BTreeMap<Arc<str>, u64>>,
    pending_wakes: BTreeSet<u64>,
    lease: Option<Arc<ProcessLease>>,
    fencing_counter: u64,
}

impl From<Stored> for ProcessState {
    fn from(stored: Stored) -> Self {
        let record = stored.record;
        ProcessState {
            registered: Arc::new(Registered {
                id: record.id,
                registration_hash: record.registration_hash,
                input: record.input,
                event_types: record.event_types,
                provenance: record.provenance,
                created_at_ms: record.created_at_ms,
                external_ref: record.external_ref,
            }),
            updated_at_ms: record.updated_at_ms,
            status: record.status,
            events: stored.events,
            replay_keys: stored.replay_keys,
            pending_wakes: stored.pending_wakes,
            lease: stored.lease,
            fencing_counter: stored.fencing_counter,
        }
    }
}

impl From<ProcessState> for Stored {
    fn from(state: ProcessState) -> Self {
        Stored {
            record: state.record(),
            events: state.events,
            replay_keys: state.replay_keys,
            pending_wakes: state.pending_wakes,
            lease: state.lease,
            fencing_counter: state.fencing_counter,
        }
    }
}
