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

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct IngestLabels {
    log_type: String,
    outcome: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct LogTypeLabels {
    log_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct AnomalyLabels {
    log_type: String,
    status: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct NotificationLabels {
    channel: String,
    outcome: &'static str,
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
    ingested_lines: Family<IngestLabels, Counter>,
    anomalies_detected: Family<LogTypeLabels, Counter>,
    anomalies: Family<AnomalyLabels, Gauge>,
    anomaly_store_bytes: Gauge,
    notifications: Family<NotificationLabels, Counter>,
    dead_letters: Gauge,
    exports: Family<StatusLabels, Counter>,
    export_rows: Counter,
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
        let ingested_lines = Family::<IngestLabels, Counter>::default();
        let anomalies_detected = Family::<LogTypeLabels, Counter>::default();
        let anomalies = Family::<AnomalyLabels, Gauge>::default();
        let anomaly_store_bytes = Gauge::default();
        let notifications = Family::<NotificationLabels, Counter>::default();
        let dead_letters = Gauge::default();
        let exports = Family::<StatusLabels, Counter>::default();
        let export_rows = Counter::default();
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
        registry.register(
            "ingested_lines",
            "Log lines received by POST /api/logs/{log_type}, by log type and outcome (scored or invalid)",
            ingested_lines.clone(),
        );
        registry.register(
            "anomalies_detected",
            "Anomalies detected and stored, by log type",
            anomalies_detected.clone(),
        );
        registry.register(
            "anomalies",
            "Anomalies in the store by log type and status",
            anomalies.clone(),
        );
        registry.register_with_unit(
            "anomaly_store",
            "Bytes of the anomaly store (SQLite database and its write-ahead log)",
            Unit::Bytes,
            anomaly_store_bytes.clone(),
        );
        registry.register(
            "notifications",
            "Notification deliveries by channel and outcome (delivered, retried, failed, suppressed)",
            notifications.clone(),
        );
        registry.register(
            "notification_dead_letters",
            "Notifications that exhausted their retries and wait in the dead-letter list",
            dead_letters.clone(),
        );
        registry.register(
            "exports",
            "Anomaly export jobs finished, by status (completed, failed, cancelled)",
            exports.clone(),
        );
        registry.register(
            "export_rows",
            "Rows written by completed anomaly exports",
            export_rows.clone(),
        );
        // Every log type's series exist from the start, so rates and alerts see 0 before the
        // first line arrives.
        for agent in mcp_train_core::agent::AGENTS {
            let log_type = agent.info().log_type.to_owned();
            for outcome in ["scored", "invalid"] {
                ingested_lines
                    .get_or_create(&IngestLabels {
                        log_type: log_type.clone(),
                        outcome,
                    })
                    .inc_by(0);
            }
            anomalies_detected
                .get_or_create(&LogTypeLabels { log_type })
                .inc_by(0);
        }
        for status in ["completed", "failed", "cancelled"] {
            exports.get_or_create(&StatusLabels { status }).inc_by(0);
        }
        Metrics {
            registry,
            requests,
            latency,
            upload_bytes,
            jobs,
            models,
            storage_bytes,
            ingested_lines,
            anomalies_detected,
            anomalies,
            anomaly_store_bytes,
            notifications,
            dead_letters,
            exports,
            export_rows,
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

    /// Counts lines ingested for `log_type`: `scored` read and scored, `invalid` refused.
    pub fn ingested(&self, log_type: &str, scored: u64, invalid: u64) {
        for (outcome, n) in [("scored", scored), ("invalid", invalid)] {
            self.ingested_lines
                .get_or_create(&IngestLabels {
                    log_type: log_type.to_owned(),
                    outcome,
                })
                .inc_by(n);
        }
    }

    /// Counts `n` anomalies of `log_type` detected and stored.
    pub fn anomalies_detected(&self, log_type: &str, n: u64) {
        self.anomalies_detected
            .get_or_create(&LogTypeLabels {
                log_type: log_type.to_owned(),
            })
            .inc_by(n);
    }

    /// Sets the store's gauges: anomalies by (log type, status), and its bytes on disk. Series
    /// of pairs no longer present are dropped.
    pub fn set_anomaly_store(&self, counts: &[(String, &'static str, u64)], bytes: u64) {
        self.anomalies.clear();
        for (log_type, status, n) in counts {
            self.anomalies
                .get_or_create(&AnomalyLabels {
                    log_type: log_type.clone(),
                    status,
                })
                .set(i64::try_from(*n).unwrap_or(i64::MAX));
        }
        self.anomaly_store_bytes
            .set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }

    /// Counts one delivery attempt's outcome on `channel`: `delivered`, `retried` (a retryable
    /// failure, tried again), `failed` (gave up: dead-lettered) or `suppressed` (rate-limited).
    pub fn notification(&self, channel: &str, outcome: &'static str) {
        self.notifications
            .get_or_create(&NotificationLabels {
                channel: channel.to_owned(),
                outcome,
            })
            .inc();
    }

    /// Sets the number of notifications in the dead-letter list.
    pub fn set_dead_letters(&self, n: usize) {
        self.dead_letters.set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// Counts an export job that ended with `status` (`completed`, `failed` or `cancelled`)
    /// after writing `rows` rows (counted only when completed).
    pub fn export_finished(&self, status: &'static str, rows: u64) {
        self.exports.get_or_create(&StatusLabels { status }).inc();
        if status == "completed" {
            self.export_rows.inc_by(rows);
        }
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
