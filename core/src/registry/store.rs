//! The storage trait under the registry, and an in-memory store.

use std::collections::BTreeMap;
use std::fmt;

use super::{is_valid_log_type, is_valid_version, StorageError};

/// Where a model's bytes are kept in a store: under its log type and version
/// (`models/<log_type>/<version>/` on disk), or — in a registry written before log types
/// existed — under its version alone (`models/<version>/`, a *legacy* key).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModelKey {
    /// The model's log type; `None` for the layout before log types.
    pub log_type: Option<String>,
    /// The model's `YYYYMMDD_HHMMSS` version.
    pub version: String,
}

impl ModelKey {
    /// The key of a model of `log_type`.
    pub fn new(log_type: &str, version: &str) -> ModelKey {
        ModelKey {
            log_type: Some(log_type.to_owned()),
            version: version.to_owned(),
        }
    }

    /// The key of a model stored before log types existed.
    pub fn legacy(version: &str) -> ModelKey {
        ModelKey {
            log_type: None,
            version: version.to_owned(),
        }
    }

    /// Whether the key is of the layout before log types.
    pub fn is_legacy(&self) -> bool {
        self.log_type.is_none()
    }

    /// Whether the key is safe as a path or storage key: a well-formed version and, if any, a
    /// well-formed log type ([`is_valid_log_type`]). The registry only passes such keys.
    pub fn is_valid(&self) -> bool {
        is_valid_version(&self.version) && self.log_type.as_deref().is_none_or(is_valid_log_type)
    }

    /// [`ModelKey::is_valid`] as the error a store answers a key it refuses with, so no key
    /// names a path or object elsewhere.
    pub fn check(&self) -> Result<(), StorageError> {
        if self.is_valid() {
            Ok(())
        } else {
            Err(StorageError::new(format!("{self:?} is not a model key")))
        }
    }
}

impl fmt::Display for ModelKey {
    /// `wifi/20240101_000000`, or the version alone for a legacy key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.log_type {
            Some(log_type) => write!(f, "{log_type}/{}", self.version),
            None => f.write_str(&self.version),
        }
    }
}

/// Where a registry keeps its bytes: one index, and one blob (the `model.json` bytes) per
/// model, under its [`ModelKey`].
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
/// - Keys passed in are always valid ([`ModelKey::is_valid`]): well-formed versions and log
///   types, safe as file or key names.
///
/// A store shared by writers that cannot lock (an object store: S3, GCS, Azure) leaves
/// [`lock`](Self::lock) and [`unlock`](Self::unlock) empty and implements optimistic concurrency
/// instead, through the four methods with defaults below:
/// - [`read_index_tagged`](Self::read_index_tagged) returns the index with a tag (an ETag);
/// - [`replace_index`](Self::replace_index) writes the new index only if the stored one still has
///   that tag (a conditional PUT, `If-Match`; `If-None-Match: *` when there was none) and says
///   whether it did: the registry then reloads, applies its change again and retries;
/// - [`create_model`](Self::create_model) stores a model only if nothing is stored under its key
///   (create-only, so a blob once listed never changes);
/// - [`list_removable_models`](Self::list_removable_models) lists only what no writer can still
///   be about to list, so cleaning up orphans never removes another writer's new model.
///
/// The defaults suit a locking store, where nothing changes between the registry's read and its
/// write.
pub trait RegistryStore {
    /// The index bytes, or `None` when no registry has been written yet.
    fn read_index(&self) -> Result<Option<Vec<u8>>, StorageError>;
    /// Replaces the index, atomically.
    fn write_index(&mut self, bytes: &[u8]) -> Result<(), StorageError>;
    /// A model's bytes, or `None` when none are stored under `key`.
    fn read_model(&self, key: &ModelKey) -> Result<Option<Vec<u8>>, StorageError>;
    /// Stores a model's bytes under `key`, replacing any.
    fn write_model(&mut self, key: &ModelKey, bytes: &[u8]) -> Result<(), StorageError>;
    /// Removes what is stored under `key`; removing nothing is not an error.
    fn remove_model(&mut self, key: &ModelKey) -> Result<(), StorageError>;
    /// The keys under which something is stored, in any order (including orphans and legacy
    /// keys).
    fn list_models(&self) -> Result<Vec<ModelKey>, StorageError>;
    /// Waits for exclusive write access.
    fn lock(&mut self) -> Result<(), StorageError>;
    /// Gives exclusive write access up.
    fn unlock(&mut self) -> Result<(), StorageError>;

    /// The index with the tag a conditional [`replace_index`](Self::replace_index) must match.
    fn read_index_tagged(&self) -> Result<IndexRead, StorageError> {
        Ok(IndexRead {
            bytes: self.read_index()?,
            tag: None,
        })
    }

    /// Replaces the index if it is still the one `read` returned; `Ok(false)` when another
    /// writer replaced it first (nothing was written). A store may wait a little before
    /// returning `false`, so writers racing on one index spread out.
    fn replace_index(&mut self, bytes: &[u8], read: &IndexRead) -> Result<bool, StorageError> {
        let _ = read;
        self.write_index(bytes).map(|()| true)
    }

    /// Stores a model's bytes if nothing is stored under `key`; `Ok(false)` (and nothing
    /// written) when something is. A locking store may simply replace what is there: under the
    /// lock it can only be an orphan.
    fn create_model(&mut self, key: &ModelKey, bytes: &[u8]) -> Result<bool, StorageError> {
        self.write_model(key, bytes).map(|()| true)
    }

    /// The stored keys the registry may remove when its index does not list them. A locking
    /// store: every key. A store whose writers race: only keys stored long enough ago that no
    /// writer can still be about to list them.
    fn list_removable_models(&self) -> Result<Vec<ModelKey>, StorageError> {
        self.list_models()
    }
}

/// An index as read by [`RegistryStore::read_index_tagged`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexRead {
    /// The index bytes; `None` when no registry has been written yet.
    pub bytes: Option<Vec<u8>>,
    /// What a conditional write of the next index must match (an ETag), for a store whose
    /// writers compare-and-swap; `None` for a locking store, or when there is no index yet.
    pub tag: Option<String>,
}

/// A registry store in memory: for tests, and the mirror of a store that persists elsewhere.
///
/// Each write replaces whole values, so every write is atomic. The lock only checks that it is
/// not taken twice (one `MemoryStore` has one owner, who cannot race with itself).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryStore {
    index: Option<Vec<u8>>,
    models: BTreeMap<ModelKey, Vec<u8>>,
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

    fn read_model(&self, key: &ModelKey) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.models.get(key).cloned())
    }

    fn write_model(&mut self, key: &ModelKey, bytes: &[u8]) -> Result<(), StorageError> {
        self.models.insert(key.clone(), bytes.to_vec());
        Ok(())
    }

    fn remove_model(&mut self, key: &ModelKey) -> Result<(), StorageError> {
        self.models.remove(key);
        Ok(())
    }

    fn list_models(&self) -> Result<Vec<ModelKey>, StorageError> {
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
