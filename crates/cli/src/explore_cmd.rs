//! `procreg explore`: turn the flags into a [`SweepPlan`], run it under a progress bar, then
//! print the failing seeds' reports, the summary table (or the JSON document) and write the
//! timeline.
//!
//! Why it exists: it is the CLI's main job, and the one place that decides what a person sees
//! during and after a sweep: progress on stderr only when stderr is a terminal and `--json` is
//! off; results on stdout; exit code 1 when any seed failed.

use std::fmt::Write;
use std::io::IsTerminal;
use std::num::NonZeroUsize;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use procreg_conformance::explore::{SeedOutcome, find_workload};
use procreg_conformance::shrink::{Counterexample, ShrinkError, ShrinkOptions, shrink};

use crate::args::{ExploreArgs, Registry, Shard, chosen_workloads};
use crate::report::report_text;
use crate::summary::{headline, sweep_json, table, verdict};
use crate::sweep::{CellResult, SeedSet, SweepPlan, run_sweep};
use crate::{CliError, emit, timeline};

/// Later failing seeds of a cell listed by their replay line, after the first one's report.
const LISTED_FAILURES: usize = 10;

/// Runs `procreg explore`; `Ok(true)` when every seed passed.
pub fn explore(args: &ExploreArgs) -> Result<bool, CliError> {
    let plan = sweep_plan(args)?;
    let progress = progress_bar(&plan, args.json);
    let mut cells = run_sweep(&plan, &progress);
    if !args.no_shrink {
        for cell in cells.iter_mut().filter(|c| c.first_failure.is_some()) {
            progress.set_message(format!(
                "shrinking {}/{}",
                cell.workload,
                cell.registry.name()
            ));
            cell.counterexample = shrink_first_failure(cell);
        }
    }
    progress.finish_and_clear();
    let passed = cells.iter().all(|c| c.failed.is_empty());
    if args.json {
        let json = serde_json::to_string_pretty(&sweep_json(&plan, &cells))
            .map_err(|e| CliError::Io(format!("cannot write the JSON summary: {e}")))?;
        emit(&format!("{json}\n"));
    } else {
        let mut text = failures_text(&cells);
        text.push_str(&format!("{}\n", headline(&plan)));
        text.push_str(&table(&cells));
        text.push_str(&format!("{}\n", verdict(&cells)));
        emit(&text);
    }
    if let Some(path) = &args.timeline
        && let Some((outcome, registry)) = timeline_seed(&cells)
    {
        timeline::write_svg(path, outcome, registry.name(), plan.faults.name())?;
        eprintln!(
            "timeline: {} (seed {} of {} on {})",
            path.display(),
            outcome.seed,
            outcome.workload,
            registry.name()
        );
    }
    Ok(passed)
}

fn sweep_plan(args: &ExploreArgs) -> Result<SweepPlan, CliError> {
    let shard = args
        .shard
        .as_deref()
        .map(Shard::parse)
        .transpose()
        .map_err(CliError::Usage)?;
    let seeds = match (args.seed, args.seeds) {
        (Some(seed), _) => SeedSet::One(seed),
        (None, 0) => return Err(CliError::Usage("--seeds 0: run at least 1 seed".into())),
        (None, count) => SeedSet::Range { count, shard },
    };
    Ok(SweepPlan {
        workloads: chosen_workloads(&args.workload),
        registries: args.registry.registries(),
        seeds,
        faults: args.faults,
        check_determinism: args.check_determinism,
        fail_fast: args.fail_fast,
        jobs: args
            .jobs
            .or_else(|| std::thread::available_parallelism().ok())
            .unwrap_or(NonZeroUsize::MIN),
    })
}

/// A bar on stderr, or a hidden one with `--json` or when stderr is not a terminal.
fn progress_bar(plan: &SweepPlan, json: bool) -> ProgressBar {
    if json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let cells = (plan.workloads.len() * plan.registries.len()) as u64;
    let bar = ProgressBar::new(cells * plan.seeds.len());
    let style = ProgressStyle::with_template(
        "{spinner} {elapsed:>4} [{bar:30}] {pos}/{len} seeds  {msg}  eta {eta}",
    )
    .map(|s| s.progress_chars("=> "));
    if let Ok(style) = style {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// The cell's first failing seed shrunk to a file under `target/procreg-counterexamples/`.
fn shrink_first_failure(cell: &CellResult) -> Option<Result<Counterexample, ShrinkError>> {
    let outcome = cell.first_failure.as_ref()?;
    let workload = find_workload(outcome.workload)?;
    let mut target = cell.registry.target();
    Some(shrink(
        workload,
        target.as_mut(),
        outcome,
        &ShrinkOptions::default(),
    ))
}

/// What the report says of a cell's counterexample.
fn counterexample_text(cell: &CellResult) -> String {
    match &cell.counterexample {
        None => String::new(),
        Some(Ok(found)) => {
            let path = found
                .path
                .as_ref()
                .map_or("(not written)".into(), |p| p.display().to_string());
            format!(
                "counterexample: {} steps (shrunk from {} calls in {} runs), breaks {} on its \
                 own:\n  procreg replay {path} --registry {}\n",
                found.steps,
                found.original_calls,
                found.runs,
                found.rule,
                cell.registry.name()
            )
        }
        Some(Err(e)) => format!("counterexample: none ({e})\n"),
    }
}

/// Each failing cell: the first failing seed's whole report, then one line per later one.
fn failures_text(cells: &[CellResult]) -> String {
    let mut out = String::new();
    for cell in cells {
        let (Some(outcome), Some(first)) = (&cell.first_failure, cell.failed.first()) else {
            continue;
        };
        out.push_str(&report_text(outcome, "", &first.replay));
        out.push_str(&counterexample_text(cell));
        out.push('\n');
        let later = &cell.failed[1..];
        if later.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "{} more failing seed(s) of {} on {}:",
            later.len(),
            cell.workload,
            cell.registry.name()
        );
        for failed in later.iter().take(LISTED_FAILURES) {
            let mut rules: Vec<&str> = failed
                .failures
                .iter()
                .map(|f| f.violation.rule.as_str())
                .collect();
            rules.dedup();
            let _ = writeln!(
                out,
                "  seed {} ({}): {}",
                failed.seed,
                rules.join(" "),
                failed.replay
            );
        }
        if later.len() > LISTED_FAILURES {
            let _ = writeln!(
                out,
                "  ... and {} more (`--json` lists every one)",
                later.len() - LISTED_FAILURES
            );
        }
        out.push('\n');
    }
    out
}

/// The seed the timeline shows: the first failing seed of any cell, else the first seed run.
fn timeline_seed(cells: &[CellResult]) -> Option<(&SeedOutcome, Registry)> {
    cells
        .iter()
        .find_map(|c| c.first_failure.as_ref().map(|o| (o, c.registry)))
        .or_else(|| {
            cells
                .iter()
                .find_map(|c| c.first_run.as_ref().map(|o| (o, c.registry)))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::Faults;
    use crate::sweep::{FailedSeed, run_one};
    use procreg_conformance::explore::{Failure, FailureClass, find_workload};

    /// A cell whose seeds 0..n "failed" (a passing run with a W2 violation added).
    fn failing_cell(n: u64) -> CellResult {
        let workload = find_workload("events").unwrap();
        let mut outcome = run_one(workload, Registry::Memory, 0, Faults::None, false);
        outcome.failures.push(Failure::new(
            FailureClass::Safety,
            "W2",
            "two live leases".into(),
        ));
        let failed = (0..n)
            .map(|seed| FailedSeed {
                seed,
                failures: outcome.failures.clone(),
                replay: format!("procreg replay --seed {seed}"),
            })
            .collect();
        CellResult {
            workload: "events",
            registry: Registry::Memory,
            seeds_run: n,
            failed,
            first_failure: Some(outcome.clone()),
            first_run: Some(outcome),
            elapsed: Duration::from_millis(10),
            calls: vec![1; n as usize],
            registry_crashes: 0,
            counterexample: None,
        }
    }

    #[test]
    fn a_failing_cell_prints_the_first_report_then_one_line_per_later_seed() {
        let text = failures_text(&[failing_cell(3)]);
        assert!(text.contains("W2"), "{text}");
        assert!(text.contains("replay: procreg replay --seed 0\n"), "{text}");
        assert!(
            text.contains("2 more failing seed(s) of events on memory:"),
            "{text}"
        );
        assert!(
            text.contains("  seed 2 (W2): procreg replay --seed 2\n"),
            "{text}"
        );
        assert!(!text.contains("cargo test"), "{text}");
    }

    #[test]
    fn many_failing_seeds_are_capped_with_a_pointer_to_json() {
        let text = failures_text(&[failing_cell(30)]);
        let listed = text.lines().filter(|l| l.starts_with("  seed ")).count();
        assert_eq!(listed, LISTED_FAILURES);
        assert!(text.contains("... and 19 more"), "{text}");
    }

    #[test]
    fn the_timeline_shows_the_first_failing_seed() {
        let mut passing = failing_cell(1);
        passing.failed.clear();
        passing.first_failure = None;
        let events = find_workload("events").unwrap();
        passing.first_run = Some(run_one(events, Registry::Memory, 0, Faults::None, false));
        let cells = [passing, failing_cell(2)];
        let (outcome, _) = timeline_seed(&cells).unwrap();
        assert!(!outcome.passed());
        assert_eq!(
            timeline_seed(&cells[..1]).map(|(o, _)| o.passed()),
            Some(true)
        );
    }
}
