//! The storage trait under the registry, and an in-memory store.

use std::collections::BTreeMap;

use super::StorageError;

/// Where a registry keeps its bytes: one index, and one blob (the `model.json` bytes) per
/// version.
///
/// Implementations live where the I/O is: files on disk in the `mcp-train` binary, IndexedDB in
/// the browser (which, being asynchronous underneath, keeps an in-memory mirror such as
/// [`MemoryStore`] and persists it), [`MemoryStore`] in tests.
///
/// What the registry relies on:
/// - [`write_index`](Self::write_index) replaces the index atomically: a reader sees the old
///   bytes or the new ones, never a mix, and the new ones survive a crash once it returns.
/// - [`write_model`](Self::write_model) has stored all the bytes durably when it returns. It need
///   not be atomic: the registry writes a model before the index that lists it, so a reader never
///   looks at a half-written model, and a model the index does not list is an orphan that the
///   next write removes.
/// - [`lock`](Self::lock) gives exclusive access to writers until [`unlock`](Self::unlock):
///   another writer (another process, another tab) waits. The registry holds the lock around
///   every read-modify-write and never takes it twice. Reads take no lock.
/// - Versions passed in are always well-formed `YYYYMMDD_HHMMSS` strings (see
///   [`is_valid_version`](super::is_valid_version)), safe as file or key names.
pub trait RegistryStore {
    /// The index bytes, or `None` when no registry has been written yet.
    fn read_index(&self) -> Result<Option<Vec<u8>>, StorageError>;
    /// Replaces the index, atomically.
    fn write_index(&mut self, bytes: &[u8]) -> Result<(), StorageError>;
    /// A model's bytes, or `None` when none are stored under `version`.
    fn read_model(&self, version: &str) -> Result<Option<Vec<u8>>, StorageError>;
    /// Stores a model's bytes under `version`, replacing any.
    fn write_model(&mut self, version: &str, bytes: &[u8]) -> Result<(), StorageError>;
    /// Removes what is stored under `version`; removing nothing is not an error.
    fn remove_model(&mut self, version: &str) -> Result<(), StorageError>;
    /// The versions under which something is stored, in any order (including orphans).
    fn list_models(&self) -> Result<Vec<String>, StorageError>;
    /// Waits for exclusive write access.
    fn lock(&mut self) -> Result<(), StorageError>;
    /// Gives exclusive write access up.
    fn unlock(&mut self) -> Result<(), StorageError>;
}

/// A registry store in memory: for tests, and the mirror of a store that persists elsewhere.
///
/// Each write replaces whole values, so every write is atomic. The lock only checks that it is
/// not taken twice (one `MemoryStore` has one owner, who cannot race with itself).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryStore {
    index: Option<Vec<u8>>,
    models: BTreeMap<String, Vec<u8>>,
    locked: bool,
}

impl MemoryStore {
    /// An empty store: no registry yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the lock is held (a registry operation is under way or did not release it).
    pub fn is_locked(&self) -> bool {
        self.locked
    }
}

impl RegistryStore for MemoryStore {
    fn read_index(&self) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.index.clone())
    }

    fn write_index(&mut self, bytes: &[u8]) -> Result<(), StorageError> {
        self.index = Some(bytes.to_vec());
        Ok(())
    }

    fn read_model(&self, version: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.models.get(version).cloned())
    }

    fn write_model(&mut self, version: &str, bytes: &[u8]) -> Result<(), StorageError> {
        self.models.insert(version.to_owned(), bytes.to_vec());
        Ok(())
    }

    fn remove_model(&mut self, version: &str) -> Result<(), StorageError> {
        self.models.remove(version);
        Ok(())
    }

    fn list_models(&self) -> Result<Vec<String>, StorageError> {
        Ok(self.models.keys().cloned().collect())
    }

    fn lock(&mut self) -> Result<(), StorageError> {
        if self.locked {
            return Err(StorageError::new("the registry is already locked"));
        }
        self.locked = true;
        Ok(())
    }

    fn unlock(&mut self) -> Result<(), StorageError> {
        self.locked = false;
        Ok(())
    }
}
