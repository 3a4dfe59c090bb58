//! The model registry on object storage (S3, GCS, Azure): the core's [`RegistryStore`] over
//! the `object_store` crate, for several servers, CLIs and jobs sharing one bucket.
//!
//! ```text
//! <prefix>/registry.json                                      the index (as on disk)
//! <prefix>/models/<log_type>/<version>/model.json             one immutable blob per model
//! <prefix>/models/<log_type>/<version>/model_<v>_deployment.zip   its package (`models deploy`)
//! ```
//!
//! There is no lock: writers compare and swap. Model blobs are written create-only
//! (`If-None-Match: *`), so a listed model never changes, and the index is replaced only if it
//! is still the one read (`If-Match: <ETag>`); a writer another one overtook reloads and applies
//! its change again (the core's [`Registry`] does this). Orphans — a model stored by a writer
//! that was killed or overtaken before listing it — are removed by a later change once they are
//! [`ORPHAN_GRACE`] old, never sooner, so a writer still on its way to listing one never loses
//! it. The guarantees are the file registry's: no torn index, one deployed model per log type,
//! no lost registration.
//!
//! Credentials and endpoints come from the usual environment of each service, as the cloud
//! SDKs read them (`AWS_ACCESS_KEY_ID`, `AWS_REGION`, `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`,
//! `GOOGLE_SERVICE_ACCOUNT`, `AZURE_STORAGE_ACCOUNT_NAME`, …).
//!
//! The store is synchronous, like the trait: each call runs on a small runtime of its own and
//! waits for the answer, so it works the same from the CLI, a blocking task of the server or a
//! Python thread.

use std::future::Future;
use std::sync::{mpsc, Arc, OnceLock};
use std::time::Duration;

use futures_util::StreamExt;
use mcp_train_core::registry::{
    is_valid_log_type, is_valid_version, IndexRead, ModelKey, RegistryStore, StorageError,
};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};

use crate::registry::{INDEX_FILE, MODELS_DIR, MODEL_FILE};

/// How old an unlisted model blob must be before a change removes it: far longer than any
/// writer takes between storing a model and listing it.
pub const ORPHAN_GRACE: Duration = Duration::from_secs(15 * 60);

/// The URL schemes taken as object storage (everything else is a directory).
pub const SCHEMES: &[&str] = &["s3", "s3a", "gs", "az", "azure", "abfs", "abfss", "adl"];

/// Whether `value` names object storage (`s3://bucket/prefix`, …) rather than a directory.
pub fn is_object_url(value: &str) -> bool {
    value
        .split_once("://")
        .is_some_and(|(scheme, _)| SCHEMES.contains(&scheme.to_ascii_lowercase().as_str()))
}

/// An object's bytes and its ETag, if the store gave one.
type Tagged = (Vec<u8>, Option<String>);

/// A registry's place in a bucket: the store and the prefix under which the registry lives.
#[derive(Debug, Clone)]
pub struct ObjectRegistry {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    url: String,
}

impl ObjectRegistry {
    /// The registry at `url` (`s3://bucket/prefix`, `gs://…`, `az://…`), configured from the
    /// environment. Nothing is read yet: a bucket that is unreachable fails on first use.
    pub fn open(url: &str) -> Result<ObjectRegistry, StorageError> {
        let parsed = url::Url::parse(url)
            .map_err(|e| StorageError::with_source(format!("{url:?} is not a URL"), e))?;
        // `s3a://` is Hadoop's name for the same thing.
        let parsed = if parsed.scheme() == "s3a" {
            url::Url::parse(&format!("s3{}", &url[3..])).unwrap_or(parsed)
        } else {
            parsed
        };
        let env = std::env::vars().filter(|(k, _)| {
            let k = k.to_ascii_uppercase();
            k.starts_with("AWS_") || k.starts_with("GOOGLE_") || k.starts_with("AZURE_")
        });
        let (store, prefix) = object_store::parse_url_opts(&parsed, env).map_err(|e| {
            StorageError::with_source(format!("cannot open the registry at {url}"), e)
        })?;
        Ok(ObjectRegistry {
            store: Arc::from(store),
            prefix,
            url: url.trim_end_matches('/').to_owned(),
        })
    }

    /// The registry's URL, as given (without a trailing slash).
    pub fn url(&self) -> &str {
        &self.url
    }

    fn path(&self, parts: &[&str]) -> Path {
        let mut path = self.prefix.clone();
        for part in parts {
            path = path.clone().join(*part);
        }
        path
    }

    fn index_path(&self) -> Path {
        self.path(&[INDEX_FILE])
    }

    fn model_dir(&self, key: &ModelKey) -> Path {
        match &key.log_type {
            Some(log_type) => self.path(&[MODELS_DIR, log_type, &key.version]),
            None => self.path(&[MODELS_DIR, &key.version]),
        }
    }

    fn model_path(&self, key: &ModelKey) -> Path {
        self.model_dir(key).join(MODEL_FILE)
    }

    /// The URL of a model's blob (for messages).
    pub fn model_url(&self, key: &ModelKey) -> String {
        self.object_url(&self.model_path(key))
    }

    fn object_url(&self, path: &Path) -> String {
        let relative = path
            .as_ref()
            .strip_prefix(self.prefix.as_ref())
            .unwrap_or(path.as_ref())
            .trim_start_matches('/');
        format!("{}/{relative}", self.url)
    }

    fn error(&self, action: &str, path: &Path, e: object_store::Error) -> StorageError {
        StorageError::with_source(format!("cannot {action} {}", self.object_url(path)), e)
    }

    /// Stores a model's deployment package beside its blob (replacing any); returns its URL.
    pub fn write_package(&self, key: &ModelKey, bytes: &[u8]) -> Result<String, StorageError> {
        key.check()?;
        let name = format!("{}.zip", mcp_train_core::package::folder_name(&key.version));
        let path = self.model_dir(key).join(name.as_str());
        let store = self.store.clone();
        let (at, payload) = (path.clone(), PutPayload::from(bytes.to_vec()));
        run(async move { store.put(&at, payload).await })
            .map_err(|e| self.error("write", &path, e))?;
        Ok(self.object_url(&path))
    }

    /// Reads an object; `None` if there is none.
    fn get(&self, path: &Path) -> Result<Option<Tagged>, StorageError> {
        let store = self.store.clone();
        let at = path.clone();
        let got = run(async move {
            let result = store.get(&at).await?;
            let tag = result.meta.e_tag.clone();
            Ok::<_, object_store::Error>((result.bytes().await?.to_vec(), tag))
        });
        match got {
            Ok(found) => Ok(Some(found)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.error("read", path, e)),
        }
    }

    /// Writes an object with `mode`; `Ok(false)` when its precondition failed (something is
    /// there for a create, another version for an update).
    fn put(&self, path: &Path, bytes: &[u8], mode: PutMode) -> Result<bool, StorageError> {
        let store = self.store.clone();
        let at = path.clone();
        let payload = PutPayload::from(bytes.to_vec());
        let options = PutOptions {
            mode,
            ..PutOptions::default()
        };
        match run(async move { store.put_opts(&at, payload, options).await }) {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. })
            | Err(object_store::Error::Precondition { .. }) => Ok(false),
            Err(e) => Err(self.error("write", path, e)),
        }
    }

    /// Every model blob under `models/`, with when it was written (seconds since the epoch).
    fn list(&self) -> Result<Vec<(ModelKey, i64)>, StorageError> {
        let store = self.store.clone();
        let models = self.path(&[MODELS_DIR]);
        let at = models.clone();
        let metas = run(async move {
            let mut listing = store.list(Some(&at));
            let mut metas = Vec::new();
            while let Some(meta) = listing.next().await {
                metas.push(meta?);
            }
            Ok::<_, object_store::Error>(metas)
        })
        .map_err(|e| self.error("list", &models, e))?;
        let mut keys = Vec::new();
        for meta in metas {
            let Some(relative) = meta.location.prefix_match(&models) else {
                continue;
            };
            let parts: Vec<String> = relative.map(|p| p.as_ref().to_owned()).collect();
            let key = match parts.as_slice() {
                [log_type, version, file]
                    if file == MODEL_FILE
                        && is_valid_log_type(log_type)
                        && is_valid_version(version) =>
                {
                    ModelKey::new(log_type, version)
                }
                [version, file] if file == MODEL_FILE && is_valid_version(version) => {
                    ModelKey::legacy(version)
                }
                _ => continue,
            };
            keys.push((key, meta.last_modified.timestamp()));
        }
        keys.sort();
        Ok(keys)
    }
}

impl ObjectRegistry {
    /// The index and its ETag. No index is an empty registry, once the bucket is known to be
    /// there: a misspelt or missing bucket is an error, not an empty list.
    fn index(&self) -> Result<Option<Tagged>, StorageError> {
        let path = self.index_path();
        let found = self.get(&path)?;
        if found.is_none() {
            let store = self.store.clone();
            let prefix = self.prefix.clone();
            run(async move { store.list_with_delimiter(Some(&prefix)).await })
                .map_err(|e| self.error("list", &self.prefix, e))?;
        }
        Ok(found)
    }
}

impl RegistryStore for ObjectRegistry {
    fn read_index(&self) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.index()?.map(|(bytes, _)| bytes))
    }

    /// Replaces the index unconditionally (the registry itself always writes through
    /// [`replace_index`](RegistryStore::replace_index)).
    fn write_index(&mut self, bytes: &[u8]) -> Result<(), StorageError> {
        self.put(&self.index_path(), bytes, PutMode::Overwrite)
            .map(|_| ())
    }

    fn read_index_tagged(&self) -> Result<IndexRead, StorageError> {
        let path = self.index_path();
        match self.index()? {
            None => Ok(IndexRead::default()),
            Some((bytes, Some(tag))) => Ok(IndexRead {
                bytes: Some(bytes),
                tag: Some(tag),
            }),
            Some((_, None)) => Err(StorageError::new(format!(
                "{} has no ETag: this object store cannot replace it safely",
                self.object_url(&path)
            ))),
        }
    }

    fn replace_index(&mut self, bytes: &[u8], read: &IndexRead) -> Result<bool, StorageError> {
        let mode = match &read.tag {
            Some(tag) => PutMode::Update(UpdateVersion {
                e_tag: Some(tag.clone()),
                version: None,
            }),
            None => PutMode::Create,
        };
        let replaced = self.put(&self.index_path(), bytes, mode)?;
        if !replaced {
            // Overtaken: wait a little (random, so racing writers spread out) before the
            // registry reloads and tries again.
            std::thread::sleep(Duration::from_millis(5 + jitter_ms(45)));
        }
        Ok(replaced)
    }

    fn read_model(&self, key: &ModelKey) -> Result<Option<Vec<u8>>, StorageError> {
        key.check()?;
        Ok(self.get(&self.model_path(key))?.map(|(bytes, _)| bytes))
    }

    fn write_model(&mut self, key: &ModelKey, bytes: &[u8]) -> Result<(), StorageError> {
        key.check()?;
        self.put(&self.model_path(key), bytes, PutMode::Overwrite)
            .map(|_| ())
    }

    fn create_model(&mut self, key: &ModelKey, bytes: &[u8]) -> Result<bool, StorageError> {
        key.check()?;
        self.put(&self.model_path(key), bytes, PutMode::Create)
    }

    /// Removes the model's blob and its package, if any.
    fn remove_model(&mut self, key: &ModelKey) -> Result<(), StorageError> {
        key.check()?;
        let dir = self.model_dir(key);
        let store = self.store.clone();
        let at = dir.clone();
        run(async move {
            let mut listing = store.list(Some(&at));
            let mut paths = Vec::new();
            while let Some(meta) = listing.next().await {
                paths.push(meta?.location);
            }
            // The blob last, so a model stays whole until it goes.
            paths.sort_by_key(|p| p.filename() == Some(MODEL_FILE));
            for path in paths {
                match store.delete(&path).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        })
        .map_err(|e| self.error("remove", &dir, e))
    }

    fn list_models(&self) -> Result<Vec<ModelKey>, StorageError> {
        Ok(self.list()?.into_iter().map(|(key, _)| key).collect())
    }

    /// Only blobs older than [`ORPHAN_GRACE`]: a younger unlisted one may belong to a writer
    /// about to list it.
    fn list_removable_models(&self) -> Result<Vec<ModelKey>, StorageError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let settled = now - ORPHAN_GRACE.as_secs() as i64;
        Ok(self
            .list()?
            .into_iter()
            .filter(|(_, written)| *written < settled)
            .map(|(key, _)| key)
            .collect())
    }

    /// No lock: writers compare and swap (see the module docs).
    fn lock(&mut self) -> Result<(), StorageError> {
        Ok(())
    }

    fn unlock(&mut self) -> Result<(), StorageError> {
        Ok(())
    }
}

/// A random number of milliseconds below `bound`.
fn jitter_ms(bound: u64) -> u64 {
    let mut bytes = [0u8; 8];
    let _ = getrandom::getrandom(&mut bytes);
    u64::from_le_bytes(bytes) % bound.max(1)
}

/// Runs `future` on the registry's own runtime and waits for it, from any thread (a blocking
/// task of the server, the CLI, a Python thread): the store's calls are synchronous like the
/// trait, and never start or drop a runtime inside another.
fn run<F>(future: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("registry-io")
            .enable_all()
            .build()
            .expect("the registry's I/O runtime starts")
    });
    let (send, receive) = mpsc::sync_channel(1);
    runtime.spawn(async move {
        let _ = send.send(future.await);
    });
    receive
        .recv()
        .expect("the registry's I/O runtime answers every call")
}
