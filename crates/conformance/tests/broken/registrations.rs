//! Registration bugs (R1, R2, R5, B1, J1, P1): validation that is too weak or in the wrong
//! order, normalization that is wrong or missing, ids and inputs not stored verbatim.

use std::collections::BTreeMap;

use async_trait::async_trait;
use procreg::canonical::hash;
use procreg::validate::is_blank;
use procreg::{
    ErrorKind, PluginError, ProcessEventType, ProcessRecord, ProcessRegistration, ProcessRegistry,
    WakeDedupeKey,
};
use serde_json::Value;

use super::{Base, Broken, Twist, wrap};

pub const BROKEN: &[Broken] = &[
    Broken {
        name: "registrations::hash_of_registration_as_given",
        bug: "R2: registration_hash is the hash of the registration as given, not of the normalized one",
        make: |clock| wrap(clock, HashOfRegistrationAsGiven),
    },
    Broken {
        name: "registrations::forbidden_characters_replaced",
        bug: "R1/V2: NUL and newline in ids, names and keys of a registration are replaced by `?` instead of rejected",
        make: |clock| wrap(clock, ForbiddenCharactersReplaced),
    },
    Broken {
        name: "registrations::blank_host_checked_with_is_empty",
        bug: "R1/B1: the host profile id is checked with is_empty(), so a whitespace-only host is accepted",
        make: |clock| wrap(clock, BlankHostCheckedWithIsEmpty),
    },
    Broken {
        name: "registrations::event_types_sorted_by_name",
        bug: "R2: event types are kept in a map by name, so the record lists them sorted, not declared-then-core",
        make: |clock| wrap(clock, EventTypesSortedByName),
    },
    Broken {
        name: "registrations::ids_trimmed",
        bug: "B1: process ids are trimmed before they are stored",
        make: |clock| wrap(clock, IdsTrimmed),
    },
    Broken {
        name: "registrations::conflict_checked_before_validation",
        bug: "P1/R1: an invalid registration of an existing id answers RegistrationConflict, not InvalidRegistration",
        make: |clock| wrap(clock, ConflictCheckedBeforeValidation),
    },
    Broken {
        name: "registrations::duplicate_types_collapsed",
        bug: "R1: duplicate event type names are collapsed (the last wins) instead of InvalidRegistration",
        make: |clock| wrap(clock, DuplicateTypesCollapsed),
    },
    Broken {
        name: "registrations::input_floats_normalized",
        bug: "J1: integral floats in the registration input are stored as integers (1.0 becomes 1)",
        make: |clock| wrap(clock, InputFloatsNormalized),
    },
];

struct HashOfRegistrationAsGiven;

#[async_trait]
impl Twist for HashOfRegistrationAsGiven {
    async fn register_process(
        &self,
        base: &Base,
        registration: ProcessRegistration,
    ) -> Result<ProcessRecord, PluginError> {
        let as_given = hash(&registration);
        let mut record = base.inner.register_process(registration).await?;
        record.registration_hash = as_given;
        Ok(record)
    }
}

struct ForbiddenCharactersReplaced;

fn replace_forbidden(text: &mut String) {
    *text = text.replace(['\0', '\n'], "?");
}

#[async_trait]
impl Twist for ForbiddenCharactersReplaced {
    async fn register_process(
        &self,
        base: &Base,
        mut registration: ProcessRegistration,
    ) -> Result<ProcessRecord, PluginError> {
        replace_forbidden(&mut registration.id);
        replace_forbidden(&mut registration.provenance.owner_scope.session_id);
        replace_forbidden(&mut registration.provenance.host_profile_id);
        for event_type in &mut registration.event_types {
            replace_forbidden(&mut event_type.name);
            if let Some(wake) = event_type.wake.as_mut()
                && let WakeDedupeKey::Const(key) = &mut wake.dedupe_key
            {
                replace_forbidden(key);
            }
        }
        base.inner.register_process(registration).await
    }
}

const PLACEHOLDER_HOST: &str = "_";

struct BlankHostCheckedWithIsEmpty;

#[async_trait]
impl Twist for BlankHostCheckedWithIsEmpty {
    async fn register_process(
        &self,
        base: &Base,
        mut registration: ProcessRegistration,
    ) -> Result<ProcessRecord, PluginError> {
        let host = registration.provenance.host_profile_id.clone();
        if host.is_empty() || !is_blank(&host) {
            return base.inner.register_process(registration).await;
        }
        registration.provenance.host_profile_id = PLACEHOLDER_HOST.to_owned();
        let mut record = base.inner.register_process(registration).await?;
        record.provenance.host_profile_id = host;
        Ok(record)
    }
}

fn sorted_types(mut record: ProcessRecord) -> ProcessRecord {
    record.event_types.sort_by(|a, b| a.name.cmp(&b.name));
    record
}

struct EventTypesSortedByName;

#[async_trait]
impl Twist for EventTypesSortedByName {
    async fn register_process(
        &self,
        base: &Base,
        registration: ProcessRegistration,
    ) -> Result<ProcessRecord, PluginError> {
        Ok(sorted_types(
            base.inner.register_process(registration).await?,
        ))
    }

    async fn get_process(
        &self,
        base: &Base,
        process_id: &str,
    ) -> Result<Option<ProcessRecord>, PluginError> {
        Ok(base.inner.get_process(process_id).await?.map(sorted_types))
    }
}

struct IdsTrimmed;

#[async_trait]
impl Twist for IdsTrimmed {
    async fn register_process(
        &self,
        base: &Base,
        mut registration: ProcessRegistration,
    ) -> Result<ProcessRecord, PluginError> {
        registration.id = registration.id.trim().to_owned();
        base.inner.register_process(registration).await
    }
}

struct ConflictCheckedBeforeValidation;

#[async_trait]
impl Twist for ConflictCheckedBeforeValidation {
    async fn register_process(
        &self,
        base: &Base,
        registration: ProcessRegistration,
    ) -> Result<ProcessRecord, PluginError> {
        let id = registration.id.clone();
        match base.inner.register_process(registration).await {
            Err(e) if e.kind() == ErrorKind::InvalidRegistration => match base.record(&id).await {
                Some(_) => Err(PluginError::RegistrationConflict { process_id: id }),
                None => Err(e),
            },
            other => other,
        }
    }
}

struct DuplicateTypesCollapsed;

#[async_trait]
impl Twist for DuplicateTypesCollapsed {
    async fn register_process(
        &self,
        base: &Base,
        mut registration: ProcessRegistration,
    ) -> Result<ProcessRecord, PluginError> {
        let mut by_name: BTreeMap<String, ProcessEventType> = BTreeMap::new();
        let mut order = Vec::new();
        for event_type in registration.event_types {
            if !by_name.contains_key(&event_type.name) {
                order.push(event_type.name.clone());
            }
            by_name.insert(event_type.name.clone(), event_type);
        }
        registration.event_types = order
            .into_iter()
            .filter_map(|name| by_name.remove(&name))
            .collect();
        base.inner.register_process(registration).await
    }
}

fn integral_floats_to_ints(value: Value) -> Value {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => Value::from(f as i64),
            _ => Value::Number(n),
        },
        Value::Array(items) => {
            Value::Array(items.into_iter().map(integral_floats_to_ints).collect())
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, integral_floats_to_ints(v)))
                .collect(),
        ),
        other => other,
    }
}

struct InputFloatsNormalized;

#[async_trait]
impl Twist for InputFloatsNormalized {
    async fn register_process(
        &self,
        base: &Base,
        mut registration: ProcessRegistration,
    ) -> Result<ProcessRecord, PluginError> {
        registration.input = integral_floats_to_ints(registration.input);
        base.inner.register_process(registration).await
    }
}
