//! The log segment format (version 1): the on-disk record of every acknowledged mutation (D2).
//!
//! # Files
//!
//! A store holds at most one snapshot file, `snapshot` (format in [`super::snapshot`]), and log
//! segments named `log-<n>`, `n` the segment number as 20 zero-padded decimal digits
//! (`log-00000000000000000001`). Only one segment is live: the one the snapshot names (segment 1
//! when there is no snapshot). Other names are ignored.
//!
//! # Segment
//!
//! ```text
//! segment = header frame*
//! header  = magic "prc-log\n" (8 bytes) | version u32 | segment number u64 | crc u32
//! frame   = payload_len u32 | crc u32 | payload (payload_len bytes)
//! payload = first_seq u64 | count u32 | count * (record_len u32 | record JSON)
//! record JSON = {"now_ms": <u64>, "op": <Op as serde JSON>}
//! ```
//!
//! All integers are little-endian. The header's crc is crc32c of its first 20 bytes; a segment
//! is created whole, header only, by an atomic replace, so a bad header is never a torn write.
//! A frame's crc is crc32c of its `payload_len` bytes followed by the payload, so a damaged length
//! is caught like damaged payload. `payload_len` is 1..=[`MAX_PAYLOAD`].
//!
//! One frame is one group commit: the records buffered since the last commit, written with one
//! append and made durable with one sync. A group too large for one frame is split into several,
//! each synced before the next is written, so the tail policy below still holds; a single record
//! larger than [`MAX_PAYLOAD`] cannot be logged (its call gets `Unavailable` and the log refuses
//! writes until reopened). Records carry a global sequence number (`seq`), dense
//! from 1 across frames and segments: a frame's records are `first_seq`, `first_seq + 1`, ...
//! and the first frame after a snapshot continues from the snapshot's last seq. Replaying a record
//! means `Model::apply(op, now_ms)`, which must succeed and change state again.
//!
//! # Tail policy
//!
//! Frames are read from the header on. The first frame that is incomplete, has a length out of
//! range or a crc mismatch starts the *tail*. Because frame `k + 1` is only ever written after
//! frame `k` was synced and acknowledged, a valid frame (length in range, crc matching) anywhere
//! after the damage proves acknowledged data was damaged: `Corrupt`. Without one the tail is a
//! torn write that was never acknowledged and is cut (`super::recover` has the full table). A
//! frame whose crc matches but whose payload does not decode, or whose `first_seq` breaks the
//! sequence, is `Corrupt` wherever it is.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::Op;

/// The first 8 bytes of every log segment.
pub const LOG_MAGIC: [u8; 8] = *b"prc-log\n";
/// The log format version this code writes and reads.
pub const LOG_VERSION: u32 = 1;
/// Length of a segment header.
pub const HEADER_LEN: usize = 24;
/// Length of a frame's `payload_len | crc` prefix.
pub const FRAME_PREFIX_LEN: usize = 8;
/// The largest frame payload: 1 GiB.
pub const MAX_PAYLOAD: usize = 1 << 30;
/// Bytes of a payload besides its records' JSON: the batch header.
const BATCH_HEADER_LEN: usize = 12;

/// The file name of segment `n`.
pub fn segment_name(segment: u64) -> String {
    format!("log-{segment:020}")
}

/// The segment number in a file name, if it is one.
pub fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("log-")?;
    if digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()
    } else {
        None
    }
}

/// One logged mutation: the call and the clock reading it was applied at (T1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogRecord {
    /// The `now` the call read.
    pub now_ms: u64,
    /// The call.
    pub op: Op,
}

/// Borrowing twin of [`LogRecord`], so recording never clones an op.
#[derive(Serialize)]
pub struct LogRecordRef<'a> {
    /// The `now` the call read.
    pub now_ms: u64,
    /// The call.
    pub op: &'a Op,
}

/// Why a header is not this version's: all `Corrupt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderProblem {
    /// Shorter than [`HEADER_LEN`].
    Short,
    /// The magic is not [`LOG_MAGIC`].
    BadMagic,
    /// The version is not [`LOG_VERSION`].
    UnsupportedVersion(u32),
    /// The header crc does not match.
    ChecksumMismatch,
}

/// How a frame failed its length or crc check: the start of a tail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Damage {
    /// The file ends inside the frame.
    Truncated,
    /// `payload_len` is 0 or above [`MAX_PAYLOAD`].
    LengthOutOfRange,
    /// The crc does not match.
    ChecksumMismatch,
}

/// The records of one frame, as raw record JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// The seq of the first record.
    pub first_seq: u64,
    /// Each record's JSON bytes.
    pub records: Vec<Vec<u8>>,
}

/// The header of segment `segment`.
pub fn encode_header(segment: u64) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    header[..8].copy_from_slice(&LOG_MAGIC);
    header[8..12].copy_from_slice(&LOG_VERSION.to_le_bytes());
    header[12..20].copy_from_slice(&segment.to_le_bytes());
    let crc = crc32c::crc32c(&header[..20]);
    header[20..].copy_from_slice(&crc.to_le_bytes());
    header
}

/// The segment number a header declares.
///
/// # Errors
/// The [`HeaderProblem`], checked in the order magic, version, crc.
pub fn decode_header(bytes: &[u8]) -> Result<u64, HeaderProblem> {
    if bytes.len() < HEADER_LEN {
        return Err(HeaderProblem::Short);
    }
    if bytes[..8] != LOG_MAGIC {
        return Err(HeaderProblem::BadMagic);
    }
    let version = read_u32(bytes, 8);
    if version != LOG_VERSION {
        return Err(HeaderProblem::UnsupportedVersion(version));
    }
    if crc32c::crc32c(&bytes[..20]) != read_u32(bytes, 20) {
        return Err(HeaderProblem::ChecksumMismatch);
    }
    Ok(read_u64(bytes, 12))
}

/// Encodes `records` (record JSON each, at least one) as one frame starting at `first_seq`.
pub fn encode_frame(first_seq: u64, records: &[Vec<u8>]) -> Vec<u8> {
    assert!(!records.is_empty(), "a frame holds at least one record");
    let payload_len = BATCH_HEADER_LEN + records.iter().map(|r| 4 + r.len()).sum::<usize>();
    let mut frame = Vec::with_capacity(FRAME_PREFIX_LEN + payload_len);
    frame.extend_from_slice(&len_u32(payload_len).to_le_bytes());
    frame.extend_from_slice(&[0; 4]);
    frame.extend_from_slice(&first_seq.to_le_bytes());
    frame.extend_from_slice(&len_u32(records.len()).to_le_bytes());
    for record in records {
        frame.extend_from_slice(&len_u32(record.len()).to_le_bytes());
        frame.extend_from_slice(record);
    }
    let crc = frame_crc(&frame[..4], &frame[FRAME_PREFIX_LEN..]);
    frame[4..8].copy_from_slice(&crc.to_le_bytes());
    frame
}

/// Splits `records` into runs that each fit one frame of at most `max_payload` bytes.
///
/// # Errors
/// The index of a record too large for any frame.
pub fn split_batch(records: &[Vec<u8>], max_payload: usize) -> Result<Vec<Range<usize>>, usize> {
    let mut runs = Vec::new();
    let (mut start, mut size) = (0, BATCH_HEADER_LEN);
    for (index, record) in records.iter().enumerate() {
        let cost = 4 + record.len();
        if BATCH_HEADER_LEN + cost > max_payload {
            return Err(index);
        }
        if size + cost > max_payload {
            runs.push(start..index);
            (start, size) = (index, BATCH_HEADER_LEN);
        }
        size += cost;
    }
    if start < records.len() {
        runs.push(start..records.len());
    }
    Ok(runs)
}

/// Checks the frame at `offset`: its length range and crc. Returns its payload and the offset
/// just past it.
///
/// # Errors
/// The [`Damage`] that makes it the start of a tail.
pub fn check_frame(bytes: &[u8], offset: usize) -> Result<(&[u8], usize), Damage> {
    let rest = &bytes[offset.min(bytes.len())..];
    if rest.len() < FRAME_PREFIX_LEN {
        return Err(Damage::Truncated);
    }
    let payload_len = read_u32(rest, 0) as usize;
    if payload_len == 0 || payload_len > MAX_PAYLOAD {
        return Err(Damage::LengthOutOfRange);
    }
    let Some(payload) = rest.get(FRAME_PREFIX_LEN..FRAME_PREFIX_LEN + payload_len) else {
        return Err(Damage::Truncated);
    };
    if frame_crc(&rest[..4], payload) != read_u32(rest, 4) {
        return Err(Damage::ChecksumMismatch);
    }
    Ok((payload, offset + FRAME_PREFIX_LEN + payload_len))
}

/// Decodes a checked frame's payload.
///
/// # Errors
/// What is malformed (a crc-valid payload that does not decode is `Corrupt`).
pub fn decode_batch(payload: &[u8]) -> Result<Batch, String> {
    if payload.len() < 12 {
        return Err("payload shorter than its batch header".into());
    }
    let first_seq = read_u64(payload, 0);
    let count = read_u32(payload, 8) as usize;
    if count == 0 {
        return Err("empty batch".into());
    }
    let mut records = Vec::with_capacity(count.min(payload.len() / 4));
    let mut at = 12;
    for index in 0..count {
        let len = payload
            .get(at..at + 4)
            .map(|b| read_u32(b, 0) as usize)
            .ok_or_else(|| format!("record {index} length past the payload"))?;
        let record = payload
            .get(at + 4..at + 4 + len)
            .ok_or_else(|| format!("record {index} past the payload"))?;
        records.push(record.to_vec());
        at += 4 + len;
    }
    if at != payload.len() {
        return Err(format!(
            "{} bytes after the last record",
            payload.len() - at
        ));
    }
    Ok(Batch { first_seq, records })
}

fn frame_crc(len_bytes: &[u8], payload: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(len_bytes), payload)
}

fn len_u32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    let mut buf = [0u8; 4];
    buf.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(buf)
}

fn read_u64(bytes: &[u8], at: usize) -> u64 {
    let mut buf = [0u8; 8];
    buf.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(n: usize) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| format!("{{\"r\":{i}}}").into_bytes())
            .collect()
    }

    #[test]
    fn segment_names_round_trip() {
        assert_eq!(segment_name(7), "log-00000000000000000007");
        assert_eq!(parse_segment_name(&segment_name(u64::MAX)), Some(u64::MAX));
        assert_eq!(parse_segment_name("log-7"), None);
        assert_eq!(parse_segment_name("snapshot"), None);
    }

    #[test]
    fn header_round_trips_and_names_its_problem() {
        let header = encode_header(42);
        assert_eq!(decode_header(&header), Ok(42));
        assert_eq!(decode_header(&header[..23]), Err(HeaderProblem::Short));
        let mut bad = header;
        bad[0] ^= 1;
        assert_eq!(decode_header(&bad), Err(HeaderProblem::BadMagic));
        let mut bad = header;
        bad[8] = 2;
        assert_eq!(
            decode_header(&bad),
            Err(HeaderProblem::UnsupportedVersion(2))
        );
        let mut bad = header;
        bad[13] ^= 1;
        assert_eq!(decode_header(&bad), Err(HeaderProblem::ChecksumMismatch));
    }

    #[test]
    fn frame_round_trips() {
        for n in [1, 2, 17] {
            let frame = encode_frame(5, &records(n));
            let (payload, next) = check_frame(&frame, 0).unwrap();
            assert_eq!(next, frame.len());
            let batch = decode_batch(payload).unwrap();
            assert_eq!(batch.first_seq, 5);
            assert_eq!(batch.records, records(n));
        }
    }

    #[test]
    fn split_batch_fills_frames_up_to_the_limit() {
        let records = vec![vec![b'x'; 10]; 5]; // 14 bytes each in a payload
        assert_eq!(split_batch(&records, 12 + 28), Ok(vec![0..2, 2..4, 4..5]));
        let whole: Vec<std::ops::Range<usize>> = std::iter::once(0..5).collect();
        assert_eq!(split_batch(&records, 1 << 20), Ok(whole));
        assert_eq!(split_batch(&records, 12 + 13), Err(0));
        for run in split_batch(&records, 12 + 28).unwrap() {
            let frame = encode_frame(1, &records[run]);
            assert!(frame.len() - FRAME_PREFIX_LEN <= 12 + 28);
        }
    }

    #[test]
    fn every_single_bit_flip_is_detected() {
        let frame = encode_frame(1, &records(3));
        for byte in 0..frame.len() {
            for bit in 0..8 {
                let mut bad = frame.clone();
                bad[byte] ^= 1 << bit;
                assert!(check_frame(&bad, 0).is_err(), "flip at {byte}:{bit}");
            }
        }
    }

    #[test]
    fn every_strict_prefix_is_truncated_or_out_of_range() {
        let frame = encode_frame(1, &records(2));
        for len in 0..frame.len() {
            let damage = check_frame(&frame[..len], 0).unwrap_err();
            assert_eq!(damage, Damage::Truncated, "prefix {len}");
        }
        let zeros = [0u8; 16];
        assert_eq!(check_frame(&zeros, 0), Err(Damage::LengthOutOfRange));
    }

    #[test]
    fn malformed_payload_is_named() {
        assert!(decode_batch(&[0; 11]).is_err());
        let mut payload = 1u64.to_le_bytes().to_vec();
        payload.extend_from_slice(&0u32.to_le_bytes());
        assert_eq!(decode_batch(&payload).unwrap_err(), "empty batch");
        payload[8] = 1;
        payload.extend_from_slice(&9u32.to_le_bytes());
        assert!(decode_batch(&payload).is_err());
    }
}
