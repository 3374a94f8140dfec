//! Tests of the scenario format, runner and bless: errors point at `file:line:column`, no input
//! makes the parser panic, the runner fails on a broken registry with the line and both
//! outcomes, and bless writes the Model's answers without touching anything else.

mod broken;
mod world;

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use procreg::PluginError;
use procreg_reference::{FileRegistry, MemoryRegistry};

use super::bless::bless_text;
use super::parse::parse_text;
use super::{RunOptions, ScenarioFailure, bless_file, run_file, run_file_with};
use crate::harness::{Capabilities, Harness, Instance};

struct Memory;

#[async_trait]
impl Harness for Memory {
    type Registry = MemoryRegistry;
    async fn fresh(&self, instance: &Instance) -> Result<MemoryRegistry, PluginError> {
        Ok(MemoryRegistry::new(instance.clock.clone()))
    }
}

struct Files(tempfile::TempDir);

#[async_trait]
impl Harness for Files {
    type Registry = FileRegistry;
    fn capabilities(&self) -> Capabilities {
        Capabilities::default().durable().with_crash_reopen()
    }
    async fn fresh(&self, instance: &Instance) -> Result<FileRegistry, PluginError> {
        FileRegistry::open_dir(self.0.path().join(&instance.label), instance.clock.clone())
    }
    async fn reopen(&self, i: &Instance, old: FileRegistry) -> Result<FileRegistry, PluginError> {
        drop(old);
        FileRegistry::open_dir(self.0.path().join(&i.label), i.clock.clone())
    }
}

/// Writes `files` (name, text) into a fresh directory; returns it and the first file's path.
fn write_files(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let first = dir.path().join(files[0].0);
    (dir, first)
}

fn parse_error(text: &str) -> String {
    let error = parse_text(text, Path::new("x.scn")).expect_err(text);
    error.to_string()
}

#[test]
fn parse_errors_name_file_line_column_and_a_hint() {
    let cases = [
        (
            "register p1\nclam p1 ttl=1",
            "x.scn:2:1: unknown verb `clam`",
            "did you mean `claim`?",
        ),
        (
            "register p1\na: claim p1 tll=5",
            "x.scn:2:13: `claim` has no option `tll`",
            "did you mean `ttl=`?",
        ),
        (
            "a: claim p1 ttl=1 => ok fenc=1",
            "x.scn:1:25: no field `fenc` here",
            "did you mean `fence`?",
        ),
        (
            "get p1 => err lease_hold",
            "x.scn:1:15: unknown error kind `lease_hold`",
            "did you mean `lease_held`?",
        ),
        (
            "append p1 note {\"a\": 1",
            "x.scn:1:16: `{` is never closed",
            "one line",
        ),
        (
            "a: renew p1 ttl=5",
            "x.scn:1:4: `a` never claimed `p1`",
            "claim first",
        ),
        (
            "claim p1 ttl=5",
            "x.scn:1:1: `claim` needs an actor",
            "a: claim",
        ),
        (
            "onlyif durabel\ncrash",
            "x.scn:1:8: unknown capability `durabel`",
            "did you mean `durable`?",
        ),
        (
            "onlyif durable {\ncrash",
            "x.scn:1:1: this block is never closed",
            "`}`",
        ),
        (
            "get p1 => pending",
            "x.scn:1:11: only `wait` and `await` can be pending",
            "",
        ),
        (
            "append p1 note {a: 1}",
            "x.scn:1:16: payload not JSON",
            "JSON on one line",
        ),
        ("include missing.scn", "x.scn:1:9: cannot include", ""),
        (
            "advance soon",
            "x.scn:1:9: `soon` is not a whole number",
            "",
        ),
    ];
    for (text, message, hint) in cases {
        let error = parse_error(text);
        assert!(
            error.contains(message),
            "{text:?} gave\n{error}\nnot {message:?}"
        );
        assert!(
            error.contains(hint),
            "{text:?} gave\n{error}\nwithout hint {hint:?}"
        );
    }
}

/// A small deterministic generator (xorshift), so the garbage is the same on every run.
struct Garbage(u64);

impl Garbage {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

#[test]
fn no_input_makes_the_parser_or_bless_panic() {
    let pieces = [
        "a:",
        "b:",
        "\"\":",
        ":",
        "register",
        "claim",
        "renew",
        "release",
        "append",
        "wait",
        "complete",
        "transfer",
        "grant",
        "types=",
        "x:wake(",
        "wake(input=/m, when=",
        ")",
        "p1",
        "s1/f1",
        "\"",
        "{",
        "}",
        "[",
        "]",
        "(",
        "=>",
        "ok",
        "err",
        "lease_held",
        "pending",
        "fence=",
        "ttl=",
        "1",
        "18446744073709551616",
        "-1",
        "#",
        " ",
        "\t",
        "\n",
        "onlyif",
        "skipif",
        "durable",
        "include",
        "advance",
        "crash",
        "=",
        ",",
        "é",
        "\u{0}",
        "\\",
        "{}",
        "key=k",
        "target=",
        "success={\"a\":1}",
        "failure",
        "ids=",
        "holder=",
        "\r\n",
        "world",
        "seed=1",
        "@5",
        "@",
        "!drop-request",
        "!delay=",
        "!cut=3",
        "!duplicate",
        "partition",
        "until=9",
        "owner=w",
    ];
    let mut garbage = Garbage(0x9E37_79B9_7F4A_7C15);
    for _ in 0..4000 {
        let words = (garbage.next() % 14) as usize;
        let text: String = (0..words)
            .map(|_| garbage.pick(&pieces))
            .collect::<Vec<_>>()
            .join(if garbage.next().is_multiple_of(3) {
                ""
            } else {
                " "
            });
        if parse_text(&text, Path::new("garbage.scn")).is_ok() && text.contains("world") {
            let _ = super::run_world_text(&text, "garbage.scn", &mut procreg_sim::MemoryTarget);
        }
        let _ = bless_text(&text, Path::new("garbage.scn"));
    }
    // Every prefix of a real scenario, cut at every character.
    let real = include_str!("../../../../scenarios/lease/stale_holder_cannot_renew.scn");
    for (cut, _) in real.char_indices() {
        let _ = bless_text(&real[..cut], Path::new("cut.scn"));
    }
}

const STALE: &str = "\
register p1
a: claim p1 ttl=1000          => ok fence=1
advance 1001
b: claim p1 ttl=1000          => ok fence=2   # b takes over
a: renew p1 ttl=1000          => err lease_lost
";

#[test]
fn l2_runner_fails_on_a_stuck_fence_naming_line_expected_and_actual() {
    let (_dir, path) = write_files(&[("stale.scn", STALE)]);
    let failure = run_file_with(
        &path,
        &broken::StuckFenceHarness,
        &RunOptions::default().named("lease/stale"),
    )
    .expect_err("a registry that never bumps the fence must fail");
    let ScenarioFailure::Mismatch(mismatch) = &failure else {
        panic!("not a mismatch: {failure}");
    };
    assert_eq!(
        (mismatch.file.as_path(), mismatch.line),
        (path.as_path(), 4)
    );
    assert_eq!(mismatch.step, "b: claim p1 ttl=1000");
    assert_eq!(mismatch.expected, "ok fence=2");
    assert_eq!(mismatch.actual, "ok fence=1");
    let shown = failure.to_string();
    assert!(
        shown.contains(&format!("{}:4: b: claim p1 ttl=1000", path.display())),
        "{shown}"
    );
    assert!(
        shown.contains("cargo test --test scenarios -- lease/stale"),
        "{shown}"
    );
    // The same file passes on the real registry.
    assert!(run_file(&path, &Memory).is_ok());
}

#[test]
fn d7_crash_is_skipped_on_inline_and_runs_on_durable() {
    let text = "register p1\na: claim p1 ttl=1000 => ok fence=1\ncrash\nb: claim p1 ttl=5 => err lease_held holder=a\n";
    let (_dir, path) = write_files(&[("crash.scn", text)]);
    let inline = run_file(&path, &Memory).unwrap();
    assert_eq!(inline.skipped.len(), 1);
    assert_eq!(inline.skipped[0].line, 3);
    assert_eq!(inline.skipped[0].reason, "skipped: needs durable");
    let durable = run_file(&path, &Files(tempfile::tempdir().unwrap())).unwrap();
    assert!(durable.skipped.is_empty());
    assert_eq!(durable.steps_run, 4);
}

#[test]
fn guards_and_includes_pick_the_steps_a_registry_runs() {
    let main = "include _setup.scn\nonlyif durable {\ncrash\nget p1 => ok state=running\n}\nskipif durable\nget p2 => ok state=none\n";
    let (dir, path) = write_files(&[("main.scn", main), ("_setup.scn", "register p1\n")]);
    let inline = run_file(&path, &Memory).unwrap();
    assert_eq!((inline.steps_run, inline.steps_guarded), (2, 2));
    let durable = run_file(&path, &Files(tempfile::tempdir().unwrap())).unwrap();
    assert_eq!((durable.steps_run, durable.steps_guarded), (3, 1));
    assert_eq!(
        super::discover(dir.path()).unwrap().len(),
        1,
        "fragments are not scenarios"
    );
}

#[test]
fn an_include_cycle_is_an_error_not_a_hang() {
    let (_dir, path) = write_files(&[("a.scn", "include b.scn\n"), ("b.scn", "include a.scn\n")]);
    let error = run_file(&path, &Memory).unwrap_err().to_string();
    assert!(error.contains("includes itself"), "{error}");
}

#[test]
fn bless_of_a_blessed_file_changes_nothing() {
    let (_dir, path) = write_files(&[("stale.scn", STALE)]);
    assert_eq!(bless_file(&path).unwrap(), STALE);
}

#[test]
fn bless_fixes_wrong_expectations_and_keeps_the_rest_of_the_line() {
    let wrong = "\
register p1   # setup
a: claim p1 ttl=1000          => ok fence=7 expires=1000   # first claim
b: claim p1 ttl=1000          => ok   # held: must fail
a: release p1
c: claim p1 ttl=1000          => err lease_held holder=a
c: release p1
b: claim p1 ttl=0
";
    let (_dir, path) = write_files(&[("wrong.scn", wrong)]);
    let blessed = bless_file(&path).unwrap();
    let expected = "\
register p1   # setup
a: claim p1 ttl=1000          => ok fence=1 expires=1000   # first claim
b: claim p1 ttl=1000          => err lease_held holder=a   # held: must fail
a: release p1
c: claim p1 ttl=1000          => ok fence=2
c: release p1
b: claim p1 ttl=0
";
    assert_eq!(blessed, expected);
    std::fs::write(&path, &blessed).unwrap();
    assert_eq!(
        bless_file(&path).unwrap(),
        blessed,
        "blessing twice changes nothing"
    );
    assert!(run_file(&path, &Memory).is_ok());
}

#[test]
fn bless_writes_an_error_for_a_step_without_expectation_aligned_with_the_arrows() {
    let text =
        "register p1\na: claim p1 ttl=10     => ok\nget p2\nb: claim p1 ttl=10   # comment\n";
    let (_dir, path) = write_files(&[("x.scn", text)]);
    let blessed = bless_file(&path).unwrap();
    assert_eq!(
        blessed,
        "register p1\na: claim p1 ttl=10     => ok\nget p2\nb: claim p1 ttl=10     => err lease_held holder=a   # comment\n"
    );
}

#[test]
fn bless_refuses_a_step_the_model_answers_differently_when_durable() {
    let text = "register p1\nskipif durable\na: claim p1 ttl=10\nb: claim p1 ttl=10\n";
    let (_dir, path) = write_files(&[("x.scn", text)]);
    let error = bless_file(&path).unwrap_err();
    assert_eq!(error.line, 4);
    assert!(error.to_string().contains("durable"), "{error}");
}

#[test]
fn every_bundled_scenario_passes_on_memory_through_run_dir() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let reports = super::run_dir(&dir, &Memory).unwrap_or_else(|failures| {
        let shown: Vec<String> = failures.iter().map(ToString::to_string).collect();
        panic!("{}", shown.join("\n\n"))
    });
    assert!(reports.len() >= 40, "only {} scenarios", reports.len());
    assert!(
        reports.iter().any(|r| !r.skipped.is_empty()),
        "some scenario crashes"
    );
}
