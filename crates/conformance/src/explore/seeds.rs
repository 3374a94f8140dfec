//! Which seeds a test explores, from the environment, and the sweep that runs them.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `PROCREG_SEED=<n>` | replay exactly seed `n` | unset |
//! | `PROCREG_SEEDS=<k>` | sweep seeds `0..k` | [`DEFAULT_SEED_COUNT`] |
//! | `PROCREG_CHECK_DETERMINISM=1` | run each seed twice and compare the schedules | `0` |
//! | `PROCREG_SHRINK=0` | do not shrink a failing seed to a counterexample file | `1` |
//!
//! Why it exists: a failure prints `PROCREG_SEED=<n> cargo test <path>`, and that line must
//! rerun exactly that seed; CI wants more seeds than a laptop. The variables are read once per
//! sweep and validated: a bad value is a [`ConfigError`] naming the variable, never a panic
//! and never silently the default.

use std::fmt;

use procreg_sim::{FaultLevel, SimTarget};

use super::Workload;
use super::lin::LinSummary;
use super::run::{SeedOutcome, run_seed, run_seed_twice};
use crate::shrink::{Counterexample, ShrinkError, ShrinkOptions, shrink};

/// Seeds swept when `PROCREG_SEEDS` is unset: small, so `cargo test` stays fast.
pub const DEFAULT_SEED_COUNT: u64 = 32;

/// Which seeds to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seeds {
    /// Exactly this seed (`PROCREG_SEED`).
    One(u64),
    /// Seeds `first..first + count`.
    Sweep {
        /// The first seed.
        first: u64,
        /// How many.
        count: u64,
    },
}

impl Seeds {
    /// The seeds, in order.
    pub fn iter(&self) -> std::ops::Range<u64> {
        match *self {
            Seeds::One(seed) => seed..seed.saturating_add(1),
            Seeds::Sweep { first, count } => first..first.saturating_add(count),
        }
    }
}

/// What a sweep runs: the seeds and whether to check determinism.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedConfig {
    /// The seeds.
    pub seeds: Seeds,
    /// Run each seed twice and compare trace hashes.
    pub check_determinism: bool,
    /// Shrink the first failing seed to a counterexample file (see [`crate::shrink`]).
    pub shrink: bool,
}

impl Default for SeedConfig {
    /// Seeds `0..DEFAULT_SEED_COUNT`, no determinism check.
    fn default() -> Self {
        Self {
            seeds: Seeds::Sweep {
                first: 0,
                count: DEFAULT_SEED_COUNT,
            },
            check_determinism: false,
            shrink: true,
        }
    }
}

/// A bad value in one of the variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The variable (`PROCREG_SEEDS`).
    pub variable: &'static str,
    /// Its value.
    pub value: String,
    /// What it must be.
    pub expected: &'static str,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}={:?} is not valid: expected {}",
            self.variable, self.value, self.expected
        )
    }
}

impl std::error::Error for ConfigError {}

impl SeedConfig {
    /// Reads `PROCREG_SEED`, `PROCREG_SEEDS` and `PROCREG_CHECK_DETERMINISM` once.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first variable with a bad value.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Like [`SeedConfig::from_env`], reading variables through `var` (for tests and tools).
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first variable with a bad value.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut config = SeedConfig::default();
        if let Some(value) = var("PROCREG_SEEDS") {
            let count = parse_u64("PROCREG_SEEDS", &value, "a seed count from 1")?;
            if count == 0 {
                return Err(bad("PROCREG_SEEDS", &value, "a seed count from 1"));
            }
            config.seeds = Seeds::Sweep { first: 0, count };
        }
        if let Some(value) = var("PROCREG_SEED") {
            config.seeds = Seeds::One(parse_u64("PROCREG_SEED", &value, "a seed (u64)")?);
        }
        if let Some(value) = var("PROCREG_CHECK_DETERMINISM") {
            config.check_determinism = match value.trim() {
                "1" | "true" => true,
                "0" | "false" | "" => false,
                _ => return Err(bad("PROCREG_CHECK_DETERMINISM", &value, "1 or 0")),
            };
        }
        if let Some(value) = var("PROCREG_SHRINK") {
            config.shrink = match value.trim() {
                "1" | "true" | "" => true,
                "0" | "false" => false,
                _ => return Err(bad("PROCREG_SHRINK", &value, "1 or 0")),
            };
        }
        Ok(config)
    }
}

fn bad(variable: &'static str, value: &str, expected: &'static str) -> ConfigError {
    ConfigError {
        variable,
        value: value.to_owned(),
        expected,
    }
}

fn parse_u64(
    variable: &'static str,
    value: &str,
    expected: &'static str,
) -> Result<u64, ConfigError> {
    value
        .trim()
        .parse()
        .map_err(|_| bad(variable, value, expected))
}

/// A sweep that passed: how many seeds ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sweep {
    /// The workload.
    pub workload: &'static str,
    /// The target's name.
    pub target: String,
    /// The level.
    pub level: FaultLevel,
    /// Seeds run (each twice when determinism was checked).
    pub seeds_run: u64,
    /// Calls made over all seeds (first runs only).
    pub calls: u64,
    /// Registry crashes (and reopens) over all seeds (first runs only).
    pub registry_crashes: u64,
    /// Seeds whose history was shown linearizable (A1).
    pub linearizable: u64,
    /// Seeds whose linearizability search was `unknown` (budget, or an invisible epoch).
    pub lin_unknown: u64,
}

/// Why a sweep did not pass.
#[derive(Debug)]
pub enum ExploreError {
    /// A variable had a bad value.
    Config(ConfigError),
    /// A seed failed; the report replays it with the test path given to [`explore`].
    Failed {
        /// The failing seed's outcome.
        outcome: Box<SeedOutcome>,
        /// What follows `cargo test` to rerun it.
        test_path: String,
        /// The seed shrunk to a counterexample file, unless shrinking was off.
        counterexample: Option<Result<Counterexample, ShrinkError>>,
    },
}

impl fmt::Display for ExploreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExploreError::Config(e) => write!(f, "procreg explore: {e}"),
            ExploreError::Failed {
                outcome,
                test_path,
                counterexample,
            } => {
                write!(f, "{}", outcome.report(test_path.as_str()))?;
                match counterexample {
                    None => Ok(()),
                    Some(Ok(found)) => write!(
                        f,
                        "counterexample: {} ({} steps, shrunk from {} calls; it breaks {} on \
                         its own: replay it with scenario::run_world_file, or keep it in your \
                         scenarios folder as a regression test)",
                        found
                            .path
                            .as_ref()
                            .map_or("(not written)".into(), |p| p.display().to_string()),
                        found.steps,
                        found.original_calls,
                        found.rule
                    ),
                    Some(Err(e)) => write!(f, "counterexample: none ({e})"),
                }
            }
        }
    }
}

impl std::error::Error for ExploreError {}

/// Sweeps `workload` on `target` at `level` over the seeds the environment selects (see the
/// module docs), stopping at the first failing seed. `test_path` goes into the replay line.
///
/// # Errors
/// A bad variable, or the first failing seed with its report.
pub fn explore(
    workload: &Workload,
    target: &mut dyn SimTarget,
    level: FaultLevel,
    test_path: &str,
) -> Result<Sweep, ExploreError> {
    let config = SeedConfig::from_env().map_err(ExploreError::Config)?;
    explore_with(workload, target, level, &config, test_path)
}

/// [`explore`] with an explicit configuration.
///
/// # Errors
/// The first failing seed with its report.
pub fn explore_with(
    workload: &Workload,
    target: &mut dyn SimTarget,
    level: FaultLevel,
    config: &SeedConfig,
    test_path: &str,
) -> Result<Sweep, ExploreError> {
    let mut sweep = Sweep {
        workload: workload.name,
        target: target.name(),
        level,
        seeds_run: 0,
        calls: 0,
        registry_crashes: 0,
        linearizable: 0,
        lin_unknown: 0,
    };
    for seed in config.seeds.iter() {
        let outcome = if config.check_determinism {
            run_seed_twice(workload, target, seed, level)
        } else {
            run_seed(workload, target, seed, level)
        };
        if !outcome.passed() {
            let counterexample = config
                .shrink
                .then(|| shrink(workload, target, &outcome, &ShrinkOptions::default()));
            return Err(ExploreError::Failed {
                outcome: Box::new(outcome),
                test_path: test_path.to_owned(),
                counterexample,
            });
        }
        sweep.seeds_run += 1;
        if let Some(run) = &outcome.run {
            sweep.calls += run.history.len() as u64;
            sweep.registry_crashes += run.registry_crashes.len() as u64;
        }
        match outcome.linearizability {
            LinSummary::Linearizable { .. } => sweep.linearizable += 1,
            LinSummary::Unknown { .. } => sweep.lin_unknown += 1,
            LinSummary::NotRun | LinSummary::Skipped | LinSummary::Violated => {}
        }
    }
    Ok(sweep)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<SeedConfig, ConfigError> {
        SeedConfig::from_vars(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn no_variables_sweep_the_default_count() {
        let config = config(&[]).unwrap();
        assert_eq!(config.seeds.iter(), 0..DEFAULT_SEED_COUNT);
        assert!(!config.check_determinism);
    }

    #[test]
    fn procreg_seed_replays_one_seed_even_with_a_count() {
        let config = config(&[("PROCREG_SEED", "17"), ("PROCREG_SEEDS", "500")]).unwrap();
        assert_eq!(config.seeds, Seeds::One(17));
        assert_eq!(config.seeds.iter().collect::<Vec<_>>(), vec![17]);
    }

    #[test]
    fn procreg_seeds_sets_the_count_and_determinism_the_double_run() {
        let config = config(&[("PROCREG_SEEDS", " 5 "), ("PROCREG_CHECK_DETERMINISM", "1")]);
        let config = config.unwrap();
        assert_eq!(config.seeds.iter(), 0..5);
        assert!(config.check_determinism);
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (name, value) in [
            ("PROCREG_SEED", "x"),
            ("PROCREG_SEED", "-1"),
            ("PROCREG_SEEDS", "0"),
            ("PROCREG_SEEDS", "many"),
            ("PROCREG_CHECK_DETERMINISM", "yes please"),
        ] {
            let error = config(&[(name, value)]).unwrap_err();
            assert_eq!(error.variable, name);
            assert!(error.to_string().starts_with(name), "{error}");
        }
    }
}
