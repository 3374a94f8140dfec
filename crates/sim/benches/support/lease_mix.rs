//! A synthetic history that is linearizable by construction: workers run a lease / append /
//! read mix over a few processes with overlapping call windows, every call taking effect at
//! a random point of its window, applied to the Model in that order.
//!
//! Shared by the linearizability checker's bench and its tests (included with `#[path]`), so
//! both measure and check the same shape of history.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use procreg::{
    PluginError, ProcessEventAppendRequest, ProcessEventType, ProcessLease, ProcessRegistration,
    ProcessScope,
};
use procreg_reference::{Model, Op, OpOutput};
// The includer names procreg-sim's history module `sim_history` (the crate itself in unit
// tests, `procreg_sim::history` in the bench).
use super::sim_history::{CallRecord, History};

/// The shape of a synthetic history.
#[derive(Clone, Copy, Debug)]
pub struct MixSettings {
    /// Processes, registered first (`p0`, `p1`, ...).
    pub processes: usize,
    /// Concurrent workers (`w0`, ...), each with one call in flight at a time.
    pub workers: usize,
    /// Calls after the registrations.
    pub calls: usize,
    /// Seed of the choices and timings.
    pub seed: u64,
    /// Every n-th call loses its request (no effect) or its response (effect, caller sees
    /// `Unavailable`), alternately; 0 for none.
    pub lost_every: usize,
    /// Every n-th call is `list_non_terminal`, which forces a whole-history check; 0 for
    /// none.
    pub list_every: usize,
}

impl MixSettings {
    /// `calls` calls of 8 workers over 8 processes, no losses.
    pub fn new(calls: usize, seed: u64) -> Self {
        Self {
            processes: 8,
            workers: 8,
            calls,
            seed,
            lost_every: 0,
            list_every: 0,
        }
    }
}

/// Generates a history with `settings`: its calls, and for each call the time it took effect
/// at (`None` for a lost request).
pub fn lease_mix(settings: MixSettings) -> (Vec<CallRecord>, Vec<Option<u64>>) {
    let mut world = World {
        rng: settings.seed ^ 0x1234_5678_9ABC_DEF0,
        model: Model::new(),
        history: History::new(),
        pending: BTreeMap::new(),
        leases: BTreeMap::new(),
        settings,
        sent: 0,
        effects: Vec::new(),
    };
    let mut queue = BinaryHeap::new();
    for p in 0..settings.processes {
        let op = Op::Register {
            registration: registration(&format!("p{p}")),
        };
        let id = world.history.invoke("setup", op.clone(), 0, 0);
        let answer = world.model.apply(&op, 0);
        world.history.complete(id, answer, 0);
        world.effects.push(Some(0));
    }
    for w in 0..settings.workers {
        queue.push(Reverse((1 + w as u64, 0, Step::Send(w))));
    }
    let mut seq = 0u64;
    while let Some(Reverse((time, _, step))) = queue.pop() {
        for (at, next) in world.step(time, step) {
            seq += 1;
            queue.push(Reverse((at, seq, next)));
        }
    }
    (world.history.calls().to_vec(), world.effects)
}

/// A registration with a plain `step` event type.
pub fn registration(id: &str) -> ProcessRegistration {
    ProcessRegistration::new(id, ProcessScope::session("s"), "host")
        .with_event_type(ProcessEventType::plain("step"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Send(usize),
    TakeEffect(usize),
    Answer(usize),
}

struct Pending {
    worker: usize,
    effect: Effect,
    answer: Option<Result<OpOutput, PluginError>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Effect {
    Normal,
    LostRequest,
    LostResponse,
}

struct World {
    rng: u64,
    model: Model,
    history: History,
    pending: BTreeMap<usize, Pending>,
    /// (worker, process) -> the lease the worker believes it holds.
    leases: BTreeMap<(usize, usize), ProcessLease>,
    settings: MixSettings,
    sent: usize,
    /// Effect time of each call, by id.
    effects: Vec<Option<u64>>,
}

impl World {
    fn next(&mut self, below: u64) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % below.max(1)
    }

    fn step(&mut self, time: u64, step: Step) -> Vec<(u64, Step)> {
        match step {
            Step::Send(worker) => self.send(time, worker),
            Step::TakeEffect(id) => {
                let op = self.history.calls()[id].op.clone();
                let pending = self.pending.get_mut(&id);
                if let Some(pending) = pending
                    && pending.effect != Effect::LostRequest
                {
                    pending.answer = Some(self.model.apply(&op, time));
                    self.effects[id] = Some(time);
                }
                Vec::new()
            }
            Step::Answer(id) => self.answer(time, id),
        }
    }

    fn send(&mut self, time: u64, worker: usize) -> Vec<(u64, Step)> {
        if self.sent >= self.settings.calls {
            return Vec::new();
        }
        self.sent += 1;
        let op = match self.settings.list_every {
            n if n > 0 && self.sent.is_multiple_of(n) => Op::ListNonTerminal,
            _ => self.choose(worker),
        };
        let effect = match self.settings.lost_every {
            0 => Effect::Normal,
            n if !self.sent.is_multiple_of(n) => Effect::Normal,
            n if (self.sent / n).is_multiple_of(2) => Effect::LostRequest,
            _ => Effect::LostResponse,
        };
        let id = self.history.invoke(&format!("w{worker}"), op, time, 0);
        self.effects.push(None);
        self.pending.insert(
            id,
            Pending {
                worker,
                effect,
                answer: None,
            },
        );
        let duration = 1 + self.next(15);
        let effect_at = time + self.next(duration + 1);
        vec![
            (effect_at, Step::TakeEffect(id)),
            (time + duration, Step::Answer(id)),
        ]
    }

    fn answer(&mut self, time: u64, id: usize) -> Vec<(u64, Step)> {
        let Some(pending) = self.pending.remove(&id) else {
            return Vec::new();
        };
        let worker = pending.worker;
        let answer = match (pending.effect, pending.answer) {
            (Effect::Normal, Some(answer)) => answer,
            _ => Err(PluginError::unavailable("lost by the synthetic link")),
        };
        let op = self.history.calls()[id].op.clone();
        self.learn(worker, &op, &answer);
        self.history.complete(id, answer, time);
        let think = self.next(6);
        vec![(time + think, Step::Send(worker))]
    }

    fn learn(&mut self, worker: usize, op: &Op, answer: &Result<OpOutput, PluginError>) {
        let Some(p) = op
            .single_process()
            .and_then(|pid| pid.strip_prefix('p'))
            .and_then(|n| n.parse::<usize>().ok())
        else {
            return;
        };
        match (op, answer) {
            (Op::ClaimLease { .. } | Op::RenewLease { .. }, Ok(OpOutput::Lease(lease))) => {
                self.leases.insert((worker, p), lease.clone());
            }
            (Op::RenewLease { .. } | Op::CompleteLease { .. }, _) => {
                self.leases.remove(&(worker, p));
            }
            _ => {}
        }
    }

    fn choose(&mut self, worker: usize) -> Op {
        let p = self.next(self.settings.processes as u64) as usize;
        let process_id = format!("p{p}");
        let roll = self.next(100);
        if let Some(lease) = self.leases.get(&(worker, p)).cloned() {
            return match roll {
                0..55 => Op::AppendEvent {
                    process_id,
                    request: ProcessEventAppendRequest::new(
                        "step",
                        serde_json::json!({"worker": worker, "n": self.sent}),
                    ),
                },
                55..80 => Op::RenewLease {
                    lease,
                    lease_ttl_ms: 40 + self.next(60),
                },
                80..92 => Op::CompleteLease {
                    completion: lease.completion(),
                },
                _ => Op::EventsAfter {
                    process_id,
                    after_sequence: 0,
                },
            };
        }
        match roll {
            0..50 => Op::ClaimLease {
                process_id,
                owner_id: format!("w{worker}"),
                lease_ttl_ms: 40 + self.next(60),
            },
            50..75 => Op::EventsAfter {
                process_id,
                after_sequence: self.next(3),
            },
            _ => Op::GetProcess { process_id },
        }
    }
}
