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

mod auth;
mod error;
mod jobs;
mod metrics;
mod models;
mod openapi;
mod upload;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
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

use crate::cli::args::ServeArgs;
use crate::cli::{Failure, Outcome};
use error::{ApiError, ApiResult};

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Shared>,
}

#[derive(Debug)]
pub struct Shared {
    pub data_dir: PathBuf,
    pub config: Config,
    pub auth: auth::Auth,
    pub metrics: Arc<metrics::Metrics>,
    pub jobs: jobs::Jobs,
    pub packages: Arc<models::PackageCache>,
    /// Where this process stages uploads.
    pub staging: upload::Staging,
    /// Turns true when the server starts stopping (event streams end).
    pub stopping: tokio::sync::watch::Receiver<bool>,
    /// Bounds the memory of reading whole uploads (validating exports, verifying packages).
    heavy: tokio::sync::Semaphore,
    /// The web app's index.html with the API marker, or a page saying how to build the app.
    pub index_html: String,
}

impl Shared {
    /// A turn to read a whole upload into memory; waits while [`HEAVY_AT_ONCE`] others do.
    pub async fn heavy_work(&self) -> ApiResult<tokio::sync::SemaphorePermit<'_>> {
        self.heavy
            .acquire()
            .await
            .map_err(|e| ApiError::internal("the server is stopping", &e))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.inner
    }
}

/// Microseconds since the epoch, now.
pub fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
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
fn index_html(dist: &std::path::Path) -> String {
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

/// The whole app.
pub fn app(state: AppState, dist: PathBuf, cors_origins: &[String]) -> Router {
    let api = Router::new()
        .route("/api/health", get(health))
        .route("/api/openapi.json", get(openapi::document))
        .route("/api/models", get(models::list).post(models::upload))
        .route("/api/models/latest", get(models::latest))
        .route("/api/models/deployed", get(models::deployed))
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
        router = router.layer(cors(cors_origins));
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
    let models = crate::registry::open(&state.data_dir)
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

async fn prometheus(State(state): State<AppState>) -> Response {
    let probe = state.clone();
    let storage = tokio::task::spawn_blocking(move || storage(&probe))
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
    let (models, bytes) = match &storage {
        Ok((counts, bytes)) => (Some(counts), *bytes),
        Err(_) => {
            let dir = state.data_dir.clone();
            let bytes = tokio::task::spawn_blocking(move || metrics::disk_usage(&dir))
                .await
                .unwrap_or(0);
            (None, bytes)
        }
    };
    let page = metrics::render(&state.metrics, &state.jobs.counts(), models, bytes);
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        page,
    )
        .into_response()
}

/// Logs to stderr: text lines, or JSON lines with `MCP_TRAIN_LOG=json`; `RUST_LOG` filters.
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let json = std::env::var("MCP_TRAIN_LOG").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
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

/// `mcp-train serve`.
pub fn run(args: ServeArgs) -> Outcome {
    init_logging();
    if args.private && args.token.is_none() {
        return Err(Failure::usage(anyhow::anyhow!(
            "--private needs a token (--token or MCP_TRAIN_TOKEN)"
        )));
    }
    if args.token.as_deref().is_some_and(|t| t.trim().is_empty()) {
        return Err(Failure::usage(anyhow::anyhow!("the token is empty")));
    }
    if let Some(origin) = args.cors_origins.iter().find(|o| !valid_origin(o)) {
        return Err(Failure::usage(anyhow::anyhow!(
            "--cors-origin {origin:?}: expected an origin like https://app.example.com, or *"
        )));
    }
    if args.token.is_none() && !args.addr.ip().is_loopback() {
        tracing::warn!(addr = %args.addr, "listening beyond this machine without a token: anyone who can reach it can upload, deploy and delete models (set --token or MCP_TRAIN_TOKEN)");
    }
    let config = crate::cli::input::load_config(args.config.as_deref())?;
    let data_dir = crate::registry::data_dir(args.data_dir.as_deref());
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    let staging = upload::Staging::open(&data_dir).with_context(|| {
        format!(
            "cannot make a staging directory in {}",
            data_dir.join(upload::UPLOADS_DIR).display()
        )
    })?;
    let jobs = jobs::Jobs::start(data_dir.clone(), config.clone())
        .context("cannot start the training thread")?;
    if !args.dist.join("index.html").is_file() {
        tracing::warn!(dist = %args.dist.display(), "no web app to serve (build it with scripts/web.sh build); the API works");
    }
    let (stop_sender, stop_receiver) = tokio::sync::watch::channel(false);
    let state = AppState {
        inner: Arc::new(Shared {
            index_html: index_html(&args.dist),
            data_dir: data_dir.clone(),
            config,
            auth: auth::Auth::new(args.token.as_deref(), args.private),
            metrics: Arc::default(),
            jobs,
            packages: Arc::default(),
            staging,
            stopping: stop_receiver,
            heavy: tokio::sync::Semaphore::new(HEAVY_AT_ONCE),
        }),
    };
    let router = app(state, args.dist.clone(), &args.cors_origins);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let served = runtime.block_on(serve(args.addr, router, &data_dir, stop_sender));
    // Work still on the blocking pool (a registry lock held by another process, a long
    // validation) must not keep the process from stopping.
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    served?;
    Ok(std::process::ExitCode::SUCCESS)
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
async fn serve(
    addr: SocketAddr,
    router: Router,
    data_dir: &std::path::Path,
    stopping: tokio::sync::watch::Sender<bool>,
) -> anyhow::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let bound = listener.local_addr()?;
    tracing::info!(addr = %bound, data_dir = %data_dir.display(), "listening");
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
            slot = slots.clone().acquire_owned() => slot.context("the connection limit is gone")?,
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
    let _ = stopping.send(true);
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
