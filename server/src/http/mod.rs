//! `mcp-train serve`: the web app and the JSON API (docs/API.md) over the file-system registry.
//!
//! ```text
//! /                      the web app (dist/), index.html for unknown paths (the app routes)
//! /api/health            version, storage, auth, limits
//! /api/models…           the shared registry, model and package downloads
//! /api/training/jobs…    server-side training with progress events
//! /api/openapi.json      the API, described
//! /metrics               Prometheus
//! ```
//!
//! Every request goes through the metrics middleware (counts, latencies, one log line) and the
//! auth middleware; registry work runs on the blocking pool, training on its own thread.
//!
//! [`serve`] runs the whole server from [`ServeSettings`]; [`app`] is the router alone, for
//! tests that send it requests without a socket:
//!
//! ```no_run
//! # async fn example() -> Result<(), mcp_train::http::ServeError> {
//! use mcp_train::http::{app, AppState, ServeSettings};
//! use tower::ServiceExt;
//!
//! let state = AppState::new(&ServeSettings::new("mcp-train-data"))?;
//! let request = axum::http::Request::get("/api/health").body(axum::body::Body::empty());
//! let response = app(state).oneshot(request.expect("a request")).await;
//! assert_eq!(response.map(|r| r.status().as_u16()).ok(), Some(200));
//! # Ok(())
//! # }
//! ```

pub(crate) mod anomalies;
mod auth;
pub(crate) mod datasets;
mod error;
pub(crate) mod exports;
pub(crate) mod jobs;
pub(crate) mod kb;
mod metrics;
pub(crate) mod models;
mod notifications;
pub(crate) mod openapi;
pub(crate) mod upload;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{middleware, Json, Router};
use mcp_train_core::api::{Health, HealthAuth, HealthLimits, HealthStatus, HealthStorage};
use mcp_train_core::config::Config;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::ServeDir;
use tower_http::timeout::RequestBodyTimeoutLayer;

pub use error::{ApiError, ApiResult};

/// How to run the server: where it listens, the registry it serves, who may do what.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    /// Address to listen on (port 0 picks a free port).
    pub addr: SocketAddr,
    /// The server's data directory (created if missing): the registry unless `registry` says
    /// otherwise, the anomaly store, datasets; uploads are staged inside it.
    pub data_dir: PathBuf,
    /// Where the model registry is when not in `data_dir`: object storage shared by several
    /// replicas (`--registry s3://bucket/prefix`).
    pub registry: Option<crate::fs::registry::RegistryAt>,
    /// The built web app; without `index.html` there, `/` says how to build it.
    pub dist: PathBuf,
    /// The bearer token every write must carry; none leaves writes open.
    pub token: Option<String>,
    /// Reads of the API and the metrics need the token too (never `/api/health`).
    pub private: bool,
    /// Origins allowed to call the API from another site; `*` allows any.
    pub cors_origins: Vec<String>,
    /// Training defaults and upload limits.
    pub config: Config,
    /// Notification channels (`notifications.yaml`); none by default.
    pub notifications: crate::notify::NotifyConfig,
    /// How long a completed anomaly export's file is kept (`--export-retention`).
    pub export_retention: Duration,
    /// `Host` headers `/mcp` accepts besides the loopback names (`--allowed-host`); others get
    /// 403 (DNS rebinding protection).
    pub allowed_hosts: Vec<String>,
    /// The MCP tools offered on `/mcp` (`mcp.yaml`, `--mcp-read-only`).
    pub mcp: crate::mcp::McpConfig,
}

impl ServeSettings {
    /// Settings for a server over `data_dir`: on 127.0.0.1:8080, the app from `dist`, no token,
    /// no cross-site callers, the built-in configuration.
    pub fn new(data_dir: impl Into<PathBuf>) -> ServeSettings {
        ServeSettings {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: data_dir.into(),
            registry: None,
            dist: PathBuf::from("dist"),
            token: None,
            private: false,
            cors_origins: Vec::new(),
            config: Config::defaults(),
            notifications: crate::notify::NotifyConfig::default(),
            export_retention: crate::exports::DEFAULT_RETENTION,
            allowed_hosts: Vec::new(),
            mcp: crate::mcp::McpConfig::default(),
        }
    }

    /// Refuses settings that cannot be meant: private reads without a token, an empty token, a
    /// CORS origin that is not one.
    pub fn check(&self) -> Result<(), SettingsError> {
        if self.private && self.token.is_none() {
            return Err(SettingsError::PrivateWithoutToken);
        }
        if self.token.as_deref().is_some_and(|t| t.trim().is_empty()) {
            return Err(SettingsError::EmptyToken);
        }
        if let Some(origin) = self.cors_origins.iter().find(|o| !valid_origin(o)) {
            return Err(SettingsError::CorsOrigin {
                origin: origin.clone(),
            });
        }
        Ok(())
    }
}

/// Settings that [`ServeSettings::check`] refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("private reads need a token")]
    PrivateWithoutToken,
    #[error("the token is empty")]
    EmptyToken,
    #[error("{origin:?} is not an origin: expected one like https://app.example.com, or *")]
    CorsOrigin { origin: String },
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("cannot create the data directory {}", dir.display())]
    DataDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot make a staging directory in {}", dir.display())]
    Staging {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the anomaly store")]
    Store(#[source] Box<crate::store::StoreError>),
    #[error("cannot start the anomaly exports")]
    Exports(#[source] crate::exports::ExportError),
    #[error("cannot start the notification thread")]
    Notifications(#[source] std::io::Error),
    #[error("cannot start the training thread")]
    TrainingThread(#[source] std::io::Error),
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    #[error("cannot listen on {addr}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The listening socket or stdout failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// What every handler shares: the settings, the jobs, the metrics, caches. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Shared>,
}

#[derive(Debug)]
pub struct Shared {
    pub(crate) data_dir: PathBuf,
    /// The model registry: `data_dir`, or object storage.
    pub(crate) registry: crate::fs::registry::RegistryAt,
    pub(crate) config: Config,
    pub(crate) auth: auth::Auth,
    pub(crate) metrics: Arc<metrics::Metrics>,
    pub(crate) jobs: Arc<jobs::Jobs>,
    /// Sends notifications (training jobs, deployments; anomalies and exports through its hooks).
    pub(crate) notifier: crate::notify::Notifier,
    /// Anomaly export jobs (`/api/exports`).
    pub(crate) exports: Arc<crate::exports::Exports>,
    pub(crate) packages: Arc<models::PackageCache>,
    /// The anomaly store (DATA_DIR/anomalies.sqlite).
    pub anomalies: crate::store::AnomalyStore,
    /// The deployed model of each log type, for ingestion.
    pub(crate) deployed_models: anomalies::DeployedModels,
    /// Where this process stages uploads.
    pub(crate) staging: upload::Staging,
    /// Uploads waiting to be registered as datasets (`POST /api/uploads`).
    pub(crate) uploads: Arc<datasets::Uploads>,
    /// Turns true when the server starts stopping (event streams end).
    pub(crate) stopping: tokio::sync::watch::Receiver<bool>,
    /// What [`AppState::stop`] sends `stopping` through.
    stop: tokio::sync::watch::Sender<bool>,
    /// Bounds the memory of reading whole uploads (validating exports, verifying packages).
    heavy: tokio::sync::Semaphore,
    /// The web app's index.html with the API marker, or a page saying how to build the app.
    pub(crate) index_html: String,
    /// The web app's files.
    dist: PathBuf,
    /// Origins allowed to call the API from other sites.
    cors_origins: Vec<String>,
    /// `Host` headers `/mcp` accepts.
    allowed_hosts: Vec<String>,
    /// The MCP tools `/mcp` offers.
    mcp: crate::mcp::McpConfig,
    /// Cancelled when the server starts stopping: ends the MCP streams.
    mcp_stop: tokio_util::sync::CancellationToken,
}

impl Shared {
    /// A turn to read a whole upload into memory; waits while [`HEAVY_AT_ONCE`] others do.
    pub(crate) async fn heavy_work(&self) -> ApiResult<tokio::sync::SemaphorePermit<'_>> {
        self.heavy
            .acquire()
            .await
            .map_err(|e| ApiError::internal("the server is stopping", &e))
    }
}

impl AppState {
    /// The state of a server with these settings: creates the data directory and this process's
    /// staging directory in it, and starts the training thread (it ends when the last clone of
    /// the state is dropped). The settings are not checked here: [`serve`] does that.
    pub fn new(settings: &ServeSettings) -> Result<AppState, ServeError> {
        let data_dir = settings.data_dir.clone();
        std::fs::create_dir_all(&data_dir).map_err(|source| ServeError::DataDir {
            dir: data_dir.clone(),
            source,
        })?;
        let staging = upload::Staging::open(&data_dir).map_err(|source| ServeError::Staging {
            dir: data_dir.join(upload::UPLOADS_DIR),
            source,
        })?;
        let metrics = Arc::new(metrics::Metrics::new());
        let notifier = crate::notify::Notifier::start(
            settings.notifications.clone(),
            Some(&data_dir),
            Arc::new(notifications::MetricsObserver(Arc::clone(&metrics))),
        )
        .map_err(ServeError::Notifications)?;
        let registry = settings
            .registry
            .clone()
            .unwrap_or_else(|| crate::fs::registry::RegistryAt::Dir(data_dir.clone()));
        let jobs = Arc::new(
            jobs::Jobs::start(registry.clone(), settings.config.clone(), notifier.clone())
                .map_err(ServeError::TrainingThread)?,
        );
        let anomalies = crate::store::AnomalyStore::open(&data_dir)
            .map_err(|e| ServeError::Store(Box::new(e)))?;
        let exports = Arc::new(exports_start(
            &anomalies, &data_dir, settings, &metrics, &notifier,
        )?);
        let (stop, stopping) = tokio::sync::watch::channel(false);
        Ok(AppState {
            inner: Arc::new(Shared {
                index_html: index_html(&settings.dist),
                metrics,
                notifier,
                exports,
                data_dir,
                registry,
                config: settings.config.clone(),
                auth: auth::Auth::new(settings.token.as_deref(), settings.private),
                jobs,
                packages: Arc::default(),
                anomalies,
                deployed_models: anomalies::DeployedModels::default(),
                staging,
                uploads: Arc::default(),
                stopping,
                stop,
                heavy: tokio::sync::Semaphore::new(HEAVY_AT_ONCE),
                dist: settings.dist.clone(),
                cors_origins: settings.cors_origins.clone(),
                allowed_hosts: mcp_allowed_hosts(settings),
                mcp: settings.mcp.clone(),
                mcp_stop: tokio_util::sync::CancellationToken::new(),
            }),
        })
    }

    /// Tells whatever waits on `stopping` (event streams) that the server is stopping.
    fn stop(&self) {
        self.stop.send_replace(true);
        self.mcp_stop.cancel();
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.inner
    }
}

/// The `Host` headers `/mcp` accepts: the loopback names, the address the server listens on
/// (when it is a specific one) and `--allowed-host`.
fn mcp_allowed_hosts(settings: &ServeSettings) -> Vec<String> {
    let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "[::1]", "::1"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    let ip = settings.addr.ip();
    if !ip.is_unspecified() && !ip.is_loopback() {
        hosts.push(match ip {
            std::net::IpAddr::V4(v4) => v4.to_string(),
            std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        });
    }
    hosts.extend(settings.allowed_hosts.iter().cloned());
    hosts
}

/// Starts the anomaly export jobs: each finished job is counted in the metrics and is where the
/// "export finished" notification is sent.
fn exports_start(
    store: &crate::store::AnomalyStore,
    data_dir: &Path,
    settings: &ServeSettings,
    metrics: &Arc<metrics::Metrics>,
    notifier: &crate::notify::Notifier,
) -> Result<crate::exports::Exports, ServeError> {
    let metrics = Arc::clone(metrics);
    let notifier = notifier.clone();
    let on_finished: crate::exports::OnFinished = Arc::new(move |job| {
        metrics.export_finished(job.status.as_str(), job.rows);
        notifier.event(crate::notify::Event::ExportFinished(Box::new(job.clone())));
    });
    crate::exports::Exports::start(
        store.clone(),
        data_dir,
        settings.export_retention,
        on_finished,
    )
    .map_err(ServeError::Exports)
}

/// Server-sent events of a job's state (training jobs, exports): the state as it is now, then
/// one `progress` event per change, and `done` once `finished` says it has ended. The stream also
/// ends when the server stops, so open streams do not hold up the stop (a client reconnects or
/// falls back to polling).
pub(crate) fn state_events<T>(
    state: &AppState,
    receiver: tokio::sync::watch::Receiver<T>,
    finished: fn(&T) -> bool,
) -> axum::response::sse::Sse<
    impl futures_util::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>,
>
where
    T: Clone + serde::Serialize + Send + Sync + 'static,
{
    use axum::response::sse::{Event, KeepAlive, Sse};
    let stopping = state.stopping.clone();
    let events = futures_util::stream::unfold(
        (receiver, stopping, false, true),
        move |(mut rx, mut stopping, over, first)| async move {
            if over {
                return None;
            }
            if !first {
                tokio::select! {
                    changed = rx.changed() => {
                        // The sender was dropped (never while the server runs): end.
                        changed.ok()?;
                    }
                    _ = stopping.wait_for(|s| *s) => return None,
                }
            }
            let now = rx.borrow_and_update().clone();
            let done = finished(&now);
            let event = Event::default()
                .event(if done { "done" } else { "progress" })
                .json_data(&now)
                .unwrap_or_else(|_| Event::default().event("progress"));
            Some((Ok(event), (rx, stopping, done, false)))
        },
    );
    Sse::new(events).keep_alive(KeepAlive::default())
}

/// Runs blocking work (disk, locks, CPU) on the blocking pool.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(ApiError::internal("a request failed", &e)))
}

/// The marker that tells the web app a server is there.
const API_MARKER: &str = r#"<meta name="mcp-train-api" content="/api">"#;

/// index.html with the API marker inserted at the top of `<head>`.
fn index_html(dist: &Path) -> String {
    match std::fs::read_to_string(dist.join("index.html")) {
        Ok(html) => match html.find("<head>") {
            Some(at) => {
                let at = at + "<head>".len();
                format!("{}\n    {API_MARKER}{}", &html[..at], &html[at..])
            }
            None => format!("{API_MARKER}\n{html}"),
        },
        Err(_) => format!(
            "<!doctype html>\n<html><head><meta charset=\"utf-8\">{API_MARKER}<title>mcp-train</title></head>\n\
             <body><h1>mcp-train server</h1><p>The API is at <a href=\"api/health\">/api</a>. \
             The web app is not built here ({}/index.html is missing): run \
             <code>scripts/web.sh build</code>, then start the server with <code>--dist dist</code>.</p></body></html>\n",
            dist.display()
        ),
    }
}

/// The whole app: the API, the metrics and the web app's files, behind the middleware.
pub fn app(state: AppState) -> Router {
    let cors_origins = state.cors_origins.clone();
    let dist = state.dist.clone();
    let api = Router::new()
        .route("/api/health", get(health))
        .route("/api/openapi.json", get(openapi::document))
        .route("/api/models", get(models::list).post(models::upload))
        .route("/api/models/latest", get(models::latest))
        .route("/api/models/deployed", get(models::deployed))
        .route("/api/models/history", get(models::history))
        .route("/api/models/rollback/{log_type}", post(models::rollback))
        .route(
            "/api/models/{version}",
            get(models::show).delete(models::delete),
        )
        .route("/api/models/{version}/model", get(models::model_file))
        .route("/api/models/{version}/package", get(models::package_file))
        .route("/api/models/{version}/deploy", post(models::deploy))
        .route("/api/training/jobs", get(jobs::list).post(jobs::create))
        .route(
            "/api/training/jobs/{id}",
            get(jobs::show).delete(jobs::delete),
        )
        .route("/api/training/jobs/{id}/events", get(jobs::events))
        .route("/api/uploads", post(datasets::upload))
        .route("/api/datasets", get(datasets::list))
        .route("/api/logs/{log_type}", post(anomalies::ingest))
        .route(
            "/api/anomalies",
            get(anomalies::list).post(anomalies::create).layer(
                axum::extract::DefaultBodyLimit::max(anomalies::POSTED_BODY_LIMIT),
            ),
        )
        .route("/api/anomalies/summary", get(anomalies::summary))
        .route("/api/anomalies/{id}", get(anomalies::show))
        .route("/api/anomalies/{id}/status", post(anomalies::change_status))
        .route("/api/anomalies/{id}/explanation", get(kb::explanation))
        .route("/api/kb/search", get(kb::search))
        .route("/api/notifications/channels", get(notifications::channels))
        .route(
            "/api/notifications/dead-letters",
            get(notifications::dead_letters),
        )
        .route(
            "/api/notifications/test/{channel}",
            post(notifications::test),
        )
        .merge(exports::router())
        .nest_service(
            "/mcp",
            crate::mcp::http_service(
                crate::mcp::McpServer::new(state.clone(), state.mcp.clone()),
                state.allowed_hosts.clone(),
                state.cors_origins.clone(),
                state.mcp_stop.clone(),
            ),
        )
        .route("/api/{*rest}", any(api_not_found))
        .route("/api", any(api_not_found))
        .route("/api/", any(api_not_found))
        .route("/metrics", get(prometheus))
        .route("/", get(index))
        .route("/index.html", get(index));
    let static_files = ServeDir::new(dist)
        .append_index_html_on_directories(false)
        .fallback(get(index).with_state(state.clone()));
    let mut router = api
        .fallback_service(static_files)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .layer(middleware::from_fn(error::json_errors))
        .layer(RequestBodyTimeoutLayer::new(BODY_TIMEOUT))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(middleware::from_fn(upload::close_if_unread))
        .with_state(state);
    if !cors_origins.is_empty() {
        router = router.layer(cors(&cors_origins));
    }
    router
}

fn cors(origins: &[String]) -> CorsLayer {
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok()),
        )
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_NONE_MATCH,
        ])
        .expose_headers([
            header::ETAG,
            header::CONTENT_DISPOSITION,
            header::CONTENT_LENGTH,
            header::LOCATION,
        ])
}

async fn index(State(state): State<AppState>) -> Response {
    let mut response = Html(state.index_html.clone()).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

async fn api_not_found() -> ApiError {
    ApiError::not_found("no such API endpoint (see /api/openapi.json)")
}

/// Models by status and the registry's size, or why the registry cannot be read.
fn storage(
    state: &AppState,
) -> Result<(std::collections::BTreeMap<&'static str, usize>, u64), String> {
    let models = state
        .registry
        .open()
        .list()
        .map_err(|e| error::error_chain(&e))?;
    let mut counts: std::collections::BTreeMap<&'static str, usize> =
        [("ready", 0), ("deployed", 0), ("archived", 0)]
            .into_iter()
            .collect();
    for m in &models {
        *counts.entry(m.status.as_str()).or_default() += 1;
    }
    Ok((counts, metrics::disk_usage(&state.data_dir)))
}

async fn health(State(state): State<AppState>) -> Json<Health> {
    let probe = state.clone();
    let storage = tokio::task::spawn_blocking(move || storage(&probe))
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
    let (status, storage) = match storage {
        Ok((counts, bytes)) => (
            HealthStatus::Ok,
            HealthStorage::ok(counts.values().sum(), bytes),
        ),
        Err(message) => {
            tracing::warn!(error = %message, "storage unavailable");
            (
                HealthStatus::Degraded,
                HealthStorage::unavailable("the registry cannot be read (see the server log)"),
            )
        }
    };
    Json(Health {
        auth: HealthAuth {
            reads: state.auth.reads_protected(),
            writes: state.auth.writes_protected(),
        },
        limits: HealthLimits {
            max_export_mb: state.config.training.limits.max_export_mb,
            max_upload_mb: state.config.training.limits.max_upload_mb,
        },
        status,
        storage,
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}

/// `value` as a JSON value, whose object keys serde_json keeps sorted: the lists and the deploy
/// answer were built with `json!`, which sorts them, and their bytes stay what they were.
pub fn sorted_json<T: serde::Serialize>(value: &T) -> ApiResult<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| ApiError::internal("cannot write the answer", &e))
}

/// `GET /metrics`: the request metrics and, read now, the jobs, the models and the bytes on disk.
async fn prometheus(State(state): State<AppState>) -> Response {
    let probe = state.clone();
    let page = tokio::task::spawn_blocking(move || {
        let storage = storage(&probe);
        let (models, bytes) = match &storage {
            Ok((counts, bytes)) => (Some(counts), *bytes),
            Err(_) => (None, metrics::disk_usage(&probe.data_dir)),
        };
        probe.metrics.set_anomaly_store(
            &anomalies::metric_counts(&probe.anomalies),
            probe.anomalies.bytes(),
        );
        probe.metrics.encode(&probe.jobs.counts(), models, bytes)
    })
    .await;
    match page {
        Ok(Ok(page)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
            page,
        )
            .into_response(),
        Ok(Err(e)) => ApiError::internal("cannot write the metrics", &e).into_response(),
        Err(e) => ApiError::internal("cannot write the metrics", &e).into_response(),
    }
}

/// `*`, or `http(s)://host[:port]` (a trailing `/` is allowed).
fn valid_origin(origin: &str) -> bool {
    if origin == "*" {
        return true;
    }
    let host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .map(|h| h.strip_suffix('/').unwrap_or(h));
    host.is_some_and(|h| !h.is_empty() && !h.contains(['/', ' ', '\t']))
        && HeaderValue::from_str(origin).is_ok()
}

/// Runs the server until Ctrl-C or SIGTERM: checks the settings, opens the data directory,
/// starts the training thread, listens on `settings.addr` and prints
/// `mcp-train is listening on http://ADDR/` on stdout once it does.
pub fn serve(settings: ServeSettings) -> Result<(), ServeError> {
    settings.check()?;
    if settings.token.is_none() && !settings.addr.ip().is_loopback() {
        tracing::warn!(addr = %settings.addr, "listening beyond this machine without a token: anyone who can reach it can upload, deploy and delete models (set --token or MCP_TRAIN_TOKEN)");
    }
    let state = AppState::new(&settings)?;
    if !settings.dist.join("index.html").is_file() {
        tracing::warn!(dist = %settings.dist.display(), "no web app to serve (build it with scripts/web.sh build); the API works");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    let served = runtime.block_on(listen(settings.addr, state));
    // Work still on the blocking pool (a registry lock held by another process, a long
    // validation) must not keep the process from stopping.
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    served
}

/// Uploads read whole into memory at once (export validation, model and package checks).
const HEAVY_AT_ONCE: usize = 2;
/// Most connections served at once; more wait in the listen queue.
const MAX_CONNECTIONS: usize = 1024;
/// A client must send a request's headers within this time (slow-header clients are cut off).
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// An upload that sends nothing for this long is cut off.
const BODY_TIMEOUT: Duration = Duration::from_secs(60);
/// Open connections get this long to finish after Ctrl-C or SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Accepts connections until Ctrl-C or SIGTERM, each served by hyper with a header timeout,
/// at most [`MAX_CONNECTIONS`] at once; then lets open connections finish for a few seconds.
async fn listen(addr: SocketAddr, state: AppState) -> Result<(), ServeError> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Listen { addr, source })?;
    let bound = listener.local_addr()?;
    tracing::info!(addr = %bound, data_dir = %state.data_dir.display(), "listening");
    let router = app(state.clone());
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "mcp-train is listening on http://{bound}/")?;
        out.flush()?;
    }
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let stop = shutdown();
    tokio::pin!(stop);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                // Never closed while the loop runs.
                Err(_) => break,
            },
            () = &mut stop => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let service = tower::ServiceExt::map_request(
            router.clone(),
            move |mut request: axum::http::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                request
            },
        );
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT)
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    tracing::info!("stopping");
    state.stop();
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("connections still open {} s after the stop signal: closing them", SHUTDOWN_GRACE.as_secs());
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
