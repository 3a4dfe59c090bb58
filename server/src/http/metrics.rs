//! Request counters and latency histograms, and the Prometheus page (`GET /metrics`, OpenMetrics
//! text) that adds the jobs, the models and the bytes on disk. The middleware also writes the
//! structured request log: one `tracing` event per request.
//!
//! The series are `prometheus-client` families: a request updates atomics (a family takes its
//! write lock only the first time it sees a label set), so requests never wait on each other.
//! The jobs, models and storage gauges are set when the page is asked for.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use super::AppState;

/// The page's media type: OpenMetrics text, which Prometheus reads natively.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct UploadLabels {
    route: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct StatusLabels {
    status: &'static str,
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// The server's metrics and the registry that writes them out.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
    upload_bytes: Family<UploadLabels, Counter>,
    jobs: Family<StatusLabels, Gauge>,
    models: Family<StatusLabels, Gauge>,
    storage_bytes: Gauge,
    /// Held while a scrape sets the gauges and writes the page, so two scrapes do not mix.
    scrape: Mutex<()>,
}

impl Metrics {
    pub fn new() -> Metrics {
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: LatencyFamily = Family::new_with_constructor(latency_histogram);
        let upload_bytes = Family::<UploadLabels, Counter>::default();
        let jobs = Family::<StatusLabels, Gauge>::default();
        let models = Family::<StatusLabels, Gauge>::default();
        let storage_bytes = Gauge::default();
        let mut registry = Registry::with_prefix("mcp_train");
        // Counters get their `_total` and units their suffix when written out:
        // mcp_train_http_requests_total, mcp_train_http_request_duration_seconds, …
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer a request (to the response head)",
            Unit::Seconds,
            latency.clone(),
        );
        registry.register_with_unit(
            "http_upload",
            "Bytes received in request bodies of uploads",
            Unit::Bytes,
            upload_bytes.clone(),
        );
        registry.register(
            "training_jobs",
            "Training jobs of this process by status",
            jobs.clone(),
        );
        registry.register("models", "Models in the registry by status", models.clone());
        registry.register_with_unit(
            "storage",
            "Bytes of the files in the data directory",
            Unit::Bytes,
            storage_bytes.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            upload_bytes,
            jobs,
            models,
            storage_bytes,
            scrape: Mutex::new(()),
        }
    }

    fn record(&self, method: &'static str, route: String, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route: route.clone(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { method, route })
            .observe(seconds);
    }

    /// Counts bytes received by an upload route.
    pub fn uploaded(&self, route: &'static str, bytes: u64) {
        self.upload_bytes
            .get_or_create(&UploadLabels { route })
            .inc_by(bytes);
    }

    /// The whole page: the HTTP series, and the jobs by status, the models by status (none when
    /// the registry cannot be read) and the bytes on disk as they are now.
    pub fn encode(
        &self,
        jobs: &BTreeMap<&'static str, usize>,
        models: Option<&BTreeMap<&'static str, usize>>,
        storage_bytes: u64,
    ) -> Result<String, std::fmt::Error> {
        // A scrape that panicked cannot have left the gauges worse than stale: carry on.
        let _scrape = self.scrape.lock().unwrap_or_else(|p| p.into_inner());
        let gauge = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        for (&status, &n) in jobs {
            self.jobs
                .get_or_create(&StatusLabels { status })
                .set(gauge(n));
        }
        self.models.clear();
        for (&status, &n) in models.into_iter().flatten() {
            self.models
                .get_or_create(&StatusLabels { status })
                .set(gauge(n));
        }
        self.storage_bytes
            .set(i64::try_from(storage_bytes).unwrap_or(i64::MAX));
        let mut page = String::new();
        prometheus_client::encoding::text::encode(&mut page, &self.registry)?;
        Ok(page)
    }
}

/// Counts and logs every request. The route label is the matched pattern, so ids in paths do not
/// make a new series each.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    // A fixed set of labels: any token is a valid HTTP method, and each would be a new series.
    let method = match *request.method() {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let peer = request
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| {
            if request.uri().path().starts_with("/api/") {
                "/api/*".to_owned()
            } else {
                "static".to_owned()
            }
        });
    let path: String = request.uri().path().chars().take(256).collect();
    let response = next.run(request).await;
    let seconds = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    tracing::info!(
        target: "mcp_train::request",
        peer,
        method,
        path,
        route,
        status,
        ms = (seconds * 1e6).round() / 1e3,
        "request"
    );
    state.metrics.record(method, route, status, seconds);
    response
}

/// Bytes of every file under `dir` (0 if it does not exist).
pub fn disk_usage(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(t) if t.is_dir() => disk_usage(&entry.path()),
            Ok(t) if t.is_file() => entry.metadata().map(|m| m.len()).unwrap_or(0),
            _ => 0,
        })
        .sum()
}
