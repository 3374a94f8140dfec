//! What the world needs from a registry under test: open it on the world's clock, and crash
//! and reopen it over the same substrate (D7).
//!
//! Why it exists: the simulator must not know any particular backend (registries never import
//! the sim, and the sim never imports a law). The conformance crate adapts a user's harness to
//! this trait; the sim ships targets for the bundled registries.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use async_trait::async_trait;
use procreg::{PluginError, ProcessRegistry, SharedClock};
use procreg_reference::{MemoryRegistry, Model};

use crate::plan::StorageFaults;
use crate::rng::SimRng;

/// A registry the world can open, crash and reopen.
#[async_trait(?Send)]
pub trait SimTarget {
    /// A short name for reports (`memory`, `file-on-simstorage`).
    fn name(&self) -> String;

    /// Whether acknowledged state survives a crash (only durable targets are crashed).
    fn durable(&self) -> bool;

    /// Opens a fresh, empty registry reading time from `clock`.
    async fn open(&mut self, clock: SharedClock) -> Result<Arc<dyn ProcessRegistry>, PluginError>;

    /// Crashes the registry and reopens it over the same substrate. The world has already
    /// cancelled every call in flight, so `old` is the last handle: drop it before reopening.
    /// `rng` is the storage stream: use it for what the crash destroys (unsynced bytes, torn
    /// writes).
    async fn crash_and_reopen(
        &mut self,
        old: Arc<dyn ProcessRegistry>,
        clock: SharedClock,
        rng: &mut SimRng,
    ) -> Result<Arc<dyn ProcessRegistry>, PluginError>;

    /// Takes the run's storage faults (torn writes at crashes) before the first open; targets
    /// without simulated storage ignore them.
    fn set_storage_faults(&mut self, faults: &StorageFaults) {
        let _ = faults;
    }

    /// The open registry's Model, when the target can show it (white-box durability checks,
    /// D6); `None` for black-box targets.
    fn inspect_model(&self) -> Option<Model> {
        None
    }
}

/// `MemoryRegistry` as a sim target (Inline: never crashed by the world).
#[derive(Debug, Default)]
pub struct MemoryTarget;

#[async_trait(?Send)]
impl SimTarget for MemoryTarget {
    fn name(&self) -> String {
        "memory".into()
    }

    fn durable(&self) -> bool {
        false
    }

    async fn open(&mut self, clock: SharedClock) -> Result<Arc<dyn ProcessRegistry>, PluginError> {
        Ok(Arc::new(MemoryRegistry::new(clock)))
    }

    async fn crash_and_reopen(
        &mut self,
        old: Arc<dyn ProcessRegistry>,
        clock: SharedClock,
        _rng: &mut SimRng,
    ) -> Result<Arc<dyn ProcessRegistry>, PluginError> {
        // Inline: a crash loses everything.
        drop(old);
        self.open(clock).await
    }
}

/// Drives a target's future to completion outside the executor. Sim targets do no real I/O,
/// so their futures finish without ever waiting; one that stays pending is reported as
/// `Storage` rather than hanging the world.
pub(crate) fn finish_now<T>(
    future: impl Future<Output = Result<T, PluginError>>,
) -> Result<T, PluginError> {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..10_000 {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
    Err(PluginError::storage(
        "sim target blocked while opening; sim targets must not wait on I/O",
    ))
}
