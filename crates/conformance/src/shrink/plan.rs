//! Step 1 of shrinking: the fewest plan entries under which the workload still breaks the rule.
//!
//! Why it exists: the history a shrink starts from is only as small as the plan that made it;
//! a fault that did not matter still made retries, timeouts and reclaims. Each entry (a link
//! fault, a partition, a crash or stall) is kept only if the seed needs it.

use procreg_sim::{CrashEvent, FaultPlan, LinkFaultAt, Partition, SimTarget};

use super::ddmin::{Budget, ddmin};
use crate::explore::{SeedOutcome, Workload, run_plan};

/// One removable entry of a plan.
#[derive(Clone, Debug)]
enum Entry {
    Link(LinkFaultAt),
    Partition(Partition),
    Crash(CrashEvent),
}

fn entries(plan: &FaultPlan) -> Vec<Entry> {
    let link = plan.link.iter().cloned().map(Entry::Link);
    let partitions = plan.partitions.iter().cloned().map(Entry::Partition);
    let crashes = plan.crashes.iter().cloned().map(Entry::Crash);
    link.chain(partitions).chain(crashes).collect()
}

fn with_entries(plan: &FaultPlan, entries: &[Entry]) -> FaultPlan {
    let mut smaller = FaultPlan {
        link: Vec::new(),
        partitions: Vec::new(),
        crashes: Vec::new(),
        ..plan.clone()
    };
    for entry in entries {
        match entry {
            Entry::Link(f) => smaller.link.push(f.clone()),
            Entry::Partition(p) => smaller.partitions.push(p.clone()),
            Entry::Crash(c) => smaller.crashes.push(c.clone()),
        }
    }
    smaller
}

/// The outcome of the smallest plan found under which `workload` still breaks `rule` on
/// `target` for the same seed (the original outcome when no entry can go).
pub(super) fn shrink_plan(
    workload: &Workload,
    target: &mut dyn SimTarget,
    outcome: &SeedOutcome,
    rule: &str,
    budget: &mut Budget,
) -> SeedOutcome {
    let all = entries(&outcome.plan);
    // At most half the budget: the steps matter more than the plan.
    let mut share = budget.half();
    let mut best: Option<SeedOutcome> = None;
    let kept = ddmin(all, &mut share, |candidate| {
        let plan = with_entries(&outcome.plan, candidate);
        let run = run_plan(workload, target, outcome.seed, plan);
        let fails = run.failures.iter().any(|f| f.violation.rule == rule);
        if fails
            && best
                .as_ref()
                .is_none_or(|b| entries(&b.plan).len() > candidate.len())
        {
            best = Some(run);
        }
        fails
    });
    budget.absorb(share);
    match best {
        Some(best) if entries(&best.plan).len() == kept.len() => best,
        _ => outcome.clone(),
    }
}
