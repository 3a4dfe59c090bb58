//! What the registry knows about each model, and the index file that lists them.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::RegistryError;
use crate::pipeline::{version_string, ModelArtifact};
use crate::time::{days_from_civil, MICROS_PER_SECOND};

/// The `format` field of the index.
pub const INDEX_FORMAT: &str = "mcp-train-registry";
/// The index layout this build writes and reads. Version 1 (models at `models/<version>/`, no
/// log types, no history) is still read, and migrated on the first change
/// ([`Registry::migrate`](super::Registry::migrate)).
pub const INDEX_FORMAT_VERSION: u32 = 2;
/// The index layout before log types: read, never written.
pub const LEGACY_INDEX_FORMAT_VERSION: u32 = 1;
/// Deployment events kept in the index; older ones are forgotten (rollback reaches no further).
pub const HISTORY_LIMIT: usize = 1_000;

/// Where a model is in its life: `ready` → `deployed` (at most one per log type) → `archived`.
/// An archived model may be deployed again (a rollback).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ModelStatus {
    /// Registered, not deployed yet.
    Ready,
    /// The model in service; at most one per log type.
    Deployed,
    /// Deployed before and replaced; may be deployed again.
    Archived,
}

impl ModelStatus {
    /// `ready`, `deployed` or `archived`.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelStatus::Ready => "ready",
            ModelStatus::Deployed => "deployed",
            ModelStatus::Archived => "archived",
        }
    }
}

impl fmt::Display for ModelStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The headline numbers of a model, enough to compare models in a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MetricsSummary {
    /// Share of the training rows the model flags.
    pub anomaly_ratio: f64,
    /// On the held-out rows, when the data was labelled (and both classes occurred).
    #[serde(default)]
    pub roc_auc: Option<f64>,
    /// On the held-out rows, when the data was labelled.
    #[serde(default)]
    pub f1: Option<f64>,
}

/// One registered model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ModelRecord {
    /// `YYYYMMDD_HHMMSS`, unique in the registry (across log types); the same as the stored
    /// model's `version`.
    pub version: String,
    /// The log type the model serves (`wifi` for models registered before log types).
    #[serde(default = "wifi")]
    pub log_type: String,
    /// Where the model is in its life.
    pub status: ModelStatus,
    /// When the model was trained (the model's `created_at`).
    pub created_at: String,
    /// When the model joined the registry (ISO 8601 UTC).
    pub registered_at: String,
    /// When the model was last deployed.
    #[serde(default)]
    pub deployed_at: Option<String>,
    /// When the model was archived (cleared when it is deployed again).
    #[serde(default)]
    pub archived_at: Option<String>,
    /// `isolation_forest` or `lof`.
    pub detector: String,
    /// Rows the detector was fitted on.
    pub samples: usize,
    /// Feature columns the detector takes.
    pub features: usize,
    /// Size of the stored `model.json`.
    pub size_bytes: u64,
    /// SHA-256 (lowercase hex) of the stored `model.json`.
    pub sha256: String,
    /// The file the model was trained on.
    pub lineage_file: String,
    /// Headline metrics for comparing models.
    pub metrics: MetricsSummary,
}

impl ModelRecord {
    /// The record of `artifact` stored as `bytes`, registered at `registered_at`.
    pub(super) fn new(artifact: &ModelArtifact, bytes: &[u8], registered_at: String) -> Self {
        let metrics = artifact.evaluation.metrics.as_ref();
        ModelRecord {
            version: artifact.version.clone(),
            log_type: artifact.log_type.clone(),
            status: ModelStatus::Ready,
            created_at: artifact.created_at.clone(),
            registered_at,
            deployed_at: None,
            archived_at: None,
            detector: artifact.detector.name().to_owned(),
            samples: artifact.training.samples,
            features: artifact.training.features,
            size_bytes: bytes.len() as u64,
            sha256: sha256_hex(bytes),
            lineage_file: artifact.lineage.file_name.clone(),
            metrics: MetricsSummary {
                anomaly_ratio: artifact.evaluation.anomaly_ratio,
                roc_auc: metrics.and_then(|m| m.roc_auc),
                f1: metrics.map(|m| m.f1),
            },
        }
    }
}

pub use crate::pipeline::sha256_hex;

fn wifi() -> String {
    crate::pipeline::WIFI_LOG_TYPE.to_owned()
}

/// Whether `log_type` can name a log type in a registry (and a directory on disk): 1 to 32
/// characters, a lowercase ASCII letter first, then lowercase letters, digits, `_` or `-`. No
/// log type is a version, so both can share a directory.
pub fn is_valid_log_type(log_type: &str) -> bool {
    let b = log_type.as_bytes();
    (1..=32).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'_' | b'-'))
}

/// What a deployment event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentAction {
    /// A model was deployed (the one deployed before for its log type, if any, archived).
    Deploy,
    /// The previously deployed model of a log type was deployed again
    /// ([`Registry::rollback`](super::Registry::rollback)).
    Rollback,
    /// The deployed model was archived or deleted; none is deployed for its log type.
    Undeploy,
}

impl DeploymentAction {
    /// `deploy`, `rollback` or `undeploy`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentAction::Deploy => "deploy",
            DeploymentAction::Rollback => "rollback",
            DeploymentAction::Undeploy => "undeploy",
        }
    }
}

impl fmt::Display for DeploymentAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of the deployment history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentEvent {
    /// When it happened (ISO 8601 UTC).
    pub at: String,
    /// The log type concerned.
    pub log_type: String,
    /// What happened.
    pub action: DeploymentAction,
    /// The model deployed (deploy, rollback) or taken out of service (undeploy).
    pub version: String,
    /// The model of that log type deployed until then, if another.
    #[serde(default)]
    pub previous: Option<String>,
}

/// The instant (microseconds since the epoch, UTC) a `YYYYMMDD_HHMMSS` version names, or `None`
/// when the text is not exactly such a version. Only what this accepts is ever used as a storage
/// key, so a version can never name a path outside the registry.
pub fn version_micros(version: &str) -> Option<i64> {
    let b = version.as_bytes();
    if b.len() != 15 || b[8] != b'_' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        b[range].iter().try_fold(0i64, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0'))
        })
    };
    let (year, month, day) = (number(0..4)?, number(4..6)?, number(6..8)?);
    let (hour, minute, second) = (number(9..11)?, number(11..13)?, number(13..15)?);
    let month = u32::try_from(month).ok()?;
    let day = u32::try_from(day).ok()?;
    let micros = (days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
        * MICROS_PER_SECOND;
    // Formatting back catches the 31st of February, hour 24 and the like.
    (version_string(micros) == version).then_some(micros)
}

/// Whether `version` is a well-formed `YYYYMMDD_HHMMSS` version.
pub fn is_valid_version(version: &str) -> bool {
    version_micros(version).is_some()
}

/// The registry index: every registered model, newest first, and the deployment history,
/// oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Index {
    pub models: Vec<ModelRecord>,
    pub history: Vec<DeploymentEvent>,
    /// Read from a version 1 index: the models are still stored under their version alone.
    pub legacy: bool,
    /// Versions not to give a new model although the index does not list them: another writer
    /// stored a different model under them and has not listed it yet (or never will: an orphan).
    /// Not written.
    pub reserved: std::collections::BTreeSet<String>,
}

#[derive(Serialize)]
struct IndexFileRef<'a> {
    format: &'a str,
    format_version: u32,
    models: &'a [ModelRecord],
    history: &'a [DeploymentEvent],
}

/// The body of the index; `format` and `format_version` are checked through the header first.
#[derive(Deserialize)]
struct IndexFile {
    models: Vec<ModelRecord>,
    #[serde(default)]
    history: Vec<DeploymentEvent>,
}

impl Index {
    /// The index file's bytes (always the current layout): pretty JSON with a trailing newline.
    pub fn to_json(&self) -> Vec<u8> {
        let file = IndexFileRef {
            format: INDEX_FORMAT,
            format_version: INDEX_FORMAT_VERSION,
            models: &self.models,
            history: &self.history,
        };
        let mut bytes = serde_json::to_vec_pretty(&file).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Reads and checks an index file of the current layout or of version 1 (whose models are
    /// all `wifi`, and whose history is rebuilt from the models' deployment times).
    pub fn from_json(bytes: &[u8]) -> Result<Index, RegistryError> {
        let corrupt = |reason: String| RegistryError::CorruptIndex { reason };
        // The header first, so another format or version gets its own message rather than a
        // field-level parse error.
        #[derive(Deserialize)]
        struct Header {
            format: Option<serde_json::Value>,
            format_version: Option<serde_json::Value>,
        }
        let header: Header =
            serde_json::from_slice(bytes).map_err(|e| corrupt(format!("not valid JSON: {e}")))?;
        match header.format.as_ref() {
            Some(serde_json::Value::String(f)) if f == INDEX_FORMAT => {}
            Some(other) => return Err(corrupt(format!("format {other} is not {INDEX_FORMAT:?}"))),
            None => {
                return Err(corrupt(format!(
                    "no \"format\": not an {INDEX_FORMAT} index"
                )))
            }
        }
        let legacy = match header.format_version.as_ref() {
            Some(v) if v.as_u64() == Some(u64::from(INDEX_FORMAT_VERSION)) => false,
            Some(v) if v.as_u64() == Some(u64::from(LEGACY_INDEX_FORMAT_VERSION)) => true,
            Some(v) => {
                return Err(corrupt(format!(
                    "format_version {v} is not supported (this build reads versions {LEGACY_INDEX_FORMAT_VERSION} and {INDEX_FORMAT_VERSION})"
                )))
            }
            None => return Err(corrupt("format_version is missing".to_owned())),
        };
        let file: IndexFile = serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
        let mut models = file.models;
        models.sort_by(|a, b| b.version.cmp(&a.version));
        for (i, m) in models.iter().enumerate() {
            if !is_valid_version(&m.version) {
                return Err(corrupt(format!(
                    "version {:?} is not YYYYMMDD_HHMMSS",
                    m.version
                )));
            }
            if legacy && m.log_type != crate::pipeline::WIFI_LOG_TYPE {
                return Err(corrupt(format!(
                    "model {} has a log type in a version {LEGACY_INDEX_FORMAT_VERSION} index",
                    m.version
                )));
            }
            if !is_valid_log_type(&m.log_type) {
                return Err(corrupt(format!(
                    "model {}: log type {:?} is not a lowercase name",
                    m.version, m.log_type
                )));
            }
            if models
                .get(i + 1)
                .is_some_and(|next| next.version == m.version)
            {
                return Err(corrupt(format!("version {} is listed twice", m.version)));
            }
        }
        let mut deployed: Vec<(&str, &str)> = models
            .iter()
            .filter(|m| m.status == ModelStatus::Deployed)
            .map(|m| (m.log_type.as_str(), m.version.as_str()))
            .collect();
        deployed.sort();
        for pair in deployed.windows(2) {
            if pair[0].0 == pair[1].0 {
                let same: Vec<&str> = deployed
                    .iter()
                    .filter(|(t, _)| *t == pair[0].0)
                    .map(|(_, v)| *v)
                    .collect();
                return Err(corrupt(format!(
                    "more than one model is deployed for log type {} ({})",
                    pair[0].0,
                    same.join(", ")
                )));
            }
        }
        for e in &file.history {
            if !is_valid_version(&e.version) || !is_valid_log_type(&e.log_type) {
                return Err(corrupt(format!(
                    "history event {} of {:?} at {} names no valid model",
                    e.action, e.version, e.at
                )));
            }
        }
        let history = if legacy {
            legacy_history(&models)
        } else {
            file.history
        };
        Ok(Index {
            models,
            history,
            legacy,
            reserved: Default::default(),
        })
    }

    /// Whether `version` is in the index.
    pub fn contains(&self, version: &str) -> bool {
        self.models.iter().any(|m| m.version == version)
    }

    /// Where `version` is in the index.
    pub fn position(&self, version: &str) -> Result<usize, RegistryError> {
        self.models
            .iter()
            .position(|m| m.version == version)
            .ok_or_else(|| RegistryError::NotFound {
                version: version.to_owned(),
            })
    }

    pub fn get(&self, version: &str) -> Result<&ModelRecord, RegistryError> {
        self.models
            .iter()
            .find(|m| m.version == version)
            .ok_or_else(|| RegistryError::NotFound {
                version: version.to_owned(),
            })
    }

    /// The deployed model of `log_type`.
    pub fn deployed(&self, log_type: &str) -> Option<&ModelRecord> {
        self.models
            .iter()
            .find(|m| m.status == ModelStatus::Deployed && m.log_type == log_type)
    }

    /// Adds a record, keeping the newest-first order.
    pub fn insert(&mut self, record: ModelRecord) {
        let at = self
            .models
            .partition_point(|m| m.version.as_str() > record.version.as_str());
        self.models.insert(at, record);
    }

    /// Appends a deployment event, forgetting the oldest beyond [`HISTORY_LIMIT`].
    pub fn record_event(&mut self, event: DeploymentEvent) {
        self.history.push(event);
        if self.history.len() > HISTORY_LIMIT {
            let excess = self.history.len() - HISTORY_LIMIT;
            self.history.drain(..excess);
        }
    }

    /// The model `rollback` would deploy for `log_type`: the one deployed before the current
    /// one (or, when none is deployed, the last one deployed), walking back through the
    /// history past models deleted since. Successive rollbacks walk further back: the
    /// history is replayed as a stack (deploy pushes, rollback pops).
    pub fn rollback_target(&self, log_type: &str) -> Option<&ModelRecord> {
        let mut stack: Vec<&str> = Vec::new();
        for e in self.history.iter().filter(|e| e.log_type == log_type) {
            match e.action {
                DeploymentAction::Deploy => {}
                DeploymentAction::Rollback => {
                    if e.previous.is_some() && stack.last().copied() == e.previous.as_deref() {
                        stack.pop();
                    }
                }
                DeploymentAction::Undeploy => continue,
            }
            if stack.last() != Some(&e.version.as_str()) {
                stack.push(&e.version);
            }
        }
        let current = self.deployed(log_type).map(|m| m.version.as_str());
        if current.is_some() && stack.last().copied() == current {
            stack.pop();
        }
        while let Some(version) = stack.pop() {
            if Some(version) == current {
                continue;
            }
            if let Ok(model) = self.get(version) {
                return Some(model);
            }
        }
        None
    }
}

/// The history of a version 1 index, rebuilt from its models' last deployment times: a deploy
/// per deployed-once model in time order, and an undeploy of the last one when none is
/// deployed any more.
fn legacy_history(models: &[ModelRecord]) -> Vec<DeploymentEvent> {
    let mut deployed: Vec<&ModelRecord> =
        models.iter().filter(|m| m.deployed_at.is_some()).collect();
    deployed.sort_by(|a, b| (&a.deployed_at, &a.version).cmp(&(&b.deployed_at, &b.version)));
    let mut history: Vec<DeploymentEvent> = Vec::new();
    let mut previous: Option<String> = None;
    for m in &deployed {
        history.push(DeploymentEvent {
            at: m.deployed_at.clone().unwrap_or_default(),
            log_type: m.log_type.clone(),
            action: DeploymentAction::Deploy,
            version: m.version.clone(),
            previous: previous.replace(m.version.clone()),
        });
    }
    if let Some(last) = deployed.last() {
        if last.status != ModelStatus::Deployed {
            history.push(DeploymentEvent {
                at: last.archived_at.clone().unwrap_or_default(),
                log_type: last.log_type.clone(),
                action: DeploymentAction::Undeploy,
                version: last.version.clone(),
                previous: None,
            });
        }
    }
    let excess = history.len().saturating_sub(HISTORY_LIMIT);
    history.drain(..excess);
    history
}
