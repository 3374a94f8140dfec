//! Record and worklist bugs (R4-R7, X2-X3, N1, O1, D1): conflicts that are not reported,
//! records touched by calls that must not touch them, worklists in the wrong order or with the
//! wrong members, a lying durability tier, and a "fresh" registry that is not.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use async_trait::async_trait;
use procreg::{
    DurabilityTier, ErrorKind, PluginError, ProcessExternalRef, ProcessHandleDescriptor,
    ProcessHandleGrant, ProcessRecord, ProcessRegistration, ProcessScope,
};

use super::{Base, Broken, NoBug, Twist, wrap, wrap_shared};
use procreg::ProcessRegistry;

pub const BROKEN: &[Broken] = &[
    Broken {
        name: "records::conflicting_registration_returns_existing",
        bug: "R5: registering an existing id with a different registration returns the existing record instead of RegistrationConflict",
        make: |clock| wrap(clock, ConflictingRegistrationReturnsExisting),
    },
    Broken {
        name: "records::reregister_touches_updated_at",
        bug: "R4/R7: an idempotent re-registration returns the record with updated_at_ms = now",
        make: |clock| wrap(clock, ReregisterTouchesUpdatedAt),
    },
    Broken {
        name: "records::external_ref_overwrites",
        bug: "X3: set_external_ref with a different ref overwrites the stored one instead of ExternalRefConflict",
        make: |clock| wrap(clock, ExternalRefOverwrites::default()),
    },
    Broken {
        name: "records::equal_ref_touches_updated_at",
        bug: "X2/R7: assigning the equal external ref again sets updated_at_ms = now",
        make: |clock| wrap(clock, EqualRefTouchesUpdatedAt::default()),
    },
    Broken {
        name: "records::grant_touches_updated_at",
        bug: "R7/H8: grant_handle sets the process record's updated_at_ms",
        make: |clock| wrap(clock, GrantTouchesUpdatedAt::default()),
    },
    Broken {
        name: "records::worklist_includes_terminal",
        bug: "N1: list_non_terminal lists every record, terminal ones included",
        make: |clock| wrap(clock, WorklistIncludesTerminal),
    },
    Broken {
        name: "records::worklist_in_registration_order",
        bug: "N1/O1: list_non_terminal lists records in registration order, not by id bytes",
        make: |clock| wrap(clock, WorklistInRegistrationOrder::default()),
    },
    Broken {
        name: "records::claims_durable",
        bug: "D1: an in-memory store reports durability_tier() = Durable",
        make: |clock| wrap(clock, ClaimsDurable),
    },
    Broken {
        name: "records::memory_store_claims_durable",
        bug: "D1/D2: an in-memory store reports Durable (and its harness believes it), so a crash and reopen loses everything",
        make: |clock| wrap(clock, ClaimsDurable),
    },
    Broken {
        name: "records::new_record_not_yet_updated",
        bug: "R3: a new record has updated_at_ms = 0 (a nullable column) until something updates it",
        make: |clock| wrap(clock, NewRecordNotYetUpdated::default()),
    },
    Broken {
        name: "records::reregister_terminal_is_already_terminal",
        bug: "R4: re-registering a terminal process with the same registration answers AlreadyTerminal",
        make: |clock| wrap(clock, ReregisterTerminalIsAlreadyTerminal),
    },
    Broken {
        name: "records::external_ref_on_unknown_is_conflict",
        bug: "X1: set_external_ref reads 'no row updated' as a conflict, so an unknown id answers ExternalRefConflict",
        make: |clock| wrap(clock, ExternalRefOnUnknownIsConflict),
    },
    Broken {
        name: "records::ref_refused_on_terminal",
        bug: "X1: set_external_ref on a terminal process answers AlreadyTerminal",
        make: |clock| wrap(clock, RefRefusedOnTerminal),
    },
    Broken {
        name: "records::null_metadata_kept",
        bug: "J1/X2: external-ref metadata Some(null) is stored and returned as is instead of normalized to None",
        make: |clock| wrap(clock, NullMetadataKept::default()),
    },
    Broken {
        name: "records::ids_compared_case_insensitively",
        bug: "R6/O1: get_process looks ids up under a case-insensitive collation, so `P1` finds `p1`",
        make: |clock| wrap(clock, IdsComparedCaseInsensitively),
    },
    Broken {
        name: "records::fresh_instances_share_state",
        bug: "R6: every 'fresh' registry opens the same static store (the label prefix is ignored)",
        make: |clock| wrap_shared(clock, NoBug),
    },
];

/// `updated_at_ms` values written over the reference's, by process id.
#[derive(Default)]
struct Touches {
    at: Mutex<BTreeMap<String, u64>>,
}

impl Touches {
    fn touch(&self, process_id: &str, now_ms: u64) {
        self.at
            .lock()
            .unwrap()
            .insert(process_id.to_owned(), now_ms);
    }

    fn patch(&self, mut record: ProcessRecord) -> ProcessRecord {
        if let Some(at) = self.at.lock().unwrap().get(&record.id) {
            record.updated_at_ms = record.updated_at_ms.max(*at);
        }
        record
    }

    async fn get(&self, base: &Base, id: &str) -> Result<Option<ProcessRecord>, PluginError> {
        Ok(base.inner.get_process(id).await?.map(|r| self.patch(r)))
    }
}

struct ConflictingRegistrationReturnsExisting;

#[async_trait]
impl Twist for ConflictingRegistrationReturnsExisting {
    async fn register_process(
        &self,
        base: &Base,
        registration: ProcessRegistration,
    ) -> Result<ProcessRecord, PluginError> {
        let id = registration.id.clone();
        match base.inner.register_process(registration).await {
            Err(e) if e.kind() == ErrorKind::RegistrationConflict => {
                base.record(&id).await.ok_or(e)
            }
            other => other,
        }
    }
}

struct ReregisterTouchesUpdatedAt;

#[async_trait]
impl Twist for ReregisterTouchesUpdatedAt {
    async fn register_process(
        &self,
        base: &Base,
        registration: ProcessRegistration,
    ) -> Result<ProcessRecord, PluginError> {
        let mut record = base.inner.register_process(registration).await?;
        record.updated_at_ms = base.now();
        Ok(record)
    }
}

/// Refs written over the reference's by assignments it refused.
#[derive(Default)]
struct ExternalRefOverwrites {
    refs: Mutex<BTreeMap<String, ProcessExternalRef>>,
}

impl ExternalRefOverwrites {
    fn patch(&self, mut record: ProcessRecord) -> ProcessRecord {
        if let Some(external_ref) = self.refs.lock().unwrap().get(&record.id) {
            record.external_ref = Some(external_ref.clone());
        }
        record
    }
}

#[async_trait]
impl Twist for ExternalRefOverwrites {
    async fn set_external_ref(
        &self,
        base: &Base,
        process_id: &str,
        external_ref: ProcessExternalRef,
    ) -> Result<ProcessRecord, PluginError> {
        let answer = base
            .inner
            .set_external_ref(process_id, external_ref.clone())
            .await;
        match answer {
            Err(e) if e.kind() == ErrorKind::ExternalRefConflict => {
                let stored = external_ref;
                self.refs
                    .lock()
                    .unwrap()
                    .insert(process_id.to_owned(), stored);
                let record = base.record(process_id).await.ok_or(e)?;
                Ok(self.patch(record))
            }
            other => other.map(|r| self.patch(r)),
        }
    }

    async fn get_process(
        &self,
        base: &Base,
        process_id: &str,
    ) -> Result<Option<ProcessRecord>, PluginError> {
        Ok(base
            .inner
            .get_process(process_id)
            .await?
            .map(|r| self.patch(r)))
    }
}

#[derive(Default)]
struct EqualRefTouchesUpdatedAt {
    touches: Touches,
}

#[async_trait]
impl Twist for EqualRefTouchesUpdatedAt {
    async fn set_external_ref(
        &self,
        base: &Base,
        process_id: &str,
        external_ref: ProcessExternalRef,
    ) -> Result<ProcessRecord, PluginError> {
        let record = base
            .inner
            .set_external_ref(process_id, external_ref)
            .await?;
        self.touches.touch(process_id, base.now());
        Ok(self.touches.patch(record))
    }

    async fn get_process(
        &self,
        base: &Base,
        process_id: &str,
    ) -> Result<Option<ProcessRecord>, PluginError> {
        self.touches.get(base, process_id).await
    }
}

#[derive(Default)]
struct GrantTouchesUpdatedAt {
    touches: Touches,
}

#[async_trait]
impl Twist for GrantTouchesUpdatedAt {
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
        self.touches.touch(process_id, base.now());
        Ok(grant)
    }

    async fn get_process(
        &self,
        base: &Base,
        process_id: &str,
    ) -> Result<Option<ProcessRecord>, PluginError> {
        self.touches.get(base, process_id).await
    }
}

struct WorklistIncludesTerminal;

#[async_trait]
impl Twist for WorklistIncludesTerminal {
    async fn list_non_terminal(&self, base: &Base) -> Result<Vec<ProcessRecord>, PluginError> {
        let model = base.model();
        Ok(model
            .process_ids()
            .filter_map(|id| model.get_process(id))
            .collect())
    }
}

/// Ids in the order they were first registered.
#[derive(Default)]
struct WorklistInRegistrationOrder {
    order: Mutex<Vec<String>>,
}

#[async_trait]
impl Twist for WorklistInRegistrationOrder {
    async fn register_process(
        &self,
        base: &Base,
        registration: ProcessRegistration,
    ) -> Result<ProcessRecord, PluginError> {
        let record = base.inner.register_process(registration).await?;
        let mut order = self.order.lock().unwrap();
        if !order.contains(&record.id) {
            order.push(record.id.clone());
        }
        Ok(record)
    }

    async fn list_non_terminal(&self, base: &Base) -> Result<Vec<ProcessRecord>, PluginError> {
        let mut records = base.inner.list_non_terminal().await?;
        let order = self.order.lock().unwrap().clone();
        records.sort_by_key(|r| order.iter().position(|id| *id == r.id));
        Ok(records)
    }
}

/// Rows whose harness declares the registry Durable with crash-and-reopen, and whether its
/// reopen keeps the store (false: the reopened registry is a new, empty one).
pub const DECLARED_DURABLE: &[(&str, bool)] = &[("records::memory_store_claims_durable", false)];

struct ClaimsDurable;

impl Twist for ClaimsDurable {
    fn durability_tier(&self, _base: &Base) -> DurabilityTier {
        DurabilityTier::Durable
    }
}

/// Ids whose record something has updated since registration.
#[derive(Default)]
struct NewRecordNotYetUpdated {
    updated: Mutex<BTreeSet<String>>,
}

impl NewRecordNotYetUpdated {
    fn patch(&self, mut record: ProcessRecord) -> ProcessRecord {
        if !self.updated.lock().unwrap().contains(&record.id) {
            record.updated_at_ms = 0;
        }
        record
    }

    fn mark(&self, record: &ProcessRecord) {
        if record.updated_at_ms != record.created_at_ms {
            self.updated.lock().unwrap().insert(record.id.clone());
        }
    }
}

#[async_trait]
impl Twist for NewRecordNotYetUpdated {
    async fn register_process(
        &self,
        base: &Base,
        registration: ProcessRegistration,
    ) -> Result<ProcessRecord, PluginError> {
        let record = base.inner.register_process(registration).await?;
        self.mark(&record);
        Ok(self.patch(record))
    }

    async fn get_process(
        &self,
        base: &Base,
        process_id: &str,
    ) -> Result<Option<ProcessRecord>, PluginError> {
        let record = base.inner.get_process(process_id).await?;
        record.iter().for_each(|r| self.mark(r));
        Ok(record.map(|r| self.patch(r)))
    }
}

struct ReregisterTerminalIsAlreadyTerminal;

#[async_trait]
impl Twist for ReregisterTerminalIsAlreadyTerminal {
    async fn register_process(
        &self,
        base: &Base,
        registration: ProcessRegistration,
    ) -> Result<ProcessRecord, PluginError> {
        let id = registration.id.clone();
        let existed = base.record(&id).await.is_some();
        let record = base.inner.register_process(registration).await?;
        if existed && record.is_terminal() {
            return Err(PluginError::AlreadyTerminal { process_id: id });
        }
        Ok(record)
    }
}

struct ExternalRefOnUnknownIsConflict;

#[async_trait]
impl Twist for ExternalRefOnUnknownIsConflict {
    async fn set_external_ref(
        &self,
        base: &Base,
        process_id: &str,
        external_ref: ProcessExternalRef,
    ) -> Result<ProcessRecord, PluginError> {
        match base.inner.set_external_ref(process_id, external_ref).await {
            Err(e) if e.kind() == ErrorKind::UnknownProcess => {
                Err(PluginError::ExternalRefConflict {
                    process_id: process_id.to_owned(),
                })
            }
            other => other,
        }
    }
}

struct RefRefusedOnTerminal;

#[async_trait]
impl Twist for RefRefusedOnTerminal {
    async fn set_external_ref(
        &self,
        base: &Base,
        process_id: &str,
        external_ref: ProcessExternalRef,
    ) -> Result<ProcessRecord, PluginError> {
        if base
            .record(process_id)
            .await
            .is_some_and(|r| r.is_terminal())
        {
            return Err(PluginError::AlreadyTerminal {
                process_id: process_id.to_owned(),
            });
        }
        base.inner.set_external_ref(process_id, external_ref).await
    }
}

/// Processes whose ref was given with metadata `Some(null)`.
#[derive(Default)]
struct NullMetadataKept {
    null_metadata: Mutex<BTreeSet<String>>,
}

impl NullMetadataKept {
    fn patch(&self, mut record: ProcessRecord) -> ProcessRecord {
        if self.null_metadata.lock().unwrap().contains(&record.id)
            && let Some(external_ref) = record.external_ref.as_mut()
        {
            external_ref.metadata = Some(serde_json::Value::Null);
        }
        record
    }
}

#[async_trait]
impl Twist for NullMetadataKept {
    async fn set_external_ref(
        &self,
        base: &Base,
        process_id: &str,
        external_ref: ProcessExternalRef,
    ) -> Result<ProcessRecord, PluginError> {
        let null = external_ref.metadata == Some(serde_json::Value::Null);
        let first = base
            .record(process_id)
            .await
            .is_some_and(|r| r.external_ref.is_none());
        let record = base
            .inner
            .set_external_ref(process_id, external_ref)
            .await?;
        if null && first {
            self.null_metadata
                .lock()
                .unwrap()
                .insert(process_id.to_owned());
        }
        Ok(self.patch(record))
    }

    async fn get_process(
        &self,
        base: &Base,
        process_id: &str,
    ) -> Result<Option<ProcessRecord>, PluginError> {
        Ok(base
            .inner
            .get_process(process_id)
            .await?
            .map(|r| self.patch(r)))
    }
}

struct IdsComparedCaseInsensitively;

#[async_trait]
impl Twist for IdsComparedCaseInsensitively {
    async fn get_process(
        &self,
        base: &Base,
        process_id: &str,
    ) -> Result<Option<ProcessRecord>, PluginError> {
        if let Some(record) = base.inner.get_process(process_id).await? {
            return Ok(Some(record));
        }
        let model = base.model();
        let folded = model
            .process_ids()
            .find(|id| id.to_lowercase() == process_id.to_lowercase())
            .map(str::to_owned);
        Ok(folded.and_then(|id| model.get_process(&id)))
    }
}
