//! Lost appends that answers prove took effect (A2, E8): they become required, with a
//! deadline.
//!
//! An indefinite call is optional: it may or may not have taken effect. But an event a
//! definite read returned exists, and some append made it. If no definite append answered
//! with that event (same process and sequence), it was not in the epoch's initial state, and
//! exactly one lost append carries its type and payload (J1), that lost append made it: it
//! took effect, and before the read. Marking it required with the read's return as deadline
//! lets the just-in-time pruning place it where it belongs instead of trying every lost call
//! everywhere. Two lost appends with the same type and payload stay optional (either could
//! be the one), as do lost claims: what reveals them (`LeaseHeld` holders, fencing gaps) is
//! not compared (errors match by kind) or not tied to one call.

use std::collections::BTreeSet;

use procreg::ProcessEvent;
use procreg_reference::{Model, Op, OpOutput};

use super::entry::Entry;
use super::matching::same_json;

/// Marks the lost appends whose events definite answers show (see the module docs).
pub(super) fn mark_revealed(entries: &mut [Entry], initial: &Model) {
    let mut produced = BTreeSet::new();
    let mut seen: Vec<(&ProcessEvent, u64)> = Vec::new();
    for entry in entries.iter() {
        let (Some(Ok(output)), Some(returned)) = (entry.call.outcome(), entry.call.return_ms)
        else {
            continue;
        };
        match output {
            OpOutput::Append(result) if !result.replayed => {
                produced.insert((result.event.process_id.as_str(), result.event.sequence));
            }
            OpOutput::Append(result) => seen.push((&result.event, returned)),
            OpOutput::Event(event) => seen.push((event, returned)),
            OpOutput::Events(events) => seen.extend(events.iter().map(|e| (e, returned))),
            _ => {}
        }
    }
    let mut reveals: Vec<(usize, u64)> = Vec::new();
    for (event, returned) in seen {
        let initially = initial.events(&event.process_id).len() as u64;
        if event.sequence <= initially
            || produced.contains(&(event.process_id.as_str(), event.sequence))
        {
            continue;
        }
        let mut makers = entries
            .iter()
            .enumerate()
            .filter(|(_, entry)| entry.call.is_indefinite() && appends(entry, event));
        if let (Some((maker, _)), None) = (makers.next(), makers.next()) {
            reveals.push((maker, returned));
        }
    }
    for (maker, returned) in reveals {
        let entry = &mut entries[maker];
        entry.required = true;
        entry.deadline_ms = entry.deadline_ms.min(returned);
    }
}

/// Whether `entry` appends an event of `event`'s type and payload to its process.
fn appends(entry: &Entry, event: &ProcessEvent) -> bool {
    match &*entry.call.op {
        Op::AppendEvent {
            process_id,
            request,
        } => {
            *process_id == event.process_id
                && request.event_type == event.event_type
                && request.payload == event.payload
                && same_json(&request.payload, &event.payload)
        }
        _ => false,
    }
}
