//! [`delegate_process_registry!`](crate::delegate_process_registry): how a registry that wraps
//! an [`Engine`](super::Engine) implements `ProcessRegistry` without repeating it.

/// Implements `procreg::ProcessRegistry` for `$registry` by forwarding every method to its
/// field `$engine` (an [`Engine`](crate::engine::Engine) or anything implementing the trait).
/// A generic wrapper lists its generics first: `delegate_process_registry!([S: Storage]
/// FileRegistry<S>, engine)`.
///
/// ```
/// use procreg::{ManualClock, ProcessRegistry};
/// use procreg_reference::{Engine, Model, NoJournal};
///
/// struct MyRegistry {
///     engine: Engine<NoJournal>,
/// }
/// procreg_reference::delegate_process_registry!(MyRegistry, engine);
///
/// let clock = std::sync::Arc::new(ManualClock::new(0));
/// let registry = MyRegistry { engine: Engine::new(Model::new(), NoJournal, clock) };
/// assert_eq!(registry.durability_tier(), procreg::DurabilityTier::Inline);
/// ```
#[macro_export]
macro_rules! delegate_process_registry {
    ([$($generics:tt)*] $registry:ty, $engine:ident) => {
        const _: () = {
            #[allow(unused_imports)]
            use $crate::engine::__private::procreg::*;

            $crate::__delegate_impl! {
                    [$($generics)*] $registry, $engine;
                    register_process(registration: ProcessRegistration) -> ProcessRecord;
                    get_process(process_id: &str) -> Option<ProcessRecord>;
                    set_external_ref(process_id: &str, external_ref: ProcessExternalRef)
                        -> ProcessRecord;
                    append_event(process_id: &str, request: ProcessEventAppendRequest)
                        -> ProcessEventAppendResult;
                    events_after(process_id: &str, after_sequence: u64) -> Vec<ProcessEvent>;
                    wake_events_after(process_id: &str, after_sequence: u64) -> Vec<ProcessEvent>;
                    ack_wake(process_id: &str, sequence: u64) -> ();
                    wait_event_after(process_id: &str, event_type: &str, after_sequence: u64)
                        -> ProcessEvent;
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
                    transfer_handle_grants(
                        from: &ProcessScope,
                        to: &ProcessScope,
                        process_ids: &[String]
                    ) -> ();
                    delete_session_process_state(session_id: &str) -> ProcessSessionDeleteReport;
                    claim_process_lease(process_id: &str, owner_id: &str, lease_ttl_ms: u64)
                        -> ProcessLease;
                    renew_process_lease(lease: &ProcessLease, lease_ttl_ms: u64) -> ProcessLease;
                    complete_process_lease(completion: &ProcessLeaseCompletion) -> ();
                    list_non_terminal() -> Vec<ProcessRecord>;
            }
        };
    };
    ($registry:ty, $engine:ident) => {
        $crate::delegate_process_registry!([] $registry, $engine);
    };
}

/// Internal to [`delegate_process_registry!`]: the impl with one forwarding async method per
/// line (expanded whole, so `async_trait` sees every method).
#[doc(hidden)]
#[macro_export]
macro_rules! __delegate_impl {
    (
        [$($generics:tt)*] $registry:ty, $engine:ident;
        $( $method:ident ( $( $arg:ident : $argty:ty ),* ) -> $ret:ty ; )*
    ) => {
        #[$crate::engine::__private::async_trait]
        impl<$($generics)*> ProcessRegistry for $registry {
            fn durability_tier(&self) -> DurabilityTier {
                ProcessRegistry::durability_tier(&self.$engine)
            }
            $(
                async fn $method(&self $(, $arg: $argty)*) -> Result<$ret, PluginError> {
                    ProcessRegistry::$method(&self.$engine $(, $arg)*).await
                }
            )*
        }
    };
}

/// Paths the exported macros expand to; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use async_trait::async_trait;
    pub use procreg;
}
