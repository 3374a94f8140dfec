//! `--timeline FILE.svg`: a lease timeline of one seed's run, drawn for a person.
//!
//! One lane per client; each lease a bar from its claim to its release, supersession or
//! expiry, labelled with its process and fencing token (L2, L4, L5, L6); registry crashes as
//! red dashed lines (D7); worker crashes, stalls, partitions, link faults, `Unavailable`
//! answers (A2) and `LeaseLost` rejections marked on their lane; a time axis in virtual ms.
//! [`lanes`] reads the run, [`svg`] draws it.
//!
//! Why it exists: the text timeline of a report is a window of calls; who held what when over
//! a whole run is faster seen than read.

pub mod lanes;
pub mod svg;

use std::path::Path;

use procreg_conformance::explore::SeedOutcome;

use crate::CliError;

/// Writes the timeline of `outcome` to `path`. A seed without a run (it panicked before the
/// world finished) still gets a picture saying so.
pub fn write_svg(
    path: &Path,
    outcome: &SeedOutcome,
    registry: &str,
    faults: &str,
) -> Result<(), CliError> {
    let title = format!(
        "procreg: {} on {}, seed {}, faults {}",
        outcome.workload, registry, outcome.seed, faults
    );
    let subtitle = if outcome.passed() {
        "passed".to_owned()
    } else {
        // Each rule once, in order, with how often it was broken: `W3 (safety) x4`.
        let mut counted: Vec<(String, usize)> = Vec::new();
        for f in &outcome.failures {
            let key = format!("{} ({})", f.violation.rule, f.class);
            match counted.iter_mut().find(|(k, _)| *k == key) {
                Some((_, n)) => *n += 1,
                None => counted.push((key, 1)),
            }
        }
        let rules: Vec<String> = counted
            .into_iter()
            .map(|(k, n)| if n > 1 { format!("{k} x{n}") } else { k })
            .collect();
        format!("FAILED: {}", rules.join(", "))
    };
    let violations: Vec<(&str, usize)> = outcome
        .failures
        .iter()
        .filter_map(|f| Some((f.violation.rule.as_str(), f.violation.call?)))
        .collect();
    let chart = outcome
        .run
        .as_ref()
        .map(|run| lanes::chart(run, &violations))
        .unwrap_or_default();
    let subtitle = if outcome.run.is_none() {
        format!("{subtitle}; the run did not finish, so there is nothing to draw")
    } else if chart.processes.is_empty() {
        format!("{subtitle}; no leases in this run: the lanes show calls (ticks) and faults")
    } else {
        subtitle
    };
    let heading = svg::Heading {
        title: &title,
        subtitle: &subtitle,
    };
    std::fs::write(path, svg::render(&chart, &heading))
        .map_err(|e| CliError::Io(format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::lanes::{BarEnd, chart};
    use super::svg::tick_step;
    use procreg_conformance::explore::{find_workload, run_seed};
    use procreg_sim::{FaultLevel, MemoryTarget};

    #[test]
    fn recovery_leases_become_bars_with_increasing_fences_per_process() {
        let outcome = run_seed(
            find_workload("recovery").unwrap(),
            &mut MemoryTarget,
            1,
            FaultLevel::Heavy,
        );
        let chart = chart(outcome.run.as_ref().unwrap(), &[]);
        let bars: Vec<_> = chart.lanes.iter().flat_map(|l| &l.bars).collect();
        assert!(!bars.is_empty());
        assert!(bars.iter().all(|b| b.from_ms <= b.to_ms));
        for process in &chart.processes {
            let mut mine: Vec<_> = bars.iter().filter(|b| &b.process_id == process).collect();
            mine.sort_by_key(|b| b.fence);
            for pair in mine.windows(2) {
                assert!(
                    pair[0].to_ms <= pair[1].from_ms,
                    "L2: {process} fence {} overlaps fence {}",
                    pair[0].fence,
                    pair[1].fence
                );
            }
        }
        assert!(bars.iter().any(|b| b.end == BarEnd::Released));
    }

    #[test]
    fn tick_steps_are_round_and_give_about_a_dozen_ticks() {
        assert_eq!(tick_step(0), 1);
        assert_eq!(tick_step(600), 50);
        assert_eq!(tick_step(4_500), 500);
        for end in [1, 37, 999, 12_345, 1_000_000] {
            let ticks = end / tick_step(end);
            assert!((4..=13).contains(&ticks) || end < 13, "{end}: {ticks}");
        }
    }
}
