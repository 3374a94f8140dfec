//! The snapshot format (version 1): the whole Model at one record seq, so the log can be
//! compacted (D2 stays cheap to honour on reopen).
//!
//! ```text
//! snapshot = magic "prc-snap" (8 bytes) | version u32 | last_seq u64 | next_segment u64
//!            | payload_len u64 | payload (payload_len bytes) | crc u32
//! payload  = the Model as serde JSON
//! ```
//!
//! Integers are little-endian; `crc` is crc32c of every byte before it, and the file must end
//! right after it. `last_seq` is the seq of the last record the Model includes; `next_segment`
//! is the one live log segment whose records follow it. The file is only ever written with
//! [`Storage::replace`](crate::Storage::replace), so it is whole or absent: any mismatch is
//! `Corrupt`, never a torn write.

/// The first 8 bytes of a snapshot.
pub const SNAPSHOT_MAGIC: [u8; 8] = *b"prc-snap";
/// The snapshot format version this code writes and reads.
pub const SNAPSHOT_VERSION: u32 = 1;
/// The snapshot's file name.
pub const SNAPSHOT_FILE: &str = "snapshot";

const FIXED_LEN: usize = 8 + 4 + 8 + 8 + 8;

/// A decoded snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The seq of the last record the payload includes.
    pub last_seq: u64,
    /// The live log segment after it.
    pub next_segment: u64,
    /// The Model's JSON.
    pub payload: Vec<u8>,
}

/// Why a snapshot cannot be read back: all `Corrupt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotProblem {
    /// The magic is not [`SNAPSHOT_MAGIC`].
    BadMagic,
    /// The version is not [`SNAPSHOT_VERSION`].
    UnsupportedVersion(u32),
    /// The file is shorter or longer than its declared payload.
    WrongLength,
    /// The crc does not match.
    ChecksumMismatch,
}

/// Encodes a snapshot.
pub fn encode_snapshot(last_seq: u64, next_segment: u64, payload: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(FIXED_LEN + payload.len() + 4);
    bytes.extend_from_slice(&SNAPSHOT_MAGIC);
    bytes.extend_from_slice(&SNAPSHOT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&last_seq.to_le_bytes());
    bytes.extend_from_slice(&next_segment.to_le_bytes());
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(payload);
    let crc = crc32c::crc32c(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    bytes
}

/// Decodes a snapshot file.
///
/// # Errors
/// The [`SnapshotProblem`], checked in the order magic, version, length, crc.
pub fn decode_snapshot(bytes: &[u8]) -> Result<Snapshot, SnapshotProblem> {
    if bytes.get(..8) != Some(&SNAPSHOT_MAGIC[..]) {
        return Err(SnapshotProblem::BadMagic);
    }
    let field = |at: usize, len: usize| bytes.get(at..at + len).ok_or(SnapshotProblem::WrongLength);
    let version = u32::from_le_bytes(array(field(8, 4)?));
    if version != SNAPSHOT_VERSION {
        return Err(SnapshotProblem::UnsupportedVersion(version));
    }
    let last_seq = u64::from_le_bytes(array(field(12, 8)?));
    let next_segment = u64::from_le_bytes(array(field(20, 8)?));
    let payload_len = u64::from_le_bytes(array(field(28, 8)?));
    let expected_len = usize::try_from(payload_len)
        .ok()
        .and_then(|len| len.checked_add(FIXED_LEN + 4));
    if expected_len != Some(bytes.len()) {
        return Err(SnapshotProblem::WrongLength);
    }
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    if crc32c::crc32c(body) != u32::from_le_bytes(array(crc)) {
        return Err(SnapshotProblem::ChecksumMismatch);
    }
    Ok(Snapshot {
        last_seq,
        next_segment,
        payload: body[FIXED_LEN..].to_vec(),
    })
}

fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_round_trips() {
        let bytes = encode_snapshot(99, 4, br#"{"model":1}"#);
        let snapshot = decode_snapshot(&bytes).unwrap();
        assert_eq!(snapshot.last_seq, 99);
        assert_eq!(snapshot.next_segment, 4);
        assert_eq!(snapshot.payload, br#"{"model":1}"#);
    }

    #[test]
    fn every_bit_flip_and_truncation_is_detected() {
        let bytes = encode_snapshot(3, 2, b"[1,2,3]");
        for byte in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[byte] ^= 0x10;
            assert!(decode_snapshot(&bad).is_err(), "flip at {byte}");
        }
        for len in 0..bytes.len() {
            assert!(decode_snapshot(&bytes[..len]).is_err(), "prefix {len}");
        }
    }

    #[test]
    fn problems_are_named_in_check_order() {
        let bytes = encode_snapshot(3, 2, b"{}");
        assert_eq!(decode_snapshot(b"nope"), Err(SnapshotProblem::BadMagic));
        let mut bad = bytes.clone();
        bad[8] = 9;
        assert_eq!(
            decode_snapshot(&bad),
            Err(SnapshotProblem::UnsupportedVersion(9))
        );
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(decode_snapshot(&long), Err(SnapshotProblem::WrongLength));
        let mut bad = bytes;
        bad[FIXED_LEN] ^= 1;
        assert_eq!(
            decode_snapshot(&bad),
            Err(SnapshotProblem::ChecksumMismatch)
        );
    }
}
