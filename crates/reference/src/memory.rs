//! `MemoryRegistry`: the Model behind one lock, state in memory only (tier `Inline`, D1).
//!
//! It is the [`Engine`] with [`NoJournal`]: every rule comes from the Model, waits from the
//! engine; nothing survives the value being dropped.

use procreg::{SharedClock, SystemClock};

use crate::engine::Engine;
use crate::journal::NoJournal;
use crate::model::Model;

/// An in-memory `ProcessRegistry` (tier `Inline`). Clones are not provided: share it in an
/// `Arc` so every handle sees one store (A1).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use procreg::{ManualClock, ProcessRegistration, ProcessRegistry, ProcessScope};
/// use procreg_reference::MemoryRegistry;
/// let registry = MemoryRegistry::new(std::sync::Arc::new(ManualClock::new(7)));
/// let reg = ProcessRegistration::new("p1", ProcessScope::session("s1"), "host");
/// let record = registry.register_process(reg).await.unwrap();
/// assert_eq!(record.created_at_ms, 7);
/// # });
/// ```
#[derive(Debug)]
pub struct MemoryRegistry {
    engine: Engine<NoJournal>,
}

impl MemoryRegistry {
    /// An empty registry reading time from `clock`.
    pub fn new(clock: SharedClock) -> Self {
        Self::with_model(Model::new(), clock)
    }

    /// A registry starting from `model` (e.g. a state built by a test or a checker).
    pub fn with_model(model: Model, clock: SharedClock) -> Self {
        Self {
            engine: Engine::new(model, NoJournal, clock),
        }
    }

    /// The engine behind this registry (for a copy of its Model, or its clock).
    pub fn engine(&self) -> &Engine<NoJournal> {
        &self.engine
    }
}

impl Default for MemoryRegistry {
    /// An empty registry on the wall clock ([`SystemClock`]).
    fn default() -> Self {
        Self::new(std::sync::Arc::new(SystemClock::new()))
    }
}

crate::delegate_process_registry!(MemoryRegistry, engine);
