//! `model.json`: everything needed to score new logs, readable by any language with a JSON parser.
//!
//! It holds the feature schema (names, order, extractor version and the training process
//! vocabulary), the fitted scaler, the detector's parameters and fitted state (trees as flat
//! arrays), the offset and threshold, training and evaluation metadata, and lineage (the export's
//! file name, size and SHA-256). Loading checks the format, its version and the schema before
//! anything is scored, so a model from elsewhere is refused with a reason instead of scoring
//! garbage.

use serde::{Deserialize, Serialize};

use crate::agent::{FeatureState, PROTOCOL_VERSION};
use crate::config::{IsolationForestConfig, LofConfig};
use crate::evaluate::{
    ClassificationMetrics, Curve, FeatureImportance, Histogram, ScoreStats, ThresholdCheck,
};
use crate::features::{FeatureSchema, EXTRACTOR_VERSION, SCHEMA_NAME};
use crate::model::lof::MAX_ABS_VALUE;
use crate::model::{
    IsolationForest, LocalOutlierFactor, Matrix, ModelError, OutlierDetector, StandardScaler,
};

/// The `format` field of every model file.
pub const MODEL_FORMAT: &str = "mcp-train-model";
/// The model file layout this build writes and reads.
pub const MODEL_FORMAT_VERSION: u32 = 1;

/// The features a model expects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InputSchema {
    /// Extracted from exports by this crate (`wifi-v1`).
    Export(FeatureSchema),
    /// Extracted from logs of another log type by that type's agent ([`crate::agent`]).
    Agent(FeatureState),
    /// Brought by the user as a CSV with these columns, in this order.
    FeaturesCsv {
        /// The CSV's feature columns, in order.
        features: Vec<String>,
    },
}

impl InputSchema {
    /// Feature names in order.
    pub fn feature_names(&self) -> &[String] {
        match self {
            InputSchema::Export(schema) => &schema.features,
            InputSchema::Agent(state) => &state.features,
            InputSchema::FeaturesCsv { features } => features,
        }
    }

    /// The agent feature state behind the columns: `None` for a features CSV. A `wifi-v1`
    /// schema becomes the wifi agent's state (the schema itself, as JSON).
    pub fn feature_state(&self) -> Option<FeatureState> {
        match self {
            InputSchema::Export(schema) => Some(FeatureState {
                log_type: WIFI_LOG_TYPE.to_owned(),
                schema: schema.name.clone(),
                features: schema.features.clone(),
                state: serde_json::to_value(schema).unwrap_or_default(),
            }),
            InputSchema::Agent(state) => Some(state.clone()),
            InputSchema::FeaturesCsv { .. } => None,
        }
    }
}

/// The log type of models trained on WiFi exports (and of model files written before log
/// types existed).
pub const WIFI_LOG_TYPE: &str = "wifi";

fn default_log_type() -> String {
    WIFI_LOG_TYPE.to_owned()
}

fn default_protocol_version() -> String {
    PROTOCOL_VERSION.to_owned()
}

/// The fitted detector and the parameters it was fitted with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Detector {
    /// An isolation forest.
    IsolationForest {
        /// Hyperparameters the forest was fitted with.
        params: IsolationForestConfig,
        /// The fitted trees, as flat arrays.
        model: IsolationForest,
    },
    /// A local outlier factor detector.
    Lof {
        /// Hyperparameters the detector was fitted with.
        params: LofConfig,
        /// The fitted state: the training points and their neighbourhoods.
        model: LocalOutlierFactor,
    },
}

impl Detector {
    /// `isolation_forest` or `lof`.
    pub fn name(&self) -> &'static str {
        match self {
            Detector::IsolationForest { .. } => "isolation_forest",
            Detector::Lof { .. } => "lof",
        }
    }
}

impl Detector {
    fn fitted(&self) -> &dyn OutlierDetector {
        match self {
            Detector::IsolationForest { model, .. } => model,
            Detector::Lof { model, .. } => model,
        }
    }
}

impl OutlierDetector for Detector {
    fn n_features(&self) -> usize {
        self.fitted().n_features()
    }
    fn offset(&self) -> f64 {
        self.fitted().offset()
    }
    fn score_samples_into(&self, x: Matrix<'_>, out: &mut [f64]) -> Result<(), ModelError> {
        self.fitted().score_samples_into(x, out)
    }
}

/// How the model decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Threshold {
    /// `decision = score − offset`.
    pub offset: f64,
    /// A record is an anomaly when its decision value is below this (always 0.0): equivalently,
    /// when its score is below `offset`.
    pub decision_threshold: f64,
    /// How `offset` was chosen: `auto` or `contamination=<fraction>`.
    pub method: String,
}

/// How the model was trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TrainingInfo {
    /// Rows the detector was fitted on.
    pub samples: usize,
    /// Features per row.
    pub features: usize,
    /// Rows held out for evaluation (labelled input only).
    pub test_samples: usize,
    /// Seed of the split and the detector; the same data, parameters and seed give the same model.
    pub seed: u64,
    /// Wall-clock milliseconds as measured by the caller (0 when reproducible builds are
    /// requested with `SOURCE_DATE_EPOCH`).
    pub duration_ms: f64,
    /// Records dropped as invalid (with drop-invalid).
    pub dropped_records: usize,
    /// Whether the input carried anomaly labels.
    pub labelled: bool,
}

/// Evaluation results stored with the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// `score_samples` over all rows.
    pub score_stats: ScoreStats,
    /// Share of all rows the model flags as anomalies.
    pub anomaly_ratio: f64,
    /// Histogram of all scores, for plots (the threshold is `threshold.offset`).
    pub score_histogram: Histogram,
    /// Metrics on the held-out test rows (labelled input only).
    pub metrics: Option<ClassificationMetrics>,
    /// ROC curve on the held-out rows (labelled input only).
    pub roc_curve: Option<Curve>,
    /// Precision–recall curve on the held-out rows (labelled input only).
    pub pr_curve: Option<Curve>,
    /// Each configured acceptance threshold and whether the model met it.
    pub threshold_checks: Vec<ThresholdCheck>,
    /// Permutation importance of each feature for the scores.
    pub feature_importance: Vec<FeatureImportance>,
}

/// Where the training data came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Lineage {
    /// `export` or `features_csv`.
    pub source: String,
    /// Name of the input file.
    pub file_name: String,
    /// Size of the input file, in bytes.
    pub size_bytes: u64,
    /// Lower-case hex SHA-256 of the input file.
    pub sha256: String,
    /// The export's own id, from its metadata, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_id: Option<String>,
    /// Records (rows) read from the input.
    pub records: usize,
    /// Start, end and span of the export's records, when it has timestamps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_range: Option<crate::export::TimeRange>,
}

/// The whole model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelArtifact {
    /// Always [`MODEL_FORMAT`]; identifies the file as an mcp-train model.
    pub format: String,
    /// Layout version of the file; a loader refuses any other than [`MODEL_FORMAT_VERSION`].
    pub format_version: u32,
    /// `YYYYMMDD_HHMMSS` of `created_at`.
    pub version: String,
    /// When the model was trained (ISO 8601, UTC).
    pub created_at: String,
    /// `mcp-train <version>`.
    pub generator: String,
    /// The log type the model serves (`wifi`, `dns`, `firewall`, `syslog`; `wifi` when the
    /// file predates log types).
    #[serde(default = "default_log_type")]
    pub log_type: String,
    /// The agent protocol version the model was made under (semver).
    #[serde(default = "default_protocol_version")]
    pub protocol_version: String,
    /// The features the model expects, in order.
    pub input: InputSchema,
    /// The fitted standard scaler applied before scoring.
    pub scaler: StandardScaler,
    /// The fitted detector and its parameters.
    pub detector: Detector,
    /// How scores become anomaly decisions.
    pub threshold: Threshold,
    /// How the model was trained.
    pub training: TrainingInfo,
    /// How the model scored.
    pub evaluation: Evaluation,
    /// Where the training data came from.
    pub lineage: Lineage,
}

/// Why a model file cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArtifactError {
    /// The bytes are not valid JSON or not the shape of a model file.
    #[error("not a model file: {0}")]
    Corrupt(String),
    /// The `format` field names something other than [`MODEL_FORMAT`].
    #[error("not an mcp-train model (format {0:?})")]
    WrongFormat(String),
    /// The file's layout version is not the one this build reads.
    #[error("model format version {found} is not supported (this build reads version {MODEL_FORMAT_VERSION})")]
    WrongVersion {
        /// The `format_version` the file declares.
        found: u64,
    },
    /// The model was trained on a feature schema this build does not extract.
    #[error("model uses feature schema {name} {version}; this build extracts {SCHEMA_NAME} {EXTRACTOR_VERSION}")]
    WrongSchema {
        /// The feature schema the model was trained with.
        name: String,
        /// The extractor version the model was trained with.
        version: String,
    },
    /// The parts disagree (e.g. feature counts, or the stored offset and the detector's).
    #[error("model is inconsistent: {0}")]
    Inconsistent(String),
}

impl ModelArtifact {
    /// The file's bytes: pretty JSON with a trailing newline (stable key order, so the same model
    /// always gives the same bytes).
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Reads and checks a model file.
    pub fn from_json(bytes: &[u8]) -> Result<ModelArtifact, ArtifactError> {
        // Look at the header first, so another format or version gets its own message rather
        // than a field-level parse error.
        #[derive(Deserialize)]
        struct Header {
            format: Option<String>,
            format_version: Option<serde_json::Value>,
        }
        let header: Header =
            serde_json::from_slice(bytes).map_err(|e| ArtifactError::Corrupt(e.to_string()))?;
        match header.format.as_deref() {
            Some(MODEL_FORMAT) => {}
            other => {
                return Err(ArtifactError::WrongFormat(
                    other.unwrap_or("missing").to_owned(),
                ))
            }
        }
        match header
            .format_version
            .as_ref()
            .and_then(serde_json::Value::as_u64)
        {
            Some(v) if v == u64::from(MODEL_FORMAT_VERSION) => {}
            Some(found) => return Err(ArtifactError::WrongVersion { found }),
            None => {
                return Err(ArtifactError::Corrupt(
                    "format_version is missing".to_owned(),
                ))
            }
        }
        let artifact: ModelArtifact =
            serde_json::from_slice(bytes).map_err(|e| ArtifactError::Corrupt(e.to_string()))?;
        artifact.check()?;
        Ok(artifact)
    }

    /// Checks that the parts fit together.
    pub fn check(&self) -> Result<(), ArtifactError> {
        match &self.input {
            InputSchema::Export(_) if self.log_type != WIFI_LOG_TYPE => {
                return Err(ArtifactError::Inconsistent(format!(
                    "log_type is {:?} but the features are {SCHEMA_NAME}, which only WiFi logs have",
                    self.log_type
                )));
            }
            InputSchema::Agent(state) => {
                if state.log_type != self.log_type {
                    return Err(ArtifactError::Inconsistent(format!(
                        "log_type is {:?} but the feature state is for {:?}",
                        self.log_type, state.log_type
                    )));
                }
                if state.features.is_empty() {
                    return Err(ArtifactError::Inconsistent(format!(
                        "the {} feature state names no features",
                        state.schema
                    )));
                }
            }
            _ => {}
        }
        if let InputSchema::Export(schema) = &self.input {
            let major = |v: &str| v.split('.').next().unwrap_or_default().to_owned();
            if schema.name != SCHEMA_NAME
                || major(&schema.extractor_version) != major(EXTRACTOR_VERSION)
            {
                return Err(ArtifactError::WrongSchema {
                    name: schema.name.clone(),
                    version: schema.extractor_version.clone(),
                });
            }
            if schema.features != crate::features::feature_names(&schema.config) {
                return Err(ArtifactError::Inconsistent(
                    "feature names do not match the schema's configuration".to_owned(),
                ));
            }
        }
        let n = self.input.feature_names().len();
        if self.scaler.n_features() != n {
            return Err(ArtifactError::Inconsistent(format!(
                "scaler has {} features, schema has {n}",
                self.scaler.n_features()
            )));
        }
        if self.detector.n_features() != n {
            return Err(ArtifactError::Inconsistent(format!(
                "detector has {} features, schema has {n}",
                self.detector.n_features()
            )));
        }
        if self.threshold.offset.to_bits() != self.detector.offset().to_bits() {
            return Err(ArtifactError::Inconsistent(
                "threshold.offset differs from the detector's offset".to_owned(),
            ));
        }
        if let Detector::Lof { .. } = self.detector {
            // LOF measures distances to its (scaled) training rows, which lie within
            // ±MAX_ABS_VALUE; a raw 0 that scales beyond that makes squared distances overflow
            // and every score -inf. A fitted scaler never puts 0 that far out.
            let far = self
                .scaler
                .mean()
                .iter()
                .zip(self.scaler.scale())
                .enumerate()
                .find(|(_, (m, s))| (*m / *s).abs() > MAX_ABS_VALUE);
            if let Some((j, (m, s))) = far {
                return Err(ArtifactError::Inconsistent(format!(
                    "scaler.mean[{j}]: {m:e} with scale {s:e} puts a raw 0 beyond \
                     ±{MAX_ABS_VALUE:e} standard units, where LOF distances overflow"
                )));
            }
        }
        // Packages derive the score percentile (100 × the ratio) from it.
        let ratio = self.evaluation.anomaly_ratio;
        if !(0.0..=1.0).contains(&ratio) {
            return Err(ArtifactError::Inconsistent(format!(
                "evaluation.anomaly_ratio: {ratio:e} is not a share between 0 and 1"
            )));
        }
        Ok(())
    }

    /// Scores raw (unscaled) feature rows: `(score, decision)` per row.
    pub fn score_rows(&self, data: &[f64]) -> Result<Vec<(f64, f64)>, ModelError> {
        let n_cols = self.scaler.n_features();
        let matrix = Matrix::new(data, n_cols)?;
        let scaled = self.scaler.transform(matrix)?;
        let scaled = Matrix::new(&scaled, n_cols)?;
        let mut scores = vec![0.0; scaled.n_rows()];
        crate::model::score_in_parallel(&self.detector, scaled, &mut scores)?;
        let offset = self.threshold.offset;
        Ok(scores.into_iter().map(|s| (s, s - offset)).collect())
    }
}

/// `YYYYMMDD_HHMMSS` of a UTC instant.
pub fn version_string(micros: i64) -> String {
    let c = crate::time::CivilTime::from_micros(micros);
    format!(
        "{:04}{:02}{:02}_{:02}{:02}{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}
