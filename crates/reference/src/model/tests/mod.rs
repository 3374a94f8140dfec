//! Unit tests of the Model, one file per rule group; test names start with the rule id.

use procreg::{ProcessRegistration, ProcessScope};

use super::Model;

/// A plain registration of `id` owned by session `s1`.
pub(super) fn registration(id: &str) -> ProcessRegistration {
    ProcessRegistration::new(id, ProcessScope::session("s1"), "host")
}

/// A Model holding the plain processes `ids`, registered at time 0.
pub(super) fn model_with(ids: &[&str]) -> Model {
    let mut model = Model::new();
    for id in ids {
        model.register_process(registration(id), 0).unwrap();
    }
    model
}

mod apply;
mod completion;
mod events;
mod grants;
mod leases;
mod precedence;
mod registration;
mod sessions;
