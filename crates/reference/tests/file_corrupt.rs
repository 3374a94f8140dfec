//! FileRegistry recovery policy, one test per row of the table in `file::recover` (D4, D5):
//! a torn unacknowledged tail is cut; anything else that cannot be read back is `Corrupt`.

mod file_common;

use std::path::{Path, PathBuf};

use file_common::*;
use procreg::{ErrorKind, ProcessRegistry};
use procreg_reference::DirStorage;
use procreg_reference::Op;
use procreg_reference::file::frame::{
    HEADER_LEN, LOG_MAGIC, LogRecordRef, check_frame, encode_frame, encode_header, segment_name,
};
use procreg_reference::file::snapshot::{SNAPSHOT_FILE, encode_snapshot};
use procreg_reference::file::{FileOptions, FileRegistry};

fn segment_path(dir: &Path, segment: u64) -> PathBuf {
    dir.join(segment_name(segment))
}

/// Byte offsets where each frame of a segment starts.
fn frame_starts(bytes: &[u8]) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut at = HEADER_LEN;
    while at < bytes.len() {
        starts.push(at);
        at = check_frame(bytes, at).unwrap().1;
    }
    starts
}

/// A store in segment 1 with one frame per call; returns the Model it holds.
async fn written_store(dir: &Path) -> procreg_reference::Model {
    let (manual, clock) = clock(1_000);
    let registry = open(dir, &clock);
    populate(&registry, &manual).await;
    model(&registry)
}

fn open_error(dir: &Path) -> ErrorKind {
    let (_, clock) = clock(1_000);
    FileRegistry::open_dir(dir, clock).unwrap_err().kind()
}

fn record_json(now_ms: u64, op: &Op) -> Vec<u8> {
    serde_json::to_vec(&LogRecordRef { now_ms, op }).unwrap()
}

#[tokio::test]
async fn torn_unacked_tail_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let before = written_store(dir.path()).await;
    let path = segment_path(dir.path(), 1);
    let acked = std::fs::read(&path).unwrap();
    let op = Op::RevokeHandle {
        scope: procreg::ProcessScope::session("s1"),
        process_id: "p1".into(),
    };
    let frame = encode_frame(before.revision() + 1, &[record_json(5_000, &op)]);
    let mut torn = acked.clone();
    torn.extend_from_slice(&frame[..frame.len() - 3]);
    std::fs::write(&path, &torn).unwrap();

    let (_, clock) = clock(1_000);
    let reopened = open(dir.path(), &clock);
    assert_eq!(model(&reopened), before);
    assert_eq!(std::fs::read(&path).unwrap(), acked, "the cut is written");
    reopened.append_event("p1", note(7)).await.unwrap();
    let after = model(&reopened);
    drop(reopened);
    assert_eq!(model(&open(dir.path(), &clock)), after);
}

#[tokio::test]
async fn garbage_tail_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let before = written_store(dir.path()).await;
    let path = segment_path(dir.path(), 1);
    let acked = std::fs::read(&path).unwrap();
    let mut garbage = acked.clone();
    let mut x: u32 = 0x9e37_79b9;
    for _ in 0..300 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        garbage.push(x as u8);
    }
    std::fs::write(&path, &garbage).unwrap();

    let (_, clock) = clock(1_000);
    let reopened = open(dir.path(), &clock);
    assert_eq!(model(&reopened), before);
    assert_eq!(std::fs::read(&path).unwrap(), acked);
}

#[tokio::test]
async fn bit_flip_before_tail_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    written_store(dir.path()).await;
    let path = segment_path(dir.path(), 1);
    let mut bytes = std::fs::read(&path).unwrap();
    let starts = frame_starts(&bytes);
    let middle = starts[starts.len() / 2] + 20;
    bytes[middle] ^= 0x08;
    std::fs::write(&path, &bytes).unwrap();

    assert_eq!(open_error(dir.path()), ErrorKind::Corrupt);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "a corrupt store is left untouched"
    );
}

#[tokio::test]
async fn truncated_middle_record_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    written_store(dir.path()).await;
    let path = segment_path(dir.path(), 1);
    let bytes = std::fs::read(&path).unwrap();
    let starts = frame_starts(&bytes);
    let cut_at = starts[2] + 30;
    let mut truncated = bytes[..cut_at].to_vec();
    truncated.extend_from_slice(&bytes[starts[3]..]);
    std::fs::write(&path, &truncated).unwrap();

    assert_eq!(open_error(dir.path()), ErrorKind::Corrupt);
}

#[tokio::test]
async fn unknown_log_version_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    written_store(dir.path()).await;
    let path = segment_path(dir.path(), 1);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
    let crc = crc32c(&bytes[..20]);
    bytes[20..24].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(open_error(dir.path()), ErrorKind::Corrupt);

    bytes[..8].copy_from_slice(b"not-log\n");
    assert_ne!(&bytes[..8], &LOG_MAGIC);
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(open_error(dir.path()), ErrorKind::Corrupt);
}

/// crc32c as the format defines it, computed independently of the crate under test.
fn crc32c(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0x82F6_3B78 & mask);
        }
    }
    !crc
}

#[tokio::test]
async fn damaged_snapshot_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let (manual, clock) = clock(1_000);
    let registry = open_every(dir.path(), &clock, 3);
    populate(&registry, &manual).await;
    drop(registry);
    let path = dir.path().join(SNAPSHOT_FILE);
    let good = std::fs::read(&path).unwrap();

    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    let shortened = good[..good.len() - 1].to_vec();
    let mut versioned = good.clone();
    versioned[8] = 2;
    let not_a_model = encode_snapshot(3, 2, b"[1,2]");
    for damaged in [flipped, shortened, versioned, not_a_model] {
        std::fs::write(&path, &damaged).unwrap();
        assert_eq!(open_error(dir.path()), ErrorKind::Corrupt);
    }
    std::fs::write(&path, &good).unwrap();
    open(dir.path(), &clock);
}

#[tokio::test]
async fn replay_that_diverges_is_corrupt() {
    let (_, clock) = clock(1_000);
    let fails = Op::AckWake {
        process_id: "never-registered".into(),
        sequence: 1,
    };
    let changes_nothing = Op::GetProcess {
        process_id: "p".into(),
    };
    for op in [fails, changes_nothing] {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = encode_header(1).to_vec();
        bytes.extend(encode_frame(1, &[record_json(5, &op)]));
        std::fs::write(segment_path(dir.path(), 1), &bytes).unwrap();
        let error = FileRegistry::open_dir(dir.path(), clock.clone()).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Corrupt, "{op:?}");
    }
}

#[tokio::test]
async fn d5_second_open_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_, clock) = clock(1_000);
    let first = open(dir.path(), &clock);
    assert_eq!(open_error(dir.path()), ErrorKind::Storage);
    let storage = std::sync::Arc::new(DirStorage::new(dir.path()).unwrap());
    let second = FileRegistry::open_with(storage, clock.clone(), FileOptions::default());
    assert_eq!(second.unwrap_err().kind(), ErrorKind::Storage);
    drop(first);
    let third = open(dir.path(), &clock);
    assert!(third.list_non_terminal().await.unwrap().is_empty());
}
