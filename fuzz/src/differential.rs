//! The Model against `MemoryRegistry` and `FileRegistry` on simulated storage, call by call.
//!
//! Why it exists: the Model is the oracle of every other check (A1), so the registries built
//! on it must answer exactly as it does, for any call sequence, on one shared `ManualClock`
//! (T1, T2). Each step is applied to all three; answers must be equal (errors by
//! [`ErrorKind`](procreg::ErrorKind), never by text), `Model::check_invariants` must hold,
//! and a wait the Model calls pending must not return (E14, C4). A `Crash` step power-fails
//! the simulated disk (tearing or dropping unsynced bytes) and reopens `FileRegistry`, which
//! must come back holding exactly the Model's state (D2 D3 D6 D7).
//!
//! A mismatch panics with the step number and both answers: libFuzzer records it as a crash.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use procreg::{ManualClock, PluginError, ProcessLease, SharedClock};
use procreg_reference::{
    FileOptions, FileRegistry, MemoryRegistry, Model, Op, OpOutput, execute_op,
};
use procreg_sim::SimStorage;
use procreg_sim::rng::{SimRng, Stream};

use crate::ops::Step;

/// Polls given to a registry call before it counts as blocked.
const POLLS: usize = 64;
/// Records between FileRegistry snapshots: small, so compaction runs in short programs.
const SNAPSHOT_EVERY: u64 = 4;
/// Where the clock starts, ms.
const START_MS: u64 = 1_000_000;

/// The three subjects and the clock they share.
pub struct Subjects {
    clock: Arc<ManualClock>,
    model: Model,
    memory: MemoryRegistry,
    storage: SimStorage,
    file: Option<FileRegistry>,
    rng: SimRng,
    /// Leases the Model handed out, for later renews and completions.
    pub leases: Vec<ProcessLease>,
    steps: usize,
}

impl Subjects {
    /// Fresh subjects; `seed` draws what a crash does to unsynced bytes.
    pub fn new(seed: u64) -> Self {
        let clock = Arc::new(ManualClock::new(START_MS));
        let storage = SimStorage::new();
        let mut subjects = Self {
            memory: MemoryRegistry::new(clock.clone() as SharedClock),
            clock,
            model: Model::new(),
            storage,
            file: None,
            rng: SimRng::new(seed, Stream::Storage),
            leases: Vec::new(),
            steps: 0,
        };
        subjects.open_file();
        subjects
    }

    fn open_file(&mut self) {
        let options = FileOptions {
            snapshot_every_records: SNAPSHOT_EVERY,
        };
        let clock = self.clock.clone() as SharedClock;
        match FileRegistry::open_with(Arc::new(self.storage.handle()), clock, options) {
            Ok(file) => self.file = Some(file),
            Err(e) => panic!(
                "step {}: FileRegistry failed to (re)open: {e:?}",
                self.steps
            ),
        }
    }

    /// Applies one step to every subject and compares them.
    pub fn apply(&mut self, step: &Step) {
        self.steps += 1;
        match step {
            Step::Advance(ms) => self.clock.advance(*ms),
            Step::Crash => {
                self.file = None;
                self.storage.crash(&mut self.rng, 0.5);
                self.open_file();
                let reopened = self.file_model();
                assert!(
                    reopened == self.model,
                    "step {}: FileRegistry reopened to a state other than the Model's (D2 D3 D6)\n\
                     model: {:?}\nfile:  {reopened:?}",
                    self.steps,
                    self.model
                );
            }
            Step::Call(op) => self.call(op),
        }
        if let Err(broken) = self.model.check_invariants() {
            panic!("step {}: Model invariant broken: {broken}", self.steps);
        }
    }

    fn file_model(&self) -> Model {
        let file = self.file.as_ref().expect("open");
        file.engine().model_snapshot().expect("lock")
    }

    fn call(&mut self, op: &Op) {
        let expected = self
            .model
            .apply(op, procreg::Clock::now_ms(self.clock.as_ref()));
        if let Ok(OpOutput::Lease(lease)) = &expected {
            self.leases.push(lease.clone());
        }
        let memory = run(execute_op(&self.memory, op));
        self.compare("MemoryRegistry", op, &expected, memory);
        let file = run(execute_op(self.file.as_ref().expect("open"), op));
        self.compare("FileRegistry", op, &expected, file);
    }

    fn compare(
        &self,
        who: &str,
        op: &Op,
        expected: &Result<OpOutput, PluginError>,
        got: Option<Result<OpOutput, PluginError>>,
    ) {
        let same = match (expected, &got) {
            (Ok(OpOutput::Pending), None) => true,
            (Ok(want), Some(Ok(have))) => want == have,
            (Err(want), Some(Err(have))) => want.kind() == have.kind(),
            _ => false,
        };
        assert!(
            same,
            "step {}: {who} disagrees with the Model on {op:?}\nmodel: {expected:?}\n{who}: {}",
            self.steps,
            got.map_or("blocked".to_owned(), |g| format!("{g:?}"))
        );
    }
}

/// Polls `future` up to [`POLLS`] times; `None` if it is still pending (a blocked wait).
fn run<T>(future: impl Future<Output = T>) -> Option<T> {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    (0..POLLS).find_map(|_| match future.as_mut().poll(&mut cx) {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    })
}

#[cfg(test)]
mod tests {
    use procreg::{ProcessRegistration, ProcessScope};

    use super::*;

    fn register(id: &str) -> Step {
        Step::Call(Op::Register {
            registration: ProcessRegistration::new(id, ProcessScope::session("s0"), "host"),
        })
    }

    fn claim(id: &str) -> Step {
        Step::Call(Op::ClaimLease {
            process_id: id.into(),
            owner_id: "o0".into(),
            lease_ttl_ms: 50,
        })
    }

    #[test]
    fn d2_a_crash_reopens_the_file_registry_to_the_models_state() {
        for seed in 0..8 {
            let mut subjects = Subjects::new(seed);
            for step in [register("p0"), claim("p0"), Step::Advance(5), Step::Crash] {
                subjects.apply(&step);
            }
            assert_eq!(subjects.leases.len(), 1);
            assert_eq!(subjects.file_model(), subjects.model);
            assert!(subjects.model.current_lease("p0").is_some());
        }
    }

    #[test]
    fn a_wait_the_model_calls_pending_blocks_on_both_registries() {
        let mut subjects = Subjects::new(0);
        subjects.apply(&register("p0"));
        subjects.apply(&Step::Call(Op::AwaitProcess {
            process_id: "p0".into(),
        }));
    }

    #[test]
    #[should_panic(expected = "disagrees with the Model")]
    fn a_registry_that_answers_differently_is_reported() {
        let mut subjects = Subjects::new(0);
        subjects.apply(&register("p0"));
        // The Model moves on alone: the registries now miss p1's registration.
        subjects
            .model
            .apply(
                &Op::Register {
                    registration: ProcessRegistration::new(
                        "p1",
                        ProcessScope::session("s0"),
                        "host",
                    ),
                },
                START_MS,
            )
            .unwrap();
        subjects.apply(&Step::Call(Op::GetProcess {
            process_id: "p1".into(),
        }));
    }
}
