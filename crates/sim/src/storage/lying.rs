//! [`LyingSync`]: a [`SimStorage`] whose `sync` does nothing, the deliberately broken disk that
//! proves the durability checks bite (D2: an acknowledged write a crash loses).
//!
//! Why it lives here and not in one test: the crash-point tests, the world's storage tests and
//! cluster mode's broken registries all need the same lie, told the same way.

use procreg_reference::storage::{Storage, StorageError, StoreLock};

use super::SimStorage;

/// A disk that acknowledges `sync` without persisting: appended bytes stay pending, so a crash
/// drops them. Every other operation is the wrapped [`SimStorage`]'s.
#[derive(Debug)]
pub struct LyingSync(pub SimStorage);

impl Storage for LyingSync {
    fn append(&self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        self.0.append(name, bytes)
    }
    fn sync(&self, _name: &str) -> Result<(), StorageError> {
        Ok(()) // the lie: acknowledged, never persisted
    }
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.0.read(name)
    }
    fn replace(&self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        self.0.replace(name, bytes)
    }
    fn remove(&self, name: &str) -> Result<(), StorageError> {
        self.0.remove(name)
    }
    fn list(&self) -> Result<Vec<String>, StorageError> {
        self.0.list()
    }
    fn lock(&self) -> Result<StoreLock, StorageError> {
        self.0.lock()
    }
}
