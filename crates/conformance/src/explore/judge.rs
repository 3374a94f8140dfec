//! The checks every run gets, whatever its workload: history invariants (W1-W3, E8),
//! durability across registry crashes (D2, D3, D6, from the world's reopen probes), liveness
//! once faults stop (W5), and what the blocked tasks at quiescence mean (a lost wake-up,
//! E14 / C4, or a deadlock).
//!
//! Why it exists: workloads differ in what they do, not in what "broken" means. Final state
//! is read back through the link as a fresh client (`explorer`) that no fault touches, after
//! the run: a read of the registry as it is, not a replay of what clients believed.
//!
//! At quiescence each blocked task is matched to the last call its client left unanswered:
//! - a wait (`wait_event_after`, `await_process`) whose event exists now is a LOST WAKE-UP;
//! - a wait whose event never came is fine (the contract lets such waits be dropped, E14);
//! - anything else (a plain call that never returns, or no call at all) is a DEADLOCK,
//!   reported with what the task said it waits on.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use procreg::{ErrorKind, PluginError};
use procreg_reference::{Op, OpOutput};
use procreg_sim::check::durability::check_durability;
use procreg_sim::check::{Violation, check_invariants};
use procreg_sim::history::CallRecord;
use procreg_sim::{BlockedTask, Executor, FaultyLink, RunEnd, RunReport, SimClock};

use super::timeline::describe_op;

/// The client name final reads are sent under.
pub const JUDGE_CLIENT: &str = "explorer";

/// What kind of failure a violation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FailureClass {
    /// Something happened that must never happen (W1-W4, wrong answers).
    Safety,
    /// Something that must happen did not (W5, lost wake-ups, deadlocks, livelocks).
    Liveness,
    /// The run panicked (in the registry, the workload or the simulator).
    Panic,
    /// Two runs of one seed differed.
    Nondeterminism,
}

impl fmt::Display for FailureClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailureClass::Safety => "safety",
            FailureClass::Liveness => "liveness",
            FailureClass::Panic => "panic",
            FailureClass::Nondeterminism => "nondeterminism",
        })
    }
}

/// One failure of a seed: a classed violation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Its class.
    pub class: FailureClass,
    /// The rule, the call that shows it and what went wrong.
    pub violation: Violation,
}

impl Failure {
    /// A failure classed by its rule id: W5, E14 and C4 are liveness, the rest safety.
    pub fn classed(violation: Violation) -> Self {
        let class = match violation.rule.as_str() {
            "W5" | "E14" | "C4" => FailureClass::Liveness,
            _ => FailureClass::Safety,
        };
        Self { class, violation }
    }

    /// A failure of `class` with no call attached.
    pub fn new(class: FailureClass, rule: &str, message: String) -> Self {
        Self {
            class,
            violation: Violation {
                rule: rule.to_owned(),
                call: None,
                message,
            },
        }
    }
}

/// Runs `op` on the registry behind `link` right now, as the [`JUDGE_CLIENT`], on a
/// throwaway executor (its own clock: the link's latency sleeps pass there, not in the world,
/// and a stale executor left behind by a panicking run cannot swallow them). Sim targets never
/// wait on I/O, so reads finish; one that does not (a wait, or a blocking target) is answered
/// `Unavailable`.
pub fn read_now(link: &FaultyLink, op: Op) -> Result<OpOutput, PluginError> {
    let answer = Rc::new(RefCell::new(None));
    let mut executor = Executor::new(0, SimClock::new(0));
    let (link, slot) = (link.clone(), Rc::clone(&answer));
    executor.spawn(JUDGE_CLIENT, async move {
        let result = link.call(JUDGE_CLIENT, op).await;
        *slot.borrow_mut() = Some(result);
    });
    executor.run(10_000);
    let answer = answer.borrow_mut().take();
    answer.map_or_else(
        || Err(PluginError::unavailable("final read did not finish")),
        std::sync::Arc::unwrap_or_clone,
    )
}

/// How the judge reads the registry after the run: `op` answered right now by a client no
/// fault touches.
pub type FinalRead<'a> = &'a dyn Fn(Op) -> Result<OpOutput, PluginError>;

/// Every generic check of a finished run, plus the clients' own `extra` violations; W5 (every
/// process terminal) when `completes_every_process`.
pub fn judge_run(
    completes_every_process: bool,
    run: &RunReport,
    link: &FaultyLink,
    extra: Vec<Violation>,
) -> Vec<Failure> {
    judge_with(completes_every_process, run, extra, &|op| {
        read_now(link, op)
    })
}

/// [`judge_run`] for a run whose final reads go through `read` (cluster mode reads over the
/// simulated network once faults are off).
pub fn judge_with(
    completes_every_process: bool,
    run: &RunReport,
    extra: Vec<Violation>,
    read: FinalRead<'_>,
) -> Vec<Failure> {
    let mut failures: Vec<Failure> = check_invariants(&run.history)
        .into_iter()
        .chain(check_durability(&run.history, &run.probes))
        .chain(extra)
        .map(Failure::classed)
        .collect();
    match &run.end {
        RunEnd::Completed => {}
        RunEnd::Quiescent(blocked) => failures.extend(judge_quiescence(run, read, blocked)),
        RunEnd::BudgetExhausted => failures.push(Failure::new(
            FailureClass::Liveness,
            "W5",
            format!(
                "the run was still busy after {} polls (virtual time +{}ms): a livelock, or a \
                 budget too small for the workload",
                run.polls,
                run.end_ms.saturating_sub(procreg_sim::world::START_MS)
            ),
        )),
    }
    if completes_every_process {
        failures.extend(check_all_terminal(read));
    }
    failures
}

/// W5: after the settle phase, nothing registered is still running.
fn check_all_terminal(read: FinalRead<'_>) -> Option<Failure> {
    let message = match read(Op::ListNonTerminal) {
        Ok(OpOutput::Records(records)) if records.is_empty() => return None,
        Ok(OpOutput::Records(records)) => {
            let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
            format!(
                "still running when the run ended (faults had stopped or the run stalled): {}",
                ids.join(", ")
            )
        }
        other => format!("the final list_non_terminal failed: {other:?}"),
    };
    Some(Failure::new(FailureClass::Liveness, "W5", message))
}

/// The last unanswered call of the client a blocked task runs as.
fn pending_call<'a>(run: &'a RunReport, task: &BlockedTask) -> Option<&'a CallRecord> {
    let dup = format!("{}+dup", task.name);
    run.history
        .calls()
        .iter()
        .rev()
        .find(|c| (c.client == task.name || c.client == dup) && c.outcome.is_none())
}

fn judge_quiescence(run: &RunReport, read: FinalRead<'_>, blocked: &[BlockedTask]) -> Vec<Failure> {
    let mut failures = Vec::new();
    for task in blocked {
        let Some(call) = pending_call(run, task) else {
            failures.push(deadlock(task, None));
            continue;
        };
        match awaited_exists(read, &call.op) {
            Some(Ok(true)) => {
                let rule = match *call.op {
                    Op::AwaitProcess { .. } => "C4",
                    _ => "E14",
                };
                failures.push(Failure {
                    class: FailureClass::Liveness,
                    violation: Violation {
                        rule: rule.to_owned(),
                        call: Some(call.id),
                        message: format!(
                            "LOST WAKE-UP: task {} still waits in call #{} ({}) although what \
                             it waits for exists",
                            task.name,
                            call.id,
                            describe_op(&call.op)
                        ),
                    },
                });
            }
            Some(Ok(false)) => {} // its event never came: a dropped wait, not a bug (E14)
            Some(Err(e)) => failures.push(Failure::new(
                FailureClass::Liveness,
                "W5",
                format!("could not judge the wait of task {}: {e}", task.name),
            )),
            None => failures.push(deadlock(task, Some(call))),
        }
    }
    failures
}

fn deadlock(task: &BlockedTask, call: Option<&CallRecord>) -> Failure {
    let waits = task.waiting_on.as_deref().unwrap_or("nothing it declared");
    let call = call.map_or(String::new(), |c| {
        format!(" in call #{} ({})", c.id, describe_op(&c.op))
    });
    Failure {
        class: FailureClass::Liveness,
        violation: Violation {
            rule: "W5".to_owned(),
            call: None,
            message: format!(
                "DEADLOCK: task {} (#{}) is blocked{call}, waiting on {waits}",
                task.name, task.id
            ),
        },
    }
}

/// For a wait: whether what it waits for exists now. `None` when `op` is not a wait.
fn awaited_exists(read: FinalRead<'_>, op: &Op) -> Option<Result<bool, PluginError>> {
    Some(match op {
        Op::WaitEventAfter {
            process_id,
            event_type,
            after_sequence,
        } => {
            let read_op = Op::EventsAfter {
                process_id: process_id.clone(),
                after_sequence: *after_sequence,
            };
            match read(read_op) {
                Ok(OpOutput::Events(events)) => {
                    Ok(events.iter().any(|e| &e.event_type == event_type))
                }
                Err(e) if e.kind() == ErrorKind::UnknownProcess => Ok(false),
                other => Err(unexpected_read(other)),
            }
        }
        Op::AwaitProcess { process_id } => {
            let read_op = Op::GetProcess {
                process_id: process_id.clone(),
            };
            match read(read_op) {
                Ok(OpOutput::MaybeRecord(record)) => Ok(record.is_some_and(|r| r.is_terminal())),
                other => Err(unexpected_read(other)),
            }
        }
        _ => return None,
    })
}

fn unexpected_read(got: Result<OpOutput, PluginError>) -> PluginError {
    match got {
        Err(e) => e,
        Ok(other) => PluginError::storage(format!("final read answered {other:?}")),
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self
            .violation
            .call
            .map_or(String::new(), |c| format!(" at call #{c}"));
        write!(
            f,
            "[{}] {}{at}: {}",
            self.class, self.violation.rule, self.violation.message
        )
    }
}
