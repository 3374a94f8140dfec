//! The fields an expectation can check (`fence=2`, `seq=3`, `ids=p1,p2`), one table per kind of
//! answer, so the parser can refuse a misspelt field, bless can pick sensible defaults and a
//! failure can print the same fields for expected and actual.
//!
//! Every field is a projection of an [`OpOutput`] (or of a [`PluginError`]) to a [`FieldValue`].
//! Times are shown in milliseconds since the scenario started ([`START_MS`]), so files never hold
//! wall-clock numbers. Lease tokens are not a field: they are backend-specific (L2 only asks
//! that they are new), so a scenario could never bless them from the Model.

use procreg::canonical::to_canonical_json;
use procreg::{
    ErrorKind, PluginError, ProcessAwaitOutput, ProcessEvent, ProcessHandleGrant, ProcessRecord,
    ProcessStatus,
};
use procreg_reference::OpOutput;
use serde_json::Value;

use super::values::{render_scope, render_text};
use crate::ctx::START_MS;

/// The kind of answer a verb gives: which fields it has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    Record,
    MaybeRecord,
    Append,
    Events,
    Event,
    AwaitOutput,
    Grant,
    Grants,
    GrantEntries,
    Bool,
    DeleteReport,
    Lease,
    Records,
    Unit,
}

/// How an expected value is written and compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A word or JSON string; `none` when absent.
    Text,
    /// A scope: `s1` or `s1/f1`.
    Scope,
    /// A whole number (times are relative to the scenario start).
    Int,
    /// `true` or `false`.
    Bool,
    /// Any JSON value, compared by canonical text (J1); `none` when absent.
    Json,
    /// Comma-separated words, `[]` when empty.
    List,
    /// Comma-separated scopes.
    ScopeList,
}

/// A field's value, typed so that `"p1"` and `p1`, or `{"a": 1}` and `{"a":1}`, compare equal.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum FieldValue {
    Absent,
    Text(String),
    Int(i128),
    Bool(bool),
    /// Canonical JSON text (J1).
    Json(String),
    List(Vec<String>),
}

impl FieldValue {
    /// The value as an expectation writes it.
    pub(crate) fn render(&self) -> String {
        match self {
            FieldValue::Absent => "none".into(),
            FieldValue::Text(text) => render_text(text),
            FieldValue::Int(n) => n.to_string(),
            FieldValue::Bool(b) => b.to_string(),
            FieldValue::Json(json) => json.clone(),
            FieldValue::List(items) if items.is_empty() => "[]".into(),
            FieldValue::List(items) => items.join(","),
        }
    }
}

type Getter = fn(&OpOutput) -> FieldValue;

/// One checkable field of a shape.
pub(crate) struct FieldSpec {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    get: Getter,
}

impl FieldSpec {
    pub(crate) fn get(&self, output: &OpOutput) -> FieldValue {
        (self.get)(output)
    }
}

macro_rules! field {
    ($name:literal, $kind:ident, $get:expr) => {
        FieldSpec {
            name: $name,
            kind: Kind::$kind,
            get: $get,
        }
    };
}

fn time(ms: u64) -> FieldValue {
    FieldValue::Int(i128::from(ms) - i128::from(START_MS))
}

fn json(value: &Value) -> FieldValue {
    FieldValue::Json(to_canonical_json(value))
}

fn opt_text(text: Option<&String>) -> FieldValue {
    text.map_or(FieldValue::Absent, |t| FieldValue::Text(t.clone()))
}

fn count<T>(items: &[T]) -> FieldValue {
    FieldValue::Int(items.len() as i128)
}

fn list<T>(items: &[T], f: impl Fn(&T) -> String) -> FieldValue {
    FieldValue::List(items.iter().map(f).collect())
}

/// The record inside a `Record` or `MaybeRecord` answer.
fn record(output: &OpOutput) -> Option<&ProcessRecord> {
    match output {
        OpOutput::Record(r) | OpOutput::MaybeRecord(Some(r)) => Some(r),
        _ => None,
    }
}

fn on_record(output: &OpOutput, f: impl Fn(&ProcessRecord) -> FieldValue) -> FieldValue {
    record(output).map_or(FieldValue::Absent, f)
}

pub(crate) fn state_name(status: &ProcessStatus) -> &'static str {
    match status {
        ProcessStatus::Running => "running",
        ProcessStatus::Completed { .. } => "completed",
        ProcessStatus::Failed { .. } => "failed",
        ProcessStatus::Cancelled { .. } => "cancelled",
    }
}

fn output_type(output: &ProcessAwaitOutput) -> &'static str {
    match output {
        ProcessAwaitOutput::Success { .. } => "success",
        ProcessAwaitOutput::Failure { .. } => "failure",
        ProcessAwaitOutput::Cancelled { .. } => "cancelled",
    }
}

fn json_of<T: serde::Serialize>(value: &T) -> FieldValue {
    serde_json::to_value(value).map_or(FieldValue::Absent, |v| json(&v))
}

const RECORD: &[FieldSpec] = &[
    field!("state", Text, |o| on_record(o, |r| {
        FieldValue::Text(state_name(&r.status).into())
    })),
    field!("created", Int, |o| on_record(o, |r| time(r.created_at_ms))),
    field!("updated", Int, |o| on_record(o, |r| time(r.updated_at_ms))),
    field!("output", Json, |o| on_record(o, |r| {
        r.status.await_output().map_or(FieldValue::Absent, json_of)
    })),
    field!("ref", Text, |o| on_record(o, |r| match &r.external_ref {
        Some(x) => FieldValue::Text(format!("{}:{}", x.backend, x.id)),
        None => FieldValue::Absent,
    })),
    field!("ref-meta", Json, |o| on_record(o, |r| {
        r.external_ref
            .as_ref()
            .and_then(|x| x.metadata.as_ref())
            .map_or(FieldValue::Absent, json)
    })),
    field!("input", Json, |o| on_record(o, |r| json(&r.input))),
    field!("types", List, |o| on_record(o, |r| {
        list(&r.event_types, |t| t.name.clone())
    })),
    field!("owner", Scope, |o| on_record(o, |r| {
        FieldValue::Text(render_scope(&r.provenance.owner_scope))
    })),
    field!("host", Text, |o| on_record(o, |r| {
        FieldValue::Text(r.provenance.host_profile_id.clone())
    })),
    field!("hash", Text, |o| on_record(o, |r| {
        FieldValue::Text(r.registration_hash.clone())
    })),
];

fn append(
    output: &OpOutput,
    f: impl Fn(&procreg::ProcessEventAppendResult) -> FieldValue,
) -> FieldValue {
    match output {
        OpOutput::Append(a) => f(a),
        _ => FieldValue::Absent,
    }
}

fn wake(output: &OpOutput, f: impl Fn(&procreg::ProcessWakeDelivery) -> FieldValue) -> FieldValue {
    append(output, |a| {
        a.wake_delivery.as_ref().map_or(FieldValue::Absent, &f)
    })
}

const APPEND: &[FieldSpec] = &[
    field!("seq", Int, |o| append(o, |a| FieldValue::Int(
        a.event.sequence.into()
    ))),
    field!("replayed", Bool, |o| append(o, |a| FieldValue::Bool(
        a.replayed
    ))),
    field!("at", Int, |o| append(o, |a| time(a.event.occurred_at_ms))),
    field!("type", Text, |o| append(o, |a| FieldValue::Text(
        a.event.event_type.clone()
    ))),
    field!("key", Text, |o| append(o, |a| opt_text(
        a.event.replay_key.as_ref()
    ))),
    field!("terminal", Text, |o| append(o, |a| {
        match a.event.terminal {
            Some(t) => json_text(&t),
            None => FieldValue::Absent,
        }
    })),
    field!("wake", Text, |o| wake(o, |w| FieldValue::Text(
        w.dedupe_key.clone()
    ))),
    field!("wake-input", Text, |o| wake(o, |w| FieldValue::Text(
        w.input.clone()
    ))),
    field!("wake-target", Scope, |o| wake(o, |w| FieldValue::Text(
        render_scope(&w.target_scope)
    ))),
    field!("wake-id", Text, |o| wake(o, |w| FieldValue::Text(
        w.wake_id.clone()
    ))),
    field!("wake-at", Int, |o| wake(o, |w| time(w.created_at_ms))),
];

/// A serde enum's snake_case name (`completed`).
fn json_text<T: serde::Serialize>(value: &T) -> FieldValue {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => FieldValue::Text(s),
        _ => FieldValue::Absent,
    }
}

fn events(output: &OpOutput, f: impl Fn(&[ProcessEvent]) -> FieldValue) -> FieldValue {
    match output {
        OpOutput::Events(e) => f(e),
        _ => FieldValue::Absent,
    }
}

const EVENTS: &[FieldSpec] = &[
    field!("seqs", List, |o| events(o, |e| list(e, |e| e
        .sequence
        .to_string()))),
    field!("count", Int, |o| events(o, count)),
    field!("types", List, |o| events(o, |e| list(e, |e| e
        .event_type
        .clone()))),
    field!("payloads", Json, |o| events(o, |e| {
        json(&Value::Array(e.iter().map(|e| e.payload.clone()).collect()))
    })),
    field!("wakes", List, |o| events(o, |e| list(e, |e| {
        e.wake
            .as_ref()
            .map_or_else(|| "-".into(), |w| w.dedupe_key.clone())
    }))),
    field!("targets", ScopeList, |o| events(o, |e| list(e, |e| {
        e.wake
            .as_ref()
            .map_or_else(|| "-".into(), |w| render_scope(&w.target_scope))
    }))),
];

fn event(output: &OpOutput, f: impl Fn(&ProcessEvent) -> FieldValue) -> FieldValue {
    match output {
        OpOutput::Event(e) => f(e),
        _ => FieldValue::Absent,
    }
}

const EVENT: &[FieldSpec] = &[
    field!("seq", Int, |o| event(o, |e| FieldValue::Int(
        e.sequence.into()
    ))),
    field!("type", Text, |o| event(o, |e| FieldValue::Text(
        e.event_type.clone()
    ))),
    field!("payload", Json, |o| event(o, |e| json(&e.payload))),
    field!("at", Int, |o| event(o, |e| time(e.occurred_at_ms))),
    field!("key", Text, |o| event(o, |e| opt_text(
        e.replay_key.as_ref()
    ))),
];

fn await_output(output: &OpOutput, f: impl Fn(&ProcessAwaitOutput) -> FieldValue) -> FieldValue {
    match output {
        OpOutput::AwaitOutput(a) => f(a),
        _ => FieldValue::Absent,
    }
}

const AWAIT: &[FieldSpec] = &[
    field!("result", Text, |o| await_output(o, |a| FieldValue::Text(
        output_type(a).into()
    ))),
    field!("value", Json, |o| await_output(o, |a| match a {
        ProcessAwaitOutput::Success { value } => json(value),
        _ => FieldValue::Absent,
    })),
    field!("code", Text, |o| await_output(o, |a| match a {
        ProcessAwaitOutput::Failure { code, .. } => FieldValue::Text(code.clone()),
        _ => FieldValue::Absent,
    })),
    field!("msg", Text, |o| await_output(o, |a| match a {
        ProcessAwaitOutput::Failure { message, .. } | ProcessAwaitOutput::Cancelled { message } => {
            FieldValue::Text(message.clone())
        }
        ProcessAwaitOutput::Success { .. } => FieldValue::Absent,
    })),
];

fn grant(output: &OpOutput, f: impl Fn(&ProcessHandleGrant) -> FieldValue) -> FieldValue {
    match output {
        OpOutput::Grant(g) => f(g),
        _ => FieldValue::Absent,
    }
}

const GRANT: &[FieldSpec] = &[
    field!("scope", Scope, |o| grant(o, |g| FieldValue::Text(
        render_scope(&g.scope)
    ))),
    field!("label", Text, |o| grant(o, |g| opt_text(
        g.descriptor.label.as_ref()
    ))),
    field!("kind", Text, |o| grant(o, |g| opt_text(
        g.descriptor.kind.as_ref()
    ))),
];

fn grants(output: &OpOutput, f: impl Fn(&[ProcessHandleGrant]) -> FieldValue) -> FieldValue {
    match output {
        OpOutput::Grants(g) => f(g),
        _ => FieldValue::Absent,
    }
}

const GRANTS: &[FieldSpec] = &[
    field!("scopes", ScopeList, |o| grants(o, |g| list(g, |g| {
        render_scope(&g.scope)
    }))),
    field!("count", Int, |o| grants(o, count)),
    field!("labels", List, |o| grants(o, |g| list(g, |g| {
        g.descriptor.label.clone().unwrap_or_else(|| "-".into())
    }))),
];

fn entries(
    output: &OpOutput,
    f: impl Fn(&[procreg::ProcessHandleGrantEntry]) -> FieldValue,
) -> FieldValue {
    match output {
        OpOutput::GrantEntries(g) => f(g),
        _ => FieldValue::Absent,
    }
}

const ENTRIES: &[FieldSpec] = &[
    field!("ids", List, |o| entries(o, |g| list(g, |e| e
        .grant
        .process_id
        .clone()))),
    field!("count", Int, |o| entries(o, count)),
    field!("states", List, |o| entries(o, |g| list(g, |e| state_name(
        &e.record.status
    )
    .into()))),
    field!("labels", List, |o| entries(o, |g| list(g, |e| {
        e.grant
            .descriptor
            .label
            .clone()
            .unwrap_or_else(|| "-".into())
    }))),
];

const BOOL: &[FieldSpec] = &[field!("granted", Bool, |o| match o {
    OpOutput::Bool(b) => FieldValue::Bool(*b),
    _ => FieldValue::Absent,
})];

fn report(
    output: &OpOutput,
    f: impl Fn(&procreg::ProcessSessionDeleteReport) -> FieldValue,
) -> FieldValue {
    match output {
        OpOutput::DeleteReport(r) => f(r),
        _ => FieldValue::Absent,
    }
}

const REPORT: &[FieldSpec] = &[
    field!("revoked", Int, |o| report(o, |r| FieldValue::Int(
        r.revoked_handle_count.into()
    ))),
    field!("wakes", Int, |o| report(o, |r| FieldValue::Int(
        r.deleted_wake_count.into()
    ))),
    field!("cancel", List, |o| report(o, |r| FieldValue::List(
        r.cancel_process_ids.clone()
    ))),
    field!("preserved", List, |o| report(o, |r| {
        FieldValue::List(r.preserved_process_ids.clone())
    })),
];

fn lease(output: &OpOutput, f: impl Fn(&procreg::ProcessLease) -> FieldValue) -> FieldValue {
    match output {
        OpOutput::Lease(l) => f(l),
        _ => FieldValue::Absent,
    }
}

const LEASE: &[FieldSpec] = &[
    field!("fence", Int, |o| lease(o, |l| FieldValue::Int(
        l.fencing_token.into()
    ))),
    field!("owner", Text, |o| lease(o, |l| FieldValue::Text(
        l.owner_id.clone()
    ))),
    field!("claimed", Int, |o| lease(o, |l| time(l.claimed_at_ms))),
    field!("expires", Int, |o| lease(o, |l| time(l.expires_at_ms))),
];

const RECORDS: &[FieldSpec] = &[
    field!("ids", List, |o| match o {
        OpOutput::Records(r) => list(r, |r| r.id.clone()),
        _ => FieldValue::Absent,
    }),
    field!("count", Int, |o| match o {
        OpOutput::Records(r) => count(r),
        _ => FieldValue::Absent,
    }),
];

impl Shape {
    /// Every field this shape can check, in the order bless writes them.
    pub(crate) fn fields(self) -> &'static [FieldSpec] {
        match self {
            Shape::Record | Shape::MaybeRecord => RECORD,
            Shape::Append => APPEND,
            Shape::Events => EVENTS,
            Shape::Event => EVENT,
            Shape::AwaitOutput => AWAIT,
            Shape::Grant => GRANT,
            Shape::Grants => GRANTS,
            Shape::GrantEntries => ENTRIES,
            Shape::Bool => BOOL,
            Shape::DeleteReport => REPORT,
            Shape::Lease => LEASE,
            Shape::Records => RECORDS,
            Shape::Unit => &[],
        }
    }

    pub(crate) fn field(self, name: &str) -> Option<&'static FieldSpec> {
        self.fields().iter().find(|f| f.name == name)
    }

    /// The fields bless writes when it creates an `ok` expectation for `output`.
    pub(crate) fn default_fields(self, output: &OpOutput) -> Vec<&'static str> {
        let present = |name: &'static str| {
            self.field(name)
                .is_some_and(|f| f.get(output) != FieldValue::Absent)
        };
        let mut names: Vec<&'static str> = match self {
            Shape::Record | Shape::MaybeRecord => vec!["state"],
            Shape::Append => vec!["seq"],
            Shape::Events => vec!["seqs"],
            Shape::Event => vec!["seq", "type"],
            Shape::AwaitOutput => vec!["result", "value", "code", "msg"],
            Shape::Grant | Shape::Unit => vec![],
            Shape::Grants => vec!["scopes"],
            Shape::GrantEntries | Shape::Records => vec!["ids"],
            Shape::Bool => vec!["granted"],
            Shape::DeleteReport => vec!["revoked", "wakes", "cancel", "preserved"],
            Shape::Lease => vec!["fence"],
        };
        if self == Shape::Append {
            if self.field("replayed").map(|f| f.get(output)) == Some(FieldValue::Bool(true)) {
                names.push("replayed");
            }
            names.push("wake");
        }
        names.retain(|n| self == Shape::MaybeRecord || present(n));
        names
    }
}

/// The fields an error of `kind` can check: only `lease_held` carries any (L1).
pub(crate) fn error_fields(kind: ErrorKind) -> &'static [&'static str] {
    match kind {
        ErrorKind::LeaseHeld => &["holder", "expires"],
        _ => &[],
    }
}

/// What bless writes after `err <kind>` by default.
pub(crate) fn default_error_fields(kind: ErrorKind) -> &'static [&'static str] {
    match kind {
        ErrorKind::LeaseHeld => &["holder"],
        _ => &[],
    }
}

/// The kind of an error field (`holder` is a word, `expires` a time).
pub(crate) fn error_field_kind(name: &str) -> Kind {
    if name == "expires" {
        Kind::Int
    } else {
        Kind::Text
    }
}

/// An error's field value.
pub(crate) fn error_field(error: &PluginError, name: &str) -> FieldValue {
    match (error, name) {
        (
            PluginError::LeaseHeld {
                holder_owner_id, ..
            },
            "holder",
        ) => FieldValue::Text(holder_owner_id.clone()),
        (PluginError::LeaseHeld { expires_at_ms, .. }, "expires") => time(*expires_at_ms),
        _ => FieldValue::Absent,
    }
}
