//! The engine's contract with its journal (A2, Z): a failed `make_durable` reports
//! `Unavailable` to the call that waited on it, and every later call, reads and waits
//! included, gets `Storage`.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

use procreg::{
    DurabilityTier, ErrorKind, ManualClock, PluginError, ProcessEventAppendRequest,
    ProcessEventType, ProcessRegistration, ProcessRegistry, ProcessScope,
};
use procreg_reference::{Engine, Journal, Model, Op};
use serde_json::json;

/// A journal that records what it is given and fails its next sync when told to.
#[derive(Default)]
struct TestJournal {
    fail_next_sync: AtomicBool,
    poisoned: AtomicBool,
    tickets: AtomicU64,
    recorded: Mutex<Vec<(String, u64, u64)>>,
}

impl Journal for TestJournal {
    fn durability_tier(&self) -> DurabilityTier {
        DurabilityTier::Durable
    }

    fn writable(&self) -> Result<(), PluginError> {
        if self.poisoned.load(Ordering::SeqCst) {
            Err(PluginError::storage("poisoned"))
        } else {
            Ok(())
        }
    }

    fn record(&self, op: &Op, now_ms: u64, model: &Model) -> u64 {
        let entry = (op.method_name().to_owned(), now_ms, model.revision());
        self.recorded.lock().unwrap().push(entry);
        self.tickets.fetch_add(1, Ordering::SeqCst) + 1
    }

    fn last_ticket(&self) -> u64 {
        self.tickets.load(Ordering::SeqCst)
    }

    fn make_durable(&self, _ticket: u64) -> Result<(), PluginError> {
        if self.fail_next_sync.swap(false, Ordering::SeqCst) {
            self.poisoned.store(true, Ordering::SeqCst);
            return Err(PluginError::storage("fsync failed"));
        }
        self.writable()
    }
}

fn engine() -> Engine<TestJournal> {
    let clock = Arc::new(ManualClock::new(5));
    Engine::new(Model::new(), TestJournal::default(), clock)
}

fn registration(id: &str) -> ProcessRegistration {
    ProcessRegistration::new(id, ProcessScope::session("s"), "host")
        .with_event_type(ProcessEventType::plain("tick"))
}

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

#[test]
fn d1_engine_reports_its_journal_tier() {
    assert_eq!(engine().durability_tier(), DurabilityTier::Durable);
}

#[test]
fn journal_records_only_state_changes_in_apply_order() {
    let engine = engine();
    block_on(async {
        engine.register_process(registration("p")).await.unwrap();
        engine.register_process(registration("p")).await.unwrap(); // R4: no change
        engine
            .revoke_handle(&ProcessScope::session("s"), "p")
            .await
            .unwrap(); // H2: no change
        engine.get_process("p").await.unwrap();
        let bad = ProcessEventAppendRequest::new("nope", json!(1));
        assert!(engine.append_event("p", bad,).await.is_err());
        let tick = ProcessEventAppendRequest::new("tick", json!(1));
        engine.append_event("p", tick).await.unwrap();
    });
    let recorded = engine.journal().recorded.lock().unwrap().clone();
    let expected = [("register_process", 5, 1), ("append_event", 5, 2)];
    let expected: Vec<_> = expected
        .iter()
        .map(|(m, n, r)| (m.to_string(), *n, *r))
        .collect();
    assert_eq!(recorded, expected);
}

#[test]
fn a2_failed_sync_is_unavailable_then_storage_for_every_call() {
    let engine = engine();
    block_on(async {
        engine.register_process(registration("p")).await.unwrap();
        engine
            .journal()
            .fail_next_sync
            .store(true, Ordering::SeqCst);
        let tick = ProcessEventAppendRequest::new("tick", json!(1));
        let err = engine.append_event("p", tick.clone()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        let err = engine.append_event("p", tick).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Storage);
        let err = engine.get_process("p").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Storage, "Z: reads refuse too");
        let err = engine.wait_event_after("p", "tick", 0).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Storage);
    });
}

#[test]
fn a2_blocked_waiter_is_released_by_a_failed_sync() {
    let engine = engine();
    block_on(engine.register_process(registration("p"))).unwrap();
    let mut cx = Context::from_waker(Waker::noop());
    let mut wait = pin!(engine.wait_event_after("p", "tick", 0));
    assert!(wait.as_mut().poll(&mut cx).is_pending());
    engine
        .journal()
        .fail_next_sync
        .store(true, Ordering::SeqCst);
    let tick = ProcessEventAppendRequest::new("tick", json!(1));
    let err = block_on(engine.append_event("p", tick)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    match wait.as_mut().poll(&mut cx) {
        Poll::Ready(Err(err)) => assert_eq!(err.kind(), ErrorKind::Storage),
        other => panic!("the waiter must not see unsynced state: {other:?}"),
    }
}
