//! What a linearizability check answers, per partition and as a whole.

use std::fmt;

use crate::history::CallId;

use super::partition::Part;

/// The answer of [`check`](super::check).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every partition has a linearization (each partition's witness is in `partitions`).
    Linearizable {
        /// How the history was split, with each partition's witness order.
        partitions: Partitioning,
        /// Search states visited, all partitions together.
        states_explored: u64,
    },
    /// Some partition has no linearization: a violation of A1 by the registry.
    NotLinearizable {
        /// How the history was split.
        partitions: Partitioning,
        /// The first partition found without a linearization, and why.
        failure: Box<NonLinearizable>,
    },
    /// No violation was found, but some partition's search ran out of budget or could not
    /// be run; nothing is claimed.
    Unknown {
        /// How the history was split.
        partitions: Partitioning,
        /// Why the answer is unknown, for a person.
        reason: String,
        /// Search states visited, all partitions together.
        states_explored: u64,
    },
}

impl Verdict {
    /// Whether the history was shown linearizable.
    pub fn is_linearizable(&self) -> bool {
        matches!(self, Verdict::Linearizable { .. })
    }

    /// Whether the history was shown not linearizable.
    pub fn is_violation(&self) -> bool {
        matches!(self, Verdict::NotLinearizable { .. })
    }

    /// How the history was split and what each partition gave.
    pub fn partitions(&self) -> &Partitioning {
        match self {
            Verdict::Linearizable { partitions, .. }
            | Verdict::NotLinearizable { partitions, .. }
            | Verdict::Unknown { partitions, .. } => partitions,
        }
    }

    /// Search states visited, all partitions together.
    pub fn states_explored(&self) -> u64 {
        self.partitions()
            .parts
            .iter()
            .map(|part| part.states_explored)
            .sum()
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Linearizable {
                partitions,
                states_explored,
            } => write!(f, "linearizable ({partitions}; {states_explored} states)"),
            Verdict::NotLinearizable { failure, .. } => {
                write!(f, "not linearizable (A1): {}", failure.explanation)
            }
            Verdict::Unknown {
                partitions,
                reason,
                states_explored,
            } => write!(
                f,
                "unknown ({partitions}; {states_explored} states): {reason}"
            ),
        }
    }
}

/// A partition without a linearization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NonLinearizable {
    /// The processes of the partition (empty for calls that touch no process).
    pub processes: Vec<String>,
    /// The longest linearization prefix the search reached before it got stuck.
    pub prefix: Vec<LinearizedCall>,
    /// The definite calls that could not be placed after `prefix`, most urgent (earliest
    /// return) first.
    pub stuck: Vec<CallId>,
    /// What went wrong, for a person: the prefix, the stuck call, what it was told and what
    /// the Model answers there.
    pub explanation: String,
}

/// One call placed in a linearization, with the `now` it ran at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinearizedCall {
    /// The call's id in its history.
    pub call: CallId,
    /// The `now` (T1) the Model applied it at.
    pub now_ms: u64,
}

/// How a history was split for checking.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Partitioning {
    /// Which split was possible.
    pub strategy: PartitionStrategy,
    /// One entry per partition, in the order they were checked.
    pub parts: Vec<PartitionSummary>,
}

impl fmt::Display for Partitioning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = match self.strategy {
            PartitionStrategy::PerProcess => "per process",
            PartitionStrategy::Components => "per component of touched processes",
            PartitionStrategy::Whole => "whole history",
        };
        write!(f, "{how}, {} partition(s)", self.parts.len())
    }
}

/// Which split the checker could justify.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PartitionStrategy {
    /// Every call touches exactly one process: one partition per process
    /// (P-compositionality).
    #[default]
    PerProcess,
    /// Some calls touch several processes (grants, transfers, session deletion): one
    /// partition per connected component of the process sets calls can touch.
    Components,
    /// Some call reads every process (`list_non_terminal`): one partition.
    Whole,
}

/// One partition's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionSummary {
    /// Its processes, ascending (empty for calls that touch no process).
    pub processes: Vec<String>,
    /// How many calls it holds (indefinite reads and `Storage`/`Corrupt` answers excluded).
    pub calls: usize,
    /// Search states visited.
    pub states_explored: u64,
    /// What the search found.
    pub outcome: PartitionOutcome,
}

/// What the search of one partition found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PartitionOutcome {
    /// A linearization, in order (optional calls left out were judged not to have happened).
    Linearizable {
        /// The witness order.
        witness: Vec<LinearizedCall>,
    },
    /// No linearization exists (the failure is in the verdict).
    NotLinearizable,
    /// The search stopped without an answer.
    Unknown {
        /// Why.
        reason: String,
    },
}

/// What the search of one partition returned.
pub(super) enum SearchOutcome {
    Linearizable {
        states: u64,
        witness: Vec<LinearizedCall>,
    },
    NotLinearizable {
        states: u64,
        failure: NonLinearizable,
    },
    Unknown {
        states: u64,
        reason: String,
    },
}

/// One partition's summary, and its failure if it has one.
pub(super) fn summarize(
    part: &Part,
    outcome: SearchOutcome,
) -> (PartitionSummary, Option<NonLinearizable>) {
    let (states, outcome, failure) = match outcome {
        SearchOutcome::Linearizable { states, witness } => {
            (states, PartitionOutcome::Linearizable { witness }, None)
        }
        SearchOutcome::NotLinearizable { states, failure } => {
            (states, PartitionOutcome::NotLinearizable, Some(failure))
        }
        SearchOutcome::Unknown { states, reason } => {
            (states, PartitionOutcome::Unknown { reason }, None)
        }
    };
    let summary = PartitionSummary {
        processes: part.processes.clone(),
        calls: part.calls.len(),
        states_explored: states,
        outcome,
    };
    (summary, failure)
}

/// The whole history's verdict from its partitions': a violation anywhere wins, then any
/// unknown partition makes the whole unknown.
pub(super) fn combine(
    strategy: PartitionStrategy,
    parts: Vec<PartitionSummary>,
    failure: Option<NonLinearizable>,
) -> Verdict {
    let states_explored = parts.iter().map(|part| part.states_explored).sum();
    let unknown: Vec<String> = parts
        .iter()
        .filter_map(|part| match &part.outcome {
            PartitionOutcome::Unknown { reason } => Some(reason.clone()),
            _ => None,
        })
        .collect();
    let partitions = Partitioning { strategy, parts };
    if let Some(failure) = failure {
        Verdict::NotLinearizable {
            partitions,
            failure: Box::new(failure),
        }
    } else if !unknown.is_empty() {
        Verdict::Unknown {
            partitions,
            reason: unknown.join("; "),
            states_explored,
        }
    } else {
        Verdict::Linearizable {
            partitions,
            states_explored,
        }
    }
}
