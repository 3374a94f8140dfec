//! Linearizability of each seed's history against the Model (A1), one registry epoch at a
//! time, with a search budget; "unknown" is reported as such, never as a pass.
//!
//! Why it exists: the invariants and the workloads' own checks name precise properties; only
//! a search can say whether some order of all the calls explains every answer. Epoch 0 starts
//! from an empty Model; an epoch after a registry crash starts from the Model the world saw
//! in the reopened registry (its reopen probe), and is `unknown` when the target cannot show
//! it. What it leaves alone: how epochs relate (the durability checker's), liveness,
//! `list_non_terminal` reads (see `searched`), and the final reads the judge makes after the
//! run (they are not in the history).

use std::fmt;

use procreg_reference::{Model, Op};
use procreg_sim::check::Violation;
use procreg_sim::check::linearizable::{SearchBudget, Verdict, check_borrowed, check_epoch};
use procreg_sim::history::{CallRecord, History};
use procreg_sim::{LinkFault, RunReport};

use super::timeline::link_faults;

/// Search states each partition of each epoch may visit before the answer is `unknown`.
pub const LIN_BUDGET: SearchBudget = SearchBudget { max_states: 20_000 };

/// What the linearizability check said about one run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LinSummary {
    /// Not run (the run panicked or never started).
    #[default]
    NotRun,
    /// Not run because a cheaper check had already failed the seed.
    Skipped,
    /// Every epoch has a linearization.
    Linearizable {
        /// Search states visited in all.
        states: u64,
    },
    /// Some epoch has none: the failures hold an `A1` violation.
    Violated,
    /// No violation found, but nothing is claimed.
    Unknown {
        /// Why, for a person.
        reason: String,
    },
}

impl fmt::Display for LinSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinSummary::NotRun => f.write_str("not run"),
            LinSummary::Skipped => f.write_str("not searched (the seed had already failed)"),
            LinSummary::Linearizable { states } => write!(f, "linearizable ({states} states)"),
            LinSummary::Violated => f.write_str("NOT linearizable (A1)"),
            LinSummary::Unknown { reason } => write!(f, "unknown: {reason}"),
        }
    }
}

/// Whether the search takes `call`'s answer. `list_non_terminal` answers are left out (Z21;
/// a read that never returned constrains nothing, so keeping the call unanswered, as the
/// rebuilt history of a crashed run does, and leaving it out are the same; ids are the
/// run's either way): each one
/// reads every process, so it welds every per-process partition into one and the search runs
/// out of budget on the recovery workload. Leaving reads out can hide a violation, never
/// invent one; the worklist's own rule (N1) is the laws' to check.
fn searched(call: &CallRecord) -> bool {
    !matches!(*call.op, Op::ListNonTerminal)
}

/// The history with each call's epoch set to the registry incarnation that ran it.
///
/// The link records the epoch a call was *sent* in, but a call sent just before a registry
/// crash is delivered one latency later, to the reopened registry. The world crashes the
/// registry only once nothing can run before the crash instant, so a call delivered at or
/// before a crash ran on the old registry and one delivered after it on the new one. Delivery
/// is `invoke + latency (+ a planned delay)`. `None` when that cannot be told (no latency).
fn by_executing_epoch(run: &RunReport) -> Option<History> {
    if run.plan.latency_ms == 0 && !run.registry_crashes.is_empty() {
        return None;
    }
    let faults = link_faults(run);
    let mut out = History::new();
    for call in run.history.calls() {
        let delivered = if call.client.ends_with("+dup") {
            call.invoke_ms // a copy is sent as the original is answered
        } else {
            let delay = match faults.get(&call.id) {
                Some(LinkFault::Delay { delay_ms }) => *delay_ms,
                _ => 0,
            };
            call.invoke_ms + run.plan.latency_ms + delay
        };
        let crashed_before = run
            .registry_crashes
            .iter()
            .filter(|c| **c < delivered)
            .count();
        let epoch = (crashed_before as u32).max(call.epoch);
        copy_searched(&mut out, call, epoch);
    }
    Some(out)
}

/// Checks every epoch of `run`; returns the summary and the `A1` violation, if any.
pub fn check_run(run: &RunReport, budget: SearchBudget) -> (LinSummary, Option<Violation>) {
    let mut tally = Tally::default();
    if run.registry_crashes.is_empty() {
        // One epoch, executed where it was sent: the run's own calls, borrowed, not copied.
        let calls: Vec<&CallRecord> = run.history.calls().iter().filter(|c| searched(c)).collect();
        if let Some(violation) = tally.add(0, check_borrowed(&calls, &Model::new(), budget)) {
            return (LinSummary::Violated, Some(violation));
        }
        return (tally.summary(), None);
    }
    let Some(history) = by_executing_epoch(run) else {
        let reason = "registry crashes with no link latency: which incarnation ran a call \
                      sent just before a crash cannot be told"
            .to_owned();
        return (LinSummary::Unknown { reason }, None);
    };
    check_epochs(run, &history, budget)
}

/// [`check_run`] for a run whose history already names the incarnation that executed each
/// call (cluster mode: the server stamps its epoch on every call it runs).
pub fn check_recorded(run: &RunReport, budget: SearchBudget) -> (LinSummary, Option<Violation>) {
    let mut history = History::new();
    for call in run.history.calls() {
        copy_searched(&mut history, call, call.epoch);
    }
    check_epochs(run, &history, budget)
}

/// Appends `call` to `out` as run by incarnation `epoch`, with its answer only if
/// [`searched`] takes it.
fn copy_searched(out: &mut History, call: &CallRecord, epoch: u32) {
    let id = out.invoke(&call.client, call.op.clone(), call.invoke_ms, epoch);
    if let (Some(outcome), Some(ret), true) = (&call.outcome, call.return_ms, searched(call)) {
        out.complete(id, outcome.clone(), ret);
    }
}

fn check_epochs(
    run: &RunReport,
    history: &History,
    budget: SearchBudget,
) -> (LinSummary, Option<Violation>) {
    let mut tally = Tally::default();
    let last_epoch = history.calls().iter().map(|c| c.epoch).max().unwrap_or(0);
    for epoch in 0..=last_epoch {
        let initial = if epoch == 0 {
            Some(Model::new())
        } else {
            run.probes
                .iter()
                .find(|p| p.epoch == epoch)
                .and_then(|p| p.model.clone())
        };
        let Some(initial) = initial else {
            let reason = format!("epoch {epoch}: the reopened state is not visible");
            tally.unknown.push(reason);
            continue;
        };
        let verdict = check_epoch(history, epoch, &initial, budget);
        if let Some(violation) = tally.add(epoch, verdict) {
            return (LinSummary::Violated, Some(violation));
        }
    }
    (tally.summary(), None)
}

/// The epochs' verdicts so far.
#[derive(Default)]
struct Tally {
    states: u64,
    unknown: Vec<String>,
}

impl Tally {
    /// Counts one epoch's verdict; returns the `A1` violation if it has one.
    fn add(&mut self, epoch: u32, verdict: Verdict) -> Option<Violation> {
        match verdict {
            Verdict::Linearizable {
                states_explored, ..
            } => self.states += states_explored,
            Verdict::Unknown { reason, .. } => {
                self.unknown.push(format!("epoch {epoch}: {reason}"))
            }
            Verdict::NotLinearizable { failure, .. } => {
                return Some(Violation {
                    rule: "A1".to_owned(),
                    call: failure.stuck.first().copied(),
                    message: format!("epoch {epoch} is not linearizable: {}", failure.explanation),
                });
            }
        }
        None
    }

    fn summary(self) -> LinSummary {
        if self.unknown.is_empty() {
            LinSummary::Linearizable {
                states: self.states,
            }
        } else {
            let reason = self.unknown.join("; ");
            LinSummary::Unknown { reason }
        }
    }
}
