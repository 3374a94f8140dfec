//! Virtual time. The executor is the only thing that moves it: it jumps to the next timer when
//! no task can run, so a simulated hour costs nothing and a run replays exactly.

use procreg::{Clock, ManualClock, SharedClock};
use std::sync::Arc;

/// The world's clock: a [`ManualClock`] only the executor advances. Clones share one time.
#[derive(Clone, Debug, Default)]
pub struct SimClock {
    inner: ManualClock,
}

impl SimClock {
    /// A clock reading `start_ms`.
    pub fn new(start_ms: u64) -> Self {
        Self {
            inner: ManualClock::new(start_ms),
        }
    }

    /// Moves time forward to `at_ms` (never backwards, T1).
    pub fn advance_to(&self, at_ms: u64) {
        self.inner.set(at_ms);
    }

    /// Moves time forward by `delta_ms`.
    pub fn advance(&self, delta_ms: u64) {
        self.inner.advance(delta_ms);
    }

    /// The current virtual time (the same as [`Clock::now_ms`], without importing the trait).
    pub fn now_ms_value(&self) -> u64 {
        self.inner.now_ms()
    }

    /// This clock as the `SharedClock` registries are built with.
    pub fn shared(&self) -> SharedClock {
        Arc::new(self.clone())
    }
}

impl Clock for SimClock {
    fn now_ms(&self) -> u64 {
        self.inner.now_ms()
    }
}
