//! `FileRegistry` on [`SimStorage`] as a sim target: the durable registry the world crashes.
//!
//! Why it exists: D2, D3, D6 and D7 can only be checked end to end against a registry whose
//! disk the simulator controls. A crash here is a real power loss of the simulated disk: the
//! old registry is dropped, the store loses (or tears) every unsynced byte per the storage
//! stream, and a new `FileRegistry` replays what survived. A small snapshot interval makes
//! snapshots and log compaction happen inside ordinary sim runs too.
//!
//! FileRegistry writes inline, so a crash planned by the world always lands between two calls,
//! never between a write and its sync. [`SimFileTarget::power_loss_window`] fixes that: after
//! each reopen the disk loses power after a random number of further writes (drawn from the
//! storage stream), so the calls after it fail (`Unavailable`, then `Storage`) until the planned
//! crash, which then meets an unsynced tail to drop or tear.

use std::sync::Arc;

use async_trait::async_trait;
use procreg::{PluginError, ProcessRegistry, SharedClock};
use procreg_reference::{FileOptions, FileRegistry, Model, Storage};

use crate::plan::StorageFaults;
use crate::rng::SimRng;
use crate::storage::SimStorage;
use crate::target::SimTarget;

/// Records between snapshots in sims: small, so compaction runs in every long run.
pub const SIM_SNAPSHOT_EVERY: u64 = 16;

/// What the registry writes through instead of the bare disk: a wrapper around it (a disk with
/// a bug, for broken registries).
pub type StorageWrap = fn(SimStorage) -> Arc<dyn Storage>;

/// `FileRegistry` over a [`SimStorage`] (tier Durable).
#[derive(Debug)]
pub struct SimFileTarget {
    name: &'static str,
    wrap: Option<StorageWrap>,
    storage: SimStorage,
    options: FileOptions,
    torn_write_probability: f64,
    current: Option<Arc<FileRegistry>>,
    reopens: u64,
    power_loss_window: u64,
}

impl Default for SimFileTarget {
    fn default() -> Self {
        Self::new()
    }
}

impl SimFileTarget {
    /// A target snapshotting every [`SIM_SNAPSHOT_EVERY`] records, with no torn writes until
    /// the world hands it its plan's storage faults.
    pub fn new() -> Self {
        Self {
            name: "file-on-simstorage",
            wrap: None,
            storage: SimStorage::new(),
            options: FileOptions {
                snapshot_every_records: SIM_SNAPSHOT_EVERY,
            },
            torn_write_probability: 0.0,
            current: None,
            reopens: 0,
            power_loss_window: 0,
        }
    }

    /// Records between snapshots (`0`: never).
    pub fn snapshot_every(mut self, records: u64) -> Self {
        self.options.snapshot_every_records = records;
        self
    }

    /// Probability that a crash tears the unsynced tail instead of dropping it (the world
    /// overrides it with the plan's value at the start of a run).
    pub fn torn_write_probability(mut self, probability: f64) -> Self {
        self.torn_write_probability = probability;
        self
    }

    /// After each reopen, lose power after `0..writes` further writes (`0`: never; default).
    /// The first incarnation is never cut: the plan's first crash starts it.
    pub fn power_loss_window(mut self, writes: u64) -> Self {
        self.power_loss_window = writes;
        self
    }

    /// Writes through `wrap(disk)` instead of the disk itself, and reports as `name`. Crashes
    /// still hit the disk underneath.
    pub fn through(mut self, name: &'static str, wrap: StorageWrap) -> Self {
        self.name = name;
        self.wrap = Some(wrap);
        self
    }

    /// The simulated disk (for fault hooks such as [`SimStorage::fail_next_sync`] and stats).
    pub fn storage(&self) -> &SimStorage {
        &self.storage
    }

    /// The registry currently open, if any.
    pub fn registry(&self) -> Option<&Arc<FileRegistry>> {
        self.current.as_ref()
    }

    /// Successful reopens after crashes.
    pub fn reopens(&self) -> u64 {
        self.reopens
    }

    fn open_on_current(
        &mut self,
        clock: SharedClock,
    ) -> Result<Arc<dyn ProcessRegistry>, PluginError> {
        let handle: Arc<dyn Storage> = match self.wrap {
            Some(wrap) => wrap(self.storage.handle()),
            None => Arc::new(self.storage.handle()),
        };
        let registry = Arc::new(FileRegistry::open_with(handle, clock, self.options)?);
        self.current = Some(Arc::clone(&registry));
        Ok(registry)
    }
}

#[async_trait(?Send)]
impl SimTarget for SimFileTarget {
    fn name(&self) -> String {
        self.name.into()
    }

    fn durable(&self) -> bool {
        true
    }

    fn set_storage_faults(&mut self, faults: &StorageFaults) {
        self.torn_write_probability = faults.torn_write_probability;
    }

    async fn open(&mut self, clock: SharedClock) -> Result<Arc<dyn ProcessRegistry>, PluginError> {
        self.current = None;
        self.storage = SimStorage::new();
        self.open_on_current(clock)
    }

    async fn crash_and_reopen(
        &mut self,
        old: Arc<dyn ProcessRegistry>,
        clock: SharedClock,
        rng: &mut SimRng,
    ) -> Result<Arc<dyn ProcessRegistry>, PluginError> {
        // D7: the old instance is gone before the disk comes back; its storage handle is
        // retired by the crash, so even a late drop could not write.
        self.current = None;
        drop(old);
        self.storage.crash(rng, self.torn_write_probability);
        let reopened = self.open_on_current(clock)?;
        self.reopens += 1;
        if self.power_loss_window > 0 {
            self.storage
                .power_off_after(rng.below(self.power_loss_window));
        }
        Ok(reopened)
    }

    fn inspect_model(&self) -> Option<Model> {
        self.current.as_ref()?.engine().model_snapshot().ok()
    }
}
