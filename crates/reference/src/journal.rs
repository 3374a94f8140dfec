//! Where a registry built on the Model makes its mutations durable (D1, D2, A2).
//!
//! The [`Engine`](crate::engine::Engine) applies every call to its Model under one lock and
//! hands each state change to a [`Journal`]; a journal only buffers under the lock and makes
//! durable outside it, so concurrent writers share one sync (group commit). MemoryRegistry uses
//! [`NoJournal`]; FileRegistry writes a checksummed log.

/// Where a registry built on the Model makes its mutations durable.
pub trait Journal: Send + Sync + 'static {
    /// The tier this journal gives (D1).
    fn durability_tier(&self) -> procreg::DurabilityTier;
    /// Err(Storage) once the journal can no longer write (e.g. after a failed fsync, A2);
    /// checked under the state lock BEFORE a mutation is applied to the Model.
    fn writable(&self) -> Result<(), procreg::PluginError>;
    /// Records that `op`, applied at `now_ms`, changed `model` (already applied; the Model's
    /// revision moved). Called under the engine's state lock, in apply order, so the journal
    /// may snapshot `model`. Only buffers; returns a ticket for `make_durable`.
    fn record(&self, op: &crate::Op, now_ms: u64, model: &crate::Model) -> u64;
    /// The ticket of the last record (reads wait for it so they never show state a crash could lose).
    fn last_ticket(&self) -> u64;
    /// Blocks until everything up to `ticket` is durable (group commit: concurrent callers
    /// share one sync). On failure the journal is poisoned and this returns Err.
    fn make_durable(&self, ticket: u64) -> Result<(), procreg::PluginError>;
}

/// The journal of an Inline registry: nothing is written anywhere.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoJournal;

impl Journal for NoJournal {
    fn durability_tier(&self) -> procreg::DurabilityTier {
        procreg::DurabilityTier::Inline
    }

    fn writable(&self) -> Result<(), procreg::PluginError> {
        Ok(())
    }

    fn record(&self, _op: &crate::Op, _now_ms: u64, _model: &crate::Model) -> u64 {
        0
    }

    fn last_ticket(&self) -> u64 {
        0
    }

    fn make_durable(&self, _ticket: u64) -> Result<(), procreg::PluginError> {
        Ok(())
    }
}
