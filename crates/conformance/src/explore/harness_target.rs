//! [`HarnessTarget`]: a user's [`Harness`] as a simulator target, so the explorer runs on the
//! same backend the laws do.
//!
//! Why it exists: a backend author writes one harness; the laws and the explorer should both
//! use it. Crash and reopen (D7) go through [`Harness::reopen`] when the harness declares
//! `crash_reopen` and a `Durable` tier; otherwise the world never crashes the registry.
//!
//! Limits: the world opens and reopens a target outside its executor and never waits on I/O,
//! so a harness whose `fresh` or `reopen` awaits real I/O (a tokio database client) fails to
//! open here with `Storage` ("sim target blocked"); registries that compute on the calling
//! thread (in-memory, or synchronous file I/O) work. The registry's own calls run on the
//! world's executor, so they must not need a tokio runtime either.

use std::borrow::Borrow;
use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;
use procreg::{DurabilityTier, PluginError, ProcessRegistry, SharedClock};
use procreg_sim::SimTarget;
use procreg_sim::rng::SimRng;

use crate::harness::{Harness, Instance};

/// A [`Harness`] as a [`SimTarget`], owning the harness (`B = H`) or borrowing it
/// (`B = &H`). See the module docs.
pub struct HarnessTarget<H: Harness, B: Borrow<H> = H> {
    harness: B,
    label: String,
    opens: u64,
    current: Option<Arc<H::Registry>>,
    of: PhantomData<fn() -> H>,
}

impl<H: Harness> HarnessTarget<H> {
    /// A target opening registries from `harness`. Each seed gets a fresh store labelled
    /// `<label>_<n>` (`[a-z0-9_]`, e.g. `explore_recovery_3`); its reopens use the same label.
    pub fn new(harness: H, label: impl Into<String>) -> Self {
        Self::over(harness, label)
    }
}

impl<'h, H: Harness> HarnessTarget<H, &'h H> {
    /// [`HarnessTarget::new`] on a borrowed harness (the scenario runner's, which it does not
    /// own).
    pub fn borrowed(harness: &'h H, label: impl Into<String>) -> Self {
        Self::over(harness, label)
    }
}

impl<H: Harness, B: Borrow<H>> HarnessTarget<H, B> {
    fn over(harness: B, label: impl Into<String>) -> Self {
        Self {
            harness,
            label: label.into(),
            opens: 0,
            current: None,
            of: PhantomData,
        }
    }

    fn instance(&self, clock: SharedClock) -> Instance {
        Instance {
            label: format!("{}_{}", self.label, self.opens),
            clock,
        }
    }

    fn keep(&mut self, registry: H::Registry) -> Arc<dyn ProcessRegistry> {
        let registry = Arc::new(registry);
        self.current = Some(Arc::clone(&registry));
        registry
    }
}

#[async_trait(?Send)]
impl<H: Harness, B: Borrow<H>> SimTarget for HarnessTarget<H, B> {
    fn name(&self) -> String {
        format!(
            "harness:{}",
            std::any::type_name::<H>()
                .rsplit("::")
                .next()
                .unwrap_or("?")
        )
    }

    fn durable(&self) -> bool {
        let caps = self.harness.borrow().capabilities();
        caps.crash_reopen && caps.durability == DurabilityTier::Durable
    }

    async fn open(&mut self, clock: SharedClock) -> Result<Arc<dyn ProcessRegistry>, PluginError> {
        self.current = None;
        self.opens += 1;
        let registry = self.harness.borrow().fresh(&self.instance(clock)).await?;
        Ok(self.keep(registry))
    }

    async fn crash_and_reopen(
        &mut self,
        old: Arc<dyn ProcessRegistry>,
        clock: SharedClock,
        _rng: &mut SimRng,
    ) -> Result<Arc<dyn ProcessRegistry>, PluginError> {
        drop(old);
        let current = self.current.take();
        let Some(registry) = current.and_then(Arc::into_inner) else {
            return Err(PluginError::storage(
                "cannot reopen: the crashed registry is still referenced",
            ));
        };
        let registry = self
            .harness
            .borrow()
            .reopen(&self.instance(clock), registry)
            .await?;
        Ok(self.keep(registry))
    }
}
