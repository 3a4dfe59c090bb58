//! Tools of the `models` group: the registry as the HTTP API and `mcp-train models` show it —
//! list, get, compare, evaluate on a dataset, deploy, roll back, build and verify the package.
//! Deploy, rollback and the package go through the same functions as `/api/models`.

use mcp_train_core::evaluate::{ClassificationMetrics, ScoreStats, ThresholdCheck};
use mcp_train_core::package::{self, Verification};
use mcp_train_core::pipeline::{
    self, Detector, EvaluationResult, InputSchema, Lineage, ModelArtifact, ScoreInput, Threshold,
    TrainingInfo,
};
use mcp_train_core::registry::ModelRecord;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};

use super::{McpServer, Page, PageArgs, ToolError};
use crate::datasets::{DatasetError, Datasets};
use crate::http::{blocking, ApiError};

/// `list_models`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListModelsArgs {
    /// Only models of this log type (wifi, dns, firewall, …).
    #[serde(default)]
    pub log_type: Option<String>,
    #[serde(flatten)]
    pub page: PageArgs,
}

/// `get_model`, `build_package`, `verify_package`, `deploy_model`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionArgs {
    /// The model version, `YYYYMMDD_HHMMSS` (list_models shows them).
    pub version: String,
}

/// `compare_models`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareArgs {
    /// 2 to 10 distinct model versions (`YYYYMMDD_HHMMSS`).
    pub versions: Vec<String>,
}

/// `evaluate_model`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateArgs {
    /// The model version, `YYYYMMDD_HHMMSS`.
    pub version: String,
    /// A dataset handle (`ds-…`) holding labelled data of the model's log type: an export with
    /// labels (or raw lines the agent reads, labelled by its rules).
    pub dataset: String,
    /// Leave invalid records out instead of refusing the dataset (as `evaluate
    /// --drop-invalid`).
    #[serde(default)]
    pub drop_invalid: bool,
}

/// `rollback_model`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackArgs {
    /// The log type whose deployment is rolled back (wifi, dns, firewall, …).
    pub log_type: String,
}

/// What a model expects as input.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct ModelInput {
    /// `export` (WiFi exports), `agent` (logs read by a log type's agent) or `features_csv`.
    pub kind: String,
    /// Name and version of the feature schema (`wifi-v1`, `dns-v1`, …); absent for a CSV.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The feature columns, in order.
    pub features: Vec<String>,
}

/// How the model did on its held-out data when it was trained (no per-record scores).
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct ModelEvaluation {
    /// Share of the training rows flagged as anomalies.
    pub anomaly_ratio: f64,
    /// Statistics of the scores over all rows.
    pub score_stats: ScoreStats,
    /// Metrics on the held-out rows (labelled data only).
    pub metrics: Option<ClassificationMetrics>,
    /// The configured acceptance thresholds and whether the model met them.
    pub threshold_checks: Vec<ThresholdCheck>,
}

/// `get_model`'s answer: everything about one model but its trees and per-record scores.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct ModelDetail {
    /// The registry's record (status, dates, headline metrics).
    pub record: ModelRecord,
    /// `isolation_forest` or `lof`.
    pub detector: String,
    /// The detector's hyperparameters.
    pub parameters: serde_json::Value,
    /// The decision threshold.
    pub threshold: Threshold,
    /// How it was trained (rows, features, seed, duration).
    pub training: TrainingInfo,
    /// What it reads.
    pub input: ModelInput,
    /// How it did when trained.
    pub evaluation: ModelEvaluation,
    /// The data it was trained on.
    pub lineage: Lineage,
    /// SHA-256 of the stored model file, lowercase hex.
    pub sha256: String,
    /// Where the model file can be downloaded.
    pub download: String,
}

/// One model's row in a comparison.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct ComparedModel {
    pub version: String,
    pub log_type: String,
    /// ready, deployed or archived.
    pub status: String,
    /// `isolation_forest` or `lof`.
    pub detector: String,
    /// Rows the detector was fitted on.
    pub samples: usize,
    /// Feature columns.
    pub features: usize,
    /// Share of the training rows flagged.
    pub anomaly_ratio: f64,
    /// Held-out metrics (absent when the model was trained without labels).
    pub metrics: Option<ClassificationMetrics>,
}

/// The best model on one metric.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct BestOn {
    /// roc_auc, average_precision, f1, precision, recall or accuracy (higher is better).
    pub metric: String,
    /// The best value.
    pub value: f64,
    /// The model(s) reaching it (more than one on a tie).
    pub versions: Vec<String>,
}

/// `compare_models`' answer.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Comparison {
    /// The models, in the order asked.
    pub models: Vec<ComparedModel>,
    /// Per metric, the best model; metrics no model has are left out.
    pub best: Vec<BestOn>,
    /// Something to keep in mind when reading the comparison (models of different log
    /// types, models without labels).
    pub notes: Vec<String>,
}

/// `evaluate_model`'s answer: the same result as `mcp-train evaluate --json`.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct DatasetEvaluation {
    /// The dataset evaluated on.
    pub dataset: String,
    #[serde(flatten)]
    pub result: EvaluationResult,
}

/// `deploy_model` and `rollback_model`'s answer.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct DeploymentChange {
    /// Whether anything changed (deploying the deployed model changes nothing).
    pub changed: bool,
    /// The model deployed now.
    pub deployed: ModelRecord,
    /// The model deployed before, now archived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<ModelRecord>,
}

/// One file of a package.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct PackageFile {
    /// Path inside the ZIP.
    pub path: String,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
}

/// `build_package`'s answer.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct BuiltPackage {
    pub version: String,
    /// The ZIP's file name.
    pub file_name: String,
    /// Size of the ZIP.
    pub bytes: u64,
    /// SHA-256 of the ZIP, lowercase hex (the download's ETag).
    pub sha256: String,
    /// The files inside.
    pub files: Vec<PackageFile>,
    /// Where to download it on the HTTP API (`GET`, bearer token).
    pub download: String,
}

/// `verify_package`'s answer: the same report as `mcp-train verify --json`.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct PackageVerification {
    pub version: String,
    /// SHA-256 of the verified ZIP (the one `build_package` names and the API serves).
    pub sha256: String,
    #[serde(flatten)]
    pub verification: Verification,
}

/// A dataset error as the model sees it.
pub(super) fn dataset_error(e: DatasetError) -> ToolError {
    match e {
        DatasetError::NotFound(_) => ToolError::not_found(e.to_string()),
        DatasetError::BadHandle(_) => ToolError::invalid(e.to_string()),
        DatasetError::Io { .. } => ApiError::internal("cannot read the dataset", &e).into(),
    }
}

/// The model `version` of the registry, with its record.
fn load(
    registry: &crate::fs::registry::RegistryAt,
    version: &str,
) -> Result<(ModelRecord, ModelArtifact), ApiError> {
    crate::http::models::check_version(version)?;
    let registry = registry.open();
    let stored = registry.get(version)?;
    let artifact = stored.artifact()?;
    Ok((stored.record, artifact))
}

fn detail(record: ModelRecord, model: ModelArtifact) -> ModelDetail {
    let parameters = match &model.detector {
        Detector::IsolationForest { params, .. } => serde_json::to_value(params),
        Detector::Lof { params, .. } => serde_json::to_value(params),
    }
    .unwrap_or_default();
    let input = match &model.input {
        InputSchema::Export(schema) => ModelInput {
            kind: "export".to_owned(),
            schema: Some(schema.name.clone()),
            features: schema.features.clone(),
        },
        InputSchema::Agent(state) => ModelInput {
            kind: "agent".to_owned(),
            schema: Some(state.schema.clone()),
            features: state.features.clone(),
        },
        InputSchema::FeaturesCsv { features } => ModelInput {
            kind: "features_csv".to_owned(),
            schema: None,
            features: features.clone(),
        },
    };
    let e = model.evaluation;
    ModelDetail {
        download: format!("/api/models/{}/file", record.version),
        sha256: record.sha256.clone(),
        record,
        detector: model.detector.name().to_owned(),
        parameters,
        threshold: model.threshold,
        training: model.training,
        input,
        evaluation: ModelEvaluation {
            anomaly_ratio: e.anomaly_ratio,
            score_stats: e.score_stats,
            metrics: e.metrics,
            threshold_checks: e.threshold_checks,
        },
        lineage: model.lineage,
    }
}

/// Higher-is-better metrics a comparison ranks on.
const RANKED: [&str; 6] = [
    "roc_auc",
    "average_precision",
    "f1",
    "precision",
    "recall",
    "accuracy",
];

fn metric(m: &ClassificationMetrics, name: &str) -> Option<f64> {
    match name {
        "roc_auc" => m.roc_auc,
        "average_precision" => m.average_precision,
        "f1" => Some(m.f1),
        "precision" => Some(m.precision),
        "recall" => Some(m.recall),
        "accuracy" => Some(m.accuracy),
        _ => None,
    }
    .filter(|v| v.is_finite())
}

/// The best model on each ranked metric (ties keep every version).
fn best_per_metric(models: &[ComparedModel]) -> Vec<BestOn> {
    let mut best = Vec::new();
    for name in RANKED {
        let values: Vec<(&str, f64)> = models
            .iter()
            .filter_map(|m| Some((m.version.as_str(), metric(m.metrics.as_ref()?, name)?)))
            .collect();
        let Some(top) = values.iter().map(|(_, v)| *v).reduce(f64::max) else {
            continue;
        };
        best.push(BestOn {
            metric: name.to_owned(),
            value: top,
            versions: values
                .iter()
                .filter(|(_, v)| *v == top)
                .map(|(version, _)| (*version).to_owned())
                .collect(),
        });
    }
    best
}

/// The year of an ISO 8601 time (what RFC 3164 timestamps without a year are read in).
pub(super) fn year_of(iso: &str) -> i32 {
    mcp_train_core::time::parse_iso8601(iso)
        .map(|t| mcp_train_core::time::CivilTime::from_micros(t.micros).year)
        .ok()
        .and_then(|y| i32::try_from(y).ok())
        .unwrap_or(1970)
}

#[tool_router(router = model_tools, vis = "pub(super)")]
impl McpServer {
    #[tool(
        description = "List the registered models, newest first: version, log type, status \
                       (ready/deployed/archived), detector, headline metrics and checksum. Paged: \
                       pass next_cursor as cursor for more.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn list_models(
        &self,
        Parameters(args): Parameters<ListModelsArgs>,
    ) -> Result<Json<Page<ModelRecord>>, ToolError> {
        let at = self.state().registry.clone();
        let log_type = args.log_type.clone();
        let models = blocking(move || {
            let registry = at.open();
            let mut models = registry
                .list()
                .map_err(|e| crate::http::ApiError::internal("cannot read the registry", &e))?;
            if let Some(t) = &log_type {
                models.retain(|m| &m.log_type == t);
            }
            models.sort_by(|a, b| b.version.cmp(&a.version));
            Ok(models)
        })
        .await
        .map_err(ToolError::from)?;
        Ok(Json(args.page.page(models)?))
    }

    #[tool(
        description = "One model in full: its registry record, detector and hyperparameters, \
                       threshold, training run, input features, held-out metrics and threshold \
                       checks, lineage (the data it was trained on) and SHA-256. No per-record \
                       scores. Next: compare_models, evaluate_model or deploy_model.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn get_model(
        &self,
        Parameters(args): Parameters<VersionArgs>,
    ) -> Result<Json<ModelDetail>, ToolError> {
        let at = self.state().registry.clone();
        let (record, model) = blocking(move || load(&at, &args.version)).await?;
        Ok(Json(detail(record, model)))
    }

    #[tool(
        description = "Compare 2 to 10 models side by side: one row per model (log type, \
                       status, detector, samples, held-out accuracy/precision/recall/F1/ROC \
                       AUC/average precision, flagged share) and the best model per metric. \
                       Next: evaluate_model on a common dataset, or deploy_model the best.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn compare_models(
        &self,
        Parameters(args): Parameters<CompareArgs>,
    ) -> Result<Json<Comparison>, ToolError> {
        let versions = args.versions;
        if !(2..=10).contains(&versions.len()) {
            return Err(ToolError::invalid(format!(
                "versions: give 2 to 10 model versions, not {}",
                versions.len()
            )));
        }
        for (i, v) in versions.iter().enumerate() {
            if versions[..i].contains(v) {
                return Err(ToolError::invalid(format!("versions: {v} is given twice")));
            }
        }
        let at = self.state().registry.clone();
        let models = blocking(move || {
            versions
                .iter()
                .map(|v| {
                    let (record, model) = load(&at, v)?;
                    Ok(ComparedModel {
                        version: record.version,
                        log_type: record.log_type,
                        status: record.status.to_string(),
                        detector: record.detector,
                        samples: record.samples,
                        features: record.features,
                        anomaly_ratio: model.evaluation.anomaly_ratio,
                        metrics: model.evaluation.metrics,
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()
        })
        .await?;
        let mut notes = Vec::new();
        let mut log_types: Vec<&str> = models.iter().map(|m| m.log_type.as_str()).collect();
        log_types.sort_unstable();
        log_types.dedup();
        if log_types.len() > 1 {
            notes.push(format!(
                "the models serve different log types ({}): their metrics come from different data",
                log_types.join(", ")
            ));
        }
        let unlabelled: Vec<&str> = models
            .iter()
            .filter(|m| m.metrics.is_none())
            .map(|m| m.version.as_str())
            .collect();
        if !unlabelled.is_empty() {
            notes.push(format!(
                "{} trained without labels: no held-out metrics (evaluate_model on a labelled dataset measures them)",
                unlabelled.join(", ")
            ));
        }
        Ok(Json(Comparison {
            best: best_per_metric(&models),
            models,
            notes,
        }))
    }

    #[tool(
        description = "Evaluate a model on a labelled dataset (a handle from register_dataset or \
                       generate_dataset): records scored, labelled, accuracy, precision, recall, \
                       F1, ROC AUC, average precision, score statistics, flagged share and the \
                       configured threshold checks — the same as `mcp-train evaluate`. Next: \
                       compare_models or deploy_model.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn evaluate_model(
        &self,
        Parameters(args): Parameters<EvaluateArgs>,
    ) -> Result<Json<DatasetEvaluation>, ToolError> {
        let state = self.state().clone();
        let datasets = Datasets::open(&state.data_dir);
        let dataset = datasets.get(&args.dataset).map_err(dataset_error)?;
        let max_mb = state.config.training.limits.max_export_mb;
        if dataset.bytes > max_mb.saturating_mul(1 << 20) {
            return Err(ToolError::invalid(format!(
                "dataset {} holds {} bytes, more than the {max_mb} MB an evaluation reads",
                dataset.id, dataset.bytes
            )));
        }
        let _permit = state.heavy_work().await?;
        let worker = state.clone();
        let result = blocking(move || {
            let (_, model) = load(&worker.registry, &args.version)?;
            if let Some(want) = &dataset.log_type {
                if *want != model.log_type {
                    return Err(ApiError::invalid_parameter(format!(
                        "dataset {} holds {want} data; model {} reads {}",
                        dataset.id, model.version, model.log_type
                    )));
                }
            }
            if let InputSchema::FeaturesCsv { .. } = model.input {
                return Err(ApiError::invalid_parameter(format!(
                    "model {} was trained on a features CSV; evaluate it with `mcp-train evaluate` on a CSV with its columns",
                    model.version
                )));
            }
            let bytes = Datasets::open(&worker.data_dir)
                .read(&dataset.id)
                .map_err(|e| ApiError::internal("cannot read the dataset", &e))?;
            let mut options = worker.config.training.validation.clone();
            options.drop_invalid |= args.drop_invalid;
            let ctx = mcp_train_core::agent::ParseContext {
                default_year: year_of(&dataset.registered_at),
            };
            let input = ScoreInput::log(&bytes, &options, ctx);
            let result = pipeline::evaluate(&model, input, &worker.config).map_err(|e| {
                ApiError::unprocessable(
                    "invalid_export",
                    format!("cannot evaluate on dataset {}: {e}", dataset.id),
                )
            })?;
            Ok(DatasetEvaluation {
                dataset: dataset.id,
                result,
            })
        })
        .await?;
        Ok(Json(result))
    }

    #[tool(
        description = "Deploy a model for its log type: its deployment package is built first \
                       (a model that cannot be packaged is never deployed), the model deployed \
                       before is archived. Returns the deployed model and the previous one. \
                       Deploying the deployed model changes nothing. Next: detect_anomalies; \
                       rollback_model undoes it.",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn deploy_model(
        &self,
        Parameters(args): Parameters<VersionArgs>,
    ) -> Result<Json<DeploymentChange>, ToolError> {
        let d = crate::http::models::deploy_version(self.state(), args.version, None).await?;
        Ok(Json(DeploymentChange {
            changed: d.changed,
            deployed: d.model,
            previous: d.previous,
        }))
    }

    #[tool(
        description = "Roll back a log type's deployment: re-deploys the model of that log type \
                       deployed before the current one (conflict when there is none). Returns \
                       the deployed model and the one it replaced. Next: detect_anomalies.",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn rollback_model(
        &self,
        Parameters(args): Parameters<RollbackArgs>,
    ) -> Result<Json<DeploymentChange>, ToolError> {
        let d = crate::http::models::roll_back(self.state(), args.log_type).await?;
        Ok(Json(DeploymentChange {
            changed: d.changed,
            deployed: d.model,
            previous: d.previous,
        }))
    }

    #[tool(
        description = "Build a model's deployment package (a ZIP: model.json, scaler.json, the \
                       manifest with SHA-256s and a self-test, the Python scorer): returns its \
                       file name, size, SHA-256, the files inside with their SHA-256s and the \
                       HTTP path to download it. The bytes never travel through MCP. Next: \
                       verify_package.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn build_package(
        &self,
        Parameters(args): Parameters<VersionArgs>,
    ) -> Result<Json<BuiltPackage>, ToolError> {
        let (record, built) = crate::http::models::package_of(self.state(), args.version).await?;
        let zip = built.clone();
        let verification = blocking(move || {
            package::verify(zip.bytes())
                .map_err(|e| ApiError::internal("cannot read the package just built", &e))
        })
        .await?;
        let files = verification
            .files
            .iter()
            .filter_map(|f| {
                Some(PackageFile {
                    path: match &verification.folder {
                        Some(folder) => format!("{folder}/{}", f.name),
                        None => f.name.clone(),
                    },
                    sha256: f.actual_sha256.clone()?,
                    bytes: f.size_bytes?,
                })
            })
            .collect();
        Ok(Json(BuiltPackage {
            file_name: format!("{}.zip", package::folder_name(&record.version)),
            download: format!("/api/models/{}/package", record.version),
            version: record.version,
            bytes: built.bytes().len() as u64,
            sha256: built.sha256().to_owned(),
            files,
        }))
    }

    #[tool(
        description = "Verify a model's deployment package as `mcp-train verify` does: every \
                       file against the manifest's SHA-256, the model loads and agrees with its \
                       scaler, and the embedded self-test vectors score as recorded. Returns ok \
                       and the problems found. Next: deploy_model.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn verify_package(
        &self,
        Parameters(args): Parameters<VersionArgs>,
    ) -> Result<Json<PackageVerification>, ToolError> {
        let (record, built) = crate::http::models::package_of(self.state(), args.version).await?;
        let zip = built.clone();
        let verification = blocking(move || {
            package::verify(zip.bytes()).map_err(|e| {
                ApiError::unprocessable(
                    "invalid_package",
                    format!("the package cannot be read: {e}"),
                )
            })
        })
        .await?;
        Ok(Json(PackageVerification {
            version: record.version,
            sha256: built.sha256().to_owned(),
            verification,
        }))
    }
}
