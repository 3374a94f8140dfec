//! What the search may place next at a node, in trying order, with its cursor.
//!
//! Only calls invoked no later than the earliest return among the unplaced definite calls may
//! go next (Lowe's just-in-time pruning: that call must precede anything invoked after it
//! returned). Trying order: definite calls that leave the state as it is (reads, errors)
//! first, since one that fits is placed without branching; then the other definite calls by
//! return; then optional (indefinite) calls, but only when no definite call led anywhere,
//! with those whose effect lets a definite call fit at once first (ranked by the search when
//! first reached), otherwise latest invocation first: a lost call an answer needs is most
//! often a recent one, and old ones nothing needed so far most often never took effect.

use super::entry::Entry;

/// How many of the most urgent definite calls an optional call is tried against when ranking.
pub(super) const PROBES: usize = 4;

/// The choices of one node.
pub(super) struct Choices {
    /// Definite entries, in trying order.
    pub required: Vec<usize>,
    /// Optional entries, latest invocation first.
    pub optional: Vec<usize>,
    /// Optional (entry, now) pairs in trying order, once ranked.
    ranked: Option<Vec<(usize, u64)>>,
    /// The unplaced definite entry returning first, its return, and the next return after it.
    first_due: Option<usize>,
    due_ms: u64,
    next_due_ms: u64,
    next_required: usize,
    next_now: usize,
    next_ranked: usize,
    done: bool,
}

/// What to try next.
pub(super) enum Next {
    /// Entry `.0` at `now` `.1`.
    Try(usize, u64),
    /// The optional calls must be ranked first ([`Choices::set_ranked`]).
    Rank,
    /// Nothing left.
    Done,
}

impl Choices {
    /// The choices after the placed set `placed`; `by_deadline` lists the definite entries by
    /// return, `entries` are sorted by invocation. The index lists reuse buffers from `spare`
    /// (see [`Choices::into_buffers`]) when it has some.
    pub(super) fn new(
        entries: &[Entry],
        placed: &[bool],
        by_deadline: &[usize],
        spare: &mut Vec<Vec<usize>>,
    ) -> Self {
        let mut due = by_deadline.iter().filter(|&&e| !placed[e]);
        let first_due = due.next().copied();
        let deadline = |e: Option<&usize>| e.map_or(u64::MAX, |&e| entries[e].deadline_ms);
        let due_ms = deadline(first_due.as_ref());
        let next_due_ms = deadline(due.next());
        let mut required = spare.pop().unwrap_or_default();
        let mut optional = spare.pop().unwrap_or_default();
        for (e, entry) in entries.iter().enumerate() {
            // Invoked at the very millisecond the first due call returned: concurrent with
            // it (Z34), so it may still go first.
            if entry.invoke_ms > due_ms {
                break;
            }
            if !placed[e] {
                if entry.required {
                    required.push(e);
                } else {
                    optional.push(e);
                }
            }
        }
        required.sort_by_key(|&e| (!entries[e].keeps_state, entries[e].deadline_ms, e));
        optional.reverse();
        Choices {
            required,
            optional,
            ranked: None,
            first_due,
            due_ms,
            next_due_ms,
            next_required: 0,
            next_now: 0,
            next_ranked: 0,
            done: false,
        }
    }

    /// The next (entry, now) to try.
    pub(super) fn next(&mut self, entries: &[Entry]) -> Next {
        if self.done {
            return Next::Done;
        }
        while let Some(&e) = self.required.get(self.next_required) {
            if let Some(&now) = entries[e].nows.get(self.next_now) {
                self.next_now += 1;
                return Next::Try(e, now);
            }
            self.next_required += 1;
            self.next_now = 0;
        }
        match &self.ranked {
            None if self.optional.is_empty() => Next::Done,
            None => Next::Rank,
            Some(pairs) => match pairs.get(self.next_ranked) {
                Some(&(e, now)) => {
                    self.next_ranked += 1;
                    Next::Try(e, now)
                }
                None => Next::Done,
            },
        }
    }

    /// Skips the other `now`s of the definite entry just tried.
    pub(super) fn skip_other_nows(&mut self) {
        if self.ranked.is_none() {
            self.next_required += 1;
            self.next_now = 0;
        }
    }

    /// Nothing else needs trying at this node.
    pub(super) fn finish(&mut self) {
        self.done = true;
    }

    /// Sets the trying order of the optional calls.
    pub(super) fn set_ranked(&mut self, pairs: Vec<(usize, u64)>) {
        self.ranked = Some(pairs);
    }

    /// The latest instant entry `e` (returning at `deadline_ms`) may take effect at: its own
    /// return, and the return of every other definite call still to place.
    pub(super) fn limit(&self, e: usize, deadline_ms: u64) -> u64 {
        let others = if self.first_due == Some(e) {
            self.next_due_ms
        } else {
            self.due_ms
        };
        others.min(deadline_ms)
    }

    /// Its index lists, emptied, for the next node's [`Choices::new`]: the search makes one
    /// `Choices` per node, and two allocations each added up.
    pub(super) fn into_buffers(self) -> [Vec<usize>; 2] {
        let (mut required, mut optional) = (self.required, self.optional);
        required.clear();
        optional.clear();
        [required, optional]
    }

    /// The most urgent definite entries (by return), at most [`PROBES`].
    pub(super) fn probes(&self, entries: &[Entry]) -> Vec<usize> {
        let mut probes = self.required.clone();
        probes.sort_by_key(|&e| (entries[e].deadline_ms, e));
        probes.truncate(PROBES);
        probes
    }
}
