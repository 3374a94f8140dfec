//! Fault plans as data.
//!
//! Why it exists: a fault that lives only inside an RNG call cannot be printed, shrunk or
//! replayed by hand. A [`FaultPlan`] is the explicit list of faults one run suffers — grouped by
//! layer (link, storage, crashes) — sampled once per seed from a [`FaultLevel`] and then read by
//! the layers. Shrinking deletes entries; scenario files print them.

use serde::{Deserialize, Serialize};

use crate::rng::{SimRng, Stream};

/// What the link does to one call of one client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum LinkFault {
    /// The request arrives `delay_ms` late.
    Delay {
        /// Extra latency in virtual milliseconds.
        delay_ms: u64,
    },
    /// The request is lost: never executed; the client times out with `Unavailable`.
    DropRequest,
    /// The response is lost: executed; the client times out with `Unavailable`.
    DropResponse,
    /// The request is delivered twice; the client sees the first answer.
    Duplicate,
}

/// A fault on the `index`-th call (0-based) of `client`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkFaultAt {
    /// The client.
    pub client: String,
    /// Which of its calls, counting from 0.
    pub index: u64,
    /// What happens to it.
    pub fault: LinkFault,
}

/// `client` cannot reach the registry in `[from_ms, until_ms)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    /// The client cut off.
    pub client: String,
    /// Start, virtual ms.
    pub from_ms: u64,
    /// End (exclusive), virtual ms.
    pub until_ms: u64,
}

/// A scheduled crash or stall.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum CrashEvent {
    /// The registry crashes at `at_ms` (durable backends only) and is reopened.
    Registry {
        /// When, virtual ms.
        at_ms: u64,
    },
    /// Worker `worker` dies at `at_ms` (its task is dropped at whatever await it is in) and a
    /// fresh incarnation starts.
    Worker {
        /// The worker's index.
        worker: u32,
        /// When, virtual ms.
        at_ms: u64,
    },
    /// Worker `worker` stops making progress at `at_ms` for `for_ms` (longer than a TTL makes
    /// its lease expire under it).
    Stall {
        /// The worker's index.
        worker: u32,
        /// When, virtual ms.
        at_ms: u64,
        /// For how long, virtual ms.
        for_ms: u64,
    },
}

/// Storage faults at a registry crash.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageFaults {
    /// Probability that a crash tears the last unsynced write instead of dropping it.
    pub torn_write_probability: f64,
}

/// Every fault one run suffers. The default is no fault at all.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultPlan {
    /// Fixed base latency of every request and response, virtual ms.
    pub latency_ms: u64,
    /// How long a client waits before declaring a call lost, virtual ms.
    pub timeout_ms: u64,
    /// Per-call link faults.
    pub link: Vec<LinkFaultAt>,
    /// Client partitions.
    pub partitions: Vec<Partition>,
    /// Crashes and stalls.
    pub crashes: Vec<CrashEvent>,
    /// Storage behaviour at crashes.
    pub storage: StorageFaults,
    /// After this instant no new fault fires (the settle phase, W5), virtual ms.
    pub faults_end_ms: u64,
}

/// How hard a sampled plan hits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultLevel {
    /// No faults: only scheduling is random.
    None,
    /// Occasional link faults and one crash.
    #[default]
    Light,
    /// Frequent link faults, partitions, several crashes and stalls.
    Heavy,
}

impl FaultLevel {
    /// Parses `none`, `light` or `heavy`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "none" => Some(FaultLevel::None),
            "light" => Some(FaultLevel::Light),
            "heavy" => Some(FaultLevel::Heavy),
            _ => None,
        }
    }
}

/// The shape of the run a plan is sampled for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanShape {
    /// Client names whose calls may be faulted.
    pub clients: Vec<String>,
    /// Expected calls per client (faults are placed among these).
    pub calls_per_client: u64,
    /// Number of workers that may crash or stall.
    pub workers: u32,
    /// Length of the faulty phase, virtual ms.
    pub faulty_phase_ms: u64,
    /// The lease TTL, so stalls can outlast it.
    pub lease_ttl_ms: u64,
    /// Whether registry crashes may be planned (durable backends only).
    pub registry_crashes: bool,
}

impl FaultPlan {
    /// Samples the plan for `seed` at `level` from the seed's plan stream.
    pub fn sample(seed: u64, level: FaultLevel, shape: &PlanShape) -> FaultPlan {
        let mut rng = SimRng::new(seed, Stream::Plan);
        let mut plan = FaultPlan {
            latency_ms: 1,
            timeout_ms: 50,
            faults_end_ms: shape.faulty_phase_ms,
            ..FaultPlan::default()
        };
        let (link_p, partitions, crashes, stalls, registry_crashes) = match level {
            FaultLevel::None => return plan,
            FaultLevel::Light => (0.03, 0, 1, 1, 1),
            FaultLevel::Heavy => (0.12, 2, 3, 3, 3),
        };
        for client in &shape.clients {
            for index in 0..shape.calls_per_client {
                if !rng.chance(link_p) {
                    continue;
                }
                let fault = match rng.below(4) {
                    0 => LinkFault::Delay {
                        delay_ms: rng.between(5, 200),
                    },
                    1 => LinkFault::DropRequest,
                    2 => LinkFault::DropResponse,
                    _ => LinkFault::Duplicate,
                };
                plan.link.push(LinkFaultAt {
                    client: client.clone(),
                    index,
                    fault,
                });
            }
        }
        let span = shape.faulty_phase_ms.max(1);
        for _ in 0..partitions {
            if shape.clients.is_empty() {
                break;
            }
            let client = shape.clients[rng.below(shape.clients.len() as u64) as usize].clone();
            let from_ms = rng.below(span);
            let until_ms = from_ms + rng.between(10, shape.lease_ttl_ms.saturating_mul(2).max(10));
            plan.partitions.push(Partition {
                client,
                from_ms,
                until_ms,
            });
        }
        for _ in 0..rng.between(0, crashes) {
            if shape.workers == 0 {
                break;
            }
            let worker = rng.below(u64::from(shape.workers)) as u32;
            plan.crashes.push(CrashEvent::Worker {
                worker,
                at_ms: rng.below(span),
            });
        }
        for _ in 0..rng.between(0, stalls) {
            if shape.workers == 0 {
                break;
            }
            let worker = rng.below(u64::from(shape.workers)) as u32;
            let for_ms = rng.between(shape.lease_ttl_ms / 2, shape.lease_ttl_ms * 3);
            plan.crashes.push(CrashEvent::Stall {
                worker,
                at_ms: rng.below(span),
                for_ms,
            });
        }
        if shape.registry_crashes {
            for _ in 0..rng.between(0, registry_crashes) {
                plan.crashes.push(CrashEvent::Registry {
                    at_ms: rng.below(span),
                });
            }
            plan.storage.torn_write_probability = 0.5;
        }
        plan
    }

    /// The link fault planned for the `index`-th call of `client`, if any.
    pub fn link_fault(&self, client: &str, index: u64) -> Option<&LinkFault> {
        self.link
            .iter()
            .find(|f| f.client == client && f.index == index)
            .map(|f| &f.fault)
    }

    /// Whether `client` is cut off at `now_ms`.
    pub fn partitioned(&self, client: &str, now_ms: u64) -> bool {
        now_ms < self.faults_end_ms
            && self
                .partitions
                .iter()
                .any(|p| p.client == client && p.from_ms <= now_ms && now_ms < p.until_ms)
    }

    /// Total number of planned faults of every layer.
    pub fn fault_count(&self) -> usize {
        self.link.len() + self.partitions.len() + self.crashes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape() -> PlanShape {
        PlanShape {
            clients: vec!["w0".into(), "w1".into()],
            calls_per_client: 100,
            workers: 2,
            faulty_phase_ms: 10_000,
            lease_ttl_ms: 500,
            registry_crashes: true,
        }
    }

    #[test]
    fn a_seed_samples_one_plan() {
        assert_eq!(
            FaultPlan::sample(9, FaultLevel::Heavy, &shape()),
            FaultPlan::sample(9, FaultLevel::Heavy, &shape())
        );
    }

    #[test]
    fn level_none_plans_no_fault() {
        assert_eq!(
            FaultPlan::sample(9, FaultLevel::None, &shape()).fault_count(),
            0
        );
    }

    #[test]
    fn heavy_plans_more_faults_than_light() {
        let count = |level| -> usize {
            (0..50)
                .map(|seed| FaultPlan::sample(seed, level, &shape()).fault_count())
                .sum()
        };
        assert!(count(FaultLevel::Heavy) > count(FaultLevel::Light));
        assert!(count(FaultLevel::Light) > 0);
    }

    #[test]
    fn plans_round_trip_through_json() {
        let plan = FaultPlan::sample(3, FaultLevel::Heavy, &shape());
        let text = serde_json::to_string(&plan).unwrap();
        assert_eq!(serde_json::from_str::<FaultPlan>(&text).unwrap(), plan);
    }

    #[test]
    fn partitions_end_with_the_faulty_phase() {
        let plan = FaultPlan {
            partitions: vec![Partition {
                client: "w0".into(),
                from_ms: 0,
                until_ms: u64::MAX,
            }],
            faults_end_ms: 100,
            ..FaultPlan::default()
        };
        assert!(plan.partitioned("w0", 99));
        assert!(!plan.partitioned("w0", 100));
        assert!(!plan.partitioned("w1", 50));
    }
}
