//! Handle-grant bugs (H1-H7, O1): grants on nothing, descriptors that do not move or do not
//! change, transfers that are not all-or-nothing, lists with the wrong members or order.

use std::collections::BTreeSet;
use std::sync::Mutex;

use async_trait::async_trait;
use procreg::validate::is_blank;
use procreg::{
    PluginError, ProcessHandleDescriptor, ProcessHandleGrant, ProcessHandleGrantEntry, ProcessScope,
};

use super::{Base, Broken, Twist, wrap};
use procreg::ProcessRegistry;

pub const BROKEN: &[Broken] = &[
    Broken {
        name: "grants::grant_on_unknown_process",
        bug: "H1: grant_handle on an unknown process returns a grant instead of UnknownProcess",
        make: |clock| wrap(clock, GrantOnUnknownProcess),
    },
    Broken {
        name: "grants::regrant_keeps_old_descriptor",
        bug: "H1: re-granting is insert-or-ignore, so the old descriptor stays",
        make: |clock| wrap(clock, RegrantKeepsOldDescriptor),
    },
    Broken {
        name: "grants::revoke_of_unknown_process_errs",
        bug: "H2: revoke_handle on an unknown process answers UnknownProcess instead of Ok",
        make: |clock| wrap(clock, RevokeOfUnknownProcessErrs),
    },
    Broken {
        name: "grants::session_list_includes_frames",
        bug: "H3: list_handle_grants of a session scope matches on session id, so it also lists its frames' grants",
        make: |clock| wrap(clock, SessionListIncludesFrames),
    },
    Broken {
        name: "grants::grants_for_process_in_grant_order",
        bug: "H6/O1: handle_grants_for_process is ordered by process id only, so scopes come in grant order",
        make: |clock| wrap(clock, GrantsForProcessInGrantOrder::default()),
    },
    Broken {
        name: "grants::grants_for_process_by_columns",
        bug: "H6/O1: handle_grants_for_process orders by (session id, frame id) columns, not by the scope-id string",
        make: |clock| wrap(clock, GrantsForProcessByColumns),
    },
    Broken {
        name: "grants::partial_transfer",
        bug: "H7: transfer moves id by id and stops at the first missing grant, leaving the ids before it moved",
        make: |clock| wrap(clock, PartialTransfer),
    },
    Broken {
        name: "grants::transfer_drops_descriptor",
        bug: "H7: transferred grants arrive with an empty descriptor",
        make: |clock| wrap(clock, TransferDropsDescriptor),
    },
    Broken {
        name: "grants::transfer_to_same_scope_revokes",
        bug: "H7: transfer upserts into `to` then deletes from `from`, so from == to revokes the grants",
        make: |clock| wrap(clock, TransferToSameScopeRevokes),
    },
    Broken {
        name: "grants::transfer_accepts_duplicate_ids",
        bug: "H7: duplicate ids in a transfer are silently de-duplicated instead of InvalidRequest",
        make: |clock| wrap(clock, TransferAcceptsDuplicateIds),
    },
    Broken {
        name: "grants::has_grant_ignores_frame",
        bug: "H5/M1: an overridden has_handle_grant matches the session id only, so a session scope 'has' its frames' grants",
        make: |clock| wrap(clock, HasGrantIgnoresFrame),
    },
    Broken {
        name: "grants::blank_session_checked_with_is_empty",
        bug: "H1/B1: the grant's session id is checked with is_empty(), so a whitespace-only session is granted",
        make: |clock| wrap(clock, BlankSessionCheckedWithIsEmpty),
    },
    Broken {
        name: "grants::grant_refused_on_terminal",
        bug: "H1: grant_handle on a terminal process answers AlreadyTerminal",
        make: |clock| wrap(clock, GrantRefusedOnTerminal),
    },
    Broken {
        name: "grants::live_list_includes_terminal",
        bug: "H4/M1: an overridden list_live_handle_grants forgets to filter out terminal processes",
        make: |clock| wrap(clock, LiveListIncludesTerminal),
    },
    Broken {
        name: "grants::transfer_skips_ids_already_moved",
        bug: "H7: a transfer skips ids already granted in `to` (made 'idempotent'), so a repeated transfer is Ok, not HandleNotGranted",
        make: |clock| wrap(clock, TransferSkipsIdsAlreadyMoved),
    },
    Broken {
        name: "grants::transfer_of_terminal_not_granted",
        bug: "H7: transfer looks grants up among live ones, so a terminal process's grant is HandleNotGranted",
        make: |clock| wrap(clock, TransferOfTerminalNotGranted),
    },
    Broken {
        name: "grants::frame_id_not_checked",
        bug: "V2/Z3: a grant's frame id is not checked for U+0000 or newline (only its session id is), so it is stored",
        make: |clock| wrap(clock, FrameIdNotChecked),
    },
];

/// The stored grant of exactly `scope` on `process_id`, if any.
fn stored_grant(base: &Base, scope: &ProcessScope, process_id: &str) -> Option<ProcessHandleGrant> {
    let scope_id = scope.normalized().id();
    let grants = base.model().handle_grants_for_process(process_id).ok()?;
    grants.into_iter().find(|g| g.scope.id() == scope_id)
}

struct GrantOnUnknownProcess;

#[async_trait]
impl Twist for GrantOnUnknownProcess {
    async fn grant_handle(
        &self,
        base: &Base,
        scope: &ProcessScope,
        process_id: &str,
        descriptor: ProcessHandleDescriptor,
    ) -> Result<ProcessHandleGrant, PluginError> {
        if base.record(process_id).await.is_none() && !is_blank(&scope.session_id) {
            return Ok(ProcessHandleGrant {
                scope: scope.normalized(),
                process_id: process_id.to_owned(),
                descriptor,
            });
        }
        base.inner.grant_handle(scope, process_id, descriptor).await
    }
}

struct RegrantKeepsOldDescriptor;

#[async_trait]
impl Twist for RegrantKeepsOldDescriptor {
    async fn grant_handle(
        &self,
        base: &Base,
        scope: &ProcessScope,
        process_id: &str,
        descriptor: ProcessHandleDescriptor,
    ) -> Result<ProcessHandleGrant, PluginError> {
        match stored_grant(base, scope, process_id) {
            Some(existing) => Ok(existing),
            None => base.inner.grant_handle(scope, process_id, descriptor).await,
        }
    }
}

struct RevokeOfUnknownProcessErrs;

#[async_trait]
impl Twist for RevokeOfUnknownProcessErrs {
    async fn revoke_handle(
        &self,
        base: &Base,
        scope: &ProcessScope,
        process_id: &str,
    ) -> Result<(), PluginError> {
        if base.record(process_id).await.is_none() {
            return Err(PluginError::unknown_process(process_id));
        }
        base.inner.revoke_handle(scope, process_id).await
    }
}

struct SessionListIncludesFrames;

#[async_trait]
impl Twist for SessionListIncludesFrames {
    async fn list_handle_grants(
        &self,
        base: &Base,
        scope: &ProcessScope,
    ) -> Result<Vec<ProcessHandleGrantEntry>, PluginError> {
        let scope = scope.normalized();
        if scope.agent_frame_id.is_some() {
            return base.inner.list_handle_grants(&scope).await;
        }
        let model = base.model();
        let mut entries = Vec::new();
        for id in model.process_ids() {
            let Some(record) = model.get_process(id) else {
                continue;
            };
            for grant in model.handle_grants_for_process(id)? {
                if grant.scope.session_id == scope.session_id {
                    let record = record.clone();
                    entries.push(ProcessHandleGrantEntry { grant, record });
                }
            }
        }
        Ok(entries)
    }
}

/// (scope id, process id) in the order grants were first made.
#[derive(Default)]
struct GrantsForProcessInGrantOrder {
    order: Mutex<Vec<(String, String)>>,
}

#[async_trait]
impl Twist for GrantsForProcessInGrantOrder {
    async fn grant_handle(
        &self,
        base: &Base,
        scope: &ProcessScope,
        process_id: &str,
        descriptor: ProcessHandleDescriptor,
    ) -> Result<ProcessHandleGrant, PluginError> {
        let grant = base
            .inner
            .grant_handle(scope, process_id, descriptor)
            .await?;
        let key = (grant.scope.id(), grant.process_id.clone());
        let mut order = self.order.lock().unwrap();
        if !order.contains(&key) {
            order.push(key);
        }
        Ok(grant)
    }

    async fn handle_grants_for_process(
        &self,
        base: &Base,
        process_id: &str,
    ) -> Result<Vec<ProcessHandleGrant>, PluginError> {
        let mut grants = base.inner.handle_grants_for_process(process_id).await?;
        let order = self.order.lock().unwrap().clone();
        grants.sort_by_key(|g| {
            let key = (g.scope.id(), g.process_id.clone());
            order.iter().position(|k| *k == key).unwrap_or(usize::MAX)
        });
        Ok(grants)
    }
}

struct GrantsForProcessByColumns;

#[async_trait]
impl Twist for GrantsForProcessByColumns {
    async fn handle_grants_for_process(
        &self,
        base: &Base,
        process_id: &str,
    ) -> Result<Vec<ProcessHandleGrant>, PluginError> {
        let mut grants = base.inner.handle_grants_for_process(process_id).await?;
        grants.sort_by(|a, b| {
            let a = (&a.scope.session_id, &a.scope.agent_frame_id);
            a.cmp(&(&b.scope.session_id, &b.scope.agent_frame_id))
        });
        Ok(grants)
    }
}

struct PartialTransfer;

#[async_trait]
impl Twist for PartialTransfer {
    async fn transfer_handle_grants(
        &self,
        base: &Base,
        from: &ProcessScope,
        to: &ProcessScope,
        process_ids: &[String],
    ) -> Result<(), PluginError> {
        for id in process_ids {
            let one = std::slice::from_ref(id);
            base.inner.transfer_handle_grants(from, to, one).await?;
        }
        Ok(())
    }
}

struct TransferDropsDescriptor;

#[async_trait]
impl Twist for TransferDropsDescriptor {
    async fn transfer_handle_grants(
        &self,
        base: &Base,
        from: &ProcessScope,
        to: &ProcessScope,
        process_ids: &[String],
    ) -> Result<(), PluginError> {
        base.inner
            .transfer_handle_grants(from, to, process_ids)
            .await?;
        if from.normalized().id() != to.normalized().id() {
            for id in process_ids {
                let plain = ProcessHandleDescriptor::default();
                base.inner.grant_handle(to, id, plain).await?;
            }
        }
        Ok(())
    }
}

struct TransferToSameScopeRevokes;

#[async_trait]
impl Twist for TransferToSameScopeRevokes {
    async fn transfer_handle_grants(
        &self,
        base: &Base,
        from: &ProcessScope,
        to: &ProcessScope,
        process_ids: &[String],
    ) -> Result<(), PluginError> {
        base.inner
            .transfer_handle_grants(from, to, process_ids)
            .await?;
        if from.normalized().id() == to.normalized().id() {
            for id in process_ids {
                base.inner.revoke_handle(from, id).await?;
            }
        }
        Ok(())
    }
}

struct TransferAcceptsDuplicateIds;

#[async_trait]
impl Twist for TransferAcceptsDuplicateIds {
    async fn transfer_handle_grants(
        &self,
        base: &Base,
        from: &ProcessScope,
        to: &ProcessScope,
        process_ids: &[String],
    ) -> Result<(), PluginError> {
        let mut seen = BTreeSet::new();
        let unique: Vec<String> = process_ids
            .iter()
            .filter(|id| seen.insert(id.as_str()))
            .cloned()
            .collect();
        base.inner.transfer_handle_grants(from, to, &unique).await
    }
}

struct HasGrantIgnoresFrame;

#[async_trait]
impl Twist for HasGrantIgnoresFrame {
    async fn has_handle_grant(
        &self,
        base: &Base,
        scope: &ProcessScope,
        process_id: &str,
    ) -> Result<bool, PluginError> {
        let grants = base.model().handle_grants_for_process(process_id);
        Ok(grants.is_ok_and(|grants| {
            grants
                .iter()
                .any(|g| g.scope.session_id == scope.session_id)
        }))
    }
}

struct BlankSessionCheckedWithIsEmpty;

#[async_trait]
impl Twist for BlankSessionCheckedWithIsEmpty {
    async fn grant_handle(
        &self,
        base: &Base,
        scope: &ProcessScope,
        process_id: &str,
        descriptor: ProcessHandleDescriptor,
    ) -> Result<ProcessHandleGrant, PluginError> {
        let sid = &scope.session_id;
        if !sid.is_empty() && is_blank(sid) && base.record(process_id).await.is_some() {
            return Ok(ProcessHandleGrant {
                scope: scope.normalized(),
                process_id: process_id.to_owned(),
                descriptor,
            });
        }
        base.inner.grant_handle(scope, process_id, descriptor).await
    }
}

struct GrantRefusedOnTerminal;

#[async_trait]
impl Twist for GrantRefusedOnTerminal {
    async fn grant_handle(
        &self,
        base: &Base,
        scope: &ProcessScope,
        process_id: &str,
        descriptor: ProcessHandleDescriptor,
    ) -> Result<ProcessHandleGrant, PluginError> {
        if base
            .record(process_id)
            .await
            .is_some_and(|r| r.is_terminal())
        {
            return Err(PluginError::AlreadyTerminal {
                process_id: process_id.to_owned(),
            });
        }
        base.inner.grant_handle(scope, process_id, descriptor).await
    }
}

struct LiveListIncludesTerminal;

#[async_trait]
impl Twist for LiveListIncludesTerminal {
    async fn list_live_handle_grants(
        &self,
        base: &Base,
        scope: &ProcessScope,
    ) -> Result<Vec<ProcessHandleGrantEntry>, PluginError> {
        base.inner.list_handle_grants(scope).await
    }
}

struct TransferSkipsIdsAlreadyMoved;

#[async_trait]
impl Twist for TransferSkipsIdsAlreadyMoved {
    async fn transfer_handle_grants(
        &self,
        base: &Base,
        from: &ProcessScope,
        to: &ProcessScope,
        process_ids: &[String],
    ) -> Result<(), PluginError> {
        let mut remaining = Vec::new();
        for id in process_ids {
            let moved =
                stored_grant(base, from, id).is_none() && stored_grant(base, to, id).is_some();
            if !moved {
                remaining.push(id.clone());
            }
        }
        if remaining.is_empty() && !process_ids.is_empty() {
            return Ok(());
        }
        base.inner
            .transfer_handle_grants(from, to, &remaining)
            .await
    }
}

struct TransferOfTerminalNotGranted;

#[async_trait]
impl Twist for TransferOfTerminalNotGranted {
    async fn transfer_handle_grants(
        &self,
        base: &Base,
        from: &ProcessScope,
        to: &ProcessScope,
        process_ids: &[String],
    ) -> Result<(), PluginError> {
        for id in process_ids {
            if base.record(id).await.is_some_and(|r| r.is_terminal()) {
                return Err(PluginError::HandleNotGranted {
                    scope_id: from.normalized().id(),
                    process_id: id.clone(),
                });
            }
        }
        base.inner
            .transfer_handle_grants(from, to, process_ids)
            .await
    }
}

struct FrameIdNotChecked;

#[async_trait]
impl Twist for FrameIdNotChecked {
    async fn grant_handle(
        &self,
        base: &Base,
        scope: &ProcessScope,
        process_id: &str,
        descriptor: ProcessHandleDescriptor,
    ) -> Result<ProcessHandleGrant, PluginError> {
        let forbidden = scope
            .agent_frame_id
            .as_deref()
            .is_some_and(procreg::validate::has_forbidden_char);
        let session_ok = procreg::validate::session_id_problem(&scope.session_id).is_none();
        if forbidden && session_ok && base.record(process_id).await.is_some() {
            return Ok(ProcessHandleGrant {
                scope: scope.normalized(),
                process_id: process_id.to_owned(),
                descriptor,
            });
        }
        base.inner.grant_handle(scope, process_id, descriptor).await
    }
}
