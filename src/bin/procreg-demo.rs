//! The demo story: both bundled registries driven through a lease / stall / reclaim /
//! complete / crash / reopen story, printed step by step. Time is a `ManualClock`, so the story
//! reads the same on every run.
//!
//! `cargo run --release --bin procreg-demo`

use std::process::ExitCode;
use std::sync::Arc;

use procreg::{
    ManualClock, PluginError, ProcessAwaitOutput, ProcessEventAppendRequest, ProcessEventType,
    ProcessLease, ProcessRegistration, ProcessRegistry, ProcessScope, SharedClock,
};
use procreg_reference::{FileRegistry, MemoryRegistry};
use serde_json::json;

const TTL_MS: u64 = 1_000;

/// Opens (or reopens, after a crash) the registry under test.
type Opener = Box<dyn Fn(SharedClock) -> Result<Box<dyn ProcessRegistry>, PluginError>>;

fn say(step: &mut u32, what: impl std::fmt::Display) {
    *step += 1;
    println!("  {step:>2}. {what}");
}

fn lease_text(lease: &ProcessLease) -> String {
    format!(
        "owner={} fence={} expires_at={}",
        lease.owner_id, lease.fencing_token, lease.expires_at_ms
    )
}

fn outcome<T>(result: &Result<T, PluginError>, ok: impl Fn(&T) -> String) -> String {
    match result {
        Ok(value) => format!("ok {}", ok(value)),
        Err(error) => format!("err {} ({error})", error.kind()),
    }
}

async fn story(name: &str, open: Opener, durable: bool) -> Result<(), PluginError> {
    println!("\n== {name}");
    let clock = ManualClock::new(1_000);
    let shared: SharedClock = Arc::new(clock.clone());
    let mut registry = open(Arc::clone(&shared))?;
    let mut step = 0;
    let registration = ProcessRegistration::new("build-42", ProcessScope::session("s1"), "host")
        .with_input(json!({ "target": "release" }))
        .with_event_type(ProcessEventType::plain("progress"));
    let record = registry.register_process(registration).await?;
    say(
        &mut step,
        format!(
            "register build-42 => running, hash {}…",
            &record.registration_hash[..12]
        ),
    );

    let a = registry
        .claim_process_lease("build-42", "worker-a", TTL_MS)
        .await?;
    say(
        &mut step,
        format!("worker-a claims      => {}", lease_text(&a)),
    );
    let progress = ProcessEventAppendRequest::new("progress", json!({ "pct": 40 }));
    let appended = registry.append_event("build-42", progress).await?;
    say(
        &mut step,
        format!(
            "worker-a appends progress => sequence {}",
            appended.event.sequence
        ),
    );

    clock.advance(TTL_MS + 1);
    say(
        &mut step,
        format!("worker-a stalls for {} ms: its lease expires", TTL_MS + 1),
    );
    let b = registry
        .claim_process_lease("build-42", "worker-b", TTL_MS)
        .await?;
    say(
        &mut step,
        format!("worker-b reclaims    => {}", lease_text(&b)),
    );
    let stale = registry.renew_process_lease(&a, TTL_MS).await;
    say(
        &mut step,
        format!("worker-a wakes, renews => {}", outcome(&stale, lease_text)),
    );

    if durable {
        drop(registry);
        say(&mut step, "crash: every handle dropped mid-flight");
        registry = open(Arc::clone(&shared))?;
        say(&mut step, "reopen: log replayed");
        let fenced = registry.renew_process_lease(&b, TTL_MS).await;
        say(
            &mut step,
            format!(
                "worker-b renews after reopen => {}",
                outcome(&fenced, lease_text)
            ),
        );
    }

    let output = ProcessAwaitOutput::Success {
        value: json!({ "artifact": "app.tar" }),
    };
    let done = registry
        .complete_process("build-42", output.clone())
        .await?;
    say(
        &mut step,
        format!("worker-b completes   => updated_at {}", done.updated_at_ms),
    );
    registry.complete_process_lease(&b.completion()).await?;
    say(&mut step, "worker-b releases its lease");
    let retry = registry.complete_process("build-42", output).await;
    say(
        &mut step,
        format!(
            "a retried completion => {}",
            outcome(&retry, |r| format!("same record: {}", *r == done))
        ),
    );
    let late = ProcessAwaitOutput::Failure {
        code: "stale".into(),
        message: "worker-a".into(),
    };
    let late = registry.complete_process("build-42", late).await;
    say(
        &mut step,
        format!(
            "worker-a's late failure => {}",
            outcome(&late, |_| String::new())
        ),
    );
    let events = registry.events_after("build-42", 0).await?;
    let types: Vec<_> = events
        .iter()
        .map(|e| format!("{}:{}", e.sequence, e.event_type))
        .collect();
    say(
        &mut step,
        format!("event log            => [{}]", types.join(", ")),
    );
    let claim = registry
        .claim_process_lease("build-42", "worker-c", TTL_MS)
        .await;
    say(
        &mut step,
        format!(
            "worker-c claims the finished process => {}",
            outcome(&claim, lease_text)
        ),
    );
    let worklist = registry.list_non_terminal().await?;
    say(
        &mut step,
        format!("recovery worklist    => {} running", worklist.len()),
    );
    Ok(())
}

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("procreg-demo: cannot start a runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(error) => {
            eprintln!("procreg-demo: cannot make a temp dir: {error}");
            return ExitCode::FAILURE;
        }
    };
    let path = dir.path().to_path_buf();
    let memory: Opener = Box::new(|clock| Ok(Box::new(MemoryRegistry::new(clock))));
    let file: Opener = Box::new(move |clock| Ok(Box::new(FileRegistry::open_dir(&path, clock)?)));
    let result = runtime.block_on(async {
        story("MemoryRegistry (Inline)", memory, false).await?;
        story("FileRegistry (Durable, in a temp dir)", file, true).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("procreg-demo: unexpected {} error: {error}", error.kind());
            ExitCode::FAILURE
        }
    }
}
