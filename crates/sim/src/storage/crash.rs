//! What a power loss does to a [`SimStorage`]: the unsynced tail of each file is dropped or
//! torn, the lock is released and every handle of the old incarnation retired (D7).

use super::{SimFile, SimStorage, Store};
use crate::rng::SimRng;

/// What a crash keeps of one file's unsynced bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CrashFate {
    /// Every unsynced byte is lost (a file never synced vanishes).
    Drop,
    /// The first `keep` unsynced bytes survive (clamped to what is pending): a torn write.
    Tear {
        /// Unsynced bytes kept, in append order.
        keep: usize,
    },
    /// The first `keep` unsynced bytes survive, followed by `garbage` in place of the bytes
    /// after them (clamped so the file never grows past what was appended).
    TearWithGarbage {
        /// Unsynced bytes kept, in append order.
        keep: usize,
        /// What the disk holds after them.
        garbage: Vec<u8>,
    },
}

impl SimStorage {
    /// Power loss: for each file with unsynced bytes, drop them, or with probability
    /// `torn_write_probability` (drawn from `rng`, the storage stream) keep a random prefix of
    /// them, a quarter of those with garbage after it. Releases the lock and retires every
    /// handle; take a fresh one with [`SimStorage::handle`].
    pub fn crash(&self, rng: &mut SimRng, torn_write_probability: f64) {
        self.crash_with(|_, pending| {
            if pending.is_empty() || !rng.chance(torn_write_probability) {
                return CrashFate::Drop;
            }
            let keep = rng.below(pending.len() as u64 + 1) as usize;
            let room = pending.len() - keep;
            if room == 0 || !rng.chance(0.25) {
                return CrashFate::Tear { keep };
            }
            let len = rng.between(1, room.min(16) as u64) as usize;
            let garbage = (0..len).map(|_| rng.next_u64() as u8).collect();
            CrashFate::TearWithGarbage { keep, garbage }
        });
    }

    /// Power loss where `fate(name, unsynced_bytes)` decides each file's tail (files without
    /// unsynced bytes are asked too, with an empty slice: only `Drop` of a never-synced file
    /// changes anything then). For exhaustive crash-point exploration.
    pub fn crash_with(&self, mut fate: impl FnMut(&str, &[u8]) -> CrashFate) {
        let mut store = self.state();
        let names: Vec<String> = store.files.keys().cloned().collect();
        for name in names {
            let Some(file) = store.files.get(&name) else {
                continue;
            };
            let pending: Vec<u8> = file.pending.concat();
            let chosen = fate(&name, &pending);
            let survivor = survive(file, &pending, &chosen);
            let torn = !matches!(chosen, CrashFate::Drop) && !pending.is_empty();
            match survivor {
                Some(bytes) => {
                    let file = SimFile {
                        durable: Some(bytes),
                        pending: Vec::new(),
                    };
                    store.files.insert(name, file);
                }
                None => {
                    store.files.remove(&name);
                }
            }
            if torn {
                store.stats.torn_writes += 1;
            }
        }
        end_incarnation(&mut store);
    }
}

/// What a file holds after the crash (`None`: it is gone).
fn survive(file: &SimFile, pending: &[u8], fate: &CrashFate) -> Option<Vec<u8>> {
    let (keep, garbage): (usize, &[u8]) = match fate {
        CrashFate::Drop => return file.durable.clone(),
        CrashFate::Tear { keep } => ((*keep).min(pending.len()), &[]),
        CrashFate::TearWithGarbage { keep, garbage } => {
            let keep = (*keep).min(pending.len());
            let room = pending.len() - keep;
            (keep, &garbage[..garbage.len().min(room)])
        }
    };
    let mut bytes = file.durable.clone().unwrap_or_default();
    let durable_len = bytes.len();
    bytes.extend_from_slice(&pending[..keep]);
    bytes.extend_from_slice(garbage);
    assert!(
        bytes.len() <= durable_len + pending.len(),
        "a crash must never grow a file past what was appended"
    );
    Some(bytes)
}

fn end_incarnation(store: &mut Store) {
    store.generation += 1;
    store.lock = None;
    store.power_left = None;
    store.fail_next_sync = false;
    store.stats.crashes += 1;
    for (name, file) in &store.files {
        assert!(
            file.pending.is_empty(),
            "{name}: pending bytes survived a crash"
        );
        assert!(
            file.durable.is_some(),
            "{name}: a file without durable existence survived"
        );
    }
    store.assert_consistent();
}
