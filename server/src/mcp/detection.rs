//! Tools of the `detection` group: run a model over a dataset (the ingestion path of
//! `POST /api/logs/{log_type}`: [`read_line_record`](mcp_train_core::agent::read_line_record) and
//! the [`Detector`](mcp_train_core::agent::Detector)), and the anomaly store — list with the
//! filters every surface shares ([`AnomalyFilter`]), read, review, export.

use std::io::Read;
use std::time::Duration;

use mcp_train_core::agent::ParseContext;
use mcp_train_core::anomalies::{
    AnomalyDetail, AnomalyFilter, AnomalyPage, AnomalyStatus, ExportFormat, ExportJob,
    IngestReport, LineError, StatusChange, StoredAnomaly,
};
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::model::{ProgressNotificationParam, RequestMetaObject};
use rmcp::{tool, tool_router, Peer, RoleServer};
use tokio_util::sync::CancellationToken;

use super::models::{dataset_error, year_of};
use super::{McpServer, ToolError, DEFAULT_PAGE, MAX_PAGE};
use crate::datasets::{DatasetKind, Datasets};
use crate::http::anomalies::{list_query, new_detector, Ingestion, Scan};
use crate::http::{blocking, ApiError};

/// Bad lines a detection answer lists (the rest are counted).
const BAD_LINES_SHOWN: usize = 10;
/// Longest wait `get_anomaly_export` takes.
const MAX_WAIT_SECONDS: u32 = 60;
/// Bytes read from a dataset at a time.
const READ_CHUNK: usize = 64 * 1024;

/// `detect_anomalies`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DetectArgs {
    /// A dataset handle (`ds-…`): raw log lines, NDJSON records or a JSON export.
    pub dataset: String,
    /// The model version (`YYYYMMDD_HHMMSS`), or `deployed` (the default): the model deployed
    /// for the dataset's log type.
    #[serde(default)]
    pub version: Option<String>,
    /// Store the anomalies found in the anomaly store (default true), where list_anomalies,
    /// set_anomaly_status and explain_anomaly find them.
    #[serde(default)]
    pub store: Option<bool>,
    /// How many anomalies to return (1–100, default 20); all are counted (and stored).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// The bad lines of a detection.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct BadLines {
    /// Lines (or export records) that could not be read or scored.
    pub count: u64,
    /// The first few, with line:column and why.
    pub first: Vec<LineError>,
}

/// `detect_anomalies`' answer.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Detection {
    /// The dataset scanned.
    pub dataset: String,
    /// The log type it was read as.
    pub log_type: String,
    /// The model that scored it.
    pub model_version: String,
    /// Lines read (records, for a JSON export).
    pub lines: u64,
    /// Lines read and scored.
    pub scored: u64,
    /// Anomalies found.
    pub anomalies: u64,
    /// Lines that could not be read.
    pub bad_lines: BadLines,
    /// Whether the anomalies were stored.
    pub stored: bool,
    /// How many were stored.
    pub stored_count: u64,
    /// Ids of the first `limit` anomalies stored (get_anomaly, explain_anomaly take them).
    pub stored_ids: Vec<i64>,
    /// The first `limit` anomalies found, in input order (`id` is 0 when not stored).
    pub items: Vec<StoredAnomaly>,
}

/// `list_anomalies`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListAnomaliesArgs {
    /// new, acknowledged, resolved or false_positive.
    #[serde(default)]
    pub status: Option<String>,
    /// wifi, dns, firewall, …
    #[serde(default)]
    pub log_type: Option<String>,
    /// The source device (the entry's host), exact.
    #[serde(default)]
    pub device: Option<String>,
    /// The client the entry is about (IP or MAC), exact.
    #[serde(default)]
    pub client: Option<String>,
    /// Lowest risk score, 0–100 (50 at the model's threshold).
    #[serde(default)]
    pub min_score: Option<f64>,
    /// Entries logged at or after this RFC 3339 time.
    #[serde(default)]
    pub from: Option<String>,
    /// Entries logged before this RFC 3339 time.
    #[serde(default)]
    pub to: Option<String>,
    /// The model version that flagged them.
    #[serde(default)]
    pub model_version: Option<String>,
    /// How many anomalies to return (1–100, default 20).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page; omit for the first page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `get_anomaly`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnomalyIdArgs {
    /// The anomaly's id (list_anomalies and detect_anomalies show them).
    pub id: i64,
}

/// `set_anomaly_status`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetStatusArgs {
    /// The anomaly's id.
    pub id: i64,
    /// The new status: acknowledged (someone is looking), resolved (a real anomaly, dealt
    /// with), false_positive (not an anomaly); a verdict can be reopened to acknowledged.
    pub status: String,
    /// Why, for the audit trail (at most 4096 bytes).
    #[serde(default)]
    pub note: Option<String>,
    /// Who, for the audit trail (default `mcp`).
    #[serde(default)]
    pub by: Option<String>,
}

/// `start_anomaly_export`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartExportArgs {
    /// ndjson (stored anomalies as JSON), csv, ecs (Elastic Common Schema) or ocsf (Detection
    /// Finding).
    #[schemars(with = "ExportFormat")]
    pub format: String,
    /// Which anomalies (all when absent): the same keys as list_anomalies' filters.
    #[serde(default)]
    #[schemars(with = "Option<AnomalyFilter>")]
    pub filter: Option<serde_json::Value>,
}

/// `get_anomaly_export`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetExportArgs {
    /// The export's id (start_anomaly_export returns it).
    pub export: String,
    /// Wait up to this many seconds (0–60, default 0) for the export to end, with progress
    /// notifications while it runs.
    #[serde(default)]
    pub wait_seconds: Option<u32>,
}

/// A page size of 1 to [`MAX_PAGE`], [`DEFAULT_PAGE`] when absent.
fn limit(limit: Option<u32>) -> Result<usize, ToolError> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (1..=MAX_PAGE as u32).contains(&n) => Ok(n as usize),
        Some(n) => Err(ToolError::invalid(format!(
            "limit: {n} is not in 1..={MAX_PAGE}"
        ))),
    }
}

/// The log type of a dataset's data and the model to score it with (version, or the one
/// deployed for the log type).
fn model_for(
    state: &crate::http::AppState,
    dataset: &crate::datasets::Dataset,
    version: Option<&str>,
) -> Result<std::sync::Arc<mcp_train_core::pipeline::ModelArtifact>, ApiError> {
    match version {
        None | Some("deployed") => {
            let log_type = dataset.reads_as().ok_or_else(|| {
                ApiError::invalid_parameter(format!(
                    "dataset {} has no log type, so no deployed model is implied: give version",
                    dataset.id
                ))
            })?;
            state.deployed_models.current(state, log_type)
        }
        Some(version) => {
            crate::http::models::check_version(version)?;
            let registry = state.registry.open();
            let artifact = registry.get(version)?.artifact()?;
            if let Some(want) = dataset.reads_as() {
                if want != artifact.log_type {
                    return Err(ApiError::invalid_parameter(format!(
                        "dataset {} holds {want} data; model {version} reads {}",
                        dataset.id, artifact.log_type
                    )));
                }
            }
            Ok(std::sync::Arc::new(artifact))
        }
    }
}

#[tool_router(router = detection_tools, vis = "pub(super)")]
impl McpServer {
    #[tool(
        description = "Run a model over a dataset (handle from register_dataset or \
                       generate_dataset) as live ingestion does: by default the model deployed \
                       for the dataset's log type; anomalies are stored (store: false only \
                       reports them). Returns counts (lines, scored, anomalies), bad lines with \
                       line:column, the stored ids and the first `limit` anomalies. Next: \
                       explain_anomaly, list_anomalies, set_anomaly_status.",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn detect_anomalies(
        &self,
        Parameters(args): Parameters<DetectArgs>,
    ) -> Result<Json<Detection>, ToolError> {
        let keep = limit(args.limit)?;
        let store = args.store.unwrap_or(true);
        let state = self.state().clone();
        let dataset = Datasets::open(&state.data_dir)
            .get(&args.dataset)
            .map_err(dataset_error)?;
        let worker = state.clone();
        let (report, findings) = blocking(move || {
            let artifact = model_for(&worker, &dataset, args.version.as_deref())?;
            let path = Datasets::open(&worker.data_dir)
                .data_path(&dataset.id)
                .map_err(|e| ApiError::internal("cannot read the dataset", &e))?;
            let detector = new_detector(&artifact)?;
            let report = IngestReport {
                log_type: artifact.log_type.clone(),
                model_version: artifact.version.clone(),
                lines: 0,
                scored: 0,
                invalid: 0,
                anomalies: 0,
                errors: Vec::new(),
            };
            let scan = Scan {
                device: None,
                follow_deployed: false,
                store_as: store.then_some("mcp"),
                keep,
            };
            let ctx = ParseContext {
                default_year: year_of(&dataset.registered_at),
            };
            let mut ingestion = Ingestion::new(
                worker.clone(),
                artifact.log_type.clone(),
                ctx,
                detector,
                report,
                scan,
            );
            let cannot_read = |e: std::io::Error| ApiError::internal("cannot read the dataset", &e);
            let mut file = std::fs::File::open(&path).map_err(cannot_read)?;
            let mut first = vec![0u8; READ_CHUNK];
            let n = read_some(&mut file, &mut first).map_err(cannot_read)?;
            first.truncate(n);
            // A whole JSON export is read at once, as `detect` reads one; lines stream.
            if dataset.kind == DatasetKind::Export && mcp_train_core::agent::is_whole_export(&first)
            {
                let mut bytes = first;
                file.read_to_end(&mut bytes).map_err(cannot_read)?;
                ingestion.whole_export(&bytes, &worker.config.training.validation)?;
            } else {
                ingestion.feed(&first)?;
                let mut chunk = vec![0u8; READ_CHUNK];
                loop {
                    let n = read_some(&mut file, &mut chunk).map_err(cannot_read)?;
                    if n == 0 {
                        break;
                    }
                    ingestion.feed(&chunk[..n])?;
                }
                ingestion.finish()?;
            }
            Ok(ingestion.into_results())
        })
        .await?;
        if findings.stored > 0 {
            state
                .metrics
                .anomalies_detected(&report.log_type, findings.stored);
        }
        Ok(Json(Detection {
            dataset: args.dataset,
            log_type: report.log_type,
            model_version: report.model_version,
            lines: report.lines,
            scored: report.scored,
            anomalies: report.anomalies,
            bad_lines: BadLines {
                count: report.invalid,
                first: report.errors.into_iter().take(BAD_LINES_SHOWN).collect(),
            },
            stored: store,
            stored_count: findings.stored,
            stored_ids: findings.stored_ids,
            items: findings.kept,
        }))
    }

    #[tool(
        description = "List stored anomalies, newest first, filtered by status, log_type, \
                       device, client, min_score (risk 0-100), from/to (entry time, RFC 3339) \
                       and model_version — the filters of the HTTP API and `mcp-train anomalies \
                       list`. Paged: pass next_cursor as cursor. Next: get_anomaly, \
                       explain_anomaly or set_anomaly_status.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn list_anomalies(
        &self,
        Parameters(args): Parameters<ListAnomaliesArgs>,
    ) -> Result<Json<AnomalyPage>, ToolError> {
        let page_size = limit(args.limit)?;
        let mut pairs: Vec<(String, String)> = [
            ("status", args.status),
            ("log_type", args.log_type),
            ("device", args.device),
            ("client", args.client),
            ("min_score", args.min_score.map(|s| s.to_string())),
            ("from", args.from),
            ("to", args.to),
            ("model_version", args.model_version),
            ("cursor", args.cursor),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_owned(), v?)))
        .collect();
        pairs.push(("limit".to_owned(), page_size.to_string()));
        let (filter, cursor, page_size) = list_query(&pairs)?;
        let store = self.state().anomalies.clone();
        let page = blocking(move || Ok(store.list(&filter, cursor.as_deref(), page_size)?)).await?;
        Ok(Json(page))
    }

    #[tool(
        description = "One stored anomaly: the log entry, the model's verdict and score, the \
                       features that pushed it over, its status and its whole audit trail (who \
                       changed it, when, why). Next: explain_anomaly or set_anomaly_status.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn get_anomaly(
        &self,
        Parameters(args): Parameters<AnomalyIdArgs>,
    ) -> Result<Json<AnomalyDetail>, ToolError> {
        Ok(Json(
            crate::http::anomalies::detail(self.state(), args.id).await?,
        ))
    }

    #[tool(
        description = "Review a stored anomaly: new → acknowledged → resolved (real, dealt \
                       with) or false_positive; a verdict can be reopened to acknowledged. Other \
                       moves are refused with invalid_transition. Returns the anomaly with its \
                       audit trail. Verdicts feed the next training (`train --feedback`).",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn set_anomaly_status(
        &self,
        Parameters(args): Parameters<SetStatusArgs>,
    ) -> Result<Json<AnomalyDetail>, ToolError> {
        let status =
            AnomalyStatus::parse(&args.status).map_err(|e| ToolError::invalid(e.to_string()))?;
        let change = StatusChange {
            status,
            note: args.note,
            by: Some(args.by.unwrap_or_else(|| "mcp".to_owned())),
        };
        Ok(Json(
            crate::http::anomalies::set_status(self.state(), args.id, change).await?,
        ))
    }

    #[tool(
        description = "Start an export of stored anomalies (ndjson, csv, ecs or ocsf) selected \
                       by a filter (the keys of list_anomalies). Returns the export job \
                       (queued). Next: get_anomaly_export with wait_seconds to follow it; the \
                       finished file downloads from /api/exports/{id}/download.",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn start_anomaly_export(
        &self,
        Parameters(args): Parameters<StartExportArgs>,
    ) -> Result<Json<ExportJob>, ToolError> {
        let format =
            ExportFormat::parse(&args.format).map_err(|e| ToolError::invalid(e.to_string()))?;
        let filter: AnomalyFilter = match args.filter {
            None | Some(serde_json::Value::Null) => AnomalyFilter::default(),
            Some(value) => serde_json::from_value(value)
                .map_err(|e| ToolError::invalid(format!("filter: {e}")))?,
        };
        let job =
            crate::http::exports::start(self.state(), format, filter, "mcp".to_owned()).await?;
        Ok(Json(job))
    }

    #[tool(
        description = "An anomaly export job: status (queued, running, completed, failed, \
                       cancelled, expired), rows and bytes written, SHA-256 and file name once \
                       completed. wait_seconds (up to 60) waits for it to end, sending progress \
                       notifications meanwhile. The file downloads from \
                       /api/exports/{id}/download.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn get_anomaly_export(
        &self,
        Parameters(args): Parameters<GetExportArgs>,
        meta: RequestMetaObject,
        peer: Peer<RoleServer>,
        ct: CancellationToken,
    ) -> Result<Json<ExportJob>, ToolError> {
        let wait = args.wait_seconds.unwrap_or(0);
        if wait > MAX_WAIT_SECONDS {
            return Err(ToolError::invalid(format!(
                "wait_seconds: {wait} is more than {MAX_WAIT_SECONDS}"
            )));
        }
        let state = self.state();
        let job = crate::http::exports::find(state, &args.export).await?;
        if wait == 0 || job.status.is_final() {
            return Ok(Json(job));
        }
        let Some(active) = state.exports.active(&job.id) else {
            // It ended between the two looks: the history has its final state.
            return Ok(Json(crate::http::exports::find(state, &args.export).await?));
        };
        let mut changes = active.state.subscribe();
        let token = meta.get_progress_token();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(u64::from(wait));
        loop {
            let job = changes.borrow_and_update().clone();
            if let Some(token) = &token {
                let mut progress = ProgressNotificationParam::new(token.clone(), job.rows as f64)
                    .with_message(format!("{} rows, {}", job.rows, job.status.as_str()));
                if let Some(total) = job.total {
                    progress = progress.with_total(total as f64);
                }
                let _ = peer.notify_progress(progress).await;
            }
            if job.status.is_final() {
                break;
            }
            tokio::select! {
                changed = changes.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
                () = tokio::time::sleep_until(deadline) => break,
                () = ct.cancelled() => break,
            }
        }
        let job = active.snapshot();
        if job.status.is_final() {
            // The history is the record of an ended job (file name, expiry).
            return Ok(Json(crate::http::exports::find(state, &args.export).await?));
        }
        Ok(Json(job))
    }
}

/// Reads until `buf` is full or the file ends; how many bytes were read.
fn read_some(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
