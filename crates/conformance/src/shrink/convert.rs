//! A finished run as a world scenario: every call a client made becomes a timed step by that
//! client, with the link fault the plan gave it, and the run's registry crashes and the
//! plan's partitions become steps too.
//!
//! Why it exists: the shrinker minimizes text, not plans, so that what it tests is byte for
//! byte what it writes. What cannot be written is left out and counted (a `renew` presenting a
//! lease its client never got, the duplicate copies the link makes itself), and the shrinker
//! only keeps a conversion that still fails: nothing here has to be perfect, only honest.

use std::collections::BTreeMap;

use procreg_reference::Op;
use procreg_sim::history::CallRecord;
use procreg_sim::world::START_MS;
use procreg_sim::{CrashEvent, FaultPlan, RunReport};

use crate::scenario::{Actors, StepFaults, lease_step_text, op_text, saw_text};

/// One step of a converted run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// When it starts, virtual ms since the run began.
    pub at_ms: u64,
    /// The step after `@T`, faults included.
    pub step: String,
    /// The client that makes the call; `None` for a crash or a partition.
    pub actor: Option<String>,
    /// What the call got, for the `# saw` comment.
    pub saw: Option<String>,
}

impl Line {
    /// The line as the file writes it.
    pub fn render(&self) -> String {
        let head = format!("@{:<5} {}", self.at_ms, self.step);
        match &self.saw {
            Some(saw) => format!("{head:<60} # saw {saw}"),
            None => head,
        }
    }
}

/// A run's steps, and how many calls could not be written.
#[derive(Clone, Debug)]
pub struct Converted {
    /// The steps, in start order.
    pub lines: Vec<Line>,
    /// Calls left out because no step writes them.
    pub left_out: usize,
}

/// Converts `run`, made under `plan`.
pub fn convert(run: &RunReport, plan: &FaultPlan) -> Converted {
    let calls: Vec<&CallRecord> = run
        .history
        .calls()
        .iter()
        .filter(|c| !c.client.ends_with("+dup"))
        .collect();
    let mut books = LeaseBooks::default();
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    let mut lines = Vec::new();
    let mut left_out = 0;
    for (position, call) in calls.iter().enumerate() {
        let index = counts.entry(call.client.as_str()).or_insert(0);
        let at_ms = call.invoke_ms.saturating_sub(START_MS);
        let faults = StepFaults {
            link: (at_ms < plan.faults_end_ms)
                .then(|| plan.link_fault(&call.client, *index).cloned())
                .flatten(),
            cut_at_ms: cut_at(call, &calls[position + 1..], plan),
        };
        *index += 1;
        let step = books.step_text(call);
        books.observe(call);
        let Some(step) = step else {
            left_out += 1;
            continue;
        };
        lines.push(Line {
            at_ms,
            step: format!("{step}{}", crate::scenario::render_faults(&faults)),
            actor: Some(call.client.clone()),
            saw: Some(saw_text(&call.op, call.outcome())),
        });
    }
    for crash in &run.registry_crashes {
        lines.push(Line {
            at_ms: crash.saturating_sub(START_MS),
            step: "crash".into(),
            actor: None,
            saw: None,
        });
    }
    for partition in plan
        .partitions
        .iter()
        .filter(|p| p.from_ms < plan.faults_end_ms)
    {
        lines.push(Line {
            at_ms: partition.from_ms,
            step: format!(
                "partition {} until={}",
                crate::scenario::render_word(&partition.client),
                partition.until_ms.min(plan.faults_end_ms)
            ),
            actor: None,
            saw: None,
        });
    }
    lines.sort_by_key(|l| l.at_ms);
    Converted { lines, left_out }
}

/// When a call that never returned was given up by its client: the client made another call
/// later, so it was dropped (a worker crash), at the planned crash in between if there is one,
/// else when the next call started. A call still waiting at the end is not cut.
fn cut_at(call: &CallRecord, later: &[&CallRecord], plan: &FaultPlan) -> Option<u64> {
    if call.outcome.is_some() {
        return None;
    }
    let next = later.iter().find(|c| c.client == call.client)?;
    let (from, until) = (
        call.invoke_ms.saturating_sub(START_MS),
        next.invoke_ms.saturating_sub(START_MS),
    );
    let planned = plan.crashes.iter().find_map(|c| match *c {
        CrashEvent::Worker { at_ms, .. } if (from..=until).contains(&at_ms) => Some(at_ms),
        _ => None,
    });
    Some(planned.unwrap_or(until))
}

/// Each call as a step of its client, the lease calls presenting what the client's book holds
/// (the scenario runner's own [`Actors`] book, so a `renew` is written exactly as it will be
/// read back: the latest lease bare, an older one by its fence).
#[derive(Default)]
struct LeaseBooks {
    book: Actors,
}

impl LeaseBooks {
    fn step_text(&self, call: &CallRecord) -> Option<String> {
        let actor = call.client.as_str();
        let (process_id, lease_token) = match &*call.op {
            Op::RenewLease { lease, .. } => (&lease.process_id, &lease.lease_token),
            Op::CompleteLease { completion } => (&completion.process_id, &completion.lease_token),
            Op::ClaimLease { .. } => return lease_step_text(actor, &call.op, None),
            op => {
                let text = op_text(op)?;
                return Some(format!("{}: {text}", crate::scenario::render_word(actor)));
            }
        };
        let fence = self.book.fence_for(actor, process_id, lease_token)?;
        lease_step_text(actor, &call.op, fence)
    }

    fn observe(&mut self, call: &CallRecord) {
        let answer = match call.outcome() {
            Some(Ok(output)) => Some(output),
            _ => None,
        };
        self.book.observe(Some(&call.client), &call.op, answer);
    }
}
