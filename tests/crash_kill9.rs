//! A real crash: a child process drives a FileRegistry on a real directory and is killed with
//! SIGKILL at seeded random moments; the parent reopens the store and checks that every call the
//! child saw acknowledged is reflected (D2), that fencing tokens are never reused (D3, W3), that
//! the Model's invariants hold and that the store accepts new writes.
//!
//! The child is this test binary re-executed with `CHILD_DIR_ENV` set, running the ignored test
//! `kill9_child_workload`. It prints one `ack ...` line per call, flushed, only after the call
//! returned `Ok`. Rounds and seed: `PROCREG_KILL9_ROUNDS` (default 30), `PROCREG_SEED`.
//!
//! A SIGKILL ends the process but not the kernel: written bytes in the page cache survive it. So
//! this test proves that acknowledged calls were written before they were acknowledged and that
//! every crash point of the write, snapshot and compaction steps reopens cleanly; losing unsynced
//! bytes (a power cut) is what the simulator's `SimStorage` crashes check.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use procreg::{
    ErrorKind, ProcessAwaitOutput, ProcessEventAppendRequest, ProcessEventType,
    ProcessHandleDescriptor, ProcessRegistration, ProcessRegistry, ProcessScope, SharedClock,
    SystemClock,
};
use procreg_reference::DirStorage;
use procreg_reference::file::{FileOptions, FileRegistry};
use serde_json::json;

const CHILD_DIR_ENV: &str = "PROCREG_KILL9_CHILD_DIR";
const CHILD_SEED_ENV: &str = "PROCREG_KILL9_CHILD_SEED";
const SHARED: &str = "shared";
const OWNER: &str = "worker";

/// xorshift64*: enough randomness for schedules, and reproducible from the seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn registration(id: &str) -> ProcessRegistration {
    ProcessRegistration::new(id, ProcessScope::session("owner"), "host")
        .with_event_type(ProcessEventType::plain("note"))
}

fn output(id: &str) -> ProcessAwaitOutput {
    ProcessAwaitOutput::Success {
        value: json!({ "done": id }),
    }
}

fn open(dir: &Path) -> Result<FileRegistry, procreg::PluginError> {
    let clock: SharedClock = Arc::new(SystemClock::new());
    let storage = Arc::new(DirStorage::new(dir)?);
    // Frequent snapshots, so kills also land inside snapshot and compaction steps.
    let options = FileOptions {
        snapshot_every_records: 5,
    };
    FileRegistry::open_with(storage, clock, options)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The child: runs durable calls forever, printing each acknowledged one.
#[test]
#[ignore = "the child process of kill9_acknowledged_calls_survive_sigkill"]
fn kill9_child_workload() {
    let (Ok(dir), Ok(seed)) = (std::env::var(CHILD_DIR_ENV), std::env::var(CHILD_SEED_ENV)) else {
        return; // run outside the parent (e.g. --include-ignored): nothing to drive
    };
    let seed: u64 = seed.parse().unwrap();
    runtime().block_on(child(Path::new(&dir), seed));
}

fn ack(line: String) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "ack {line}").unwrap();
    out.flush().unwrap();
}

async fn child(dir: &Path, seed: u64) {
    let registry = open(dir).unwrap();
    let mut rng = Rng::new(seed);
    registry
        .register_process(registration(SHARED))
        .await
        .unwrap();
    println!("ready"); // libtest may have printed `test ... ` before it on the same line
    let mut mine: Vec<String> = Vec::new();
    for step in 0.. {
        let target = match mine.len() as u64 {
            0 => SHARED.to_owned(),
            n => mine[rng.below(n) as usize].clone(),
        };
        match rng.below(6) {
            0 | 1 => {
                let id = format!("c{seed}-{step}");
                registry.register_process(registration(&id)).await.unwrap();
                ack(format!("register {id}"));
                mine.push(id);
            }
            2 => {
                let key = format!("k{seed}-{step}");
                let request = ProcessEventAppendRequest::new("note", json!({ "step": step }))
                    .with_replay_key(&key);
                let result = registry.append_event(&target, request).await.unwrap();
                ack(format!(
                    "append {target} {} {key} {step}",
                    result.event.sequence
                ));
            }
            3 => {
                let id = if rng.below(2) == 0 { SHARED } else { &target };
                match registry.claim_process_lease(id, OWNER, 60_000).await {
                    Ok(lease) => ack(format!("claim {id} {}", lease.fencing_token)),
                    Err(e) if e.kind() == ErrorKind::AlreadyTerminal => {}
                    Err(e) => panic!("claim: {e}"),
                }
            }
            4 if target != SHARED => {
                registry
                    .complete_process(&target, output(&target))
                    .await
                    .unwrap();
                ack(format!("complete {target}"));
            }
            _ => {
                let scope = format!("g{}", rng.below(3));
                let descriptor = ProcessHandleDescriptor::labelled(&target);
                (registry.grant_handle(&ProcessScope::session(&scope), &target, descriptor))
                    .await
                    .unwrap();
                ack(format!("grant {scope} {target}"));
            }
        }
    }
}

/// Lines the child completed (a line cut by the kill has no newline and is dropped).
fn acknowledged_lines(stdout: impl std::io::Read) -> Vec<String> {
    let mut reader = BufReader::new(stdout);
    let mut lines = Vec::new();
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line).unwrap() > 0 {
        if line.ends_with(b"\n") {
            lines.push(String::from_utf8_lossy(&line).trim_end().to_owned());
        }
        line.clear();
    }
    lines
}

/// Runs one child until killed; returns its acknowledged lines.
fn crash_round(dir: &Path, child_seed: u64, kill_after_ms: u64) -> Vec<String> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "kill9_child_workload",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .args(["--test-threads", "1"])
        .env(CHILD_DIR_ENV, dir)
        .env(CHILD_SEED_ENV, child_seed.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut first = String::new();
        while reader.read_line(&mut first).unwrap_or(0) > 0 && !first.trim_end().ends_with("ready")
        {
            first.clear();
        }
        let _ = ready_tx.send(());
        acknowledged_lines(reader)
    });
    let ready = ready_rx.recv_timeout(Duration::from_secs(20));
    // Sleeping on the wall clock is the point here: the kill lands at a real moment.
    std::thread::sleep(Duration::from_millis(kill_after_ms));
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    let lines = reader.join().unwrap();
    if ready.is_err() || status.success() {
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        panic!("the child did not run until killed ({status}): {stderr}");
    }
    lines
        .into_iter()
        .filter_map(|l| l.strip_prefix("ack ").map(str::to_owned))
        .collect()
}

/// Everything the children saw acknowledged, and the highest fence of `SHARED` so far.
#[derive(Default)]
struct Acked {
    lines: Vec<String>,
    max_fence: u64,
}

async fn check_store(dir: &Path, acked: &mut Acked, round: u64) {
    let registry = open(dir).unwrap_or_else(|e| panic!("round {round}: reopen failed: {e}"));
    let model = registry.engine().model_snapshot().unwrap();
    model.check_invariants().unwrap();
    for line in &acked.lines {
        let words: Vec<&str> = line.split(' ').collect();
        let context = format!("round {round}: acknowledged `{line}` is lost");
        match words[..] {
            ["register", id] => assert!(
                registry.get_process(id).await.unwrap().is_some(),
                "{context}"
            ),
            ["append", id, seq, key, step] => {
                let request = ProcessEventAppendRequest::new(
                    "note",
                    json!({ "step": step.parse::<u64>().unwrap() }),
                )
                .with_replay_key(key);
                let replay = registry.append_event(id, request).await.expect(&context);
                assert!(replay.replayed, "{context}");
                assert_eq!(
                    replay.event.sequence.to_string(),
                    seq,
                    "{context} (D3 sequence)"
                );
            }
            ["claim", id, fence] => {
                let fence: u64 = fence.parse().unwrap();
                assert!(model.highest_fencing_token(id) >= fence, "{context}");
                if id == SHARED {
                    acked.max_fence = acked.max_fence.max(fence);
                }
            }
            ["complete", id] => {
                let record = registry.get_process(id).await.unwrap().expect(&context);
                assert_eq!(record.status.await_output(), Some(&output(id)), "{context}");
            }
            ["grant", scope, id] => {
                let scope = ProcessScope::session(scope);
                assert!(
                    registry.has_handle_grant(&scope, id).await.unwrap(),
                    "{context}"
                );
            }
            _ => panic!("unknown ack line `{line}`"),
        }
    }
    // D3/W3: the next fence is above every acknowledged one, and the store takes new writes.
    let lease = registry
        .claim_process_lease(SHARED, OWNER, 60_000)
        .await
        .unwrap();
    assert!(
        lease.fencing_token > acked.max_fence,
        "round {round}: fence {} reused",
        lease.fencing_token
    );
    acked.max_fence = lease.fencing_token;
    let id = format!("parent-{round}");
    registry.register_process(registration(&id)).await.unwrap();
    acked.lines.push(format!("register {id}"));
}

#[test]
fn kill9_acknowledged_calls_survive_sigkill() {
    if std::env::var(CHILD_DIR_ENV).is_ok() {
        return; // inside a child: only kill9_child_workload runs
    }
    let seed = std::env::var("PROCREG_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(9);
    let rounds = std::env::var("PROCREG_KILL9_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let replay = format!("PROCREG_SEED={seed} cargo test --test crash_kill9");
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(seed);
    let mut acked = Acked::default();
    let runtime = runtime();
    for round in 0..rounds {
        let kill_after_ms = rng.below(100);
        let lines = crash_round(dir.path(), rng.next() % 1_000_000, kill_after_ms);
        acked.lines.extend(lines);
        let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            runtime.block_on(check_store(dir.path(), &mut acked, round));
        }));
        if checked.is_err() {
            panic!("kill -9 round {round} failed; replay with: {replay}");
        }
    }
    assert!(
        acked.lines.len() as u64 > rounds,
        "the children acknowledged too little to test"
    );
}
