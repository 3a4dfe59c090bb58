//! The anomaly store over HTTP: ingestion of live logs (`POST /api/logs/{log_type}`), the
//! browser's findings (`POST /api/anomalies`), lists, details and the review lifecycle.
//!
//! Ingestion streams: the body is read chunk by chunk and handed through a bounded channel to a
//! blocking thread that splits lines, scores them with the log type's deployed model (the same
//! [`read_line_record`] and [`Detector`] as `mcp-train detect`) and stores anomalies in batches.
//! Memory stays bounded whatever the body's size: a few chunks in flight, one line (at most
//! [`MAX_LINE_BYTES`]) and one batch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use mcp_train_core::agent::{self, read_line_record, Anomaly, Detector, ParseContext};
use mcp_train_core::anomalies::{
    page_size, AnomalyDetail, AnomalyFilter, AnomalyStatus, IngestReport, LineError, StatusChange,
    StoredAnomaly, MAX_BY_BYTES, MAX_REPORTED_LINE_ERRORS,
};
use mcp_train_core::export::{parse_export, Record, ValidateOptions};
use mcp_train_core::pipeline::ModelArtifact;
use mcp_train_core::time::CivilTime;
use serde::Deserialize;
use serde_json::json;

use super::error::{error_chain, ApiError, ApiResult};
use super::{blocking, AppState};
use crate::fs::clock::now_micros;
use crate::store::{AnomalyStore, StoreError};

/// Longest line ingested; a longer one is refused (and skipped to its end).
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// Anomalies stored per transaction.
const BATCH: usize = 1000;
/// A batch is stored at least this often while a slow stream trickles in.
const BATCH_EVERY: Duration = Duration::from_secs(1);
/// How often a long ingestion looks for a newly deployed model.
const MODEL_POLL: Duration = Duration::from_secs(1);
/// Body chunks waiting for the scoring thread.
const CHUNKS_IN_FLIGHT: usize = 16;
/// Most anomalies one `POST /api/anomalies` stores.
pub const MAX_POSTED_ANOMALIES: usize = 10_000;
/// The body limit of `POST /api/anomalies`.
pub const POSTED_BODY_LIMIT: usize = 32 << 20;

/// Store failures as API errors.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::NotFound(_) => ApiError::not_found(e.to_string()),
            StoreError::InvalidTransition { .. } => {
                ApiError::new(StatusCode::CONFLICT, "invalid_transition", e.to_string())
            }
            StoreError::Cursor(_) | StoreError::Invalid(_) => {
                ApiError::invalid_parameter(e.to_string())
            }
            _ => ApiError::internal("the anomaly store failed", &error_chain(&e)),
        }
    }
}

/// The deployed model of each log type, loaded once per deployment (version and SHA-256).
#[derive(Debug, Default)]
pub struct DeployedModels {
    loaded: Mutex<HashMap<String, (String, Arc<ModelArtifact>)>>,
}

impl DeployedModels {
    /// The model deployed for `log_type` now, from the cache unless the deployment changed.
    pub(crate) fn current(
        &self,
        state: &AppState,
        log_type: &str,
    ) -> ApiResult<Arc<ModelArtifact>> {
        let registry = state.registry.open();
        let record = registry.deployed(log_type)?.ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no_deployed_model",
                format!("no model is deployed for log type {log_type}: deploy one first (mcp-train models deploy VERSION)"),
            )
        })?;
        let key = format!("{}@{}", record.version, record.sha256);
        if let Some((cached, artifact)) = self
            .loaded
            .lock()
            .map_err(|_| ApiError::internal("the model cache failed", &"poisoned lock"))?
            .get(log_type)
        {
            if *cached == key {
                return Ok(artifact.clone());
            }
        }
        let artifact = Arc::new(registry.get(&record.version)?.artifact()?);
        if artifact.log_type != log_type {
            return Err(ApiError::unprocessable(
                "invalid_model",
                format!(
                    "the deployed model {} is for log type {}, not {log_type}",
                    artifact.version, artifact.log_type
                ),
            ));
        }
        if let Ok(mut loaded) = self.loaded.lock() {
            loaded.insert(log_type.to_owned(), (key, artifact.clone()));
        }
        Ok(artifact)
    }
}

pub(crate) fn new_detector(artifact: &ModelArtifact) -> ApiResult<Detector> {
    Detector::new(artifact.clone()).map_err(|e| {
        ApiError::unprocessable(
            "invalid_model",
            format!("cannot detect with model {}: {e}", artifact.version),
        )
    })
}

/// `?device=NAME`: the host of entries whose lines name none.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestQuery {
    device: Option<String>,
}

/// `POST /api/logs/{log_type}`: raw lines or NDJSON records, scored and stored as they arrive.
pub async fn ingest(
    State(state): State<AppState>,
    Path(log_type): Path<String>,
    Query(query): Query<IngestQuery>,
    body: Body,
) -> ApiResult<Json<IngestReport>> {
    agent::agent(&log_type).map_err(|e| ApiError::invalid_parameter(e.to_string()))?;
    if let Some(device) = &query.device {
        if device.trim().is_empty() || device.len() > MAX_BY_BYTES {
            return Err(ApiError::invalid_parameter(format!(
                "device must be a host name of 1 to {MAX_BY_BYTES} bytes"
            )));
        }
    }
    let probe = state.clone();
    let lt = log_type.clone();
    let artifact = blocking(move || probe.deployed_models.current(&probe, &lt)).await?;
    let year = i32::try_from(CivilTime::from_micros(now_micros()).year).unwrap_or(1970);
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(CHUNKS_IN_FLIGHT);
    let report = IngestReport {
        log_type: log_type.clone(),
        model_version: artifact.version.clone(),
        lines: 0,
        scored: 0,
        invalid: 0,
        anomalies: 0,
        errors: Vec::new(),
    };
    let (worker_state, worker_log_type, device) = (state.clone(), log_type.clone(), query.device);
    // The detector is not `Send`: it is made and used on the blocking thread.
    let worker = tokio::task::spawn_blocking(move || {
        let detector = match new_detector(&artifact) {
            Ok(detector) => detector,
            Err(e) => return (report, Err(e)),
        };
        let mut ingestion = Ingestion::new(
            worker_state,
            worker_log_type,
            ParseContext { default_year: year },
            detector,
            report,
            Scan {
                device,
                ..Scan::INGEST
            },
        );
        let result = ingestion.run(rx);
        (ingestion.into_results().0, result)
    });
    let mut stream = body.into_data_stream();
    let mut cut_off = None;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) => {
                if tx.send(chunk).await.is_err() {
                    // The worker stopped (the store failed): its result says why.
                    break;
                }
            }
            Err(e) => {
                cut_off = Some(error_chain(&e));
                break;
            }
        }
    }
    drop(tx);
    let (report, result) = worker
        .await
        .map_err(|e| ApiError::internal("the ingestion failed", &e))?;
    state
        .metrics
        .ingested(&log_type, report.scored, report.invalid);
    state
        .metrics
        .anomalies_detected(&log_type, report.anomalies);
    result?;
    if let Some(reason) = cut_off {
        return Err(ApiError::bad_request(format!(
            "the body was cut off after {} lines ({reason}); the {} anomalies found until then are stored",
            report.lines, report.anomalies
        )));
    }
    Ok(Json(report))
}

/// How a scan runs: what ingestion does, and what `detect_anomalies` (MCP) asks for.
#[derive(Debug, Clone)]
pub(crate) struct Scan {
    /// The host of entries whose lines name none.
    pub device: Option<String>,
    /// Switch to a newly deployed model of the log type while scanning (ingestion), or keep
    /// the model the scan started with (a model chosen by version).
    pub follow_deployed: bool,
    /// Store the anomalies found, recorded as stored by this name; `None`: only report them.
    pub store_as: Option<&'static str>,
    /// How many of the anomalies found (and of their stored ids) to keep for the answer.
    pub keep: usize,
}

impl Scan {
    /// `POST /api/logs/{log_type}`: follows deployments, stores everything, keeps nothing.
    pub const INGEST: Scan = Scan {
        device: None,
        follow_deployed: true,
        store_as: Some("ingest"),
        keep: 0,
    };
}

/// The scoring side of one ingestion (or of a scan of a dataset): lines (or a whole export's
/// records) through [`read_line_record`] and the [`Detector`], anomalies stored in batches.
pub(crate) struct Ingestion {
    state: AppState,
    log_type: String,
    ctx: ParseContext,
    detector: Detector,
    scan: Scan,
    report: IngestReport,
    batch: Vec<StoredAnomaly>,
    last_store: Instant,
    last_poll: Instant,
    /// The current line's bytes so far (at most [`MAX_LINE_BYTES`]).
    partial: Vec<u8>,
    /// The current line is over [`MAX_LINE_BYTES`]: skipped to its end.
    too_long: bool,
    /// The first [`Scan::keep`] anomalies found (with their ids once stored).
    kept: Vec<StoredAnomaly>,
    /// The ids of the first [`Scan::keep`] anomalies stored.
    stored_ids: Vec<i64>,
    /// Anomalies stored.
    stored: u64,
}

/// What a finished scan found, besides its report.
#[derive(Debug, Clone, Default)]
pub(crate) struct Findings {
    /// The first anomalies found (stored ones with their ids; id 0 when not stored).
    pub kept: Vec<StoredAnomaly>,
    /// The ids of the first anomalies stored.
    pub stored_ids: Vec<i64>,
    /// How many anomalies were stored.
    pub stored: u64,
}

impl Ingestion {
    pub(crate) fn new(
        state: AppState,
        log_type: String,
        ctx: ParseContext,
        detector: Detector,
        report: IngestReport,
        scan: Scan,
    ) -> Ingestion {
        Ingestion {
            state,
            log_type,
            ctx,
            detector,
            scan,
            report,
            batch: Vec::new(),
            last_store: Instant::now(),
            last_poll: Instant::now(),
            partial: Vec::new(),
            too_long: false,
            kept: Vec::new(),
            stored_ids: Vec::new(),
            stored: 0,
        }
    }

    /// The report and findings so far.
    pub(crate) fn into_results(self) -> (IngestReport, Findings) {
        (
            self.report,
            Findings {
                kept: self.kept,
                stored_ids: self.stored_ids,
                stored: self.stored,
            },
        )
    }

    fn run(&mut self, mut rx: tokio::sync::mpsc::Receiver<Bytes>) -> ApiResult<()> {
        while let Some(chunk) = rx.blocking_recv() {
            self.feed(&chunk)?;
        }
        self.finish()
    }

    /// The next bytes of the input (lines may span calls).
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> ApiResult<()> {
        self.chunk(chunk)?;
        if self.batch.len() >= BATCH
            || (!self.batch.is_empty() && self.last_store.elapsed() >= BATCH_EVERY)
        {
            self.store()?;
        }
        Ok(())
    }

    /// The end of the input: the last line (without a line break) and the last batch.
    pub(crate) fn finish(&mut self) -> ApiResult<()> {
        if !self.partial.is_empty() || self.too_long {
            let line = std::mem::take(&mut self.partial);
            self.line(&line)?;
        }
        self.store()
    }

    /// A whole JSON export (an array, or an object with `data`), read at once as `detect`
    /// reads one: invalid records are dropped and reported, the rest scored in stable
    /// timestamp order (the order `score` uses).
    pub(crate) fn whole_export(
        &mut self,
        bytes: &[u8],
        options: &ValidateOptions,
    ) -> ApiResult<()> {
        let mut options = options.clone();
        options.drop_invalid = true;
        let parsed = parse_export(bytes, &options).map_err(|e| {
            ApiError::unprocessable("invalid_export", format!("the export cannot be read: {e}"))
        })?;
        let report = parsed.report;
        self.report.lines += report.records_seen as u64;
        for group in &report.errors {
            for issue in &group.examples {
                let line = issue
                    .line
                    .or(issue.record.map(|r| r + 1))
                    .unwrap_or_default();
                self.bad_at(
                    line as u64,
                    issue.column.unwrap_or(1),
                    issue.message.clone(),
                );
            }
        }
        if let Some(dropped) = &report.dropped {
            let listed: usize = report.errors.iter().map(|g| g.examples.len()).sum();
            self.report.invalid += dropped.count.saturating_sub(listed) as u64;
        }
        let records = parsed.export.records;
        let mut order: Vec<usize> = (0..records.len()).collect();
        order.sort_by_key(|&i| records[i].timestamp);
        for i in order {
            self.poll();
            self.score(&records[i], records[i].index as u64 + 1);
            if self.batch.len() >= BATCH {
                self.store()?;
            }
        }
        self.store()
    }

    fn chunk(&mut self, mut bytes: &[u8]) -> ApiResult<()> {
        while !bytes.is_empty() {
            match memchr(b'\n', bytes) {
                Some(at) => {
                    let (head, rest) = (&bytes[..at], &bytes[at + 1..]);
                    if self.partial.is_empty() && !self.too_long {
                        self.line(head)?;
                    } else {
                        self.push_partial(head);
                        let line = std::mem::take(&mut self.partial);
                        self.line(&line)?;
                    }
                    bytes = rest;
                }
                None => {
                    self.push_partial(bytes);
                    break;
                }
            }
        }
        Ok(())
    }

    fn push_partial(&mut self, bytes: &[u8]) {
        let room = MAX_LINE_BYTES.saturating_sub(self.partial.len());
        if bytes.len() > room {
            self.too_long = true;
        }
        self.partial
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn bad(&mut self, column: usize, message: String) {
        self.bad_at(self.report.lines, column, message);
    }

    fn bad_at(&mut self, line: u64, column: usize, message: String) {
        self.report.invalid += 1;
        if self.report.errors.len() < MAX_REPORTED_LINE_ERRORS {
            self.report.errors.push(LineError {
                line,
                column,
                message,
            });
        }
    }

    /// One whole line (without its `\n`).
    fn line(&mut self, bytes: &[u8]) -> ApiResult<()> {
        self.report.lines += 1;
        if std::mem::take(&mut self.too_long) {
            self.bad(1, format!("the line is longer than {MAX_LINE_BYTES} bytes"));
            return Ok(());
        }
        let line = match agent::line_text(bytes) {
            Ok(line) => line,
            Err(column) => {
                self.bad(column, "not valid UTF-8".to_owned());
                return Ok(());
            }
        };
        if line.trim().is_empty() {
            return Ok(());
        }
        self.poll();
        let index = usize::try_from(self.report.lines - 1).unwrap_or(usize::MAX);
        let record = match read_line_record(line, index, &self.ctx, self.detector.agent()) {
            Ok(record) => record,
            Err(e) => {
                self.bad(e.column, e.message);
                return Ok(());
            }
        };
        self.score(&record, self.report.lines);
        Ok(())
    }

    /// Scores one record read from line `line`.
    fn score(&mut self, record: &Record<'_>, line: u64) {
        match self.detector.detect(record) {
            Ok(found) => {
                self.report.scored += 1;
                if let Some(anomaly) = found {
                    self.found(anomaly);
                }
            }
            Err(e) => self.bad_at(line, 1, e.to_string()),
        }
    }

    fn found(&mut self, mut anomaly: Anomaly) {
        if anomaly.entry.host.is_none() {
            anomaly.entry.host.clone_from(&self.scan.device);
        }
        self.report.anomalies += 1;
        let found = StoredAnomaly::new(anomaly, now_micros());
        if self.scan.store_as.is_some() {
            self.batch.push(found);
        } else if self.kept.len() < self.scan.keep {
            self.kept.push(found);
        }
    }

    /// At most once per [`MODEL_POLL`]: a newly deployed model takes over (its windows start
    /// empty, as with `detect --registry`).
    fn poll(&mut self) {
        if !self.scan.follow_deployed || self.last_poll.elapsed() < MODEL_POLL {
            return;
        }
        self.last_poll = Instant::now();
        let Ok(artifact) = self
            .state
            .deployed_models
            .current(&self.state, &self.log_type)
        else {
            return;
        };
        if artifact.version != self.detector.artifact().version {
            if let Ok(detector) = new_detector(&artifact) {
                tracing::info!(log_type = %self.log_type, from = %self.detector.artifact().version, to = %artifact.version, "ingestion: now scoring with the newly deployed model");
                self.report.model_version.clone_from(&artifact.version);
                self.detector = detector;
            }
        }
    }

    fn store(&mut self) -> ApiResult<()> {
        self.last_store = Instant::now();
        if self.batch.is_empty() {
            return Ok(());
        }
        let by = self.scan.store_as.unwrap_or("ingest");
        self.state.anomalies.insert(&mut self.batch, by)?;
        self.stored += self.batch.len() as u64;
        // Channels subscribed to anomalies hear about what was stored (grouped per window).
        self.state.notifier.anomalies(&self.log_type, &self.batch);
        for stored in &self.batch {
            if self.kept.len() < self.scan.keep {
                self.kept.push(stored.clone());
            }
            if self.stored_ids.len() < self.scan.keep {
                self.stored_ids.push(stored.id);
            }
        }
        self.batch.clear();
        Ok(())
    }
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

/// `POST /api/anomalies`: anomalies found elsewhere (the browser's Detect page).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostedAnomalies {
    anomalies: Vec<Anomaly>,
    #[serde(default)]
    by: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    Json(posted): Json<PostedAnomalies>,
) -> ApiResult<Response> {
    if posted.anomalies.len() > MAX_POSTED_ANOMALIES {
        return Err(ApiError::invalid_parameter(format!(
            "{} anomalies in one request: at most {MAX_POSTED_ANOMALIES}",
            posted.anomalies.len()
        )));
    }
    let by = posted.by.unwrap_or_else(|| "api".to_owned());
    if by.trim().is_empty() || by.len() > MAX_BY_BYTES {
        return Err(ApiError::invalid_parameter(format!(
            "by must be a name of 1 to {MAX_BY_BYTES} bytes"
        )));
    }
    for (i, a) in posted.anomalies.iter().enumerate() {
        if agent::agent(&a.entry.log_type).is_err() {
            return Err(ApiError::invalid_parameter(format!(
                "anomalies[{i}].entry.log_type: {:?} is not a known log type ({})",
                a.entry.log_type.chars().take(64).collect::<String>(),
                agent::known_log_types()
            )));
        }
        if a.inference.model_version.trim().is_empty() || !a.inference.decision.is_finite() {
            return Err(ApiError::invalid_parameter(format!(
                "anomalies[{i}].inference: needs a model_version and a finite decision"
            )));
        }
    }
    let now = now_micros();
    let mut stored: Vec<StoredAnomaly> = posted
        .anomalies
        .into_iter()
        .map(|a| StoredAnomaly::new(a, now))
        .collect();
    let store = state.anomalies.clone();
    let stored = blocking(move || {
        store.insert(&mut stored, &by)?;
        Ok(stored)
    })
    .await?;
    let mut by_type: HashMap<String, Vec<StoredAnomaly>> = HashMap::new();
    for a in &stored {
        by_type
            .entry(a.log_type.clone())
            .or_default()
            .push(a.clone());
    }
    for (log_type, found) in by_type {
        state
            .metrics
            .anomalies_detected(&log_type, u64::try_from(found.len()).unwrap_or(u64::MAX));
        state.notifier.anomalies(&log_type, &found);
    }
    let ids: Vec<i64> = stored.iter().map(|a| a.id).collect();
    Ok((
        StatusCode::CREATED,
        Json(json!({ "stored": ids.len(), "ids": ids })),
    )
        .into_response())
}

/// The filter, cursor and page size of a list's query parameters.
pub fn list_query(pairs: &[(String, String)]) -> ApiResult<(AnomalyFilter, Option<String>, usize)> {
    let mut cursor = None;
    let mut limit = None;
    let mut filters = Vec::new();
    for (key, value) in pairs {
        match key.as_str() {
            "cursor" => cursor = Some(value.clone()),
            "limit" => limit = Some(value.as_str()),
            _ => filters.push((key.as_str(), value.as_str())),
        }
    }
    let filter = AnomalyFilter::from_pairs(filters)
        .map_err(|e| ApiError::invalid_parameter(e.to_string()))?;
    let limit = page_size(limit).map_err(|e| ApiError::invalid_parameter(e.to_string()))?;
    Ok((filter, cursor, limit))
}

/// `GET /api/anomalies`: a page, newest first.
pub async fn list(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let (filter, cursor, limit) = list_query(&pairs)?;
    let store = state.anomalies.clone();
    let page = blocking(move || Ok(store.list(&filter, cursor.as_deref(), limit)?)).await?;
    Ok(Json(page).into_response())
}

/// `GET /api/anomalies/summary`: counts per log type and status.
pub async fn summary(State(state): State<AppState>) -> ApiResult<Response> {
    let store = state.anomalies.clone();
    let counts = blocking(move || Ok(store.counts()?)).await?;
    let counts: Vec<_> = counts
        .into_iter()
        .map(|(log_type, status, count)| {
            json!({ "log_type": log_type, "status": status, "count": count })
        })
        .collect();
    Ok(Json(json!({ "counts": counts })).into_response())
}

pub(crate) fn parse_id(id: &str) -> ApiResult<i64> {
    id.parse::<i64>()
        .map_err(|_| ())
        .and_then(check_id)
        .map_err(|()| {
            ApiError::invalid_parameter(format!(
                "{:?} is not an anomaly id (a positive integer)",
                id.chars().take(64).collect::<String>()
            ))
        })
}

pub(crate) fn check_id(id: i64) -> Result<i64, ()> {
    if id > 0 {
        Ok(id)
    } else {
        Err(())
    }
}

/// One anomaly and its audit trail (`GET /api/anomalies/{id}`, the `get_anomaly` tool).
pub async fn detail(state: &AppState, id: i64) -> ApiResult<AnomalyDetail> {
    let id = check_id(id).map_err(|()| {
        ApiError::invalid_parameter(format!("{id} is not an anomaly id (a positive integer)"))
    })?;
    let store = state.anomalies.clone();
    let detail = blocking(move || Ok(store.get(id)?)).await?;
    detail.ok_or_else(|| StoreError::NotFound(id).into())
}

/// A step of the review, checked by the store's lifecycle (`POST /api/anomalies/{id}/status`,
/// the `set_anomaly_status` tool).
pub async fn set_status(
    state: &AppState,
    id: i64,
    change: StatusChange,
) -> ApiResult<AnomalyDetail> {
    let id = check_id(id).map_err(|()| {
        ApiError::invalid_parameter(format!("{id} is not an anomaly id (a positive integer)"))
    })?;
    change
        .check()
        .map_err(|e| ApiError::invalid_parameter(e.to_string()))?;
    let store = state.anomalies.clone();
    blocking(move || Ok(store.change_status(id, &change, now_micros())?)).await
}

/// `GET /api/anomalies/{id}`: one anomaly and its audit trail.
pub async fn show(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    Ok(Json(detail(&state, id).await?).into_response())
}

/// `POST /api/anomalies/{id}/status`: a step of the review.
pub async fn change_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(change): Json<StatusChange>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    Ok(Json(set_status(&state, id, change).await?).into_response())
}

/// The store's counts as the metrics take them.
pub fn metric_counts(store: &AnomalyStore) -> Vec<(String, &'static str, u64)> {
    match store.counts() {
        Ok(counts) => counts
            .into_iter()
            .map(|(log_type, status, n)| (log_type, AnomalyStatus::as_str(status), n))
            .collect(),
        Err(e) => {
            tracing::warn!(error = %error_chain(&e), "cannot count the stored anomalies");
            Vec::new()
        }
    }
}
