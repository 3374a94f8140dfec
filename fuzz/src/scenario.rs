//! The `scenario_parse` target: any text, read as a scenario file and replayed on
//! `MemoryRegistry`, never panics: it parses (with `file:line` errors for bad input) and runs
//! or fails with a typed `ScenarioFailure`.
//!
//! Why it exists: scenario files are user input (`procreg replay`, a user's own folder), and
//! the parser promises errors, not panics, for every input. The text is written to a private
//! folder next to one fragment, `_setup.scn`, so `include _setup.scn` is reachable; inputs that
//! name a path with a separator and also say `include` are skipped, so an input can never
//! make the parser read a file outside that folder (`/dev/zero` would never end).
//!
//! The replay runs on a paused tokio clock, so a step that blocks (a wait not marked pending)
//! times out in virtual time instead of holding the fuzzer for the harness's call timeout.

use std::path::PathBuf;
use std::sync::OnceLock;

use async_trait::async_trait;
use procreg::PluginError;
use procreg_conformance::scenario::{RunOptions, run_file_async};
use procreg_conformance::{Harness, Instance};
use procreg_reference::MemoryRegistry;

/// The fragment `include _setup.scn` splices in.
const SETUP: &str = "register p1\nregister p2\ngrant s1 p1 label=first\n";

struct MemoryHarness;

#[async_trait]
impl Harness for MemoryHarness {
    type Registry = MemoryRegistry;

    async fn fresh(&self, instance: &Instance) -> Result<MemoryRegistry, PluginError> {
        Ok(MemoryRegistry::new(instance.clock.clone()))
    }
}

/// This process's folder, with the fragment in it.
fn folder() -> &'static PathBuf {
    static FOLDER: OnceLock<PathBuf> = OnceLock::new();
    FOLDER.get_or_init(|| {
        let dir =
            std::env::temp_dir().join(format!("procreg-fuzz-scenario-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the fuzz folder");
        std::fs::write(dir.join("_setup.scn"), SETUP).expect("write the fragment");
        dir
    })
}

/// Runs one input; panics only if the parser or the runner does.
pub fn run(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    if text.contains("include") && (text.contains('/') || text.contains('\\')) {
        return;
    }
    let path = folder().join("input.scn");
    std::fs::write(&path, text).expect("write the input");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime");
    let options = RunOptions::default();
    // Either answer is fine; only a panic is a finding.
    let _ = runtime.block_on(run_file_async(&path, &MemoryHarness, &options));
}
