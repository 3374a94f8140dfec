//! Splitting a history into independently checkable partitions (P-compositionality).
//!
//! Linearizability is local: if the calls split into groups that touch disjoint parts of the
//! state, the history is linearizable iff each group is. The Model's state is per process
//! (record, log, lease, replay keys, pending wakes) plus handle grants, and a grant belongs to
//! exactly one process, so "the processes a call can touch" is a sound key:
//!
//! | call | touches |
//! |---|---|
//! | every call with [`Op::single_process`], `grant_handle`, `revoke_handle`, `has_handle_grant`, `handle_grants_for_process` | its process |
//! | `transfer_handle_grants` | the listed processes |
//! | `list_handle_grants(s)`, `list_live_handle_grants(s)` | every process that may hold a grant in scope `s` during the epoch: granted there at its start, or by a `grant_handle` or transfer into `s` in it |
//! | `delete_session_process_state(sid)` | every process that may hold a grant in a scope of `sid`, or a pending wake targeting `sid`, during the epoch |
//! | `list_non_terminal` | everything: the history is checked whole |
//!
//! Partitions are the connected components of these sets. Calls that can touch no process
//! (a list of a scope nobody was ever granted) form a partition of their own. Each partition
//! starts from the epoch's initial Model cut down to its processes (`initial_for`).

use std::collections::{BTreeMap, BTreeSet};

use procreg_reference::{Model, Op};

use crate::history::CallRecord;

use super::entry;
use super::verdict::PartitionStrategy;

/// One independently checkable group of calls.
#[derive(Clone, Debug)]
pub(super) struct Part {
    /// Its processes, ascending (every process when `whole`).
    pub processes: Vec<String>,
    /// Positions in the checked call slice, in history order.
    pub calls: Vec<usize>,
    /// Whether some call reads every process (the initial Model must not be cut down).
    pub whole: bool,
}

/// How a history splits.
pub(super) struct Plan {
    pub strategy: PartitionStrategy,
    pub parts: Vec<Part>,
}

/// Splits the checked calls of `calls` into partitions.
pub(super) fn plan(calls: &[&CallRecord], initial: &Model) -> Plan {
    let checked: Vec<usize> = (0..calls.len())
        .filter(|&i| entry::is_checked(calls[i]))
        .collect();
    let per_process = checked
        .iter()
        .all(|&i| calls[i].op.single_process().is_some());
    let reach = GrantReach::new(calls, &checked, initial);
    let touches: Vec<Option<Touched>> = checked
        .iter()
        .map(|&i| reach.touched(&calls[i].op))
        .collect();
    if touches.iter().any(Option::is_none) {
        let mut processes: BTreeSet<String> = initial.process_ids().map(str::to_owned).collect();
        processes.extend(
            touches
                .iter()
                .flatten()
                .flat_map(Touched::iter)
                .map(str::to_owned),
        );
        let part = Part {
            processes: processes.into_iter().collect(),
            calls: checked,
            whole: true,
        };
        return Plan {
            strategy: PartitionStrategy::Whole,
            parts: vec![part],
        };
    }
    let parts = components(&checked, touches.into_iter().flatten().collect());
    let strategy = if per_process {
        PartitionStrategy::PerProcess
    } else {
        PartitionStrategy::Components
    };
    Plan { strategy, parts }
}

/// Groups calls by connected component of their touched sets.
fn components(checked: &[usize], touches: Vec<Touched>) -> Vec<Part> {
    let mut sets = UnionFind::default();
    for touched in &touches {
        let mut members = touched.iter();
        if let Some(first) = members.next() {
            let root = sets.index(first);
            for other in members {
                let other = sets.index(other);
                sets.union(root, other);
            }
        }
    }
    // Key: the component's root, or None for calls touching nothing.
    let mut groups: BTreeMap<Option<usize>, Part> = BTreeMap::new();
    for (&call, touched) in checked.iter().zip(&touches) {
        let key = touched.iter().next().map(|pid| sets.find_name(pid));
        groups
            .entry(key)
            .or_insert_with(|| Part {
                processes: Vec::new(),
                calls: Vec::new(),
                whole: false,
            })
            .calls
            .push(call);
    }
    for (pid, index) in &sets.names {
        let root = sets.find(*index);
        if let Some(part) = groups.get_mut(&Some(root)) {
            part.processes.push(pid.clone());
        }
    }
    groups.into_values().collect()
}

/// The epoch's initial Model cut down to the partition's processes and their grants.
pub(super) fn initial_for(part: &Part, initial: &Model) -> Model {
    let keep: BTreeSet<&str> = part.processes.iter().map(String::as_str).collect();
    let mut cut = initial.clone();
    if !part.whole {
        cut.retain_processes(|pid| keep.contains(pid));
    }
    cut
}

/// Which processes may sit in a scope or session during the epoch.
struct GrantReach {
    /// Scope id -> processes that may hold a grant there.
    by_scope: BTreeMap<String, BTreeSet<String>>,
    /// Session id -> processes that may hold a grant in one of its scopes or a pending wake
    /// targeting it.
    by_session: BTreeMap<String, BTreeSet<String>>,
}

impl GrantReach {
    fn new(calls: &[&CallRecord], checked: &[usize], initial: &Model) -> Self {
        let mut reach = GrantReach {
            by_scope: BTreeMap::new(),
            by_session: BTreeMap::new(),
        };
        for pid in initial.process_ids() {
            for grant in initial.handle_grants_for_process(pid).unwrap_or_default() {
                reach.add_grant(&grant.scope, pid);
            }
            // The pending wakes, read in place (`wake_events_after` would copy each event).
            for event in initial.events(pid) {
                if let Some(wake) = &event.wake
                    && initial.is_pending_wake(pid, event.sequence)
                {
                    reach.add_session(&wake.target_scope.session_id, pid);
                }
            }
        }
        for &i in checked {
            match &*calls[i].op {
                Op::GrantHandle {
                    scope, process_id, ..
                } => reach.add_grant(scope, process_id),
                Op::TransferHandleGrants {
                    to, process_ids, ..
                } => {
                    for pid in process_ids {
                        reach.add_grant(to, pid);
                    }
                }
                Op::AppendEvent {
                    process_id,
                    request,
                } => {
                    if let Some(target) = &request.wake_target_scope {
                        reach.add_session(&target.session_id, process_id);
                    }
                }
                _ => {}
            }
        }
        reach
    }

    fn add_grant(&mut self, scope: &procreg::ProcessScope, pid: &str) {
        self.by_scope
            .entry(scope.id())
            .or_default()
            .insert(pid.to_owned());
        self.add_session(&scope.session_id, pid);
    }

    fn add_session(&mut self, session_id: &str, pid: &str) {
        self.by_session
            .entry(session_id.to_owned())
            .or_default()
            .insert(pid.to_owned());
    }

    /// The processes `op` can touch; `None` for every process.
    /// Borrowed from `self` and `op`: this runs once per call of every seed.
    fn touched<'s>(&'s self, op: &'s Op) -> Option<Touched<'s>> {
        if let Some(pid) = op.single_process() {
            return Some(Touched::One(pid));
        }
        let reached = |pids: Option<&'s BTreeSet<String>>| {
            Some(pids.map_or(Touched::Listed(BTreeSet::new()), Touched::Reached))
        };
        match op {
            Op::GrantHandle { process_id, .. }
            | Op::RevokeHandle { process_id, .. }
            | Op::HasHandleGrant { process_id, .. }
            | Op::HandleGrantsForProcess { process_id } => Some(Touched::One(process_id)),
            Op::TransferHandleGrants { process_ids, .. } => Some(Touched::Listed(
                process_ids.iter().map(String::as_str).collect(),
            )),
            Op::ListHandleGrants { scope } | Op::ListLiveHandleGrants { scope } => {
                reached(self.by_scope.get(&scope.id()))
            }
            Op::DeleteSession { session_id } => reached(self.by_session.get(session_id)),
            _ => None,
        }
    }
}

/// The processes one call can touch, ascending and borrowed: most calls touch one process,
/// and a set per call cost an allocation for every call of every seed.
enum Touched<'s> {
    /// The one process of a single-process call.
    One(&'s str),
    /// Those a scope or session may reach ([`GrantReach`]).
    Reached(&'s BTreeSet<String>),
    /// Those a call lists (a transfer), or none.
    Listed(BTreeSet<&'s str>),
}

impl<'s> Touched<'s> {
    /// The processes, ascending.
    fn iter(&self) -> impl Iterator<Item = &'s str> + '_ {
        let (one, reached, listed) = match self {
            Touched::One(pid) => (Some(*pid), None, None),
            Touched::Reached(pids) => (None, Some(*pids), None),
            Touched::Listed(pids) => (None, None, Some(pids)),
        };
        let reached = reached.into_iter().flatten().map(String::as_str);
        let listed = listed.into_iter().flatten().copied();
        one.into_iter().chain(reached).chain(listed)
    }
}

/// Union-find over process ids.
#[derive(Default)]
struct UnionFind {
    names: BTreeMap<String, usize>,
    parent: Vec<usize>,
}

impl UnionFind {
    fn index(&mut self, name: &str) -> usize {
        if let Some(&index) = self.names.get(name) {
            return index;
        }
        let index = self.parent.len();
        self.parent.push(index);
        self.names.insert(name.to_owned(), index);
        index
    }

    fn find(&self, mut index: usize) -> usize {
        while self.parent[index] != index {
            index = self.parent[index];
        }
        index
    }

    fn find_name(&self, name: &str) -> usize {
        self.names.get(name).map_or(usize::MAX, |&i| self.find(i))
    }

    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.parent[b.max(a)] = a.min(b);
        }
    }
}
