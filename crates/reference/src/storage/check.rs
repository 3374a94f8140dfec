//! The visible behaviour every [`Storage`] shares, as one check any implementation can run
//! (DirStorage here, the simulator's SimStorage there), so the file registry meets the same
//! substrate everywhere. Durability itself needs a crash and is not checked here.

use super::{Storage, StorageError};

/// Checks an empty store against the [`Storage`] docs: append and read, replace, remove,
/// listing order, name rules and the exclusive lock.
///
/// # Errors
/// The first broken expectation, or a call that failed.
pub fn check_storage(storage: &dyn Storage) -> Result<(), String> {
    let fail = |what: &str, e: StorageError| format!("{what} failed: {e}");
    let expect = |holds: bool, what: &str| if holds { Ok(()) } else { Err(what.to_owned()) };
    let read = |name: &str| storage.read(name).map_err(|e| fail("read", e));

    expect(
        storage.list().map_err(|e| fail("list", e))?.is_empty(),
        "a new store is empty",
    )?;
    expect(read("b")?.is_none(), "reading a missing file gives None")?;
    storage.append("b", b"12").map_err(|e| fail("append", e))?;
    storage.append("b", b"34").map_err(|e| fail("append", e))?;
    expect(
        read("b")? == Some(b"1234".to_vec()),
        "reads see every appended byte",
    )?;
    storage.sync("b").map_err(|e| fail("sync", e))?;

    storage
        .replace("b", b"new")
        .map_err(|e| fail("replace", e))?;
    storage.append("b", b"+").map_err(|e| fail("append", e))?;
    expect(
        read("b")? == Some(b"new+".to_vec()),
        "appends follow a replace",
    )?;
    storage.replace("a", b"").map_err(|e| fail("replace", e))?;
    expect(
        read("a")? == Some(Vec::new()),
        "replace creates a missing file",
    )?;
    let names = storage.list().map_err(|e| fail("list", e))?;
    expect(names == ["a", "b"], "list is every name, ascending")?;

    storage.remove("a").map_err(|e| fail("remove", e))?;
    storage
        .remove("a")
        .map_err(|e| fail("remove of a missing file", e))?;
    expect(read("a")?.is_none(), "a removed file reads as None")?;
    for bad in ["", ".hidden", "a/b"] {
        let refused = matches!(
            storage.append(bad, b"x"),
            Err(StorageError::InvalidName { .. })
        );
        expect(refused, "names outside the naming rule are refused")?;
    }

    let guard = storage.lock().map_err(|e| fail("lock", e))?;
    let second = storage.lock();
    expect(
        matches!(second, Err(StorageError::Locked { .. })),
        "a second lock is refused while the first is held (D5)",
    )?;
    drop(guard);
    storage.lock().map_err(|e| fail("lock after release", e))?;
    Ok(())
}
