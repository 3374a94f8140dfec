//! Replays every scenario under `scenarios/` as one test per file and registry:
//! `memory::lease/stale_holder_cannot_renew` on `MemoryRegistry`, `file::...` on `FileRegistry`
//! over a temporary directory (crash = drop and reopen the directory, D7), and `model::...`
//! which checks that the file's expectations are what the Model answers (it was blessed).
//!
//! `cargo test --test scenarios -- lease/` runs one area; `PROCREG_BLESS=1 cargo test --test
//! scenarios` first rewrites every file's expectations from the Model, in place.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use libtest_mimic::{Arguments, Failed, Trial};
use procreg::PluginError;
use procreg_conformance::scenario::{self, RunOptions, ScenarioFile};
use procreg_conformance::{Capabilities, Harness, Instance};
use procreg_reference::{FileRegistry, MemoryRegistry};
use tempfile::TempDir;

/// `MemoryRegistry`: Inline, so `crash` steps are skipped.
struct MemoryHarness;

#[async_trait]
impl Harness for MemoryHarness {
    type Registry = MemoryRegistry;

    async fn fresh(&self, instance: &Instance) -> Result<MemoryRegistry, PluginError> {
        Ok(MemoryRegistry::new(instance.clock.clone()))
    }
}

/// `FileRegistry` in a directory per scenario under one temporary root.
struct FileHarness {
    root: TempDir,
}

impl FileHarness {
    fn dir(&self, instance: &Instance) -> PathBuf {
        self.root.path().join(&instance.label)
    }
}

#[async_trait]
impl Harness for FileHarness {
    type Registry = FileRegistry;

    fn capabilities(&self) -> Capabilities {
        Capabilities::default().durable().with_crash_reopen()
    }

    async fn fresh(&self, instance: &Instance) -> Result<FileRegistry, PluginError> {
        FileRegistry::open_dir(self.dir(instance), instance.clock.clone())
    }

    /// Every acknowledged call is synced before it returns, so dropping the registry loses what
    /// a crash would (D7); the reopen reads the same directory.
    async fn reopen(
        &self,
        instance: &Instance,
        old: FileRegistry,
    ) -> Result<FileRegistry, PluginError> {
        drop(old);
        FileRegistry::open_dir(self.dir(instance), instance.clock.clone())
    }
}

/// One trial per scenario file running it on `harness`, named `<prefix>::<scenario>`.
fn trials<H: Harness>(prefix: &str, harness: Arc<H>, files: &[ScenarioFile]) -> Vec<Trial> {
    let skip = scenario::skip_reason(&harness.capabilities());
    files
        .iter()
        .map(|file| {
            let (harness, file) = (Arc::clone(&harness), file.clone());
            let options = RunOptions::default()
                .named(&file.name)
                .replay_with(format!("cargo test --test scenarios -- {}", file.name));
            Trial::test(format!("{prefix}::{}", file.name), move || {
                scenario::run_file_with(&file.path, harness.as_ref(), &options)
                    .map(drop)
                    .map_err(|failure| Failed::from(failure.to_string()))
            })
            .with_ignored_flag(skip.is_some())
        })
        .collect()
}

/// One trial per file checking its expectations are the Model's (nothing left to bless).
fn blessed_trials(files: &[ScenarioFile]) -> Vec<Trial> {
    files
        .iter()
        .map(|file| {
            let file = file.clone();
            Trial::test(format!("model::{}", file.name), move || {
                is_blessed(&file.path)
            })
        })
        .collect()
}

fn is_blessed(path: &Path) -> Result<(), Failed> {
    let written = std::fs::read_to_string(path).map_err(|e| Failed::from(e.to_string()))?;
    let blessed = scenario::bless_file(path).map_err(|e| Failed::from(e.to_string()))?;
    let changed: Vec<String> = written
        .lines()
        .zip(blessed.lines())
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .map(|(i, (a, b))| {
            format!(
                "{}:{}:\n  written: {a}\n  Model:   {b}",
                path.display(),
                i + 1
            )
        })
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    Err(Failed::from(format!(
        "expectations differ from the Model:\n{}\n  accept the Model's: PROCREG_BLESS=1 cargo test --test scenarios",
        changed.join("\n")
    )))
}

fn main() {
    let args = Arguments::from_args();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    if std::env::var("PROCREG_BLESS").is_ok_and(|v| v == "1") {
        match scenario::bless_dir(&dir) {
            Ok(changed) => changed
                .iter()
                .for_each(|p| println!("blessed {}", p.display())),
            Err(e) => {
                eprintln!("bless failed: {e}");
                std::process::exit(1);
            }
        }
    }
    let files = match scenario::discover(&dir) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let file_harness = FileHarness {
        root: tempfile::tempdir().expect("a temporary directory"),
    };
    let mut all = blessed_trials(&files);
    all.extend(trials("memory", Arc::new(MemoryHarness), &files));
    all.extend(trials("file", Arc::new(file_harness), &files));
    libtest_mimic::run(&args, all).exit();
}
