//! Helpers shared by the `file_*` tests: registrations, a workload touching every kind of
//! state, and a Storage wrapper that counts syncs and fails them on demand.
#![allow(dead_code)] // each test crate uses a different subset

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use procreg::{
    ManualClock, ProcessAwaitOutput, ProcessEventAppendRequest, ProcessEventType,
    ProcessHandleDescriptor, ProcessRegistration, ProcessRegistry, ProcessScope, ProcessWakeSpec,
    SharedClock, WakeDedupeKey,
};
use procreg_reference::file::{FileOptions, FileRegistry};
use procreg_reference::{DirStorage, Model, Storage, StorageError, StoreLock};
use serde_json::json;

pub fn clock(start_ms: u64) -> (ManualClock, SharedClock) {
    let clock = ManualClock::new(start_ms);
    (clock.clone(), Arc::new(clock))
}

/// A registration declaring a plain `note` and a waking `ping` (input `/msg`).
pub fn registration(id: &str, session: &str) -> ProcessRegistration {
    ProcessRegistration::new(id, ProcessScope::session(session), "host")
        .with_input(json!({ "job": id }))
        .with_event_type(ProcessEventType::plain("note"))
        .with_event_type(ProcessEventType::waking(
            "ping",
            ProcessWakeSpec {
                when: None,
                input: "/msg".into(),
                dedupe_key: WakeDedupeKey::EventIdentity,
            },
        ))
}

pub fn note(n: u64) -> ProcessEventAppendRequest {
    ProcessEventAppendRequest::new("note", json!({ "n": n }))
}

pub fn ping(msg: &str, target: &ProcessScope) -> ProcessEventAppendRequest {
    ProcessEventAppendRequest::new("ping", json!({ "msg": msg })).with_wake_target(target.clone())
}

pub fn success(value: u64) -> ProcessAwaitOutput {
    ProcessAwaitOutput::Success {
        value: json!(value),
    }
}

pub fn open(dir: &Path, clock: &SharedClock) -> FileRegistry {
    FileRegistry::open_dir(dir, clock.clone()).unwrap()
}

pub fn open_every(dir: &Path, clock: &SharedClock, snapshot_every_records: u64) -> FileRegistry {
    let storage = Arc::new(DirStorage::new(dir).unwrap());
    let options = FileOptions {
        snapshot_every_records,
    };
    FileRegistry::open_with(storage, clock.clone(), options).unwrap()
}

pub fn model(registry: &FileRegistry) -> Model {
    registry.engine().model_snapshot().unwrap()
}

/// Touches every kind of state: records, events (keyed, wake, terminal), acks, external refs,
/// grants, transfers, a deleted session and leases (claimed, renewed, released, superseded).
pub async fn populate(registry: &dyn ProcessRegistry, clock: &ManualClock) {
    let s1 = ProcessScope::session("s1");
    let s2 = ProcessScope::frame("s2", "f1");
    for id in ["p1", "p2", "p3"] {
        registry
            .register_process(registration(id, "s1"))
            .await
            .unwrap();
        let d = ProcessHandleDescriptor::labelled(id);
        registry.grant_handle(&s1, id, d).await.unwrap();
    }
    registry
        .append_event("p1", note(1).with_replay_key("k1"))
        .await
        .unwrap();
    registry
        .append_event("p1", ping("hello", &s1))
        .await
        .unwrap();
    registry
        .append_event("p1", ping("again", &s2))
        .await
        .unwrap();
    registry.ack_wake("p1", 2).await.unwrap();
    let ext = procreg::ProcessExternalRef {
        backend: "queue".into(),
        id: "job-9".into(),
        metadata: Some(json!({ "shard": 3 })),
    };
    registry.set_external_ref("p2", ext).await.unwrap();
    clock.advance(10);
    registry.complete_process("p2", success(42)).await.unwrap();
    let moved = vec!["p3".to_owned()];
    registry
        .transfer_handle_grants(&s1, &s2, &moved)
        .await
        .unwrap();
    let lease = registry.claim_process_lease("p1", "w1", 100).await.unwrap();
    registry.renew_process_lease(&lease, 500).await.unwrap();
    let old = registry.claim_process_lease("p3", "w1", 100).await.unwrap();
    registry
        .complete_process_lease(&old.completion())
        .await
        .unwrap();
    registry.claim_process_lease("p3", "w2", 100).await.unwrap();
    registry.delete_session_process_state("s2").await.unwrap();
}

/// A [`DirStorage`] that counts syncs and fails appends and syncs while `failing` is set.
#[derive(Debug)]
pub struct CountingStorage {
    pub inner: DirStorage,
    pub syncs: AtomicUsize,
    pub failing: AtomicBool,
}

impl CountingStorage {
    pub fn new(dir: &Path) -> Arc<Self> {
        Arc::new(Self {
            inner: DirStorage::new(dir).unwrap(),
            syncs: AtomicUsize::new(0),
            failing: AtomicBool::new(false),
        })
    }

    pub fn syncs(&self) -> usize {
        self.syncs.load(Ordering::SeqCst)
    }

    fn fault(&self, action: &'static str, name: &str) -> Result<(), StorageError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(StorageError::Injected {
                action,
                name: name.to_owned(),
            });
        }
        Ok(())
    }
}

impl Storage for CountingStorage {
    fn append(&self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        self.fault("append", name)?;
        self.inner.append(name, bytes)
    }
    fn sync(&self, name: &str) -> Result<(), StorageError> {
        self.syncs.fetch_add(1, Ordering::SeqCst);
        // Widen the window in which other threads queue behind this sync, without sleeping.
        for _ in 0..8 {
            std::thread::yield_now();
        }
        self.fault("sync", name)?;
        self.inner.sync(name)
    }
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.read(name)
    }
    fn replace(&self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        self.fault("replace", name)?;
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
