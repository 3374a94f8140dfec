//! `TailDedupe`: a registry that keeps keyed appends idempotent itself, over a store that
//! never sees a repeated key — each new keyed event is stored under `<key>~seq<n>` (unique),
//! and reads put the caller's key back.
//!
//! Why it exists: E2 says a replay key maps to one sequence however late the retry comes.
//! With `bug: false` the wrapper looks for the key in the process's whole log (the fix); with
//! the bug it looks only at the LAST event — a cheap dedupe that handles the common case (a
//! client retrying straight away) and fails once another append lands between the original
//! and its retry or link duplicate. Law runs append one call at a time and retry at once, so
//! only the explorer's `events` workload (racing writers, lost answers, duplicated requests)
//! makes the gap.

use std::sync::Arc;

use async_trait::async_trait;
use procreg::canonical::json_eq;
use procreg::validate::{has_forbidden_char, is_blank};
use procreg::{
    PluginError, ProcessEvent, ProcessEventAppendRequest, ProcessEventAppendResult,
    ProcessRegistry, ProcessWakeDelivery, SharedClock, terminal_replay_key,
};
use procreg_reference::MemoryRegistry;
use procreg_sim::SimTarget;
use procreg_sim::rng::SimRng;

use super::forward::forwarding_impl;

/// What the wrapper appends to a key so the store never sees it twice.
const SUFFIX: &str = "~seq";

/// How far back a keyed append looks for an earlier use of its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookback {
    /// The whole log (E2, the fix).
    WholeLog,
    /// Only the last event (the bug).
    LastEvent,
    /// Only events that occurred in the last `n` ms (the bug).
    RecentMs(u64),
}

/// See the module docs.
pub struct TailDedupe {
    inner: MemoryRegistry,
    clock: SharedClock,
    lookback: Lookback,
}

/// The caller's key of a stored key, and whether the wrapper suffixed it.
fn caller_key(stored: &str) -> (&str, bool) {
    match stored.rsplit_once(SUFFIX) {
        Some((key, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => (key, true),
        _ => (stored, false),
    }
}

fn restore(mut event: ProcessEvent) -> ProcessEvent {
    if let Some(stored) = event.replay_key.take() {
        event.replay_key = Some(caller_key(&stored).0.to_owned());
    }
    event
}

impl TailDedupe {
    pub fn new(clock: SharedClock, lookback: Lookback) -> Self {
        Self {
            inner: MemoryRegistry::new(clock.clone()),
            clock,
            lookback,
        }
    }

    /// The tail of `log` this wrapper compares a key with.
    fn window<'a>(&self, log: &'a [ProcessEvent]) -> &'a [ProcessEvent] {
        match self.lookback {
            Lookback::WholeLog => log,
            Lookback::LastEvent => &log[log.len().saturating_sub(1)..],
            Lookback::RecentMs(ms) => {
                let since = self.clock.now_ms().saturating_sub(ms);
                &log[log.partition_point(|e| e.occurred_at_ms < since)..]
            }
        }
    }

    async fn forward_append(
        &self,
        process_id: &str,
        request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        let mut result = self.inner.append_event(process_id, request).await?;
        result.event = restore(result.event);
        Ok(result)
    }

    async fn keyed_append(
        &self,
        process_id: &str,
        request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        let key = request.replay_key.clone().filter(|k| !is_blank(k));
        let Some(key) = key.filter(|k| *k != terminal_replay_key(process_id)) else {
            return self.forward_append(process_id, request).await;
        };
        let Ok(log) = self.inner.events_after(process_id, 0).await else {
            return self.forward_append(process_id, request).await; // UnknownProcess
        };
        // BUG (unless WholeLog): only the window is compared with the key.
        let earlier = self.window(&log).iter().find(|e| {
            e.replay_key
                .as_deref()
                .is_some_and(|stored| caller_key(stored).0 == key)
        });
        if let Some(earlier) = earlier {
            return replay(&key, earlier, &request);
        }
        let record = self.inner.get_process(process_id).await?;
        let store_checks = record.is_none_or(|r| {
            r.event_type(&request.event_type)
                .is_none_or(|t| t.terminal.is_some())
        }) || request.event_type.starts_with("process.")
            || has_forbidden_char(&key);
        if store_checks {
            return self.forward_append(process_id, request).await; // the store checks these
        }
        let next = log.last().map_or(1, |e| e.sequence + 1);
        let unique = ProcessEventAppendRequest {
            replay_key: Some(format!("{key}{SUFFIX}{next}")),
            ..request
        };
        self.forward_append(process_id, unique).await
    }
}

/// E2: the stored event again, or `ReplayConflict` for another (type, payload).
fn replay(
    key: &str,
    earlier: &ProcessEvent,
    request: &ProcessEventAppendRequest,
) -> Result<ProcessEventAppendResult, PluginError> {
    if earlier.event_type != request.event_type || !json_eq(&earlier.payload, &request.payload) {
        return Err(PluginError::ReplayConflict {
            process_id: earlier.process_id.clone(),
            replay_key: key.to_owned(),
        });
    }
    let event = restore(earlier.clone());
    Ok(ProcessEventAppendResult {
        wake_delivery: ProcessWakeDelivery::from_event(&event),
        event,
        replayed: true,
    })
}

forwarding_impl!(
    TailDedupe;
    [
        register_process,
        get_process,
        set_external_ref,
        ack_wake,
        complete_process,
        await_process,
        grant_handle,
        revoke_handle,
        list_handle_grants,
        handle_grants_for_process,
        transfer_handle_grants,
        delete_session_process_state,
        claim_process_lease,
        renew_process_lease,
        complete_process_lease,
        list_non_terminal,
    ];

    async fn append_event(
        &self,
        process_id: &str,
        request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        self.keyed_append(process_id, request).await
    }

    async fn events_after(
        &self,
        process_id: &str,
        after_sequence: u64,
    ) -> Result<Vec<ProcessEvent>, PluginError> {
        let events = self.inner.events_after(process_id, after_sequence).await?;
        Ok(events.into_iter().map(restore).collect())
    }

    async fn wake_events_after(
        &self,
        process_id: &str,
        after_sequence: u64,
    ) -> Result<Vec<ProcessEvent>, PluginError> {
        let events = self
            .inner
            .wake_events_after(process_id, after_sequence)
            .await?;
        Ok(events.into_iter().map(restore).collect())
    }

    async fn wait_event_after(
        &self,
        process_id: &str,
        event_type: &str,
        after_sequence: u64,
    ) -> Result<ProcessEvent, PluginError> {
        let event = self
            .inner
            .wait_event_after(process_id, event_type, after_sequence)
            .await?;
        Ok(restore(event))
    }
);

/// [`TailDedupe`] as a sim target (Inline: never crashed by the world).
pub struct TailDedupeTarget(pub Lookback);

#[async_trait(?Send)]
impl SimTarget for TailDedupeTarget {
    fn name(&self) -> String {
        format!("dedupe-{:?}", self.0)
    }

    fn durable(&self) -> bool {
        false
    }

    async fn open(&mut self, clock: SharedClock) -> Result<Arc<dyn ProcessRegistry>, PluginError> {
        Ok(Arc::new(TailDedupe::new(clock, self.0)))
    }

    async fn crash_and_reopen(
        &mut self,
        old: Arc<dyn ProcessRegistry>,
        clock: SharedClock,
        _rng: &mut SimRng,
    ) -> Result<Arc<dyn ProcessRegistry>, PluginError> {
        drop(old);
        self.open(clock).await
    }
}
