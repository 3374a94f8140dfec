//! `forwarding_impl!`: a wrapper registry's `impl ProcessRegistry`, where the methods it does
//! not change are named once and pass straight to `self.inner`.
//!
//! Why it exists: each broken registry here changes two to four of the 23 methods; spelling
//! out the other twenty in every wrapper would bury the bug it exists to show.

/// `forwarding_impl!(Type; [method, ...]; own items...)` expands to
/// `#[async_trait] impl ProcessRegistry for Type { own items, each named method calling
/// self.inner.method }`. (The forwarded bodies are accumulated token by token, so
/// `async_trait` sees plain `async fn`s, never a nested macro call.)
macro_rules! forwarding_impl {
    (@go $ty:ty; [$($acc:tt)*]; [register_process $(, $rest:ident)*]; $($own:tt)*) => {
        forwarding_impl!(@go $ty; [$($acc)*
        async fn register_process(
            &self,
            registration: procreg::ProcessRegistration,
        ) -> Result<procreg::ProcessRecord, procreg::PluginError> {
            self.inner.register_process(registration).await
        }
        ]; [$($rest),*]; $($own)*);
    };
    (@go $ty:ty; [$($acc:tt)*]; [get_process $(, $rest:ident)*]; $($own:tt)*) => {
        forwarding_impl!(@go $ty; [$($acc)*
        async fn get_process(
            &self,
            process_id: &str,
        ) -> Result<Option<procreg::ProcessRecord>, procreg::PluginError> {
            self.inner.get_process(process_id).await
        }
        ]; [$($rest),*]; $($own)*);
    };
    (@go $ty:ty; [$($acc:tt)*]; [set_external_ref $(, $rest:ident)*]; $($own:tt)*) => {
        forwarding_impl!(@go $ty; [$($acc)*
        async fn set_external_ref(
            &self,
            process_id: &str,
            external_ref: procreg::ProcessExternalRef,
        ) -> Result<procreg::ProcessRecord, procreg::PluginError> {
            self.inner.set_external_ref(process_id, external_ref).await
        }
        ]; [$($rest),*]; $($own)*);
    };
    (@go $ty:ty; [$($acc:tt)*]; [append_event $(, $rest:ident)*]; $($own:tt)*) => {
        forwarding_impl!(@go $ty; [$($acc)*
        async fn append_event(
            &self,
            process_id: &str,
            request: procreg::ProcessEventAppendRequest,
        ) -> Result<procreg::ProcessEventAppendResult, procreg::PluginError> {
            self.inner.append_event(process_id, request).await
        }
        ]; [$($rest),*]; $($own)*);
    };
    (@go $ty:ty; [$($acc:tt)*]; [events_after $(, $rest:ident)*]; $($own:tt)*) => {
        forwarding_impl!(@go $ty; [$($acc)*
        async fn events_after(
            &self,
            process_id: &str,
            after_sequence: u64,
        ) -> Result<Vec<procreg::ProcessEvent>, procreg::PluginError> {
            self.inner.events_after(process_id, after_sequence).await
        }
        ]; [$($rest),*]; $($own)*);
    };
    (@go $ty:ty; [$($acc:tt)*]; [wake_events_after $(, $rest:ident)*]; $($own:tt)*) => {
        forwarding_impl!(@go $ty; [$($acc)*
        async fn wake_events_after(
            &self,
            process_id: &str,
            after_sequence: u64,
        ) -> Result<Vec<procreg::ProcessEvent>, procreg::PluginError> {
            self.inner.wake_events_after(process_id, after_sequence).await
        }
        ]; [$($rest),*]; $($own)*);
    };
    (@go $ty:ty; [$($acc:tt)*]; [ack_wake $(, $rest:ident)*]; $($own:tt)*) => {
        forwarding_impl!(@go $ty; [$($acc)*
        async fn ack_wake(
            &self,
            process_id: &str,
            sequence: u64,
        ) -> Result<(), procreg::PluginError> {
            self.inner.ack_wake(process_id, sequence).await
        }
        ]; [$($rest),*]; $($own)*);
    };
    (@go $ty:ty; [$($acc:tt)*]; [wait_event_after $(, $rest:ident)*]; $($own:tt)*) => {
        forwarding_impl!(@go $ty; [$($acc)*
        async fn wait_event_after(
            &self,
            process_id: &str,
            event_type: &str,
            after_sequence: u64,
        ) -> Result<procreg::ProcessEvent, procreg::PluginError> {
            self.inner
                .wait_event_after(process_id, event_type, after_sequence)
                .await
        }
        ]; [$($rest),*]; $($own)*);
    };
    (@go $ty:ty; [$($acc:tt)*]; [complete_process $(, $rest:ident)*]; $($own:tt)*) => {
        forwarding_impl!(@go $ty; [$($acc)*
        async fn complete_process(
            &self,
            process_id: &str,
            output: procreg::ProcessAwaitOutput,
        ) -> Result<procreg::ProcessRecord, procreg::PluginError> {
            self.inner.complete_process(process_id, output).await
        }
        ]; [$($rest),*]; $($own)*);
    };
    (@go $ty:ty; [$($acc:tt)*]; [await_process $(, $rest:ident)*]; $($own:tt)*) => {
        forwarding_impl!(@go $ty; [$($acc)*
        async fn await_process(
            &self,
            process_id: &str,
        ) -> Result<procreg::ProcessAwaitOutput, procreg::PluginError> {
            self.inner.await_process(process_id).await
        }
        ]; [$($rest),*]; $($own)*);
    };
    (@go $ty:ty; [$($acc:tt)*]; [grant_handle $(, $rest:ident)*]; $($own:tt)*) => {
        forwarding_impl!(@go $ty; [$($acc)*
        async fn grant_handle(
            &self,
            scope: &procreg::ProcessScope,
            process_id: &str,
            descriptor: procreg::ProcessHandleDescriptor,
        ) -> Result<procreg::ProcessHandleGrant, procreg::PluginError> {
            self.inner.grant_handle(scope, process_id, descriptor).await
        }
        ]; [$($rest),*]; $($own)*);
    };
    (@go $ty:ty; [$($acc:tt)*]; [revoke_handle $(, $rest:ident)*]; $($own:tt)*) => {
        forwarding_impl!(@go $ty; [$($acc)*
        async fn revoke_handle(
            &self,
            scope: &procreg::ProcessScope,
            process_id: &str,
        ) -> Result<(), procreg::PluginError> {
            self.inner.revoke_handle(scope, process_id).await
        }
        ]; [$($rest),*]; $($own)*);
    };
    (@go $ty:ty; [$($acc:tt)*]; [list_handle_grants $(, $rest:ident)*]; $($own:tt)*) => {
        forwarding_impl!(@go $ty; [$($acc)*
        async fn list_handle_grants(
            &self,
            scope: &procreg::ProcessScope,
        ) -> Result<Vec<procreg::ProcessHandleGrantEntry>, procreg::PluginError> {
            self.inner.list_handle_grants(scope).await
        }
        ]; [$($rest),*]; $($own)*);
    };
    (@go $ty:ty; [$($acc:tt)*]; [handle_grants_for_process $(, $rest:ident)*]; $($own:tt)*) => {
        forwarding_impl!(@go $ty; [$($acc)*
        async fn handle_grants_for_process(
            &self,
            process_id: &str,
        ) -> Result<Vec<procreg::ProcessHandleGrant>, procreg::PluginError> {
            self.inner.handle_grants_for_process(process_id).await
        }
        ]; [$($rest),*]; $($own)*);
    };
    (@go $ty:ty; [$($acc:tt)*]; [transfer_handle_grants $(, $rest:ident)*]; $($own:tt)*) => {
        forwarding_impl!(@go $ty; [$($acc)*
        async fn transfer_handle_grants(
            &self,
            from: &procreg::ProcessScope,
            to: &procreg::ProcessScope,
            process_ids: &[String],
        ) -> Result<(), procreg::PluginError> {
            self.inner
                .transfer_handle_grants(from, to, process_ids)
                .await
        }
        ]; [$($rest),*]; $($own)*);
    };
    (@go $ty:ty; [$($acc:tt)*]; [delete_session_process_state $(, $rest:ident)*]; $($own:tt)*) => {
        forwarding_impl!(@go $ty; [$($acc)*
        async fn delete_session_process_state(
            &self,
            session_id: &str,
        ) -> Result<procreg::ProcessSessionDeleteReport, procreg::PluginError> {
            self.inner.delete_session_process_state(session_id).await
        }
        ]; [$($rest),*]; $($own)*);
    };
    (@go $ty:ty; [$($acc:tt)*]; [claim_process_lease $(, $rest:ident)*]; $($own:tt)*) => {
        forwarding_impl!(@go $ty; [$($acc)*
        async fn claim_process_lease(
            &self,
            process_id: &str,
            owner_id: &str,
            lease_ttl_ms: u64,
        ) -> Result<procreg::ProcessLease, procreg::PluginError> {
            self.inner
                .claim_process_lease(process_id, owner_id, lease_ttl_ms)
                .await
        }
        ]; [$($rest),*]; $($own)*);
    };
    (@go $ty:ty; [$($acc:tt)*]; [renew_process_lease $(, $rest:ident)*]; $($own:tt)*) => {
        forwarding_impl!(@go $ty; [$($acc)*
        async fn renew_process_lease(
            &self,
            lease: &procreg::ProcessLease,
            lease_ttl_ms: u64,
        ) -> Result<procreg::ProcessLease, procreg::PluginError> {
            self.inner.renew_process_lease(lease, lease_ttl_ms).await
        }
        ]; [$($rest),*]; $($own)*);
    };
    (@go $ty:ty; [$($acc:tt)*]; [complete_process_lease $(, $rest:ident)*]; $($own:tt)*) => {
        forwarding_impl!(@go $ty; [$($acc)*
        async fn complete_process_lease(
            &self,
            completion: &procreg::ProcessLeaseCompletion,
        ) -> Result<(), procreg::PluginError> {
            self.inner.complete_process_lease(completion).await
        }
        ]; [$($rest),*]; $($own)*);
    };
    (@go $ty:ty; [$($acc:tt)*]; [list_non_terminal $(, $rest:ident)*]; $($own:tt)*) => {
        forwarding_impl!(@go $ty; [$($acc)*
        async fn list_non_terminal(
            &self,
        ) -> Result<Vec<procreg::ProcessRecord>, procreg::PluginError> {
            self.inner.list_non_terminal().await
        }
        ]; [$($rest),*]; $($own)*);
    };
    (@go $ty:ty; [$($acc:tt)*]; []; $($own:tt)*) => {
        #[async_trait::async_trait]
        impl procreg::ProcessRegistry for $ty {
            $($acc)*
            $($own)*
        }
    };
    ($ty:ty; [$($method:ident),+ $(,)?]; $($own:tt)*) => {
        forwarding_impl!(@go $ty; []; [$($method),+]; $($own)*);
    };
}

pub(crate) use forwarding_impl;
