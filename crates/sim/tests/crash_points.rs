//! Crash-point exploration (D2, D3, D4, D6, D7): a fixed script of 31 durable calls runs on
//! FileRegistry over SimStorage, and the machine loses power after EVERY storage write `k`
//! (append, sync, replace, remove; opening the store included), with the unsynced tail dropped
//! or torn (prefix, prefix + garbage). Then the store is reopened — and, for every write the
//! reopen itself makes, crashed again during that reopen — and each reopened registry must:
//!
//! - open (the only `Corrupt` allowed is for deliberately flipped bits, tested separately);
//! - hold exactly the state after a prefix of the script that includes every acknowledged call
//!   (and at most the call in flight), so its Model passes `check_invariants()`;
//! - satisfy the durability checker (probe right after reopen), including claims and keyed
//!   replays made after the reopen (fences and lease tokens above every acknowledged one).
//!
//! A broken storage that acknowledges without syncing is caught by the same exploration.

mod storage_common;

use std::sync::Arc;

use procreg::{ErrorKind, ManualClock, PluginError};
use procreg_reference::{FileRegistry, Op, OpOutput, Storage};
use procreg_sim::check::{ReopenProbe, check_durability};
use procreg_sim::{CrashFate, LyingSync, SimStorage};
use storage_common::{Runner, block_on, open, reopened_prefix, script};

const START_MS: u64 = 1_000_000;

/// How the crash treats the unsynced tail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tail {
    Drop,
    TearHalf,
    TearAllButOne,
    TearWithGarbage,
}

impl Tail {
    const ALL: [Tail; 4] = [
        Tail::Drop,
        Tail::TearHalf,
        Tail::TearAllButOne,
        Tail::TearWithGarbage,
    ];

    fn fate(self, pending: &[u8]) -> CrashFate {
        let len = pending.len();
        match self {
            Tail::Drop => CrashFate::Drop,
            Tail::TearHalf => CrashFate::Tear { keep: len / 2 },
            Tail::TearAllButOne => CrashFate::Tear {
                keep: len.saturating_sub(1),
            },
            Tail::TearWithGarbage => CrashFate::TearWithGarbage {
                keep: len / 3,
                garbage: vec![0xA5; len],
            },
        }
    }
}

/// Wraps a storage so the crash-point loop can use SimStorage or a broken one alike.
trait Disk {
    fn sim(&self) -> &SimStorage;
    fn storage(&self) -> Arc<dyn Storage>;
}

impl Disk for SimStorage {
    fn sim(&self) -> &SimStorage {
        self
    }
    fn storage(&self) -> Arc<dyn Storage> {
        Arc::new(SimStorage::handle(self))
    }
}

struct Broken(SimStorage);

impl Disk for Broken {
    fn sim(&self) -> &SimStorage {
        &self.0
    }
    fn storage(&self) -> Arc<dyn Storage> {
        Arc::new(LyingSync(self.0.handle()))
    }
}

/// What one crash point found.
#[derive(Debug, Default)]
struct Outcome {
    /// Problems found (empty: the point passed).
    problems: Vec<String>,
    /// Unsynced bytes existed at the crash (torn variants differ from Drop).
    had_tail: bool,
    /// Storage writes the (first) reopen made.
    reopen_writes: u64,
    /// Claims and keyed replays that succeeded after the reopen (D3 was exercised).
    d3_calls: usize,
}

/// Runs the script with power lost after `k` writes, crashes with `tail`, optionally loses
/// power again after `reopen_k` writes of the reopen, then reopens and checks everything.
fn crash_point<D: Disk>(disk: &D, k: u64, tail: Tail, reopen_k: Option<u64>) -> Outcome {
    let clock = Arc::new(ManualClock::new(START_MS));
    let mut runner = Runner::new(clock.clone());
    let mut out = Outcome::default();
    disk.sim().power_off_after(k);
    if let Ok(registry) = open(disk.storage(), &clock) {
        runner.run(&registry, &script());
    }
    // Power is lost now (or the script ended first: then the crash hits a quiet disk).
    disk.sim().crash_with(|_, pending| {
        out.had_tail |= !pending.is_empty();
        tail.fate(pending)
    });
    if let Some(j) = reopen_k {
        let before = disk.sim().stats().mutations();
        disk.sim().power_off_after(j);
        let interrupted = open(disk.storage(), &clock);
        out.reopen_writes = disk.sim().stats().mutations() - before;
        drop(interrupted);
        disk.sim().crash_with(|_, _| CrashFate::Drop);
    }
    let before = disk.sim().stats().mutations();
    let registry = match open(disk.storage(), &clock) {
        Ok(registry) => registry,
        Err(e) => {
            out.problems.push(format!("reopen failed: {e}"));
            return out;
        }
    };
    if reopen_k.is_none() {
        out.reopen_writes = disk.sim().stats().mutations() - before;
    }
    out.d3_calls = check_reopened(&registry, &mut runner, &mut out.problems);
    out
}

/// Checks a reopened registry; returns how many D3 calls after the reopen succeeded.
fn check_reopened(
    registry: &FileRegistry,
    runner: &mut Runner,
    problems: &mut Vec<String>,
) -> usize {
    let model = match registry.engine().model_snapshot() {
        Ok(model) => model,
        Err(e) => {
            problems.push(format!("no model: {e}"));
            return 0;
        }
    };
    if let Err(e) = model.check_invariants() {
        problems.push(format!("reopened model breaks an invariant: {e}"));
    }
    if let Err(e) = reopened_prefix(&runner.history, &model) {
        problems.push(format!("D2: {e}"));
    }
    let now = procreg::Clock::now_ms(runner.clock.as_ref());
    let probe = ReopenProbe::take(registry, &runner.history, 1, now, Some(model));
    runner.epoch = 1;
    let d3_calls = after_reopen_calls(registry, runner);
    for v in check_durability(&runner.history, &[probe]) {
        problems.push(format!("{} at call {:?}: {}", v.rule, v.call, v.message));
    }
    d3_calls
}

/// D3 after the reopen: every acknowledged keyed append is retried (it must replay) and every
/// process is claimed again once leases expired (its fence must exceed the acknowledged ones).
fn after_reopen_calls(registry: &FileRegistry, runner: &mut Runner) -> usize {
    let mut ok = 0;
    let keyed: Vec<Op> = runner
        .history
        .calls()
        .iter()
        .filter(|c| matches!(c.outcome(), Some(Ok(OpOutput::Append(_)))))
        .filter(
            |c| matches!(&*c.op, Op::AppendEvent { request, .. } if request.replay_key.is_some()),
        )
        .map(|c| Op::clone(&c.op))
        .collect();
    for op in keyed {
        ok += usize::from(runner.call(registry, op).is_ok());
    }
    runner.clock.advance(10_000);
    for p in ["p1", "p2", "p3"] {
        let claim = Op::ClaimLease {
            process_id: p.into(),
            owner_id: "after-reopen".into(),
            lease_ttl_ms: 1_000,
        };
        ok += usize::from(runner.call(registry, claim).is_ok());
    }
    ok
}

/// Writes the whole script makes on a disk that never loses power (opening included).
fn total_writes() -> u64 {
    let disk = SimStorage::new();
    let clock = Arc::new(ManualClock::new(START_MS));
    let registry = open(disk.storage(), &clock).unwrap();
    let ran = Runner::new(clock).run(&registry, &script());
    assert_eq!(
        ran,
        script().len(),
        "the script runs to the end without faults"
    );
    disk.stats().mutations()
}

#[test]
fn d2_every_crash_point_reopens_with_every_acknowledged_call() {
    let total = total_writes();
    assert!(total >= 60, "the script makes {total} writes");
    let mut explored = 0;
    let mut reopen_crashes = 0;
    let mut d3_calls = 0;
    let mut failures = Vec::new();
    for k in 0..=total {
        for tail in Tail::ALL {
            let first = crash_point(&SimStorage::new(), k, tail, None);
            explored += 1;
            d3_calls += first.d3_calls;
            if !first.problems.is_empty() {
                failures.push(format!("k={k} {tail:?}: {:?}", first.problems));
            }
            // A crash inside the reopen's own repair writes (cut tail, new segment, removals).
            for j in 0..first.reopen_writes {
                let again = crash_point(&SimStorage::new(), k, tail, Some(j));
                reopen_crashes += 1;
                if !again.problems.is_empty() {
                    failures.push(format!(
                        "k={k} {tail:?} reopen-crash j={j}: {:?}",
                        again.problems
                    ));
                }
            }
            if !first.had_tail {
                break; // torn variants equal Drop when nothing was unsynced
            }
        }
    }
    eprintln!(
        "crash points: {} writes, {explored} crashes explored, {reopen_crashes} crashes during reopen",
        total + 1
    );
    assert!(
        failures.is_empty(),
        "{} failing crash points:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(explored > total as usize, "torn variants were explored too");
    assert!(
        d3_calls > explored,
        "claims and keyed replays after reopen: {d3_calls}"
    );
}

#[test]
fn proof_storage_that_skips_fsync_is_caught() {
    let total = total_writes();
    let mut caught = 0;
    let mut durability_named = 0;
    for k in 0..=total {
        let outcome = crash_point(&Broken(SimStorage::new()), k, Tail::Drop, None);
        if !outcome.problems.is_empty() {
            caught += 1;
        }
        if outcome.problems.iter().any(|p| p.starts_with("D2 at call")) {
            durability_named += 1;
        }
    }
    eprintln!(
        "skip-fsync storage: {caught} of {} crash points caught, {durability_named} by the durability checker",
        total + 1
    );
    assert!(
        caught > total / 2,
        "only {caught} crash points caught a storage that never syncs"
    );
    assert!(
        durability_named > 0,
        "the durability checker itself must name the lost call"
    );
}

#[test]
fn d4_flipped_bits_are_corrupt_except_in_the_last_frame_which_is_cut() {
    let disk = SimStorage::new();
    let clock = Arc::new(ManualClock::new(START_MS));
    let mut runner = Runner::new(clock.clone());
    {
        let registry = open(disk.storage(), &clock).unwrap();
        runner.run(&registry, &script());
    }
    disk.crash_with(|_, _| CrashFate::Drop);
    let files: Vec<String> = disk.handle().list().unwrap();
    let (mut corrupt, mut opened) = (0, 0);
    for name in files {
        let len = disk.contents(&name).unwrap().len();
        for offset in 0..len {
            let copy = clone_disk(&disk);
            assert!(copy.flip_bit(&name, offset, (offset % 8) as u8));
            match open(copy.storage(), &clock) {
                Err(e) => {
                    assert_eq!(e.kind(), ErrorKind::Corrupt, "{name}@{offset}: {e}");
                    corrupt += 1;
                }
                Ok(registry) => {
                    // The only silent outcome: damage in the very last frame looks like a torn
                    // tail and is cut (Z10, file::recover), losing exactly the last
                    // acknowledged commit (here: the script's last call). Nothing else.
                    let model = registry.engine().model_snapshot().unwrap();
                    model.check_invariants().unwrap();
                    let prefix = storage_common::prefix_models(&runner.history);
                    let without_last = &prefix[prefix.len() - 2];
                    assert!(
                        *without_last == model,
                        "{name}@{offset}: opened a state other than 'all but the last commit'"
                    );
                    opened += 1;
                }
            }
        }
    }
    eprintln!("bit flips: {corrupt} refused as Corrupt, {opened} cut the last frame");
    assert!(corrupt > 0);
    assert!(
        opened < corrupt / 10,
        "only the last frame may be cut: {opened} flips were"
    );
}

/// A copy of a crashed (all-durable) SimStorage.
fn clone_disk(disk: &SimStorage) -> SimStorage {
    let copy = SimStorage::new();
    for name in disk.handle().list().unwrap() {
        copy.replace(&name, &disk.contents(&name).unwrap()).unwrap();
    }
    copy
}

#[test]
fn a2_failed_sync_is_unavailable_then_poisons_until_reopen() {
    let disk = SimStorage::new();
    let clock = Arc::new(ManualClock::new(START_MS));
    let mut runner = Runner::new(clock.clone());
    let steps = script();
    let registry = open(disk.storage(), &clock).unwrap();
    runner.run(&registry, &steps[..5]);
    disk.fail_next_sync();
    let Some(storage_common::Step::Call(op)) = steps.get(5).cloned() else {
        panic!("step 5 is a plain call");
    };
    let failed: Result<OpOutput, PluginError> = runner.call(&registry, op);
    assert_eq!(failed.unwrap_err().kind(), ErrorKind::Unavailable);
    let read = block_on(execute_op_get(&registry, "p1"));
    assert_eq!(
        read.unwrap_err().kind(),
        ErrorKind::Storage,
        "poisoned until reopen (Z1)"
    );
    drop(registry);
    disk.crash_with(|_, _| CrashFate::Drop);
    let reopened = open(disk.storage(), &clock).unwrap();
    let mut problems = Vec::new();
    let d3_calls = check_reopened(&reopened, &mut runner, &mut problems);
    assert!(d3_calls > 0);
    assert!(problems.is_empty(), "{problems:?}");
}

async fn execute_op_get(registry: &FileRegistry, id: &str) -> Result<OpOutput, PluginError> {
    procreg_reference::execute_op(
        registry,
        &Op::GetProcess {
            process_id: id.into(),
        },
    )
    .await
}
