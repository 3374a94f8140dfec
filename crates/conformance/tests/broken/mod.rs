//! A catalogue of deliberately broken registries: each is `MemoryRegistry` behind a wrapper that
//! overrides one or two methods with ONE bug a real backend author could write. They exist to
//! prove the laws can fail (`broken_registries.rs` runs the whole catalogue of laws against each
//! and insists every bug is caught), the way a mutation tester proves a test suite bites.
//!
//! A bug is a [`Twist`]: a type whose methods mirror `ProcessRegistry` with the reference
//! registry ([`Base`]) as an extra argument, and which by default answer what the reference
//! answers. [`wrap`] turns a twist into a registry. A catalogue row ([`Broken`]) names the bug in
//! one sentence; families of bugs live one per file and [`catalogue`] concatenates them.
//!
//! Adding one: write the twist in the family's file (override only what the bug changes) and add
//! its row to that file's `BROKEN` list.

mod completion;
mod events;
mod grants;
mod leases;
mod races;
mod records;
mod registrations;
mod renewals;
mod sessions;
mod terminal;
mod waits;
mod wakes;

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use procreg::{
    DurabilityTier, PluginError, ProcessAwaitOutput, ProcessEvent, ProcessEventAppendRequest,
    ProcessEventAppendResult, ProcessExternalRef, ProcessHandleDescriptor, ProcessHandleGrant,
    ProcessHandleGrantEntry, ProcessLease, ProcessLeaseCompletion, ProcessRecord,
    ProcessRegistration, ProcessRegistry, ProcessScope, ProcessSessionDeleteReport, SharedClock,
};
use procreg_reference::{MemoryRegistry, Model};

pub use records::DECLARED_DURABLE;

/// One broken registry of the catalogue.
#[derive(Clone, Copy)]
pub struct Broken {
    /// Short unique name (`<family>::<what breaks>`).
    pub name: &'static str,
    /// The bug, in one sentence, with the rule it breaks.
    pub bug: &'static str,
    /// A fresh registry with the bug, reading time from the clock.
    pub make: fn(SharedClock) -> Box<dyn ProcessRegistry>,
}

impl std::fmt::Debug for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broken").field("name", &self.name).finish()
    }
}

/// Every broken registry, family by family.
pub fn catalogue() -> Vec<Broken> {
    [
        leases::BROKEN,
        renewals::BROKEN,
        events::BROKEN,
        terminal::BROKEN,
        waits::BROKEN,
        wakes::BROKEN,
        completion::BROKEN,
        registrations::BROKEN,
        records::BROKEN,
        grants::BROKEN,
        sessions::BROKEN,
        races::BROKEN,
    ]
    .concat()
}

/// The reference registry a twist wraps, and the clock both read.
pub struct Base {
    /// The correct registry every default answer comes from.
    pub inner: Arc<MemoryRegistry>,
    /// The clock the registry reads (the law's clock).
    pub clock: SharedClock,
}

impl Base {
    /// The clock's reading.
    pub fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    /// A copy of the reference state, for twists that need to look at what the trait cannot
    /// show (the current lease, every grant).
    pub fn model(&self) -> Model {
        self.inner
            .engine()
            .model_snapshot()
            .expect("the reference lock is never poisoned")
    }

    /// The current record of a process, if it exists.
    pub async fn record(&self, process_id: &str) -> Option<ProcessRecord> {
        self.inner.get_process(process_id).await.ok().flatten()
    }
}

/// A registry made of `twist` over a fresh `MemoryRegistry` on `clock`.
pub fn wrap<T: Twist>(clock: SharedClock, twist: T) -> Box<dyn ProcessRegistry> {
    let inner = Arc::new(MemoryRegistry::new(clock.clone()));
    Box::new(Wrapped {
        base: Base { inner, clock },
        twist,
    })
}

/// Like [`wrap`], but every registry made this way shares ONE store, made on the first clock.
pub fn wrap_shared<T: Twist>(clock: SharedClock, twist: T) -> Box<dyn ProcessRegistry> {
    static SHARED: OnceLock<Arc<MemoryRegistry>> = OnceLock::new();
    let inner = SHARED
        .get_or_init(|| Arc::new(MemoryRegistry::new(clock.clone())))
        .clone();
    Box::new(Wrapped {
        base: Base { inner, clock },
        twist,
    })
}

/// The twist with no bug: the wrapper itself must pass every law.
pub struct NoBug;

impl Twist for NoBug {}

/// Wrappers with no bug, built from the same scaffolding as the broken ones: they must pass
/// every law, or a "caught" bug might be the scaffolding's.
pub fn controls() -> Vec<Broken> {
    vec![
        Broken {
            name: "control::no_bug",
            bug: "none: every method answers what MemoryRegistry answers",
            make: |clock| wrap(clock, NoBug),
        },
        sessions::CORRECT_DELETION,
    ]
}

/// A type-erased registry a harness can hand out: clones are handles on one store.
#[derive(Clone)]
pub struct DynRegistry(pub Arc<dyn ProcessRegistry>);

impl DynRegistry {
    /// Erases `registry`.
    pub fn new(registry: Box<dyn ProcessRegistry>) -> Self {
        Self(Arc::from(registry))
    }
}

struct Wrapped<T> {
    base: Base,
    twist: T,
}

/// Every method of `ProcessRegistry` but `durability_tier`, given to `$callback` as
/// `name(arg: Type, ...) -> Output;` lines, so the twist trait and the two forwarding impls
/// are written once.
macro_rules! with_registry_methods {
    ($callback:ident) => {
        $callback! {
            register_process(registration: ProcessRegistration) -> ProcessRecord;
            get_process(process_id: &str) -> Option<ProcessRecord>;
            set_external_ref(process_id: &str, external_ref: ProcessExternalRef) -> ProcessRecord;
            append_event(process_id: &str, request: ProcessEventAppendRequest)
                -> ProcessEventAppendResult;
            events_after(process_id: &str, after: u64) -> Vec<ProcessEvent>;
            wake_events_after(process_id: &str, after: u64) -> Vec<ProcessEvent>;
            ack_wake(process_id: &str, sequence: u64) -> ();
            wait_event_after(process_id: &str, event_type: &str, after: u64) -> ProcessEvent;
            complete_process(process_id: &str, output: ProcessAwaitOutput) -> ProcessRecord;
            await_process(process_id: &str) -> ProcessAwaitOutput;
            grant_handle(
                scope: &ProcessScope,
                process_id: &str,
                descriptor: ProcessHandleDescriptor
            ) -> ProcessHandleGrant;
            revoke_handle(scope: &ProcessScope, process_id: &str) -> ();
            list_handle_grants(scope: &ProcessScope) -> Vec<ProcessHandleGrantEntry>;
            list_live_handle_grants(scope: &ProcessScope) -> Vec<ProcessHandleGrantEntry>;
            has_handle_grant(scope: &ProcessScope, process_id: &str) -> bool;
            handle_grants_for_process(process_id: &str) -> Vec<ProcessHandleGrant>;
            transfer_handle_grants(from: &ProcessScope, to: &ProcessScope, process_ids: &[String])
                -> ();
            delete_session_process_state(session_id: &str) -> ProcessSessionDeleteReport;
            claim_process_lease(process_id: &str, owner_id: &str, ttl_ms: u64) -> ProcessLease;
            renew_process_lease(lease: &ProcessLease, ttl_ms: u64) -> ProcessLease;
            complete_process_lease(completion: &ProcessLeaseCompletion) -> ();
            list_non_terminal() -> Vec<ProcessRecord>;
        }
    };
}

macro_rules! twist_trait {
    ($( $method:ident ( $( $arg:ident : $ty:ty ),* ) -> $ret:ty ; )*) => {
        /// One bug: `ProcessRegistry` with the reference registry as an extra argument. Every
        /// method answers what the reference answers unless the twist overrides it.
        #[async_trait]
        pub trait Twist: Send + Sync + 'static {
            /// `durability_tier`; by default the reference's.
            fn durability_tier(&self, base: &Base) -> DurabilityTier {
                base.inner.durability_tier()
            }
            $(
                #[doc = concat!("`", stringify!($method), "`; by default the reference's answer.")]
                async fn $method(&self, base: &Base $(, $arg: $ty)*) -> Result<$ret, PluginError> {
                    base.inner.$method($($arg),*).await
                }
            )*
        }

        #[async_trait]
        impl<T: Twist> ProcessRegistry for Wrapped<T> {
            fn durability_tier(&self) -> DurabilityTier {
                self.twist.durability_tier(&self.base)
            }
            $(
                async fn $method(&self $(, $arg: $ty)*) -> Result<$ret, PluginError> {
                    self.twist.$method(&self.base $(, $arg)*).await
                }
            )*
        }

        #[async_trait]
        impl ProcessRegistry for DynRegistry {
            fn durability_tier(&self) -> DurabilityTier {
                self.0.durability_tier()
            }
            $(
                async fn $method(&self $(, $arg: $ty)*) -> Result<$ret, PluginError> {
                    self.0.$method($($arg),*).await
                }
            )*
        }
    };
}

with_registry_methods!(twist_trait);
