//! Event-log bugs (E2, E6, E9, E11-E14): replays that append or lie, off-by-one reads, wakes
//! that never stop pending, waits that return the wrong thing.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use procreg::Clock;
use procreg::validate::is_blank;
use procreg::{
    EVENT_CANCEL_REQUESTED, ErrorKind, PluginError, ProcessEvent, ProcessEventAppendRequest,
    ProcessEventAppendResult, ProcessExternalRef, ProcessRecord, ProcessRegistration,
};

use super::{Base, Broken, Twist, wrap};
use procreg::ProcessRegistry;

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
        name: "events::events_after_unknown_is_empty",
        bug: "E11: events_after on an unknown process returns an empty list (the query found no rows)",
        make: |clock| wrap(clock, EventsAfterUnknownIsEmpty),
    },
    Broken {
        name: "events::cancel_request_needs_no_key",
        bug: "E4: only terminal types require a replay key; a cancel request without one is appended",
        make: |clock| wrap(clock, CancelRequestNeedsNoKey::default()),
    },
    Broken {
        name: "events::append_leaves_updated_at",
        bug: "E8/R7: appending an event does not set the record's updated_at_ms",
        make: |clock| wrap(clock, AppendLeavesUpdatedAt::default()),
    },
    Broken {
        name: "events::type_names_collated",
        bug: "E3: event type names are matched under a case-insensitive, pad-space collation, so `NOTE` and `note ` append as `note`",
        make: |clock| wrap(clock, TypeNamesCollated),
    },
    Broken {
        name: "events::occurred_at_from_wall_clock",
        bug: "T2/E8: events are stamped with the database's wall clock (now()) instead of the injected clock",
        make: |clock| wrap(clock, OccurredAtFromWallClock),
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

/// `updated_at_ms` as registration and external refs left it, by process id.
#[derive(Default)]
struct AppendLeavesUpdatedAt {
    stamped: Mutex<BTreeMap<String, u64>>,
}

impl AppendLeavesUpdatedAt {
    fn stamp(&self, record: &ProcessRecord) {
        let mut stamped = self.stamped.lock().unwrap();
        stamped.insert(record.id.clone(), record.updated_at_ms);
    }
}

#[async_trait]
impl Twist for AppendLeavesUpdatedAt {
    async fn register_process(
        &self,
        base: &Base,
        registration: ProcessRegistration,
    ) -> Result<ProcessRecord, PluginError> {
        let existed = base.record(&registration.id).await.is_some();
        let record = base.inner.register_process(registration).await?;
        if !existed {
            self.stamp(&record);
        }
        Ok(record)
    }

    async fn set_external_ref(
        &self,
        base: &Base,
        process_id: &str,
        external_ref: ProcessExternalRef,
    ) -> Result<ProcessRecord, PluginError> {
        let had_ref = base
            .record(process_id)
            .await
            .is_some_and(|r| r.external_ref.is_some());
        let record = base
            .inner
            .set_external_ref(process_id, external_ref)
            .await?;
        if !had_ref {
            self.stamp(&record);
        }
        Ok(record)
    }

    async fn get_process(
        &self,
        base: &Base,
        process_id: &str,
    ) -> Result<Option<ProcessRecord>, PluginError> {
        let mut record = base.inner.get_process(process_id).await?;
        if let Some(record) = record.as_mut()
            && let Some(at) = self.stamped.lock().unwrap().get(process_id)
        {
            record.updated_at_ms = *at;
        }
        Ok(record)
    }
}

struct TypeNamesCollated;

/// Equal under a case-insensitive, pad-space collation.
fn collated_eq(a: &str, b: &str) -> bool {
    a.trim_end_matches(' ').to_lowercase() == b.trim_end_matches(' ').to_lowercase()
}

#[async_trait]
impl Twist for TypeNamesCollated {
    async fn append_event(
        &self,
        base: &Base,
        process_id: &str,
        request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        let answer = base.inner.append_event(process_id, request.clone()).await;
        match answer {
            Err(e) if e.kind() == ErrorKind::UndeclaredEventType => {
                let record = base.record(process_id).await.ok_or(e.clone())?;
                let declared = record
                    .event_types
                    .iter()
                    .find(|t| collated_eq(&t.name, &request.event_type))
                    .ok_or(e)?;
                let mut renamed = request;
                renamed.event_type = declared.name.clone();
                base.inner.append_event(process_id, renamed).await
            }
            other => other,
        }
    }
}

struct OccurredAtFromWallClock;

fn wall_clock_ms() -> u64 {
    procreg::SystemClock::new().now_ms()
}

#[async_trait]
impl Twist for OccurredAtFromWallClock {
    async fn append_event(
        &self,
        base: &Base,
        process_id: &str,
        request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        let mut result = base.inner.append_event(process_id, request).await?;
        if !result.replayed {
            result.event.occurred_at_ms = wall_clock_ms();
        }
        Ok(result)
    }
}
