//! Fingerprints of search states for the memo: which calls are placed (Zobrist hashing) and
//! what Model state they built (a hash chain of the state-changing steps).
//!
//! The Model state is fingerprinted by the chain of state-changing (call, now) steps that
//! built it rather than by its contents (hashing a Model per step would cost as much as
//! cloning it). Chains are kept per process and XOR-combined, so mutations of different
//! processes, which commute, reach one fingerprint in either order; a multi-process mutation
//! folds every chain into the fingerprint and restarts them. Equal fingerprints therefore
//! mean equal states (up to a 2^-64 collision); unequal ones may still be equal states,
//! which costs only time.

/// The chains of the current search path.
pub(super) struct Chains {
    /// One chain per partition-local process index; 0 is an untouched chain.
    per_process: Vec<u64>,
}

/// How to undo one step's change to the chains.
pub(super) enum Undo {
    Nothing,
    Chain { key: usize, old: u64, new: u64 },
    Fold { old: Vec<u64> },
}

impl Chains {
    pub(super) fn new(processes: usize) -> Self {
        Self {
            per_process: vec![0; processes],
        }
    }

    /// The fingerprint after `fingerprint` when call `entry` changed the state at `now`,
    /// touching the process with local index `key` (`None`: several processes), and the
    /// undo record to [`Chains::apply`] it with.
    pub(super) fn step(
        &self,
        fingerprint: u64,
        entry: usize,
        now: u64,
        key: Option<usize>,
    ) -> (u64, Undo) {
        let step = mix3(entry as u64, now, 0x9E37_79B9_7F4A_7C15);
        match key {
            Some(key) => {
                let old = self.per_process[key];
                let new = mix3(old, step, key as u64);
                let fingerprint = fingerprint ^ chain_term(key, old) ^ chain_term(key, new);
                (fingerprint, Undo::Chain { key, old, new })
            }
            None => (
                mix3(fingerprint, step, 0xF01D),
                Undo::Fold {
                    old: self.per_process.clone(),
                },
            ),
        }
    }

    /// Makes a step's change.
    pub(super) fn apply(&mut self, undo: &Undo) {
        match undo {
            Undo::Nothing => {}
            Undo::Chain { key, new, .. } => self.per_process[*key] = *new,
            Undo::Fold { .. } => self.per_process.iter_mut().for_each(|chain| *chain = 0),
        }
    }

    /// Takes a step's change back.
    pub(super) fn revert(&mut self, undo: Undo) {
        match undo {
            Undo::Nothing => {}
            Undo::Chain { key, old, .. } => self.per_process[key] = old,
            Undo::Fold { old } => self.per_process = old,
        }
    }
}

/// Random 64-bit keys, one per call, for Zobrist hashing of placed sets.
pub(super) fn zobrist_keys(count: usize) -> Vec<u64> {
    let mut seed = 0x5EED_u64;
    (0..count).map(|_| splitmix(&mut seed)).collect()
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
