//! When the Model's answer matches what a caller was told: `Ok` outputs exactly (JSON per
//! J1, lease tokens up to renaming), errors by kind only (A2), anything for indefinite calls.

use procreg::{ErrorKind, PluginError, ProcessAwaitOutput, ProcessEvent, ProcessRecord};
use procreg_reference::OpOutput;
use serde_json::Value;

/// What the Model must answer for a placed call to match.
#[derive(Clone, Copy, Debug)]
pub(super) enum Expect<'a> {
    /// Exactly this output (leases up to token renaming, JSON per J1).
    Output(&'a OpOutput),
    /// An error of this kind.
    Error(ErrorKind),
    /// Anything: the caller never learnt the answer (A2).
    Anything,
}

impl Expect<'_> {
    /// Whether the Model's answer `got` matches.
    pub(super) fn matches(&self, got: &Result<OpOutput, PluginError>) -> bool {
        match (self, got) {
            (Expect::Anything, _) => true,
            (Expect::Error(kind), Err(error)) => error.kind() == *kind,
            (Expect::Output(observed), Ok(model)) => outputs_match(observed, model),
            _ => false,
        }
    }
}

/// Whether an observed output equals the Model's.
///
/// Leases compare every field but the token (tokens are the backend's choice; their
/// one-to-one correspondence is checked once per partition, Z31). `Pending` never
/// matches: a real wait does not return it. JSON inside compares per J1, which is stricter
/// than `serde_json`'s `PartialEq` in one place: `0.0` and `-0.0` differ.
pub(super) fn outputs_match(observed: &OpOutput, model: &OpOutput) -> bool {
    match (observed, model) {
        (OpOutput::Pending, _) | (_, OpOutput::Pending) => false,
        (OpOutput::Lease(seen), OpOutput::Lease(applied)) => {
            seen.process_id == applied.process_id
                && seen.owner_id == applied.owner_id
                && seen.fencing_token == applied.fencing_token
                && seen.claimed_at_ms == applied.claimed_at_ms
                && seen.expires_at_ms == applied.expires_at_ms
        }
        _ => observed == model && same_json_inside(observed, model),
    }
}

/// Given `a == b`, whether the JSON values inside them are also equal per J1.
fn same_json_inside(a: &OpOutput, b: &OpOutput) -> bool {
    let records = |x: &[ProcessRecord], y: &[ProcessRecord]| {
        x.iter().zip(y).all(|(x, y)| same_record_json(x, y))
    };
    let events = |x: &[ProcessEvent], y: &[ProcessEvent]| {
        x.iter()
            .zip(y)
            .all(|(x, y)| same_json(&x.payload, &y.payload))
    };
    match (a, b) {
        (OpOutput::Record(x), OpOutput::Record(y)) => same_record_json(x, y),
        (OpOutput::MaybeRecord(Some(x)), OpOutput::MaybeRecord(Some(y))) => same_record_json(x, y),
        (OpOutput::Records(x), OpOutput::Records(y)) => records(x, y),
        (OpOutput::GrantEntries(x), OpOutput::GrantEntries(y)) => x
            .iter()
            .zip(y)
            .all(|(x, y)| same_record_json(&x.record, &y.record)),
        (OpOutput::Append(x), OpOutput::Append(y)) => same_json(&x.event.payload, &y.event.payload),
        (OpOutput::Event(x), OpOutput::Event(y)) => same_json(&x.payload, &y.payload),
        (OpOutput::Events(x), OpOutput::Events(y)) => events(x, y),
        (OpOutput::AwaitOutput(x), OpOutput::AwaitOutput(y)) => same_output_json(x, y),
        _ => true,
    }
}

fn same_record_json(a: &ProcessRecord, b: &ProcessRecord) -> bool {
    let metadata_same = match (metadata(a), metadata(b)) {
        (Some(x), Some(y)) => same_json(x, y),
        (x, y) => x.is_none() && y.is_none(),
    };
    let output_same = match (a.status.await_output(), b.status.await_output()) {
        (Some(x), Some(y)) => same_output_json(x, y),
        _ => true,
    };
    same_json(&a.input, &b.input) && metadata_same && output_same
}

/// The external ref's metadata of a record, if any.
fn metadata(record: &ProcessRecord) -> Option<&Value> {
    record.external_ref.as_ref()?.metadata.as_ref()
}

fn same_output_json(a: &ProcessAwaitOutput, b: &ProcessAwaitOutput) -> bool {
    match (a, b) {
        (ProcessAwaitOutput::Success { value: x }, ProcessAwaitOutput::Success { value: y }) => {
            same_json(x, y)
        }
        _ => true,
    }
}

/// J1 equality of two values `serde_json` already calls equal: floats must also agree bit
/// for bit (their canonical text is then the same).
pub(super) fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            _ if x.is_f64() != y.is_f64() => false,
            (Some(x), Some(y)) if x.to_bits() != y.to_bits() => false,
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(key, x)| y.get(key).is_some_and(|y| same_json(x, y)))
        }
        _ => a == b,
    }
}
