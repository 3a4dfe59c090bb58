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
    pub model_info: ModelInfo,
    pub training_info: TrainingSummary,
    pub evaluation_info: EvaluationSummary,
    pub deployment_info: DeploymentInfo,
}

/// What the model is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub version: String,
    pub created_at: String,
    pub generator: String,
    /// `isolation_forest` or `lof`.
    pub detector: String,
    /// The detector's hyperparameters as trained.
    pub parameters: serde_json::Value,
    /// `export` (features extracted by mcp-train) or `features_csv`.
    pub input_kind: String,
    /// `wifi-v1` for exports; absent for a features CSV.
    pub feature_schema: Option<String>,
    pub extractor_version: Option<String>,
    pub n_features: usize,
    pub feature_names: Vec<String>,
    pub threshold: Threshold,
}

/// How it was trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingSummary {
    pub samples: usize,
    pub test_samples: usize,
    pub features: usize,
    pub seed: u64,
    pub duration_ms: f64,
    pub dropped_records: usize,
    pub labelled: bool,
    pub lineage: Lineage,
}

/// How well it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationSummary {
    pub score_stats: ScoreStats,
    pub anomaly_ratio: f64,
    /// Held-out metrics; `null` when the training data had no labels.
    pub metrics: Option<ClassificationMetrics>,
    pub threshold_checks: Vec<ThresholdCheck>,
    pub feature_importance: Vec<FeatureImportance>,
}

/// The package itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentInfo {
    pub package_format_version: u32,
    pub deployment_timestamp: String,
    pub generator: String,
    pub python_requires: String,
    pub files: Vec<String>,
}

/// `scaler.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalerFile {
    #[serde(rename = "type")]
    pub kind: String,
    pub features: Vec<String>,
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
}

impl ScalerFile {
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
    pub sha256: String,
    pub size_bytes: u64,
}

/// One entry of `model_artifacts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactFile {
    pub size_bytes: u64,
    pub description: String,
}

/// How an agent should run the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferenceConfig {
    pub detector: String,
    pub feature_names: Vec<String>,
    pub n_features: usize,
    /// A row is an anomaly when its score is below this (the model's offset).
    pub threshold: f64,
    pub decision_threshold: f64,
    pub anomaly_ratio: f64,
    /// The percentile of training scores at the threshold (`100 × anomaly_ratio`).
    pub score_percentile: f64,
    pub batch_size: usize,
    pub timeout_seconds: u32,
}

/// A functional test any consumer can run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelfTest {
    pub tolerance: f64,
    pub vectors: Vec<SelfTestVector>,
}

/// A raw feature vector and what the model says of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelfTestVector {
    /// Every feature by name, unscaled.
    pub features: BTreeMap<String, f64>,
    pub score: f64,
    pub decision: f64,
    pub is_anomaly: bool,
}

/// `deployment_manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub package_format: String,
    pub package_format_version: u32,
    pub model_version: String,
    pub deployment_timestamp: String,
    pub generator: String,
    pub model_info: ModelInfo,
    pub training_info: TrainingSummary,
    pub evaluation_info: EvaluationSummary,
    pub deployment_info: DeploymentInfo,
    pub files: Vec<String>,
    pub file_integrity: BTreeMap<String, FileDigest>,
    pub model_artifacts: BTreeMap<String, ArtifactFile>,
    pub inference_config: InferenceConfig,
    pub self_test: SelfTest,
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
