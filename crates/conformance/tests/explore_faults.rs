//! Bugs that only show under crashes or faults (the simulator's item 7): each broken registry
//! below is found by the explorer within a fixed seed budget (64), by a named rule, while its
//! unbroken twin (the same wrapper with the bug off) passes the same seeds, and no seed finds
//! it without faults. Figures at the time of writing (failing seeds of 64, median seeds to
//! detection; the tests print them):
//!
//! | bug | workload, level | caught by | found | laws |
//! |---|---|---|---|---|
//! | fencing counter kept in memory, restarts at 0 on reopen | `recovery` durable, Light | W3 D3 W4 | 13/64, median 4 | only with `crash_reopen` |
//! | lease tokens `t<n>` from an in-memory counter, reissued after reopen | `recovery` durable, Light | D3 | 29/64, median 1 | only with `crash_reopen` |
//! | keyed appends deduped only against the last event | `events`, Light | E2 | 33/64, median 2 | two replay laws |
//! | keyed appends deduped only against the last 210 ms (a cache with a TTL) | `events`, Heavy | E2 | 11/64, median 3 | none |

mod explore_faults {
    pub mod forgetful;
    pub mod forward;
    pub mod sweep;
    pub mod tail_dedupe;
}

use explore_faults::forgetful::{Forgetful, ForgetfulTarget, Forgets};
use explore_faults::sweep::{assert_clean, assert_found};
use explore_faults::tail_dedupe::{Lookback, TailDedupe, TailDedupeTarget};
use procreg::PluginError;
use procreg_conformance::{Harness, Instance, Runner};
use procreg_sim::FaultLevel;

#[test]
fn d3_a_fencing_counter_not_persisted_is_found_by_recovery() {
    let mut target = ForgetfulTarget::new(Forgets::FencingCounter);
    let found = assert_found(
        "fencing counter not persisted",
        &mut target,
        "recovery",
        FaultLevel::Light,
        &["D3", "W3", "W4"],
    );
    assert!(
        found
            .first
            .run
            .as_ref()
            .is_some_and(|r| !r.registry_crashes.is_empty())
    );
}

#[test]
fn d3_lease_tokens_reused_after_reopen_are_found_by_recovery() {
    let mut target = ForgetfulTarget::new(Forgets::LeaseTokens);
    let found = assert_found(
        "lease token reused after reopen",
        &mut target,
        "recovery",
        FaultLevel::Light,
        &["D3", "W2", "W4"],
    );
    assert!(
        found
            .first
            .run
            .as_ref()
            .is_some_and(|r| !r.registry_crashes.is_empty())
    );
}

#[test]
fn e2_a_retry_deduped_only_against_the_last_event_is_found_by_events() {
    let mut target = TailDedupeTarget(Lookback::LastEvent);
    assert_found(
        "tail dedupe",
        &mut target,
        "events",
        FaultLevel::Light,
        &["E2"],
    );
}

#[test]
fn the_wrappers_with_their_bug_off_pass_the_same_seeds() {
    assert_clean(
        &mut ForgetfulTarget::new(Forgets::Nothing),
        "recovery",
        FaultLevel::Light,
    );
    assert_clean(
        &mut TailDedupeTarget(Lookback::WholeLog),
        "events",
        FaultLevel::Light,
    );
}

#[test]
fn without_faults_none_of_the_bugs_shows() {
    // No crashes, no link faults: the same seeds pass, so it is the faults that find them.
    for forgets in [Forgets::FencingCounter, Forgets::LeaseTokens] {
        assert_clean(
            &mut ForgetfulTarget::new(forgets),
            "recovery",
            FaultLevel::None,
        );
    }
    assert_clean(
        &mut TailDedupeTarget(Lookback::LastEvent),
        "events",
        FaultLevel::None,
    );
}

/// Longer than any law waits before replaying a key (200 ms), shorter than the explorer's
/// lost answers, stalls and late duplicates under Heavy faults.
const TTL_DEDUPE: Lookback = Lookback::RecentMs(210);

#[test]
fn e2_a_dedupe_cache_with_a_ttl_is_found_by_events_under_heavy_faults() {
    assert_found(
        "dedupe cache with a 210 ms TTL",
        &mut TailDedupeTarget(TTL_DEDUPE),
        "events",
        FaultLevel::Heavy,
        &["E2"],
    );
}

struct TailDedupeHarness(Lookback);

#[async_trait::async_trait]
impl Harness for TailDedupeHarness {
    type Registry = TailDedupe;
    async fn fresh(&self, instance: &Instance) -> Result<TailDedupe, PluginError> {
        Ok(TailDedupe::new(instance.clock.clone(), self.0))
    }
}

#[tokio::test]
async fn e2_the_replay_laws_catch_tail_dedupe_and_pass_its_fix() {
    // A law that replays a key after another append sees the tail-only dedupe too; the
    // explorer's contribution is finding it with no law written for the interleaving.
    let fixed = Runner::new(TailDedupeHarness(Lookback::WholeLog))
        .run_all()
        .await;
    assert!(fixed.is_success(), "{fixed}");
    let broken = Runner::new(TailDedupeHarness(Lookback::LastEvent))
        .run_all()
        .await;
    assert_eq!(
        broken.failed(),
        [
            "replay::replayed_append_returns_stored_event",
            "replay::replay_precedes_every_other_check",
        ],
        "{broken}"
    );
}

#[tokio::test]
async fn e2_every_law_passes_a_dedupe_cache_with_a_ttl() {
    let report = Runner::new(TailDedupeHarness(TTL_DEDUPE)).run_all().await;
    assert!(report.is_success(), "{report}");
}

/// `Forgetful` over a `FileRegistry` in a temporary directory, reopened over the same
/// directory (as `tests/file.rs` runs `FileRegistry`).
struct ForgetfulHarness {
    forgets: Forgets,
    root: tempfile::TempDir,
}

impl ForgetfulHarness {
    fn new(forgets: Forgets) -> Self {
        let root = tempfile::tempdir().unwrap();
        Self { forgets, root }
    }

    fn open(&self, instance: &Instance) -> Result<Forgetful, PluginError> {
        let dir = self.root.path().join(&instance.label);
        let file = procreg_reference::FileRegistry::open_dir(dir, instance.clock.clone())?;
        Ok(Forgetful::new(std::sync::Arc::new(file), self.forgets))
    }
}

#[async_trait::async_trait]
impl Harness for ForgetfulHarness {
    type Registry = Forgetful;
    fn capabilities(&self) -> procreg_conformance::Capabilities {
        procreg_conformance::Capabilities::default()
            .durable()
            .with_crash_reopen()
    }
    async fn fresh(&self, instance: &Instance) -> Result<Forgetful, PluginError> {
        self.open(instance)
    }
    async fn reopen(&self, instance: &Instance, old: Forgetful) -> Result<Forgetful, PluginError> {
        drop(old);
        self.open(instance)
    }
}

#[tokio::test]
async fn d3_the_durability_laws_catch_both_forgetful_bugs_and_pass_the_fix() {
    // A harness that can crash and reopen lets the laws see these too; one that cannot
    // (crash_reopen undeclared) leaves them to the explorer's durable targets.
    let fixed = Runner::new(ForgetfulHarness::new(Forgets::Nothing))
        .run_all()
        .await;
    assert!(fixed.is_success(), "{fixed}");
    for forgets in [Forgets::FencingCounter, Forgets::LeaseTokens] {
        let broken = Runner::new(ForgetfulHarness::new(forgets)).run_all().await;
        assert_eq!(
            broken.failed(),
            [
                "durability::tokens_are_never_reused_after_reopen",
                "durability::lease_state_survives_reopen",
            ],
            "{forgets:?}: {broken}"
        );
    }
}
