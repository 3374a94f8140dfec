//! Internal consistency of a Model, for checkers and tests: what must hold after any sequence
//! of calls (E8 dense sequences, W1 one terminal event, L6 fencing counter, H1 known processes,
//! E12 pending wakes are wake events, O1 sorted keys).

use procreg::ProcessStatus;

use super::{Model, ProcessState};
use crate::model::inputs::json_equal;

impl Model {
    /// Checks the Model's invariants; `Err` names the first one broken.
    ///
    /// # Errors
    /// A description of the broken invariant.
    pub fn check_invariants(&self) -> Result<(), String> {
        for (id, state) in &self.processes {
            if state.id() != &**id {
                return Err(format!("process `{id}` is stored under a different id"));
            }
            check_process(state).map_err(|e| format!("process `{id}`: {e}"))?;
        }
        for (key, grants) in &self.grants {
            if grants.is_empty() {
                return Err(format!("scope `{key}` has an empty grant map"));
            }
            for (process_id, grant) in grants {
                if &grant.process_id != process_id || grant.scope.id() != *key {
                    return Err(format!("grant of `{process_id}` is filed under `{key}`"));
                }
                if grant.scope != grant.scope.normalized() {
                    return Err(format!("grant scope `{key}` is not normalized (V2)"));
                }
                if !self.processes.contains_key(process_id.as_str()) {
                    return Err(format!(
                        "grant in `{key}` on unknown process `{process_id}`"
                    ));
                }
            }
        }
        Ok(())
    }
}

fn check_process(state: &ProcessState) -> Result<(), String> {
    let mut terminal = None;
    for (index, event) in state.events.iter().enumerate() {
        if event.sequence != index as u64 + 1 {
            return Err(format!(
                "event {} is at position {}",
                event.sequence,
                index + 1
            ));
        }
        if event.process_id != state.id() {
            return Err(format!("event {} names another process", event.sequence));
        }
        if event.terminal.is_some() {
            if terminal.is_some() {
                return Err("two terminal events (W1)".into());
            }
            terminal = Some(event);
        }
        if event.occurred_at_ms > state.updated_at_ms {
            return Err(format!("event {} is newer than the record", event.sequence));
        }
    }
    match (terminal, &state.status) {
        (None, ProcessStatus::Running) => {}
        (Some(event), status) if status.is_terminal() => {
            let recorded = event
                .payload
                .get("await_output")
                .and_then(|v| serde_json::from_value(v.clone()).ok());
            let agrees = status.await_output().zip(recorded.as_ref());
            if !agrees.is_some_and(|(a, b)| json_equal(a, b)) {
                return Err("status disagrees with the terminal event".into());
            }
        }
        _ => return Err("status disagrees with the terminal events".into()),
    }
    for (key, sequence) in state.replay_keys.iter() {
        let used = sequence
            .checked_sub(1)
            .and_then(|i| state.events.get(i as usize));
        if used.and_then(|e| e.replay_key.as_deref()) != Some(&**key) {
            return Err(format!(
                "replay key `{key}` does not match event {sequence}"
            ));
        }
    }
    for sequence in &state.pending_wakes {
        let event = sequence
            .checked_sub(1)
            .and_then(|i| state.events.get(i as usize));
        if event.is_none_or(|e| e.wake.is_none()) {
            return Err(format!("pending wake {sequence} is not a wake event"));
        }
    }
    if let Some(lease) = &state.lease {
        if lease.fencing_token > state.fencing_counter {
            return Err("lease fencing token above the fencing counter (L6)".into());
        }
        if lease.process_id != state.id() || lease.claimed_at_ms > lease.expires_at_ms {
            return Err("lease names another process or expires before its claim".into());
        }
    }
    Ok(())
}
