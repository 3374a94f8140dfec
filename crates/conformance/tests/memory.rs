//! The whole catalogue on `MemoryRegistry`: every law must pass (none may be ignored but the
//! durability laws an Inline registry cannot run).

use async_trait::async_trait;
use procreg::PluginError;
use procreg_conformance::{Harness, Instance};
use procreg_reference::MemoryRegistry;

struct MemoryHarness;

#[async_trait]
impl Harness for MemoryHarness {
    type Registry = MemoryRegistry;

    async fn fresh(&self, instance: &Instance) -> Result<MemoryRegistry, PluginError> {
        Ok(MemoryRegistry::new(instance.clock.clone()))
    }
}

procreg_conformance::laws!(MemoryHarness);
