//! Event-log bugs (E2, E6, E9, E11-E14): replays that append or lie, off-by-one reads, wakes
//! that never stop pending, waits that return the wrong thing.

use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use procreg::validate::is_blank;
use procreg::{
    EVENT_CANCEL_REQUESTED, ErrorKind, PluginError, ProcessEvent, ProcessEventAppendRequest,
    ProcessEventAppendResult,
};

use procreg::ProcessRegistry;
use super::{Base, Broken, Twist, wrap};

pub const BROKEN: &[Broken] = &[
    Broken {
        name: "events::replay_key_ignored",
        bug: "E2: replay keys of plain events are not looked up, so a retried keyed append appends again",
        make: |clock| wrap(clock, ReplayKeyIgnored),
    },
    Broken {
        name: "events::replay_reports_fresh_append",
        bug: "E2: a replayed append returns the stored event but says replayed: false",
        make: |clock| wrap(clock, ReplayReportsFreshAppend),
    },
    Broken {
        name: "events::replay_restamps_time",
        bug: "E2: a replayed append returns the stored event stamped with the replay's time",
        make: |clock| wrap(clock, ReplayRestampsTime),
    },
    Broken {
        name: "events::events_after_inclusive",
        bug: "E11: events_after uses `sequence >= n` instead of `sequence > n`",
        make: |clock| wrap(clock, EventsAfterInclusive),
    },
    Broken {
        name: "events::wait_returns_any_type",
        bug: "E14: wait_event_after returns the next event whatever its type",
        make: |clock| wrap(clock, WaitReturnsAnyType),
    },
    Broken {
        name: "events::terminal_process_refuses_every_append",
        bug: "E6: every new append on a terminal process is AlreadyTerminal, so a late cancel request is refused",
        make: |clock| wrap(clock, TerminalProcessRefusesEveryAppend),
    },
    Broken {
        name: "events::events_after_unknown_is_empty",
        bug: "E11: events_after on an unknown process returns an empty list (the query found no rows)",
        make: |clock| wrap(clock, EventsAfterUnknownIsEmpty),
    },
    Broken {
        name: "events::wait_on_undeclared_type_hangs",
        bug: "E14/P1: wait_event_after on an undeclared type waits forever instead of UndeclaredEventType",
        make: |clock| wrap(clock, WaitOnUndeclaredTypeHangs),
    },
    Broken {
        name: "events::cancel_request_needs_no_key",
        bug: "E4: only terminal types require a replay key; a cancel request without one is appended",
        make: |clock| wrap(clock, CancelRequestNeedsNoKey::default()),
    },
];

struct ReplayKeyIgnored;

#[async_trait]
impl Twist for ReplayKeyIgnored {
    async fn append_event(
        &self,
        base: &Base,
        process_id: &str,
        mut request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        let plain = base.record(process_id).await.is_some_and(|r| {
            r.event_type(&request.event_type)
                .is_some_and(|t| t.terminal.is_none() && t.name != EVENT_CANCEL_REQUESTED)
        });
        if plain {
            request.replay_key = None;
        }
        base.inner.append_event(process_id, request).await
    }
}

struct ReplayReportsFreshAppend;

#[async_trait]
impl Twist for ReplayReportsFreshAppend {
    async fn append_event(
        &self,
        base: &Base,
        process_id: &str,
        request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        let mut result = base.inner.append_event(process_id, request).await?;
        result.replayed = false;
        Ok(result)
    }
}

struct ReplayRestampsTime;

#[async_trait]
impl Twist for ReplayRestampsTime {
    async fn append_event(
        &self,
        base: &Base,
        process_id: &str,
        request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        let mut result = base.inner.append_event(process_id, request).await?;
        if result.replayed {
            result.event.occurred_at_ms = base.now();
            if let Some(delivery) = result.wake_delivery.as_mut() {
                delivery.created_at_ms = base.now();
            }
        }
        Ok(result)
    }
}

struct EventsAfterInclusive;

#[async_trait]
impl Twist for EventsAfterInclusive {
    async fn events_after(
        &self,
        base: &Base,
        process_id: &str,
        after: u64,
    ) -> Result<Vec<ProcessEvent>, PluginError> {
        base.inner
            .events_after(process_id, after.saturating_sub(1))
            .await
    }
}

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

struct TerminalProcessRefusesEveryAppend;

#[async_trait]
impl Twist for TerminalProcessRefusesEveryAppend {
    async fn append_event(
        &self,
        base: &Base,
        process_id: &str,
        request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        let terminal = base.record(process_id).await.is_some_and(|r| r.is_terminal());
        let key = request.replay_key.clone();
        let is_replay = key.is_some_and(|key| {
            base.model()
                .events(process_id)
                .iter()
                .any(|e| e.replay_key.as_deref() == Some(key.as_str()))
        });
        if terminal && !is_replay {
            return Err(PluginError::AlreadyTerminal {
                process_id: process_id.to_owned(),
            });
        }
        base.inner.append_event(process_id, request).await
    }
}

struct EventsAfterUnknownIsEmpty;

#[async_trait]
impl Twist for EventsAfterUnknownIsEmpty {
    async fn events_after(
        &self,
        base: &Base,
        process_id: &str,
        after: u64,
    ) -> Result<Vec<ProcessEvent>, PluginError> {
        match base.inner.events_after(process_id, after).await {
            Err(e) if e.kind() == ErrorKind::UnknownProcess => Ok(Vec::new()),
            other => other,
        }
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
        match base.inner.wait_event_after(process_id, event_type, after).await {
            Err(e) if e.kind() == ErrorKind::UndeclaredEventType => std::future::pending().await,
            other => other,
        }
    }
}

/// Keys made up for unkeyed cancel requests (the caller never sees them).
#[derive(Default)]
struct CancelRequestNeedsNoKey {
    made_up: AtomicU64,
}

#[async_trait]
impl Twist for CancelRequestNeedsNoKey {
    async fn append_event(
        &self,
        base: &Base,
        process_id: &str,
        mut request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        let unkeyed = request.replay_key.as_deref().is_none_or(is_blank);
        if request.event_type != EVENT_CANCEL_REQUESTED || !unkeyed {
            return base.inner.append_event(process_id, request).await;
        }
        let n = self.made_up.fetch_add(1, Ordering::Relaxed);
        request.replay_key = Some(format!("unkeyed-cancel-{n}"));
        let mut result = base.inner.append_event(process_id, request).await?;
        result.event.replay_key = None;
        Ok(result)
    }
}
