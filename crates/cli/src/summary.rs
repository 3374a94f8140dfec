//! The end of a sweep, for people (a table, one row per workload × registry) and for machines
//! (one JSON document, `schema: "procreg-explore/1"`).
//!
//! Why it exists: a sweep's outcome must be readable at a glance and parseable by CI without
//! scraping. The JSON shape is stable: fields are only ever added under the same schema name;
//! a change to an existing field bumps the schema. It is documented in the README ("CLI").

use std::fmt::Write;

use serde::Serialize;

use crate::args::Shard;
use crate::sweep::{CellResult, SeedSet, SweepPlan};

/// The whole sweep as JSON.
#[derive(Debug, Serialize)]
pub struct SweepJson<'a> {
    /// Always `procreg-explore/1`.
    pub schema: &'static str,
    /// `none`, `light` or `heavy`.
    pub faults: &'static str,
    /// Whether each seed ran twice.
    pub check_determinism: bool,
    /// `--seed N`, else `null`.
    pub seed: Option<u64>,
    /// `--seeds K` (or the default), else `null`: seeds `0..seed_count` before sharding.
    pub seed_count: Option<u64>,
    /// `"k/n"`, else `null`.
    pub shard: Option<String>,
    /// Whether every seed of every cell passed.
    pub passed: bool,
    /// One entry per workload × registry, in run order.
    pub cells: Vec<CellJson<'a>>,
}

/// One workload × registry.
#[derive(Debug, Serialize)]
pub struct CellJson<'a> {
    /// The workload's name.
    pub workload: &'a str,
    /// `memory` or `file`.
    pub registry: &'static str,
    /// Seeds run.
    pub seeds_run: u64,
    /// Seeds that passed.
    pub passed: u64,
    /// Seeds that failed.
    pub failed: u64,
    /// Wall time, seconds.
    pub seconds: f64,
    /// Seeds per wall second.
    pub seeds_per_second: f64,
    /// Median calls per seed.
    pub median_calls: u64,
    /// Registry crashes (and reopens) over all seeds.
    pub registry_crashes: u64,
    /// Every failing seed, ascending.
    pub failures: Vec<FailureJson<'a>>,
    /// The first failing seed shrunk to a scenario file: its path, or null.
    pub counterexample: Option<String>,
}

/// One failing seed.
#[derive(Debug, Serialize)]
pub struct FailureJson<'a> {
    /// The seed.
    pub seed: u64,
    /// The command that reruns it.
    pub replay: &'a str,
    /// What it broke.
    pub violations: Vec<ViolationJson<'a>>,
}

/// One violation of a failing seed.
#[derive(Debug, Serialize)]
pub struct ViolationJson<'a> {
    /// The rule id (`W2`, `E14`), or `panic` / `determinism`.
    pub rule: &'a str,
    /// `safety`, `liveness`, `panic` or `nondeterminism`.
    pub class: String,
    /// The call (index in the run's history) that shows it, if any.
    pub call: Option<usize>,
    /// What was expected and what was seen.
    pub message: &'a str,
}

/// The JSON document of a finished sweep.
pub fn sweep_json<'a>(plan: &SweepPlan, cells: &'a [CellResult]) -> SweepJson<'a> {
    let (seed, seed_count, shard) = seed_fields(plan.seeds);
    SweepJson {
        schema: "procreg-explore/1",
        faults: plan.faults.name(),
        check_determinism: plan.check_determinism,
        seed,
        seed_count,
        shard: shard.map(|s| s.to_string()),
        passed: cells.iter().all(|c| c.failed.is_empty()),
        cells: cells.iter().map(cell_json).collect(),
    }
}

fn seed_fields(seeds: SeedSet) -> (Option<u64>, Option<u64>, Option<Shard>) {
    match seeds {
        SeedSet::One(seed) => (Some(seed), None, None),
        SeedSet::Range { count, shard } => (None, Some(count), shard),
    }
}

fn cell_json(cell: &CellResult) -> CellJson<'_> {
    CellJson {
        workload: cell.workload,
        registry: cell.registry.name(),
        seeds_run: cell.seeds_run,
        passed: cell.passed(),
        failed: cell.failed.len() as u64,
        seconds: cell.elapsed.as_secs_f64(),
        seeds_per_second: cell.seeds_per_second(),
        median_calls: cell.median_calls(),
        registry_crashes: cell.registry_crashes,
        counterexample: cell
            .counterexample
            .as_ref()
            .and_then(|c| c.as_ref().ok())
            .and_then(|c| c.path.as_ref())
            .map(|p| p.display().to_string()),
        failures: cell
            .failed
            .iter()
            .map(|failed| FailureJson {
                seed: failed.seed,
                replay: &failed.replay,
                violations: failed
                    .failures
                    .iter()
                    .map(|f| ViolationJson {
                        rule: &f.violation.rule,
                        class: f.class.to_string(),
                        call: f.violation.call,
                        message: &f.violation.message,
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// The line above the table: what was swept.
pub fn headline(plan: &SweepPlan) -> String {
    let seeds = match plan.seeds {
        SeedSet::One(seed) => format!("seed {seed}"),
        SeedSet::Range { count, shard: None } => format!("seeds 0..{count}"),
        SeedSet::Range {
            count,
            shard: Some(shard),
        } => format!(
            "seeds 0..{count}, shard {shard} ({} seeds)",
            plan.seeds.len()
        ),
    };
    let twice = if plan.check_determinism {
        ", each run twice"
    } else {
        ""
    };
    format!(
        "procreg explore: {seeds}, faults {}{twice}",
        plan.faults.name()
    )
}

const HEADER: [&str; 8] = [
    "workload",
    "registry",
    "seeds",
    "passed",
    "failed",
    "seeds/s",
    "median calls/seed",
    "registry crashes",
];

/// The summary table: one row per cell, text columns left-aligned, numbers right-aligned.
pub fn table(cells: &[CellResult]) -> String {
    let rows: Vec<[String; 8]> = cells
        .iter()
        .map(|c| {
            [
                c.workload.to_owned(),
                c.registry.name().to_owned(),
                c.seeds_run.to_string(),
                c.passed().to_string(),
                c.failed.len().to_string(),
                format!("{:.1}", c.seeds_per_second()),
                c.median_calls().to_string(),
                c.registry_crashes.to_string(),
            ]
        })
        .collect();
    let mut widths = HEADER.map(str::len);
    for row in &rows {
        for (width, value) in widths.iter_mut().zip(row) {
            *width = (*width).max(value.len());
        }
    }
    let mut out = String::new();
    let header = HEADER.map(str::to_owned);
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (value, width)) in row.iter().zip(widths).enumerate() {
            let _ = if i < 2 {
                write!(line, "{value:<width$}  ")
            } else {
                write!(line, "{value:>width$}  ")
            };
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The closing line: all passed, or how many failed.
pub fn verdict(cells: &[CellResult]) -> String {
    let run: u64 = cells.iter().map(|c| c.seeds_run).sum();
    let failed: usize = cells.iter().map(|c| c.failed.len()).sum();
    let seconds: f64 = cells.iter().map(|c| c.elapsed.as_secs_f64()).sum();
    if run == 0 {
        "nothing ran: this shard owns no seed of the range (raise --seeds)".to_owned()
    } else if failed == 0 {
        format!("ok: all {run} seed runs passed in {seconds:.1}s")
    } else {
        format!("FAILED: {failed} of {run} seed runs failed ({seconds:.1}s)")
    }
}
