//! Fault plans generated two ways for one [`PlanShape`]: proptest strategies (so a failing
//! plan shrinks) and a decoder from raw bytes (so a coverage-guided fuzzer can steer a plan).
//!
//! Why it exists: [`FaultPlan::sample`] draws a plan from a seed, which replays but cannot
//! shrink: deleting one fault changes the seed's every later draw. Here a plan is built from
//! independent, explicit pieces — link faults on a client's `index`-th call, partitions,
//! worker crashes and stalls, registry crashes (durable targets only, D2 D3 D6), the torn
//! write probability and the end of the faulty phase (W5's settle phase starts there) — so
//! proptest shrinks it toward fewer faults, earlier crashes and an earlier cut-off, and a
//! fuzzer's byte mutations map to small plan edits.
//!
//! Both generators keep a plan inside its shape: clients come from `shape.clients`, call
//! indexes stay below `shape.calls_per_client`, worker indexes below `shape.workers`, every
//! crash and partition start lies in the faulty phase, and registry crashes appear only when
//! `shape.registry_crashes`. Base latency and timeout are those of [`FaultPlan::sample`].
//!
//! ```
//! use procreg_conformance::explore::{find_workload, plan_gen};
//!
//! let shape = (find_workload("recovery").unwrap().shape)(true);
//! let (seed, plan) = plan_gen::plan_from_bytes(&shape, &[7, 0, 0, 0, 0, 0, 0, 0, 3, 1, 2]);
//! assert_eq!(seed, 7);
//! assert!(plan.faults_end_ms <= shape.faulty_phase_ms);
//! ```

use procreg_sim::{CrashEvent, FaultPlan, LinkFault, LinkFaultAt, Partition, PlanShape};
use proptest::collection::vec;
use proptest::prelude::*;

/// Base latency of every generated plan, virtual ms (as [`FaultPlan::sample`]).
pub const LATENCY_MS: u64 = 1;
/// Client timeout of every generated plan, virtual ms (as [`FaultPlan::sample`]).
pub const TIMEOUT_MS: u64 = 50;
/// Most link faults in one generated plan.
pub const MAX_LINK_FAULTS: usize = 24;
/// Most partitions in one generated plan.
pub const MAX_PARTITIONS: usize = 3;
/// Most worker crashes plus stalls in one generated plan.
pub const MAX_WORKER_EVENTS: usize = 4;
/// Most registry crashes in one generated plan (durable shapes only).
pub const MAX_REGISTRY_CRASHES: usize = 3;
/// Torn write probabilities a plan picks from (none, even odds, always).
pub const TORN_WRITE_PROBABILITIES: [f64; 3] = [0.0, 0.5, 1.0];
/// Longest extra delay of a `Delay` link fault, virtual ms.
pub const MAX_DELAY_MS: u64 = 200;

/// The raw pieces of a plan before they are fitted into the shape: what both generators
/// produce and [`fit`] turns into a [`FaultPlan`].
#[derive(Clone, Debug, Default)]
struct Pieces {
    faults_end_ms: u64,
    link: Vec<(usize, u64, LinkFault)>,
    partitions: Vec<(usize, u64, u64)>,
    workers: Vec<(u32, u64, Option<u64>)>,
    registry: Vec<u64>,
    torn: usize,
}

/// A plan for `shape`: shrinks toward no fault at all, earlier events and an earlier end of
/// the faulty phase.
pub fn plan_strategy(shape: &PlanShape) -> impl Strategy<Value = FaultPlan> + use<> {
    let shape = shape.clone();
    let clients = shape.clients.len().max(1);
    let calls = shape.calls_per_client.max(1);
    let span = shape.faulty_phase_ms.max(1);
    let ttl = shape.lease_ttl_ms.max(1);
    let link_fault = prop_oneof![
        (1..=MAX_DELAY_MS).prop_map(|delay_ms| LinkFault::Delay { delay_ms }),
        Just(LinkFault::DropRequest),
        Just(LinkFault::DropResponse),
        Just(LinkFault::Duplicate),
    ];
    let link = vec((0..clients, 0..calls, link_fault), 0..=MAX_LINK_FAULTS);
    let partitions = vec((0..clients, 0..span, 1..=ttl * 2), 0..=MAX_PARTITIONS);
    let worker_count = if shape.workers == 0 {
        0
    } else {
        MAX_WORKER_EVENTS
    };
    let stall = proptest::option::of(ttl / 2..=ttl * 3);
    let workers = vec((0..shape.workers.max(1), 0..span, stall), 0..=worker_count);
    let registry_count = if shape.registry_crashes {
        MAX_REGISTRY_CRASHES
    } else {
        0
    };
    let registry = vec(0..span, 0..=registry_count);
    let torn = 0..TORN_WRITE_PROBABILITIES.len();
    // The cut-off shrinks toward a tenth of the phase, never to 0 (no fault could fire).
    let faults_end = (span / 10).max(1)..=span;
    (faults_end, link, partitions, workers, registry, torn).prop_map(
        move |(faults_end_ms, link, partitions, workers, registry, torn)| {
            fit(
                &shape,
                Pieces {
                    faults_end_ms,
                    link,
                    partitions,
                    workers,
                    registry,
                    torn,
                },
            )
        },
    )
}

/// A seed (the schedule's and the storage faults' randomness) and a plan for `shape`.
pub fn seeded_plan_strategy(shape: &PlanShape) -> impl Strategy<Value = (u64, FaultPlan)> + use<> {
    (any::<u64>(), plan_strategy(shape))
}

/// Decodes a seed and a plan for `shape` from raw bytes (a fuzzer's input). Never fails:
/// missing bytes read as zero, so a short input is a plan with few faults.
///
/// Layout: 8 bytes of seed (little endian); 1 byte of cut-off; 1 byte of torn-write choice;
/// then records of 4 bytes each, the first byte choosing the kind (`% 8`: 0-3 a link fault
/// of that kind, 4 a partition, 5 a worker crash, 6 a stall, 7 a registry crash) and three
/// bytes of arguments. Records past a kind's maximum are ignored.
pub fn plan_from_bytes(shape: &PlanShape, bytes: &[u8]) -> (u64, FaultPlan) {
    let mut input = Bytes(bytes);
    let seed = u64::from_le_bytes(std::array::from_fn(|_| input.byte()));
    let span = shape.faulty_phase_ms.max(1);
    let ttl = shape.lease_ttl_ms.max(1);
    let mut pieces = Pieces {
        faults_end_ms: scale(input.byte(), span).max((span / 10).max(1)),
        torn: usize::from(input.byte()) % TORN_WRITE_PROBABILITIES.len(),
        ..Pieces::default()
    };
    while !input.0.is_empty() {
        let [kind, a, b, c] = std::array::from_fn(|_| input.byte());
        let client = usize::from(a);
        let at_ms = scale(b, span);
        match kind % 8 {
            kind @ 0..=3 => {
                let fault = match kind {
                    0 => LinkFault::Delay {
                        delay_ms: 1 + scale(c, MAX_DELAY_MS - 1),
                    },
                    1 => LinkFault::DropRequest,
                    2 => LinkFault::DropResponse,
                    _ => LinkFault::Duplicate,
                };
                let index = u64::from(b) | (u64::from(c) << 8);
                pieces.link.push((client, index, fault));
            }
            4 => pieces
                .partitions
                .push((client, at_ms, 1 + scale(c, ttl * 2))),
            5 => pieces.workers.push((u32::from(a), at_ms, None)),
            6 => {
                let for_ms = ttl / 2 + scale(c, ttl * 3 - ttl / 2);
                pieces.workers.push((u32::from(a), at_ms, Some(for_ms)));
            }
            _ => pieces.registry.push(at_ms),
        }
    }
    pieces.link.truncate(MAX_LINK_FAULTS);
    pieces.partitions.truncate(MAX_PARTITIONS);
    pieces.workers.truncate(MAX_WORKER_EVENTS);
    pieces.registry.truncate(MAX_REGISTRY_CRASHES);
    (seed, fit(shape, pieces))
}

/// Fits raw pieces into `shape` (see the module docs for what "inside" means) and orders
/// them, so equal plans print equally.
fn fit(shape: &PlanShape, pieces: Pieces) -> FaultPlan {
    let faults_end_ms = pieces.faults_end_ms.clamp(1, shape.faulty_phase_ms.max(1));
    let before_end = |at_ms: u64| at_ms.min(faults_end_ms - 1);
    let client = |i: usize| shape.clients.get(i % shape.clients.len().max(1)).cloned();
    let mut plan = FaultPlan {
        latency_ms: LATENCY_MS,
        timeout_ms: TIMEOUT_MS,
        faults_end_ms,
        ..FaultPlan::default()
    };
    for (i, index, fault) in pieces.link {
        if let Some(client) = client(i) {
            let index = index % shape.calls_per_client.max(1);
            plan.link.push(LinkFaultAt {
                client,
                index,
                fault,
            });
        }
    }
    plan.link
        .sort_by(|x, y| (&x.client, x.index).cmp(&(&y.client, y.index)));
    // The link applies the first fault planned for a call; keep only that one.
    plan.link
        .dedup_by(|later, first| later.client == first.client && later.index == first.index);
    for (i, from_ms, length_ms) in pieces.partitions {
        if let Some(client) = client(i) {
            let from_ms = before_end(from_ms);
            let until_ms = from_ms + length_ms;
            plan.partitions.push(Partition {
                client,
                from_ms,
                until_ms,
            });
        }
    }
    plan.partitions.sort_by_key(|p| p.from_ms);
    if shape.workers > 0 {
        for (worker, at_ms, stall) in pieces.workers {
            let worker = worker % shape.workers;
            let at_ms = before_end(at_ms);
            plan.crashes.push(match stall {
                None => CrashEvent::Worker { worker, at_ms },
                Some(for_ms) => CrashEvent::Stall {
                    worker,
                    at_ms,
                    for_ms,
                },
            });
        }
    }
    if shape.registry_crashes {
        for at_ms in pieces.registry {
            plan.crashes.push(CrashEvent::Registry {
                at_ms: before_end(at_ms),
            });
        }
        plan.storage.torn_write_probability =
            TORN_WRITE_PROBABILITIES[pieces.torn % TORN_WRITE_PROBABILITIES.len()];
    }
    plan.crashes.sort_by_key(crash_time);
    plan
}

/// When a crash or stall happens, ms into the run.
fn crash_time(event: &CrashEvent) -> u64 {
    match event {
        CrashEvent::Registry { at_ms }
        | CrashEvent::Worker { at_ms, .. }
        | CrashEvent::Stall { at_ms, .. } => *at_ms,
    }
}

/// `byte` scaled from `0..=255` onto `0..=max`.
fn scale(byte: u8, max: u64) -> u64 {
    max.saturating_mul(u64::from(byte)) / 255
}

/// A byte slice read front to back; reads past the end give 0.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((first, rest)) => {
                self.0 = rest;
                *first
            }
            None => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::test_runner::{Config, TestRunner};

    fn shape(registry_crashes: bool) -> PlanShape {
        PlanShape {
            clients: vec!["registrar".into(), "w0".into(), "w1".into()],
            calls_per_client: 80,
            workers: 2,
            faulty_phase_ms: 500,
            lease_ttl_ms: 100,
            registry_crashes,
        }
    }

    fn assert_inside(shape: &PlanShape, plan: &FaultPlan) {
        assert!(plan.faults_end_ms >= 1 && plan.faults_end_ms <= shape.faulty_phase_ms);
        for f in &plan.link {
            assert!(shape.clients.contains(&f.client) && f.index < shape.calls_per_client);
        }
        for p in &plan.partitions {
            assert!(p.from_ms < plan.faults_end_ms && p.until_ms > p.from_ms);
        }
        for c in &plan.crashes {
            assert!(crash_time(c) < plan.faults_end_ms, "{c:?}");
            match c {
                CrashEvent::Registry { .. } => assert!(shape.registry_crashes),
                CrashEvent::Worker { worker, .. } | CrashEvent::Stall { worker, .. } => {
                    assert!(*worker < shape.workers)
                }
            }
        }
        assert!(plan.link.len() <= MAX_LINK_FAULTS);
    }

    #[test]
    fn generated_plans_stay_inside_their_shape() {
        for durable in [false, true] {
            let shape = shape(durable);
            let mut runner = TestRunner::new(Config::with_cases(200));
            runner
                .run(&plan_strategy(&shape), |plan| {
                    assert_inside(&shape, &plan);
                    Ok(())
                })
                .unwrap();
        }
    }

    #[test]
    fn decoded_plans_stay_inside_their_shape() {
        for durable in [false, true] {
            let shape = shape(durable);
            let mut runner = TestRunner::deterministic();
            runner
                .run(&vec(any::<u8>(), 0..200), |bytes| {
                    assert_inside(&shape, &plan_from_bytes(&shape, &bytes).1);
                    Ok(())
                })
                .unwrap();
        }
    }

    #[test]
    fn empty_bytes_decode_to_seed_zero_and_no_fault() {
        let (seed, plan) = plan_from_bytes(&shape(true), &[]);
        assert_eq!((seed, plan.fault_count()), (0, 0));
        assert_eq!(plan.faults_end_ms, 50, "a tenth of the faulty phase");
    }

    #[test]
    fn each_record_kind_decodes_to_its_fault() {
        let mut bytes = vec![9, 0, 0, 0, 0, 0, 0, 0, 255, 1];
        for kind in 0..8u8 {
            bytes.extend([kind, 1, 10, 0]);
        }
        let (seed, plan) = plan_from_bytes(&shape(true), &bytes);
        assert_eq!(seed, 9);
        assert_eq!(plan.faults_end_ms, 500);
        assert_eq!(plan.storage.torn_write_probability, 0.5);
        // Four link records on the same call: the first planned (a delay) wins.
        assert_eq!(plan.link.len(), 1);
        assert!(matches!(plan.link[0].fault, LinkFault::Delay { .. }));
        assert_eq!(
            (plan.link[0].client.as_str(), plan.link[0].index),
            ("w0", 10)
        );
        assert_eq!(plan.partitions.len(), 1);
        assert_eq!(plan.crashes.len(), 3);
    }

    #[test]
    fn registry_crashes_need_a_durable_shape() {
        let bytes = [0, 0, 0, 0, 0, 0, 0, 0, 255, 1, 7, 0, 9, 0];
        assert_eq!(plan_from_bytes(&shape(true), &bytes).1.crashes.len(), 1);
        let plan = plan_from_bytes(&shape(false), &bytes).1;
        assert!(plan.crashes.is_empty());
        assert_eq!(plan.storage.torn_write_probability, 0.0);
    }
}
