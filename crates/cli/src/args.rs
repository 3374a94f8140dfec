//! The command line: subcommands, flags and their defaults, as clap derive types.
//!
//! Why it exists: every flag is declared once, with its default and help, and every value a
//! flag carries is validated here or in [`Shard::parse`] before any seed runs, so a bad value
//! is one line on stderr and exit code 2, never a panic halfway through a sweep.

use std::fmt;
use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::builder::PossibleValuesParser;
use clap::{Args, Parser, Subcommand, ValueEnum};
use procreg_conformance::explore::{Workload, find_workload, workloads};
use procreg_sim::{FaultLevel, MemoryTarget, SimFileTarget, SimTarget};

/// Seeds `procreg explore` sweeps by default. Measured: the default run (three workloads on
/// both registries at `heavy` faults, 6,000 seed runs) takes 9 s in release on 2 busy cores,
/// well under a minute.
pub const DEFAULT_SEEDS: u64 = 1000;

/// procreg: explore seeds of a simulated world on the bundled registries, replay one, run
/// scenario files, list the conformance laws.
///
/// Exit codes: 0 everything passed, 1 a seed or scenario failed, 2 bad usage or unreadable
/// input.
#[derive(Debug, Parser)]
#[command(name = "procreg", version, about, long_about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sweep seeds of the explorer's workloads on the bundled registries and print a summary.
    Explore(ExploreArgs),
    /// Rerun one seed (or a scenario file) and print its report, pass or fail.
    Replay(ReplayArgs),
    /// Run every scenario file under a folder on the bundled registries (or bless them).
    Scenarios(ScenariosArgs),
    /// List the conformance laws: id, area, rule ids, needs.
    Laws(LawsArgs),
    /// Quick throughput figures (criterion benches remain the reference).
    Bench(BenchArgs),
}

/// Which bundled registry a seed runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Registry {
    /// `MemoryRegistry` (tier Inline; never crashed by the world).
    Memory,
    /// `FileRegistry` over simulated storage (tier Durable; crashed and reopened).
    File,
}

impl Registry {
    /// The name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Registry::Memory => "memory",
            Registry::File => "file",
        }
    }

    /// A fresh sim target for this registry.
    pub fn target(self) -> Box<dyn SimTarget> {
        match self {
            Registry::Memory => Box::new(MemoryTarget),
            Registry::File => Box::new(SimFileTarget::new()),
        }
    }
}

/// `--registry`: one registry or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RegistryChoice {
    /// `MemoryRegistry`.
    Memory,
    /// `FileRegistry` over simulated storage.
    File,
    /// Both, memory first.
    Both,
}

impl RegistryChoice {
    /// The registries chosen, in run order.
    pub fn registries(self) -> Vec<Registry> {
        match self {
            RegistryChoice::Memory => vec![Registry::Memory],
            RegistryChoice::File => vec![Registry::File],
            RegistryChoice::Both => vec![Registry::Memory, Registry::File],
        }
    }
}

/// `--faults`: how hard each seed's sampled fault plan hits. The CLI defaults to `heavy`
/// (the tests' sweeps run both levels): a person running the explorer wants it to find bugs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Faults {
    /// No faults: only the schedule is random.
    None,
    /// Occasional link faults and one crash.
    Light,
    /// Frequent link faults, partitions, several crashes and stalls.
    #[default]
    Heavy,
}

impl Faults {
    /// The simulator's level.
    pub fn level(self) -> FaultLevel {
        match self {
            Faults::None => FaultLevel::None,
            Faults::Light => FaultLevel::Light,
            Faults::Heavy => FaultLevel::Heavy,
        }
    }

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Faults::None => "none",
            Faults::Light => "light",
            Faults::Heavy => "heavy",
        }
    }
}

/// The workload names clap accepts: every workload of the catalogue, plus `all` when
/// `with_all`.
fn workload_values(with_all: bool) -> PossibleValuesParser {
    let names = workloads().iter().map(|w| w.name);
    if with_all {
        PossibleValuesParser::new(names.chain(["all"]))
    } else {
        PossibleValuesParser::new(names)
    }
}

/// The workloads a `--workload` value names (`all`: every one, in catalogue order).
pub fn chosen_workloads(name: &str) -> Vec<&'static Workload> {
    if name == "all" {
        workloads().iter().collect()
    } else {
        find_workload(name).into_iter().collect()
    }
}

/// `procreg explore`.
#[derive(Debug, Args)]
pub struct ExploreArgs {
    /// Which workload's clients run.
    #[arg(long, default_value = "all", value_parser = workload_values(true))]
    pub workload: String,
    /// Which bundled registry the clients talk to.
    #[arg(long, value_enum, default_value_t = RegistryChoice::Both)]
    pub registry: RegistryChoice,
    /// Sweep seeds 0..K (each workload × registry runs the same seeds).
    #[arg(long, value_name = "K", conflicts_with = "seed", default_value_t = DEFAULT_SEEDS)]
    pub seeds: u64,
    /// Run exactly seed N.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Run only this machine's share: seeds with `seed % n == k - 1` (k is 1-based).
    #[arg(long, value_name = "K/N", conflicts_with = "seed")]
    pub shard: Option<String>,
    /// How hard the sampled fault plans hit.
    #[arg(long, value_enum, default_value_t = Faults::default())]
    pub faults: Faults,
    /// Print one JSON document on stdout instead of the table (no progress bar).
    #[arg(long)]
    pub json: bool,
    /// Write a lease timeline (SVG) of the first failing seed, or of the first seed run.
    #[arg(long, value_name = "FILE.svg")]
    pub timeline: Option<PathBuf>,
    /// Run every seed twice and compare the schedules (nondeterminism is a failure).
    #[arg(long)]
    pub check_determinism: bool,
    /// Stop at the first failing seed.
    #[arg(long)]
    pub fail_fast: bool,
    /// Do not shrink each cell's first failing seed to a counterexample file under
    /// target/procreg-counterexamples/.
    #[arg(long)]
    pub no_shrink: bool,
    /// Threads running seeds side by side [default: the number of cores].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<NonZeroUsize>,
}

/// `procreg replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A scenario file to run instead of a seed.
    #[arg(
        value_name = "FILE",
        conflicts_with = "seed",
        required_unless_present = "seed"
    )]
    pub file: Option<PathBuf>,
    /// The seed to rerun.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// The workload the seed ran.
    #[arg(long, default_value = "recovery", value_parser = workload_values(false))]
    pub workload: String,
    /// The registry the seed (or scenario) runs on.
    #[arg(long, value_enum, default_value_t = Registry::Memory)]
    pub registry: Registry,
    /// The fault level the seed's plan was sampled at.
    #[arg(long, value_enum, default_value_t = Faults::default())]
    pub faults: Faults,
    /// Write the run's lease timeline (SVG).
    #[arg(long, value_name = "FILE.svg")]
    pub timeline: Option<PathBuf>,
    /// Run the seed twice and compare the schedules.
    #[arg(long)]
    pub check_determinism: bool,
}

/// `procreg scenarios`.
#[derive(Debug, Args)]
pub struct ScenariosArgs {
    /// The folder of `.scn` files (searched recursively; `_*.scn` are include fragments).
    #[arg(value_name = "DIR", default_value = "scenarios")]
    pub dir: PathBuf,
    /// Which bundled registry runs them.
    #[arg(long, value_enum, default_value_t = RegistryChoice::Both)]
    pub registry: RegistryChoice,
    /// Rewrite every file's expectations from the Model, in place, instead of running them.
    #[arg(long, conflicts_with = "json")]
    pub bless: bool,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// `procreg laws`.
#[derive(Debug, Args)]
pub struct LawsArgs {
    /// Only the laws of this area (`lease`, `event`, ...).
    #[arg(long, value_name = "AREA")]
    pub area: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `procreg bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Total measuring time, seconds (split over the four figures).
    #[arg(long, value_name = "S", default_value_t = 4.0)]
    pub seconds: f64,
}

/// `--shard k/n`: this machine runs seeds with `seed % n == k - 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1-based index of this shard.
    pub index: u64,
    /// Number of shards.
    pub count: u64,
}

impl Shard {
    /// Parses `k/n` with `n > 0` and `k` in `1..=n`; the error is one line naming the flag.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = |why: &str| format!("--shard {text}: {why}");
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| bad("expected k/n, e.g. 2/4 for the second of four machines"))?;
        let parse = |part: &str| part.trim().parse::<u64>();
        let (Ok(index), Ok(count)) = (parse(k), parse(n)) else {
            return Err(bad("k and n must be whole numbers, e.g. 2/4"));
        };
        if count == 0 {
            return Err(bad("n must be at least 1"));
        }
        if index == 0 || index > count {
            return Err(bad(&format!("k must be between 1 and {count}")));
        }
        Ok(Shard { index, count })
    }

    /// Whether `seed` is this shard's (the sweep steps through them directly).
    #[cfg(test)]
    pub fn owns(self, seed: u64) -> bool {
        seed % self.count == self.index - 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn shards_partition_the_seeds() {
        let shards: Vec<Shard> = (1..=4)
            .map(|k| Shard::parse(&format!("{k}/4")).unwrap())
            .collect();
        for seed in 0..100 {
            let owners = shards.iter().filter(|s| s.owns(seed)).count();
            assert_eq!(owners, 1, "seed {seed}");
        }
        assert!(Shard::parse("1/4").unwrap().owns(0));
        assert!(Shard::parse("4/4").unwrap().owns(7));
    }

    #[test]
    fn bad_shards_are_one_line_naming_the_flag() {
        for bad in ["3/2", "0/2", "1/0", "x/2", "2", "1/-1", ""] {
            let error = Shard::parse(bad).unwrap_err();
            assert!(error.starts_with("--shard "), "{error}");
            assert!(!error.contains('\n'), "{error}");
        }
    }

    #[test]
    fn every_catalogue_workload_is_a_choice() {
        for workload in workloads() {
            assert_eq!(chosen_workloads(workload.name).len(), 1);
        }
        assert_eq!(chosen_workloads("all").len(), workloads().len());
    }
}
