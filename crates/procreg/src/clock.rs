//! Clocks (T1, T2): every bundled registry reads time only from the clock it was built with.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The largest timestamp the contract allows: `2^63 - 1` milliseconds (V3).
pub const MAX_TIMESTAMP_MS: u64 = (1 << 63) - 1;

/// A source of millisecond timestamps. Implementations never go backwards (T1).
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time in milliseconds, below 2^63 (V3).
    fn now_ms(&self) -> u64;
}

/// A clock shared between a registry and whoever controls time.
pub type SharedClock = Arc<dyn Clock>;

/// The wall clock: milliseconds since the Unix epoch, never going backwards.
#[derive(Debug, Default)]
pub struct SystemClock {
    last_ms: AtomicU64,
}

impl SystemClock {
    /// A wall clock.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis().min(u128::from(MAX_TIMESTAMP_MS)) as u64)
            .unwrap_or(0);
        // A wall clock stepped back by NTP must not move registry time backwards (T1).
        let previous = self.last_ms.fetch_max(wall, Ordering::SeqCst);
        previous.max(wall)
    }
}

/// A clock that moves only when told to. Clones share one time.
///
/// ```
/// # use procreg::{Clock, ManualClock};
/// let clock = ManualClock::new(1_000);
/// let view = clock.clone();
/// clock.advance(500);
/// assert_eq!(view.now_ms(), 1_500);
/// ```
#[derive(Clone, Debug, Default)]
pub struct ManualClock {
    now_ms: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock reading `start_ms` (clamped to [`MAX_TIMESTAMP_MS`]).
    pub fn new(start_ms: u64) -> Self {
        Self {
            now_ms: Arc::new(AtomicU64::new(start_ms.min(MAX_TIMESTAMP_MS))),
        }
    }

    /// Moves time forward by `delta_ms`, saturating at [`MAX_TIMESTAMP_MS`].
    pub fn advance(&self, delta_ms: u64) {
        let _ = self
            .now_ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| {
                Some(now.saturating_add(delta_ms).min(MAX_TIMESTAMP_MS))
            });
    }

    /// Sets the time to `now_ms` unless that would move it backwards (T1): time only moves forward.
    pub fn set(&self, now_ms: u64) {
        self.now_ms
            .fetch_max(now_ms.min(MAX_TIMESTAMP_MS), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now_ms.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_never_goes_backwards() {
        let clock = ManualClock::new(10);
        clock.set(5);
        assert_eq!(clock.now_ms(), 10);
        clock.advance(u64::MAX);
        assert_eq!(clock.now_ms(), MAX_TIMESTAMP_MS);
    }

    #[test]
    fn system_clock_is_monotonic() {
        let clock = SystemClock::new();
        let a = clock.now_ms();
        let b = clock.now_ms();
        assert!(b >= a && a > 0);
    }
}
