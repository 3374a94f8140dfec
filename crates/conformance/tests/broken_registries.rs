//! The laws bite: the whole law catalogue runs against every deliberately broken registry of
//! `broken/` (one realistic bug each), and
//! - every broken registry is rejected by at least one law (or is listed in [`NOT_YET_CAUGHT`]
//!   with the law that is missing);
//! - every law rejects at least one broken registry (or is listed in
//!   [`NOT_YET_SHOWN_SENSITIVE`] with the reason), so a law that could never fail is noticed;
//! - both lists stay honest: an entry that is no longer true fails the test;
//! - `MemoryRegistry` and the bug-free wrappers pass every law.
//!
//! Run `cargo test -p procreg-conformance --test broken_registries -- --nocapture` to see which
//! laws caught which bug.

#[path = "broken/mod.rs"]
mod broken;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use procreg::{PluginError, ProcessRegistry, SharedClock};
use procreg_conformance::{
    CATALOGUE, Capabilities, FailureClass, Harness, Instance, Need, Outcome, Report, Runner,
};
use procreg_reference::MemoryRegistry;

use broken::{Broken, DynRegistry};

/// Bugs no law catches yet: (broken registry name, the law that is missing).
const NOT_YET_CAUGHT: &[(&str, &str)] = &[];

/// Laws no broken registry makes fail yet: (law id, why).
const NOT_YET_SHOWN_SENSITIVE: &[(&str, &str)] = &[];

/// Bound on any one call: broken waits must fail fast; the reference answers in microseconds.
const CALL_BOUND: Duration = Duration::from_secs(1);

/// OS threads the (registry x law) runs are spread over; laws of one registry run concurrently.
const THREADS: usize = 4;

/// Bugs that break nearly every law at its first call (every "fresh" registry already holds the
/// other laws' state): they prove nothing about most laws, so they count as evidence only for
/// the laws named here, the ones that target them.
const WHOLESALE: &[(&str, &[&str])] = &[(
    "records::fresh_instances_share_state",
    &["harness::fresh_registries_share_no_state"],
)];

/// Whether `law` failing on `row` counts as evidence that `law` is sensitive.
fn counts_as_evidence(row: &str, law: &str) -> bool {
    WHOLESALE
        .iter()
        .find(|(name, _)| *name == row)
        .is_none_or(|(_, targets)| targets.contains(&law))
}

/// A harness making registries of one catalogue row; second handles share its store.
struct RowHarness {
    make: fn(SharedClock) -> Box<dyn ProcessRegistry>,
    /// `Some(keeps_state)`: declared Durable with crash-and-reopen ([`broken::DECLARED_DURABLE`]).
    durable: Option<bool>,
}

#[async_trait]
impl Harness for RowHarness {
    type Registry = DynRegistry;

    fn capabilities(&self) -> Capabilities {
        let caps = Capabilities::default()
            .with_second_handle(CALL_BOUND)
            .with_call_timeout(CALL_BOUND);
        match self.durable {
            Some(_) => caps.durable().with_crash_reopen(),
            None => caps,
        }
    }

    async fn fresh(&self, instance: &Instance) -> Result<DynRegistry, PluginError> {
        Ok(DynRegistry::new((self.make)(instance.clock.clone())))
    }

    async fn reopen(
        &self,
        instance: &Instance,
        old: DynRegistry,
    ) -> Result<DynRegistry, PluginError> {
        match self.durable {
            Some(true) => Ok(old),
            Some(false) => self.fresh(instance).await,
            None => Err(PluginError::storage("not declared")),
        }
    }

    async fn second_handle(
        &self,
        _instance: &Instance,
        first: &DynRegistry,
    ) -> Result<DynRegistry, PluginError> {
        Ok(first.clone())
    }
}

fn plain_memory(clock: SharedClock) -> Box<dyn ProcessRegistry> {
    Box::new(MemoryRegistry::new(clock))
}

/// Every law on one registry row, concurrently, on the current runtime.
async fn run_row(row: Broken) -> Report {
    let durable = broken::DECLARED_DURABLE
        .iter()
        .find(|(name, _)| *name == row.name)
        .map(|(_, keeps)| *keeps);
    let runner = Runner::new(RowHarness {
        make: row.make,
        durable,
    });
    let mut set = tokio::task::JoinSet::new();
    for (index, law) in CATALOGUE.iter().enumerate() {
        let runner = runner.clone();
        set.spawn(async move { (index, law.id, runner.run(law).await) });
    }
    let mut entries = set.join_all().await;
    entries.sort_by_key(|(index, _, _)| *index);
    Report {
        entries: entries.into_iter().map(|(_, id, o)| (id, o)).collect(),
    }
}

/// Runs every row on [`THREADS`] threads, each with its own current-thread runtime.
fn run_rows(rows: &[Broken]) -> Vec<Report> {
    let rows: Vec<(usize, Broken)> = rows.iter().copied().enumerate().collect();
    let mut reports: Vec<(usize, Report)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let mine: Vec<(usize, Broken)> =
                    rows.iter().copied().skip(t).step_by(THREADS).collect();
                scope.spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    mine.into_iter()
                        .map(|(i, row)| (i, runtime.block_on(run_row(row))))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    reports.sort_by_key(|(i, _)| *i);
    reports.into_iter().map(|(_, r)| r).collect()
}

/// What one run of everything found.
struct Findings {
    controls: Vec<(Broken, Report)>,
    broken: Vec<(Broken, Report)>,
    /// Broken registry name -> the laws that rejected it (violations only).
    caught_by: BTreeMap<&'static str, Vec<&'static str>>,
    /// Law id -> the broken registries it rejected, [`WHOLESALE`] ones left out.
    catches: BTreeMap<&'static str, Vec<&'static str>>,
}

impl Findings {
    fn summary(&self, took: Duration) -> String {
        let mut out = format!(
            "{} broken registries x {} laws in {took:.1?}\n",
            self.broken.len(),
            CATALOGUE.len()
        );
        for (row, _) in &self.broken {
            let laws = &self.caught_by[row.name];
            match laws.is_empty() {
                true => out += &format!("NOT CAUGHT {}: {}\n", row.name, row.bug),
                false if WHOLESALE.iter().any(|(name, _)| *name == row.name) => {
                    out += &format!("CAUGHT {} by {} laws\n", row.name, laws.len());
                }
                false => out += &format!("CAUGHT {} by {}\n", row.name, laws.join(", ")),
            }
        }
        for (law, caught) in &self.catches {
            match caught.is_empty() {
                true => out += &format!("INSENSITIVE {law}\n"),
                false => out += &format!("SENSITIVE {law}: {}\n", caught.join(", ")),
            }
        }
        out
    }
}

fn findings() -> &'static Findings {
    static FINDINGS: OnceLock<Findings> = OnceLock::new();
    FINDINGS.get_or_init(|| {
        let start = Instant::now();
        let mut controls = broken::controls();
        controls.push(Broken {
            name: "control::memory_registry",
            bug: "none: MemoryRegistry itself",
            make: plain_memory,
        });
        let catalogue = broken::catalogue();
        let all: Vec<Broken> = controls.iter().chain(&catalogue).copied().collect();
        let mut reports = run_rows(&all);
        let broken: Vec<(Broken, Report)> = catalogue
            .into_iter()
            .zip(reports.split_off(controls.len()))
            .collect();
        let mut caught_by = BTreeMap::new();
        let mut catches: BTreeMap<&str, Vec<&str>> =
            CATALOGUE.iter().map(|law| (law.id, Vec::new())).collect();
        for (row, report) in &broken {
            let laws: Vec<&str> = report
                .failures()
                .iter()
                .filter(|f| f.class == FailureClass::Violation)
                .map(|f| f.law)
                .collect();
            for law in laws.iter().filter(|law| counts_as_evidence(row.name, law)) {
                catches.entry(law).or_default().push(row.name);
            }
            caught_by.insert(row.name, laws);
        }
        let findings = Findings {
            controls: controls.into_iter().zip(reports).collect(),
            broken,
            caught_by,
            catches,
        };
        println!("{}", findings.summary(start.elapsed()));
        findings
    })
}

#[test]
fn reference_and_bug_free_wrappers_pass_every_law() {
    let findings = findings();
    for (row, report) in &findings.controls {
        assert!(report.is_success(), "{} failed laws:\n{report}", row.name);
        for (id, outcome) in &report.entries {
            if let Outcome::Ignored { reason } = outcome {
                let law = CATALOGUE.iter().find(|l| l.id == *id).unwrap();
                assert!(
                    law.needs.contains(&Need::Durable),
                    "{}: {id} ignored ({reason}); only Durable laws may be",
                    row.name
                );
            }
        }
    }
}

#[test]
fn catalogue_has_at_least_thirty_distinct_bugs() {
    let catalogue = broken::catalogue();
    let names: BTreeSet<&str> = catalogue.iter().map(|b| b.name).collect();
    assert_eq!(
        names.len(),
        catalogue.len(),
        "duplicate broken registry names"
    );
    assert!(
        catalogue.len() >= 30,
        "only {} broken registries",
        catalogue.len()
    );
    for (name, _) in broken::DECLARED_DURABLE.iter().map(|(n, k)| (n, k)) {
        assert!(
            names.contains(name),
            "DECLARED_DURABLE names no row: {name}"
        );
    }
}

#[test]
fn no_broken_registry_fails_for_environment_reasons() {
    for (row, report) in &findings().broken {
        for failure in report.failures() {
            assert_eq!(
                failure.class,
                FailureClass::Violation,
                "{}: {failure}",
                row.name
            );
        }
    }
}

#[test]
fn every_broken_registry_is_caught_by_a_law() {
    let findings = findings();
    let mut problems = Vec::new();
    for (row, _) in &findings.broken {
        let laws = &findings.caught_by[row.name];
        let listed = NOT_YET_CAUGHT.iter().any(|(name, _)| *name == row.name);
        if laws.is_empty() && !listed {
            problems.push(format!(
                "{} is caught by no law and not listed in NOT_YET_CAUGHT: {}",
                row.name, row.bug
            ));
        }
        if !laws.is_empty() && listed {
            problems.push(format!(
                "{} is listed in NOT_YET_CAUGHT but {} now catch it: remove it",
                row.name,
                laws.join(", ")
            ));
        }
    }
    for (name, _) in NOT_YET_CAUGHT {
        if !findings.caught_by.contains_key(name) {
            problems.push(format!("NOT_YET_CAUGHT names no broken registry: {name}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_law_catches_a_broken_registry_or_says_why_not() {
    let findings = findings();
    let mut problems = Vec::new();
    for (law, caught) in &findings.catches {
        let listed = NOT_YET_SHOWN_SENSITIVE.iter().any(|(id, _)| id == law);
        if caught.is_empty() && !listed {
            problems.push(format!(
                "{law} rejects no broken registry and is not listed in NOT_YET_SHOWN_SENSITIVE"
            ));
        }
        if !caught.is_empty() && listed {
            problems.push(format!(
                "{law} is listed in NOT_YET_SHOWN_SENSITIVE but rejects {}: remove it",
                caught.join(", ")
            ));
        }
    }
    for (id, _) in NOT_YET_SHOWN_SENSITIVE {
        if !findings.catches.contains_key(id) {
            problems.push(format!("NOT_YET_SHOWN_SENSITIVE names no law: {id}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
