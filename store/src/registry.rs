//! The model registry on disk: the core's [`RegistryStore`] over a data directory.
//!
//! ```text
//! <dir>/registry.json                            the index (format mcp-train-registry, version 2)
//! <dir>/registry.lock                            held (flock) by the process changing the registry
//! <dir>/models/<log_type>/<version>/model.json   one directory per model, by log type
//! <dir>/models/<version>/model.json              a model of a version 1 registry (migrated on open)
//! <dir>/packages/                     deployment packages (not written here)
//! ```
//!
//! Every file is written atomically: a temporary file beside the target, written, synced, renamed
//! over the target, and the directory synced, so a reader sees the old file or the new one and a
//! crash (or power loss) never leaves a half-written file under the real name. Changes hold an
//! exclusive lock on `registry.lock` (released by the OS if the process dies); reads take none.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use mcp_train_core::registry::{
    is_valid_log_type, is_valid_version, IndexRead, ModelKey, Registry, RegistryStore, StorageError,
};

use crate::object::{is_object_url, ObjectRegistry};

/// The index file, inside the data directory.
pub const INDEX_FILE: &str = "registry.json";
/// The lock file, inside the data directory.
pub const LOCK_FILE: &str = "registry.lock";
/// The models directory, inside the data directory.
pub const MODELS_DIR: &str = "models";
/// The model file, inside a model's directory.
pub const MODEL_FILE: &str = "model.json";

/// The data directory when none is given: `$MCP_TRAIN_DATA`, else `./mcp-train-data`.
pub fn data_dir(flag: Option<&Path>) -> PathBuf {
    if let Some(dir) = flag {
        return dir.to_owned();
    }
    match std::env::var_os("MCP_TRAIN_DATA") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from("mcp-train-data"),
    }
}

/// Where a registry is: a data directory, or a prefix in object storage (`s3://bucket/prefix`,
/// `gs://…`, `az://…`; see [`crate::object`]). Every command and the server take it from one
/// `--registry` value ([`RegistryAt::from_flag`]).
#[derive(Debug, Clone)]
pub enum RegistryAt {
    Dir(PathBuf),
    Object(ObjectRegistry),
}

impl RegistryAt {
    /// The registry a `--registry` value names: an object-store URL, or a directory (none: the
    /// default data directory, [`data_dir`]).
    pub fn from_flag(flag: Option<&Path>) -> Result<RegistryAt, StorageError> {
        match flag.and_then(Path::to_str) {
            Some(value) if is_object_url(value) => {
                Ok(RegistryAt::Object(ObjectRegistry::open(value)?))
            }
            _ => Ok(RegistryAt::Dir(data_dir(flag))),
        }
    }

    /// The registry, ready to use. A registry directory an older build wrote is migrated in
    /// place; a migration that cannot run now (a read-only directory) is left to the first
    /// change: the registry reads the same either way.
    pub fn open(&self) -> Registry<Store> {
        match self {
            RegistryAt::Dir(dir) => {
                let mut registry = Registry::new(Store::Dir(FsStore::new(dir)));
                let _ = registry.migrate();
                registry
            }
            RegistryAt::Object(bucket) => Registry::new(Store::Object(bucket.clone())),
        }
    }

    /// The directory or URL, for messages.
    pub fn describe(&self) -> String {
        match self {
            RegistryAt::Dir(dir) => dir.display().to_string(),
            RegistryAt::Object(bucket) => bucket.url().to_owned(),
        }
    }
}

/// A registry kept in a data directory (see [`RegistryAt::open`]).
pub fn open(dir: &Path) -> Registry<Store> {
    RegistryAt::Dir(dir.to_owned()).open()
}

/// The store under a registry: a directory or object storage.
#[derive(Debug)]
pub enum Store {
    Dir(FsStore),
    Object(ObjectRegistry),
}

impl Store {
    /// Where a model's `model.json` is: a path or a URL.
    pub fn model_location(&self, key: &ModelKey) -> String {
        match self {
            Store::Dir(store) => store.model_path(key).display().to_string(),
            Store::Object(bucket) => bucket.model_url(key),
        }
    }

    /// Stores a model's deployment package beside its `model.json`; returns where.
    pub fn write_package(&self, key: &ModelKey, bytes: &[u8]) -> Result<String, StorageError> {
        match self {
            Store::Dir(store) => store
                .write_package(key, bytes)
                .map(|path| path.display().to_string()),
            Store::Object(bucket) => bucket.write_package(key, bytes),
        }
    }

    /// The directory or URL, for messages.
    pub fn describe(&self) -> String {
        match self {
            Store::Dir(store) => store.dir().display().to_string(),
            Store::Object(bucket) => bucket.url().to_owned(),
        }
    }
}

/// Every call goes to the store underneath.
macro_rules! delegate {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            Store::Dir($store) => $call,
            Store::Object($store) => $call,
        }
    };
}

impl RegistryStore for Store {
    fn read_index(&self) -> Result<Option<Vec<u8>>, StorageError> {
        delegate!(self, s => s.read_index())
    }
    fn write_index(&mut self, bytes: &[u8]) -> Result<(), StorageError> {
        delegate!(self, s => s.write_index(bytes))
    }
    fn read_model(&self, key: &ModelKey) -> Result<Option<Vec<u8>>, StorageError> {
        delegate!(self, s => s.read_model(key))
    }
    fn write_model(&mut self, key: &ModelKey, bytes: &[u8]) -> Result<(), StorageError> {
        delegate!(self, s => s.write_model(key, bytes))
    }
    fn remove_model(&mut self, key: &ModelKey) -> Result<(), StorageError> {
        delegate!(self, s => s.remove_model(key))
    }
    fn list_models(&self) -> Result<Vec<ModelKey>, StorageError> {
        delegate!(self, s => s.list_models())
    }
    fn lock(&mut self) -> Result<(), StorageError> {
        delegate!(self, s => s.lock())
    }
    fn unlock(&mut self) -> Result<(), StorageError> {
        delegate!(self, s => s.unlock())
    }
    fn read_index_tagged(&self) -> Result<IndexRead, StorageError> {
        delegate!(self, s => s.read_index_tagged())
    }
    fn replace_index(&mut self, bytes: &[u8], read: &IndexRead) -> Result<bool, StorageError> {
        delegate!(self, s => s.replace_index(bytes, read))
    }
    fn create_model(&mut self, key: &ModelKey, bytes: &[u8]) -> Result<bool, StorageError> {
        delegate!(self, s => s.create_model(key, bytes))
    }
    fn list_removable_models(&self) -> Result<Vec<ModelKey>, StorageError> {
        delegate!(self, s => s.list_removable_models())
    }
}

/// Registry storage in a directory. Nothing is created until the first change; a directory that
/// does not exist reads as an empty registry.
#[derive(Debug)]
pub struct FsStore {
    dir: PathBuf,
    lock: Option<File>,
}

impl FsStore {
    pub fn new(dir: &Path) -> FsStore {
        FsStore {
            dir: dir.to_owned(),
            lock: None,
        }
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where a model's file is (or would be).
    pub fn model_path(&self, key: &ModelKey) -> PathBuf {
        self.model_dir(key).join(MODEL_FILE)
    }

    /// Where a model's deployment package is kept: beside its model file, so deleting the model
    /// deletes the package too.
    pub fn package_path(&self, key: &ModelKey) -> PathBuf {
        self.model_dir(key).join(package_file(&key.version))
    }

    /// Stores a model's deployment package, atomically.
    pub fn write_package(&self, key: &ModelKey, bytes: &[u8]) -> Result<PathBuf, StorageError> {
        key.check()?;
        let path = self.package_path(key);
        write_atomic(&path, bytes)?;
        Ok(path)
    }

    fn model_dir(&self, key: &ModelKey) -> PathBuf {
        let models = self.dir.join(MODELS_DIR);
        match &key.log_type {
            Some(log_type) => models.join(log_type).join(&key.version),
            None => models.join(&key.version),
        }
    }
}

/// The name of a model's package file.
fn package_file(version: &str) -> String {
    format!("{}.zip", mcp_train_core::package::folder_name(version))
}

fn error(action: &str, path: &Path, e: io::Error) -> StorageError {
    StorageError::with_source(format!("cannot {action} {}", path.display()), e)
}

/// Reads a file; `None` if it does not exist.
fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, StorageError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(error("read", path, e)),
    }
}

/// Makes a directory's entries (new, renamed or removed files) durable.
fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| error("sync", dir, e))
}

/// Creates `dir` and any missing parents, syncing each parent that gained an entry, so the new
/// directories survive a power loss along with what is written into them.
fn create_dir(dir: &Path) -> Result<(), StorageError> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => {}
        // Another writer (or a reader-side `create_dir_all`) got there first.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => return Ok(()),
        Err(e) => return Err(error("create", dir, e)),
    }
    match dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => sync_dir(parent),
        None => sync_dir(Path::new(".")),
    }
}

/// Writes `bytes` to `path` atomically: temporary file, sync, rename, sync the directory.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StorageError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_dir(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut file = File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(e) = written.and_then(|()| fs::rename(&temp, path)) {
        let _ = fs::remove_file(&temp);
        return Err(error("write", path, e));
    }
    sync_dir(dir)
}

/// Removes the temporary files a killed writer left in `dir`. Only called under the lock, when
/// no other writer can be half-way through.
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(".tmp") {
            let _ = fs::remove_file(entry.path());
        }
    }
}

impl RegistryStore for FsStore {
    fn read_index(&self) -> Result<Option<Vec<u8>>, StorageError> {
        read_optional(&self.dir.join(INDEX_FILE))
    }

    fn write_index(&mut self, bytes: &[u8]) -> Result<(), StorageError> {
        write_atomic(&self.dir.join(INDEX_FILE), bytes)
    }

    fn read_model(&self, key: &ModelKey) -> Result<Option<Vec<u8>>, StorageError> {
        key.check()?;
        read_optional(&self.model_path(key))
    }

    fn write_model(&mut self, key: &ModelKey, bytes: &[u8]) -> Result<(), StorageError> {
        key.check()?;
        // The registry only writes keys it does not list: whatever is there is an orphan
        // (perhaps with a killed writer's temporary file), so start from an empty directory.
        self.remove_model(key)?;
        write_atomic(&self.model_path(key), bytes)?;
        // A migration copies a model from its version 1 directory: its package comes along.
        if !key.is_legacy() {
            let legacy = self.package_path(&ModelKey::legacy(&key.version));
            if let Some(package) = read_optional(&legacy)? {
                write_atomic(&self.package_path(key), &package)?;
            }
        }
        Ok(())
    }

    fn remove_model(&mut self, key: &ModelKey) -> Result<(), StorageError> {
        key.check()?;
        let dir = self.model_dir(key);
        match fs::remove_dir_all(&dir) {
            Ok(()) => sync_dir(dir.parent().unwrap_or(&self.dir)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(error("remove", &dir, e)),
        }
    }

    /// Every model directory, complete or not: a directory a killed writer left without its
    /// `model.json` is an orphan like any other, and goes at the next change. Version
    /// directories right under `models/` are the legacy keys of a version 1 registry.
    fn list_models(&self) -> Result<Vec<ModelKey>, StorageError> {
        let models = self.dir.join(MODELS_DIR);
        let names = |dir: &Path| -> Result<Vec<String>, StorageError> {
            let entries = match fs::read_dir(dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(error("list", dir, e)),
            };
            let mut names = Vec::new();
            for entry in entries {
                let entry = entry.map_err(|e| error("list", dir, e))?;
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    names.push(entry.file_name().to_string_lossy().into_owned());
                }
            }
            Ok(names)
        };
        let mut keys = Vec::new();
        for name in names(&models)? {
            if is_valid_version(&name) {
                keys.push(ModelKey::legacy(&name));
            } else if is_valid_log_type(&name) {
                for version in names(&models.join(&name))? {
                    if is_valid_version(&version) {
                        keys.push(ModelKey::new(&name, &version));
                    }
                }
            }
        }
        keys.sort();
        Ok(keys)
    }

    fn lock(&mut self) -> Result<(), StorageError> {
        create_dir(&self.dir)?;
        let path = self.dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| error("open", &path, e))?;
        file.lock().map_err(|e| error("lock", &path, e))?;
        self.lock = Some(file);
        remove_stale_temporaries(&self.dir);
        Ok(())
    }

    fn unlock(&mut self) -> Result<(), StorageError> {
        match self.lock.take() {
            Some(file) => file
                .unlock()
                .map_err(|e| error("unlock", &self.dir.join(LOCK_FILE), e)),
            None => Ok(()),
        }
    }
}
