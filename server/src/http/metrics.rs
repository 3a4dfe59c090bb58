//! Request counters and latency histograms, and the Prometheus text page (`GET /metrics`) that
//! adds the jobs, the models and the bytes on disk. The middleware also writes the structured
//! request log: one `tracing` event per request.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;

/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Debug, Default)]
struct Inner {
    /// (method, route, status) → requests.
    requests: BTreeMap<(String, String, u16), u64>,
    /// (method, route) → latencies.
    latency: BTreeMap<(String, String), Histogram>,
    /// route → bytes received in uploads.
    upload_bytes: BTreeMap<String, u64>,
}

#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the counters inconsistent in a way that
        // matters more than losing them: carry on with what is there.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut inner = self.lock();
        *inner
            .requests
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        let h = inner
            .latency
            .entry((method.to_owned(), route.to_owned()))
            .or_default();
        h.count += 1;
        h.sum += seconds;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.counts[i] += 1;
            }
        }
    }

    /// Counts bytes received by an upload route.
    pub fn uploaded(&self, route: &str, bytes: u64) {
        *self
            .lock()
            .upload_bytes
            .entry(route.to_owned())
            .or_default() += bytes;
    }

    /// The HTTP part of the page.
    fn render_http(&self, out: &mut String) {
        let inner = self.lock();
        let _ = writeln!(
            out,
            "# HELP mcp_train_http_requests_total HTTP requests answered."
        );
        let _ = writeln!(out, "# TYPE mcp_train_http_requests_total counter");
        for ((method, route, status), n) in &inner.requests {
            let _ = writeln!(
                out,
                "mcp_train_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        let _ = writeln!(out, "# HELP mcp_train_http_request_duration_seconds Time to answer a request (to the response head).");
        let _ = writeln!(
            out,
            "# TYPE mcp_train_http_request_duration_seconds histogram"
        );
        for ((method, route), h) in &inner.latency {
            let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
            for (bound, n) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(
                    out,
                    "mcp_train_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "mcp_train_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "mcp_train_http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "mcp_train_http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP mcp_train_http_upload_bytes_total Bytes received in request bodies of uploads."
        );
        let _ = writeln!(out, "# TYPE mcp_train_http_upload_bytes_total counter");
        for (route, n) in &inner.upload_bytes {
            let _ = writeln!(
                out,
                "mcp_train_http_upload_bytes_total{{route=\"{}\"}} {n}",
                escape(route)
            );
        }
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
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
    state.metrics.record(method, &route, status, seconds);
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
    response
}

/// The whole page: HTTP counters, jobs by status, models by status, bytes on disk.
pub fn render(
    metrics: &Metrics,
    jobs: &BTreeMap<&'static str, usize>,
    models: Option<&BTreeMap<&'static str, usize>>,
    storage_bytes: u64,
) -> String {
    let mut out = String::new();
    metrics.render_http(&mut out);
    let _ = writeln!(
        out,
        "# HELP mcp_train_training_jobs Training jobs of this process by status."
    );
    let _ = writeln!(out, "# TYPE mcp_train_training_jobs gauge");
    for (status, n) in jobs {
        let _ = writeln!(out, "mcp_train_training_jobs{{status=\"{status}\"}} {n}");
    }
    let _ = writeln!(
        out,
        "# HELP mcp_train_models Models in the registry by status."
    );
    let _ = writeln!(out, "# TYPE mcp_train_models gauge");
    if let Some(models) = models {
        for (status, n) in models {
            let _ = writeln!(out, "mcp_train_models{{status=\"{status}\"}} {n}");
        }
    }
    let _ = writeln!(
        out,
        "# HELP mcp_train_storage_bytes Bytes of the files in the data directory."
    );
    let _ = writeln!(out, "# TYPE mcp_train_storage_bytes gauge");
    let _ = writeln!(out, "mcp_train_storage_bytes {storage_bytes}");
    out
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
