//! What `FileRegistry` writes through: a flat store of named byte files with explicit sync.
//!
//! It exists so durability (D2, D4, D7) can be checked where the kit controls the bytes: the
//! registry never touches `std::fs` itself, so [`DirStorage`] (real files, real fsync) and the
//! simulator's `SimStorage` (durable and pending bytes kept apart, crashes that drop or tear what
//! was never synced) are interchangeable behind `Arc<dyn Storage>`.
//!
//! # What each call guarantees
//!
//! A file's bytes are either *durable* (they survive a crash) or *pending* (visible to
//! [`Storage::read`] now, but a crash may drop them, or keep any prefix of the last append, or
//! keep garbage in place of not-yet-synced bytes). Exactly these calls make bytes durable:
//!
//! | call | on `Ok` | on a crash before it returns |
//! |---|---|---|
//! | [`append`](Storage::append) | bytes are pending at the end of the file (created if missing) | any prefix of them may survive, possibly with garbage after it |
//! | [`sync`](Storage::sync) | every byte appended to that file before the call, and the file's existence, are durable | as if not called |
//! | [`replace`](Storage::replace) | the file durably holds exactly the new bytes | the file holds the old bytes or the new ones, never a mix |
//! | [`remove`](Storage::remove) | the file is durably gone (no error if it was missing) | the file may still exist, whole |
//!
//! After an `Err` from `append` or `sync` nothing is known about the file's pending bytes: the
//! caller must stop writing it (A2: the file registry poisons itself until reopened).
//! [`list`](Storage::list) and [`read`](Storage::read) see pending bytes too.
//!
//! Names are flat: 1 to 128 bytes of ASCII letters, digits, `-` and `_`, and `.` not first.

mod check;
mod dir;

use std::fmt::Debug;

use procreg::PluginError;

pub use check::check_storage;
pub use dir::DirStorage;

/// A flat store of named files with explicit durability (see the module docs for the exact
/// guarantees of each call).
///
/// Implementations are shared as `Arc<dyn Storage>`; calls on different files may run
/// concurrently, and the file registry never issues two concurrent writes to one file.
pub trait Storage: Send + Sync + Debug {
    /// Appends `bytes` to the end of `name`, creating it if missing. The bytes are pending until
    /// [`Storage::sync`] returns `Ok`.
    fn append(&self, name: &str, bytes: &[u8]) -> Result<(), StorageError>;

    /// Makes every byte appended to `name` so far, and the file's existence, durable.
    fn sync(&self, name: &str) -> Result<(), StorageError>;

    /// The whole visible content of `name` (durable and pending bytes), or `None` if missing.
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError>;

    /// Atomically and durably replaces the content of `name` (creating it if missing): after a
    /// crash the file holds the old bytes or `bytes`, never a mix; on `Ok` it durably holds
    /// `bytes`.
    fn replace(&self, name: &str, bytes: &[u8]) -> Result<(), StorageError>;

    /// Durably removes `name`. Removing a missing file is `Ok`.
    fn remove(&self, name: &str) -> Result<(), StorageError>;

    /// The names of every file, ascending.
    fn list(&self) -> Result<Vec<String>, StorageError>;

    /// Takes the exclusive lock on the whole store, held until the returned guard drops.
    ///
    /// A simulated crash may release every lock at once, provided the crashed instance can no
    /// longer write afterwards (D7).
    ///
    /// # Errors
    /// [`StorageError::Locked`] while another guard on the same store is alive, in this process
    /// or another (D5: a second open is refused).
    fn lock(&self) -> Result<StoreLock, StorageError>;
}

/// The exclusive lock on a store, released when dropped.
pub struct StoreLock {
    _guard: Box<dyn Send + Sync>,
}

impl StoreLock {
    /// A lock released by dropping `guard` (a locked file, a flag cleared on drop, ...).
    pub fn new(guard: impl Send + Sync + 'static) -> Self {
        Self {
            _guard: Box::new(guard),
        }
    }
}

impl Debug for StoreLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreLock")
    }
}

/// Why a [`Storage`] call failed. Every variant maps to [`PluginError::Storage`]: the call took
/// no effect that the registry relies on (A2).
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)] // the fields are what each message names
pub enum StorageError {
    /// An I/O call failed.
    #[error("{action} `{name}`: {source}")]
    Io {
        action: &'static str,
        name: String,
        #[source]
        source: std::io::Error,
    },
    /// Another guard on the store is alive (D5).
    #[error("the store `{store}` is already open elsewhere")]
    Locked { store: String },
    /// The name breaks the naming rule of the module docs.
    #[error("invalid storage file name `{name}`")]
    InvalidName { name: String },
    /// A fault injected by a test or simulated storage.
    #[error("injected fault on {action} `{name}`")]
    Injected { action: &'static str, name: String },
}

impl StorageError {
    /// Wraps an I/O error of `action` on `name`.
    pub fn io(action: &'static str, name: &str, source: std::io::Error) -> Self {
        StorageError::Io {
            action,
            name: name.to_owned(),
            source,
        }
    }
}

impl From<StorageError> for PluginError {
    fn from(error: StorageError) -> Self {
        PluginError::storage(error.to_string())
    }
}

/// Checks the naming rule of the module docs.
///
/// # Errors
/// [`StorageError::InvalidName`] when `name` breaks it.
pub fn check_name(name: &str) -> Result<(), StorageError> {
    let valid_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let valid = !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name.chars().all(valid_char);
    if valid {
        Ok(())
    } else {
        Err(StorageError::InvalidName {
            name: name.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_flat_and_visible() {
        for good in ["snapshot", "log-00000000000000000001", "a.b_c-d"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", ".lock", "a/b", "..", "a b", "ü", &"x".repeat(129)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn storage_errors_are_storage_kind() {
        let error: PluginError = StorageError::Locked { store: "x".into() }.into();
        assert_eq!(error.kind(), procreg::ErrorKind::Storage);
    }
}
