//! `FileJournal`: the [`Journal`] the engine of a `FileRegistry` writes through. It turns each
//! state change into a log record, schedules snapshots, and holds the store lock (D2, D5, A2).

use procreg::{DurabilityTier, PluginError};

use super::commit::CommitLog;
use super::frame::LogRecordRef;
use crate::journal::Journal;
use crate::model::Model;
use crate::op::Op;
use crate::storage::StoreLock;

/// The journal of a `FileRegistry`: a group-committed record log on a [`Storage`](crate::Storage).
///
/// `record` runs under the engine's state lock and only serializes and buffers; every
/// `snapshot_every_records` records it also serializes the Model for the next commit to write
/// as a snapshot. `make_durable` blocks on storage (group commit: see the `file::commit` source).
#[derive(Debug)]
pub struct FileJournal {
    log: CommitLog,
    snapshot_every_records: u64,
    /// Held for the journal's whole life: dropping the registry lets the store be opened again.
    _lock: StoreLock,
}

impl FileJournal {
    pub(super) fn new(log: CommitLog, snapshot_every_records: u64, lock: StoreLock) -> Self {
        Self {
            log,
            snapshot_every_records,
            _lock: lock,
        }
    }

    /// The seq of the last record known durable (everything up to it survives a crash).
    pub fn durable_seq(&self) -> u64 {
        self.log.durable_ticket()
    }

    /// Whether a failed write made the journal refuse writes until reopen (A2).
    pub fn is_poisoned(&self) -> bool {
        self.log.is_poisoned()
    }
}

impl Journal for FileJournal {
    fn durability_tier(&self) -> DurabilityTier {
        DurabilityTier::Durable
    }

    fn writable(&self) -> Result<(), PluginError> {
        if self.log.is_poisoned() {
            return Err(PluginError::storage(
                "an earlier write to the log failed; reopen the store (A2)",
            ));
        }
        Ok(())
    }

    fn record(&self, op: &Op, now_ms: u64, model: &Model) -> u64 {
        let json = match serde_json::to_vec(&LogRecordRef { now_ms, op }) {
            Ok(json) => json,
            Err(_) => {
                // Cannot happen for serde_json values; if it did, the change must not be
                // acknowledged: poisoning makes this ticket's make_durable fail.
                self.log.poison();
                Vec::new()
            }
        };
        let ticket = self.log.push_record(json);
        let every = self.snapshot_every_records;
        if every > 0 && self.log.records_since_snapshot() >= every {
            match serde_json::to_vec(model) {
                Ok(payload) => self.log.push_snapshot(payload),
                Err(_) => self.log.poison(),
            }
        }
        ticket
    }

    fn last_ticket(&self) -> u64 {
        self.log.last_ticket()
    }

    fn make_durable(&self, ticket: u64) -> Result<(), PluginError> {
        self.log.make_durable(ticket)
    }
}
