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

/// The compile-time ignores follow `provides: [..]`, so a list that disagrees with the harness's
/// capabilities must fail loudly rather than hide laws.
#[test]
#[should_panic(expected = "laws! declares")]
fn a_provides_list_that_disagrees_with_capabilities_is_refused() {
    procreg_conformance::__private::check_declared(MemoryHarness, &["Clock", "Durable"]);
}
