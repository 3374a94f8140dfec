//! Wake bugs (E7, E9, E12, E13): wakes materialized by the wrong truthiness, rendered in the
//! wrong form, given a made-up target, hashed wrongly, listed or acknowledged wrongly.

use async_trait::async_trait;
use procreg::canonical::{sha256_hex, to_canonical_json, wake_id};
use procreg::{
    ErrorKind, MaterializedWake, PluginError, ProcessEvent, ProcessEventAppendRequest,
    ProcessEventAppendResult, ProcessRecord, ProcessRegistry, ProcessWakeDelivery, ProcessWakeSpec,
    WakeDedupeKey,
};
use serde_json::Value;

use super::{Base, Broken, Twist, wrap};

pub const BROKEN: &[Broken] = &[
    Broken {
        name: "wakes::only_null_and_false_are_falsy",
        bug: "E7: `when` treats only null and false as falsy, so \"\", [] and {} materialize a wake",
        make: |clock| wrap(clock, OnlyNullAndFalseAreFalsy),
    },
    Broken {
        name: "wakes::target_defaults_to_owner",
        bug: "E7: a materialized wake without a target is sent to the process's owner scope instead of WakeTargetRequired",
        make: |clock| wrap(clock, TargetDefaultsToOwner),
    },
    Broken {
        name: "wakes::strings_rendered_quoted",
        bug: "E7: a string wake input or pointer dedupe key is rendered as JSON (quoted), not as is",
        make: |clock| wrap(clock, Rerendered(quoted)),
    },
    Broken {
        name: "wakes::json_values_lose_float_form",
        bug: "E7/J1: non-string wake values are rendered after a trip through f64 (1.0 becomes 1, -0.0 becomes 0)",
        make: |clock| wrap(clock, Rerendered(through_f64)),
    },
    Broken {
        name: "wakes::wake_id_without_separator",
        bug: "E9: the wake id hashes `<scope id><dedupe key>` without the newline between them",
        make: |clock| wrap(clock, WakeIdWithoutSeparator),
    },
    Broken {
        name: "wakes::pending_wakes_ignore_after",
        bug: "E12: wake_events_after ignores its `after` argument and lists every pending wake",
        make: |clock| wrap(clock, PendingWakesIgnoreAfter),
    },
    Broken {
        name: "wakes::ack_leaves_wake_pending",
        bug: "E13: ack_wake validates its arguments but never clears the pending flag",
        make: |clock| wrap(clock, AckLeavesWakePending),
    },
    Broken {
        name: "wakes::ack_of_unknown_event_ok",
        bug: "E13: ack_wake of a sequence the process never had answers Ok instead of UnknownEvent",
        make: |clock| wrap(clock, AckOfUnknownEventOk),
    },
    Broken {
        name: "wakes::missing_value_renders_empty",
        bug: "E7: a wake input or dedupe pointer that finds no value renders as \"\" instead of InvalidEvent",
        make: |clock| wrap(clock, MissingValueRendersEmpty),
    },
];

/// The wake spec of `event_type` on `record`, if it is a wake type.
fn wake_spec(record: &ProcessRecord, event_type: &str) -> Option<ProcessWakeSpec> {
    record.event_type(event_type)?.wake.clone()
}

/// E7's rendering: a string as is, other JSON as canonical JSON.
fn rendered(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => to_canonical_json(other),
    }
}

/// Rewrites the wake of an append result (and its delivery) with input and pointer key
/// rendered by `render`.
fn rerender(
    result: &mut ProcessEventAppendResult,
    spec: &ProcessWakeSpec,
    render: fn(&Value) -> String,
) {
    let payload = result.event.payload.clone();
    let Some(wake) = result.event.wake.as_mut() else {
        return;
    };
    if let Some(input) = payload.pointer(&spec.input) {
        wake.input = render(input);
    }
    if let WakeDedupeKey::Pointer(pointer) = &spec.dedupe_key
        && let Some(key) = payload.pointer(pointer)
    {
        wake.dedupe_key = render(key);
    }
    if result.wake_delivery.is_some() {
        result.wake_delivery = ProcessWakeDelivery::from_event(&result.event);
    }
}

struct OnlyNullAndFalseAreFalsy;

impl OnlyNullAndFalseAreFalsy {
    /// The wake this bug materializes where the contract materializes none.
    fn extra_wake(
        spec: &ProcessWakeSpec,
        request: &ProcessEventAppendRequest,
    ) -> Option<(String, WakeDedupeKey)> {
        let when = request.payload.pointer(spec.when.as_deref()?)?;
        let js_truthy = when == &Value::String(String::new())
            || when.as_array().is_some_and(Vec::is_empty)
            || when.as_object().is_some_and(|m| m.is_empty());
        let input = request.payload.pointer(&spec.input)?;
        js_truthy.then(|| (rendered(input), spec.dedupe_key.clone()))
    }
}

#[async_trait]
impl Twist for OnlyNullAndFalseAreFalsy {
    async fn append_event(
        &self,
        base: &Base,
        process_id: &str,
        request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        let spec = base
            .record(process_id)
            .await
            .and_then(|r| wake_spec(&r, &request.event_type));
        let extra = spec.and_then(|spec| Self::extra_wake(&spec, &request));
        let target = request.wake_target_scope.clone();
        if extra.is_some() && target.is_none() {
            return Err(PluginError::WakeTargetRequired {
                process_id: process_id.to_owned(),
                event_type: request.event_type.clone(),
            });
        }
        let mut result = base.inner.append_event(process_id, request).await?;
        if let (Some((input, key)), Some(target)) = (extra, target)
            && !result.replayed
        {
            let event = &result.event;
            let dedupe_key = match key {
                WakeDedupeKey::EventIdentity => format!("{process_id}:{}", event.sequence),
                WakeDedupeKey::Pointer(p) => {
                    event.payload.pointer(&p).map(rendered).unwrap_or_default()
                }
                WakeDedupeKey::Const(k) => k,
            };
            result.event.wake = Some(MaterializedWake {
                target_scope: target.normalized(),
                input,
                dedupe_key,
            });
            result.wake_delivery = ProcessWakeDelivery::from_event(&result.event);
        }
        Ok(result)
    }
}

struct TargetDefaultsToOwner;

#[async_trait]
impl Twist for TargetDefaultsToOwner {
    async fn append_event(
        &self,
        base: &Base,
        process_id: &str,
        request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        let answer = base.inner.append_event(process_id, request.clone()).await;
        match answer {
            Err(e) if e.kind() == ErrorKind::WakeTargetRequired => {
                let record = base.record(process_id).await.ok_or(e)?;
                let owner = record.provenance.owner_scope;
                let retried = request.with_wake_target(owner);
                base.inner.append_event(process_id, retried).await
            }
            other => other,
        }
    }
}

/// Wake values rendered by the function inside instead of E7's rendering.
struct Rerendered(fn(&Value) -> String);

fn quoted(value: &Value) -> String {
    to_canonical_json(value)
}

fn through_f64(value: &Value) -> String {
    fn lossy(value: &Value) -> Value {
        match value {
            Value::Number(n) => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => Value::from(f as i64),
                _ => value.clone(),
            },
            Value::Array(items) => Value::Array(items.iter().map(lossy).collect()),
            Value::Object(map) => {
                Value::Object(map.iter().map(|(k, v)| (k.clone(), lossy(v))).collect())
            }
            other => other.clone(),
        }
    }
    rendered(&lossy(value))
}

#[async_trait]
impl Twist for Rerendered {
    async fn append_event(
        &self,
        base: &Base,
        process_id: &str,
        request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        let event_type = request.event_type.clone();
        let mut result = base.inner.append_event(process_id, request).await?;
        let record = base.record(process_id).await;
        if let Some(spec) = record.and_then(|r| wake_spec(&r, &event_type)) {
            rerender(&mut result, &spec, self.0);
        }
        Ok(result)
    }
}

struct WakeIdWithoutSeparator;

#[async_trait]
impl Twist for WakeIdWithoutSeparator {
    async fn append_event(
        &self,
        base: &Base,
        process_id: &str,
        request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        let mut result = base.inner.append_event(process_id, request).await?;
        if let Some(delivery) = result.wake_delivery.as_mut() {
            let text = format!("{}{}", delivery.target_scope.id(), delivery.dedupe_key);
            delivery.wake_id = format!("wake:{}", sha256_hex(text.as_bytes()));
            debug_assert_ne!(
                delivery.wake_id,
                wake_id(&delivery.target_scope, &delivery.dedupe_key)
            );
        }
        Ok(result)
    }
}

struct PendingWakesIgnoreAfter;

#[async_trait]
impl Twist for PendingWakesIgnoreAfter {
    async fn wake_events_after(
        &self,
        base: &Base,
        process_id: &str,
        _after: u64,
    ) -> Result<Vec<ProcessEvent>, PluginError> {
        base.inner.wake_events_after(process_id, 0).await
    }
}

struct AckLeavesWakePending;

#[async_trait]
impl Twist for AckLeavesWakePending {
    async fn ack_wake(
        &self,
        base: &Base,
        process_id: &str,
        sequence: u64,
    ) -> Result<(), PluginError> {
        let events = base.inner.events_after(process_id, 0).await?;
        if events.iter().any(|e| e.sequence == sequence) {
            Ok(())
        } else {
            Err(PluginError::UnknownEvent {
                process_id: process_id.to_owned(),
                sequence,
            })
        }
    }
}

struct AckOfUnknownEventOk;

#[async_trait]
impl Twist for AckOfUnknownEventOk {
    async fn ack_wake(
        &self,
        base: &Base,
        process_id: &str,
        sequence: u64,
    ) -> Result<(), PluginError> {
        match base.inner.ack_wake(process_id, sequence).await {
            Err(e) if e.kind() == ErrorKind::UnknownEvent => Ok(()),
            other => other,
        }
    }
}

struct MissingValueRendersEmpty;

/// Sets `""` at every top-level pointer (`/name`) of the spec that finds no value.
fn fill_missing(payload: &mut Value, spec: &ProcessWakeSpec) {
    let mut pointers = vec![spec.input.clone()];
    if let WakeDedupeKey::Pointer(p) = &spec.dedupe_key {
        pointers.push(p.clone());
    }
    for pointer in pointers {
        if payload.pointer(&pointer).is_none()
            && let (Some(name), Some(map)) = (pointer.strip_prefix('/'), payload.as_object_mut())
        {
            map.insert(name.to_owned(), Value::String(String::new()));
        }
    }
}

#[async_trait]
impl Twist for MissingValueRendersEmpty {
    async fn append_event(
        &self,
        base: &Base,
        process_id: &str,
        request: ProcessEventAppendRequest,
    ) -> Result<ProcessEventAppendResult, PluginError> {
        let answer = base.inner.append_event(process_id, request.clone()).await;
        let spec = base
            .record(process_id)
            .await
            .and_then(|r| wake_spec(&r, &request.event_type));
        match (answer, spec) {
            (Err(e), Some(spec)) if e.kind() == ErrorKind::InvalidEvent => {
                let mut filled = request;
                fill_missing(&mut filled.payload, &spec);
                base.inner.append_event(process_id, filled).await
            }
            (answer, _) => answer,
        }
    }
}
