//! `/api/training/jobs`: exports uploaded to the server and trained natively by the same pipeline
//! as the CLI and the browser. Jobs run one at a time per process (training uses every core), on
//! a thread of their own (`runner`), in the order they were accepted; their state lives in memory
//! and is published through a `watch` channel that the job list, the job view and the event
//! streams read. The JSON of a job is `mcp_train_core::api::Job`.

mod params;
mod runner;

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::stream::Stream;
use mcp_train_core::api::{Job, JobList, JobProgress, JobStatus};
use mcp_train_core::export::{parse_export, ValidateOptions};
use mcp_train_core::time::format_iso8601;
use tokio::sync::watch;

use super::error::{ApiError, ApiResult};
use super::upload::{self, Limit, Staged};
use super::{blocking, AppState};
use crate::fs::clock::now_micros;
use params::parse_params;
use runner::Handle;
pub use runner::Jobs;

/// Jobs that may wait for the runner at once (each keeps its export on disk).
const MAX_QUEUED_JOBS: usize = 8;
/// Finished jobs kept in memory; older finished ones are forgotten (their models stay registered).
const KEPT_FINISHED_JOBS: usize = 200;

/// A training request whose parameters are parsed and checked, not yet holding an export.
#[derive(Debug)]
pub(crate) struct JobRequest {
    params: mcp_train_core::pipeline::TrainParams,
    file_name: String,
    created_at_micros: Option<i64>,
    log_type: Option<String>,
}

impl JobRequest {
    /// The request `pairs` (the query parameters of `POST /api/training/jobs`, or a tool's
    /// arguments spelled the same way) ask for.
    pub(crate) fn parse(pairs: &[(String, String)], state: &AppState) -> ApiResult<JobRequest> {
        let (params, file_name, created_at_micros, log_type) = parse_params(pairs, &state.config)?;
        Ok(JobRequest {
            params,
            file_name,
            created_at_micros,
            log_type,
        })
    }
}

/// `busy` when [`MAX_QUEUED_JOBS`] wait already: checked before an export is received, since
/// each queued job keeps its export on disk.
pub(crate) fn check_room(state: &AppState) -> ApiResult<()> {
    let queued = state
        .jobs
        .handles()
        .iter()
        .filter(|h| h.state.borrow().status == JobStatus::Queued)
        .count();
    if queued >= MAX_QUEUED_JOBS {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            format!("{queued} training jobs are waiting already; try again when one has run"),
        ));
    }
    Ok(())
}

/// Validates the staged export of `request` and queues its job: what `POST /api/training/jobs`
/// and the `start_training` tool both do once they hold an export.
pub(crate) async fn submit(state: &AppState, request: JobRequest, staged: Staged) -> ApiResult<Job> {
    check_room(state)?;
    // Validate before accepting, so a broken export is a 422 now rather than a failed job later.
    let mut validation = state.config.training.validation.clone();
    validation.drop_invalid = request.params.drop_invalid;
    let path = staged.path.clone();
    let (records, dropped) = {
        let _permit = state.heavy_work().await?;
        blocking(move || check_export(&path, &validation)).await?
    };
    let id = upload::random_hex()?;
    let job = Job {
        id: id.clone(),
        status: JobStatus::Queued,
        file_name: request.file_name,
        size_bytes: staged.size,
        created_at: format_iso8601(now_micros()),
        started_at: None,
        finished_at: None,
        progress: JobProgress {
            stage: "queued".to_owned(),
            fraction: 0.0,
        },
        params: request.params,
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
        created_at_micros: request.created_at_micros,
        log_type: request.log_type,
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
    state.jobs.enqueue(handle)?;
    tracing::info!(job = %id, size_bytes = job.size_bytes, records, "training job accepted");
    Ok(job)
}

pub async fn create(
    State(state): State<AppState>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let request = JobRequest::parse(&query, &state)?;
    if let Err(busy) = check_room(&state) {
        let mut busy = busy.into_response();
        busy.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
        return Ok(busy);
    }
    let limit = Limit {
        what: "export",
        mb: state.config.training.limits.max_export_mb,
    };
    let staged = upload::stage(&state, "/api/training/jobs", limit, &headers, body).await?;
    let job = submit(&state, request, staged).await?;
    let id = &job.id;
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

pub async fn list(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(super::sorted_json(&JobList { jobs: all(&state) })?))
}

pub async fn show(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Job>> {
    Ok(Json(get(&state, &id)?))
}

/// The jobs of this process, newest first.
pub(crate) fn all(state: &AppState) -> Vec<Job> {
    state.jobs.handles().iter().map(|h| h.snapshot()).collect()
}

/// The job `id`, as it is now.
pub(crate) fn get(state: &AppState, id: &str) -> ApiResult<Job> {
    Ok(state.jobs.find(id)?.snapshot())
}

/// The job `id`'s state as it changes (ends when the job has finished and is forgotten).
pub(crate) fn watch(state: &AppState, id: &str) -> ApiResult<watch::Receiver<Job>> {
    Ok(state.jobs.find(id)?.state.subscribe())
}

/// Tells the job `id` to stop, without waiting: the runner stops it at its next progress
/// report and registers nothing; a queued job is marked cancelled now and its export freed.
pub(crate) fn request_cancel(state: &AppState, id: &str) -> ApiResult<()> {
    let handle = state.jobs.find(id)?;
    handle.cancel.store(true, Ordering::SeqCst);
    if handle.take_export().is_some() {
        handle.update(|j| {
            if j.status == JobStatus::Queued {
                j.status = JobStatus::Cancelled;
                j.finished_at = Some(format_iso8601(now_micros()));
            }
        });
    }
    Ok(())
}

/// How [`cancel`] ended.
#[derive(Debug)]
pub(crate) enum Cancelled {
    /// The job had finished before: nothing was cancelled.
    AlreadyFinished(Job),
    /// The job has stopped.
    Stopped(Job),
    /// Told to stop, still running 30 s later.
    Stopping(Job),
}

/// Cancels the queued or running job `id`, waiting (up to 30 s) until it has stopped.
pub(crate) async fn cancel(state: &AppState, id: &str) -> ApiResult<Cancelled> {
    let handle = state.jobs.find(id)?;
    if handle.snapshot().status.finished() {
        return Ok(Cancelled::AlreadyFinished(handle.snapshot()));
    }
    request_cancel(state, id)?;
    let mut changes = handle.state.subscribe();
    let stopped = tokio::time::timeout(
        Duration::from_secs(30),
        changes.wait_for(|j| j.status.finished()),
    )
    .await;
    let job = handle.snapshot();
    if stopped.is_err() {
        tracing::warn!(job = %id, "the job has not stopped 30 s after it was cancelled");
        return Ok(Cancelled::Stopping(job));
    }
    Ok(Cancelled::Stopped(job))
}

/// Cancels a queued or running job (waiting, up to a few seconds, until it has stopped), or
/// removes a finished one from the list.
pub async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(match cancel(&state, &id).await? {
        Cancelled::AlreadyFinished(job) => {
            state.jobs.handles().retain(|h| h.id != id);
            Json(job).into_response()
        }
        Cancelled::Stopped(job) => Json(job).into_response(),
        Cancelled::Stopping(job) => (StatusCode::ACCEPTED, Json(job)).into_response(),
    })
}

/// Server-sent events: the job as `progress` events, then `done` once it has finished.
pub async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let handle = state.jobs.find(&id)?;
    let receiver = handle.state.subscribe();
    Ok(super::state_events(&state, receiver, |j: &Job| {
        j.status.finished()
    }))
}
