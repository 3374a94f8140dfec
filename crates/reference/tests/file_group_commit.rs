//! Group commit and failed syncs (D2, A2): concurrent callers share fsyncs; a failed sync makes
//! the call `Unavailable` and the store refuse everything with `Storage` until reopened.

mod file_common;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use file_common::*;
use procreg::{ErrorKind, ProcessRegistry, ProcessScope};
use procreg_reference::file::{FileOptions, FileRegistry};

const THREADS: usize = 8;
const APPENDS: u64 = 25;

#[test]
fn eight_threads_appending_share_fsyncs() {
    let dir = tempfile::tempdir().unwrap();
    let storage = CountingStorage::new(dir.path());
    let (_, clock) = clock(1_000);
    let registry =
        FileRegistry::open_with(storage.clone(), clock.clone(), FileOptions::default()).unwrap();
    let registry = Arc::new(registry);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for t in 0..THREADS {
        let reg = registration(&format!("p{t}"), "s");
        runtime.block_on(registry.register_process(reg)).unwrap();
    }
    let syncs_before = storage.syncs();
    let barrier = Arc::new(std::sync::Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (registry, barrier) = (registry.clone(), barrier.clone());
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap();
                barrier.wait();
                for n in 1..=APPENDS {
                    let id = format!("p{t}");
                    let result = runtime.block_on(registry.append_event(&id, note(n)));
                    assert_eq!(result.unwrap().event.sequence, n);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let calls = THREADS * APPENDS as usize;
    let syncs = storage.syncs() - syncs_before;
    assert!(syncs < calls, "{syncs} fsyncs for {calls} durable calls");

    let before = model(&registry);
    drop(registry);
    let reopened = open(dir.path(), &clock);
    assert_eq!(model(&reopened), before);
    for t in 0..THREADS {
        let events = runtime
            .block_on(reopened.events_after(&format!("p{t}"), 0))
            .unwrap();
        assert_eq!(events.len() as u64, APPENDS);
    }
}

#[tokio::test]
async fn a2_failed_write_is_unavailable_then_storage_until_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let storage = CountingStorage::new(dir.path());
    let (_, clock) = clock(1_000);
    let registry =
        FileRegistry::open_with(storage.clone(), clock.clone(), FileOptions::default()).unwrap();
    registry
        .register_process(registration("p", "s"))
        .await
        .unwrap();

    storage.failing.store(true, Ordering::SeqCst);
    let failed = registry.append_event("p", note(1)).await.unwrap_err();
    assert_eq!(failed.kind(), ErrorKind::Unavailable);
    storage.failing.store(false, Ordering::SeqCst);
    assert!(registry.engine().journal().is_poisoned());
    let write = registry.append_event("p", note(2)).await.unwrap_err();
    assert_eq!(write.kind(), ErrorKind::Storage);
    let read = registry.get_process("p").await.unwrap_err();
    assert_eq!(
        read.kind(),
        ErrorKind::Storage,
        "no read may show unsynced state"
    );
    drop(registry);

    let reopened = open(dir.path(), &clock);
    assert!(reopened.events_after("p", 0).await.unwrap().is_empty());
    reopened.append_event("p", note(3)).await.unwrap();
    let scope = ProcessScope::session("s");
    let grant = procreg::ProcessHandleDescriptor::labelled("x");
    reopened.grant_handle(&scope, "p", grant).await.unwrap();
}

#[tokio::test]
async fn a2_failed_snapshot_poisons_and_reopen_keeps_everything_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let storage = CountingStorage::new(dir.path());
    let (_, clock) = clock(1_000);
    let options = FileOptions {
        snapshot_every_records: 3,
    };
    let registry = FileRegistry::open_with(storage.clone(), clock.clone(), options).unwrap();
    registry
        .register_process(registration("p", "s"))
        .await
        .unwrap();
    registry.append_event("p", note(1)).await.unwrap();
    let acknowledged = model(&registry);
    storage.failing.store(true, Ordering::SeqCst);
    let third = registry.append_event("p", note(2)).await.unwrap_err();
    assert_eq!(third.kind(), ErrorKind::Unavailable);
    storage.failing.store(false, Ordering::SeqCst);
    drop(registry);

    let reopened = open(dir.path(), &clock);
    assert_eq!(model(&reopened), acknowledged);
}
