//! The search for a linearization of one partition.
//!
//! Depth-first over linearization prefixes (Wing & Gong), placing next only calls invoked
//! before the earliest return among the definite calls not yet placed (Lowe's just-in-time
//! pruning: that call must precede anything invoked after it returned). Definite calls are
//! tried earliest-deadline first, optional (indefinite) calls after them, latest first, so a
//! lost request is only assumed to have taken effect when some answer needs it.
//!
//! Two reductions keep the tree small. A definite call that leaves the state as it is (a
//! read, an error) and fits at a node is placed there without trying anything else: being
//! eligible, nothing unplaced must precede it, and moving a read earlier changes no other
//! answer. And an optional call that changes nothing is the same as leaving it out.
//!
//! The frontier (Z33): calls take effect at increasing instants, each inside its window,
//! and a call that changed state wrote timestamps from a clock reading it took before its
//! write became visible (T1, one clock shared with the history). So the frontier, the
//! greatest invocation and state-changing `now` placed so far, must not pass the return of
//! any definite call still to place; a lost call cannot be given a `now` later than a call
//! that saw its effect returned.
//!
//! Memo (Porcupine): a state is (set of placed calls, Model state, frontier); a state seen
//! before with a frontier no later than this one's is not explored again (see
//! `fingerprint` for how states are identified).
//!
//! Reads never change the Model (`Op::is_mutation`), nor do errors (A2), so they are applied
//! in place; a mutation runs on a clone that is kept only if it matched.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use procreg_reference::{Model, OpOutput};

use crate::history::CallRecord;

use super::SearchBudget;
use super::choices::{Choices, Next};
use super::entry::{self, Entry};
use super::explain;
use super::fingerprint::{Chains, Undo, zobrist_keys};
use super::matching::Expect;
use super::nows;
use super::partition::{self, Part};
use super::reveal;
use super::tokens::{self, LeaseTokens};
use super::verdict::{LinearizedCall, NonLinearizable, SearchOutcome};

/// Checks one partition.
pub(super) fn check_partition(
    part: &Part,
    calls: &[&CallRecord],
    tokens: &LeaseTokens,
    initial: &Model,
    budget: SearchBudget,
) -> SearchOutcome {
    let part_calls = || part.calls.iter().map(|&i| calls[i]);
    if let Some((_, second, why)) = tokens::conflict(part_calls()) {
        let failure = NonLinearizable {
            processes: part.processes.clone(),
            prefix: Vec::new(),
            stuck: vec![second],
            explanation: why,
        };
        return SearchOutcome::NotLinearizable { states: 0, failure };
    }
    let model = partition::initial_for(part, initial);
    let mut entries = entry::entries(part_calls(), &part.processes);
    reveal::mark_revealed(&mut entries, &model);
    let mut search = Search::new(
        &entries,
        tokens,
        model,
        part.processes.len(),
        budget.max_states,
    );
    let result = search.run();
    let states = search.states;
    match result {
        Found::Linearization(witness) => SearchOutcome::Linearizable { states, witness },
        Found::Exhausted => SearchOutcome::Unknown {
            states,
            reason: format!(
                "search budget of {} states ran out in the partition of {} ({})",
                budget.max_states,
                explain::processes(&part.processes),
                explain::progress(search.deepest.as_ref(), &entries)
            ),
        },
        Found::Nothing if entries.iter().any(|e| e.nows_truncated) => SearchOutcome::Unknown {
            states,
            reason: format!(
                "no linearization of {} with the `now` values tried, but some indefinite \
                 call had more candidates than were tried",
                explain::processes(&part.processes)
            ),
        },
        Found::Nothing => {
            let failure = match search.deepest.take() {
                Some(dead_end) => dead_end.explain(&entries, tokens, &part.processes),
                None => explain::no_dead_end(&part.processes),
            };
            SearchOutcome::NotLinearizable { states, failure }
        }
    }
}

/// How well a call fits after an optional call, for ranking optional calls.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fit {
    No,
    ByKind,
    Exactly,
}

enum Found {
    Linearization(Vec<LinearizedCall>),
    Nothing,
    Exhausted,
}

/// Hashes memo keys, which are already well-mixed 64-bit hashes side by side (a Zobrist
/// set and a fingerprint chain): folding the halves is enough, and SipHash (the default)
/// took more time than the lookups. Deterministic, like everything on the search path.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u128` is used; this keeps any other key hashed, if slowly.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u128(&mut self, key: u128) {
        self.0 = (key as u64) ^ ((key >> 64) as u64);
    }
}

/// One state on the DFS path.
struct Node {
    /// The entry placed to reach it, and its `now` (none for the root).
    placed: Option<(usize, u64)>,
    /// Index of its Model in `Search::models`, and whether it pushed that Model.
    model: usize,
    owns_model: bool,
    fingerprint: u64,
    undo: Undo,
    /// The greatest invocation and state-changing `now` placed up to here.
    frontier: u64,
    /// What may go next; filled on first visit.
    choices: Option<Choices>,
    children: usize,
}

/// The deepest place where no call fitted: what a person is shown.
pub(super) struct DeadEnd {
    pub prefix: Vec<(usize, u64)>,
    pub model: Model,
    /// Unplaced definite entries that were eligible there, earliest deadline first.
    pub stuck: Vec<usize>,
}

impl DeadEnd {
    fn explain(
        &self,
        entries: &[Entry],
        tokens: &LeaseTokens,
        processes: &[String],
    ) -> NonLinearizable {
        explain::dead_end(self, entries, tokens, processes)
    }
}

struct Search<'e, 'a> {
    entries: &'e [Entry<'a>],
    tokens: &'e LeaseTokens<'a>,
    /// Required entries by deadline, ascending.
    by_deadline: Vec<usize>,
    zobrist: Vec<u64>,
    placed: Vec<bool>,
    placed_hash: u64,
    required_left: usize,
    chains: Chains,
    models: Vec<Model>,
    nodes: Vec<Node>,
    /// Emptied index lists of popped nodes' choices, for the next nodes' choices.
    spare: Vec<Vec<usize>>,
    /// State key -> the earliest frontier it was explored with (and failed).
    memo: HashMap<u128, u64, BuildHasherDefault<KeyHasher>>,
    /// Model applications so far (each computes one candidate state), and the budget.
    states: u64,
    max_states: u64,
    exhausted: bool,
    deepest: Option<DeadEnd>,
}

impl<'e, 'a> Search<'e, 'a> {
    fn new(
        entries: &'e [Entry<'a>],
        tokens: &'e LeaseTokens<'a>,
        model: Model,
        processes: usize,
        max_states: u64,
    ) -> Self {
        let mut by_deadline: Vec<usize> = (0..entries.len())
            .filter(|&e| entries[e].required)
            .collect();
        by_deadline.sort_by_key(|&e| (entries[e].deadline_ms, e));
        Search {
            entries,
            tokens,
            required_left: by_deadline.len(),
            by_deadline,
            zobrist: zobrist_keys(entries.len()),
            placed: vec![false; entries.len()],
            placed_hash: 0,
            chains: Chains::new(processes),
            // A path holds at most one node, and one Model, per entry, plus the root's.
            models: {
                let mut models = Vec::with_capacity(entries.len() + 1);
                models.push(model);
                models
            },
            nodes: Vec::with_capacity(entries.len() + 1),
            spare: Vec::new(),
            memo: HashMap::with_capacity_and_hasher(entries.len() + 1, Default::default()),
            states: 0,
            max_states,
            exhausted: false,
            deepest: None,
        }
    }

    fn run(&mut self) -> Found {
        self.nodes.push(Node {
            placed: None,
            model: 0,
            owns_model: false,
            fingerprint: 0,
            undo: Undo::Nothing,
            frontier: 0,
            choices: None,
            children: 0,
        });
        loop {
            if self.required_left == 0 {
                return Found::Linearization(self.witness());
            }
            let Some(top) = self.nodes.len().checked_sub(1) else {
                return Found::Nothing;
            };
            if self.nodes[top].choices.is_none() {
                let choices = Choices::new(
                    self.entries,
                    &self.placed,
                    &self.by_deadline,
                    &mut self.spare,
                );
                self.nodes[top].choices = Some(choices);
            }
            match self.next_child(top) {
                Some(child) => {
                    self.nodes[top].children += 1;
                    self.push(child);
                }
                None if self.exhausted => return Found::Exhausted,
                None => {
                    if self.nodes[top].children == 0 {
                        self.note_dead_end(top);
                    }
                    self.pop();
                }
            }
        }
    }

    /// The next untried (entry, now) of node `top` that fits and leads to a new state.
    fn next_child(&mut self, top: usize) -> Option<Node> {
        loop {
            let choices = self.nodes[top].choices.as_mut()?;
            let (e, now) = match choices.next(self.entries) {
                Next::Try(e, now) => (e, now),
                Next::Rank => {
                    let ranked = self.rank_optional(top);
                    self.nodes[top].choices.as_mut()?.set_ranked(ranked);
                    continue;
                }
                Next::Done => return None,
            };
            let limit = choices.limit(e, self.entries[e].deadline_ms);
            if self.states >= self.max_states {
                self.exhausted = true;
                return None;
            }
            self.states += 1;
            let entry = &self.entries[e];
            let (result, applied) = self.apply(entry, now, self.nodes[top].model);
            let changed = applied.is_some();
            let frontier = self.frontier_after(top, entry, now, changed);
            if !entry.expect.matches(&result) || frontier > limit {
                continue;
            }
            let choices = self.nodes[top].choices.as_mut()?;
            if entry.keeps_state {
                // Fits here, so it goes here: no other choice needs trying at this node.
                choices.finish();
            }
            if !changed {
                if !entry.required {
                    // The same as leaving it out (at another `now` it may still change
                    // something).
                    continue;
                }
                if !matches!(entry.expect, Expect::Output(_)) || entry.keeps_state {
                    // A read or an error changes nothing at every `now` it fits at, so
                    // every other `now` would give this same state.
                    choices.skip_other_nows();
                }
            }
            if let Some(child) = self.new_state(top, e, now, applied, frontier) {
                return Some(child);
            }
        }
    }

    /// The node reached by placing entry `e` at `now` on node `top` (with the Model it
    /// made, if it changed the state), unless that state was explored before with a frontier
    /// no later than `frontier`.
    fn new_state(
        &mut self,
        top: usize,
        e: usize,
        now: u64,
        applied: Option<Model>,
        frontier: u64,
    ) -> Option<Node> {
        let parent = self.nodes[top].fingerprint;
        let (fingerprint, undo) = if applied.is_some() {
            self.chains.step(parent, e, now, self.entries[e].key)
        } else {
            (parent, Undo::Nothing)
        };
        let key = (u128::from(self.placed_hash ^ self.zobrist[e]) << 64) | u128::from(fingerprint);
        if self.memo.get(&key).is_some_and(|&seen| seen <= frontier) {
            // Explored before, no more constrained, and it led nowhere.
            return None;
        }
        self.memo.insert(key, frontier);
        let (model, owns_model) = match applied {
            Some(model) => {
                self.models.push(model);
                (self.models.len() - 1, true)
            }
            None => (self.nodes[top].model, false),
        };
        Some(Node {
            placed: Some((e, now)),
            model,
            owns_model,
            fingerprint,
            undo,
            frontier,
            choices: None,
            children: 0,
        })
    }

    /// The frontier after placing `entry` at `now` on node `top` (Z33).
    fn frontier_after(&self, top: usize, entry: &Entry, now: u64, changed: bool) -> u64 {
        let reach = if changed { now } else { 0 };
        self.nodes[top].frontier.max(entry.invoke_ms).max(reach)
    }

    /// The optional (entry, now) pairs of node `top` in trying order: first those after which
    /// one of the most urgent definite calls gets exactly its answer (an error's holder and
    /// expiry too, though only kinds must match), then those after which one fits, then the
    /// rest, each group latest invocation first.
    /// Pairs that change nothing or pass the frontier are left out (never worth placing).
    /// Besides each call's own candidates, the `now` the node's state makes a turning point
    /// is tried (`nows::on_state`, Z50).
    fn rank_optional(&mut self, top: usize) -> Vec<(usize, u64)> {
        let Some(choices) = self.nodes[top].choices.as_ref() else {
            return Vec::new();
        };
        let optional = choices.optional.clone();
        let probes = choices.probes(self.entries);
        let limits: Vec<u64> = optional
            .iter()
            .map(|&x| choices.limit(x, self.entries[x].deadline_ms))
            .collect();
        let (mut exact, mut helpful, mut rest) = (Vec::new(), Vec::new(), Vec::new());
        let entries = self.entries;
        for (&x, limit) in optional.iter().zip(limits) {
            let model = &self.models[self.nodes[top].model];
            // Z50: where the state decides when the call starts to succeed.
            let extra = nows::on_state(&entries[x], model).filter(|n| !entries[x].nows.contains(n));
            for now in entries[x].nows.iter().copied().chain(extra) {
                if self.frontier_after(top, &self.entries[x], now, true) > limit {
                    continue;
                }
                if self.states >= self.max_states {
                    rest.push((x, now));
                    continue;
                }
                let model = &self.models[self.nodes[top].model];
                let after = self.try_on(x, now, model);
                let fits = after.as_ref().map(|after| {
                    let tries = probes.iter().map(|&p| self.fits_on(p, after));
                    tries.fold((Fit::No, 0), |(best, n), (fit, m)| (best.max(fit), n + m))
                });
                self.states += 1 + fits.map_or(0, |(_, tried)| tried);
                match fits {
                    None => {}
                    Some((Fit::Exactly, _)) => exact.push((x, now)),
                    Some((Fit::ByKind, _)) => helpful.push((x, now)),
                    Some((Fit::No, _)) => rest.push((x, now)),
                }
            }
        }
        exact.extend(helpful);
        exact.extend(rest);
        exact
    }

    /// The Model after entry `x` changes the state at `now` on `model`, if it does.
    fn try_on(&self, x: usize, now: u64, model: &Model) -> Option<Model> {
        let op = self.tokens.translate(&self.entries[x].call.op, model);
        let mut after = model.clone();
        let changed = after.apply(&op, now).is_ok() && after.revision() != model.revision();
        changed.then_some(after)
    }

    /// How well definite entry `p` fits on `model` at its best `now`, and how many `now`s
    /// were tried.
    fn fits_on(&self, p: usize, model: &Model) -> (Fit, u64) {
        let entry = &self.entries[p];
        let op = self.tokens.translate(&entry.call.op, model);
        let mut best = Fit::No;
        let mut tried = 0;
        for &now in entry.nows.iter() {
            tried += 1;
            let answer = model.clone().apply(&op, now);
            if entry.expect.matches(&answer) {
                let exact = match (entry.call.outcome(), &answer) {
                    (Some(Err(told)), Err(got)) => told == got,
                    _ => true,
                };
                best = best.max(if exact { Fit::Exactly } else { Fit::ByKind });
                if exact {
                    break;
                }
            }
        }
        (best, tried)
    }

    /// Applies an entry's op at `now` to Model `index`: in place for a read, on a clone for a
    /// mutation (the clone is returned when the op changed the state: it succeeded and the
    /// Model's revision moved, which it does on every change and only then).
    fn apply(
        &mut self,
        entry: &Entry,
        now: u64,
        index: usize,
    ) -> (Result<OpOutput, procreg::PluginError>, Option<Model>) {
        let op = self.tokens.translate(&entry.call.op, &self.models[index]);
        if op.is_mutation() {
            let mut model = self.models[index].clone();
            let result = model.apply(&op, now);
            let changed = result.is_ok() && model.revision() != self.models[index].revision();
            (result, changed.then_some(model))
        } else {
            (self.models[index].apply(&op, now), None)
        }
    }

    fn push(&mut self, child: Node) {
        let (e, _) = child.placed.unwrap_or_default();
        self.placed[e] = true;
        self.placed_hash ^= self.zobrist[e];
        if self.entries[e].required {
            self.required_left -= 1;
        }
        self.chains.apply(&child.undo);
        self.nodes.push(child);
    }

    fn pop(&mut self) {
        let Some(node) = self.nodes.pop() else {
            return;
        };
        if node.owns_model {
            self.models.pop();
        }
        if let Some(choices) = node.choices {
            self.spare.extend(choices.into_buffers());
        }
        let Some((e, _)) = node.placed else {
            return;
        };
        self.placed[e] = false;
        self.placed_hash ^= self.zobrist[e];
        if self.entries[e].required {
            self.required_left += 1;
        }
        self.chains.revert(node.undo);
    }

    fn witness(&self) -> Vec<LinearizedCall> {
        self.nodes
            .iter()
            .filter_map(|node| node.placed)
            .map(|(e, now_ms)| LinearizedCall {
                call: self.entries[e].call.id,
                now_ms,
            })
            .collect()
    }

    /// Remembers node `top` if it is the deepest place found where nothing fits.
    fn note_dead_end(&mut self, top: usize) {
        if self.deepest.as_ref().is_some_and(|d| d.prefix.len() >= top) {
            return;
        }
        let mut stuck: Vec<usize> = self.nodes[top]
            .choices
            .iter()
            .flat_map(|choices| choices.required.iter())
            .copied()
            .filter(|&e| self.entries[e].required)
            .collect();
        stuck.sort_by_key(|&e| (self.entries[e].deadline_ms, e));
        self.deepest = Some(DeadEnd {
            prefix: self.nodes.iter().filter_map(|node| node.placed).collect(),
            model: self.models[self.nodes[top].model].clone(),
            stuck,
        });
    }
}
