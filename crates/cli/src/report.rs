//! A seed's report as the CLI prints it: the explorer's own report (plan, violations with
//! rule ids, timeline), ending in the `procreg replay ...` line instead of the
//! `PROCREG_SEED=.. cargo test ..` line the test harness prints.
//!
//! Why it exists: a person who ran `procreg explore` should paste a `procreg` command, not
//! guess which `cargo test` path reruns the seed. Everything else in the report is the
//! library's, so the CLI and `cargo test` describe a failure the same way.

use procreg_conformance::explore::SeedOutcome;

/// The test path handed to the library report; it only appears in the line replaced below.
const LIBRARY_TEST_PATH: &str = "-p procreg-conformance --test explore";

/// The report of `outcome`, then `extra` (more timeline, for a passing replay), then the last
/// line `replay: <replay>`.
pub fn report_text(outcome: &SeedOutcome, extra: &str, replay: &str) -> String {
    let text = outcome.report(LIBRARY_TEST_PATH).to_string();
    let library_line = format!("replay: {}\n", outcome.replay_command(LIBRARY_TEST_PATH));
    let body = text.strip_suffix(&library_line).unwrap_or(&text);
    format!("{body}{extra}replay: {replay}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use procreg_conformance::explore::find_workload;
    use procreg_sim::{FaultLevel, MemoryTarget};

    #[test]
    fn the_report_ends_in_the_procreg_replay_line_only() {
        let workload = find_workload("recovery").unwrap();
        let outcome = procreg_conformance::explore::run_seed(
            workload,
            &mut MemoryTarget,
            3,
            FaultLevel::None,
        );
        let text = report_text(&outcome, "", "procreg replay --seed 3");
        assert!(
            text.ends_with("replay: procreg replay --seed 3\n"),
            "{text}"
        );
        assert!(!text.contains("cargo test"), "{text}");
        assert!(text.contains("seed=3"), "{text}");
    }
}
