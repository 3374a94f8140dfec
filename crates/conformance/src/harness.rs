//! The harness: the one thing a backend's author implements so the laws can run on their registry.
//!
//! A law asks the harness for a fresh, empty registry on a clock the kit hands over (T2: the kit
//! uses a [`ManualClock`](procreg::ManualClock) so laws move time by advancing it and never sleep
//! on the wall clock). Optional powers unlock more laws: crash-and-reopen over the same substrate
//! (D2-D7), a second live handle on one store (E14's cross-handle bound, D5). What a harness
//! cannot do is declared in its [`Capabilities`]; a law that needs a missing capability is
//! reported as ignored, with the reason, never as passed.
//!
//! ```ignore
//! use async_trait::async_trait;
//! use procreg::PluginError;
//! use procreg_conformance::{Harness, Instance};
//!
//! struct MyHarness;
//!
//! #[async_trait]
//! impl Harness for MyHarness {
//!     type Registry = MyRegistry;
//!     async fn fresh(&self, instance: &Instance) -> Result<MyRegistry, PluginError> {
//!         Ok(MyRegistry::new(instance.clock.clone()))
//!     }
//! }
//! ```

use std::any::Any;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use procreg::{DurabilityTier, PluginError, ProcessRegistry, SharedClock};

/// Which registry a law asks for: a label naming its substrate and the clock it must read.
///
/// The label is unique per law and per instance within a law (`registration__blank_ids_are_rejected`,
/// `harness__fresh_registries_share_no_state_2`): use it as a database prefix, schema or directory
/// name, so laws can run in parallel. It is stable across runs; a backend whose substrate outlives
/// the test process puts it under a per-run root (a temp dir, a random schema suffix) rather than
/// wiping what a label held before.
#[derive(Clone, Debug)]
pub struct Instance {
    /// `[a-z0-9_]` only, derived from the law id.
    pub label: String,
    /// The clock the registry must read time from (T2).
    pub clock: SharedClock,
}

/// What a harness can do. Build it from [`Capabilities::default`] and the `with_*` methods.
///
/// Defaults: injected clock, `Inline`, no crash-reopen, no second handle, parallel laws, a 10 s
/// bound on every single registry call.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Capabilities {
    /// The registry reads time only from [`Instance::clock`] (T2). Default `true`.
    pub injected_clock: bool,
    /// The tier the registry reports (D1). Default `Inline`.
    pub durability: DurabilityTier,
    /// [`Harness::reopen`] is implemented (D7). Default `false`.
    pub crash_reopen: bool,
    /// [`Harness::second_handle`] is implemented, and a wait on one handle returns within this
    /// wall-clock bound after an append through another (E14). Default `None`.
    pub second_handle_wait_bound: Option<Duration>,
    /// Laws must not run concurrently (one shared database). Default `false`.
    pub serial: bool,
    /// The wall-clock bound on any one registry call inside a law; a call that takes longer is
    /// reported as not returning. It bounds hangs, it is never slept. Default 10 s.
    pub call_timeout: Duration,
}

impl Default for Capabilities {
    fn default() -> Self {
        Self {
            injected_clock: true,
            durability: DurabilityTier::Inline,
            crash_reopen: false,
            second_handle_wait_bound: None,
            serial: false,
            call_timeout: Duration::from_secs(10),
        }
    }
}

impl Capabilities {
    /// The registry reads a clock of its own (a database's), not the injected one (T2).
    pub fn with_own_clock(mut self) -> Self {
        self.injected_clock = false;
        self
    }

    /// The registry is `Durable` (D1).
    pub fn durable(mut self) -> Self {
        self.durability = DurabilityTier::Durable;
        self
    }

    /// [`Harness::reopen`] is implemented.
    pub fn with_crash_reopen(mut self) -> Self {
        self.crash_reopen = true;
        self
    }

    /// [`Harness::second_handle`] is implemented; cross-handle waits return within `bound`.
    pub fn with_second_handle(mut self, bound: Duration) -> Self {
        self.second_handle_wait_bound = Some(bound);
        self
    }

    /// Laws must run one at a time.
    pub fn serial(mut self) -> Self {
        self.serial = true;
        self
    }

    /// Sets [`Capabilities::call_timeout`].
    pub fn with_call_timeout(mut self, bound: Duration) -> Self {
        self.call_timeout = bound;
        self
    }
}

/// How the kit gets registries from a backend.
///
/// Implement [`Harness::fresh`]; override [`Harness::capabilities`] to declare more (or less),
/// and the optional methods it declares.
#[async_trait]
pub trait Harness: Send + Sync + 'static {
    /// The registry under test.
    type Registry: ProcessRegistry + 'static;

    /// What this harness can do. Default: [`Capabilities::default`].
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    /// A new, empty registry on `instance.clock`, sharing no state with any other label.
    ///
    /// # Errors
    /// Any error is reported as an environment failure of the law that asked.
    async fn fresh(&self, instance: &Instance) -> Result<Self::Registry, PluginError>;

    /// Crash and reopen (D7): `old` and every handle of it are dropped, the substrate is left as
    /// a crash leaves it, and a new registry is opened over it on `instance.clock`.
    /// Called only when [`Capabilities::crash_reopen`] is declared.
    ///
    /// # Errors
    /// The default refuses with `Storage`. `Corrupt` from a real reopen is checked by laws (D4).
    async fn reopen(
        &self,
        instance: &Instance,
        old: Self::Registry,
    ) -> Result<Self::Registry, PluginError> {
        drop(old);
        Err(PluginError::storage(format!(
            "harness cannot reopen `{}`: crash_reopen is not declared",
            instance.label
        )))
    }

    /// A second live handle on the same store as `first` (E14, D5).
    /// Called only when [`Capabilities::second_handle_wait_bound`] is declared.
    ///
    /// # Errors
    /// The default refuses with `Storage`, as D5 lets a store that cannot share itself do.
    async fn second_handle(
        &self,
        instance: &Instance,
        first: &Self::Registry,
    ) -> Result<Self::Registry, PluginError> {
        let _ = first;
        Err(PluginError::storage(format!(
            "harness cannot open a second handle on `{}`",
            instance.label
        )))
    }
}

/// A registry a law holds: cheap to clone (to move into a spawned task), derefs to the
/// `ProcessRegistry` under test.
#[derive(Clone)]
pub struct RegistryHandle {
    inner: Arc<dyn AnyRegistry>,
    instance: Instance,
}

impl std::fmt::Debug for RegistryHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryHandle")
            .field("label", &self.instance.label)
            .finish_non_exhaustive()
    }
}

impl Deref for RegistryHandle {
    type Target = dyn ProcessRegistry;

    fn deref(&self) -> &Self::Target {
        self.inner.as_registry()
    }
}

impl RegistryHandle {
    fn new<R: ProcessRegistry + 'static>(registry: R, instance: &Instance) -> Self {
        Self {
            inner: Arc::new(registry),
            instance: instance.clone(),
        }
    }

    /// The label and clock this registry was made with.
    pub fn instance(&self) -> &Instance {
        &self.instance
    }

    /// The typed registry back, once no other clone of this handle is alive.
    fn into_typed<R: ProcessRegistry + 'static>(self) -> Result<R, PluginError> {
        let any = self.inner.into_any();
        let typed = any
            .downcast::<R>()
            .map_err(|_| PluginError::storage("kit bug: handle of another harness"))?;
        Arc::try_unwrap(typed).map_err(|_| {
            PluginError::storage("kit bug: a law kept a clone of the handle it reopened")
        })
    }
}

trait AnyRegistry: Send + Sync {
    fn as_registry(&self) -> &(dyn ProcessRegistry + 'static);
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

impl<R: ProcessRegistry + 'static> AnyRegistry for R {
    fn as_registry(&self) -> &(dyn ProcessRegistry + 'static) {
        self
    }

    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}

/// A [`Harness`] with its registry type erased, so laws are plain functions of one context type.
#[async_trait]
pub(crate) trait DynHarness: Send + Sync {
    fn capabilities(&self) -> Capabilities;
    async fn fresh(&self, instance: &Instance) -> Result<RegistryHandle, PluginError>;
    async fn reopen(
        &self,
        instance: &Instance,
        old: RegistryHandle,
    ) -> Result<RegistryHandle, PluginError>;
    async fn second_handle(
        &self,
        instance: &Instance,
        first: &RegistryHandle,
    ) -> Result<RegistryHandle, PluginError>;
}

pub(crate) struct Erased<H>(pub(crate) H);

#[async_trait]
impl<H: Harness> DynHarness for Erased<H> {
    fn capabilities(&self) -> Capabilities {
        self.0.capabilities()
    }

    async fn fresh(&self, instance: &Instance) -> Result<RegistryHandle, PluginError> {
        let registry = self.0.fresh(instance).await?;
        Ok(RegistryHandle::new(registry, instance))
    }

    async fn reopen(
        &self,
        instance: &Instance,
        old: RegistryHandle,
    ) -> Result<RegistryHandle, PluginError> {
        let typed = old.into_typed::<H::Registry>()?;
        let registry = self.0.reopen(instance, typed).await?;
        Ok(RegistryHandle::new(registry, instance))
    }

    async fn second_handle(
        &self,
        instance: &Instance,
        first: &RegistryHandle,
    ) -> Result<RegistryHandle, PluginError> {
        let typed = first
            .inner
            .clone()
            .into_any()
            .downcast::<H::Registry>()
            .map_err(|_| PluginError::storage("kit bug: handle of another harness"))?;
        let second = self.0.second_handle(instance, &typed).await?;
        Ok(RegistryHandle::new(second, instance))
    }
}
