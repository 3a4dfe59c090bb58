//! The model registry: versions, log types, statuses, deployment history and retention over a
//! storage trait.
//!
//! A registry is an index (`registry.json`: `{"format": "mcp-train-registry",
//! "format_version": 2, "models": [...], "history": [...]}`, one [`ModelRecord`] per model,
//! newest first, and the [`DeploymentEvent`]s, oldest first) and the `model.json` bytes of each
//! model, kept by a [`RegistryStore`] under the model's log type and version ([`ModelKey`];
//! `models/<log_type>/<version>/` on disk): files on disk in the CLI and the server, IndexedDB in
//! the browser, [`MemoryStore`] in tests.
//!
//! - **Versions** are `YYYYMMDD_HHMMSS` and unique across log types (a version alone names a
//!   model): a model whose version is taken (two models trained in the same second) is
//!   registered under the next free second, and the stored `model.json` says so too.
//! - **Log types**: every model serves one (`wifi`, `dns`, …, from its `model.json`).
//! - **Statuses** go `ready` → `deployed` → `archived`. At most one model **per log type** is
//!   deployed: deploying another of the same log type archives it, and leaves the other log
//!   types' models alone. An archived model can be deployed again; [`Registry::rollback`]
//!   re-deploys the one deployed before. Every deploy, rollback and undeploy is recorded in the
//!   history ([`Registry::history`]).
//! - **Deleting** a deployed model is refused unless forced; **pruning** keeps the newest N
//!   versions of each log type and never a deployed one.
//!
//! # Migration
//! An index of format version 1 (before log types: models at `models/<version>/`) is read as is
//! (every model `wifi`, the history rebuilt from the deployment times) and migrated in place by
//! [`Registry::open`] or the first change: each model is copied to its new key, the version 2
//! index is written, then the old copies are removed. A crash before the index is written
//! leaves the old registry (the next open migrates again); after it, the new one, whose leftover
//! old copies the next open or change removes.
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
//! assert!(registry.delete(&second.version, false, NOW).is_err()); // deployed: refused
//! assert_eq!(registry.list().unwrap().len(), 2);
//!
//! // Back to the model deployed before, and what happened, newest first.
//! let back = registry.rollback("wifi", NOW).unwrap();
//! assert_eq!(back.model.version, first.version);
//! let actions: Vec<&str> = registry.history(None).unwrap().iter().map(|e| e.action.as_str()).collect();
//! assert_eq!(actions, ["rollback", "deploy", "deploy"]);
//! ```

mod error;
mod record;
mod store;

#[cfg(test)]
mod tests;

pub use error::{RegistryError, StorageError};
pub use record::{
    is_valid_log_type, is_valid_version, sha256_hex, version_micros, DeploymentAction,
    DeploymentEvent, MetricsSummary, ModelRecord, ModelStatus, HISTORY_LIMIT, INDEX_FORMAT,
    INDEX_FORMAT_VERSION, LEGACY_INDEX_FORMAT_VERSION,
};
pub use store::{IndexRead, MemoryStore, ModelKey, RegistryStore};

use std::collections::BTreeSet;

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
    /// The previously deployed model of the same log type, now archived (when deploying
    /// another model).
    pub displaced: Option<ModelRecord>,
}

impl Transition {
    /// Whether anything changed (deploying the deployed model or archiving an archived one
    /// changes nothing).
    pub fn changed(&self) -> bool {
        self.from != self.model.status
    }
}

/// How many times a change is applied before giving up, on a store whose writers
/// compare-and-swap and keep overtaking each other (a locking store needs one attempt).
pub const MAX_ATTEMPTS: usize = 32;

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
    new_model: Option<(ModelKey, Vec<u8>)>,
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

/// Where `record`'s bytes are in a registry with this index.
fn key_of(index: &Index, record: &ModelRecord) -> ModelKey {
    if index.legacy {
        ModelKey::legacy(&record.version)
    } else {
        ModelKey::new(&record.log_type, &record.version)
    }
}

impl<S: RegistryStore> Registry<S> {
    /// A registry over `store`; every operation reads the index from it afresh. A registry of
    /// the layout before log types is read as is and migrated by the first change; use
    /// [`open`](Self::open) to migrate at once.
    pub fn new(store: S) -> Self {
        Registry { store }
    }

    /// A registry over `store`, migrated to the current layout if it is of an older one
    /// (see [`migrate`](Self::migrate)).
    pub fn open(store: S) -> Result<Self, RegistryError> {
        let mut registry = Registry { store };
        registry.migrate()?;
        Ok(registry)
    }

    /// Migrates a registry of the layout before log types in place (under the lock), and
    /// removes the old copies a migration interrupted after its index was written left behind.
    /// Returns whether anything changed. Safe to interrupt at any point: see the module docs.
    pub fn migrate(&mut self) -> Result<bool, RegistryError> {
        let index = self.load()?;
        let leftovers = !index.legacy
            && self
                .store
                .list_models()
                .is_ok_and(|keys| keys.iter().any(ModelKey::is_legacy));
        if !index.legacy && !leftovers {
            return Ok(false);
        }
        // The lock taken, the index is read again: another writer may have migrated it.
        self.change(|_| Ok(Change::none(true)))
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

    /// The models of one log type, newest first.
    pub fn list_of(&self, log_type: &str) -> Result<Vec<ModelRecord>, RegistryError> {
        let mut models = self.load()?.models;
        models.retain(|m| m.log_type == log_type);
        Ok(models)
    }

    /// One model's record.
    pub fn record(&self, version: &str) -> Result<ModelRecord, RegistryError> {
        self.load()?.get(version).cloned()
    }

    /// The newest model, if any.
    pub fn latest(&self) -> Result<Option<ModelRecord>, RegistryError> {
        Ok(self.load()?.models.into_iter().next())
    }

    /// The deployed model of `log_type`, if any.
    pub fn deployed(&self, log_type: &str) -> Result<Option<ModelRecord>, RegistryError> {
        Ok(self.load()?.deployed(log_type).cloned())
    }

    /// Every deployed model (one per log type at most), newest first.
    pub fn deployed_models(&self) -> Result<Vec<ModelRecord>, RegistryError> {
        let mut models = self.load()?.models;
        models.retain(|m| m.status == ModelStatus::Deployed);
        Ok(models)
    }

    /// The model [`rollback`](Self::rollback) would deploy for `log_type` now, if any.
    pub fn rollback_target(&self, log_type: &str) -> Result<Option<ModelRecord>, RegistryError> {
        Ok(self.load()?.rollback_target(log_type).cloned())
    }

    /// The deployment history, newest first; of one log type, or of all.
    pub fn history(&self, log_type: Option<&str>) -> Result<Vec<DeploymentEvent>, RegistryError> {
        let mut history = self.load()?.history;
        history.retain(|e| log_type.is_none_or(|t| e.log_type == t));
        history.reverse();
        Ok(history)
    }

    /// The record a name stands for: a version, or the aliases `latest` (the newest model) and
    /// `deployed` (the deployed model, when only one log type has one).
    pub fn resolve(&self, name: &str) -> Result<ModelRecord, RegistryError> {
        self.resolve_in(name, None)
    }

    /// Like [`resolve`](Self::resolve), with `latest` and `deployed` taken among the models of
    /// `log_type` when one is given. A version is found whatever its log type, but must be of
    /// `log_type` when one is given.
    pub fn resolve_in(
        &self,
        name: &str,
        log_type: Option<&str>,
    ) -> Result<ModelRecord, RegistryError> {
        let index = self.load()?;
        let of_type = |m: &&ModelRecord| log_type.is_none_or(|t| m.log_type == t);
        match name {
            "latest" => index
                .models
                .iter()
                .find(of_type)
                .cloned()
                .ok_or(RegistryError::Empty),
            "deployed" => {
                let deployed: Vec<&ModelRecord> = index
                    .models
                    .iter()
                    .filter(of_type)
                    .filter(|m| m.status == ModelStatus::Deployed)
                    .collect();
                match deployed.as_slice() {
                    [] => Err(RegistryError::NoneDeployed),
                    [one] => Ok((*one).clone()),
                    several => Err(RegistryError::AmbiguousDeployed {
                        log_types: several
                            .iter()
                            .map(|m| m.log_type.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    }),
                }
            }
            version => {
                let record = index.get(version)?;
                match log_type {
                    Some(t) if record.log_type != t => Err(RegistryError::NotFound {
                        version: format!("{version} of log type {t}"),
                    }),
                    _ => Ok(record.clone()),
                }
            }
        }
    }

    /// A model's record and bytes, checked against the recorded size and SHA-256.
    pub fn get(&self, version: &str) -> Result<StoredModel, RegistryError> {
        let damaged = |reason: String| RegistryError::CorruptModel {
            version: version.to_owned(),
            reason,
        };
        // Twice at most: a migration between reading the index and the model moves the bytes.
        let mut attempt = 0;
        let (record, bytes) = loop {
            let index = self.load()?;
            let record = index.get(version)?.clone();
            match self.store.read_model(&key_of(&index, &record))? {
                Some(bytes) => break (record, bytes),
                // A writer may have deleted or moved it since the index was read.
                None if attempt == 0 => attempt += 1,
                None => return Err(damaged("its model.json is missing".to_owned())),
            }
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
    /// remove what the index no longer lists, unlock (also when something failed). On a store
    /// whose writers compare-and-swap instead of locking, a change another writer overtook is
    /// applied again to the index that writer left ([`MAX_ATTEMPTS`] at most).
    fn change<T>(
        &mut self,
        mut apply: impl FnMut(&mut Index) -> Result<Change<T>, RegistryError>,
    ) -> Result<T, RegistryError> {
        self.store.lock()?;
        let result = self.change_locked(&mut apply);
        let unlocked = self.store.unlock();
        let value = result?;
        unlocked?;
        Ok(value)
    }

    /// Copies every model of a version 1 index to its key under its log type and writes the
    /// version 2 index (the old copies go with the orphans afterwards). Under the lock.
    fn migrate_locked(
        &mut self,
        index: &mut Index,
        read: &IndexRead,
    ) -> Result<bool, RegistryError> {
        for record in &index.models {
            // A model whose bytes are already missing stays missing (and reported by `get`).
            if let Some(bytes) = self.store.read_model(&ModelKey::legacy(&record.version))? {
                self.store
                    .write_model(&ModelKey::new(&record.log_type, &record.version), &bytes)?;
            }
        }
        index.legacy = false;
        Ok(self.store.replace_index(&index.to_json(), read)?)
    }

    fn change_locked<T>(
        &mut self,
        apply: &mut impl FnMut(&mut Index) -> Result<Change<T>, RegistryError>,
    ) -> Result<T, RegistryError> {
        let mut reserved = BTreeSet::new();
        for _ in 0..MAX_ATTEMPTS {
            let read = self.store.read_index_tagged()?;
            let mut index = match &read.bytes {
                Some(bytes) => Index::from_json(bytes)?,
                None => Index::default(),
            };
            let mut read = read;
            let migrated = index.legacy;
            if migrated {
                if !self.migrate_locked(&mut index, &read)? {
                    continue;
                }
                read = self.store.read_index_tagged()?;
            }
            index.reserved = reserved.clone();
            let before: Vec<ModelKey> = index.models.iter().map(|m| key_of(&index, m)).collect();
            let change = apply(&mut index)?;
            if change.dirty {
                if let Some((key, bytes)) = &change.new_model {
                    // The same bytes already there are the same model (another writer
                    // registering it too, or this writer's own overtaken attempt): listed as is.
                    if !self.store.create_model(key, bytes)?
                        && self.store.read_model(key)?.as_deref() != Some(bytes)
                    {
                        // Another writer's model, not listed yet (or never: an orphan).
                        reserved.insert(key.version.clone());
                        continue;
                    }
                }
                // Overtaken: apply again. A model this attempt stored is left alone (another
                // writer may list the same bytes meanwhile); if none does, it is an orphan the
                // store lets go once settled.
                if !self.store.replace_index(&index.to_json(), &read)? {
                    continue;
                }
            } else if !migrated
                && !self
                    .store
                    .list_models()
                    .is_ok_and(|keys| keys.iter().any(ModelKey::is_legacy))
            {
                return Ok(change.value);
            }
            self.remove_unlisted(&index, &before);
            return Ok(change.value);
        }
        Err(RegistryError::Storage(StorageError::new(format!(
            "the registry index changed under {MAX_ATTEMPTS} attempts in a row: other writers \
             keep changing it; try again"
        ))))
    }

    /// Removes what is stored but no longer listed, once the change is done (the index
    /// written): the models this change dropped (deleted or pruned; `before` is what the index
    /// listed before it), and what the store says may go (orphans of an earlier crash, the old
    /// copies of a migration). If removing fails, it stays an ignored orphan until the next
    /// change tries again.
    fn remove_unlisted(&mut self, index: &Index, before: &[ModelKey]) {
        let listed = |key: &ModelKey| {
            index
                .get(&key.version)
                .is_ok_and(|m| *key == ModelKey::new(&m.log_type, &m.version))
        };
        let removable = self.store.list_removable_models().unwrap_or_default();
        for key in before.iter().chain(&removable) {
            if !listed(key) && key.is_valid() {
                let _ = self.store.remove_model(key);
            }
        }
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
        check_log_type(&artifact)?;
        let mut micros =
            version_micros(&artifact.version).ok_or_else(|| RegistryError::InvalidModel {
                reason: format!("version {:?} is not YYYYMMDD_HHMMSS", artifact.version),
            })?;
        self.change(|index| {
            while index.contains(&version_string(micros))
                || index.reserved.contains(&version_string(micros))
            {
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
                new_model: Some((ModelKey::new(&record.log_type, &version), bytes)),
                value: record,
                dirty: true,
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
        check_log_type(&artifact)?;
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
            if index.reserved.contains(&record.version) {
                return Err(RegistryError::VersionTaken {
                    version: record.version.clone(),
                });
            }
            index.insert(record.clone());
            Ok(Change {
                new_model: Some((
                    ModelKey::new(&record.log_type, &record.version),
                    bytes.to_vec(),
                )),
                value: (record.clone(), true),
                dirty: true,
            })
        })
    }

    /// Deploys a model `at`; the model of its log type deployed until now, if another, is
    /// archived. Models of other log types are left alone.
    pub fn deploy(&mut self, version: &str, at: i64) -> Result<Transition, RegistryError> {
        self.deploy_expecting(version, at, None)
    }

    /// Like [`deploy`](Self::deploy), if the deployed model of the model's log type is
    /// `expected` when the change is made (`Some(None)`: none is deployed); otherwise
    /// [`RegistryError::Conflict`] and nothing changes. Checked under the lock, so two people
    /// deploying at once cannot both win.
    pub fn deploy_expecting(
        &mut self,
        version: &str,
        at: i64,
        expected: Option<Option<&str>>,
    ) -> Result<Transition, RegistryError> {
        self.change(|index| {
            let log_type = index.get(version)?.log_type.clone();
            if let Some(expected) = expected {
                let actual = index.deployed(&log_type).map(|m| m.version.as_str());
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
            deploy_in(index, version, at, DeploymentAction::Deploy)
        })
    }

    /// Re-deploys the model of `log_type` deployed before the current one `at` (when none is
    /// deployed: the last one deployed). Successive rollbacks walk further back through the
    /// history, past models deleted since; [`RegistryError::NothingToRollBack`] when there is
    /// no such model.
    pub fn rollback(&mut self, log_type: &str, at: i64) -> Result<Transition, RegistryError> {
        self.change(|index| {
            let target = index
                .rollback_target(log_type)
                .map(|m| m.version.clone())
                .ok_or_else(|| RegistryError::NothingToRollBack {
                    log_type: log_type.to_owned(),
                })?;
            deploy_in(index, &target, at, DeploymentAction::Rollback)
        })
    }

    /// Archives a ready or deployed model `at` (after which none of its log type is deployed).
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
            let now = format_iso8601(at);
            model.status = ModelStatus::Archived;
            model.archived_at = Some(now.clone());
            let model = model.clone();
            if from == ModelStatus::Deployed {
                index.record_event(undeploy(&model, now));
            }
            Ok(Change::index(Transition {
                model,
                from,
                displaced: None,
            }))
        })
    }

    /// Deletes a model and its bytes `at`. A deployed model is refused unless `force` (and its
    /// removal is recorded as an undeploy).
    pub fn delete(
        &mut self,
        version: &str,
        force: bool,
        at: i64,
    ) -> Result<ModelRecord, RegistryError> {
        self.change(|index| {
            let position = index.position(version)?;
            let deployed = index.models[position].status == ModelStatus::Deployed;
            if deployed && !force {
                return Err(RegistryError::Deployed {
                    version: version.to_owned(),
                });
            }
            let removed = index.models.remove(position);
            if deployed {
                index.record_event(undeploy(&removed, format_iso8601(at)));
            }
            Ok(Change::index(removed))
        })
    }

    /// Keeps the newest `keep_last` versions of each log type, and the deployed models whatever
    /// their age; deletes the rest. Returns what was deleted, newest first.
    pub fn prune(&mut self, keep_last: usize) -> Result<Vec<ModelRecord>, RegistryError> {
        self.change(|index| {
            let mut removed = Vec::new();
            let mut kept = Vec::new();
            let mut seen: Vec<(String, usize)> = Vec::new();
            for m in std::mem::take(&mut index.models) {
                let rank = match seen.iter_mut().find(|(t, _)| *t == m.log_type) {
                    Some((_, n)) => {
                        *n += 1;
                        *n - 1
                    }
                    None => {
                        seen.push((m.log_type.clone(), 1));
                        0
                    }
                };
                if rank < keep_last || m.status == ModelStatus::Deployed {
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

/// A model can only be filed under a well-formed log type.
fn check_log_type(artifact: &ModelArtifact) -> Result<(), RegistryError> {
    if is_valid_log_type(&artifact.log_type) {
        Ok(())
    } else {
        Err(RegistryError::InvalidModel {
            reason: format!(
                "log type {:?} is not a lowercase name (a-z, 0-9, _ and -, 32 at most)",
                artifact.log_type
            ),
        })
    }
}

/// The history entry of `model` leaving service.
fn undeploy(model: &ModelRecord, at: String) -> DeploymentEvent {
    DeploymentEvent {
        at,
        log_type: model.log_type.clone(),
        action: DeploymentAction::Undeploy,
        version: model.version.clone(),
        previous: None,
    }
}

/// Deploys `version` in `index` (archiving the deployed model of its log type) and records it.
fn deploy_in(
    index: &mut Index,
    version: &str,
    at: i64,
    action: DeploymentAction,
) -> Result<Change<Transition>, RegistryError> {
    let position = index.position(version)?;
    let from = index.models[position].status;
    if from == ModelStatus::Deployed {
        return Ok(Change::none(Transition {
            model: index.models[position].clone(),
            from,
            displaced: None,
        }));
    }
    let log_type = index.models[position].log_type.clone();
    let now = format_iso8601(at);
    let mut displaced = None;
    for m in &mut index.models {
        if m.status == ModelStatus::Deployed && m.log_type == log_type {
            m.status = ModelStatus::Archived;
            m.archived_at = Some(now.clone());
            displaced = Some(m.clone());
        }
    }
    let model = &mut index.models[position];
    model.status = ModelStatus::Deployed;
    model.deployed_at = Some(now.clone());
    model.archived_at = None;
    let model = model.clone();
    index.record_event(DeploymentEvent {
        at: now,
        log_type,
        action,
        version: model.version.clone(),
        previous: displaced.as_ref().map(|d: &ModelRecord| d.version.clone()),
    });
    Ok(Change::index(Transition {
        model,
        from,
        displaced,
    }))
}
