use async_trait::async_trait;
use delegating_registry::MyRegistry;
use procreg::PluginError;
use procreg_conformance::{Harness, Instance};

struct MyHarness;

#[async_trait]
impl Harness for MyHarness {
    type Registry = MyRegistry;

    async fn fresh(&self, instance: &Instance) -> Result<MyRegistry, PluginError> {
        Ok(MyRegistry::new(instance.clock.clone()))
    }
}

procreg_conformance::laws!(MyHarness);
