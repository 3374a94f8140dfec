//! `SimStorage`: the reference [`Storage`] simulated in memory, with power loss.
//!
//! Why it exists: D2, D4 and D7 are about what survives a crash, and a real disk only shows
//! that after a real power cut. Here every file keeps its *durable* bytes (what a crash keeps)
//! apart from its *pending* appends (visible, but never synced), so the simulator can crash
//! the store at any instant and decide, from its seeded storage stream, what the disk kept:
//!
//! | at a crash | SimStorage keeps |
//! |---|---|
//! | synced appends, `replace`d and `remove`d files | exactly as last made durable |
//! | unsynced appends | nothing (default), or a prefix of them (torn write), possibly followed by garbage in place of the lost bytes |
//! | a file created by `append` and never synced | nothing, or the torn prefix |
//! | the store lock | released: the old instance is gone |
//!
//! That is exactly the envelope the [`Storage`] trait docs allow, and no more: a registry that
//! survives every crash SimStorage can produce is correct on any disk that honours fsync.
//!
//! Handles are per incarnation: a crash retires every handle taken before it (their calls fail
//! with [`StorageError::Injected`]), so a registry dropped late can never write into the next
//! incarnation's store (D7). [`SimStorage::handle`] gives a handle on the current incarnation.
//!
//! Fault hooks: [`SimStorage::fail_next_sync`] (A2/Z1: a failed sync poisons the registry),
//! [`SimStorage::power_off_after`] (the crash-point explorer: the machine dies after exactly `k`
//! more writes), [`SimStorage::flip_bit`] (D4: damage to durable bytes).

mod crash;
mod lying;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use procreg_reference::storage::check_name;
use procreg_reference::{Storage, StorageError, StoreLock};

pub use crash::CrashFate;
pub use lying::LyingSync;

/// Counters for reports; they survive crashes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StorageStats {
    /// Successful `append` calls.
    pub appends: u64,
    /// Successful `sync` calls.
    pub syncs: u64,
    /// Successful `replace` calls.
    pub replaces: u64,
    /// Successful `remove` calls.
    pub removes: u64,
    /// Bytes accepted by `append` and `replace`.
    pub bytes_written: u64,
    /// Crashes suffered.
    pub crashes: u64,
    /// Files whose unsynced tail a crash tore (kept a prefix of) instead of dropping.
    pub torn_writes: u64,
    /// Faults injected (failed syncs, calls refused after power-off).
    pub injected_faults: u64,
}

impl StorageStats {
    /// Writes that reached the store (`append`, `sync`, `replace`, `remove`): the operation
    /// index the crash-point explorer counts.
    pub fn mutations(&self) -> u64 {
        self.appends + self.syncs + self.replaces + self.removes
    }
}

/// One simulated file.
#[derive(Clone, Debug, Default)]
struct SimFile {
    /// What a crash keeps; `None` while the file's existence itself is not durable (created by
    /// `append`, never synced).
    durable: Option<Vec<u8>>,
    /// Unsynced appends, oldest first; never holds an empty chunk.
    pending: Vec<Vec<u8>>,
}

impl SimFile {
    fn pending_len(&self) -> usize {
        self.pending.iter().map(Vec::len).sum()
    }

    fn visible(&self) -> Vec<u8> {
        let mut bytes = self.durable.clone().unwrap_or_default();
        for chunk in &self.pending {
            bytes.extend_from_slice(chunk);
        }
        bytes
    }
}

#[derive(Debug, Default)]
struct Store {
    files: BTreeMap<String, SimFile>,
    /// The incarnation; a crash moves it on and retires older handles.
    generation: u64,
    /// The id of the live lock, if any.
    lock: Option<u64>,
    next_lock_id: u64,
    /// Fail the next `sync` with `Injected`.
    fail_next_sync: bool,
    /// Mutations left before power-off; `Some(0)` means the power is off.
    power_left: Option<u64>,
    stats: StorageStats,
}

impl Store {
    /// Checks the store's own bookkeeping; a failure is a bug in SimStorage.
    fn assert_consistent(&self) {
        for (name, file) in &self.files {
            assert!(
                check_name(name).is_ok(),
                "sim storage holds invalid name {name}"
            );
            assert!(
                file.pending.iter().all(|chunk| !chunk.is_empty()),
                "{name}: empty pending chunk"
            );
        }
        if let Some(id) = self.lock {
            assert!(id < self.next_lock_id, "lock id {id} was never handed out");
        }
        let s = &self.stats;
        assert!(s.torn_writes <= s.appends, "more torn writes than appends");
    }
}

/// The simulated store. Clones share one store (see the module docs for handles).
#[derive(Clone, Debug, Default)]
pub struct SimStorage {
    store: Arc<Mutex<Store>>,
    /// The incarnation this handle belongs to.
    generation: u64,
}

impl SimStorage {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, Store> {
        // Single-threaded simulation: a poisoned lock means a SimStorage assert fired; the
        // panic is already on its way, keep the data readable for the report.
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A handle on the current incarnation (take it after a [`SimStorage::crash`]).
    pub fn handle(&self) -> SimStorage {
        SimStorage {
            store: Arc::clone(&self.store),
            generation: self.state().generation,
        }
    }

    /// Whether this handle's incarnation was ended by a crash.
    pub fn is_retired(&self) -> bool {
        self.state().generation != self.generation
    }

    /// The counters so far.
    pub fn stats(&self) -> StorageStats {
        self.state().stats
    }

    /// Makes the next `sync` fail with [`StorageError::Injected`]; its pending bytes stay
    /// pending (unknown to the caller, A2), so a crash may still drop or tear them.
    pub fn fail_next_sync(&self) {
        self.state().fail_next_sync = true;
    }

    /// The machine loses power after `mutations` more successful writes (`append`, `sync`,
    /// `replace`, `remove`): every later call, reads included, fails with `Injected` and changes
    /// nothing, until [`SimStorage::crash`] restores power (and decides what was kept).
    pub fn power_off_after(&self, mutations: u64) {
        self.state().power_left = Some(mutations);
    }

    /// Whether the power is off (see [`SimStorage::power_off_after`]).
    pub fn is_powered_off(&self) -> bool {
        self.state().power_left == Some(0)
    }

    /// The visible content of `name` (durable and pending), whatever the incarnation; for
    /// tests and reports.
    pub fn contents(&self, name: &str) -> Option<Vec<u8>> {
        self.state().files.get(name).map(SimFile::visible)
    }

    /// The bytes of `name` a crash now would keep for sure (`None`: the file would vanish).
    pub fn durable_contents(&self, name: &str) -> Option<Vec<u8>> {
        self.state().files.get(name).and_then(|f| f.durable.clone())
    }

    /// Unsynced bytes of `name`.
    pub fn pending_len(&self, name: &str) -> usize {
        self.state().files.get(name).map_or(0, SimFile::pending_len)
    }

    /// Flips bit `bit` (0..8) of byte `offset` of `name`'s visible content, in place (durable
    /// bytes stay damaged across crashes). Returns whether the byte existed (D4 tests).
    pub fn flip_bit(&self, name: &str, offset: usize, bit: u8) -> bool {
        let mut store = self.state();
        let Some(file) = store.files.get_mut(name) else {
            return false;
        };
        let mask = 1u8 << (bit % 8);
        let durable_len = file.durable.as_ref().map_or(0, Vec::len);
        if let Some(byte) = file.durable.as_mut().and_then(|d| d.get_mut(offset)) {
            *byte ^= mask;
            return true;
        }
        let mut at = offset - durable_len;
        for chunk in &mut file.pending {
            if let Some(byte) = chunk.get_mut(at) {
                *byte ^= mask;
                return true;
            }
            at -= chunk.len();
        }
        false
    }

    /// Checks that this handle may act: same incarnation, power on. Counts a refusal.
    fn live(
        &self,
        store: &mut Store,
        action: &'static str,
        name: &str,
    ) -> Result<(), StorageError> {
        let refused = store.generation != self.generation || store.power_left == Some(0);
        if refused {
            store.stats.injected_faults += 1;
            return Err(StorageError::Injected {
                action,
                name: name.to_owned(),
            });
        }
        Ok(())
    }

    /// Counts one successful mutation against the power budget.
    fn spend_power(store: &mut Store) {
        if let Some(left) = store.power_left.as_mut() {
            assert!(*left > 0, "a mutation ran with the power off");
            *left -= 1;
        }
        store.assert_consistent();
    }
}

impl Storage for SimStorage {
    fn append(&self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        check_name(name)?;
        let mut store = self.state();
        self.live(&mut store, "append", name)?;
        let file = store.files.entry(name.to_owned()).or_default();
        let before = file.durable.as_ref().map_or(0, Vec::len) + file.pending_len();
        if !bytes.is_empty() {
            file.pending.push(bytes.to_vec());
        }
        let after = file.durable.as_ref().map_or(0, Vec::len) + file.pending_len();
        assert_eq!(after, before + bytes.len(), "{name}: append lost bytes");
        store.stats.appends += 1;
        store.stats.bytes_written += bytes.len() as u64;
        Self::spend_power(&mut store);
        Ok(())
    }

    fn sync(&self, name: &str) -> Result<(), StorageError> {
        check_name(name)?;
        let mut store = self.state();
        self.live(&mut store, "sync", name)?;
        if std::mem::take(&mut store.fail_next_sync) {
            store.stats.injected_faults += 1;
            return Err(StorageError::Injected {
                action: "sync",
                name: name.to_owned(),
            });
        }
        let Some(file) = store.files.get_mut(name) else {
            let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
            return Err(StorageError::io("sync", name, missing));
        };
        let visible = file.visible();
        file.durable = Some(visible.clone());
        file.pending.clear();
        assert_eq!(file.visible(), visible, "{name}: sync changed the content");
        store.stats.syncs += 1;
        Self::spend_power(&mut store);
        Ok(())
    }

    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
        check_name(name)?;
        let mut store = self.state();
        self.live(&mut store, "read", name)?;
        Ok(store.files.get(name).map(SimFile::visible))
    }

    fn replace(&self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        check_name(name)?;
        let mut store = self.state();
        self.live(&mut store, "replace", name)?;
        let file = SimFile {
            durable: Some(bytes.to_vec()),
            pending: Vec::new(),
        };
        store.files.insert(name.to_owned(), file);
        store.stats.replaces += 1;
        store.stats.bytes_written += bytes.len() as u64;
        Self::spend_power(&mut store);
        Ok(())
    }

    fn remove(&self, name: &str) -> Result<(), StorageError> {
        check_name(name)?;
        let mut store = self.state();
        self.live(&mut store, "remove", name)?;
        store.files.remove(name);
        store.stats.removes += 1;
        Self::spend_power(&mut store);
        Ok(())
    }

    fn list(&self) -> Result<Vec<String>, StorageError> {
        let mut store = self.state();
        self.live(&mut store, "list", "")?;
        // BTreeMap keys: already ascending.
        Ok(store.files.keys().cloned().collect())
    }

    fn lock(&self) -> Result<StoreLock, StorageError> {
        let mut store = self.state();
        self.live(&mut store, "lock", "")?;
        if store.lock.is_some() {
            return Err(StorageError::Locked {
                store: "sim-storage".into(),
            });
        }
        let id = store.next_lock_id;
        store.next_lock_id += 1;
        store.lock = Some(id);
        store.assert_consistent();
        Ok(StoreLock::new(LockGuard {
            store: Arc::clone(&self.store),
            id,
        }))
    }
}

/// Clears the store's lock when dropped, unless a crash already released it (and a newer
/// incarnation may hold a lock of its own).
struct LockGuard {
    store: Arc<Mutex<Store>>,
    id: u64,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        if store.lock == Some(self.id) {
            store.lock = None;
        }
    }
}
