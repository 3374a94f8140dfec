//! The `procreg` binary as a person and a CI job use it: exit codes (0 pass, 1 a seed failed,
//! 2 bad usage or input), one-line errors, the summary table, stable JSON, replay and the
//! timeline SVG. Small inputs only, so the debug build keeps this fast.

use std::process::{Command, Output};

use serde_json::Value;

fn procreg(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_procreg"))
        .args(args)
        .output()
        .expect("the procreg binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("utf-8 stderr")
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON document")
}

/// A usage error: exit code 2 and exactly one line on stderr, naming `needle`.
fn assert_one_line_usage_error(output: &Output, needle: &str) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(needle), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn laws_json_parses_and_lists_at_least_100_laws() {
    let output = procreg(&["laws", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let doc = json(&output);
    assert_eq!(doc["schema"], "procreg-laws/1");
    let laws = doc["laws"].as_array().expect("laws array");
    assert!(laws.len() >= 100, "{} laws", laws.len());
    assert_eq!(doc["count"].as_u64(), Some(laws.len() as u64));
    for law in laws {
        let id = law["id"].as_str().expect("id");
        let area = law["area"].as_str().expect("area");
        assert!(id.starts_with(&format!("{area}::")), "{id}");
        assert!(law["rules"].is_array() && law["needs"].is_array(), "{law}");
    }
}

#[test]
fn laws_area_filters_and_an_unknown_area_is_one_line() {
    let output = procreg(&["laws", "--area", "lease"]);
    assert!(output.status.success());
    let text = stdout(&output);
    let rows: Vec<&str> = text.lines().skip(1).filter(|l| l.contains("::")).collect();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r.starts_with("lease::")), "{text}");
    assert_one_line_usage_error(&procreg(&["laws", "--area", "nope"]), "--area nope");
}

#[test]
fn explore_three_seeds_exits_0_with_a_summary_table() {
    let output = procreg(&["explore", "--seeds", "3"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    assert!(
        text.contains("seeds/s") && text.contains("median calls/seed"),
        "{text}"
    );
    for workload in ["recovery", "grants", "events"] {
        for registry in ["memory", "file"] {
            let row = text
                .lines()
                .find(|l| l.split_whitespace().take(2).eq([workload, registry]))
                .unwrap_or_else(|| panic!("no row for {workload} on {registry}:\n{text}"));
            let cols: Vec<&str> = row.split_whitespace().collect();
            assert_eq!(&cols[2..5], ["3", "3", "0"], "seeds, passed, failed: {row}");
        }
    }
    assert!(text.contains("ok: all 18 seed runs passed"), "{text}");
}

#[test]
fn explore_json_is_one_stable_document() {
    let output = procreg(&[
        "explore",
        "--seeds",
        "2",
        "--workload",
        "events",
        "--registry",
        "file",
        "--faults",
        "heavy",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let doc = json(&output);
    assert_eq!(doc["schema"], "procreg-explore/1");
    assert_eq!(doc["faults"], "heavy");
    assert_eq!(doc["seed_count"], 2);
    assert_eq!(doc["passed"], true);
    let cells = doc["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 1);
    let cell = &cells[0];
    assert_eq!(cell["workload"], "events");
    assert_eq!(cell["registry"], "file");
    assert_eq!(cell["seeds_run"], 2);
    assert_eq!(cell["failed"], 0);
    assert!(cell["median_calls"].as_u64().unwrap() > 0);
    assert!(cell["failures"].as_array().unwrap().is_empty());
}

#[test]
fn shards_split_the_seeds_between_machines() {
    let run = |shard: &str| {
        let output = procreg(&[
            "explore",
            "--seeds",
            "5",
            "--workload",
            "events",
            "--registry",
            "memory",
            "--shard",
            shard,
            "--json",
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        json(&output)["cells"][0]["seeds_run"].as_u64().unwrap()
    };
    // Seeds 0..5 over 2 machines: {0, 2, 4} and {1, 3}.
    assert_eq!(run("1/2"), 3);
    assert_eq!(run("2/2"), 2);
}

#[test]
fn bad_shard_exits_2_with_one_line() {
    assert_one_line_usage_error(&procreg(&["explore", "--shard", "3/2"]), "--shard 3/2");
    assert_one_line_usage_error(&procreg(&["explore", "--shard", "1/0"]), "--shard 1/0");
    assert_one_line_usage_error(&procreg(&["explore", "--shard", "two"]), "--shard two");
}

#[test]
fn bad_flags_and_values_exit_2_without_a_panic() {
    for args in [
        &["explore", "--workload", "nope"][..],
        &["explore", "--faults", "medium"],
        &["explore", "--seeds", "many"],
        &["explore", "--seed", "1", "--seeds", "2"],
        &["explore", "--frobnicate"],
        &["replay"],
        &["bench", "--seconds", "0"],
    ] {
        let output = procreg(args);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    assert_one_line_usage_error(&procreg(&["explore", "--seeds", "0"]), "--seeds 0");
}

#[test]
fn replay_seed_1_prints_a_report() {
    let output = procreg(&["replay", "--seed", "1"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    assert!(text.contains("workload=recovery target=memory"), "{text}");
    assert!(text.contains("seed=1"), "{text}");
    assert!(text.contains("plan: "), "{text}");
    assert!(text.contains("timeline (calls #"), "{text}");
    let last = text.lines().last().unwrap();
    assert_eq!(
        last,
        "replay: procreg replay --seed 1 --workload recovery --registry memory --faults heavy"
    );
}

#[test]
fn replay_is_deterministic() {
    let args = [
        "replay",
        "--seed",
        "4",
        "--registry",
        "file",
        "--faults",
        "heavy",
    ];
    assert_eq!(stdout(&procreg(&args)), stdout(&procreg(&args)));
}

/// A lease story whose third line expects the wrong answer (a live lease is held, L1).
const WRONG_STORY: &str = "register p1\n\
    a: claim p1 ttl=1000   => ok fence=1\n\
    b: claim p1 ttl=1000   => ok fence=2\n";

#[test]
fn replay_of_a_scenario_file_names_the_failing_line_and_its_replay() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("story.scn");
    std::fs::write(&path, WRONG_STORY).unwrap();
    let output = procreg(&["replay", path.to_str().unwrap(), "--registry", "file"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}{}", stderr(&output));
    assert!(text.contains("story.scn:3: b: claim p1 ttl=1000"), "{text}");
    assert!(text.contains("expected: ok fence=2"), "{text}");
    assert!(text.contains("err lease_held"), "{text}");
    let replay = format!("procreg replay {} --registry file", path.display());
    assert!(text.contains(&replay), "{text}");

    std::fs::write(&path, WRONG_STORY.replace("ok fence=2", "err lease_held")).unwrap();
    let output = procreg(&["replay", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("passed on memory: 3 steps run"));
}

const WORLD_STORY: &str = "\
world seed=1 latency=1 timeout=50
@0   setup: register p1
@5   a: claim p1 ttl=100 !drop-response => err unavailable
@10  b: claim p1 ttl=100                => ok fence=2
";

#[test]
fn replay_of_a_world_file_checks_its_expectations_on_both_registries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("race.scn");
    // a's claim took effect although its answer was lost: b is refused.
    std::fs::write(&path, WORLD_STORY).unwrap();
    for registry in ["memory", "file"] {
        let output = procreg(&["replay", path.to_str().unwrap(), "--registry", registry]);
        let text = stdout(&output);
        assert_eq!(output.status.code(), Some(1), "{text}{}", stderr(&output));
        assert!(text.contains("race.scn:4: b: claim p1 ttl=100"), "{text}");
        assert!(text.contains("actual:   err lease_held"), "{text}");
    }
    std::fs::write(
        &path,
        WORLD_STORY.replace("ok fence=2", "err lease_held holder=a"),
    )
    .unwrap();
    let output = procreg(&["replay", path.to_str().unwrap(), "--registry", "file"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("passed on file: 3 steps run"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn an_invalid_scenario_file_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.scn");
    std::fs::write(&path, "a: frobnicate p1\n").unwrap();
    let output = procreg(&["replay", path.to_str().unwrap()]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with(&format!("error: {}:1:", path.display())),
        "{err}"
    );
}

#[test]
fn scenarios_run_the_bundled_folder_and_bless_rewrites_from_the_model() {
    let bundled = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios");
    let output = procreg(&["scenarios", bundled, "--registry", "memory", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let doc = json(&output);
    assert_eq!(doc["schema"], "procreg-scenarios/1");
    assert_eq!(doc["passed"], true);
    let memory = &doc["registries"][0];
    assert_eq!(memory["registry"], "memory");
    assert!(memory["files"].as_u64().unwrap() >= 10, "{memory}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("story.scn");
    std::fs::write(&path, WRONG_STORY).unwrap();
    let failing = procreg(&["scenarios", dir.path().to_str().unwrap()]);
    assert_eq!(failing.status.code(), Some(1), "{}", stdout(&failing));
    assert!(stdout(&failing).contains("FAILED: 2 of 2 scenario runs failed"));
    let blessed = procreg(&["scenarios", dir.path().to_str().unwrap(), "--bless"]);
    assert_eq!(blessed.status.code(), Some(0), "{}", stderr(&blessed));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("err lease_held"), "{text}");
    let after = procreg(&["scenarios", dir.path().to_str().unwrap()]);
    assert_eq!(after.status.code(), Some(0), "{}", stdout(&after));
}

#[test]
fn replay_of_a_missing_file_is_one_line() {
    assert_one_line_usage_error(
        &procreg(&["replay", "/no/such/dir/x.scn"]),
        "cannot read /no/such/dir/x.scn",
    );
}

#[test]
fn timeline_writes_an_svg() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.svg");
    let output = procreg(&[
        "replay",
        "--seed",
        "5",
        "--registry",
        "file",
        "--faults",
        "heavy",
        "--timeline",
        path.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(
        svg.contains("registry crash"),
        "seed 5 on file crashes the registry"
    );
    assert!(
        svg.contains(" f1<"),
        "a lease bar labelled with its fencing token"
    );

    let explored = dir.path().join("explore.svg");
    let output = procreg(&[
        "explore",
        "--seeds",
        "1",
        "--workload",
        "recovery",
        "--registry",
        "memory",
        "--timeline",
        explored.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        std::fs::read_to_string(&explored)
            .unwrap()
            .starts_with("<svg")
    );
}

#[test]
fn an_unwritable_timeline_is_one_line() {
    assert_one_line_usage_error(
        &procreg(&["replay", "--seed", "1", "--timeline", "/no/such/dir/t.svg"]),
        "cannot write /no/such/dir/t.svg",
    );
}
