//! `DirStorage`: the [`Storage`] of a real directory, with fsync where the trait promises
//! durability (D2) and an OS file lock for the single-open rule (D5).

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind as IoKind, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use super::{Storage, StorageError, StoreLock, check_name};

/// The lock file; its leading dot keeps it out of [`Storage::list`].
const LOCK_FILE: &str = ".lock";

/// Files in one directory.
///
/// - `append` writes through a cached append-mode handle; `sync` is `fdatasync` of the file,
///   plus an fsync of the directory when this instance created the file since the last one.
/// - `replace` writes `.<name>.tmp`, fsyncs it, renames it over `name` and fsyncs the directory.
/// - `remove` unlinks and fsyncs the directory.
/// - `lock` takes an exclusive `flock`-style lock on `.lock` (`File::try_lock`), which also
///   refuses a second handle in the same process. Taking it clears stale `.tmp` files.
///
/// Names starting with `.` are never listed and never valid, so temp and lock files cannot
/// collide with the caller's files.
#[derive(Debug)]
pub struct DirStorage {
    dir: PathBuf,
    state: Mutex<DirState>,
}

#[derive(Debug, Default)]
struct DirState {
    /// Append handles, dropped on replace and remove (they would point at the old inode).
    handles: BTreeMap<String, File>,
    /// Whether a file was created since the directory was last fsynced.
    dir_dirty: bool,
}

impl DirStorage {
    /// Storage in `dir`, created (with its parents) if missing.
    ///
    /// # Errors
    /// [`StorageError::Io`] when the directory cannot be created.
    pub fn new(dir: impl AsRef<Path>) -> Result<Self, StorageError> {
        let dir = dir.as_ref().to_path_buf();
        let name = dir.display().to_string();
        if !dir.is_dir() {
            fs::create_dir_all(&dir).map_err(|e| StorageError::io("create dir", &name, e))?;
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                sync_dir(parent)?;
            }
        }
        Ok(Self {
            dir,
            state: Mutex::new(DirState::default()),
        })
    }

    /// The directory this storage writes into.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn state(&self) -> MutexGuard<'_, DirState> {
        // A panic while holding this lock cannot leave DirState inconsistent: keep going.
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn sync_dir(&self, state: &mut DirState) -> Result<(), StorageError> {
        sync_dir(&self.dir)?;
        state.dir_dirty = false;
        Ok(())
    }

    fn remove_stale_temps(&self) -> Result<(), StorageError> {
        let name = self.dir.display().to_string();
        let entries = fs::read_dir(&self.dir).map_err(|e| StorageError::io("list", &name, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| StorageError::io("list", &name, e))?;
            let file_name = entry.file_name().to_string_lossy().into_owned();
            if file_name.starts_with('.') && file_name.ends_with(".tmp") {
                fs::remove_file(entry.path())
                    .map_err(|e| StorageError::io("remove", &file_name, e))?;
            }
        }
        Ok(())
    }
}

fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    let name = dir.display().to_string();
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StorageError::io("sync dir", &name, e))
}

impl Storage for DirStorage {
    fn append(&self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        check_name(name)?;
        let mut state = self.state();
        if !state.handles.contains_key(name) {
            let path = self.dir.join(name);
            let created = OpenOptions::new().append(true).create_new(true).open(&path);
            let file = match created {
                Ok(file) => {
                    state.dir_dirty = true;
                    file
                }
                Err(e) if e.kind() == IoKind::AlreadyExists => OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .map_err(|e| StorageError::io("open", name, e))?,
                Err(e) => return Err(StorageError::io("create", name, e)),
            };
            state.handles.insert(name.to_owned(), file);
        }
        let Some(file) = state.handles.get_mut(name) else {
            unreachable!("the handle was inserted above");
        };
        file.write_all(bytes)
            .map_err(|e| StorageError::io("append", name, e))
    }

    fn sync(&self, name: &str) -> Result<(), StorageError> {
        check_name(name)?;
        let mut state = self.state();
        match state.handles.get(name) {
            Some(file) => file.sync_data(),
            None => File::open(self.dir.join(name)).and_then(|f| f.sync_data()),
        }
        .map_err(|e| StorageError::io("sync", name, e))?;
        if state.dir_dirty {
            self.sync_dir(&mut state)?;
        }
        Ok(())
    }

    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
        check_name(name)?;
        match fs::read(self.dir.join(name)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == IoKind::NotFound => Ok(None),
            Err(e) => Err(StorageError::io("read", name, e)),
        }
    }

    fn replace(&self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        check_name(name)?;
        let mut state = self.state();
        state.handles.remove(name);
        let temp = self.dir.join(format!(".{name}.tmp"));
        let mut file = File::create(&temp).map_err(|e| StorageError::io("create", name, e))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| StorageError::io("write temp", name, e))?;
        drop(file);
        fs::rename(&temp, self.dir.join(name)).map_err(|e| StorageError::io("rename", name, e))?;
        self.sync_dir(&mut state)
    }

    fn remove(&self, name: &str) -> Result<(), StorageError> {
        check_name(name)?;
        let mut state = self.state();
        state.handles.remove(name);
        match fs::remove_file(self.dir.join(name)) {
            Ok(()) => self.sync_dir(&mut state),
            Err(e) if e.kind() == IoKind::NotFound => Ok(()),
            Err(e) => Err(StorageError::io("remove", name, e)),
        }
    }

    fn list(&self) -> Result<Vec<String>, StorageError> {
        let dir_name = self.dir.display().to_string();
        let entries =
            fs::read_dir(&self.dir).map_err(|e| StorageError::io("list", &dir_name, e))?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| StorageError::io("list", &dir_name, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if check_name(&name).is_ok() {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    fn lock(&self) -> Result<StoreLock, StorageError> {
        let store = self.dir.display().to_string();
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join(LOCK_FILE))
            .map_err(|e| StorageError::io("open", LOCK_FILE, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(StorageError::Locked { store }),
            Err(fs::TryLockError::Error(e)) => return Err(StorageError::io("lock", LOCK_FILE, e)),
        }
        self.remove_stale_temps()?;
        Ok(StoreLock::new(file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage() -> (tempfile::TempDir, DirStorage) {
        let dir = tempfile::tempdir().unwrap();
        let storage = DirStorage::new(dir.path().join("store")).unwrap();
        (dir, storage)
    }

    #[test]
    fn dir_storage_honours_the_storage_contract() {
        let (_dir, storage) = storage();
        crate::storage::check_storage(&storage).unwrap();
    }

    #[test]
    fn append_read_and_sync_round_trip() {
        let (_dir, storage) = storage();
        assert_eq!(storage.read("log").unwrap(), None);
        storage.append("log", b"ab").unwrap();
        storage.append("log", b"cd").unwrap();
        storage.sync("log").unwrap();
        assert_eq!(storage.read("log").unwrap().unwrap(), b"abcd");
        assert_eq!(storage.list().unwrap(), vec!["log".to_owned()]);
    }

    #[test]
    fn replace_swaps_content_and_later_appends_follow_it() {
        let (_dir, storage) = storage();
        storage.append("log", b"old").unwrap();
        storage.replace("log", b"new").unwrap();
        storage.append("log", b"+").unwrap();
        assert_eq!(storage.read("log").unwrap().unwrap(), b"new+");
        assert_eq!(storage.list().unwrap(), vec!["log".to_owned()]);
    }

    #[test]
    fn remove_is_idempotent_and_hides_the_file() {
        let (_dir, storage) = storage();
        storage.append("a", b"x").unwrap();
        storage.remove("a").unwrap();
        storage.remove("a").unwrap();
        assert_eq!(storage.read("a").unwrap(), None);
        assert!(storage.list().unwrap().is_empty());
    }

    #[test]
    fn d5_second_lock_is_refused_until_the_first_drops() {
        let (dir, storage) = storage();
        let other = DirStorage::new(dir.path().join("store")).unwrap();
        let guard = storage.lock().unwrap();
        assert!(matches!(other.lock(), Err(StorageError::Locked { .. })));
        assert!(matches!(storage.lock(), Err(StorageError::Locked { .. })));
        drop(guard);
        other.lock().unwrap();
    }

    #[test]
    fn lock_clears_stale_temp_files_and_list_hides_dot_files() {
        let (_dir, storage) = storage();
        fs::write(storage.path().join(".snapshot.tmp"), b"half").unwrap();
        let _guard = storage.lock().unwrap();
        assert!(!storage.path().join(".snapshot.tmp").exists());
        assert!(storage.list().unwrap().is_empty());
    }

    #[test]
    fn invalid_names_are_refused() {
        let (_dir, storage) = storage();
        assert!(matches!(
            storage.append("../escape", b"x"),
            Err(StorageError::InvalidName { .. })
        ));
    }
}
