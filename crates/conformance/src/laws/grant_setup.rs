//! Setup shared by the grant, transfer and session laws: register processes, grant scopes, read
//! a scope's grants back as process ids.

use procreg::{ProcessHandleDescriptor, ProcessHandleGrant, ProcessScope};

use super::fixtures::bare;
use crate::ctx::Ctx;
use crate::harness::RegistryHandle;
use crate::law::{LawFailure, LawResult};

/// Owned copies of `ids`, to compare with what a registry lists.
pub(crate) fn strings(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|id| (*id).to_owned()).collect()
}

/// A descriptor labelled `text`.
pub(crate) fn label(text: &str) -> ProcessHandleDescriptor {
    ProcessHandleDescriptor::labelled(text)
}

/// Registers each id (bare registrations).
pub(crate) async fn register(ctx: &Ctx, reg: &RegistryHandle, ids: &[&str]) -> LawResult {
    for id in ids {
        let call = format!("register_process({id})");
        ctx.ok(call, reg.register_process(bare(id))).await?;
    }
    Ok(())
}

/// Grants `scope` on `process_id` with a descriptor labelled `text`.
pub(crate) async fn grant(
    ctx: &Ctx,
    reg: &RegistryHandle,
    scope: &ProcessScope,
    process_id: &str,
    text: &str,
) -> Result<ProcessHandleGrant, LawFailure> {
    let call = format!("grant_handle({}, {process_id}, {text:?})", scope.id());
    ctx.ok(call, reg.grant_handle(scope, process_id, label(text)))
        .await
}

/// The process ids `list_handle_grants(scope)` lists, in its order.
pub(crate) async fn listed(
    ctx: &Ctx,
    reg: &RegistryHandle,
    scope: &ProcessScope,
) -> Result<Vec<String>, LawFailure> {
    let call = format!("list_handle_grants({})", scope.id());
    let entries = ctx.ok(call, reg.list_handle_grants(scope)).await?;
    Ok(entries.into_iter().map(|e| e.grant.process_id).collect())
}

/// Every grant of each of `process_ids` (H6), concatenated: a snapshot of where they are
/// granted, to compare before and after a call that must change nothing.
pub(crate) async fn grants_of(
    ctx: &Ctx,
    reg: &RegistryHandle,
    process_ids: &[&str],
) -> Result<Vec<ProcessHandleGrant>, LawFailure> {
    let mut all = Vec::new();
    for id in process_ids {
        let call = format!("handle_grants_for_process({id})");
        all.extend(ctx.ok(call, reg.handle_grants_for_process(id)).await?);
    }
    Ok(all)
}
