//! Wait bugs (E14): waits that return the wrong event, look only once, hang on errors, or
//! consume what they return so other waiters never see it.

use std::collections::BTreeSet;
use std::sync::Mutex;

use async_trait::async_trait;
use procreg::{ErrorKind, PluginError, ProcessEvent, ProcessRegistry};

use super::{Base, Broken, Twist, wrap};

pub const BROKEN: &[Broken] = &[
    Broken {
        name: "waits::wait_returns_any_type",
        bug: "E14: wait_event_after returns the next event whatever its type",
        make: |clock| wrap(clock, WaitReturnsAnyType),
    },
    Broken {
        name: "waits::wait_on_undeclared_type_hangs",
        bug: "E14/P1: wait_event_after on an undeclared type waits forever instead of UndeclaredEventType",
        make: |clock| wrap(clock, WaitOnUndeclaredTypeHangs),
    },
    Broken {
        name: "waits::wait_looks_once",
        bug: "E14: wait_event_after looks once and, finding nothing, waits on a notification nobody sends",
        make: |clock| wrap(clock, WaitLooksOnce),
    },
    Broken {
        name: "waits::wait_consumes_event",
        bug: "E14: a wait claims the event it returns (queue semantics), so no later wait returns it again",
        make: |clock| wrap(clock, WaitConsumesEvent::default()),
    },
];

struct WaitReturnsAnyType;

#[async_trait]
impl Twist for WaitReturnsAnyType {
    async fn wait_event_after(
        &self,
        base: &Base,
        process_id: &str,
        event_type: &str,
        after: u64,
    ) -> Result<ProcessEvent, PluginError> {
        let events = base.inner.events_after(process_id, after).await?;
        if let Some(first) = events.into_iter().next() {
            return Ok(first);
        }
        base.inner
            .wait_event_after(process_id, event_type, after)
            .await
    }
}

struct WaitOnUndeclaredTypeHangs;

#[async_trait]
impl Twist for WaitOnUndeclaredTypeHangs {
    async fn wait_event_after(
        &self,
        base: &Base,
        process_id: &str,
        event_type: &str,
        after: u64,
    ) -> Result<ProcessEvent, PluginError> {
        match base
            .inner
            .wait_event_after(process_id, event_type, after)
            .await
        {
            Err(e) if e.kind() == ErrorKind::UndeclaredEventType => std::future::pending().await,
            other => other,
        }
    }
}

struct WaitLooksOnce;

#[async_trait]
impl Twist for WaitLooksOnce {
    async fn wait_event_after(
        &self,
        base: &Base,
        process_id: &str,
        event_type: &str,
        after: u64,
    ) -> Result<ProcessEvent, PluginError> {
        let events = base.inner.events_after(process_id, after).await?;
        if let Some(found) = events.into_iter().find(|e| e.event_type == event_type) {
            return Ok(found);
        }
        // Errors (undeclared type) still come at once.
        base.record(process_id)
            .await
            .filter(|r| r.event_type(event_type).is_some())
            .ok_or_else(|| PluginError::UndeclaredEventType {
                process_id: process_id.to_owned(),
                event_type: event_type.to_owned(),
            })?;
        std::future::pending().await
    }
}

/// (process id, sequence) of the events some wait has returned.
#[derive(Default)]
struct WaitConsumesEvent {
    claimed: Mutex<BTreeSet<(String, u64)>>,
}

#[async_trait]
impl Twist for WaitConsumesEvent {
    async fn wait_event_after(
        &self,
        base: &Base,
        process_id: &str,
        event_type: &str,
        after: u64,
    ) -> Result<ProcessEvent, PluginError> {
        let mut cursor = after;
        loop {
            let event = base
                .inner
                .wait_event_after(process_id, event_type, cursor)
                .await?;
            let key = (process_id.to_owned(), event.sequence);
            if self.claimed.lock().unwrap().insert(key) {
                return Ok(event);
            }
            cursor = event.sequence;
        }
    }
}
