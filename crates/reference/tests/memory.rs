//! MemoryRegistry through the trait: clock use (T1), waits woken by appends (E14, C4), no lost
//! wake-up, dropped waits, and what a poisoned journal does to an engine (A2, Z).

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use procreg::{
    DurabilityTier, ErrorKind, ManualClock, ProcessAwaitOutput, ProcessEventAppendRequest,
    ProcessEventType, ProcessRegistration, ProcessRegistry, ProcessScope,
};
use procreg_reference::MemoryRegistry;
use serde_json::json;

fn registry(clock: &ManualClock) -> MemoryRegistry {
    MemoryRegistry::new(Arc::new(clock.clone()))
}

fn registration(id: &str) -> ProcessRegistration {
    ProcessRegistration::new(id, ProcessScope::session("s"), "host")
        .with_event_type(ProcessEventType::plain("tick"))
}

fn tick(n: u64) -> ProcessEventAppendRequest {
    ProcessEventAppendRequest::new("tick", json!(n))
}

/// A waker that remembers it was woken.
#[derive(Default)]
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

#[test]
fn t1_timestamps_come_from_the_injected_clock() {
    let clock = ManualClock::new(1_000);
    let registry = registry(&clock);
    runtime().block_on(async {
        let record = registry.register_process(registration("p")).await.unwrap();
        assert_eq!(record.created_at_ms, 1_000);
        clock.advance(250);
        let event = registry.append_event("p", tick(1)).await.unwrap().event;
        assert_eq!(event.occurred_at_ms, 1_250);
        let lease = registry.claim_process_lease("p", "w", 100).await.unwrap();
        assert_eq!(lease.expires_at_ms, 1_350);
        clock.advance(100);
        let err = registry.renew_process_lease(&lease, 100).await.unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::LeaseLost,
            "V1: expiry == now is expired"
        );
        assert_eq!(registry.durability_tier(), DurabilityTier::Inline);
    });
}

#[test]
fn e14_wait_is_woken_by_an_append_from_another_task() {
    let clock = ManualClock::new(0);
    let registry = registry(&clock);
    runtime().block_on(async {
        registry.register_process(registration("p")).await.unwrap();
        let waiter = registry.wait_event_after("p", "tick", 1);
        let appender = async {
            for n in 1..=3 {
                tokio::task::yield_now().await;
                registry.append_event("p", tick(n)).await.unwrap();
            }
        };
        let (event, ()) = tokio::join!(waiter, appender);
        assert_eq!(event.unwrap().sequence, 2);
    });
}

#[test]
fn e14_no_lost_wake_up_between_check_and_sleep() {
    let clock = ManualClock::new(0);
    let registry = registry(&clock);
    let rt = runtime();
    rt.block_on(registry.register_process(registration("p")))
        .unwrap();
    let flag = Arc::new(Flag::default());
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    let mut wait = pin!(registry.wait_event_after("p", "tick", 0));
    assert!(wait.as_mut().poll(&mut cx).is_pending());
    rt.block_on(registry.append_event("p", tick(7))).unwrap();
    assert!(
        flag.0.load(Ordering::SeqCst),
        "the append must wake the waiter"
    );
    match wait.as_mut().poll(&mut cx) {
        Poll::Ready(Ok(event)) => assert_eq!(event.payload, json!(7)),
        other => panic!("expected the appended event, got {other:?}"),
    }
}

#[test]
fn e14_dropping_a_wait_has_no_effect_on_the_registry() {
    let clock = ManualClock::new(0);
    let registry = registry(&clock);
    let rt = runtime();
    rt.block_on(registry.register_process(registration("p")))
        .unwrap();
    let waker = Waker::noop();
    let mut cx = Context::from_waker(waker);
    {
        let mut dropped = pin!(registry.wait_event_after("p", "tick", 0));
        assert!(dropped.as_mut().poll(&mut cx).is_pending());
    }
    rt.block_on(async {
        let waiter = registry.wait_event_after("p", "tick", 0);
        let appender = async {
            tokio::task::yield_now().await;
            registry.append_event("p", tick(1)).await.unwrap();
        };
        let (event, ()) = tokio::join!(waiter, appender);
        assert_eq!(event.unwrap().sequence, 1);
        assert_eq!(registry.events_after("p", 0).await.unwrap().len(), 1);
    });
}

#[test]
fn e14_waits_fail_at_once_on_unknown_process_or_undeclared_type() {
    let clock = ManualClock::new(0);
    let registry = registry(&clock);
    runtime().block_on(async {
        registry.register_process(registration("p")).await.unwrap();
        let err = registry.wait_event_after("q", "tick", 0).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnknownProcess);
        let err = registry.wait_event_after("p", "nope", 0).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UndeclaredEventType);
        let err = registry.await_process("q").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnknownProcess);
    });
}

#[test]
fn c4_await_process_is_woken_by_completion() {
    let clock = ManualClock::new(0);
    let registry = registry(&clock);
    runtime().block_on(async {
        registry.register_process(registration("p")).await.unwrap();
        let out = ProcessAwaitOutput::Success {
            value: json!("done"),
        };
        let completer = async {
            tokio::task::yield_now().await;
            registry.append_event("p", tick(1)).await.unwrap();
            tokio::task::yield_now().await;
            registry.complete_process("p", out.clone()).await.unwrap();
        };
        let (awaited, ()) = tokio::join!(registry.await_process("p"), completer);
        assert_eq!(awaited.unwrap(), out);
        assert_eq!(registry.await_process("p").await.unwrap(), out);
    });
}
