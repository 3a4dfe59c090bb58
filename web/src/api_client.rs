//! The page's client of an `mcp-train serve` API (docs/API.md): where the server is, requests
//! that carry the token, the server's JSON errors as readable messages, and a training job's
//! event stream. The JSON it reads is the server's own types (`mcp_train_core::api`).
//!
//! The app finds a server in two ways only: the page was served by one (its `index.html` carries
//! `<meta name="mcp-train-api" content="/api">`), or the user entered a URL in Settings. Without
//! either, nothing here is ever called, so a static copy of `dist/` makes no request to any
//! server.

use std::fmt;

use gloo_net::http::{Method, RequestBuilder, Response};
use js_sys::{Reflect, Uint8Array};
use mcp_train_core::agent::Anomaly;
use mcp_train_core::anomalies::{
    AnomalyDetail, AnomalyFilter, AnomalyPage, AnomalyStatus, ExportJob, ExportRequest,
    StatusChange,
};
use mcp_train_core::api::{Deployment, ErrorBody, Health, Job, JobList, ModelList};
use mcp_train_core::knowledge::{DocKind, SearchResults};
use mcp_train_core::pipeline::TrainChoices;
use mcp_train_core::registry::ModelRecord;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, ReadableStreamDefaultReader, RequestCache};

use crate::js_error::js_error;

/// The `name` of the `<meta>` element a server adds to `index.html`.
pub const META_NAME: &str = "mcp-train-api";

/// How long to wait between two looks at a job when its event stream is gone.
const POLL_MS: u32 = 1_000;
/// Failed looks in a row after which following a job gives up.
const POLL_FAILURES: u32 = 5;

/// A server's API and the token to send to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// The API's absolute URL, without a trailing slash (`http://host:8080/api`).
    api: String,
    token: Option<String>,
}

/// Why a request failed. The `Display` text is meant for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// No answer: the server is down, the URL is wrong, or the browser refused (CORS).
    Network { url: String, reason: String },
    /// The server answered with an error (`{"error": {"code", "message"}}`).
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    /// An answer this app cannot read.
    Unreadable(String),
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Network { url, reason } => write!(
                f,
                "cannot reach the server at {url} ({reason}); is it running, and does it allow this site (--cors-origin)?"
            ),
            ApiError::Refused {
                status,
                code,
                message,
            } => {
                write!(f, "{message} (HTTP {status}, {code})")?;
                if *status == 401 {
                    f.write_str("; enter the server's token in Settings")?;
                }
                Ok(())
            }
            ApiError::Unreadable(what) => write!(f, "the server's answer is unreadable: {what}"),
        }
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    /// The error a non-2xx answer stands for: its JSON error when it has one, else its text.
    pub fn from_answer(status: u16, body: &str) -> ApiError {
        match serde_json::from_str::<ErrorBody>(body) {
            Ok(ErrorBody { error }) => ApiError::Refused {
                status,
                code: error.code,
                message: error.message,
            },
            Err(_) => {
                let text: String = body.trim().chars().take(200).collect();
                ApiError::Refused {
                    status,
                    code: "http_error".to_owned(),
                    message: if text.is_empty() {
                        format!("the server answered {status}")
                    } else {
                        text
                    },
                }
            }
        }
    }

    /// The HTTP status of a refusal.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A request body.
enum Body<'a> {
    Empty,
    Bytes(&'a [u8], &'a str),
    /// A `File` or other blob: the browser streams it from disk, it never enters wasm memory.
    Blob(&'a Blob),
}

impl Server {
    /// The server at `api` (absolute, see [`api_base`]); `token` is sent when not empty.
    pub fn new(api: impl Into<String>, token: &str) -> Server {
        let token = token.trim();
        Server {
            api: api.into().trim_end_matches('/').to_owned(),
            token: (!token.is_empty()).then(|| token.to_owned()),
        }
    }

    /// The API's URL.
    pub fn api(&self) -> &str {
        &self.api
    }

    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    async fn request(
        &self,
        method: Method,
        path: &str,
        body: Body<'_>,
    ) -> Result<Response, ApiError> {
        let url = format!("{}{path}", self.api);
        let network = |reason: String| ApiError::Network {
            url: self.api.clone(),
            reason,
        };
        let mut request = RequestBuilder::new(&url)
            .method(method)
            .cache(RequestCache::NoStore);
        if let Some(token) = &self.token {
            // gloo sets headers with `unwrap_throw`: refuse what `Headers.set` would throw on.
            if !header_value_ok(token) {
                return Err(network(
                    "the token has a character an HTTP header cannot carry".to_owned(),
                ));
            }
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        let request = match body {
            Body::Empty => request.build(),
            Body::Bytes(bytes, mime) => request
                .header("Content-Type", mime)
                .body(Uint8Array::from(bytes)),
            // The blob itself is the body: the browser streams it from disk.
            Body::Blob(blob) => request.body(blob.clone()),
        };
        let response = request
            .map_err(|e| network(gloo_reason(e)))?
            .send()
            .await
            .map_err(|e| network(gloo_reason(e)))?;
        if response.ok() {
            return Ok(response);
        }
        let text = text(&response).await.unwrap_or_default();
        Err(ApiError::from_answer(response.status(), &text))
    }

    async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Body<'_>,
    ) -> Result<T, ApiError> {
        let response = self.request(method.clone(), path, body).await?;
        let text = text(&response).await?;
        serde_json::from_str(&text)
            .map_err(|e| ApiError::Unreadable(format!("{method} {path}: {e}")))
    }

    async fn bytes(&self, path: &str) -> Result<Vec<u8>, ApiError> {
        let response = self.request(Method::GET, path, Body::Empty).await?;
        response
            .binary()
            .await
            .map_err(|e| ApiError::Unreadable(format!("GET {path}: {}", gloo_reason(e))))
    }

    pub async fn health(&self) -> Result<Health, ApiError> {
        self.json(Method::GET, "/health", Body::Empty).await
    }

    /// The shared registry, newest first.
    pub async fn models(&self) -> Result<Vec<ModelRecord>, ApiError> {
        let list: ModelList = self.json(Method::GET, "/models", Body::Empty).await?;
        Ok(list.models)
    }

    /// Uploads a `model.json`; the server keeps its version. Sharing the same bytes twice is
    /// harmless (the server answers 200 with the existing record).
    pub async fn share_model(&self, model_json: &[u8]) -> Result<ModelRecord, ApiError> {
        self.json(
            Method::POST,
            "/models",
            Body::Bytes(model_json, "application/json"),
        )
        .await
    }

    /// A shared model's `model.json`.
    pub async fn model_json(&self, version: &str) -> Result<Vec<u8>, ApiError> {
        self.bytes(&format!("/models/{}/model", encode_component(version)))
            .await
    }

    /// A shared model's deployment package (ZIP).
    pub async fn package(&self, version: &str) -> Result<Vec<u8>, ApiError> {
        self.bytes(&format!("/models/{}/package", encode_component(version)))
            .await
    }

    /// Deploys a shared model, provided `expected` is the one deployed now (`None`: none is).
    pub async fn deploy(
        &self,
        version: &str,
        expected: Option<&str>,
    ) -> Result<Deployment, ApiError> {
        let body = serde_json::json!({ "expected_deployed": expected }).to_string();
        self.json(
            Method::POST,
            &format!("/models/{}/deploy", encode_component(version)),
            Body::Bytes(body.as_bytes(), "application/json"),
        )
        .await
    }

    /// Uploads an export (streamed from disk) and queues a training job on it.
    pub async fn start_job(&self, export: &Blob, query: &str) -> Result<Job, ApiError> {
        self.json(
            Method::POST,
            &format!("/training/jobs?{query}"),
            Body::Blob(export),
        )
        .await
    }

    /// The server's jobs, newest first.
    pub async fn jobs(&self) -> Result<Vec<Job>, ApiError> {
        let list: JobList = self
            .json(Method::GET, "/training/jobs", Body::Empty)
            .await?;
        Ok(list.jobs)
    }

    pub async fn job(&self, id: &str) -> Result<Job, ApiError> {
        self.json(
            Method::GET,
            &format!("/training/jobs/{}", encode_component(id)),
            Body::Empty,
        )
        .await
    }

    /// Cancels a queued or running job; removes a finished one from the server's list.
    pub async fn cancel_job(&self, id: &str) -> Result<Job, ApiError> {
        self.json(
            Method::DELETE,
            &format!("/training/jobs/{}", encode_component(id)),
            Body::Empty,
        )
        .await
    }

    /// Follows a job until it is finished, calling `on_update` with each new state, and returns
    /// the last one. Reads the job's event stream (with `fetch`, which unlike `EventSource` can
    /// send the token); when the stream breaks, looks at the job once a second instead.
    pub async fn follow_job(
        &self,
        id: &str,
        mut on_update: impl FnMut(&Job),
    ) -> Result<Job, ApiError> {
        if let Ok(Some(job)) = self.read_events(id, &mut on_update).await {
            return Ok(job);
        }
        let mut failures = 0;
        loop {
            match self.job(id).await {
                Ok(job) => {
                    failures = 0;
                    on_update(&job);
                    if job.status.finished() {
                        return Ok(job);
                    }
                }
                // The job is gone (the server restarted, or another client removed it).
                Err(e) if e.status() == Some(404) => return Err(e),
                Err(e) => {
                    failures += 1;
                    if failures >= POLL_FAILURES {
                        return Err(e);
                    }
                }
            }
            sleep(POLL_MS).await;
        }
    }

    /// Reads `GET /training/jobs/{id}/events` to its `done` event: `Ok(Some(job))` then, and
    /// `Ok(None)` when the stream ended before it.
    async fn read_events(
        &self,
        id: &str,
        on_update: &mut impl FnMut(&Job),
    ) -> Result<Option<Job>, ApiError> {
        let path = format!("/training/jobs/{}/events", encode_component(id));
        self.read_stream(&path, "a job event", on_update, |job: &Job| {
            job.status.finished()
        })
        .await
    }

    /// Reads the server-sent events at `path`, each a `T` in JSON, to a `done` event or one
    /// `last` says is final: `Ok(Some(that one))`, or `Ok(None)` when the stream ended before.
    async fn read_stream<T: DeserializeOwned>(
        &self,
        path: &str,
        what: &str,
        on_update: &mut impl FnMut(&T),
        last: impl Fn(&T) -> bool,
    ) -> Result<Option<T>, ApiError> {
        let response = self.request(Method::GET, path, Body::Empty).await?;
        // Hand-written on purpose: gloo-net's `Response` reads a body only whole (`text`,
        // `binary`, `json`), which for an event stream means waiting for the job to end, and
        // gloo's `EventSource` cannot send the token. So the raw `ReadableStream`, chunk by chunk.
        let stream = response
            .body()
            .ok_or_else(|| ApiError::Unreadable(format!("GET {path}: no body")))?;
        let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
        let mut events = EventStream::default();
        loop {
            let chunk = JsFuture::from(reader.read())
                .await
                .map_err(|e| ApiError::Network {
                    url: self.api.clone(),
                    reason: js_error(&e),
                })?;
            let done = Reflect::get(&chunk, &"done".into())
                .ok()
                .and_then(|d| d.as_bool())
                .unwrap_or(true);
            if done {
                return Ok(None);
            }
            let Ok(value) = Reflect::get(&chunk, &"value".into()) else {
                continue;
            };
            let bytes = Uint8Array::new(&value).to_vec();
            for event in events.push(&bytes) {
                let item: T = serde_json::from_str(&event.data)
                    .map_err(|e| ApiError::Unreadable(format!("{what}: {e}")))?;
                on_update(&item);
                if event.name == "done" || last(&item) {
                    // The server ends the stream now; stop reading rather than wait for it.
                    let _ = reader.cancel();
                    return Ok(Some(item));
                }
            }
        }
    }

    /// A page of stored anomalies, newest first: those `filter` selects, after `cursor`.
    pub async fn anomalies(
        &self,
        filter: &AnomalyFilter,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<AnomalyPage, ApiError> {
        self.json(
            Method::GET,
            &format!("/anomalies?{}", anomalies_query(filter, cursor, limit)),
            Body::Empty,
        )
        .await
    }

    /// Stored anomalies per log type and status.
    pub async fn anomaly_summary(&self) -> Result<Vec<AnomalyCount>, ApiError> {
        let summary: AnomalySummary = self
            .json(Method::GET, "/anomalies/summary", Body::Empty)
            .await?;
        Ok(summary.counts)
    }

    /// One stored anomaly with its audit trail.
    pub async fn anomaly(&self, id: i64) -> Result<AnomalyDetail, ApiError> {
        self.json(Method::GET, &format!("/anomalies/{id}"), Body::Empty)
            .await
    }

    /// Why anomaly `id` was flagged, as the server's knowledge base explains it.
    pub async fn explanation(&self, id: i64) -> Result<Explanation, ApiError> {
        self.json(
            Method::GET,
            &format!("/anomalies/{id}/explanation"),
            Body::Empty,
        )
        .await
    }

    /// Searches the server's knowledge base; `query` is built by [`knowledge_query`] (the server
    /// checks it: a query without words is refused with a 400 that says why).
    pub async fn search_knowledge(&self, query: &str) -> Result<SearchResults, ApiError> {
        self.json(Method::GET, &format!("/kb/search?{query}"), Body::Empty)
            .await
    }

    /// Moves an anomaly to another status (409 `invalid_transition` when it cannot go there
    /// from where it is now).
    pub async fn change_status(
        &self,
        id: i64,
        change: &StatusChange,
    ) -> Result<AnomalyDetail, ApiError> {
        let body = to_json(change)?;
        self.json(
            Method::POST,
            &format!("/anomalies/{id}/status"),
            Body::Bytes(body.as_bytes(), "application/json"),
        )
        .await
    }

    /// Stores anomalies found in this browser (`by`: who saves them).
    pub async fn save_anomalies(
        &self,
        anomalies: &[&Anomaly],
        by: &str,
    ) -> Result<StoredIds, ApiError> {
        let body = to_json(&SaveAnomalies { anomalies, by })?;
        self.json(
            Method::POST,
            "/anomalies",
            Body::Bytes(body.as_bytes(), "application/json"),
        )
        .await
    }

    /// Starts an export job.
    pub async fn start_export(&self, request: &ExportRequest) -> Result<ExportJob, ApiError> {
        let body = to_json(request)?;
        self.json(
            Method::POST,
            "/exports",
            Body::Bytes(body.as_bytes(), "application/json"),
        )
        .await
    }

    /// The export history, newest first.
    pub async fn exports(&self) -> Result<Vec<ExportJob>, ApiError> {
        let list: ExportList = self.json(Method::GET, "/exports", Body::Empty).await?;
        Ok(list.items)
    }

    pub async fn export(&self, id: &str) -> Result<ExportJob, ApiError> {
        self.json(
            Method::GET,
            &format!("/exports/{}", encode_component(id)),
            Body::Empty,
        )
        .await
    }

    /// Cancels a queued or running export.
    pub async fn cancel_export(&self, id: &str) -> Result<ExportJob, ApiError> {
        self.json(
            Method::POST,
            &format!("/exports/{}/cancel", encode_component(id)),
            Body::Empty,
        )
        .await
    }

    /// A completed export's file (409 when not completed, 410 once expired).
    pub async fn export_file(&self, id: &str) -> Result<Vec<u8>, ApiError> {
        self.bytes(&format!("/exports/{}/download", encode_component(id)))
            .await
    }

    /// Follows an export until it has ended, as [`Server::follow_job`] follows a job: its event
    /// stream, else a look once a second.
    pub async fn follow_export(
        &self,
        id: &str,
        mut on_update: impl FnMut(&ExportJob),
    ) -> Result<ExportJob, ApiError> {
        let path = format!("/exports/{}/events", encode_component(id));
        if let Ok(Some(job)) = self
            .read_stream(&path, "an export event", &mut on_update, |j: &ExportJob| {
                j.status.is_final()
            })
            .await
        {
            return Ok(job);
        }
        let mut failures = 0;
        loop {
            match self.export(id).await {
                Ok(job) => {
                    failures = 0;
                    on_update(&job);
                    if job.status.is_final() {
                        return Ok(job);
                    }
                }
                Err(e) if e.status() == Some(404) => return Err(e),
                Err(e) => {
                    failures += 1;
                    if failures >= POLL_FAILURES {
                        return Err(e);
                    }
                }
            }
            sleep(POLL_MS).await;
        }
    }
}

/// The answer of `GET /api/anomalies/summary`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct AnomalySummary {
    counts: Vec<AnomalyCount>,
}

/// Stored anomalies of one log type in one status.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AnomalyCount {
    pub log_type: String,
    pub status: AnomalyStatus,
    pub count: u64,
}

/// The body of `POST /api/anomalies`.
#[derive(Serialize)]
struct SaveAnomalies<'a> {
    anomalies: &'a [&'a Anomaly],
    by: &'a str,
}

/// The answer of `POST /api/anomalies`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StoredIds {
    pub stored: u64,
    #[serde(default)]
    pub ids: Vec<i64>,
}

/// The answer of `GET /api/exports`.
#[derive(Deserialize)]
struct ExportList {
    items: Vec<ExportJob>,
}

/// The answer of `GET /api/anomalies/{id}/explanation`: the parts the app shows. The server's
/// type (`kb::Explanation`) lives in the server crate; this reads the same JSON and ignores the
/// rest.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Explanation {
    pub anomaly: ExplainedAnomaly,
    /// Largest contribution first.
    #[serde(default)]
    pub top_features: Vec<FeatureReason>,
    /// Catalogue entries for the anomaly's log event, message matches first.
    #[serde(default)]
    pub events: Vec<EventMeaning>,
    /// Similar past anomalies, those with a verdict first.
    #[serde(default)]
    pub similar: Vec<SimilarAnomaly>,
    pub summary: String,
}

/// The anomaly an explanation is about.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ExplainedAnomaly {
    pub id: i64,
    pub log_type: String,
}

/// A feature that pushed an anomaly over, with what it measures.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FeatureReason {
    pub feature: String,
    pub contribution: f64,
    pub value: Option<f64>,
    pub meaning: String,
}

/// A catalogue entry for an anomaly's log event.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EventMeaning {
    /// Catalogue entry id (`wifi/AP-STA-POSSIBLE-PSK-MISMATCH`).
    pub id: String,
    pub title: String,
    pub meaning: String,
    pub what_to_check: String,
    pub source: String,
    /// `message` or `feature`.
    pub matched_by: String,
}

/// A similar past anomaly and the verdict on it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SimilarAnomaly {
    pub id: i64,
    /// 0–1.
    pub similarity: f64,
    pub status: AnomalyStatus,
    pub score: f64,
    pub verdict_note: Option<String>,
    pub verdict_by: Option<String>,
    pub message: String,
}

fn to_json(value: &impl Serialize) -> Result<String, ApiError> {
    serde_json::to_string(value)
        .map_err(|e| ApiError::Unreadable(format!("cannot write the request: {e}")))
}

/// The query of `GET /api/anomalies`: the filter's pairs (the core writes them, the server reads
/// them back with the same parser), the cursor and the page size.
pub fn anomalies_query(filter: &AnomalyFilter, cursor: Option<&str>, limit: usize) -> String {
    let mut pairs = filter.to_pairs();
    if let Some(cursor) = cursor {
        pairs.push(("cursor", cursor.to_owned()));
    }
    pairs.push(("limit", limit.to_string()));
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The query of `GET /api/kb/search`: the text as typed (the server splits it into words and
/// says when it has none), the kinds asked for (none: every kind), the log type and the limit.
pub fn knowledge_query(
    q: &str,
    kinds: &[DocKind],
    log_type: Option<&str>,
    limit: Option<usize>,
) -> String {
    let mut pairs: Vec<(&str, String)> = vec![("q", q.to_owned())];
    if !kinds.is_empty() {
        let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        pairs.push(("kind", kinds.join(",")));
    }
    if let Some(log_type) = log_type {
        pairs.push(("log_type", log_type.to_owned()));
    }
    if let Some(limit) = limit {
        pairs.push(("limit", limit.to_string()));
    }
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

async fn text(response: &Response) -> Result<String, ApiError> {
    response
        .text()
        .await
        .map_err(|e| ApiError::Unreadable(gloo_reason(e)))
}

/// A gloo error as text: a thrown `Error`'s message (what `fetch` rejects with), as
/// [`js_error`] gives it.
fn gloo_reason(error: gloo_net::Error) -> String {
    match error {
        gloo_net::Error::JsError(e) => e.message,
        other => other.to_string(),
    }
}

/// Whether `Headers.set` takes `value`: no code point above U+00FF (it must be a byte string)
/// and no NUL, CR or LF.
fn header_value_ok(value: &str) -> bool {
    value
        .chars()
        .all(|c| u32::from(c) <= 0xFF && !matches!(c, '\0' | '\r' | '\n'))
}

async fn sleep(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

/// The same-origin server's API when this page was served by `mcp-train serve`: the `content` of
/// `<meta name="mcp-train-api">`, resolved against the page's URL.
pub fn same_origin_api() -> Option<String> {
    let window = web_sys::window()?;
    let document = window.document()?;
    let content = document
        .query_selector(&format!("meta[name=\"{META_NAME}\"]"))
        .ok()??
        .get_attribute("content")?;
    let content = content.trim();
    if content.is_empty() {
        return None;
    }
    let page = window.location().href().ok()?;
    let url = web_sys::Url::new_with_base(content, &page).ok()?;
    Some(url.href().trim_end_matches('/').to_owned())
}

/// The API's URL for what a user typed in Settings: the server's address
/// (`http://host:8080`, `http://host:8080/`) or its API (`http://host:8080/api`).
pub fn api_base(input: &str) -> Result<String, String> {
    let url = input.trim();
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| {
            format!("{url:?} is not a server address: it should start with http:// or https://")
        })?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("{url:?} names no host"));
    }
    if url.contains(['?', '#', ' ']) {
        return Err(format!(
            "{url:?} is not a server address: no spaces, query or fragment"
        ));
    }
    let url = url.trim_end_matches('/');
    if url.ends_with("/api") {
        Ok(url.to_owned())
    } else {
        Ok(format!("{url}/api"))
    }
}

/// The query of `POST /api/training/jobs`: the parameters the person chose, under the API's
/// names and in the core's text forms (the server parses them with the same parsers and takes
/// the rest from its own configuration), the export's file name, and the model's creation time
/// when Settings fixes it.
pub fn train_query(
    choices: &TrainChoices,
    file_name: &str,
    created_at_micros: Option<i64>,
) -> String {
    let mut pairs: Vec<(&str, String)> = choices.to_pairs();
    pairs.push(("file_name", file_name.to_owned()));
    if let Some(micros) = created_at_micros {
        pairs.push(("created_at_micros", micros.to_string()));
    }
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field (`message` when absent).
    pub name: String,
    /// The `data:` lines, joined by newlines.
    pub data: String,
}

/// Cuts a `text/event-stream` into events, whatever the chunks' boundaries (an event, a line or
/// a UTF-8 character may be split between two reads).
#[derive(Debug, Default)]
pub struct EventStream {
    pending: Vec<u8>,
}

impl EventStream {
    /// Adds a chunk; returns the events it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        self.pending.extend(chunk.iter().filter(|&&b| b != b'\r'));
        let mut events = Vec::new();
        while let Some(end) = self.pending.windows(2).position(|w| w == b"\n\n") {
            let block: Vec<u8> = self.pending.drain(..end + 2).collect();
            if let Some(event) = parse_event(&String::from_utf8_lossy(&block)) {
                events.push(event);
            }
        }
        events
    }
}

fn parse_event(block: &str) -> Option<SseEvent> {
    let mut name = None;
    let mut data: Option<String> = None;
    for line in block.lines() {
        if line.is_empty() || line.starts_with(':') {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => name = Some(value.to_owned()),
            "data" => match &mut data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => data = Some(value.to_owned()),
            },
            _ => {}
        }
    }
    Some(SseEvent {
        name: name.unwrap_or_else(|| "message".to_owned()),
        data: data?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_train_core::config::{AutoOr, Config, MaxSamples};
    use mcp_train_core::pipeline::TrainParams;

    #[test]
    fn a_settings_url_names_the_server_or_its_api() {
        assert_eq!(
            api_base("http://127.0.0.1:8080").as_deref(),
            Ok("http://127.0.0.1:8080/api")
        );
        assert_eq!(
            api_base(" https://train.example.com/ ").as_deref(),
            Ok("https://train.example.com/api")
        );
        assert_eq!(
            api_base("http://h/mcp/api/").as_deref(),
            Ok("http://h/mcp/api")
        );
        assert!(api_base("127.0.0.1:8080").is_err());
        assert!(api_base("http://").is_err());
        assert!(api_base("http://h/?x=1").is_err());
    }

    #[test]
    fn the_train_query_uses_the_api_names_and_encodes_values() {
        let mut params = TrainParams::from_config(&Config::defaults());
        params.seed = 7;
        params.contamination = "0.1".parse().expect("a contamination");
        params.max_samples = MaxSamples::Fraction(0.5);
        let query = train_query(
            &TrainChoices::from(&params),
            "my export (1).json",
            Some(1_717_243_200_000_000),
        );
        for want in [
            "seed=7",
            "contamination=0.1",
            "max_samples=0.5",
            "n_estimators=",
            "n_neighbors=",
            "drop_invalid=false",
            "detector=isolation_forest",
            "file_name=my%20export%20%281%29.json",
            "created_at_micros=1717243200000000",
        ] {
            assert!(
                query.split('&').any(|p| p.starts_with(want)),
                "{want} in {query}"
            );
        }
        params.contamination = AutoOr::Auto;
        params.max_samples = MaxSamples::Auto;
        let query = train_query(&TrainChoices::from(&params), "e.json", None);
        assert!(query.contains("contamination=auto"), "{query}");
        assert!(query.contains("max_samples=auto"), "{query}");
        assert!(!query.contains("created_at_micros"), "{query}");
    }

    #[test]
    fn the_train_query_sends_only_what_was_chosen() {
        // Untouched parameters are left to the server's configuration.
        let mut choices = TrainChoices::default();
        assert_eq!(train_query(&choices, "e.json", None), "file_name=e.json");
        choices.set("seed", "5").expect("a seed");
        choices.set("n_neighbors", "30").expect("neighbours");
        assert_eq!(
            train_query(&choices, "e.json", None),
            "seed=5&n_neighbors=30&file_name=e.json"
        );
        // What the server reads back is what was chosen.
        let mut server = TrainChoices::default();
        for pair in train_query(&choices, "e.json", None).split('&') {
            let (name, value) = pair.split_once('=').expect("name=value");
            if name != "file_name" {
                server
                    .set(name, value)
                    .expect("the server's parser accepts it");
            }
        }
        assert_eq!(server, choices);
    }

    #[test]
    fn the_anomalies_query_is_the_filter_the_server_reads_back() {
        let filter = AnomalyFilter::from_pairs([
            ("from", "2026-01-01T00:00:00Z"),
            ("log_type", "dns"),
            ("min_score", "80"),
            ("status", "new"),
            ("client", "10.0.0.9"),
        ])
        .expect("a filter");
        let query = anomalies_query(&filter, Some("abc/=="), 50);
        let pairs: Vec<(String, String)> = query
            .split('&')
            .map(|p| {
                let (k, v) = p.split_once('=').expect("name=value");
                let v = v
                    .replace("%3A", ":")
                    .replace("%2F", "/")
                    .replace("%3D", "=");
                (k.to_owned(), v)
            })
            .collect();
        assert!(
            pairs.contains(&("cursor".to_owned(), "abc/==".to_owned())),
            "{query}"
        );
        assert!(
            pairs.contains(&("limit".to_owned(), "50".to_owned())),
            "{query}"
        );
        let back = AnomalyFilter::from_pairs(
            pairs
                .iter()
                .filter(|(k, _)| k != "cursor" && k != "limit")
                .map(|(k, v)| (k.as_str(), v.as_str())),
        )
        .expect("the server's parser accepts it");
        assert_eq!(back, filter);
        assert_eq!(
            anomalies_query(&AnomalyFilter::default(), None, 10),
            "limit=10"
        );
    }

    #[test]
    fn anomaly_answers_read_from_the_api_json() {
        let summary: AnomalySummary = serde_json::from_str(
            r#"{"counts":[{"log_type":"dns","status":"false_positive","count":3}]}"#,
        )
        .expect("a summary");
        assert_eq!(summary.counts[0].status, AnomalyStatus::FalsePositive);
        assert_eq!(summary.counts[0].count, 3);
        let stored: StoredIds =
            serde_json::from_str(r#"{"stored":2,"ids":[7,8]}"#).expect("stored ids");
        assert_eq!(stored.ids, [7, 8]);
        let list: ExportList = serde_json::from_str(
            r#"{"items":[{"id":"e1","status":"running","format":"csv","filter":{"min_score":60},
            "by":"web","created_at":"2026-01-01T00:00:00Z","rows":5,"total":10,"bytes":300}]}"#,
        )
        .expect("an export list");
        assert_eq!(list.items[0].filter.min_score, Some(60.0));
        assert_eq!(list.items[0].total, Some(10));
    }

    /// `%XX` back to bytes (the server's query parser does this).
    fn decode_component(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ascii");
                out.push(u8::from_str_radix(hex, 16).expect("two hex digits"));
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn the_knowledge_query_is_what_the_server_reads_back() {
        use mcp_train_core::knowledge::SearchParams;
        let query = knowledge_query(
            "PSK mismatch & \"wlan0\"",
            &[DocKind::Catalogue, DocKind::Verdict],
            Some("wifi"),
            Some(5),
        );
        assert!(!query.contains(' ') && !query.contains('"'), "{query}");
        let pairs: Vec<(String, String)> = query
            .split('&')
            .map(|p| {
                let (k, v) = p.split_once('=').expect("name=value");
                (k.to_owned(), decode_component(v))
            })
            .collect();
        let back = SearchParams::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .expect("the server's parser accepts it");
        assert_eq!(back.terms, ["PSK", "mismatch", "\"wlan0\""]);
        assert_eq!(back.kinds, [DocKind::Catalogue, DocKind::Verdict]);
        assert_eq!(back.log_type.as_deref(), Some("wifi"));
        assert_eq!(back.limit, 5);
        // Every kind, the server's default limit; an empty query is sent as typed, so the
        // person reads the server's reason.
        assert_eq!(knowledge_query("", &[], None, None), "q=");
    }

    #[test]
    fn an_explanation_reads_from_the_api_json() {
        let json = r#"{
            "anomaly": {"id": 7, "log_type": "wifi", "score": 91.5, "status": "new",
              "model_version": "20260101_000000", "timestamp": "2026-01-01T00:00:00Z",
              "message": "wlan0: AP-STA-POSSIBLE-PSK-MISMATCH 02:00:00:00:00:01"},
            "top_features": [{"feature": "auth_failure_count_5m", "contribution": 0.12,
              "value": 14.0, "meaning": "authentication failures (5 minutes)"},
              {"feature": "rate", "contribution": 0.01, "value": null, "meaning": "?"}],
            "events": [{"id": "wifi/AP-STA-POSSIBLE-PSK-MISMATCH", "event": "AP-STA-POSSIBLE-PSK-MISMATCH",
              "title": "Wrong passphrase", "meaning": "m", "what_to_check": "c",
              "source": "hostapd", "matched_by": "message"}],
            "similar": [{"id": 3, "similarity": 1.0, "status": "false_positive", "score": 80.0,
              "verdict_note": "a new phone", "verdict_by": "ana", "message": "x"},
              {"id": 4, "similarity": 0.5, "status": "new", "score": 70.0, "message": "y"}],
            "summary": "Anomaly 7 ..."
        }"#;
        let e: Explanation = serde_json::from_str(json).expect("an explanation");
        assert_eq!(e.anomaly.id, 7);
        assert_eq!(e.top_features[1].value, None);
        assert_eq!(e.events[0].what_to_check, "c");
        assert_eq!(e.similar[0].status, AnomalyStatus::FalsePositive);
        assert_eq!(e.similar[0].verdict_by.as_deref(), Some("ana"));
        assert_eq!(e.similar[1].verdict_note, None);
    }

    #[test]
    fn events_survive_any_chunking() {
        let stream = "event: progress\ndata: {\"a\":1}\n\n: keep-alive\n\nevent: done\r\ndata: {\"é\":\r\ndata: 2}\r\n\r\n";
        let bytes = stream.as_bytes();
        for size in [1, 2, 3, 7, bytes.len()] {
            let mut parser = EventStream::default();
            let events: Vec<SseEvent> = bytes.chunks(size).flat_map(|c| parser.push(c)).collect();
            assert_eq!(
                events,
                vec![
                    SseEvent {
                        name: "progress".into(),
                        data: "{\"a\":1}".into()
                    },
                    SseEvent {
                        name: "done".into(),
                        data: "{\"é\":\n2}".into()
                    },
                ],
                "chunks of {size}"
            );
        }
    }

    #[test]
    fn a_token_a_header_cannot_carry_is_refused_before_sending() {
        assert!(header_value_ok("s3cr3t-token_~+/="));
        assert!(header_value_ok("caf\u{e9}"));
        assert!(!header_value_ok("line\nbreak"));
        assert!(!header_value_ok("nul\0"));
        assert!(!header_value_ok("\u{1F511}"));
    }

    #[test]
    fn api_errors_read_as_sentences() {
        let e = ApiError::from_answer(
            409,
            r#"{"error":{"code":"conflict","message":"version 20240101_000000 holds another model"}}"#,
        );
        assert_eq!(
            e.to_string(),
            "version 20240101_000000 holds another model (HTTP 409, conflict)"
        );
        let e = ApiError::from_answer(
            401,
            r#"{"error":{"code":"unauthorized","message":"a valid token is needed"}}"#,
        );
        assert!(e.to_string().contains("token in Settings"), "{e}");
        let e = ApiError::from_answer(502, "<html>Bad gateway</html>");
        assert_eq!(e.status(), Some(502));
        assert!(e.to_string().contains("Bad gateway"), "{e}");
        assert_eq!(
            ApiError::from_answer(500, "").to_string(),
            "the server answered 500 (HTTP 500, http_error)"
        );
    }

    #[test]
    fn a_server_job_reads_from_the_api_json() {
        use mcp_train_core::api::JobStatus;
        let json = r#"{ "id": "5f0c", "status": "running", "file_name": "export.json",
            "size_bytes": 1234, "created_at": "2024-06-01T12:00:00Z", "started_at": null,
            "finished_at": null, "progress": { "stage": "fit", "fraction": 0.42 },
            "params": { "detector": "isolation_forest", "seed": 42, "contamination": "auto",
              "n_estimators": 100, "max_samples": "auto", "n_neighbors": 20, "drop_invalid": false },
            "records": 10, "dropped": 0, "model": null, "error": null }"#;
        let job: Job = serde_json::from_str(json).expect("a job");
        assert_eq!(job.status, JobStatus::Running);
        assert_eq!(job.progress.fraction, 0.42);
        assert_eq!(job.params.seed, 42);
    }
}
