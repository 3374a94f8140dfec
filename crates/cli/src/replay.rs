//! `procreg replay`: rerun one seed exactly as `procreg explore` ran it and print its report,
//! pass or fail; or run a scenario file (see [`crate::scenarios`]).
//!
//! Why it exists: the last line of every failing seed's report is a `procreg replay ...`
//! command; pasting it must reproduce the same run (same plan, same schedule, same history),
//! and a person debugging it wants the whole story, so a passing replay also shows the end of
//! its timeline.

use procreg_conformance::explore::{find_workload, timeline};

use crate::args::ReplayArgs;
use crate::report::report_text;
use crate::sweep::{replay_command, run_one};
use crate::{CliError, emit};

/// Calls of a passing run shown at the end of its report.
const PASSING_TAIL_CALLS: usize = 30;

/// Runs `procreg replay`; `Ok(true)` when the seed passed.
pub fn replay(args: &ReplayArgs) -> Result<bool, CliError> {
    if let Some(file) = &args.file {
        return crate::scenarios::replay_file(file, args.registry);
    }
    let Some(seed) = args.seed else {
        return Err(CliError::Usage(
            "replay needs --seed N or a scenario FILE".into(),
        ));
    };
    let workload = find_workload(&args.workload)
        .ok_or_else(|| CliError::Usage(format!("no workload named {:?}", args.workload)))?;
    let outcome = run_one(
        workload,
        args.registry,
        seed,
        args.faults,
        args.check_determinism,
    );
    let line = replay_command(
        seed,
        workload.name,
        args.registry,
        args.faults,
        args.check_determinism,
    );
    let mut tail = String::new();
    if let Some(run) = outcome.run.as_ref().filter(|_| outcome.passed()) {
        let last = run.history.len().saturating_sub(1);
        let from = run.history.len().saturating_sub(PASSING_TAIL_CALLS);
        tail = format!(
            "timeline (calls #{from}..#{last} of {}; --timeline FILE.svg draws the whole run):\n{}",
            run.history.len(),
            timeline::render(run, from, last)
        );
    }
    emit(&report_text(&outcome, &tail, &line));
    if let Some(path) = &args.timeline {
        crate::timeline::write_svg(path, &outcome, args.registry.name(), args.faults.name())?;
        eprintln!("timeline: {}", path.display());
    }
    Ok(outcome.passed())
}
