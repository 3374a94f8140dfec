//! Group commit: mutations are buffered under the registry's state lock and made durable by
//! whichever caller gets to the disk first, one append and one sync for everything buffered
//! (D2 without one fsync per call), and snapshots compact the log in a crash-safe order.
//!
//! # Protocol
//!
//! - `push_record` (under the engine's state lock, so in apply order) only buffers the record
//!   and hands out its ticket: its seq.
//! - `make_durable(ticket)` returns at once if the ticket is durable. Otherwise it takes the
//!   writer mutex; the holder is the *leader*: it drains the whole buffer, appends it as one
//!   frame, syncs once and advances the durable ticket. Callers queued behind the mutex then
//!   find their ticket durable and return without touching the disk. No background thread, so
//!   it works the same on many OS threads and on a single-threaded executor.
//! - A failed write or sync poisons the log: the failed tickets and every later one get
//!   `Storage` (the engine reports `Unavailable`: the bytes may or may not be on disk), and
//!   `is_poisoned` makes the registry refuse writes until reopened (A2).
//!
//! # Snapshot order
//!
//! `push_snapshot` queues the serialized Model as of the last pushed record. When the leader
//! meets it in the buffer, it drops the records queued before it (the snapshot holds them) and:
//!
//! 1. replaces `snapshot` with one naming segment `S + 1` as live. Until this rename is durable
//!    the old snapshot and segment `S` are the truth; after it, the new snapshot is, and `S`
//!    is stale (ignored and removed on open).
//! 2. creates segment `S + 1` whole, header only, by atomic replace. A crash before this leaves
//!    the live segment missing, which open reads as "no records after the snapshot": nothing
//!    was acknowledged after it.
//! 3. removes segment `S`. A crash or failure here only leaves a stale file for open to remove.
//!
//! Creating `S + 1` before the snapshot would instead leave, after a crash between the two, a
//! later segment than the old snapshot names, which open cannot tell from a lost snapshot.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use procreg::PluginError;

use super::frame::{MAX_PAYLOAD, encode_frame, encode_header, segment_name, split_batch};
use super::snapshot::{SNAPSHOT_FILE, encode_snapshot};
use crate::storage::{Storage, StorageError};

/// The buffered, group-committed writer of one store's log.
#[derive(Debug)]
pub struct CommitLog {
    storage: Arc<dyn Storage>,
    queue: Mutex<Queue>,
    writer: Mutex<Writer>,
    durable: AtomicU64,
    poisoned: AtomicBool,
}

#[derive(Debug)]
struct Queue {
    pending: Vec<Pending>,
    last_ticket: u64,
    records_since_snapshot: u64,
}

#[derive(Debug)]
enum Pending {
    Record { seq: u64, json: Vec<u8> },
    Snapshot { last_seq: u64, payload: Vec<u8> },
}

/// The leader's state: which segment frames go to.
#[derive(Debug)]
struct Writer {
    segment: u64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves its state consistent before anything that can panic.
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

impl CommitLog {
    /// A log appending to the existing live `segment`, whose last durable record is
    /// `last_seq`, `records_since_snapshot` of them in that segment.
    pub fn new(
        storage: Arc<dyn Storage>,
        segment: u64,
        last_seq: u64,
        records_since_snapshot: u64,
    ) -> Self {
        Self {
            storage,
            queue: Mutex::new(Queue {
                pending: Vec::new(),
                last_ticket: last_seq,
                records_since_snapshot,
            }),
            writer: Mutex::new(Writer { segment }),
            durable: AtomicU64::new(last_seq),
            poisoned: AtomicBool::new(false),
        }
    }

    /// Whether a failed write made the log refuse further writes (A2).
    pub fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::SeqCst)
    }

    /// Refuses every later write until reopen.
    pub fn poison(&self) {
        self.poisoned.store(true, Ordering::SeqCst);
    }

    /// Buffers one record's JSON; returns its ticket (its seq).
    pub fn push_record(&self, json: Vec<u8>) -> u64 {
        let mut queue = lock(&self.queue);
        queue.last_ticket += 1;
        queue.records_since_snapshot += 1;
        let seq = queue.last_ticket;
        queue.pending.push(Pending::Record { seq, json });
        seq
    }

    /// Buffers a snapshot of the state after the last pushed record.
    pub fn push_snapshot(&self, payload: Vec<u8>) {
        let mut queue = lock(&self.queue);
        queue.records_since_snapshot = 0;
        let last_seq = queue.last_ticket;
        queue.pending.push(Pending::Snapshot { last_seq, payload });
    }

    /// Records pushed since the last snapshot (replayed ones included).
    pub fn records_since_snapshot(&self) -> u64 {
        lock(&self.queue).records_since_snapshot
    }

    /// The ticket of the last pushed record.
    pub fn last_ticket(&self) -> u64 {
        lock(&self.queue).last_ticket
    }

    /// Every ticket up to this one is durable.
    pub fn durable_ticket(&self) -> u64 {
        self.durable.load(Ordering::SeqCst)
    }

    /// Blocks until `ticket` is durable, leading a group commit if nobody else is.
    ///
    /// # Errors
    /// `Storage` when the write or sync failed, now or in an earlier commit (poisoned);
    /// `InvalidRequest` for a ticket never handed out.
    pub fn make_durable(&self, ticket: u64) -> Result<(), PluginError> {
        if ticket <= self.durable_ticket() {
            return Ok(());
        }
        if ticket > self.last_ticket() {
            return Err(PluginError::invalid_request(format!(
                "log ticket {ticket} was never handed out"
            )));
        }
        let mut writer = lock(&self.writer);
        if ticket <= self.durable_ticket() {
            return Ok(()); // an earlier leader's commit covered it
        }
        if self.is_poisoned() {
            return Err(PluginError::storage(
                "the log refuses writes after an earlier write failure; reopen the store",
            ));
        }
        let (pending, last) = {
            let mut queue = lock(&self.queue);
            (std::mem::take(&mut queue.pending), queue.last_ticket)
        };
        match self.commit(&mut writer, pending) {
            Ok(()) => {
                self.durable.store(last, Ordering::SeqCst);
                Ok(())
            }
            Err(error) => {
                self.poison();
                Err(error)
            }
        }
    }

    /// Writes `pending` in order: snapshots as described in the module docs, then the records
    /// after the last snapshot as one frame (or several, each synced, if they exceed one frame)
    /// and one sync.
    fn commit(&self, writer: &mut Writer, pending: Vec<Pending>) -> Result<(), PluginError> {
        let mut first_seq = None;
        let mut records = Vec::new();
        for item in pending {
            match item {
                Pending::Record { seq, json } => {
                    first_seq.get_or_insert(seq);
                    records.push(json);
                }
                Pending::Snapshot { last_seq, payload } => {
                    first_seq = None;
                    records.clear();
                    self.install_snapshot(writer, last_seq, &payload)?;
                    self.durable.fetch_max(last_seq, Ordering::SeqCst);
                }
            }
        }
        let Some(first_seq) = first_seq else {
            return Ok(());
        };
        // Z12: a record too large for any frame fails its call (Unavailable) and poisons the log.
        let runs = split_batch(&records, MAX_PAYLOAD).map_err(|index| {
            PluginError::storage(format!(
                "record {} is {} bytes, above the log's frame limit of {MAX_PAYLOAD}",
                first_seq + index as u64,
                records[index].len()
            ))
        })?;
        let name = segment_name(writer.segment);
        for run in runs {
            let frame = encode_frame(first_seq + run.start as u64, &records[run]);
            self.storage.append(&name, &frame)?;
            self.storage.sync(&name)?;
        }
        Ok(())
    }

    fn install_snapshot(
        &self,
        writer: &mut Writer,
        last_seq: u64,
        payload: &[u8],
    ) -> Result<(), StorageError> {
        let next = writer.segment + 1;
        let snapshot = encode_snapshot(last_seq, next, payload);
        self.storage.replace(SNAPSHOT_FILE, &snapshot)?;
        self.storage
            .replace(&segment_name(next), &encode_header(next))?;
        let stale = std::mem::replace(&mut writer.segment, next);
        // A stale segment left behind is harmless: open ignores and removes it.
        let _ = self.storage.remove(&segment_name(stale));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::file::recover::scan_store;
    use crate::file::snapshot::decode_snapshot;
    use crate::storage::{DirStorage, StoreLock};

    /// DirStorage that counts syncs and fails them on demand.
    #[derive(Debug)]
    struct Faulty {
        inner: DirStorage,
        syncs: AtomicUsize,
        fail_sync: AtomicBool,
    }

    impl Storage for Faulty {
        fn append(&self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
            self.inner.append(name, bytes)
        }
        fn sync(&self, name: &str) -> Result<(), StorageError> {
            self.syncs.fetch_add(1, Ordering::SeqCst);
            if self.fail_sync.load(Ordering::SeqCst) {
                return Err(StorageError::Injected {
                    action: "sync",
                    name: name.to_owned(),
                });
            }
            self.inner.sync(name)
        }
        fn read(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
            self.inner.read(name)
        }
        fn replace(&self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
            self.inner.replace(name, bytes)
        }
        fn remove(&self, name: &str) -> Result<(), StorageError> {
            self.inner.remove(name)
        }
        fn list(&self) -> Result<Vec<String>, StorageError> {
            self.inner.list()
        }
        fn lock(&self) -> Result<StoreLock, StorageError> {
            self.inner.lock()
        }
    }

    fn new_log() -> (tempfile::TempDir, Arc<Faulty>, CommitLog) {
        let dir = tempfile::tempdir().unwrap();
        let storage = Arc::new(Faulty {
            inner: DirStorage::new(dir.path()).unwrap(),
            syncs: AtomicUsize::new(0),
            fail_sync: AtomicBool::new(false),
        });
        storage
            .replace(&segment_name(1), &encode_header(1))
            .unwrap();
        let log = CommitLog::new(storage.clone(), 1, 0, 0);
        (dir, storage, log)
    }

    fn record(i: u64) -> Vec<u8> {
        format!(r#"{{"now_ms":{i},"op":{{"op":"list_non_terminal"}}}}"#).into_bytes()
    }

    fn scanned_seqs(storage: &dyn Storage) -> Vec<u64> {
        let scan = scan_store(storage).unwrap();
        scan.records.iter().map(|(seq, _)| *seq).collect()
    }

    #[test]
    fn one_commit_makes_every_buffered_record_durable_with_one_sync() {
        let (_dir, storage, log) = new_log();
        let tickets: Vec<u64> = (1..=3).map(|i| log.push_record(record(i))).collect();
        assert_eq!(tickets, vec![1, 2, 3]);
        assert_eq!(log.durable_ticket(), 0);
        log.make_durable(1).unwrap();
        assert_eq!(log.durable_ticket(), 3);
        log.make_durable(3).unwrap();
        assert_eq!(storage.syncs.load(Ordering::SeqCst), 1);
        assert_eq!(scanned_seqs(storage.as_ref()), vec![1, 2, 3]);
        let unknown = log.make_durable(4).unwrap_err();
        assert_eq!(unknown.kind(), procreg::ErrorKind::InvalidRequest);
        assert!(!log.is_poisoned());
    }

    #[test]
    fn a2_failed_sync_poisons_the_log_until_reopen() {
        let (_dir, storage, log) = new_log();
        log.push_record(record(1));
        log.make_durable(1).unwrap();
        storage.fail_sync.store(true, Ordering::SeqCst);
        let ticket = log.push_record(record(2));
        let error = log.make_durable(ticket).unwrap_err();
        assert_eq!(error.kind(), procreg::ErrorKind::Storage);
        assert!(log.is_poisoned());
        storage.fail_sync.store(false, Ordering::SeqCst);
        let later = log.push_record(record(3));
        assert!(log.make_durable(later).is_err(), "still poisoned");
        log.make_durable(1).unwrap(); // what was durable stays answered Ok
    }

    #[test]
    fn snapshot_starts_the_next_segment_and_drops_the_old_one() {
        let (_dir, storage, log) = new_log();
        log.push_record(record(1));
        log.push_record(record(2));
        log.push_snapshot(b"{\"state\":2}".to_vec());
        assert_eq!(log.records_since_snapshot(), 0);
        let ticket = log.push_record(record(3));
        log.make_durable(ticket).unwrap();
        assert_eq!(
            storage.list().unwrap(),
            vec![segment_name(2), SNAPSHOT_FILE.to_owned()]
        );
        let snapshot = decode_snapshot(&storage.read(SNAPSHOT_FILE).unwrap().unwrap()).unwrap();
        assert_eq!((snapshot.last_seq, snapshot.next_segment), (2, 2));
        assert_eq!(snapshot.payload, b"{\"state\":2}");
        assert_eq!(scanned_seqs(storage.as_ref()), vec![3]);
    }

    #[test]
    fn concurrent_callers_share_syncs() {
        let (_dir, storage, log) = new_log();
        let log = Arc::new(log);
        let barrier = Arc::new(std::sync::Barrier::new(8));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (log, barrier) = (log.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    for i in 0..50 {
                        let ticket = log.push_record(record(i));
                        log.make_durable(ticket).unwrap();
                        assert!(log.durable_ticket() >= ticket);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let syncs = storage.syncs.load(Ordering::SeqCst);
        assert!(syncs < 400, "{syncs} syncs for 400 commits");
        assert_eq!(
            scanned_seqs(storage.as_ref()),
            (1..=400).collect::<Vec<_>>()
        );
    }
}
