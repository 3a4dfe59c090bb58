//! What the registry knows about each model, and the index file that lists them.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::RegistryError;
use crate::pipeline::{version_string, ModelArtifact};
use crate::time::{days_from_civil, MICROS_PER_SECOND};

/// The `format` field of the index.
pub const INDEX_FORMAT: &str = "mcp-train-registry";
/// The index layout this build writes and reads.
pub const INDEX_FORMAT_VERSION: u32 = 1;

/// Where a model is in its life: `ready` → `deployed` (at most one at a time) → `archived`.
/// An archived model may be deployed again (a rollback).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelStatus {
    /// Registered, not deployed yet.
    Ready,
    /// The model in service; at most one at a time.
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRecord {
    /// `YYYYMMDD_HHMMSS`, unique in the registry; the same as the stored model's `version`.
    pub version: String,
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

/// The registry index: every registered model, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Index {
    pub models: Vec<ModelRecord>,
}

#[derive(Serialize)]
struct IndexFileRef<'a> {
    format: &'a str,
    format_version: u32,
    models: &'a [ModelRecord],
}

/// The body of the index; `format` and `format_version` are checked through the header first.
#[derive(Deserialize)]
struct IndexFile {
    models: Vec<ModelRecord>,
}

impl Index {
    /// The index file's bytes: pretty JSON with a trailing newline.
    pub fn to_json(&self) -> Vec<u8> {
        let file = IndexFileRef {
            format: INDEX_FORMAT,
            format_version: INDEX_FORMAT_VERSION,
            models: &self.models,
        };
        let mut bytes = serde_json::to_vec_pretty(&file).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Reads and checks an index file.
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
        match header.format_version.as_ref() {
            Some(v) if v.as_u64() == Some(u64::from(INDEX_FORMAT_VERSION)) => {}
            Some(v) => {
                return Err(corrupt(format!(
                    "format_version {v} is not supported (this build reads version {INDEX_FORMAT_VERSION})"
                )))
            }
            None => return Err(corrupt("format_version is missing".to_owned())),
        }
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
            if models
                .get(i + 1)
                .is_some_and(|next| next.version == m.version)
            {
                return Err(corrupt(format!("version {} is listed twice", m.version)));
            }
        }
        let deployed: Vec<&str> = models
            .iter()
            .filter(|m| m.status == ModelStatus::Deployed)
            .map(|m| m.version.as_str())
            .collect();
        if deployed.len() > 1 {
            return Err(corrupt(format!(
                "more than one model is deployed ({})",
                deployed.join(", ")
            )));
        }
        Ok(Index { models })
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

    pub fn deployed(&self) -> Option<&ModelRecord> {
        self.models
            .iter()
            .find(|m| m.status == ModelStatus::Deployed)
    }

    /// Adds a record, keeping the newest-first order.
    pub fn insert(&mut self, record: ModelRecord) {
        let at = self
            .models
            .partition_point(|m| m.version.as_str() > record.version.as_str());
        self.models.insert(at, record);
    }
}
