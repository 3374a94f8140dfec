//! Terminal-event bugs (E5, E6, E8, C1): terminal events that do not set the status, payloads
//! rebuilt instead of kept, outputs that pick their own type, processes that refuse every
//! append once terminal, and a type mapping that reads one terminal type back as another.

use std::collections::BTreeSet;
use std::sync::Mutex;

use async_trait::async_trait;
use procreg::{
    EVENT_CANCELLED, EVENT_FAILED, ErrorKind, PluginError, ProcessAwaitOutput, ProcessEvent,
    ProcessEventAppendRequest, ProcessEventAppendResult, ProcessRecord, ProcessRegistry,
    ProcessStatus,
};
use serde_json::json;

use super::{Base, Broken, Twist, wrap};

pub const BROKEN: &[Broken] = &[
    Broken {
        name: "terminal::terminal_process_refuses_every_append",
        bug: "E6: every new append on a terminal process is AlreadyTerminal, so a late cancel request is refused",
        make: |clock| wrap(clock, TerminalProcessRefusesEveryAppend),
    },
    Broken {
        name: "terminal::terminal_append_leaves_status_running",
        bug: "E8: only complete_process writes the status; a terminal event appended directly leaves the record running",
        make: |clock| wrap(clock, TerminalAppendLeavesStatusRunning::default()),
    },
    Broken {
        name: "terminal::terminal_payload_rebuilt_from_output",
        bug: "E5/Z6: a terminal event's payload is stored as {await_output} rebuilt from the parsed output, dropping other fields",
        make: |clock| wrap(clock, TerminalPayloadRebuiltFromOutput),
    },
    Broken {
        name: "terminal::output_variant_picks_type",
        bug: "E5: a terminal output of another state is appended under that state's core type instead of InvalidEvent",
        make: |clock| wrap(clock, OutputVariantPicksType),
    },
    Broken {
        name: "terminal::cancelled_read_back_as_failed",
        bug: "C1: the event-type mapping reads process.cancelled back as process.failed",
        make: |clock| wrap(clock, CancelledReadBackAsFailed),
    },
];

struct TerminalProcessRefusesEveryAppend;

#[async_trait]
impl Twist for TerminalProcessRefusesEveryAppend {
    async fn append_event(
        &self,
        base: &Base,
        process_id: &str,
        request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        let terminal = base
            .record(process_id)
            .await
            .is_some_and(|r| r.is_terminal());
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

/// Processes made terminal by a direct terminal append.
#[derive(Default)]
struct TerminalAppendLeavesStatusRunning {
    direct: Mutex<BTreeSet<String>>,
}

#[async_trait]
impl Twist for TerminalAppendLeavesStatusRunning {
    async fn append_event(
        &self,
        base: &Base,
        process_id: &str,
        request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        let result = base.inner.append_event(process_id, request).await?;
        if result.event.terminal.is_some() && !result.replayed {
            self.direct.lock().unwrap().insert(process_id.to_owned());
        }
        Ok(result)
    }

    async fn get_process(
        &self,
        base: &Base,
        process_id: &str,
    ) -> Result<Option<ProcessRecord>, PluginError> {
        let mut record = base.inner.get_process(process_id).await?;
        if self.direct.lock().unwrap().contains(process_id)
            && let Some(record) = record.as_mut()
        {
            record.status = ProcessStatus::Running;
        }
        Ok(record)
    }
}

/// A terminal event's payload as this bug stores it.
fn rebuilt(mut event: ProcessEvent) -> ProcessEvent {
    if event.terminal.is_some()
        && let Some(output) = event.payload.get("await_output")
        && let Ok(output) = serde_json::from_value::<ProcessAwaitOutput>(output.clone())
    {
        event.payload = json!({ "await_output": output });
    }
    event
}

struct TerminalPayloadRebuiltFromOutput;

#[async_trait]
impl Twist for TerminalPayloadRebuiltFromOutput {
    async fn append_event(
        &self,
        base: &Base,
        process_id: &str,
        request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        let mut result = base.inner.append_event(process_id, request).await?;
        result.event = rebuilt(result.event);
        Ok(result)
    }

    async fn events_after(
        &self,
        base: &Base,
        process_id: &str,
        after: u64,
    ) -> Result<Vec<ProcessEvent>, PluginError> {
        let events = base.inner.events_after(process_id, after).await?;
        Ok(events.into_iter().map(rebuilt).collect())
    }
}

struct OutputVariantPicksType;

#[async_trait]
impl Twist for OutputVariantPicksType {
    async fn append_event(
        &self,
        base: &Base,
        process_id: &str,
        request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        let answer = base.inner.append_event(process_id, request.clone()).await;
        let Err(e) = &answer else { return answer };
        let output = request
            .payload
            .get("await_output")
            .and_then(|o| serde_json::from_value::<ProcessAwaitOutput>(o.clone()).ok());
        match output {
            Some(output) if e.kind() == ErrorKind::InvalidEvent => {
                let mut retyped = request;
                retyped.event_type = output.terminal_state().core_event_type().to_owned();
                base.inner.append_event(process_id, retyped).await
            }
            _ => answer,
        }
    }
}

fn misread(mut event: ProcessEvent) -> ProcessEvent {
    if event.event_type == EVENT_CANCELLED {
        event.event_type = EVENT_FAILED.to_owned();
    }
    event
}

struct CancelledReadBackAsFailed;

#[async_trait]
impl Twist for CancelledReadBackAsFailed {
    async fn events_after(
        &self,
        base: &Base,
        process_id: &str,
        after: u64,
    ) -> Result<Vec<ProcessEvent>, PluginError> {
        let events = base.inner.events_after(process_id, after).await?;
        Ok(events.into_iter().map(misread).collect())
    }

    async fn wait_event_after(
        &self,
        base: &Base,
        process_id: &str,
        event_type: &str,
        after: u64,
    ) -> Result<ProcessEvent, PluginError> {
        let event = base
            .inner
            .wait_event_after(process_id, event_type, after)
            .await?;
        Ok(misread(event))
    }
}
