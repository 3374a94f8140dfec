//! Deliberately broken registries: `MemoryRegistry` behind a wrapper that breaks one rule, to
//! prove the laws can fail. Adding a mutant is a [`Fault`] variant plus its twist in the one
//! method it breaks.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use procreg::{
    DurabilityTier, EVENT_CANCEL_REQUESTED, PluginError, ProcessAwaitOutput, ProcessEvent,
    ProcessEventAppendRequest, ProcessEventAppendResult, ProcessExternalRef,
    ProcessHandleDescriptor, ProcessHandleGrant, ProcessHandleGrantEntry, ProcessLease,
    ProcessLeaseCompletion, ProcessRecord, ProcessRegistration, ProcessRegistry, ProcessScope,
    ProcessSessionDeleteReport, SharedClock,
};
use procreg_conformance::{Capabilities, Harness, Instance};
use procreg_reference::MemoryRegistry;
use serde_json::Value;

/// The one rule a [`Mutant`] breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(dead_code)] // each test file uses its own subset
pub enum Fault {
    /// No fault: the wrapper must pass every law.
    None,
    /// E2: replay keys of plain events are dropped, so a retried append appends again.
    ReplayKeyIgnored,
    /// C2: a repeated completion appends a second (cancel-request) event.
    RepeatedCompletionAppends,
    /// E14: a wait looks once and then never wakes.
    WaitLosesWakeups,
    /// R7: `get_process` reports `updated_at_ms = now`.
    ReadsTouchUpdatedAt,
    /// J1: integral floats in registration input are stored as integers (`1.0` becomes `1`).
    FloatsNormalized,
    /// B1: process ids are trimmed on registration.
    IdsTrimmed,
    /// A2: `get_process` answers `Unavailable` (an environment failure, not a violation).
    ReadsUnavailable,
    /// `ack_wake` panics (a backend bug the runner must contain).
    AckPanics,
    /// Own clock (T2): the harness declares it cannot take the kit's clock.
    OwnClock,
}

/// `MemoryRegistry` with one [`Fault`]. Clones share one store.
#[derive(Clone)]
pub struct Mutant {
    inner: Arc<MemoryRegistry>,
    clock: SharedClock,
    fault: Fault,
}

/// Makes [`Mutant`]s; second handles share the store (so cross-handle laws run too).
pub struct MutantHarness(pub Fault);

#[async_trait]
impl Harness for MutantHarness {
    type Registry = Mutant;

    fn capabilities(&self) -> Capabilities {
        // Broken waits must fail fast, not after the default 10 s.
        let caps = Capabilities::default()
            .with_second_handle(Duration::from_millis(200))
            .with_call_timeout(Duration::from_millis(200));
        if self.0 == Fault::OwnClock {
            caps.with_own_clock()
        } else {
            caps
        }
    }

    async fn fresh(&self, instance: &Instance) -> Result<Mutant, PluginError> {
        Ok(Mutant {
            inner: Arc::new(MemoryRegistry::new(instance.clock.clone())),
            clock: instance.clock.clone(),
            fault: self.0,
        })
    }

    async fn second_handle(&self, _: &Instance, first: &Mutant) -> Result<Mutant, PluginError> {
        Ok(first.clone())
    }
}

fn integral_floats_to_ints(value: Value) -> Value {
    match value {
        Value::Number(n)
            if n.as_f64()
                .is_some_and(|f| f.fract() == 0.0 && f.abs() < 1e15) =>
        {
            Value::from(n.as_f64().unwrap_or_default() as i64)
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(integral_floats_to_ints).collect())
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, integral_floats_to_ints(v)))
                .collect(),
        ),
        other => other,
    }
}

#[async_trait]
impl ProcessRegistry for Mutant {
    fn durability_tier(&self) -> DurabilityTier {
        self.inner.durability_tier()
    }

    async fn register_process(
        &self,
        mut registration: ProcessRegistration,
    ) -> Result<ProcessRecord, PluginError> {
        match self.fault {
            Fault::FloatsNormalized => {
                registration.input = integral_floats_to_ints(registration.input);
            }
            Fault::IdsTrimmed => registration.id = registration.id.trim().to_owned(),
            _ => {}
        }
        self.inner.register_process(registration).await
    }

    async fn get_process(&self, process_id: &str) -> Result<Option<ProcessRecord>, PluginError> {
        if self.fault == Fault::ReadsUnavailable {
            return Err(PluginError::unavailable("link down"));
        }
        let record = self.inner.get_process(process_id).await?;
        if self.fault == Fault::ReadsTouchUpdatedAt {
            return Ok(record.map(|mut r| {
                r.updated_at_ms = self.clock.now_ms();
                r
            }));
        }
        Ok(record)
    }

    async fn set_external_ref(
        &self,
        process_id: &str,
        external_ref: ProcessExternalRef,
    ) -> Result<ProcessRecord, PluginError> {
        self.inner.set_external_ref(process_id, external_ref).await
    }

    async fn append_event(
        &self,
        process_id: &str,
        mut request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        if self.fault == Fault::ReplayKeyIgnored {
            let record = self.inner.get_process(process_id).await?;
            let plain = record
                .and_then(|r| r.event_type(&request.event_type).cloned())
                .is_some_and(|t| t.terminal.is_none() && t.name != EVENT_CANCEL_REQUESTED);
            if plain {
                request.replay_key = None;
            }
        }
        self.inner.append_event(process_id, request).await
    }

    async fn events_after(
        &self,
        process_id: &str,
        after: u64,
    ) -> Result<Vec<ProcessEvent>, PluginError> {
        self.inner.events_after(process_id, after).await
    }

    async fn wake_events_after(
        &self,
        process_id: &str,
        after: u64,
    ) -> Result<Vec<ProcessEvent>, PluginError> {
        self.inner.wake_events_after(process_id, after).await
    }

    async fn ack_wake(&self, process_id: &str, sequence: u64) -> Result<(), PluginError> {
        assert!(self.fault != Fault::AckPanics, "ack_wake exploded");
        self.inner.ack_wake(process_id, sequence).await
    }

    async fn wait_event_after(
        &self,
        process_id: &str,
        event_type: &str,
        after: u64,
    ) -> Result<ProcessEvent, PluginError> {
        if self.fault == Fault::WaitLosesWakeups {
            let events = self.inner.events_after(process_id, after).await?;
            if let Some(found) = events.into_iter().find(|e| e.event_type == event_type) {
                return Ok(found);
            }
            return std::future::pending().await;
        }
        self.inner
            .wait_event_after(process_id, event_type, after)
            .await
    }

    async fn complete_process(
        &self,
        process_id: &str,
        output: ProcessAwaitOutput,
    ) -> Result<ProcessRecord, PluginError> {
        if self.fault == Fault::RepeatedCompletionAppends {
            let record = self.inner.get_process(process_id).await?;
            let recorded = record.as_ref().and_then(|r| r.status.await_output());
            if recorded == Some(&output) {
                let key = format!("retry-{}", self.clock.now_ms());
                let extra = ProcessEventAppendRequest::new(EVENT_CANCEL_REQUESTED, Value::Null)
                    .with_replay_key(key);
                self.inner.append_event(process_id, extra).await?;
                let record = self.inner.get_process(process_id).await?;
                return Ok(record.expect("a terminal process exists"));
            }
        }
        self.inner.complete_process(process_id, output).await
    }

    async fn await_process(&self, process_id: &str) -> Result<ProcessAwaitOutput, PluginError> {
        self.inner.await_process(process_id).await
    }

    async fn grant_handle(
        &self,
        scope: &ProcessScope,
        process_id: &str,
        descriptor: ProcessHandleDescriptor,
    ) -> Result<ProcessHandleGrant, PluginError> {
        self.inner.grant_handle(scope, process_id, descriptor).await
    }

    async fn revoke_handle(
        &self,
        scope: &ProcessScope,
        process_id: &str,
    ) -> Result<(), PluginError> {
        self.inner.revoke_handle(scope, process_id).await
    }

    async fn list_handle_grants(
        &self,
        scope: &ProcessScope,
    ) -> Result<Vec<ProcessHandleGrantEntry>, PluginError> {
        self.inner.list_handle_grants(scope).await
    }

    async fn handle_grants_for_process(
        &self,
        process_id: &str,
    ) -> Result<Vec<ProcessHandleGrant>, PluginError> {
        self.inner.handle_grants_for_process(process_id).await
    }

    async fn transfer_handle_grants(
        &self,
        from: &ProcessScope,
        to: &ProcessScope,
        process_ids: &[String],
    ) -> Result<(), PluginError> {
        self.inner
            .transfer_handle_grants(from, to, process_ids)
            .await
    }

    async fn delete_session_process_state(
        &self,
        session_id: &str,
    ) -> Result<ProcessSessionDeleteReport, PluginError> {
        self.inner.delete_session_process_state(session_id).await
    }

    async fn claim_process_lease(
        &self,
        process_id: &str,
        owner_id: &str,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        self.inner
            .claim_process_lease(process_id, owner_id, ttl_ms)
            .await
    }

    async fn renew_process_lease(
        &self,
        lease: &ProcessLease,
        ttl_ms: u64,
    ) -> Result<ProcessLease, PluginError> {
        self.inner.renew_process_lease(lease, ttl_ms).await
    }

    async fn complete_process_lease(
        &self,
        completion: &ProcessLeaseCompletion,
    ) -> Result<(), PluginError> {
        self.inner.complete_process_lease(completion).await
    }

    async fn list_non_terminal(&self) -> Result<Vec<ProcessRecord>, PluginError> {
        self.inner.list_non_terminal().await
    }
}
