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
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use axum::extract::State;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{middleware, Json, Router};
use mcp_train_core::config::Config;
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::ServeDir;

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
    /// The web app's index.html with the API marker, or a page saying how to build the app.
    pub index_html: String,
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

async fn health(State(state): State<AppState>) -> Json<serde_json::Value> {
    let probe = state.clone();
    let storage = tokio::task::spawn_blocking(move || storage(&probe))
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
    let storage_json = match &storage {
        Ok((counts, bytes)) => json!({
            "status": "ok",
            "models": counts.values().sum::<usize>(),
            "bytes": bytes,
        }),
        Err(message) => {
            tracing::warn!(error = %message, "storage unavailable");
            json!({ "status": "unavailable", "message": "the registry cannot be read (see the server log)" })
        }
    };
    Json(json!({
        "status": if storage.is_ok() { "ok" } else { "degraded" },
        "version": env!("CARGO_PKG_VERSION"),
        "storage": storage_json,
        "auth": {
            "writes": state.auth.writes_protected(),
            "reads": state.auth.reads_protected(),
        },
        "limits": {
            "max_upload_mb": state.config.training.limits.max_upload_mb,
            "max_export_mb": state.config.training.limits.max_export_mb,
        },
    }))
}

async fn prometheus(State(state): State<AppState>) -> Response {
    let probe = state.clone();
    let storage = tokio::task::spawn_blocking(move || storage(&probe))
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
    let (models, bytes) = match &storage {
        Ok((counts, bytes)) => (Some(counts), *bytes),
        Err(_) => (None, metrics::disk_usage(&state.data_dir)),
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
    let config = crate::cli::input::load_config(args.config.as_deref())?;
    let data_dir = crate::registry::data_dir(args.data_dir.as_deref());
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    upload::remove_abandoned(&data_dir);
    let jobs = jobs::Jobs::start(data_dir.clone(), config.clone())
        .context("cannot start the training thread")?;
    if !args.dist.join("index.html").is_file() {
        tracing::warn!(dist = %args.dist.display(), "no web app to serve (build it with scripts/web.sh build); the API works");
    }
    let state = AppState {
        inner: Arc::new(Shared {
            index_html: index_html(&args.dist),
            data_dir: data_dir.clone(),
            config,
            auth: auth::Auth::new(args.token.as_deref(), args.private),
            metrics: Arc::default(),
            jobs,
            packages: Arc::default(),
        }),
    };
    let router = app(state, args.dist.clone(), &args.cors_origins);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(args.addr, router, &data_dir))?;
    Ok(std::process::ExitCode::SUCCESS)
}

async fn serve(addr: SocketAddr, router: Router, data_dir: &std::path::Path) -> anyhow::Result<()> {
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
    // On Ctrl-C or SIGTERM: stop accepting, let requests in flight finish, but give open event
    // streams and slow uploads at most a few seconds.
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let server = axum::serve(listener, router).with_graceful_shutdown(async move {
        shutdown().await;
        tracing::info!("stopping");
        let _ = stop.send(true);
    });
    let mut stopping = stopping;
    let deadline = async move {
        let _ = stopping.wait_for(|s| *s).await;
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    };
    tokio::select! {
        result = server => result.context("the server stopped")?,
        () = deadline => tracing::warn!("connections still open 5 s after the stop signal: closing them"),
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
