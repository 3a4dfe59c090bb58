//! The model registry: versions, statuses and retention over a storage trait.
//!
//! A registry is an index (`registry.json`: `{"format": "mcp-train-registry",
//! "format_version": 1, "models": [...]}`, one [`ModelRecord`] per model, newest first) and the
//! `model.json` bytes of each model, kept by a [`RegistryStore`]: files on disk in the CLI and
//! the server, IndexedDB in the browser, [`MemoryStore`] in tests.
//!
//! - **Versions** are `YYYYMMDD_HHMMSS` and unique: a model whose version is taken (two models
//!   trained in the same second) is registered under the next free second, and the stored
//!   `model.json` says so too.
//! - **Statuses** go `ready` → `deployed` → `archived`. At most one model is deployed: deploying
//!   another archives it. An archived model can be deployed again (a rollback).
//! - **Deleting** the deployed model is refused unless forced; **pruning** keeps the newest N
//!   versions and never the deployed one.
//!
//! # Crash safety
//! Every change runs as: lock → reload the index → apply → write the new model (if any) → write
//! the index → remove models that are no longer listed → unlock. The index is replaced
//! atomically and only ever lists models whose bytes were completely written, so a crash at any
//! point leaves a registry that opens and lists only complete models. A model stored but not
//! listed (an orphan, left by a crash between the two writes) is ignored, and the next change
//! removes it. Reloading under the lock makes concurrent writers (two processes, two tabs)
//! serialize instead of overwriting each other's changes.
//!
//! ```
//! use mcp_train_core::registry::{MemoryStore, ModelStatus, Registry};
//! # use mcp_train_core::pipeline::{train, Hooks, TrainChoices, TrainInput};
//! # let csv: String = std::iter::once("a,b\n".to_owned())
//! #     .chain((0..40).map(|i| format!("{},{}\n", i % 7, i % 5))).collect();
//! # let config = mcp_train_core::config::Config::defaults();
//! # let choices = TrainChoices { seed: Some(1), ..TrainChoices::default() };
//! # let options = choices.resolve(&config).unwrap().options(&config, 0);
//! # let input = TrainInput::FeaturesCsv { bytes: csv.as_bytes(), file_name: "f.csv", label_column: None };
//! # let artifact = train(input, &options, Hooks { progress: &mut |_| true, elapsed_ms: &|| 0.0 })
//! #     .unwrap().artifact;
//! let mut registry = Registry::new(MemoryStore::new());
//! const NOW: i64 = 1_704_067_200_000_000; // 2024-01-01T00:00:00Z
//! // `artifact` is a trained `ModelArtifact` with version 19700101_000000.
//! let first = registry.register(artifact.clone(), NOW).unwrap();
//! let second = registry.register(artifact, NOW).unwrap(); // same second: next free one
//! assert_eq!((first.version.as_str(), second.version.as_str()),
//!            ("19700101_000000", "19700101_000001"));
//!
//! registry.deploy(&first.version, NOW).unwrap();
//! let change = registry.deploy(&second.version, NOW).unwrap();
//! assert_eq!(change.displaced.unwrap().status, ModelStatus::Archived);
//! assert!(registry.delete(&second.version, false).is_err()); // deployed: refused
//! assert_eq!(registry.list().unwrap().len(), 2);
//! ```

mod error;
mod record;
mod store;

#[cfg(test)]
mod tests;

pub use error::{RegistryError, StorageError};
pub use record::{
    is_valid_version, sha256_hex, version_micros, MetricsSummary, ModelRecord, ModelStatus,
    INDEX_FORMAT, INDEX_FORMAT_VERSION,
};
pub use store::{MemoryStore, RegistryStore};

use record::Index;

use crate::pipeline::{version_string, ModelArtifact};
use crate::time::{format_iso8601, MICROS_PER_SECOND};

/// A registered model with its stored bytes, checked against the recorded size and hash.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredModel {
    /// The model's registry entry.
    pub record: ModelRecord,
    /// The `model.json` bytes.
    pub bytes: Vec<u8>,
}

impl StoredModel {
    /// Reads the model.
    pub fn artifact(&self) -> Result<ModelArtifact, RegistryError> {
        ModelArtifact::from_json(&self.bytes).map_err(|e| RegistryError::CorruptModel {
            version: self.record.version.clone(),
            reason: e.to_string(),
        })
    }
}

/// What a status change did.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The model as it is now.
    pub model: ModelRecord,
    /// Its status before.
    pub from: ModelStatus,
    /// The previously deployed model, now archived (when deploying another model).
    pub displaced: Option<ModelRecord>,
}

impl Transition {
    /// Whether anything changed (deploying the deployed model or archiving an archived one
    /// changes nothing).
    pub fn changed(&self) -> bool {
        self.from != self.model.status
    }
}

/// The registry over a store. Reads go straight to the store; each change holds the store's
/// lock from reloading the index to writing it.
#[derive(Debug)]
pub struct Registry<S> {
    store: S,
}

/// The outcome of applying a change to the index: a value for the caller, and what to persist.
struct Change<T> {
    value: T,
    /// Whether the index changed (nothing is written otherwise).
    dirty: bool,
    /// A model to store before the index is written.
    new_model: Option<(String, Vec<u8>)>,
}

impl<T> Change<T> {
    fn none(value: T) -> Self {
        Change {
            value,
            dirty: false,
            new_model: None,
        }
    }

    fn index(value: T) -> Self {
        Change {
            value,
            dirty: true,
            new_model: None,
        }
    }
}

impl<S: RegistryStore> Registry<S> {
    /// A registry over `store`; every operation reads the index from it afresh.
    pub fn new(store: S) -> Self {
        Registry { store }
    }

    /// The store the registry reads and writes.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store the registry reads and writes, mutably.
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Gives the store back, ending the registry.
    pub fn into_store(self) -> S {
        self.store
    }

    fn load(&self) -> Result<Index, RegistryError> {
        match self.store.read_index()? {
            Some(bytes) => Index::from_json(&bytes),
            None => Ok(Index::default()),
        }
    }

    /// Every model, newest first.
    pub fn list(&self) -> Result<Vec<ModelRecord>, RegistryError> {
        Ok(self.load()?.models)
    }

    /// One model's record.
    pub fn record(&self, version: &str) -> Result<ModelRecord, RegistryError> {
        self.load()?.get(version).cloned()
    }

    /// The newest model, if any.
    pub fn latest(&self) -> Result<Option<ModelRecord>, RegistryError> {
        Ok(self.load()?.models.into_iter().next())
    }

    /// The deployed model, if any.
    pub fn deployed(&self) -> Result<Option<ModelRecord>, RegistryError> {
        Ok(self.load()?.deployed().cloned())
    }

    /// The record a name stands for: a version, or the aliases `latest` and `deployed`.
    pub fn resolve(&self, name: &str) -> Result<ModelRecord, RegistryError> {
        match name {
            "latest" => self.latest()?.ok_or(RegistryError::Empty),
            "deployed" => self.deployed()?.ok_or(RegistryError::NoneDeployed),
            version => self.record(version),
        }
    }

    /// A model's record and bytes, checked against the recorded size and SHA-256.
    pub fn get(&self, version: &str) -> Result<StoredModel, RegistryError> {
        let record = self.record(version)?;
        let damaged = |reason: String| RegistryError::CorruptModel {
            version: version.to_owned(),
            reason,
        };
        let Some(bytes) = self.store.read_model(version)? else {
            // A writer may have deleted it since the index was read.
            self.record(version)?;
            return Err(damaged("its model.json is missing".to_owned()));
        };
        if bytes.len() as u64 != record.size_bytes || sha256_hex(&bytes) != record.sha256 {
            return Err(damaged(format!(
                "its model.json ({} bytes) does not match the recorded size ({}) and SHA-256",
                bytes.len(),
                record.size_bytes
            )));
        }
        Ok(StoredModel { record, bytes })
    }

    /// Runs one change under the lock: reload, apply, write the new model, write the index,
    /// remove what the index no longer lists, unlock (also when something failed).
    fn change<T>(
        &mut self,
        apply: impl FnOnce(&mut Index) -> Result<Change<T>, RegistryError>,
    ) -> Result<T, RegistryError> {
        self.store.lock()?;
        let result = self.change_locked(apply);
        let unlocked = self.store.unlock();
        let value = result?;
        unlocked?;
        Ok(value)
    }

    fn change_locked<T>(
        &mut self,
        apply: impl FnOnce(&mut Index) -> Result<Change<T>, RegistryError>,
    ) -> Result<T, RegistryError> {
        let mut index = self.load()?;
        let change = apply(&mut index)?;
        if !change.dirty {
            return Ok(change.value);
        }
        if let Some((version, bytes)) = &change.new_model {
            self.store.write_model(version, bytes)?;
        }
        self.store.write_index(&index.to_json())?;
        // The change is done once the index is written. What is stored but no longer listed
        // (deleted or pruned models, orphans of an earlier crash) goes now; if removing fails,
        // it stays an ignored orphan until the next change tries again.
        if let Ok(stored) = self.store.list_models() {
            for version in stored {
                if !index.contains(&version) && is_valid_version(&version) {
                    let _ = self.store.remove_model(&version);
                }
            }
        }
        Ok(change.value)
    }

    /// Registers a model `at` (microseconds since the epoch). Its version is kept unless taken;
    /// then the next free second is used and written into the stored `model.json`, so the file
    /// and the registry agree. The new model is `ready`.
    pub fn register(
        &mut self,
        mut artifact: ModelArtifact,
        at: i64,
    ) -> Result<ModelRecord, RegistryError> {
        artifact.check().map_err(|e| RegistryError::InvalidModel {
            reason: e.to_string(),
        })?;
        let mut micros =
            version_micros(&artifact.version).ok_or_else(|| RegistryError::InvalidModel {
                reason: format!("version {:?} is not YYYYMMDD_HHMMSS", artifact.version),
            })?;
        self.change(|index| {
            while index.contains(&version_string(micros)) {
                micros += MICROS_PER_SECOND;
            }
            let version = version_string(micros);
            if !is_valid_version(&version) {
                return Err(RegistryError::InvalidModel {
                    reason: format!("no free version after {}", artifact.version),
                });
            }
            artifact.version = version.clone();
            let bytes = artifact.to_json();
            let record = ModelRecord::new(&artifact, &bytes, format_iso8601(at));
            index.insert(record.clone());
            Ok(Change {
                value: record,
                dirty: true,
                new_model: Some((version, bytes)),
            })
        })
    }

    /// Registers a `model.json` given as bytes (see [`register`](Self::register)).
    pub fn register_bytes(&mut self, bytes: &[u8], at: i64) -> Result<ModelRecord, RegistryError> {
        let artifact =
            ModelArtifact::from_json(bytes).map_err(|e| RegistryError::InvalidModel {
                reason: e.to_string(),
            })?;
        self.register(artifact, at)
    }

    /// Registers a `model.json` exactly as given, under its own version: the way a model moves
    /// between registries (a browser sharing it with a server). Returns the record and whether it
    /// is new; a version already registered with the same bytes is that record (sharing twice is
    /// harmless), with other bytes it is [`RegistryError::VersionTaken`].
    pub fn import(&mut self, bytes: &[u8], at: i64) -> Result<(ModelRecord, bool), RegistryError> {
        let invalid = |reason: String| RegistryError::InvalidModel { reason };
        let artifact = ModelArtifact::from_json(bytes).map_err(|e| invalid(e.to_string()))?;
        artifact.check().map_err(|e| invalid(e.to_string()))?;
        if !is_valid_version(&artifact.version) {
            return Err(invalid(format!(
                "version {:?} is not YYYYMMDD_HHMMSS",
                artifact.version
            )));
        }
        let record = ModelRecord::new(&artifact, bytes, format_iso8601(at));
        self.change(|index| {
            if let Ok(existing) = index.get(&record.version) {
                return if existing.sha256 == record.sha256 {
                    Ok(Change::none((existing.clone(), false)))
                } else {
                    Err(RegistryError::VersionTaken {
                        version: record.version.clone(),
                    })
                };
            }
            index.insert(record.clone());
            Ok(Change {
                new_model: Some((record.version.clone(), bytes.to_vec())),
                value: (record, true),
                dirty: true,
            })
        })
    }

    /// Deploys a model `at`; the model deployed until now, if another, is archived.
    pub fn deploy(&mut self, version: &str, at: i64) -> Result<Transition, RegistryError> {
        self.deploy_expecting(version, at, None)
    }

    /// Like [`deploy`](Self::deploy), if the deployed model is `expected` when the change is made
    /// (`Some(None)`: none is deployed); otherwise [`RegistryError::Conflict`] and nothing
    /// changes. Checked under the lock, so two people deploying at once cannot both win.
    pub fn deploy_expecting(
        &mut self,
        version: &str,
        at: i64,
        expected: Option<Option<&str>>,
    ) -> Result<Transition, RegistryError> {
        self.change(|index| {
            index.get(version)?;
            if let Some(expected) = expected {
                let actual = index.deployed().map(|m| m.version.as_str());
                if actual != expected {
                    return Err(RegistryError::Conflict {
                        reason: format!(
                            "the deployed model is {}, not {}",
                            actual.unwrap_or("none"),
                            expected.unwrap_or("none")
                        ),
                    });
                }
            }
            let from = index.get(version)?.status;
            if from == ModelStatus::Deployed {
                return Ok(Change::none(Transition {
                    model: index.get(version)?.clone(),
                    from,
                    displaced: None,
                }));
            }
            let now = format_iso8601(at);
            let mut displaced = None;
            for m in &mut index.models {
                if m.status == ModelStatus::Deployed {
                    m.status = ModelStatus::Archived;
                    m.archived_at = Some(now.clone());
                    displaced = Some(m.clone());
                }
            }
            let position = index.position(version)?;
            let model = &mut index.models[position];
            model.status = ModelStatus::Deployed;
            model.deployed_at = Some(now);
            model.archived_at = None;
            Ok(Change::index(Transition {
                model: model.clone(),
                from,
                displaced,
            }))
        })
    }

    /// Archives a ready or deployed model `at` (after which none is deployed).
    pub fn archive(&mut self, version: &str, at: i64) -> Result<Transition, RegistryError> {
        self.change(|index| {
            let position = index.position(version)?;
            let model = &mut index.models[position];
            let from = model.status;
            if from == ModelStatus::Archived {
                return Ok(Change::none(Transition {
                    model: model.clone(),
                    from,
                    displaced: None,
                }));
            }
            model.status = ModelStatus::Archived;
            model.archived_at = Some(format_iso8601(at));
            Ok(Change::index(Transition {
                model: model.clone(),
                from,
                displaced: None,
            }))
        })
    }

    /// Deletes a model and its bytes. The deployed model is refused unless `force`.
    pub fn delete(&mut self, version: &str, force: bool) -> Result<ModelRecord, RegistryError> {
        self.change(|index| {
            let position = index.position(version)?;
            if index.models[position].status == ModelStatus::Deployed && !force {
                return Err(RegistryError::Deployed {
                    version: version.to_owned(),
                });
            }
            Ok(Change::index(index.models.remove(position)))
        })
    }

    /// Keeps the newest `keep_last` versions, and the deployed model whatever its age; deletes
    /// the rest. Returns what was deleted, newest first.
    pub fn prune(&mut self, keep_last: usize) -> Result<Vec<ModelRecord>, RegistryError> {
        self.change(|index| {
            let mut removed = Vec::new();
            let mut kept = Vec::new();
            for (i, m) in std::mem::take(&mut index.models).into_iter().enumerate() {
                if i < keep_last || m.status == ModelStatus::Deployed {
                    kept.push(m);
                } else {
                    removed.push(m);
                }
            }
            index.models = kept;
            Ok(Change {
                dirty: !removed.is_empty(),
                value: removed,
                new_model: None,
            })
        })
    }
}
