//! `procreg scenarios [DIR]` and `procreg replay FILE`: scenario files run on the bundled
//! registries, and `--bless` to rewrite their expectations from the Model.
//!
//! Why it exists: a scenario is the contract written as a story (`docs/SCENARIOS.md`); a person
//! editing one wants to run it, or a whole folder, without a test crate, and to see the failing
//! `file:line` with expected and actual. `memory` is `MemoryRegistry` (Inline: `crash` steps are
//! skipped); `file` is `FileRegistry` in a temporary directory, crashed by dropping it and
//! reopened over the same directory (D7).

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use procreg::PluginError;
use procreg_conformance::scenario::{
    RunOptions, ScenarioFailure, ScenarioReport, bless_dir, discover, run_file_with,
};
use procreg_conformance::{Capabilities, Harness, Instance};
use procreg_reference::{FileRegistry, MemoryRegistry};
use serde::Serialize;
use tempfile::TempDir;

use crate::args::{Registry, ScenariosArgs};
use crate::{CliError, emit};

/// `MemoryRegistry` on the runner's clock.
struct MemoryHarness;

#[async_trait]
impl Harness for MemoryHarness {
    type Registry = MemoryRegistry;

    async fn fresh(&self, instance: &Instance) -> Result<MemoryRegistry, PluginError> {
        Ok(MemoryRegistry::new(instance.clock.clone()))
    }
}

/// `FileRegistry` in one directory per scenario under a temporary root.
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

    /// Every acknowledged call is synced before it returns, so dropping the registry loses
    /// what a crash would (D7); the reopen reads the same directory.
    async fn reopen(
        &self,
        instance: &Instance,
        old: FileRegistry,
    ) -> Result<FileRegistry, PluginError> {
        drop(old);
        FileRegistry::open_dir(self.dir(instance), instance.clock.clone())
    }
}

/// The command that reruns one file on one registry.
fn replay_line(path: &Path, registry: Registry) -> String {
    format!(
        "procreg replay {} --registry {}",
        path.display(),
        registry.name()
    )
}

/// Runs the scenario at `path` on `registry`, named `name`.
fn run_on(
    path: &Path,
    name: &str,
    registry: Registry,
) -> Result<Result<ScenarioReport, ScenarioFailure>, CliError> {
    let options = RunOptions::default()
        .named(name)
        .replay_with(replay_line(path, registry));
    Ok(match registry {
        Registry::Memory => run_file_with(path, &MemoryHarness, &options),
        Registry::File => {
            let root = TempDir::new()
                .map_err(|e| CliError::Io(format!("cannot make a temporary directory: {e}")))?;
            run_file_with(path, &FileHarness { root }, &options)
        }
    })
}

/// `procreg replay FILE`: runs one scenario file and prints what happened; `Ok(true)` when
/// every step answered as expected.
pub fn replay_file(path: &Path, registry: Registry) -> Result<bool, CliError> {
    std::fs::metadata(path)
        .map_err(|e| CliError::Io(format!("cannot read {}: {e}", path.display())))?;
    let name = path.file_stem().map_or_else(
        || path.display().to_string(),
        |s| s.to_string_lossy().into(),
    );
    match run_on(path, &name, registry)? {
        Ok(report) => {
            emit(&passed_text(&report, registry));
            Ok(true)
        }
        // A file that does not parse is bad input (exit 2), not a registry that failed it.
        Err(ScenarioFailure::Invalid(e)) => Err(CliError::Usage(e.to_string())),
        Err(failure) => {
            emit(&format!("FAILED on {}: {failure}\n", registry.name()));
            Ok(false)
        }
    }
}

fn passed_text(report: &ScenarioReport, registry: Registry) -> String {
    if let Some(why) = &report.skipped_file {
        return format!("scenario {} on {}: {why}\n", report.name, registry.name());
    }
    let mut text = format!(
        "scenario {} passed on {}: {} steps run, {} left out by guards\n",
        report.name,
        registry.name(),
        report.steps_run,
        report.steps_guarded
    );
    for skipped in &report.skipped {
        text.push_str(&format!(
            "  {}:{}: {}\n",
            skipped.file.display(),
            skipped.line,
            skipped.reason
        ));
    }
    text
}

/// One registry's results over a folder, as the table row and the JSON cell.
#[derive(Debug, Serialize)]
struct RegistryRun {
    registry: &'static str,
    files: usize,
    passed: usize,
    failed: usize,
    steps_run: usize,
    steps_skipped: usize,
    failures: Vec<FileFailure>,
}

/// The whole run as JSON (`procreg scenarios --json`).
#[derive(Debug, Serialize)]
struct ScenariosJson<'a> {
    schema: &'static str,
    dir: String,
    passed: bool,
    registries: &'a [RegistryRun],
}

/// A failing file: its name, the failure as printed, and how to rerun it.
#[derive(Debug, Serialize)]
struct FileFailure {
    name: String,
    message: String,
    replay: String,
}

/// `procreg scenarios`: runs (or blesses) every scenario under the folder.
pub fn scenarios(args: &ScenariosArgs) -> Result<bool, CliError> {
    let dir = &args.dir;
    if args.bless {
        let changed = bless_dir(dir).map_err(|e| CliError::Io(e.to_string()))?;
        let mut text = format!(
            "blessed {}: {} file(s) changed\n",
            dir.display(),
            changed.len()
        );
        for path in changed {
            text.push_str(&format!("  {}\n", path.display()));
        }
        emit(&text);
        return Ok(true);
    }
    let files = discover(dir)
        .map_err(|e| CliError::Io(format!("scenario folder {}: {}", dir.display(), e.message)))?;
    let mut runs = Vec::new();
    for registry in args.registry.registries() {
        let mut run = RegistryRun {
            registry: registry.name(),
            files: files.len(),
            passed: 0,
            failed: 0,
            steps_run: 0,
            steps_skipped: 0,
            failures: Vec::new(),
        };
        for file in &files {
            match run_on(&file.path, &file.name, registry)? {
                Ok(report) => {
                    run.passed += 1;
                    run.steps_run += report.steps_run;
                    run.steps_skipped += report.skipped.len();
                }
                Err(failure) => {
                    run.failed += 1;
                    run.failures.push(FileFailure {
                        name: file.name.clone(),
                        message: failure.to_string(),
                        replay: replay_line(&file.path, registry),
                    });
                }
            }
        }
        runs.push(run);
    }
    let passed = runs.iter().all(|r| r.failed == 0);
    if args.json {
        let doc = ScenariosJson {
            schema: "procreg-scenarios/1",
            dir: dir.display().to_string(),
            passed,
            registries: &runs,
        };
        let text = serde_json::to_string_pretty(&doc)
            .map_err(|e| CliError::Io(format!("cannot write the JSON summary: {e}")))?;
        emit(&format!("{text}\n"));
    } else {
        emit(&summary(dir, &runs));
    }
    Ok(passed)
}

fn summary(dir: &Path, runs: &[RegistryRun]) -> String {
    let mut text = String::new();
    for run in runs {
        for failure in &run.failures {
            text.push_str(&format!(
                "FAILED {} on {}:\n{}\n\n",
                failure.name, run.registry, failure.message
            ));
        }
    }
    let files = runs.first().map_or(0, |r| r.files);
    text.push_str(&format!(
        "procreg scenarios: {files} files under {}\n",
        dir.display()
    ));
    text.push_str("registry  files  passed  failed  steps run  steps skipped\n");
    for r in runs {
        text.push_str(&format!(
            "{:<8}  {:>5}  {:>6}  {:>6}  {:>9}  {:>13}\n",
            r.registry, r.files, r.passed, r.failed, r.steps_run, r.steps_skipped
        ));
    }
    let failed: usize = runs.iter().map(|r| r.failed).sum();
    let total: usize = runs.iter().map(|r| r.files).sum();
    if failed == 0 {
        text.push_str(&format!("ok: all {total} scenario runs passed\n"));
    } else {
        text.push_str(&format!(
            "FAILED: {failed} of {total} scenario runs failed\n"
        ));
    }
    text
}
