//! `Racy`'s replay-key table (E2) and its piecewise transfer (H7).
//!
//! Replay keys of non-terminal events live here, not in the store: a keyed append checks the
//! table, appends without the key, then records it; reads put the key back on the events.

use std::collections::BTreeMap;

use procreg::canonical::json_eq;
use procreg::validate::{has_forbidden_char, is_blank};
use procreg::{
    PluginError, ProcessEvent, ProcessEventAppendRequest, ProcessEventAppendResult,
    ProcessRegistry, ProcessScope, ProcessWakeDelivery, terminal_replay_key,
};

use super::racy::{Bug, Racy, yield_now};

/// (process, key) -> (sequence, event type, payload); (process, sequence) -> key.
#[derive(Debug, Default)]
pub struct KeyTable {
    by_key: BTreeMap<(String, String), (u64, String, serde_json::Value)>,
    by_sequence: BTreeMap<(String, u64), String>,
}

impl Racy {
    /// Puts the table's replay keys back on events read from the store.
    pub(super) fn with_keys(&self, mut events: Vec<ProcessEvent>) -> Vec<ProcessEvent> {
        let keys = self.keys.lock().unwrap();
        for event in &mut events {
            if let Some(key) = keys
                .by_sequence
                .get(&(event.process_id.clone(), event.sequence))
            {
                event.replay_key = Some(key.clone());
            }
        }
        events
    }

    fn replay(
        &self,
        process_id: &str,
        key: &str,
        request: &ProcessEventAppendRequest,
    ) -> Option<Result<u64, PluginError>> {
        let keys = self.keys.lock().unwrap();
        let (sequence, event_type, payload) =
            keys.by_key.get(&(process_id.to_owned(), key.to_owned()))?;
        Some(
            if *event_type == request.event_type && json_eq(payload, &request.payload) {
                Ok(*sequence)
            } else {
                Err(PluginError::ReplayConflict {
                    process_id: process_id.to_owned(),
                    replay_key: key.to_owned(),
                })
            },
        )
    }

    async fn forward(
        &self,
        process_id: &str,
        request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        let result = self.inner.append_event(process_id, request).await?;
        if !result.replayed {
            self.announce(&result.event);
        }
        Ok(result)
    }

    pub(super) async fn keyed_append(
        &self,
        process_id: &str,
        request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        let key = request.replay_key.clone().filter(|k| !is_blank(k));
        let Some(key) = key.filter(|k| *k != terminal_replay_key(process_id)) else {
            return self.forward(process_id, request).await;
        };
        if let Some(replayed) = self.replay(process_id, &key, &request) {
            let sequence = replayed?; // E2 comes before every other check
            let event = self.events_after(process_id, sequence - 1).await?.remove(0);
            let wake_delivery = ProcessWakeDelivery::from_event(&event);
            return Ok(ProcessEventAppendResult {
                event,
                wake_delivery,
                replayed: true,
            });
        }
        let Some(record) = self.inner.get_process(process_id).await? else {
            return self.forward(process_id, request).await; // UnknownProcess
        };
        // Terminal, core and undeclared types, and keys the store must reject, stay the store's.
        let store_checks = record
            .event_type(&request.event_type)
            .is_none_or(|t| t.terminal.is_some())
            || request.event_type.starts_with("process.")
            || has_forbidden_char(&key);
        let in_store = self
            .inner
            .events_after(process_id, 0)
            .await?
            .iter()
            .any(|e| e.replay_key.as_ref() == Some(&key));
        if store_checks || in_store {
            return self.forward(process_id, request).await; // the store checks these itself
        }
        if self.bug == Bug::ReplayRace {
            yield_now().await; // BUG: a concurrent append with this key can pass the check too
        }
        let plain = ProcessEventAppendRequest {
            replay_key: None,
            ..request.clone()
        };
        let mut result = self.inner.append_event(process_id, plain).await?;
        let mut keys = self.keys.lock().unwrap();
        let sequence = result.event.sequence;
        keys.by_key.insert(
            (process_id.to_owned(), key.clone()),
            (sequence, request.event_type, request.payload),
        );
        keys.by_sequence
            .insert((process_id.to_owned(), sequence), key.clone());
        drop(keys);
        result.event.replay_key = Some(key);
        self.announce(&result.event);
        Ok(result)
    }

    /// Checks every grant, then moves them one call at a time.
    pub(super) async fn transfer(
        &self,
        from: &ProcessScope,
        to: &ProcessScope,
        ids: &[String],
    ) -> Result<(), PluginError> {
        let duplicate = ids.iter().enumerate().any(|(i, id)| ids[..i].contains(id));
        if duplicate || is_blank(&from.session_id) || is_blank(&to.session_id) {
            return Err(PluginError::invalid_request(
                "duplicate id or blank session",
            ));
        }
        let granted = self.inner.list_handle_grants(from).await?;
        if let Some(missing) = ids
            .iter()
            .find(|id| !granted.iter().any(|g| &g.grant.process_id == *id))
        {
            return Err(PluginError::HandleNotGranted {
                scope_id: from.id(),
                process_id: missing.clone(),
            });
        }
        if from.id() == to.id() {
            return Ok(());
        }
        for id in ids {
            if self.bug == Bug::TransferPiecewise {
                // BUG: each move is its own round trip; the grants can change in between.
                procreg_sim::executor::sleep(2).await;
            }
            self.inner
                .transfer_handle_grants(from, to, std::slice::from_ref(id))
                .await?;
        }
        Ok(())
    }
}
