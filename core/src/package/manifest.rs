//! `metadata.json`, `scaler.json` and `deployment_manifest.json`: their shapes, and how they are
//! derived from a model.
//!
//! Field order is the order of the struct fields, so the bytes are stable; `serde_json`'s
//! shortest round-trip floats mean Python's `json` reads back exactly the values Rust scored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::evaluate::{ClassificationMetrics, FeatureImportance, ScoreStats, ThresholdCheck};
use crate::pipeline::{InputSchema, Lineage, ModelArtifact, Threshold};

/// `package_format` of every manifest.
pub const PACKAGE_FORMAT: &str = "mcp-train-deployment";
/// The package layout this build writes and reads.
pub const PACKAGE_FORMAT_VERSION: u32 = 1;
/// What the scripts need.
pub const PYTHON_REQUIRES: &str = ">=3.8";
/// Largest difference between a consumer's scores and the embedded ones that still passes.
pub const SELF_TEST_TOLERANCE: f64 = 1e-9;
/// The key whose value makes the manifest tamper-evident.
pub const MANIFEST_HASH_KEY: &str = "manifest_sha256";
/// What the manifest's own hash is computed with in place of its value.
pub const MANIFEST_HASH_PLACEHOLDER: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// Suggested agent settings written to `inference_config`.
const BATCH_SIZE: usize = 1000;
const TIMEOUT_SECONDS: u32 = 30;

/// `metadata.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// What the model is: detector, inputs, threshold.
    pub model_info: ModelInfo,
    /// How the model was trained: sample counts, seed, lineage.
    pub training_info: TrainingSummary,
    /// How the model scored on its training and held-out data.
    pub evaluation_info: EvaluationSummary,
    /// The package's format, time and file list.
    pub deployment_info: DeploymentInfo,
}

/// What the model is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Model version: `YYYYMMDD_HHMMSS` of `created_at`; also in the package name.
    pub version: String,
    /// When the model was trained (ISO 8601, UTC).
    pub created_at: String,
    /// The mcp-train build that trained the model (`mcp-train <version>`).
    pub generator: String,
    /// The log type the model serves (`wifi`, `dns`, `firewall`, `syslog`): the agent that
    /// extracts its features.
    #[serde(default = "wifi")]
    pub log_type: String,
    /// The agent protocol version the model was made under (semver).
    #[serde(default = "protocol_version")]
    pub protocol_version: String,
    /// `isolation_forest` or `lof`.
    pub detector: String,
    /// The detector's hyperparameters as trained.
    pub parameters: serde_json::Value,
    /// `export` (features extracted by mcp-train) or `features_csv`.
    pub input_kind: String,
    /// `wifi-v1` for exports; absent for a features CSV.
    pub feature_schema: Option<String>,
    /// Version of the feature extractor that built the training vectors; absent for a features CSV.
    pub extractor_version: Option<String>,
    /// Number of features the model takes, one per entry of `feature_names`.
    pub n_features: usize,
    /// Feature names in the order the model reads them.
    pub feature_names: Vec<String>,
    /// Score cut-off between normal and anomalous rows.
    pub threshold: Threshold,
}

/// The log type of packages written before log types existed.
fn wifi() -> String {
    crate::pipeline::WIFI_LOG_TYPE.to_owned()
}

/// The protocol version of packages written before the agent protocol existed.
fn protocol_version() -> String {
    crate::agent::PROTOCOL_VERSION.to_owned()
}

/// How it was trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingSummary {
    /// Rows the model was fitted on.
    pub samples: usize,
    /// Rows held out for evaluation (labelled input only).
    pub test_samples: usize,
    /// Features per row.
    pub features: usize,
    /// Seed of the random split and the detector, so training can be repeated exactly.
    pub seed: u64,
    /// Wall-clock training time, in milliseconds (0 for reproducible builds, under
    /// `SOURCE_DATE_EPOCH`).
    pub duration_ms: f64,
    /// Input records dropped as invalid (with drop-invalid).
    pub dropped_records: usize,
    /// Whether the training data carried anomaly labels.
    pub labelled: bool,
    /// Where the training data came from: file name, size and SHA-256.
    pub lineage: Lineage,
}

/// How well it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationSummary {
    /// Statistics of the anomaly scores over all rows.
    pub score_stats: ScoreStats,
    /// Share of all rows the model flags as anomalies, in `[0, 1]`.
    pub anomaly_ratio: f64,
    /// Held-out metrics; `null` when the training data had no labels.
    pub metrics: Option<ClassificationMetrics>,
    /// Each configured acceptance threshold (`min_*`, `max_anomaly_ratio`) and whether the model
    /// met it.
    pub threshold_checks: Vec<ThresholdCheck>,
    /// Permutation importance of each feature for the scores.
    pub feature_importance: Vec<FeatureImportance>,
}

/// The package itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentInfo {
    /// Layout version of the package; readers refuse any other.
    pub package_format_version: u32,
    /// When the package was built (ISO 8601, UTC); see [`super::deployment_time`].
    pub deployment_timestamp: String,
    /// The mcp-train build that wrote the package.
    pub generator: String,
    /// Python versions the bundled scripts run on (a PEP 440 specifier).
    pub python_requires: String,
    /// Every file of the package, sorted.
    pub files: Vec<String>,
}

/// `scaler.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalerFile {
    /// Always `standard_scaler`: `(x - mean) / scale` per feature.
    #[serde(rename = "type")]
    pub kind: String,
    /// Feature names, in the order of `mean` and `scale`.
    pub features: Vec<String>,
    /// Per-feature mean subtracted before scoring.
    pub mean: Vec<f64>,
    /// Per-feature divisor applied after the mean is subtracted.
    pub scale: Vec<f64>,
}

impl ScalerFile {
    /// The scaler of `artifact`, as written to `scaler.json`.
    pub fn of(artifact: &ModelArtifact) -> ScalerFile {
        ScalerFile {
            kind: "standard_scaler".to_owned(),
            features: artifact.input.feature_names().to_vec(),
            mean: artifact.scaler.mean().to_vec(),
            scale: artifact.scaler.scale().to_vec(),
        }
    }
}

/// One entry of `file_integrity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// Length of the file, in bytes.
    pub size_bytes: u64,
}

/// One entry of `model_artifacts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactFile {
    /// Length of the file, in bytes.
    pub size_bytes: u64,
    /// What the file is for, in a sentence.
    pub description: String,
}

/// How an agent should run the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferenceConfig {
    /// `isolation_forest` or `lof`.
    pub detector: String,
    /// Feature names in the order the model reads them.
    pub feature_names: Vec<String>,
    /// Number of features per row.
    pub n_features: usize,
    /// A row is an anomaly when its score is below this (the model's offset).
    pub threshold: f64,
    /// A row is an anomaly when its decision value (score − threshold) is below this (always
    /// 0.0).
    pub decision_threshold: f64,
    /// Share of training rows the model flags as anomalies, in `[0, 1]`.
    pub anomaly_ratio: f64,
    /// The percentile of training scores at the threshold (`100 × anomaly_ratio`).
    pub score_percentile: f64,
    /// Suggested rows per scoring call.
    pub batch_size: usize,
    /// Suggested limit on one scoring call, in seconds.
    pub timeout_seconds: u32,
}

/// A functional test any consumer can run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelfTest {
    /// Largest difference from the embedded scores that still passes ([`SELF_TEST_TOLERANCE`]).
    pub tolerance: f64,
    /// Feature vectors with the scores the model gives them.
    pub vectors: Vec<SelfTestVector>,
}

/// A raw feature vector and what the model says of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelfTestVector {
    /// Every feature by name, unscaled.
    pub features: BTreeMap<String, f64>,
    /// The model's anomaly score of the vector.
    pub score: f64,
    /// Score minus the threshold; below 0 means anomalous.
    pub decision: f64,
    /// Whether the model flags the vector as an anomaly.
    pub is_anomaly: bool,
}

/// `deployment_manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`PACKAGE_FORMAT`]; identifies the file as an mcp-train manifest.
    pub package_format: String,
    /// Layout version of the package; readers refuse any other.
    pub package_format_version: u32,
    /// Version of the packaged model.
    pub model_version: String,
    /// When the package was built (ISO 8601, UTC).
    pub deployment_timestamp: String,
    /// The mcp-train build that wrote the package.
    pub generator: String,
    /// As in `metadata.json`.
    pub model_info: ModelInfo,
    /// As in `metadata.json`.
    pub training_info: TrainingSummary,
    /// As in `metadata.json`.
    pub evaluation_info: EvaluationSummary,
    /// As in `metadata.json`.
    pub deployment_info: DeploymentInfo,
    /// Every file of the package, sorted.
    pub files: Vec<String>,
    /// SHA-256 and size of every file but the manifest itself.
    pub file_integrity: BTreeMap<String, FileDigest>,
    /// Size and purpose of the model's files.
    pub model_artifacts: BTreeMap<String, ArtifactFile>,
    /// How an agent should run the model.
    pub inference_config: InferenceConfig,
    /// Vectors and expected scores any consumer can check its scorer against.
    pub self_test: SelfTest,
    /// SHA-256 of this file as written with 64 zeros here; makes any edit to it detectable.
    pub manifest_sha256: String,
}

impl Metadata {
    /// Everything but the file list and the timestamp comes from the model.
    pub fn of(artifact: &ModelArtifact, deployment_timestamp: &str, files: &[String]) -> Metadata {
        let (feature_schema, extractor_version, input_kind) = match &artifact.input {
            InputSchema::Export(schema) => (
                Some(schema.name.clone()),
                Some(schema.extractor_version.clone()),
                "export",
            ),
            InputSchema::Agent(state) => (
                Some(state.schema.clone()),
                Some(artifact.protocol_version.clone()),
                "export",
            ),
            InputSchema::FeaturesCsv { .. } => (None, None, "features_csv"),
        };
        let parameters = match &artifact.detector {
            crate::pipeline::Detector::IsolationForest { params, .. } => {
                serde_json::to_value(params)
            }
            crate::pipeline::Detector::Lof { params, .. } => serde_json::to_value(params),
        }
        .unwrap_or(serde_json::Value::Null);
        let names = artifact.input.feature_names();
        let t = &artifact.training;
        let e = &artifact.evaluation;
        Metadata {
            model_info: ModelInfo {
                version: artifact.version.clone(),
                created_at: artifact.created_at.clone(),
                generator: artifact.generator.clone(),
                log_type: artifact.log_type.clone(),
                protocol_version: artifact.protocol_version.clone(),
                detector: artifact.detector.name().to_owned(),
                parameters,
                input_kind: input_kind.to_owned(),
                feature_schema,
                extractor_version,
                n_features: names.len(),
                feature_names: names.to_vec(),
                threshold: artifact.threshold.clone(),
            },
            training_info: TrainingSummary {
                samples: t.samples,
                test_samples: t.test_samples,
                features: t.features,
                seed: t.seed,
                duration_ms: t.duration_ms,
                dropped_records: t.dropped_records,
                labelled: t.labelled,
                lineage: artifact.lineage.clone(),
            },
            evaluation_info: EvaluationSummary {
                score_stats: e.score_stats.clone(),
                anomaly_ratio: e.anomaly_ratio,
                metrics: e.metrics.clone(),
                threshold_checks: e.threshold_checks.clone(),
                feature_importance: e.feature_importance.clone(),
            },
            deployment_info: DeploymentInfo {
                package_format_version: PACKAGE_FORMAT_VERSION,
                deployment_timestamp: deployment_timestamp.to_owned(),
                generator: crate::pipeline::generator(),
                python_requires: PYTHON_REQUIRES.to_owned(),
                files: files.to_vec(),
            },
        }
    }
}

impl InferenceConfig {
    /// How an agent should run `artifact`: its features, threshold and suggested batch settings.
    pub fn of(artifact: &ModelArtifact) -> InferenceConfig {
        let names = artifact.input.feature_names();
        let ratio = artifact.evaluation.anomaly_ratio;
        InferenceConfig {
            detector: artifact.detector.name().to_owned(),
            feature_names: names.to_vec(),
            n_features: names.len(),
            threshold: artifact.threshold.offset,
            decision_threshold: artifact.threshold.decision_threshold,
            anomaly_ratio: ratio,
            score_percentile: 100.0 * ratio,
            batch_size: BATCH_SIZE,
            timeout_seconds: TIMEOUT_SECONDS,
        }
    }
}

/// Pretty JSON with a trailing newline, like `model.json`.
pub(crate) fn to_pretty_json<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// The text `"manifest_sha256": "<value>"` as the pretty printer writes it.
fn hash_field(value: &str) -> String {
    format!("\"{MANIFEST_HASH_KEY}\": \"{value}\"")
}

/// Serialises a manifest with its own hash filled in: the SHA-256 of the bytes written with the
/// placeholder in its place.
pub(crate) fn seal(manifest: &mut Manifest) -> Vec<u8> {
    manifest.manifest_sha256 = MANIFEST_HASH_PLACEHOLDER.to_owned();
    let unsealed = to_pretty_json(manifest);
    let digest = crate::pipeline::sha256_hex(&unsealed);
    manifest.manifest_sha256 = digest;
    to_pretty_json(manifest)
}

/// Whether `bytes` (a manifest whose `manifest_sha256` is `claimed`) hash to what they claim.
pub(crate) fn seal_matches(bytes: &[u8], claimed: &str) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let field = hash_field(claimed);
    if text.matches(&field).count() != 1 {
        return false;
    }
    let unsealed = text.replacen(&field, &hash_field(MANIFEST_HASH_PLACEHOLDER), 1);
    // Hex digits in either case, as validate_model.py accepts them.
    crate::pipeline::sha256_hex(unsealed.as_bytes()).eq_ignore_ascii_case(claimed)
}
