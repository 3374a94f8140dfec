//! Reading a store back on open: which bytes are trusted, which are cut, and which make the
//! store `Corrupt` (D2, D4: never a silent loss of acknowledged data).
//!
//! # Recovery policy
//!
//! | found on open | outcome | test |
//! |---|---|---|
//! | empty store | fresh registry; segment 1 is created | `file_reopen::fresh_store_opens_empty` |
//! | last frame incomplete (torn write) | cut at the frame's start, then open | `file_corrupt::torn_unacked_tail_is_cut` |
//! | garbage after the last valid frame, no valid frame in it | cut, then open | `file_corrupt::garbage_tail_is_cut` |
//! | crc mismatch with a valid frame after it | `Corrupt` | `file_corrupt::bit_flip_before_tail_is_corrupt` |
//! | frame cut short with a valid frame after it | `Corrupt` | `file_corrupt::truncated_middle_record_is_corrupt` |
//! | crc-valid frame that does not decode, or breaks the seq | `Corrupt` | `recover::tests::crc_valid_frame_out_of_sequence_is_corrupt` |
//! | live segment with bad magic, unknown version or bad header crc | `Corrupt` | `file_corrupt::unknown_log_version_is_corrupt`, `recover::tests::bad_magic_is_corrupt` |
//! | a segment later than the live one (a lost snapshot) | `Corrupt` | `recover::tests::segment_after_the_live_one_is_corrupt` |
//! | live segment missing after a snapshot | no records after the snapshot (crash between steps 1 and 2 of `commit`) | `recover::tests::missing_live_segment_after_snapshot_is_empty` |
//! | segments older than the live one | ignored, removed after open (crash during compaction) | `recover::tests::stale_segments_are_ignored` |
//! | damaged snapshot: any flip, length, magic or version | `Corrupt`, no fallback (Z11: the log before it is gone) | `file_corrupt::damaged_snapshot_is_corrupt` |
//! | snapshot payload that does not decode or breaks an invariant | `Corrupt` | `file_corrupt::damaged_snapshot_is_corrupt` |
//! | a replayed record fails or changes nothing | `Corrupt` | `file_corrupt::replay_that_diverges_is_corrupt` |
//! | the store is open elsewhere | `Storage` | `file_corrupt::d5_second_open_is_refused` |
//!
//! The one ambiguity (Z10): damage inside the very last frame (a bit flip in the last
//! acknowledged commit) looks exactly like a torn write and is cut. A frame-level format cannot tell them
//! apart; the crc still guarantees no damaged record is ever replayed.
//!
//! Scanning writes nothing (Z13): a store found `Corrupt` is left byte for byte as it was, and
//! the cut of a torn tail is written only after the whole store has replayed.

use std::collections::BTreeSet;

use procreg::PluginError;

use super::frame::{
    Damage, HEADER_LEN, HeaderProblem, LogRecord, check_frame, decode_batch, decode_header,
    parse_segment_name, segment_name,
};
use super::snapshot::{SNAPSHOT_FILE, Snapshot, SnapshotProblem, decode_snapshot};
use crate::model::Model;
use crate::storage::{Storage, StorageError};

/// Why a store cannot be read back faithfully: every variant is `Corrupt` (D4).
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)] // the fields are what each message names
pub enum Corruption {
    #[error("{file}: bad segment header: {problem:?}")]
    BadHeader {
        file: String,
        problem: HeaderProblem,
    },
    #[error("{file}: header names segment {found}")]
    WrongSegment { file: String, found: u64 },
    #[error(
        "{file}: frame at offset {offset} is damaged ({damage:?}) but a valid frame follows at offset {valid_at}"
    )]
    DamageBeforeTail {
        file: String,
        offset: usize,
        damage: Damage,
        valid_at: usize,
    },
    #[error("{file}: frame at offset {offset} does not decode: {reason}")]
    MalformedBatch {
        file: String,
        offset: usize,
        reason: String,
    },
    #[error("{file}: frame at offset {offset} starts at seq {found}, expected {expected}")]
    SequenceBreak {
        file: String,
        offset: usize,
        found: u64,
        expected: u64,
    },
    #[error("{file}: record {seq} does not decode: {reason}")]
    BadRecord {
        file: String,
        seq: u64,
        reason: String,
    },
    #[error("log segment {segment} exists after the live segment {live}")]
    UnexpectedSegment { segment: u64, live: u64 },
    #[error("snapshot: {problem:?}")]
    BadSnapshot { problem: SnapshotProblem },
    #[error("snapshot payload does not restore: {reason}")]
    BadSnapshotPayload { reason: String },
    #[error("replaying record {seq} ({method}) failed: {reason}")]
    ReplayFailed {
        seq: u64,
        method: &'static str,
        reason: String,
    },
    #[error("replaying record {seq} ({method}) changed nothing")]
    ReplayChangedNothing { seq: u64, method: &'static str },
    #[error("recovered state breaks an invariant: {reason}")]
    Invariant { reason: String },
}

impl From<Corruption> for PluginError {
    fn from(error: Corruption) -> Self {
        PluginError::corrupt(error.to_string())
    }
}

/// Why a scan failed.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// Reading failed: `Storage`.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The bytes are bad: `Corrupt`.
    #[error(transparent)]
    Corrupt(#[from] Corruption),
}

impl From<ScanError> for PluginError {
    fn from(error: ScanError) -> Self {
        match error {
            ScanError::Storage(error) => error.into(),
            ScanError::Corrupt(error) => error.into(),
        }
    }
}

/// What a store holds, read but not yet replayed.
#[derive(Debug)]
pub struct StoreScan {
    /// The snapshot, if any.
    pub snapshot: Option<Snapshot>,
    /// The live segment number.
    pub segment: u64,
    /// The records after the snapshot, with their seqs, ascending and dense.
    pub records: Vec<(u64, LogRecord)>,
    /// What open must write before appending.
    pub repair: Repair,
    /// Segments older than the live one, to remove after open.
    pub stale_segments: Vec<u64>,
}

/// The write that makes the live segment appendable again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Repair {
    /// Nothing: the segment ends on a frame boundary.
    None,
    /// The live segment is missing: create it, header only.
    CreateSegment,
    /// Cut a torn tail: keep the first `keep` bytes.
    CutTail {
        /// Bytes to keep.
        keep: usize,
    },
}

impl StoreScan {
    /// The seq of the last record the store holds.
    pub fn last_seq(&self) -> u64 {
        let base = self.snapshot.as_ref().map_or(0, |s| s.last_seq);
        self.records.last().map_or(base, |(seq, _)| *seq)
    }
}

/// Reads the snapshot and the live segment, applying the tail policy of [`super::frame`].
///
/// # Errors
/// `Storage` when reading fails; `Corrupt` per the table in the module docs.
pub fn scan_store(storage: &dyn Storage) -> Result<StoreScan, ScanError> {
    let segments: BTreeSet<u64> = storage
        .list()?
        .iter()
        .filter_map(|name| parse_segment_name(name))
        .collect();
    let snapshot = match storage.read(SNAPSHOT_FILE)? {
        Some(bytes) => {
            Some(decode_snapshot(&bytes).map_err(|problem| Corruption::BadSnapshot { problem })?)
        }
        None => None,
    };
    let (live, first_seq) = snapshot
        .as_ref()
        .map_or((1, 1), |s| (s.next_segment, s.last_seq + 1));
    if let Some(&later) = segments.range(live.saturating_add(1)..).next() {
        return Err(Corruption::UnexpectedSegment {
            segment: later,
            live,
        }
        .into());
    }
    let stale_segments = segments.range(..live).copied().collect();
    let name = segment_name(live);
    let (records, repair) = match storage.read(&name)? {
        None => (Vec::new(), Repair::CreateSegment),
        Some(bytes) => scan_segment(&name, &bytes, live, first_seq)?,
    };
    Ok(StoreScan {
        snapshot,
        segment: live,
        records,
        repair,
        stale_segments,
    })
}

/// Rebuilds the Model: the snapshot's, then every later record replayed through
/// [`Model::apply`] at its recorded `now_ms` (so lease and fencing tokens come back exactly, D3).
///
/// # Errors
/// `Corrupt` when the snapshot payload does not restore, a record fails or changes nothing on
/// replay (it once succeeded and changed state), or the result breaks an invariant.
pub fn restore(scan: &StoreScan) -> Result<Model, Corruption> {
    let mut model = match &scan.snapshot {
        Some(snapshot) => serde_json::from_slice::<Model>(&snapshot.payload).map_err(|e| {
            Corruption::BadSnapshotPayload {
                reason: e.to_string(),
            }
        })?,
        None => Model::new(),
    };
    if scan.snapshot.is_some() {
        model
            .check_invariants()
            .map_err(|reason| Corruption::BadSnapshotPayload { reason })?;
    }
    for (seq, record) in &scan.records {
        let before = model.revision();
        let method = record.op.method_name();
        if let Err(error) = model.apply(&record.op, record.now_ms) {
            return Err(Corruption::ReplayFailed {
                seq: *seq,
                method,
                reason: error.to_string(),
            });
        }
        if model.revision() == before {
            return Err(Corruption::ReplayChangedNothing { seq: *seq, method });
        }
    }
    model
        .check_invariants()
        .map_err(|reason| Corruption::Invariant { reason })?;
    Ok(model)
}

type SegmentRecords = (Vec<(u64, LogRecord)>, Repair);

fn scan_segment(
    file: &str,
    bytes: &[u8],
    segment: u64,
    first_seq: u64,
) -> Result<SegmentRecords, Corruption> {
    let found = decode_header(bytes).map_err(|problem| Corruption::BadHeader {
        file: file.to_owned(),
        problem,
    })?;
    if found != segment {
        return Err(Corruption::WrongSegment {
            file: file.to_owned(),
            found,
        });
    }
    let mut records = Vec::new();
    let mut next_seq = first_seq;
    let mut offset = HEADER_LEN;
    while offset < bytes.len() {
        let (payload, next) = match check_frame(bytes, offset) {
            Ok(frame) => frame,
            Err(damage) => return tail(file, bytes, offset, damage).map(|r| (records, r)),
        };
        let malformed = |reason| Corruption::MalformedBatch {
            file: file.to_owned(),
            offset,
            reason,
        };
        let batch = decode_batch(payload).map_err(malformed)?;
        if batch.first_seq != next_seq {
            return Err(Corruption::SequenceBreak {
                file: file.to_owned(),
                offset,
                found: batch.first_seq,
                expected: next_seq,
            });
        }
        for json in &batch.records {
            let record = serde_json::from_slice(json).map_err(|e| Corruption::BadRecord {
                file: file.to_owned(),
                seq: next_seq,
                reason: e.to_string(),
            })?;
            records.push((next_seq, record));
            next_seq += 1;
        }
        offset = next;
    }
    Ok((records, Repair::None))
}

/// The tail policy: damage at `offset` is a torn write to cut unless a valid frame follows.
fn tail(file: &str, bytes: &[u8], offset: usize, damage: Damage) -> Result<Repair, Corruption> {
    let valid_after = (offset + 1..bytes.len()).find(|&at| check_frame(bytes, at).is_ok());
    match valid_after {
        Some(valid_at) => Err(Corruption::DamageBeforeTail {
            file: file.to_owned(),
            offset,
            damage,
            valid_at,
        }),
        None => Ok(Repair::CutTail { keep: offset }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Op;
    use crate::file::frame::{LogRecordRef, encode_frame, encode_header};
    use crate::file::snapshot::encode_snapshot;
    use crate::storage::DirStorage;

    fn record(now_ms: u64) -> Vec<u8> {
        let op = Op::GetProcess {
            process_id: format!("p{now_ms}"),
        };
        serde_json::to_vec(&LogRecordRef { now_ms, op: &op }).unwrap()
    }

    /// A segment holding frames of `sizes` records each, seqs from `first_seq`.
    fn segment(number: u64, first_seq: u64, sizes: &[usize]) -> (Vec<u8>, Vec<usize>) {
        let mut bytes = encode_header(number).to_vec();
        let mut starts = Vec::new();
        let mut seq = first_seq;
        for &size in sizes {
            starts.push(bytes.len());
            let records: Vec<_> = (seq..seq + size as u64).map(record).collect();
            bytes.extend(encode_frame(seq, &records));
            seq += size as u64;
        }
        (bytes, starts)
    }

    fn store() -> (tempfile::TempDir, DirStorage) {
        let dir = tempfile::tempdir().unwrap();
        let storage = DirStorage::new(dir.path()).unwrap();
        (dir, storage)
    }

    fn corruption(storage: &DirStorage) -> Corruption {
        match scan_store(storage) {
            Err(ScanError::Corrupt(c)) => c,
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn whole_segment_scans_every_record() {
        let (_dir, storage) = store();
        let (bytes, _) = segment(1, 1, &[1, 3, 2]);
        storage.replace(&segment_name(1), &bytes).unwrap();
        let scan = scan_store(&storage).unwrap();
        let seqs: Vec<u64> = scan.records.iter().map(|(s, _)| *s).collect();
        assert_eq!(seqs, (1..=6).collect::<Vec<_>>());
        assert_eq!(scan.records[5].1.now_ms, 6);
        assert_eq!(scan.repair, Repair::None);
        assert_eq!(scan.last_seq(), 6);
    }

    #[test]
    fn empty_store_needs_segment_one() {
        let (_dir, storage) = store();
        let scan = scan_store(&storage).unwrap();
        assert_eq!((scan.segment, scan.last_seq()), (1, 0));
        assert_eq!(scan.repair, Repair::CreateSegment);
    }

    #[test]
    fn every_torn_prefix_of_the_last_frame_is_cut() {
        let (_dir, storage) = store();
        let (bytes, starts) = segment(1, 1, &[2, 2]);
        for len in starts[1] + 1..bytes.len() {
            storage.replace(&segment_name(1), &bytes[..len]).unwrap();
            let scan = scan_store(&storage).unwrap();
            assert_eq!(scan.records.len(), 2, "prefix {len}");
            assert_eq!(scan.repair, Repair::CutTail { keep: starts[1] });
        }
    }

    #[test]
    fn flip_in_any_frame_but_the_last_is_corrupt() {
        let (_dir, storage) = store();
        let (bytes, starts) = segment(1, 1, &[1, 2, 1]);
        for at in [starts[0], starts[0] + 5, starts[1] + 12, starts[2] - 1] {
            let mut bad = bytes.clone();
            bad[at] ^= 0x40;
            storage.replace(&segment_name(1), &bad).unwrap();
            assert!(
                matches!(corruption(&storage), Corruption::DamageBeforeTail { .. }),
                "flip at {at}"
            );
        }
    }

    #[test]
    fn crc_valid_frame_out_of_sequence_is_corrupt() {
        let (_dir, storage) = store();
        let mut bytes = encode_header(1).to_vec();
        bytes.extend(encode_frame(1, &[record(1)]));
        bytes.extend(encode_frame(3, &[record(3)]));
        storage.replace(&segment_name(1), &bytes).unwrap();
        assert!(matches!(
            corruption(&storage),
            Corruption::SequenceBreak {
                found: 3,
                expected: 2,
                ..
            }
        ));
    }

    #[test]
    fn crc_valid_frame_with_bad_json_is_corrupt() {
        let (_dir, storage) = store();
        let mut bytes = encode_header(1).to_vec();
        bytes.extend(encode_frame(1, &[b"{not json".to_vec()]));
        storage.replace(&segment_name(1), &bytes).unwrap();
        assert!(matches!(
            corruption(&storage),
            Corruption::BadRecord { seq: 1, .. }
        ));
    }

    #[test]
    fn bad_magic_is_corrupt() {
        let (_dir, storage) = store();
        let (mut bytes, _) = segment(1, 1, &[1]);
        bytes[0] = b'X';
        storage.replace(&segment_name(1), &bytes).unwrap();
        assert!(matches!(
            corruption(&storage),
            Corruption::BadHeader {
                problem: HeaderProblem::BadMagic,
                ..
            }
        ));
    }

    #[test]
    fn segment_header_must_match_its_name() {
        let (_dir, storage) = store();
        let (bytes, _) = segment(2, 1, &[1]);
        storage.replace(&segment_name(1), &bytes).unwrap();
        assert!(matches!(
            corruption(&storage),
            Corruption::WrongSegment { found: 2, .. }
        ));
    }

    #[test]
    fn segment_after_the_live_one_is_corrupt() {
        let (_dir, storage) = store();
        // Segment 2 exists but there is no snapshot naming it: the snapshot was lost.
        let (bytes, _) = segment(2, 5, &[1]);
        storage.replace(&segment_name(2), &bytes).unwrap();
        assert!(matches!(
            corruption(&storage),
            Corruption::UnexpectedSegment {
                segment: 2,
                live: 1
            }
        ));
    }

    #[test]
    fn missing_live_segment_after_snapshot_is_empty() {
        let (_dir, storage) = store();
        storage
            .replace(SNAPSHOT_FILE, &encode_snapshot(7, 3, b"{}"))
            .unwrap();
        let scan = scan_store(&storage).unwrap();
        assert_eq!((scan.segment, scan.last_seq()), (3, 7));
        assert_eq!(scan.repair, Repair::CreateSegment);
    }

    #[test]
    fn stale_segments_are_ignored() {
        let (_dir, storage) = store();
        storage
            .replace(SNAPSHOT_FILE, &encode_snapshot(2, 2, b"{}"))
            .unwrap();
        let (old, _) = segment(1, 1, &[1]);
        let mut old = old;
        old.extend_from_slice(b"garbage that would be corrupt if it were read");
        storage.replace(&segment_name(1), &old).unwrap();
        let (live, _) = segment(2, 3, &[2]);
        storage.replace(&segment_name(2), &live).unwrap();
        let scan = scan_store(&storage).unwrap();
        assert_eq!(scan.stale_segments, vec![1]);
        let seqs: Vec<u64> = scan.records.iter().map(|(s, _)| *s).collect();
        assert_eq!(seqs, vec![3, 4]);
    }

    #[test]
    fn damaged_snapshot_bytes_are_corrupt() {
        let (_dir, storage) = store();
        let mut bytes = encode_snapshot(2, 2, b"{}");
        bytes[20] ^= 1;
        storage.replace(SNAPSHOT_FILE, &bytes).unwrap();
        assert!(matches!(
            corruption(&storage),
            Corruption::BadSnapshot {
                problem: SnapshotProblem::ChecksumMismatch
            }
        ));
    }
}
