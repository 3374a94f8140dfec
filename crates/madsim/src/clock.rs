//! [`MadsimClock`]: madsim's virtual time as a procreg [`Clock`].
//!
//! Why it exists: every bundled registry takes its clock at construction (T2). In cluster mode
//! the server's registry, the clients' history and the plan all read this one clock, so lease
//! expiries and call times share a timeline, starting at [`START_MS`] as in the core world.

use procreg::Clock;
use procreg_sim::world::START_MS;

/// Milliseconds since the run started, plus [`START_MS`], on madsim's virtual clock.
#[derive(Debug, Clone, Copy)]
pub struct MadsimClock {
    origin: madsim::time::Instant,
}

impl MadsimClock {
    /// A clock reading [`START_MS`] now. Must be made inside a madsim runtime.
    pub fn start() -> Self {
        Self {
            origin: madsim::time::Instant::now(),
        }
    }

    /// The virtual instant `at_ms` on this clock (before the start: the start).
    pub fn instant(&self, at_ms: u64) -> madsim::time::Instant {
        self.origin + std::time::Duration::from_millis(at_ms.saturating_sub(START_MS))
    }
}

impl Clock for MadsimClock {
    fn now_ms(&self) -> u64 {
        let elapsed = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        START_MS.saturating_add(elapsed)
    }
}
