//! Completion bugs (C2-C5): retries that are not harmless, outputs that get overwritten, awaits
//! that do not wait, completions fenced by leases.

use std::collections::BTreeMap;
use std::mem::discriminant;
use std::sync::Mutex;

use async_trait::async_trait;
use procreg::{
    EVENT_CANCEL_REQUESTED, ErrorKind, PluginError, ProcessAwaitOutput, ProcessEventAppendRequest,
    ProcessRecord, ProcessStatus,
};
use serde_json::Value;

use super::{Base, Broken, Twist, wrap};
use procreg::ProcessRegistry;

pub const BROKEN: &[Broken] = &[
    Broken {
        name: "completion::repeated_completion_appends",
        bug: "C2: a repeated completion with the same output appends a second (cancel-request) event",
        make: |clock| wrap(clock, RepeatedCompletionAppends),
    },
    Broken {
        name: "completion::different_output_overwrites",
        bug: "C3: completing a terminal process with a different output overwrites the recorded output",
        make: |clock| wrap(clock, DifferentOutputOverwrites::default()),
    },
    Broken {
        name: "completion::retry_compares_variant_only",
        bug: "C2/C3: a retried completion is compared by outcome kind only, so success(2) after success(1) is Ok",
        make: |clock| wrap(clock, RetryComparesVariantOnly),
    },
    Broken {
        name: "completion::await_returns_before_terminal",
        bug: "C4: await_process on a running process returns a 'still running' failure instead of waiting",
        make: |clock| wrap(clock, AwaitReturnsBeforeTerminal),
    },
    Broken {
        name: "completion::completion_fenced_by_lease",
        bug: "C5: complete_process is refused with LeaseHeld while another worker holds a live lease",
        make: |clock| wrap(clock, CompletionFencedByLease),
    },
    Broken {
        name: "completion::await_unknown_waits_forever",
        bug: "C4: await_process on an unknown id waits (for it to be registered and finish) instead of UnknownProcess",
        make: |clock| wrap(clock, AwaitUnknownWaitsForever),
    },
    Broken {
        name: "completion::completion_of_unknown_is_already_terminal",
        bug: "C1/P1: complete_process reads 'not running' for a missing record and answers AlreadyTerminal, not UnknownProcess",
        make: |clock| wrap(clock, CompletionOfUnknownIsAlreadyTerminal),
    },
    Broken {
        name: "completion::await_misses_earlier_completion",
        bug: "C4: await_process only waits for the next terminal event, so on an already terminal process it never returns",
        make: |clock| wrap(clock, AwaitMissesEarlierCompletion),
    },
];

struct RepeatedCompletionAppends;

#[async_trait]
impl Twist for RepeatedCompletionAppends {
    async fn complete_process(
        &self,
        base: &Base,
        process_id: &str,
        output: ProcessAwaitOutput,
    ) -> Result<ProcessRecord, PluginError> {
        let recorded = base
            .record(process_id)
            .await
            .and_then(|r| r.status.await_output().cloned());
        if recorded.as_ref() == Some(&output) {
            let key = format!("completion-retry-{}", base.now());
            let extra = ProcessEventAppendRequest::new(EVENT_CANCEL_REQUESTED, Value::Null)
                .with_replay_key(key);
            base.inner.append_event(process_id, extra).await?;
        }
        base.inner.complete_process(process_id, output).await
    }
}

/// Statuses written over the reference's by completions it refused.
#[derive(Default)]
struct DifferentOutputOverwrites {
    overwritten: Mutex<BTreeMap<String, ProcessStatus>>,
}

impl DifferentOutputOverwrites {
    fn patch(&self, mut record: ProcessRecord) -> ProcessRecord {
        if let Some(status) = self.overwritten.lock().unwrap().get(&record.id) {
            record.status = status.clone();
        }
        record
    }
}

#[async_trait]
impl Twist for DifferentOutputOverwrites {
    async fn complete_process(
        &self,
        base: &Base,
        process_id: &str,
        output: ProcessAwaitOutput,
    ) -> Result<ProcessRecord, PluginError> {
        match base
            .inner
            .complete_process(process_id, output.clone())
            .await
        {
            Err(e) if e.kind() == ErrorKind::AlreadyTerminal => {
                let status = ProcessStatus::terminal(output);
                self.overwritten
                    .lock()
                    .unwrap()
                    .insert(process_id.to_owned(), status);
                let record = base.record(process_id).await.ok_or(e)?;
                Ok(self.patch(record))
            }
            other => other.map(|r| self.patch(r)),
        }
    }

    async fn get_process(
        &self,
        base: &Base,
        process_id: &str,
    ) -> Result<Option<ProcessRecord>, PluginError> {
        let record = base.inner.get_process(process_id).await?;
        Ok(record.map(|r| self.patch(r)))
    }

    async fn await_process(
        &self,
        base: &Base,
        process_id: &str,
    ) -> Result<ProcessAwaitOutput, PluginError> {
        let output = base.inner.await_process(process_id).await?;
        let overwritten = self.overwritten.lock().unwrap().get(process_id).cloned();
        Ok(overwritten
            .and_then(|s| s.await_output().cloned())
            .unwrap_or(output))
    }
}

struct RetryComparesVariantOnly;

#[async_trait]
impl Twist for RetryComparesVariantOnly {
    async fn complete_process(
        &self,
        base: &Base,
        process_id: &str,
        output: ProcessAwaitOutput,
    ) -> Result<ProcessRecord, PluginError> {
        let record = base.record(process_id).await;
        if let Some(record) = record
            && let Some(recorded) = record.status.await_output()
            && discriminant(recorded) == discriminant(&output)
        {
            return Ok(record);
        }
        base.inner.complete_process(process_id, output).await
    }
}

struct AwaitReturnsBeforeTerminal;

#[async_trait]
impl Twist for AwaitReturnsBeforeTerminal {
    async fn await_process(
        &self,
        base: &Base,
        process_id: &str,
    ) -> Result<ProcessAwaitOutput, PluginError> {
        let record = base
            .inner
            .get_process(process_id)
            .await?
            .ok_or_else(|| PluginError::unknown_process(process_id))?;
        match record.status.await_output() {
            Some(output) => Ok(output.clone()),
            None => Ok(ProcessAwaitOutput::Failure {
                code: "running".to_owned(),
                message: "the process has not finished".to_owned(),
            }),
        }
    }
}

struct CompletionFencedByLease;

#[async_trait]
impl Twist for CompletionFencedByLease {
    async fn complete_process(
        &self,
        base: &Base,
        process_id: &str,
        output: ProcessAwaitOutput,
    ) -> Result<ProcessRecord, PluginError> {
        let running = base
            .record(process_id)
            .await
            .is_some_and(|r| !r.is_terminal());
        let live = base
            .model()
            .current_lease(process_id)
            .filter(|l| l.is_live_at(base.now()))
            .cloned();
        if let Some(lease) = live
            && running
        {
            return Err(PluginError::LeaseHeld {
                process_id: process_id.to_owned(),
                holder_owner_id: lease.owner_id,
                expires_at_ms: lease.expires_at_ms,
            });
        }
        base.inner.complete_process(process_id, output).await
    }
}

struct AwaitUnknownWaitsForever;

#[async_trait]
impl Twist for AwaitUnknownWaitsForever {
    async fn await_process(
        &self,
        base: &Base,
        process_id: &str,
    ) -> Result<ProcessAwaitOutput, PluginError> {
        match base.inner.await_process(process_id).await {
            Err(e) if e.kind() == ErrorKind::UnknownProcess => std::future::pending().await,
            other => other,
        }
    }
}

struct CompletionOfUnknownIsAlreadyTerminal;

#[async_trait]
impl Twist for CompletionOfUnknownIsAlreadyTerminal {
    async fn complete_process(
        &self,
        base: &Base,
        process_id: &str,
        output: ProcessAwaitOutput,
    ) -> Result<ProcessRecord, PluginError> {
        match base.inner.complete_process(process_id, output).await {
            Err(e) if e.kind() == ErrorKind::UnknownProcess => Err(PluginError::AlreadyTerminal {
                process_id: process_id.to_owned(),
            }),
            other => other,
        }
    }
}

struct AwaitMissesEarlierCompletion;

#[async_trait]
impl Twist for AwaitMissesEarlierCompletion {
    async fn await_process(
        &self,
        base: &Base,
        process_id: &str,
    ) -> Result<ProcessAwaitOutput, PluginError> {
        let record = base
            .inner
            .get_process(process_id)
            .await?
            .ok_or_else(|| PluginError::unknown_process(process_id))?;
        if record.is_terminal() {
            return std::future::pending().await;
        }
        base.inner.await_process(process_id).await
    }
}
