//! The search for a linearization of one partition.
//!
//! Depth-first over linearization prefixes (Wing & Gong), placing next only calls invoked
//! before the earliest return among the definite calls not yet placed (Lowe's just-in-time
//! pruning: that call must precede anything invoked after it returned). Definite calls are
//! tried earliest-deadline first, optional (indefinite) calls after them, so a lost request
//! is only assumed to have taken effect when some answer needs it.
//!
//! Memo (Porcupine): a state is (set of placed calls, Model state); a state seen before is
//! not explored again. Both halves are 64-bit fingerprints: the set by Zobrist hashing, the
//! Model by the chain of state-changing (call, now) steps that built it, kept per process and
//! XOR-combined, so mutations of different processes, which commute, reach one fingerprint
//! in either order. A multi-process mutation folds every chain into one. Equal fingerprints
//! therefore mean equal states (up to a 2^-64 collision); unequal ones may still be equal
//! states, which costs only time.
//!
//! Reads never change the Model (`Op::is_mutation`), nor do errors (A2), so they are applied
//! in place; a mutation runs on a clone that is kept only if it matched.

use std::collections::HashSet;

use procreg_reference::{Model, OpOutput};

use crate::history::CallRecord;

use super::SearchBudget;
use super::entry::{self, Entry};
use super::explain;
use super::partition::{self, Part};
use super::tokens::{self, LeaseTokens};
use super::verdict::{LinearizedCall, NonLinearizable, SearchOutcome};

/// Checks one partition.
pub(super) fn check_partition(
    part: &Part,
    calls: &[CallRecord],
    tokens: &LeaseTokens,
    initial: &Model,
    budget: SearchBudget,
) -> SearchOutcome {
    let part_calls = || part.calls.iter().map(|&i| &calls[i]);
    if let Some((_, second, why)) = tokens::conflict(part_calls()) {
        let failure = NonLinearizable {
            processes: part.processes.clone(),
            prefix: Vec::new(),
            stuck: vec![second],
            explanation: why,
        };
        return SearchOutcome::NotLinearizable { states: 0, failure };
    }
    let entries = entry::entries(part_calls(), &part.processes);
    let model = partition::initial_for(part, initial);
    let mut search = Search::new(&entries, tokens, model, part.processes.len());
    let result = search.run(budget.max_states);
    let states = search.states;
    match result {
        Found::Linearization(witness) => SearchOutcome::Linearizable { states, witness },
        Found::Exhausted => SearchOutcome::Unknown {
            states,
            reason: format!(
                "search budget of {} states ran out in the partition of {}",
                budget.max_states,
                explain::processes(&part.processes)
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

enum Found {
    Linearization(Vec<LinearizedCall>),
    Nothing,
    Exhausted,
}

/// How to undo a node's change to the fingerprint chains.
enum Undo {
    Nothing,
    Chain { key: usize, old: u64, new: u64 },
    Fold { old_chains: Vec<u64> },
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
    /// Entries that may go next, in trying order; filled on first visit.
    eligible: Option<Vec<usize>>,
    next_choice: usize,
    next_now: usize,
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
    tokens: &'e LeaseTokens,
    /// Required entries by deadline, ascending.
    by_deadline: Vec<usize>,
    zobrist: Vec<u64>,
    placed: Vec<bool>,
    placed_hash: u64,
    required_left: usize,
    chains: Vec<u64>,
    models: Vec<Model>,
    nodes: Vec<Node>,
    memo: HashSet<u128>,
    states: u64,
    deepest: Option<DeadEnd>,
}

impl<'e, 'a> Search<'e, 'a> {
    fn new(entries: &'e [Entry<'a>], tokens: &'e LeaseTokens, model: Model, keys: usize) -> Self {
        let mut by_deadline: Vec<usize> = (0..entries.len())
            .filter(|&e| entries[e].required)
            .collect();
        by_deadline.sort_by_key(|&e| (entries[e].deadline_ms, e));
        let mut seed = 0x5EED_u64;
        let zobrist = (0..entries.len()).map(|_| splitmix(&mut seed)).collect();
        Search {
            entries,
            tokens,
            required_left: by_deadline.len(),
            by_deadline,
            zobrist,
            placed: vec![false; entries.len()],
            placed_hash: 0,
            chains: vec![0; keys],
            models: vec![model],
            nodes: Vec::new(),
            memo: HashSet::new(),
            states: 0,
            deepest: None,
        }
    }

    fn run(&mut self, max_states: u64) -> Found {
        self.nodes.push(Node {
            placed: None,
            model: 0,
            owns_model: false,
            fingerprint: 0,
            undo: Undo::Nothing,
            eligible: None,
            next_choice: 0,
            next_now: 0,
            children: 0,
        });
        loop {
            if self.required_left == 0 {
                return Found::Linearization(self.witness());
            }
            let Some(top) = self.nodes.len().checked_sub(1) else {
                return Found::Nothing;
            };
            if self.nodes[top].eligible.is_none() {
                self.nodes[top].eligible = Some(self.eligible());
            }
            match self.next_child(top) {
                Some(child) => {
                    if self.states >= max_states {
                        return Found::Exhausted;
                    }
                    self.states += 1;
                    self.nodes[top].children += 1;
                    self.push(child);
                }
                None => {
                    if self.nodes[top].children == 0 {
                        self.note_dead_end(top);
                    }
                    self.pop();
                }
            }
        }
    }

    /// Unplaced entries invoked no later than the earliest unplaced deadline: definite ones
    /// by deadline, then optional ones by invocation.
    fn eligible(&self) -> Vec<usize> {
        let horizon = self
            .by_deadline
            .iter()
            .find(|&&e| !self.placed[e])
            .map_or(u64::MAX, |&e| self.entries[e].deadline_ms);
        let mut required = Vec::new();
        let mut optional = Vec::new();
        for (e, entry) in self.entries.iter().enumerate() {
            if entry.invoke_ms > horizon {
                break;
            }
            if !self.placed[e] {
                if entry.required {
                    required.push(e);
                } else {
                    optional.push(e);
                }
            }
        }
        required.sort_by_key(|&e| (self.entries[e].deadline_ms, e));
        required.extend(optional);
        required
    }

    /// The next untried (entry, now) of node `top` that matches and leads to a new state.
    fn next_child(&mut self, top: usize) -> Option<Node> {
        loop {
            let node = &self.nodes[top];
            let eligible = node.eligible.as_ref()?;
            let &e = eligible.get(node.next_choice)?;
            let entry = &self.entries[e];
            let Some(&now) = entry.nows.get(node.next_now) else {
                let node = &mut self.nodes[top];
                node.next_choice += 1;
                node.next_now = 0;
                continue;
            };
            self.nodes[top].next_now += 1;
            let (result, applied) = self.apply(entry, now, self.nodes[top].model);
            if !entry.expect.matches(&result) {
                continue;
            }
            let changed = applied.is_some();
            if !changed {
                // Every other `now` gives this same state: try no more of them.
                self.nodes[top].next_now = usize::MAX;
                if !entry.required {
                    // An optional call that changed nothing is the same as leaving it out.
                    continue;
                }
            }
            let (fingerprint, undo) = self.step_fingerprint(top, e, now, changed);
            let key =
                (u128::from(self.placed_hash ^ self.zobrist[e]) << 64) | u128::from(fingerprint);
            if !self.memo.insert(key) {
                continue;
            }
            let (model, owns_model) = match applied {
                Some(model) => {
                    self.models.push(model);
                    (self.models.len() - 1, true)
                }
                None => (self.nodes[top].model, false),
            };
            return Some(Node {
                placed: Some((e, now)),
                model,
                owns_model,
                fingerprint,
                undo,
                eligible: None,
                next_choice: 0,
                next_now: 0,
                children: 0,
            });
        }
    }

    /// Applies an entry's op at `now` to Model `index`: in place for a read, on a clone for a
    /// mutation (the clone is returned when the op succeeded, i.e. may have changed state).
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
            let changed = result.is_ok();
            (result, changed.then_some(model))
        } else {
            (self.models[index].apply(&op, now), None)
        }
    }

    /// The fingerprint after placing entry `e` at `now` on node `top`, and how to undo the
    /// chain update it implies (done by `push`).
    fn step_fingerprint(&self, top: usize, e: usize, now: u64, changed: bool) -> (u64, Undo) {
        let fingerprint = self.nodes[top].fingerprint;
        if !changed {
            return (fingerprint, Undo::Nothing);
        }
        let step = mix3(e as u64, now, 0x9E37_79B9_7F4A_7C15);
        match self.entries[e].key {
            Some(key) => {
                let old = self.chains[key];
                let new = mix3(old, step, key as u64);
                let fingerprint = fingerprint ^ chain_term(key, old) ^ chain_term(key, new);
                (fingerprint, Undo::Chain { key, old, new })
            }
            // Every chain folds into the fingerprint, and starts again from zero.
            None => (
                mix3(fingerprint, step, 0xF01D),
                Undo::Fold {
                    old_chains: self.chains.clone(),
                },
            ),
        }
    }

    fn push(&mut self, child: Node) {
        let (e, _) = child.placed.unwrap_or_default();
        self.placed[e] = true;
        self.placed_hash ^= self.zobrist[e];
        if self.entries[e].required {
            self.required_left -= 1;
        }
        match &child.undo {
            Undo::Nothing => {}
            Undo::Chain { key, new, .. } => self.chains[*key] = *new,
            Undo::Fold { .. } => self.chains.iter_mut().for_each(|chain| *chain = 0),
        }
        self.nodes.push(child);
    }

    fn pop(&mut self) {
        let Some(node) = self.nodes.pop() else {
            return;
        };
        if node.owns_model {
            self.models.pop();
        }
        let Some((e, _)) = node.placed else {
            return;
        };
        self.placed[e] = false;
        self.placed_hash ^= self.zobrist[e];
        if self.entries[e].required {
            self.required_left += 1;
        }
        match node.undo {
            Undo::Nothing => {}
            Undo::Chain { key, old, .. } => self.chains[key] = old,
            Undo::Fold { old_chains } => self.chains = old_chains,
        }
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
        let stuck = self.nodes[top]
            .eligible
            .iter()
            .flatten()
            .copied()
            .filter(|&e| self.entries[e].required)
            .collect();
        self.deepest = Some(DeadEnd {
            prefix: self.nodes.iter().filter_map(|node| node.placed).collect(),
            model: self.models[self.nodes[top].model].clone(),
            stuck,
        });
    }
}

/// A process chain's share of the fingerprint (zero for an untouched chain).
fn chain_term(key: usize, chain: u64) -> u64 {
    if chain == 0 {
        0
    } else {
        mix3(chain, key as u64, 0xC4A1)
    }
}

fn mix3(a: u64, b: u64, c: u64) -> u64 {
    let mut state = a ^ mix(b ^ mix(c));
    splitmix(&mut state)
}

fn mix(x: u64) -> u64 {
    let mut state = x;
    splitmix(&mut state)
}

/// SplitMix64: a fast, well-mixed 64-bit step.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
