//! The whole catalogue on `FileRegistry` over a real directory: every law must pass, the
//! durability laws included (the harness crashes by dropping the registry and reopens the
//! directory).

use std::path::PathBuf;

use async_trait::async_trait;
use procreg::PluginError;
use procreg_conformance::{Capabilities, Harness, Instance};
use procreg_reference::file::FileRegistry;

/// One temp dir per generated test; each law's registries live in `<dir>/<label>`.
struct FileHarness {
    root: tempfile::TempDir,
}

impl FileHarness {
    fn new() -> Self {
        let root = tempfile::tempdir().expect("a temp dir");
        Self { root }
    }

    fn path(&self, instance: &Instance) -> PathBuf {
        self.root.path().join(&instance.label)
    }
}

#[async_trait]
impl Harness for FileHarness {
    type Registry = FileRegistry;

    fn capabilities(&self) -> Capabilities {
        Capabilities::default().durable().with_crash_reopen()
    }

    async fn fresh(&self, instance: &Instance) -> Result<FileRegistry, PluginError> {
        FileRegistry::open_dir(self.path(instance), instance.clock.clone())
    }

    async fn reopen(
        &self,
        instance: &Instance,
        old: FileRegistry,
    ) -> Result<FileRegistry, PluginError> {
        drop(old);
        FileRegistry::open_dir(self.path(instance), instance.clock.clone())
    }
}

procreg_conformance::laws!(FileHarness::new());
