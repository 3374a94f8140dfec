//! Wake materialization at append time (E7): whether an event wakes, with which input and
//! dedupe key.

use procreg::{MaterializedWake, PluginError, ProcessScope, ProcessWakeSpec, WakeDedupeKey};
use serde_json::Value;

/// What a wake spec gives for one payload: the wake's input and dedupe key, or `None` when the
/// `when` pointer says no wake (E7). The target scope is attached by the caller.
pub(crate) struct WakeParts {
    pub(crate) input: String,
    pub(crate) dedupe_key: String,
}

/// Evaluates `spec` on `payload` for the event `<process_id>:<sequence>` (E7).
///
/// # Errors
/// `InvalidEvent` when the input pointer, or a pointer dedupe key, selects nothing.
pub(crate) fn evaluate(
    spec: &ProcessWakeSpec,
    payload: &Value,
    process_id: &str,
    sequence: u64,
) -> Result<Option<WakeParts>, PluginError> {
    if let Some(when) = &spec.when
        && payload.pointer(when).is_none_or(is_falsy)
    {
        return Ok(None);
    }
    let missing = |what: &str, pointer: &str| PluginError::InvalidEvent {
        process_id: process_id.to_owned(),
        reason: format!("wake {what} pointer `{pointer}` selects nothing in the payload"),
    };
    let input = payload
        .pointer(&spec.input)
        .map(render)
        .ok_or_else(|| missing("input", &spec.input))?;
    let dedupe_key = match &spec.dedupe_key {
        WakeDedupeKey::EventIdentity => format!("{process_id}:{sequence}"),
        WakeDedupeKey::Pointer(pointer) => payload
            .pointer(pointer)
            .map(render)
            .ok_or_else(|| missing("dedupe key", pointer))?,
        WakeDedupeKey::Const(key) => key.clone(),
    };
    Ok(Some(WakeParts { input, dedupe_key }))
}

impl WakeParts {
    /// The materialized wake delivered to `target_scope` (normalized, V2).
    pub(crate) fn with_target(self, target_scope: &ProcessScope) -> MaterializedWake {
        MaterializedWake {
            target_scope: target_scope.normalized(),
            input: self.input,
            dedupe_key: self.dedupe_key,
        }
    }
}

/// Falsy per E7: exactly null, false, "", [] and {}.
fn is_falsy(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        Value::Number(_) => false,
    }
}

/// A string as is, any other JSON as canonical JSON (E7).
fn render(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => procreg::canonical::to_canonical_json(other),
    }
}
