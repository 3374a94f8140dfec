//! Events and completion: append with replay (E1-E10, E15), reads of the log (E11, E12), wake
//! acknowledgement (E13), the non-blocking halves of the waits (E14, C4) and idempotent
//! completion (C1-C3).

use std::borrow::Cow;
use std::sync::Arc;

use procreg::{
    PluginError, ProcessAwaitOutput, ProcessEvent, ProcessEventAppendRequest,
    ProcessEventAppendResult, ProcessEventType, ProcessRecord, ProcessStatus, ProcessWakeDelivery,
};

use super::inputs::{
    effective_replay_key, id_problem, json_equal, json_values_equal, scope_problem,
};
use super::{Model, ProcessState, wake};

impl Model {
    /// Appends an event, or replays a keyed one (E1-E10, E15).
    ///
    /// # Errors
    /// In P1 order: `UnknownProcess` > replay (`ReplayConflict`, E2) > `InvalidRequest` (E15,
    /// target scope, replay key) > `UndeclaredEventType` > `ReplayKeyRequired` > `InvalidEvent`
    /// (E5) > `AlreadyTerminal` > `InvalidEvent` (E7) > `WakeTargetRequired`.
    pub fn append_event(
        &mut self,
        process_id: &str,
        request: ProcessEventAppendRequest,
        now_ms: u64,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        Ok(self
            .append(process_id, Cow::Owned(request), None, now_ms)?
            .result())
    }

    /// [`Model::append_event`] on an owned or borrowed request (`apply` borrows its op's:
    /// only what a new event stores is copied, nothing when the append is refused or
    /// replayed), told the await output a terminal request's payload holds when the caller
    /// built the payload from it (`complete_process`), so it is not parsed back. Answers
    /// the stored event, so a caller that shows none (`complete_process`) copies none.
    pub(super) fn append(
        &mut self,
        process_id: &str,
        request: Cow<'_, ProcessEventAppendRequest>,
        known_output: Option<ProcessAwaitOutput>,
        now_ms: u64,
    ) -> Result<Appended, PluginError> {
        let state = self.state(process_id)?;
        let replay_key = effective_replay_key(request.replay_key.as_deref());
        if let Some(key) = replay_key
            && let Some(&sequence) = state.replay_keys.get(key)
        {
            return replay(state, sequence, key, &request);
        }
        let (event, await_output) = build_event(state, request, known_output, now_ms)?;
        let state = self.state_mut(process_id)?;
        if let Some(key) = &event.replay_key {
            Arc::make_mut(&mut state.replay_keys).insert(Arc::from(key.as_str()), event.sequence);
        }
        if event.wake.is_some() {
            state.pending_wakes.insert(event.sequence);
        }
        if let Some(output) = await_output {
            state.status = ProcessStatus::terminal(output);
        }
        state.updated_at_ms = now_ms; // E8, R7
        let event = Arc::new(event);
        state.events.push(Arc::clone(&event));
        self.bump();
        Ok(Appended {
            event,
            replayed: false,
        })
    }

    /// Every event with sequence above `after_sequence`, ascending (E11).
    pub fn events_after(
        &self,
        process_id: &str,
        after_sequence: u64,
    ) -> Result<Vec<ProcessEvent>, PluginError> {
        let state = self.state(process_id)?;
        Ok(events_above(state, after_sequence).cloned().collect())
    }

    /// The pending wake events with sequence above `after_sequence`, ascending (E12).
    pub fn wake_events_after(
        &self,
        process_id: &str,
        after_sequence: u64,
    ) -> Result<Vec<ProcessEvent>, PluginError> {
        let state = self.state(process_id)?;
        Ok(events_above(state, after_sequence)
            .filter(|event| state.pending_wakes.contains(&event.sequence))
            .cloned()
            .collect())
    }

    /// Stops event `sequence` being pending (E13); idempotent, a no-op on non-wake events.
    ///
    /// # Errors
    /// `UnknownProcess` > `UnknownEvent`.
    pub fn ack_wake(&mut self, process_id: &str, sequence: u64) -> Result<(), PluginError> {
        let state = self.state(process_id)?;
        if sequence == 0 || sequence > state.events.len() as u64 {
            return Err(PluginError::UnknownEvent {
                process_id: process_id.to_owned(),
                sequence,
            });
        }
        if state.pending_wakes.contains(&sequence) {
            self.state_mut(process_id)?.pending_wakes.remove(&sequence);
            self.bump();
        }
        Ok(())
    }

    /// The lowest event of exactly `event_type` above `after_sequence`, or `None` when the
    /// real call would block (E14).
    ///
    /// # Errors
    /// `UnknownProcess` > `UndeclaredEventType` (a wait never hangs on an undeclared type).
    pub fn wait_event_after(
        &self,
        process_id: &str,
        event_type: &str,
        after_sequence: u64,
    ) -> Result<Option<ProcessEvent>, PluginError> {
        let state = self.state(process_id)?;
        if state.event_type(event_type).is_none() {
            return Err(undeclared(process_id, event_type));
        }
        Ok(events_above(state, after_sequence)
            .find(|event| event.event_type == event_type)
            .cloned())
    }

    /// Completes a process idempotently (C1-C3); not fenced by leases (C5).
    ///
    /// # Errors
    /// `UnknownProcess` > `AlreadyTerminal` (C3, a different recorded output).
    pub fn complete_process(
        &mut self,
        process_id: &str,
        output: ProcessAwaitOutput,
        now_ms: u64,
    ) -> Result<ProcessRecord, PluginError> {
        let state = self.state(process_id)?;
        if let Some(recorded) = state.status.await_output() {
            // C2: however it became terminal, an equal output is a harmless retry.
            return if json_equal(recorded, &output) {
                Ok(state.record())
            } else {
                Err(already_terminal(process_id))
            };
        }
        let request = ProcessEventAppendRequest::terminal(process_id, &output);
        self.append(process_id, Cow::Owned(request), Some(output), now_ms)?;
        Ok(self.state(process_id)?.record())
    }

    /// The await output once terminal, or `None` when the real call would block (C4).
    ///
    /// # Errors
    /// `UnknownProcess`.
    pub fn await_process(
        &self,
        process_id: &str,
    ) -> Result<Option<ProcessAwaitOutput>, PluginError> {
        Ok(self.state(process_id)?.status.await_output().cloned())
    }
}

/// E2: a used replay key with an equal (type, payload) gives back the stored event untouched.
fn replay(
    state: &ProcessState,
    sequence: u64,
    key: &str,
    request: &ProcessEventAppendRequest,
) -> Result<Appended, PluginError> {
    let stored = sequence
        .checked_sub(1)
        .and_then(|index| state.events.get(index as usize))
        .ok_or_else(|| PluginError::corrupt(format!("replay key `{key}` names no event")))?;
    if stored.event_type != request.event_type
        || !json_values_equal(&stored.payload, &request.payload)
    {
        return Err(PluginError::ReplayConflict {
            process_id: state.id().to_owned(),
            replay_key: key.to_owned(),
        });
    }
    Ok(Appended {
        event: Arc::clone(stored),
        replayed: true,
    })
}

/// What an append did: the event it stored, or the stored one it replayed (E2).
pub(super) struct Appended {
    event: Arc<ProcessEvent>,
    replayed: bool,
}

impl Appended {
    /// The answer `append_event` gives.
    pub(super) fn result(&self) -> ProcessEventAppendResult {
        ProcessEventAppendResult {
            event: ProcessEvent::clone(&self.event),
            wake_delivery: ProcessWakeDelivery::from_event(&self.event),
            replayed: self.replayed,
        }
    }
}

/// Checks a new (non-replayed) append in P1 order and builds its event, with the await output
/// it records when terminal (`known_output`, if given, is what the payload holds). Touches
/// nothing (E10).
fn build_event(
    state: &ProcessState,
    request: Cow<'_, ProcessEventAppendRequest>,
    known_output: Option<ProcessAwaitOutput>,
    now_ms: u64,
) -> Result<(ProcessEvent, Option<ProcessAwaitOutput>), PluginError> {
    let process_id = state.id();
    let replay_key = effective_replay_key(request.replay_key.as_deref());
    let declared = state.event_type(&request.event_type);
    check_request(process_id, &request, replay_key, declared)?;
    let declared = declared.ok_or_else(|| undeclared(process_id, &request.event_type))?;
    let needs_key = declared.terminal.is_some() || declared.name == procreg::EVENT_CANCEL_REQUESTED;
    if needs_key && replay_key.is_none() {
        return Err(PluginError::ReplayKeyRequired {
            process_id: process_id.to_owned(),
            event_type: declared.name.clone(),
        });
    }
    let await_output = match declared.terminal {
        Some(terminal) => Some(terminal_output(
            process_id,
            declared,
            terminal,
            &request,
            known_output,
        )?),
        None => None,
    };
    if await_output.is_some() && state.is_terminal() {
        return Err(already_terminal(process_id)); // E6
    }
    let sequence = state.events.len() as u64 + 1;
    let wake = match &declared.wake {
        Some(spec) => wake::evaluate(spec, &request.payload, process_id, sequence)?,
        None => None,
    };
    let wake = match (wake, &request.wake_target_scope) {
        (None, _) => None, // E7: a target without a wake is ignored, not stored.
        (Some(parts), Some(target)) => Some(parts.with_target(target)),
        (Some(_), None) => {
            return Err(PluginError::WakeTargetRequired {
                process_id: process_id.to_owned(),
                event_type: declared.name.clone(),
            });
        }
    };
    let replay_key = replay_key.map(str::to_owned);
    let (event_type, payload) = match request {
        Cow::Owned(request) => (request.event_type, request.payload),
        Cow::Borrowed(request) => (request.event_type.clone(), request.payload.clone()),
    };
    let event = ProcessEvent {
        process_id: process_id.to_owned(),
        sequence,
        event_type,
        payload,
        replay_key,
        terminal: declared.terminal,
        wake,
        occurred_at_ms: now_ms,
    };
    Ok((event, await_output))
}

/// The `InvalidRequest` checks of an append (E15, B1/V2 on the target scope and replay key).
fn check_request(
    process_id: &str,
    request: &ProcessEventAppendRequest,
    replay_key: Option<&str>,
    declared: Option<&ProcessEventType>,
) -> Result<(), PluginError> {
    if let Some(key) = replay_key {
        if let Some(reason) = id_problem("replay key", key) {
            return Err(PluginError::invalid_request(reason));
        }
        // E15 (Z5: an undeclared type with the reserved key is also InvalidRequest, P1 order).
        let is_terminal_type = declared.is_some_and(|t| t.terminal.is_some());
        if is_terminal_replay_key(key, process_id) && !is_terminal_type {
            return Err(PluginError::invalid_request(format!(
                "replay key `{key}` is reserved for terminal events"
            )));
        }
    }
    if let Some(target) = &request.wake_target_scope
        && let Some(problem) = scope_problem(target)
    {
        return Err(PluginError::invalid_request(format!(
            "wake target scope: {problem}"
        )));
    }
    Ok(())
}

/// Whether `key` is [`procreg::terminal_replay_key`]`(process_id)`, without building that
/// string (this runs on every keyed append).
pub(super) fn is_terminal_replay_key(key: &str, process_id: &str) -> bool {
    key.strip_prefix("process:")
        .and_then(|rest| rest.strip_suffix(":terminal"))
        == Some(process_id)
}

/// E5: the payload of a terminal event holds an `await_output` of the type's terminal state.
/// `known` is that output when the caller built the payload from it (serializing an await
/// output to JSON and reading it back gives it again).
fn terminal_output(
    process_id: &str,
    declared: &ProcessEventType,
    terminal: procreg::ProcessTerminalState,
    request: &ProcessEventAppendRequest,
    known: Option<ProcessAwaitOutput>,
) -> Result<ProcessAwaitOutput, PluginError> {
    let output = known.or_else(|| {
        request
            .payload
            .get("await_output")
            .and_then(|value| serde_json::from_value::<ProcessAwaitOutput>(value.clone()).ok())
    });
    match output {
        Some(output) if output.terminal_state() == terminal => Ok(output),
        _ => Err(PluginError::InvalidEvent {
            process_id: process_id.to_owned(),
            reason: format!(
                "terminal event `{}` needs an `await_output` of state {terminal:?}",
                declared.name
            ),
        }),
    }
}

/// The events of `state` above `after_sequence`, ascending.
fn events_above(state: &ProcessState, after_sequence: u64) -> impl Iterator<Item = &ProcessEvent> {
    let start = usize::try_from(after_sequence).unwrap_or(usize::MAX);
    state.events.iter().skip(start).map(|event| &**event)
}

fn undeclared(process_id: &str, event_type: &str) -> PluginError {
    PluginError::UndeclaredEventType {
        process_id: process_id.to_owned(),
        event_type: event_type.to_owned(),
    }
}

fn already_terminal(process_id: &str) -> PluginError {
    PluginError::AlreadyTerminal {
        process_id: process_id.to_owned(),
    }
}
