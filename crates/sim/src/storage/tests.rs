use procreg_reference::{Storage, StorageError};

use super::*;
use crate::rng::{SimRng, Stream};

fn rng(seed: u64) -> SimRng {
    SimRng::new(seed, Stream::Storage)
}

#[test]
fn appends_are_visible_before_sync_and_durable_after() {
    let s = SimStorage::new();
    s.append("log", b"ab").unwrap();
    s.append("log", b"cd").unwrap();
    assert_eq!(s.read("log").unwrap().unwrap(), b"abcd");
    assert_eq!(s.durable_contents("log"), None);
    assert_eq!(s.pending_len("log"), 4);
    s.sync("log").unwrap();
    assert_eq!(s.durable_contents("log").unwrap(), b"abcd");
    assert_eq!(s.pending_len("log"), 0);
}

#[test]
fn d7_crash_drops_unsynced_bytes_and_unsynced_files() {
    let s = SimStorage::new();
    s.append("log", b"synced").unwrap();
    s.sync("log").unwrap();
    s.append("log", b"-lost").unwrap();
    s.append("fresh", b"never synced").unwrap();
    s.crash(&mut rng(1), 0.0);
    let s = s.handle();
    assert_eq!(s.read("log").unwrap().unwrap(), b"synced");
    assert_eq!(s.read("fresh").unwrap(), None);
    assert_eq!(s.list().unwrap(), vec!["log".to_owned()]);
}

#[test]
fn d7_torn_write_keeps_only_a_prefix_of_the_unsynced_tail() {
    let mut lengths = std::collections::BTreeSet::new();
    for seed in 0..200 {
        let s = SimStorage::new();
        s.append("log", b"head").unwrap();
        s.sync("log").unwrap();
        s.append("log", b"0123456789").unwrap();
        s.crash(&mut rng(seed), 1.0);
        let after = s.handle().read("log").unwrap().unwrap();
        assert!(after.starts_with(b"head"), "seed {seed}: synced bytes lost");
        assert!(after.len() <= 14, "seed {seed}: the file grew");
        assert_eq!(s.stats().torn_writes, 1, "seed {seed}");
        lengths.insert(after.len());
    }
    assert!(lengths.len() > 5, "torn lengths barely vary: {lengths:?}");
}

#[test]
fn crash_with_tears_exactly_as_told() {
    let s = SimStorage::new();
    s.append("log", b"abc").unwrap();
    s.sync("log").unwrap();
    s.append("log", b"defgh").unwrap();
    s.crash_with(|_, pending| {
        assert_eq!(pending, b"defgh");
        CrashFate::TearWithGarbage {
            keep: 2,
            garbage: vec![0xff; 10],
        }
    });
    // Garbage is clamped to the 3 lost bytes.
    assert_eq!(s.contents("log").unwrap(), b"abcde\xff\xff\xff");
}

#[test]
fn replace_is_atomic_and_durable() {
    let s = SimStorage::new();
    s.append("snap", b"old-and-unsynced").unwrap();
    s.replace("snap", b"new").unwrap();
    s.append("snap", b"+tail").unwrap();
    s.crash(&mut rng(3), 0.0);
    assert_eq!(s.contents("snap").unwrap(), b"new");
}

#[test]
fn remove_is_durable_and_idempotent() {
    let s = SimStorage::new();
    s.replace("a", b"x").unwrap();
    s.remove("a").unwrap();
    s.remove("a").unwrap();
    s.crash(&mut rng(4), 1.0);
    assert_eq!(s.contents("a"), None);
}

#[test]
fn d5_second_live_lock_is_refused_until_the_first_drops() {
    let s = SimStorage::new();
    let other = s.clone();
    let guard = s.lock().unwrap();
    assert!(matches!(other.lock(), Err(StorageError::Locked { .. })));
    drop(guard);
    let _again = other.lock().unwrap();
}

#[test]
fn d7_crash_releases_the_lock_and_retires_old_handles() {
    let s = SimStorage::new();
    let old_guard = s.lock().unwrap();
    s.crash(&mut rng(5), 0.0);
    assert!(s.is_retired());
    assert!(matches!(
        s.append("log", b"zombie"),
        Err(StorageError::Injected { .. })
    ));
    let fresh = s.handle();
    let new_guard = fresh.lock().unwrap();
    // Dropping the dead incarnation's guard must not release the new lock.
    drop(old_guard);
    assert!(matches!(fresh.lock(), Err(StorageError::Locked { .. })));
    drop(new_guard);
    fresh.lock().unwrap();
}

#[test]
fn a2_failed_sync_leaves_bytes_pending_and_only_fails_once() {
    let s = SimStorage::new();
    s.append("log", b"abc").unwrap();
    s.fail_next_sync();
    assert!(matches!(s.sync("log"), Err(StorageError::Injected { .. })));
    assert_eq!(s.pending_len("log"), 3);
    s.sync("log").unwrap();
    assert_eq!(s.durable_contents("log").unwrap(), b"abc");
    assert_eq!(s.stats().injected_faults, 1);
}

#[test]
fn power_off_refuses_everything_after_k_mutations() {
    let s = SimStorage::new();
    s.power_off_after(2);
    s.append("log", b"a").unwrap();
    s.sync("log").unwrap();
    assert!(s.is_powered_off());
    assert!(s.append("log", b"b").is_err());
    assert!(s.read("log").is_err());
    assert_eq!(s.stats().mutations(), 2);
    s.crash(&mut rng(6), 0.0);
    let s = s.handle();
    assert_eq!(s.read("log").unwrap().unwrap(), b"a");
}

#[test]
fn d4_flip_bit_damages_durable_bytes_across_crashes() {
    let s = SimStorage::new();
    s.replace("snap", &[0u8; 4]).unwrap();
    s.append("snap", &[0u8; 2]).unwrap();
    assert!(s.flip_bit("snap", 1, 0));
    assert!(s.flip_bit("snap", 5, 7));
    assert!(!s.flip_bit("snap", 6, 0));
    assert_eq!(s.contents("snap").unwrap(), [0, 1, 0, 0, 0, 0x80]);
    s.crash(&mut rng(7), 0.0);
    assert_eq!(s.contents("snap").unwrap(), [0, 1, 0, 0]);
}

#[test]
fn counters_add_up() {
    let s = SimStorage::new();
    s.append("a", b"12").unwrap();
    s.sync("a").unwrap();
    s.replace("b", b"345").unwrap();
    s.remove("b").unwrap();
    let stats = s.stats();
    assert_eq!(
        (stats.appends, stats.syncs, stats.replaces, stats.removes),
        (1, 1, 1, 1)
    );
    assert_eq!(stats.bytes_written, 5);
    assert_eq!(stats.mutations(), 4);
}

#[test]
fn same_seed_same_crash() {
    let run = |seed| {
        let s = SimStorage::new();
        s.append("log", &[7u8; 64]).unwrap();
        s.crash(&mut rng(seed), 0.5);
        s.contents("log")
    };
    for seed in 0..20 {
        assert_eq!(run(seed), run(seed));
    }
}

#[test]
fn sim_storage_passes_the_shared_storage_check() {
    procreg_reference::storage::check_storage(&SimStorage::new()).unwrap();
}
