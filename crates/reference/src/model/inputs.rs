//! Input checks and normalization shared by every Model operation (B1, V2, V3, J1).
//!
//! Ids that would be STORED (registration fields, grant and transfer scopes, wake targets,
//! owner ids, replay keys, external refs) are rejected when blank or holding a forbidden
//! character. Ids that only LOOK SOMETHING UP behave as unknown ids instead (B1; Z3: the same
//! for forbidden characters and for a session id containing `/frame:`, which must never alias a
//! frame scope's id).

use procreg::validate::{has_forbidden_char, is_blank, session_id_problem};
use procreg::{MAX_TIMESTAMP_MS, ProcessExternalRef, ProcessScope};
use serde_json::Value;

/// Why `scope` cannot be stored, if it cannot (B1, V2).
pub(crate) fn scope_problem(scope: &ProcessScope) -> Option<&'static str> {
    if let Some(problem) = session_id_problem(&scope.session_id) {
        return Some(problem);
    }
    match scope.agent_frame_id.as_deref() {
        Some(frame) if has_forbidden_char(frame) => Some("frame id contains U+0000 or a newline"),
        _ => None,
    }
}

/// The key under which grants of `scope` are stored: its normalized scope id (V2), or `None`
/// for a scope nothing can be stored under (a lookup with it finds nothing).
pub(crate) fn scope_key(scope: &ProcessScope) -> Option<String> {
    match scope_problem(scope) {
        Some(_) => None,
        None => Some(scope.normalized().id()),
    }
}

/// Why the id, name or key `value` (called `what`) cannot be stored, if it cannot (B1, V2).
pub(crate) fn id_problem(what: &str, value: &str) -> Option<String> {
    if is_blank(value) {
        Some(format!("{what} is blank"))
    } else if has_forbidden_char(value) {
        Some(format!("{what} contains U+0000 or a newline"))
    } else {
        None
    }
}

/// The replay key of a request: `None` when absent or blank (B1).
pub(crate) fn effective_replay_key(replay_key: Option<&str>) -> Option<&str> {
    replay_key.filter(|key| !is_blank(key))
}

/// `min(now + ttl, 2^63 - 1)` (V3).
pub(crate) fn expiry(now_ms: u64, ttl_ms: u64) -> u64 {
    now_ms.saturating_add(ttl_ms).min(MAX_TIMESTAMP_MS)
}

/// An external ref with `Some(Value::Null)` metadata turned into `None` (J1).
pub(crate) fn normalize_external_ref(mut external_ref: ProcessExternalRef) -> ProcessExternalRef {
    if matches!(external_ref.metadata, Some(Value::Null)) {
        external_ref.metadata = None;
    }
    external_ref
}

/// Whether `pointer` is a JSON pointer (RFC 6901): `""` or starting with `/` (R1).
pub(crate) fn is_json_pointer(pointer: &str) -> bool {
    pointer.is_empty() || pointer.starts_with('/')
}

/// Whether two JSON values certainly have one canonical text (J1): equal, with numbers
/// compared by representation (`0.0 == -0.0` as `f64`, but their texts differ) and object
/// entries in one order. `false` says nothing; callers fall back to comparing texts.
pub(crate) fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), x.is_f64(), y.is_f64()) {
            (Some(fx), true, true) => y.as_f64().is_some_and(|fy| fx.to_bits() == fy.to_bits()),
            (_, false, false) => x == y,
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((kx, vx), (ky, vy))| kx == ky && same_json(vx, vy))
        }
        (x, y) => x == y,
    }
}

/// Whether two JSON values are equal under J1, without writing their canonical texts when
/// they are plainly equal (a replayed append's payload, most often).
pub(crate) fn json_values_equal(a: &Value, b: &Value) -> bool {
    same_json(a, b) || json_equal(a, b)
}

/// Whether two serializable values are equal under J1.
pub(crate) fn json_equal<T: serde::Serialize>(a: &T, b: &T) -> bool {
    procreg::canonical::canonical_json_of(a) == procreg::canonical::canonical_json_of(b)
}
