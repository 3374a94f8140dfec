//! Running an [`Op`] against any `ProcessRegistry`: the bridge from calls-as-values (scenario
//! steps, simulated clients, fuzz plans) to a real backend's trait methods.

use procreg::{PluginError, ProcessRegistry};

use crate::op::{Op, OpOutput};

/// Calls the trait method `op` names on `registry` and wraps its result.
///
/// Waits block as the backend's own method does; they never return [`OpOutput::Pending`].
///
/// # Errors
/// Whatever the backend returns.
pub async fn execute_op<R: ProcessRegistry + ?Sized>(
    registry: &R,
    op: &Op,
) -> Result<OpOutput, PluginError> {
    Ok(match op {
        Op::Register { registration } => {
            OpOutput::Record(registry.register_process(registration.clone()).await?)
        }
        Op::GetProcess { process_id } => {
            OpOutput::MaybeRecord(registry.get_process(process_id).await?)
        }
        Op::SetExternalRef {
            process_id,
            external_ref,
        } => OpOutput::Record(
            registry
                .set_external_ref(process_id, external_ref.clone())
                .await?,
        ),
        Op::AppendEvent {
            process_id,
            request,
        } => OpOutput::Append(registry.append_event(process_id, request.clone()).await?),
        Op::EventsAfter {
            process_id,
            after_sequence,
        } => OpOutput::Events(registry.events_after(process_id, *after_sequence).await?),
        Op::WakeEventsAfter {
            process_id,
            after_sequence,
        } => OpOutput::Events(
            registry
                .wake_events_after(process_id, *after_sequence)
                .await?,
        ),
        Op::AckWake {
            process_id,
            sequence,
        } => {
            registry.ack_wake(process_id, *sequence).await?;
            OpOutput::Unit
        }
        Op::WaitEventAfter {
            process_id,
            event_type,
            after_sequence,
        } => OpOutput::Event(
            registry
                .wait_event_after(process_id, event_type, *after_sequence)
                .await?,
        ),
        Op::CompleteProcess { process_id, output } => OpOutput::Record(
            registry
                .complete_process(process_id, output.clone())
                .await?,
        ),
        Op::AwaitProcess { process_id } => {
            OpOutput::AwaitOutput(registry.await_process(process_id).await?)
        }
        Op::GrantHandle {
            scope,
            process_id,
            descriptor,
        } => OpOutput::Grant(
            registry
                .grant_handle(scope, process_id, descriptor.clone())
                .await?,
        ),
        Op::RevokeHandle { scope, process_id } => {
            registry.revoke_handle(scope, process_id).await?;
            OpOutput::Unit
        }
        Op::ListHandleGrants { scope } => {
            OpOutput::GrantEntries(registry.list_handle_grants(scope).await?)
        }
        Op::ListLiveHandleGrants { scope } => {
            OpOutput::GrantEntries(registry.list_live_handle_grants(scope).await?)
        }
        Op::HasHandleGrant { scope, process_id } => {
            OpOutput::Bool(registry.has_handle_grant(scope, process_id).await?)
        }
        Op::HandleGrantsForProcess { process_id } => {
            OpOutput::Grants(registry.handle_grants_for_process(process_id).await?)
        }
        Op::TransferHandleGrants {
            from,
            to,
            process_ids,
        } => {
            registry
                .transfer_handle_grants(from, to, process_ids)
                .await?;
            OpOutput::Unit
        }
        Op::DeleteSession { session_id } => {
            OpOutput::DeleteReport(registry.delete_session_process_state(session_id).await?)
        }
        Op::ClaimLease {
            process_id,
            owner_id,
            lease_ttl_ms,
        } => OpOutput::Lease(
            registry
                .claim_process_lease(process_id, owner_id, *lease_ttl_ms)
                .await?,
        ),
        Op::RenewLease {
            lease,
            lease_ttl_ms,
        } => OpOutput::Lease(registry.renew_process_lease(lease, *lease_ttl_ms).await?),
        Op::CompleteLease { completion } => {
            registry.complete_process_lease(completion).await?;
            OpOutput::Unit
        }
        Op::ListNonTerminal => OpOutput::Records(registry.list_non_terminal().await?),
    })
}
