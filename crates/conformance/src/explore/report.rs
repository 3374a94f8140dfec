//! The failure report of one seed: what ran, the plan in one screen, the violations with
//! their rule ids and classes, a timeline of the calls around the first failure, and the one
//! line that replays it.
//!
//! Why it exists: a failing seed is only useful if a person can read why it failed and rerun
//! exactly it. Everything here is derived from the [`SeedOutcome`]; nothing is re-run.

use std::fmt;

use procreg_sim::world::START_MS;
use procreg_sim::{CrashEvent, FaultPlan, LinkFault, RunEnd, RunReport};

use super::run::SeedOutcome;
use super::timeline;

/// Calls shown on each side of the call a violation names.
const CONTEXT_CALLS: usize = 12;
/// Calls shown when no violation names a call (the end of the run).
const TAIL_CALLS: usize = 30;

/// A seed's outcome together with the test path that replays it. `Display` is the report.
#[derive(Clone, Debug)]
pub struct Report<'a> {
    /// The outcome.
    pub outcome: &'a SeedOutcome,
    /// What follows `cargo test` to rerun the test that ran the seed
    /// (`-p procreg-conformance --test explore_memory recovery_heavy`).
    pub test_path: String,
}

impl SeedOutcome {
    /// The report of this outcome, replayed by `PROCREG_SEED=<seed> cargo test <test_path>`.
    pub fn report(&self, test_path: impl Into<String>) -> Report<'_> {
        Report {
            outcome: self,
            test_path: test_path.into(),
        }
    }

    /// The replay command for this seed.
    pub fn replay_command(&self, test_path: &str) -> String {
        format!("PROCREG_SEED={} cargo test {test_path}", self.seed)
    }
}

/// The plan in a few lines: base latency, faults by layer, when faults end.
pub fn describe_plan(plan: &FaultPlan) -> String {
    let mut parts = vec![format!(
        "latency={}ms timeout={}ms faults_end=+{}ms",
        plan.latency_ms, plan.timeout_ms, plan.faults_end_ms
    )];
    if !plan.link.is_empty() {
        let link: Vec<String> = plan
            .link
            .iter()
            .map(|f| {
                let what = match &f.fault {
                    LinkFault::Delay { delay_ms } => format!("delay{delay_ms}"),
                    LinkFault::DropRequest => "drop_req".to_owned(),
                    LinkFault::DropResponse => "drop_resp".to_owned(),
                    LinkFault::Duplicate => "dup".to_owned(),
                };
                format!("{}#{}:{what}", f.client, f.index)
            })
            .collect();
        parts.push(format!("link: {}", link.join(" ")));
    }
    if !plan.partitions.is_empty() {
        let p: Vec<String> = plan
            .partitions
            .iter()
            .map(|p| format!("{}[+{},+{})", p.client, p.from_ms, p.until_ms))
            .collect();
        parts.push(format!("partitions: {}", p.join(" ")));
    }
    if !plan.crashes.is_empty() {
        let c: Vec<String> = plan
            .crashes
            .iter()
            .map(|c| match c {
                CrashEvent::Registry { at_ms } => format!("registry@+{at_ms}"),
                CrashEvent::Worker { worker, at_ms } => format!("w{worker}@+{at_ms}"),
                CrashEvent::Stall {
                    worker,
                    at_ms,
                    for_ms,
                } => format!("w{worker}-stall@+{at_ms}for{for_ms}"),
            })
            .collect();
        parts.push(format!("crashes: {}", c.join(" ")));
    }
    parts.join("\n      ")
}

fn describe_end(run: &RunReport) -> String {
    let end = match &run.end {
        RunEnd::Completed => "every client finished".to_owned(),
        RunEnd::Quiescent(blocked) => format!("quiescent with {} blocked task(s)", blocked.len()),
        RunEnd::BudgetExhausted => "poll budget exhausted".to_owned(),
    };
    format!(
        "{end} after {} polls at +{}ms; {} calls; {} registry crash(es); trace {:#018x}",
        run.polls,
        run.end_ms.saturating_sub(START_MS),
        run.history.len(),
        run.registry_crashes.len(),
        run.trace_hash
    )
}

/// The call ids the timeline shows.
fn timeline_window(outcome: &SeedOutcome, run: &RunReport) -> (usize, usize) {
    let last = run.history.len().saturating_sub(1);
    match outcome.failures.iter().find_map(|f| f.violation.call) {
        Some(call) => (
            call.saturating_sub(CONTEXT_CALLS),
            (call + CONTEXT_CALLS).min(last),
        ),
        None => (run.history.len().saturating_sub(TAIL_CALLS), last),
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = self.outcome;
        let verdict = if o.passed() { "passed" } else { "FAILED" };
        let level = o
            .level
            .map_or("given plan".to_owned(), |l| format!("{l:?}").to_lowercase());
        writeln!(
            f,
            "procreg explore {verdict}: workload={} target={} level={level} seed={}",
            o.workload, o.target, o.seed
        )?;
        writeln!(f, "plan: {}", describe_plan(&o.plan))?;
        if let Some(run) = &o.run {
            writeln!(f, "run:  {}", describe_end(run))?;
            writeln!(f, "linearizability: {}", o.linearizability)?;
        }
        if !o.failures.is_empty() {
            writeln!(f, "violations:")?;
            for failure in &o.failures {
                writeln!(f, "  {failure}")?;
            }
        }
        if let Some(run) = o.run.as_ref().filter(|_| !o.passed()) {
            let (from, to) = timeline_window(o, run);
            writeln!(
                f,
                "timeline (calls #{from}..#{to}; time since start; ! = planned link fault):"
            )?;
            f.write_str(&timeline::render(run, from, to))?;
        }
        writeln!(f, "replay: {}", o.replay_command(&self.test_path))
    }
}
