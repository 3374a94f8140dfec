//! The whole catalogue on `FileRegistry`, the durable reference registry: every law must pass,
//! the durability laws included (crash and reopen over the same directory, D2-D7). Only the
//! cross-handle laws are ignored: one `FileRegistry` owns its store and refuses a second open
//! (D5).

use std::path::PathBuf;

use async_trait::async_trait;
use procreg::PluginError;
use procreg_conformance::{Capabilities, Harness, Instance};
use procreg_reference::FileRegistry;
use tempfile::TempDir;

/// Each law's registries live in directories named by their labels under one temporary root.
struct FileHarness {
    root: TempDir,
}

impl FileHarness {
    fn new() -> Self {
        let root = tempfile::tempdir().expect("a temporary directory");
        Self { root }
    }

    fn dir(&self, instance: &Instance) -> PathBuf {
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
        FileRegistry::open_dir(self.dir(instance), instance.clock.clone())
    }

    /// Every acknowledged call of a `FileRegistry` is synced before it returns, so dropping the
    /// registry loses exactly what a crash would (D7); the reopen reads the same directory.
    async fn reopen(
        &self,
        instance: &Instance,
        old: FileRegistry,
    ) -> Result<FileRegistry, PluginError> {
        drop(old);
        FileRegistry::open_dir(self.dir(instance), instance.clock.clone())
    }
}

procreg_conformance::laws!(FileHarness::new(), provides: [Clock, Reopen, Durable]);
