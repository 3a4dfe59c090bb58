//! `/api/training/jobs`: exports uploaded to the server and trained natively by the same pipeline
//! as the CLI and the browser. Jobs run one at a time per process (training uses every core), on
//! a thread of their own, in the order they were accepted; their state lives in memory and is
//! published through a `watch` channel that the job list, the job view and the event streams
//! read.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::stream::{self, Stream};
use mcp_train_core::config::{AutoOr, Config, DetectorKind, MaxSamples};
use mcp_train_core::export::{parse_export, ValidateOptions};
use mcp_train_core::pipeline::{self, Hooks, Progress, TrainError, TrainInput, TrainParams};
use mcp_train_core::registry::ModelRecord;
use mcp_train_core::time::format_iso8601;
use serde::Serialize;
use serde_json::json;
use tokio::sync::watch;

use super::error::{error_chain, ApiError, ApiResult};
use super::upload::{self, Limit, Staged};
use super::{blocking, now_micros, AppState};

/// Jobs that may wait for the runner at once (each keeps its export on disk).
const MAX_QUEUED_JOBS: usize = 8;
/// Finished jobs kept in memory; older finished ones are forgotten (their models stay registered).
const KEPT_FINISHED_JOBS: usize = 200;

/// Least time between two progress updates of a job (stage changes are always published).
const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    pub fn finished(self) -> bool {
        matches!(
            self,
            JobStatus::Completed | JobStatus::Failed | JobStatus::Cancelled
        )
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct JobProgress {
    pub stage: String,
    pub fraction: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct JobFailure {
    pub code: &'static str,
    pub message: String,
}

/// A job as clients see it.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub id: String,
    pub status: JobStatus,
    pub file_name: String,
    pub size_bytes: u64,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub progress: JobProgress,
    pub params: TrainParams,
    pub records: usize,
    pub dropped: usize,
    pub model: Option<ModelRecord>,
    pub error: Option<JobFailure>,
}

/// A job and what its runner needs.
#[derive(Debug)]
struct Handle {
    id: String,
    cancel: AtomicBool,
    state: watch::Sender<Job>,
    /// The export, until the runner takes it (or the job is cancelled while queued).
    export: Mutex<Option<Staged>>,
    /// The model's creation time, when the client fixed it (reproducible models).
    created_at_micros: Option<i64>,
}

impl Handle {
    fn snapshot(&self) -> Job {
        self.state.borrow().clone()
    }

    fn update(&self, f: impl FnOnce(&mut Job)) {
        self.state.send_modify(f);
    }

    fn take_export(&self) -> Option<Staged> {
        self.export.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// The jobs of this process and the queue of its runner.
#[derive(Debug)]
pub struct Jobs {
    /// Newest first.
    list: Mutex<Vec<Arc<Handle>>>,
    queue: Mutex<mpsc::Sender<Arc<Handle>>>,
}

impl Jobs {
    /// Starts the runner thread, which trains with `config` and registers models in `data_dir`.
    pub fn start(data_dir: PathBuf, config: Config) -> std::io::Result<Jobs> {
        let (send, receive) = mpsc::channel::<Arc<Handle>>();
        std::thread::Builder::new()
            .name("training".to_owned())
            .spawn(move || {
                for handle in receive {
                    run(&handle, &data_dir, &config);
                }
            })?;
        Ok(Jobs {
            list: Mutex::new(Vec::new()),
            queue: Mutex::new(send),
        })
    }

    fn handles(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Handle>>> {
        self.list.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn find(&self, id: &str) -> ApiResult<Arc<Handle>> {
        self.handles()
            .iter()
            .find(|h| h.id == id)
            .cloned()
            .ok_or_else(|| {
                let shown: String = id.chars().take(64).collect();
                ApiError::not_found(format!("no training job {shown:?}"))
            })
    }

    /// Jobs by status, for the metrics.
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts: BTreeMap<&'static str, usize> = [
            JobStatus::Queued,
            JobStatus::Running,
            JobStatus::Completed,
            JobStatus::Failed,
            JobStatus::Cancelled,
        ]
        .into_iter()
        .map(|s| (s.as_str(), 0))
        .collect();
        for h in self.handles().iter() {
            *counts.entry(h.state.borrow().status.as_str()).or_default() += 1;
        }
        counts
    }
}

/// Trains one job, publishing its progress; registers the model when it succeeds.
fn run(handle: &Handle, data_dir: &std::path::Path, config: &Config) {
    // Taking the export is what starts the job: a cancel that took it first has marked the job
    // cancelled, and it stays so.
    let Some(export) = handle.take_export() else {
        return;
    };
    let started = Instant::now();
    handle.update(|j| {
        j.status = JobStatus::Running;
        j.started_at = Some(format_iso8601(now_micros()));
    });
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        train(handle, export, data_dir, config, started)
    }))
    .unwrap_or_else(|_| {
        Err(JobFailure {
            code: "internal",
            message: "training failed: internal error (see the server log)".to_owned(),
        })
    });
    let finished = format_iso8601(now_micros());
    let seconds = started.elapsed().as_secs_f64();
    handle.update(|j| {
        j.finished_at = Some(finished);
        match outcome {
            Ok(record) => {
                j.status = JobStatus::Completed;
                j.progress.fraction = 1.0;
                j.progress.stage = "done".to_owned();
                j.model = Some(record);
            }
            Err(failure) if failure.code == "cancelled" => j.status = JobStatus::Cancelled,
            Err(failure) => {
                j.status = JobStatus::Failed;
                j.error = Some(failure);
            }
        }
    });
    let job = handle.snapshot();
    tracing::info!(
        job = %job.id,
        status = job.status.as_str(),
        model = job.model.as_ref().map(|m| m.version.as_str()),
        seconds,
        "training job finished"
    );
}

fn train(
    handle: &Handle,
    staged: Staged,
    data_dir: &std::path::Path,
    config: &Config,
    started: Instant,
) -> Result<ModelRecord, JobFailure> {
    let internal = |context: &str, cause: &dyn std::fmt::Display| {
        tracing::error!(job = %handle.id, error = %cause, "{context}");
        JobFailure {
            code: "internal",
            message: format!("{context}: internal error (see the server log)"),
        }
    };
    let bytes = std::fs::read(&staged.path).map_err(|e| internal("cannot read the export", &e))?;
    drop(staged);
    let job = handle.snapshot();
    let frozen = handle.created_at_micros.is_some();
    let now = handle.created_at_micros.unwrap_or_else(now_micros);
    let options = options(&job.params, config, now);
    let mut last = (String::new(), Instant::now());
    let mut on_progress = |p: &Progress| {
        if handle.cancel.load(Ordering::SeqCst) {
            return false;
        }
        let stage = p.stage.as_str();
        if stage != last.0 || last.1.elapsed() >= PROGRESS_INTERVAL {
            last = (stage.to_owned(), Instant::now());
            let fraction = p.fraction;
            handle.update(|j| {
                j.progress = JobProgress {
                    stage: stage.to_owned(),
                    fraction,
                }
            });
        }
        true
    };
    let clock = move || {
        if frozen {
            0.0
        } else {
            started.elapsed().as_secs_f64() * 1000.0
        }
    };
    let input = TrainInput::Export {
        bytes: &bytes,
        file_name: &job.file_name,
    };
    let trained = pipeline::train(
        input,
        &options,
        Hooks {
            progress: &mut on_progress,
            elapsed_ms: &clock,
        },
    );
    drop(bytes);
    let trained = match trained {
        Ok(t) => t,
        Err(TrainError::Cancelled) => {
            return Err(JobFailure {
                code: "cancelled",
                message: "cancelled".to_owned(),
            })
        }
        Err(e) => {
            let code = match e {
                TrainError::Export(_) => "invalid_export",
                _ => "training_failed",
            };
            return Err(JobFailure {
                code,
                message: e.to_string(),
            });
        }
    };
    if handle.cancel.load(Ordering::SeqCst) {
        return Err(JobFailure {
            code: "cancelled",
            message: "cancelled".to_owned(),
        });
    }
    crate::registry::open(data_dir)
        .register(trained.artifact, now_micros())
        .map_err(|e| internal("cannot register the model", &error_chain(&e)))
}

/// The pipeline options of `params` over the server's configuration. With the built-in
/// configuration these are exactly the browser's, so the same choices give the same model bytes.
fn options(params: &TrainParams, config: &Config, now: i64) -> pipeline::TrainOptions {
    let mut options = params.to_options(now);
    if *config != Config::defaults() {
        let mut own = config.clone();
        own.model.model.isolation_forest.n_estimators = params.n_estimators;
        own.model.model.isolation_forest.max_samples = params.max_samples;
        own.model.model.lof.n_neighbors = params.n_neighbors;
        options.config = own;
        options.detector = Some(params.detector);
        options.contamination = Some(params.contamination);
    }
    options
}

/// The query parameters of `POST /api/training/jobs` over the configuration's defaults.
fn parse_params(
    query: &[(String, String)],
    config: &Config,
) -> ApiResult<(TrainParams, String, Option<i64>)> {
    if let Some((name, _)) = query
        .iter()
        .enumerate()
        .find(|(i, (name, _))| query[..*i].iter().any(|(n, _)| n == name))
        .map(|(_, pair)| pair)
    {
        let shown: String = name.chars().take(64).collect();
        return Err(ApiError::invalid_parameter(format!(
            "parameter {shown:?} is given more than once"
        )));
    }
    let mut params = TrainParams::from_config(config);
    let mut file_name = "export.json".to_owned();
    let mut created_at = None;
    let bad = |name: &str, expected: &str, value: &str| {
        let shown: String = value.chars().take(64).collect();
        ApiError::invalid_parameter(format!("{name}: expected {expected}, found {shown:?}"))
    };
    for (name, value) in query {
        let v = value.trim();
        match name.as_str() {
            "file_name" => {
                if v.is_empty() || v.len() > 255 || v.chars().any(char::is_control) {
                    return Err(bad(name, "a file name (1–255 characters)", value));
                }
                file_name = v.to_owned();
            }
            "detector" => {
                params.detector = match v {
                    "isolation_forest" => DetectorKind::IsolationForest,
                    "lof" => DetectorKind::Lof,
                    _ => return Err(bad(name, "isolation_forest or lof", value)),
                }
            }
            "seed" => {
                params.seed = v
                    .parse()
                    .map_err(|_| bad(name, "a whole number ≥ 0", value))?
            }
            "contamination" => {
                params.contamination = if v.eq_ignore_ascii_case("auto") {
                    AutoOr::Auto
                } else {
                    match v.parse::<f64>() {
                        Ok(c) if c > 0.0 && c <= 0.5 => AutoOr::Value(c),
                        _ => return Err(bad(name, "\"auto\" or a fraction in (0, 0.5]", value)),
                    }
                }
            }
            "n_estimators" => {
                params.n_estimators = match v.parse::<u32>() {
                    Ok(n) if (1..=10_000).contains(&n) => n,
                    _ => return Err(bad(name, "a whole number from 1 to 10000", value)),
                }
            }
            "max_samples" => {
                params.max_samples = if v.eq_ignore_ascii_case("auto") {
                    MaxSamples::Auto
                } else if let Ok(n) = v.parse::<u64>() {
                    if n == 0 {
                        return Err(bad(
                            name,
                            "\"auto\", a count ≥ 1 or a fraction in (0, 1]",
                            value,
                        ));
                    }
                    MaxSamples::Count(n)
                } else {
                    match v.parse::<f64>() {
                        Ok(f) if f > 0.0 && f <= 1.0 => MaxSamples::Fraction(f),
                        _ => {
                            return Err(bad(
                                name,
                                "\"auto\", a count ≥ 1 or a fraction in (0, 1]",
                                value,
                            ))
                        }
                    }
                }
            }
            "n_neighbors" => {
                params.n_neighbors = match v.parse::<u32>() {
                    Ok(n) if n >= 1 => n,
                    _ => return Err(bad(name, "a whole number ≥ 1", value)),
                }
            }
            "drop_invalid" => {
                params.drop_invalid = match v {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err(bad(name, "true or false", value)),
                }
            }
            "created_at_micros" => {
                let micros: i64 = v
                    .parse()
                    .map_err(|_| bad(name, "microseconds since 1970 (a whole number)", value))?;
                // The model's version is its creation second, YYYYMMDD_HHMMSS: years 1970–9999.
                if !(0..253_402_300_800_000_000).contains(&micros) {
                    return Err(bad(name, "a time between 1970 and 9999", value));
                }
                created_at = Some(micros);
            }
            _ => {
                let shown: String = name.chars().take(64).collect();
                return Err(ApiError::invalid_parameter(format!(
                    "unknown parameter {shown:?} (see /api/openapi.json)"
                )));
            }
        }
    }
    Ok((params, file_name, created_at))
}

pub async fn create(
    State(state): State<AppState>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let (params, file_name, created_at_micros) = parse_params(&query, &state.config)?;
    // Refused before the export is received: each queued job keeps its export on disk.
    let queued = state
        .jobs
        .handles()
        .iter()
        .filter(|h| h.state.borrow().status == JobStatus::Queued)
        .count();
    if queued >= MAX_QUEUED_JOBS {
        let mut busy = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            format!("{queued} training jobs are waiting already; try again when one has run"),
        )
        .into_response();
        busy.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
        return Ok(busy);
    }
    let limit = Limit {
        what: "export",
        mb: state.config.training.limits.max_export_mb,
    };
    let staged = upload::stage(&state, "/api/training/jobs", limit, &headers, body).await?;
    // Validate before accepting, so a broken export is a 422 now rather than a failed job later.
    let mut validation = state.config.training.validation.clone();
    validation.drop_invalid = params.drop_invalid;
    let path = staged.path.clone();
    let (records, dropped) = {
        let _permit = state.heavy_work().await?;
        blocking(move || check_export(&path, &validation)).await?
    };
    let id = upload::random_hex()?;
    let job = Job {
        id: id.clone(),
        status: JobStatus::Queued,
        file_name,
        size_bytes: staged.size,
        created_at: format_iso8601(now_micros()),
        started_at: None,
        finished_at: None,
        progress: JobProgress {
            stage: "queued".to_owned(),
            fraction: 0.0,
        },
        params,
        records,
        dropped,
        model: None,
        error: None,
    };
    let handle = Arc::new(Handle {
        id: id.clone(),
        cancel: AtomicBool::new(false),
        state: watch::Sender::new(job.clone()),
        export: Mutex::new(Some(staged)),
        created_at_micros,
    });
    {
        let mut handles = state.jobs.handles();
        handles.insert(0, handle.clone());
        let mut finished = 0;
        handles.retain(|h| {
            if !h.state.borrow().status.finished() {
                return true;
            }
            finished += 1;
            finished <= KEPT_FINISHED_JOBS
        });
    }
    let queued = state
        .jobs
        .queue
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .send(handle);
    if let Err(e) = queued {
        return Err(ApiError::internal("the training thread is gone", &e));
    }
    tracing::info!(job = %id, size_bytes = job.size_bytes, records, "training job accepted");
    let mut response = (StatusCode::ACCEPTED, Json(&job)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/training/jobs/{id}")) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// Validates a staged export: its usable and dropped record counts, or 422 naming the problems.
fn check_export(path: &std::path::Path, options: &ValidateOptions) -> ApiResult<(usize, usize)> {
    let bytes =
        std::fs::read(path).map_err(|e| ApiError::internal("cannot read the export", &e))?;
    let invalid = |message: String| ApiError::unprocessable("invalid_export", message);
    let parsed = parse_export(&bytes, options)
        .map_err(|e| invalid(format!("the export is invalid: {e}")))?;
    let report = parsed.report;
    if !report.valid {
        let count = report.error_count();
        let first = report
            .first_error()
            .map(ToString::to_string)
            .unwrap_or_else(|| "it holds no usable records".to_owned());
        let message = if count > 0 {
            format!(
                "the export has {count} error{} (send drop_invalid=true to leave those records out); the first: {first}",
                if count == 1 { "" } else { "s" }
            )
        } else {
            format!("the export is not usable: {first}")
        };
        return Err(invalid(message));
    }
    let dropped = report.dropped.as_ref().map_or(0, |d| d.count);
    Ok((report.summary.records, dropped))
}

pub async fn list(State(state): State<AppState>) -> Json<serde_json::Value> {
    let jobs: Vec<Job> = state.jobs.handles().iter().map(|h| h.snapshot()).collect();
    Json(json!({ "jobs": jobs }))
}

pub async fn show(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Job>> {
    Ok(Json(state.jobs.find(&id)?.snapshot()))
}

/// Cancels a queued or running job (waiting, up to a few seconds, until it has stopped), or
/// removes a finished one from the list.
pub async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let handle = state.jobs.find(&id)?;
    if handle.snapshot().status.finished() {
        state.jobs.handles().retain(|h| h.id != id);
        return Ok(Json(handle.snapshot()).into_response());
    }
    handle.cancel.store(true, Ordering::SeqCst);
    // A queued job never starts: mark it now and free its export.
    if handle.take_export().is_some() {
        handle.update(|j| {
            if j.status == JobStatus::Queued {
                j.status = JobStatus::Cancelled;
                j.finished_at = Some(format_iso8601(now_micros()));
            }
        });
    }
    let mut changes = handle.state.subscribe();
    let stopped = tokio::time::timeout(
        Duration::from_secs(30),
        changes.wait_for(|j| j.status.finished()),
    )
    .await;
    let job = handle.snapshot();
    if stopped.is_err() {
        tracing::warn!(job = %id, "the job has not stopped 30 s after it was cancelled");
        return Ok((StatusCode::ACCEPTED, Json(job)).into_response());
    }
    Ok(Json(job).into_response())
}

/// Server-sent events: the job as `progress` events, then `done` once it has finished.
pub async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let handle = state.jobs.find(&id)?;
    let receiver = handle.state.subscribe();
    // State: the receiver, and whether the stream is over; the first item is the job as it is.
    // The stream also ends when the server stops, so open streams do not hold up the stop (a
    // client reconnects or falls back to polling).
    let stopping = state.stopping.clone();
    let events = stream::unfold(
        (receiver, stopping, false, true),
        |(mut rx, mut stopping, over, first)| async move {
            if over {
                return None;
            }
            if !first {
                tokio::select! {
                    changed = rx.changed() => {
                        // The job was dropped (never happens while the server runs): end.
                        changed.ok()?;
                    }
                    _ = stopping.wait_for(|s| *s) => return None,
                }
            }
            let job = rx.borrow_and_update().clone();
            let done = job.status.finished();
            let event = Event::default()
                .event(if done { "done" } else { "progress" })
                .json_data(&job)
                .unwrap_or_else(|_| Event::default().event("progress"));
            Some((Ok(event), (rx, stopping, done, false)))
        },
    );
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
