//! Tools of the `training` group: training jobs from registered datasets, on the same runner,
//! validation and queue as `POST /api/training/jobs` (`crate::http::jobs`).

use std::borrow::Cow;

use mcp_train_core::api::Job;
use mcp_train_core::pipeline::write_export_of;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::model::{ProgressNotificationParam, RequestMetaObject};
use rmcp::{tool, tool_router, Peer, RoleServer};
use tokio_util::sync::CancellationToken;

use super::datasets::read_dataset;
use super::{McpServer, Page, PageArgs, ToolError};
use crate::datasets::{DatasetKind, Datasets};
use crate::http::jobs::{self, Cancelled, JobRequest};
use crate::http::{blocking, ApiError, AppState};

/// A number or a word (`"auto"`), passed to the parameter's parser as text.
#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum NumberOrWord {
    Number(serde_json::Number),
    Word(String),
}

impl std::fmt::Display for NumberOrWord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NumberOrWord::Number(n) => write!(f, "{n}"),
            NumberOrWord::Word(w) => f.write_str(w),
        }
    }
}

/// `start_training`: the dataset, the parameters of `POST /api/training/jobs` by the same
/// names, and whether to follow the job.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartTrainingArgs {
    /// The dataset handle (`ds-…`). A raw log dataset is imported to records first.
    pub dataset: String,
    /// The log type (default: the dataset's, else recognised from the records).
    #[serde(default)]
    pub log_type: Option<String>,
    /// The detector: isolation_forest or lof (default: the server's configuration).
    #[serde(default)]
    pub detector: Option<String>,
    /// The run's one seed (detector, held-out split, feature importance).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Expected share of anomalies: "auto" or a fraction in (0, 0.5].
    #[serde(default)]
    pub contamination: Option<NumberOrWord>,
    /// Isolation Forest trees.
    #[serde(default)]
    pub n_estimators: Option<u64>,
    /// Isolation Forest rows per tree: "auto", a count, or a fraction in (0, 1] (1 is one
    /// row, 1.0 every row).
    #[serde(default)]
    pub max_samples: Option<NumberOrWord>,
    /// LOF neighbours.
    #[serde(default)]
    pub n_neighbors: Option<u64>,
    /// Leave invalid records (bad lines) out instead of refusing the dataset.
    #[serde(default)]
    pub drop_invalid: Option<bool>,
    /// Fix the model's creation time (microseconds since 1970) for a reproducible model.
    #[serde(default)]
    pub created_at_micros: Option<i64>,
    /// Follow the job until it ends: progress notifications when the call has a
    /// progressToken, the finished job as the result; cancelling the call cancels the job.
    /// Default false: return the queued job at once (poll get_training_job).
    #[serde(default)]
    pub wait: bool,
}

/// `get_training_job` and `cancel_training_job`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobArgs {
    /// The job id (32 hex digits) start_training returned.
    pub job: String,
}

/// A training job, as `GET /api/training/jobs/{id}` answers it.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(transparent)]
pub struct TrainingJob(pub Job);

/// The schema is the OpenAPI document's `Job` (one description of the wire type).
impl schemars::JsonSchema for TrainingJob {
    fn schema_name() -> Cow<'static, str> {
        "Job".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let spec = crate::http::openapi::spec();
        let text = serde_json::to_string(&spec["components"]["schemas"])
            .unwrap_or_default()
            .replace("#/components/schemas/", "#/$defs/");
        let schemas: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        for name in ["TrainParams", "ModelRecord"] {
            if let Ok(schema) = schemars::Schema::try_from(schemas[name].clone()) {
                generator.definitions_mut().insert(name.to_owned(), schema.to_value());
            }
        }
        schemars::Schema::try_from(schemas["Job"].clone())
            .unwrap_or_else(|_| schemars::json_schema!({ "type": "object" }))
    }
}

#[tool_router(router = training_tools, vis = "pub(super)")]
impl McpServer {
    #[tool(
        description = "Start a training job on a dataset (a raw log is imported to records first; \
                       the dataset is validated before the job is accepted). Parameters as POST \
                       /api/training/jobs takes them (detector, seed, contamination, \
                       n_estimators, max_samples, n_neighbors, drop_invalid). Returns the job; \
                       with wait: true follows it (progress notifications) and returns the \
                       finished job with its registered model. Next: get_training_job, then \
                       compare_models / deploy_model.",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn start_training(
        &self,
        Parameters(args): Parameters<StartTrainingArgs>,
        meta: RequestMetaObject,
        peer: Peer<RoleServer>,
        ct: CancellationToken,
    ) -> Result<Json<TrainingJob>, ToolError> {
        let state = self.state().clone();
        let datasets = Datasets::open(&state.data_dir);
        let dataset = datasets.get(&args.dataset)?;
        let mut pairs: Vec<(String, String)> = vec![("file_name".into(), dataset.name.clone())];
        let mut add = |name: &str, value: Option<String>| {
            if let Some(v) = value {
                pairs.push((name.to_owned(), v));
            }
        };
        add("log_type", args.log_type.clone().or(dataset.log_type.clone()));
        add("detector", args.detector.clone());
        add("seed", args.seed.map(|v| v.to_string()));
        add("contamination", args.contamination.as_ref().map(ToString::to_string));
        add("n_estimators", args.n_estimators.map(|v| v.to_string()));
        add("max_samples", args.max_samples.as_ref().map(ToString::to_string));
        add("n_neighbors", args.n_neighbors.map(|v| v.to_string()));
        add("drop_invalid", args.drop_invalid.map(|v| v.to_string()));
        add("created_at_micros", args.created_at_micros.map(|v| v.to_string()));
        let request = JobRequest::parse(&pairs, &state)?;
        jobs::check_room(&state)?;
        let staged = {
            let _permit = state.heavy_work().await.map_err(ToolError::from)?;
            let state = state.clone();
            let drop_invalid = args.drop_invalid;
            blocking(move || {
                let bytes = datasets
                    .read(&dataset.id)
                    .map_err(|e| ApiError::internal("cannot read the dataset", &e))?;
                let export = match dataset.kind {
                    DatasetKind::Export => bytes,
                    DatasetKind::Log => import(&state, &dataset, &bytes, drop_invalid)?,
                };
                crate::http::upload::stage_bytes(&state, &export)
            })
            .await?
        };
        let job = jobs::submit(&state, request, staged).await?;
        if !args.wait {
            return Ok(Json(TrainingJob(job)));
        }
        follow(&state, job, meta, peer, ct).await.map(Json)
    }

    #[tool(
        description = "One training job: status (queued, running, completed, failed, cancelled), \
                       progress (stage, fraction), parameters, record counts, the registered \
                       model once completed, the error if it failed. Next: get_model or \
                       deploy_model with the model's version.",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn get_training_job(
        &self,
        Parameters(args): Parameters<JobArgs>,
    ) -> Result<Json<TrainingJob>, ToolError> {
        Ok(Json(TrainingJob(jobs::get(self.state(), &args.job)?)))
    }

    #[tool(
        description = "List this server's training jobs, newest first (the last 200 finished \
                       ones and every queued or running one). Paged: pass next_cursor as cursor \
                       for more. Next: get_training_job.",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn list_training_jobs(
        &self,
        Parameters(args): Parameters<PageArgs>,
    ) -> Result<Json<Page<TrainingJob>>, ToolError> {
        let all = jobs::all(self.state()).into_iter().map(TrainingJob).collect();
        Ok(Json(args.page(all)?))
    }

    #[tool(
        description = "Cancel a queued or running training job: it stops at its next progress \
                       step and registers no model. Returns the job (cancelled). A finished job \
                       is a conflict. Next: start_training again, or list_training_jobs.",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn cancel_training_job(
        &self,
        Parameters(args): Parameters<JobArgs>,
    ) -> Result<Json<TrainingJob>, ToolError> {
        match jobs::cancel(self.state(), &args.job).await? {
            Cancelled::AlreadyFinished(job) => Err(ToolError::conflict(format!(
                "job {} has already finished ({}): nothing to cancel",
                job.id,
                job.status.as_str()
            ))),
            Cancelled::Stopped(job) | Cancelled::Stopping(job) => Ok(Json(TrainingJob(job))),
        }
    }
}

/// The export of a raw log dataset (what `mcp-train import` writes), or why it cannot be
/// trained on.
fn import(
    state: &AppState,
    dataset: &crate::datasets::Dataset,
    bytes: &[u8],
    drop_invalid: Option<bool>,
) -> Result<Vec<u8>, ApiError> {
    let mut options = state.config.training.validation.clone();
    if let Some(drop) = drop_invalid {
        options.drop_invalid = drop;
    }
    let log = match read_dataset(dataset, bytes, &options)? {
        Ok(log) if log.parsed.report.valid => log,
        Ok(log) => return Err(refusal(&log.parsed.report)),
        Err(report) => return Err(refusal(&report)),
    };
    if !log.raw {
        return Ok(bytes.to_vec());
    }
    let mut export = Vec::new();
    write_export_of(
        &log.parsed.export.records,
        &log.log_type,
        &dataset.name,
        &mut export,
    )
    .map_err(|e| ApiError::internal("cannot import the log", &e))?;
    Ok(export)
}

/// Why a log cannot be trained on: the first problem and how many lines have one.
fn refusal(report: &mcp_train_core::export::ValidationReport) -> ApiError {
    let count = report.error_count();
    let message = match report.first_error() {
        Some(first) if count > 1 => format!(
            "the log has {count} errors (validate_dataset lists them; drop_invalid: true leaves the bad lines out); the first: {first}"
        ),
        Some(first) => format!("the log has an error (drop_invalid: true leaves the bad line out): {first}"),
        None => "the log holds no usable records".to_owned(),
    };
    ApiError::unprocessable("invalid_export", message)
}

/// Cancels a followed job if the call ends before it (the call's future dropped).
struct CancelOnDrop {
    state: AppState,
    job: Option<String>,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(id) = self.job.take() {
            tracing::info!(job = %id, "the call following a training job ended: cancelling it");
            let _ = jobs::request_cancel(&self.state, &id);
        }
    }
}

/// Follows `job` until it finishes: a progress notification per change when the call carries
/// a progress token; when the call is cancelled, the job is cancelled (nothing is registered)
/// and the call answers `cancelled`.
async fn follow(
    state: &AppState,
    job: Job,
    meta: RequestMetaObject,
    peer: Peer<RoleServer>,
    ct: CancellationToken,
) -> Result<TrainingJob, ToolError> {
    let mut changes = jobs::watch(state, &job.id)?;
    let mut guard = CancelOnDrop {
        state: state.clone(),
        job: Some(job.id.clone()),
    };
    let token = meta.get_progress_token();
    let mut sent: Option<(String, f64)> = None;
    loop {
        let now = changes.borrow_and_update().clone();
        if let Some(token) = &token {
            let stage = format!("{}: {}", now.status.as_str(), now.progress.stage);
            // Progress only grows (a new stage may restart its own fraction).
            let value = (now.progress.fraction * 100.0)
                .max(sent.as_ref().map_or(0.0, |s| s.1));
            if sent
                .as_ref()
                .is_none_or(|(s, v)| *s != stage || *v < value)
            {
                let param = ProgressNotificationParam::new(token.clone(), value)
                    .with_total(100.0)
                    .with_message(stage.clone());
                if let Err(e) = peer.notify_progress(param).await {
                    tracing::debug!(error = %e, "cannot send a progress notification");
                }
                sent = Some((stage, value));
            }
        }
        if now.status.finished() {
            guard.job = None;
            return Ok(TrainingJob(now));
        }
        tokio::select! {
            () = ct.cancelled() => {
                guard.job = None;
                let job = match jobs::cancel(state, &job.id).await? {
                    Cancelled::AlreadyFinished(j) | Cancelled::Stopped(j) | Cancelled::Stopping(j) => j,
                };
                tracing::info!(job = %job.id, status = job.status.as_str(), "training call cancelled");
                return Err(ToolError::new(
                    "cancelled",
                    format!("the call was cancelled: training job {} is {}", job.id, job.status.as_str()),
                ));
            }
            changed = changes.changed() => {
                if changed.is_err() {
                    // The job was forgotten (never while it runs): answer what is known.
                    guard.job = None;
                    return Ok(TrainingJob(jobs::get(state, &job.id).unwrap_or(now)));
                }
            }
        }
    }
}
