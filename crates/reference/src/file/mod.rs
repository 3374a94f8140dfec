//! The durable `FileRegistry` (tier `Durable`): the Model plus a checksummed write-ahead log with
//! group commit and snapshots, written through a [`Storage`] (D1-D7).
//!
//! - [`frame`] is the log's on-disk format and tail policy; [`snapshot`] the snapshot's.
//! - [`recover`] reads a store back on open, with the recovery table (what is cut, what is
//!   `Corrupt`).
//! - `commit` is the group commit and the crash-safe snapshot order.
//! - [`FileJournal`] connects them to the shared [`Engine`].
//!
//! A call that changed state returns only after its change is synced; reads wait until every
//! change they could see is durable, so no caller ever observes state a crash could take back.

mod commit;
pub mod frame;
mod journal;
pub mod recover;
pub mod snapshot;

use std::path::Path;
use std::sync::Arc;

use procreg::{PluginError, SharedClock};

use self::commit::CommitLog;
use self::frame::{encode_header, segment_name};
use self::recover::{Repair, StoreScan, restore, scan_store};
use crate::engine::Engine;
use crate::storage::{DirStorage, Storage, StorageError};

pub use journal::FileJournal;

/// Settings of a [`FileRegistry`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileOptions {
    /// Records between two snapshots; each snapshot compacts the log to one new segment.
    /// `0` never snapshots. Default: 10,000.
    pub snapshot_every_records: u64,
}

impl Default for FileOptions {
    fn default() -> Self {
        Self {
            snapshot_every_records: 10_000,
        }
    }
}

/// A durable `ProcessRegistry` over a [`Storage`]: every acknowledged call survives a crash and
/// reopen (D2, D3, D6), and a store that cannot be read back faithfully refuses to open with
/// `Corrupt` (D4).
///
/// One `FileRegistry` owns its store: a second open while it lives fails with `Storage` (D5).
/// Share it in an `Arc` to use it from many tasks or threads.
///
/// Calls are `async` but do their storage I/O (write, fsync) synchronously on the calling
/// thread (Z14): this reference registry favours an exact, executor-independent implementation
/// over throughput. Under tokio, run it on a multi-threaded runtime or accept that a call blocks its
/// worker for one fsync.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::sync::Arc;
/// use procreg::{DurabilityTier, ManualClock, ProcessRegistration, ProcessRegistry, ProcessScope};
/// use procreg_reference::file::FileRegistry;
/// let dir = tempfile::tempdir().unwrap();
/// let clock = Arc::new(ManualClock::new(5));
/// let registry = FileRegistry::open_dir(dir.path(), clock.clone()).unwrap();
/// let reg = ProcessRegistration::new("p1", ProcessScope::session("s1"), "host");
/// registry.register_process(reg).await.unwrap();
/// drop(registry);
/// let reopened = FileRegistry::open_dir(dir.path(), clock).unwrap();
/// assert_eq!(reopened.durability_tier(), DurabilityTier::Durable);
/// assert!(reopened.get_process("p1").await.unwrap().is_some());
/// # });
/// ```
#[derive(Debug)]
pub struct FileRegistry {
    engine: Engine<FileJournal>,
}

impl FileRegistry {
    /// Opens (or creates) the store in `storage` with default [`FileOptions`].
    ///
    /// # Errors
    /// `Storage` when the store is already open (D5) or cannot be read or repaired; `Corrupt`
    /// per the recovery table of [`recover`].
    pub fn open(storage: Arc<dyn Storage>, clock: SharedClock) -> Result<Self, PluginError> {
        Self::open_with(storage, clock, FileOptions::default())
    }

    /// Opens (or creates) the store in directory `path` (created if missing) on a
    /// [`DirStorage`], with default [`FileOptions`].
    ///
    /// # Errors
    /// As [`FileRegistry::open`].
    pub fn open_dir(path: impl AsRef<Path>, clock: SharedClock) -> Result<Self, PluginError> {
        let storage = DirStorage::new(path)?;
        Self::open(Arc::new(storage), clock)
    }

    /// Opens (or creates) the store in `storage`.
    ///
    /// Order: take the store lock, read everything back, rebuild the Model, and only then write
    /// (cut a torn tail, create a missing live segment, remove stale segments), so a `Corrupt`
    /// store is left untouched.
    ///
    /// # Errors
    /// As [`FileRegistry::open`].
    pub fn open_with(
        storage: Arc<dyn Storage>,
        clock: SharedClock,
        options: FileOptions,
    ) -> Result<Self, PluginError> {
        let lock = storage.lock()?;
        let scan = scan_store(storage.as_ref())?;
        let model = restore(&scan)?;
        repair(storage.as_ref(), &scan)?;
        let replayed = scan.records.len() as u64;
        let log = CommitLog::new(storage, scan.segment, scan.last_seq(), replayed);
        let journal = FileJournal::new(log, options.snapshot_every_records, lock);
        Ok(Self {
            engine: Engine::new(model, journal, clock),
        })
    }

    /// The engine behind this registry (a copy of its Model, its journal, its clock).
    pub fn engine(&self) -> &Engine<FileJournal> {
        &self.engine
    }
}

crate::delegate_process_registry!(FileRegistry, engine);

/// Makes the live segment appendable and drops stale ones (see [`Repair`]).
fn repair(storage: &dyn Storage, scan: &StoreScan) -> Result<(), StorageError> {
    let name = segment_name(scan.segment);
    match scan.repair {
        Repair::None => {}
        Repair::CreateSegment => storage.replace(&name, &encode_header(scan.segment))?,
        Repair::CutTail { keep } => {
            let bytes = storage.read(&name)?.unwrap_or_default();
            // Scanning saw at least `keep` bytes and we hold the lock: nobody shortened it.
            let kept = bytes.get(..keep).unwrap_or(&bytes);
            storage.replace(&name, kept)?;
        }
    }
    for stale in &scan.stale_segments {
        storage.remove(&segment_name(*stale))?;
    }
    Ok(())
}
