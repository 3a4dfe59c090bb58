//! The server's router in-process, the way axum's `examples/testing` does it: each request goes
//! through `app(state).oneshot(…)` with every middleware (auth, the error envelope, metrics), no
//! socket and no child process. What needs a real socket or process (timeouts, `Connection:
//! close`, kill -9, load) stays in `serve*.rs`.

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use mcp_train::http::{app, serve, AppState, ServeError, ServeSettings, SettingsError};
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::common::server::{metric, INDEX_HTML};

/// A server's router over a fresh data directory, with a tiny web app.
struct App {
    router: Router,
    dir: tempfile::TempDir,
}

/// A response, read whole.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status and the error envelope `{"error": {"code", "message"}}` with this
    /// code, and nothing else in it; returns the message.
    fn error(&self, status: u16, code: &str) -> String {
        assert_eq!(self.status.as_u16(), status, "{}", self.text());
        assert!(
            self.header(header::CONTENT_TYPE)
                .is_some_and(|t| t.starts_with("application/json")),
            "{:?}: {}",
            self.headers,
            self.text()
        );
        let body = self.json();
        let error = body["error"].as_object().expect("an error object");
        assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{body}");
        assert_eq!(error.len(), 2, "{body}");
        assert_eq!(error["code"], code, "{body}");
        let message = error["message"].as_str().expect("a message").to_owned();
        assert!(!message.is_empty(), "{body}");
        message
    }
}

impl App {
    /// A server with the built-in configuration and no token.
    fn new() -> App {
        App::with(|_| {})
    }

    /// A server whose settings `configure` adjusts.
    fn with(configure: impl FnOnce(&mut ServeSettings)) -> App {
        let dir = tempfile::tempdir().expect("tempdir");
        let dist = dir.path().join("dist");
        std::fs::create_dir_all(&dist).expect("dist");
        std::fs::write(dist.join("index.html"), INDEX_HTML).expect("index.html");
        let mut settings = ServeSettings::new(dir.path().join("data"));
        settings.dist = dist;
        configure(&mut settings);
        let state = AppState::new(&settings).expect("the server's state");
        App {
            router: app(state),
            dir,
        }
    }

    async fn send(
        &self,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(body.into()).expect("a request");
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .unwrap_or_else(|e| match e {});
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .expect("the body");
        Answer {
            status: parts.status,
            headers: parts.headers,
            body: body.to_vec(),
        }
    }

    async fn get(&self, uri: &str) -> Answer {
        self.send("GET", uri, &[], Body::empty()).await
    }

    async fn get_with_token(&self, uri: &str, token: &str) -> Answer {
        let bearer = format!("Bearer {token}");
        self.send("GET", uri, &[("Authorization", &bearer)], Body::empty())
            .await
    }

    async fn post(&self, uri: &str, body: &[u8]) -> Answer {
        self.send("POST", uri, &[], body.to_vec()).await
    }

    /// The jobs `GET /api/training/jobs` lists.
    async fn jobs(&self) -> Vec<Value> {
        let r = self.get("/api/training/jobs").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json()["jobs"].as_array().expect("jobs").clone()
    }
}

/// A body that is no export: a job whose parameters pass is refused only when it is read (422).
const NOT_AN_EXPORT: &[u8] = b"not an export";

#[tokio::test]
async fn job_parameters_with_bad_values_are_400_naming_the_parameter() {
    let app = App::new();
    for query in [
        "detector=svm",
        "detector=",
        "seed=-1",
        "seed=1.5",
        "seed=lots",
        "contamination=0",
        "contamination=0.7",
        "contamination=-0.1",
        "contamination=NaN",
        "contamination=most",
        "n_estimators=0",
        "n_estimators=10001",
        "n_estimators=ten",
        "max_samples=0",
        "max_samples=1.5",
        "max_samples=-3",
        "max_samples=many",
        "n_neighbors=0",
        "n_neighbors=-5",
        "drop_invalid=maybe",
        "created_at_micros=soon",
        "created_at_micros=-1",
        "created_at_micros=253402300800000000",
        "file_name=",
    ] {
        let r = app
            .post(&format!("/api/training/jobs?{query}"), NOT_AN_EXPORT)
            .await;
        let message = r.error(400, "invalid_parameter");
        let name = query.split('=').next().unwrap_or_default();
        assert!(message.contains(name), "{query}: {message}");
    }
    assert!(app.jobs().await.is_empty(), "a refused job was kept");
}

#[tokio::test]
async fn job_parameters_given_twice_or_unknown_are_400() {
    let app = App::new();
    let r = app
        .post("/api/training/jobs?seed=1&seed=2", NOT_AN_EXPORT)
        .await;
    let message = r.error(400, "invalid_parameter");
    assert!(
        message.contains("\"seed\"") && message.contains("more than once"),
        "{message}"
    );
    // Also when both values are the same, and whatever comes between them.
    let r = app
        .post(
            "/api/training/jobs?detector=lof&seed=1&seed=1",
            NOT_AN_EXPORT,
        )
        .await;
    r.error(400, "invalid_parameter");

    for (query, name) in [
        ("colour=red", "colour"),
        ("seed=1&n_trees=5", "n_trees"),
        ("Seed=1", "Seed"),
    ] {
        let r = app
            .post(&format!("/api/training/jobs?{query}"), NOT_AN_EXPORT)
            .await;
        let message = r.error(400, "invalid_parameter");
        assert!(
            message.contains("unknown parameter") && message.contains(name),
            "{query}: {message}"
        );
    }
    assert!(app.jobs().await.is_empty());
}

#[tokio::test]
async fn good_job_parameters_pass_and_the_export_is_checked_next() {
    let app = App::new();
    for query in [
        "",
        "detector=isolation_forest&seed=7&contamination=0.05&n_estimators=10000&max_samples=auto",
        "detector=lof&contamination=AUTO&n_neighbors=5&drop_invalid=true",
        "max_samples=0.5&drop_invalid=0&file_name=week%201.json",
        "max_samples=64&created_at_micros=1700000000000000&seed=0",
    ] {
        let r = app
            .post(&format!("/api/training/jobs?{query}"), NOT_AN_EXPORT)
            .await;
        r.error(422, "invalid_export");
    }
    // An empty body is a bad request, once the parameters have passed.
    let r = app.post("/api/training/jobs?seed=3", b"").await;
    r.error(400, "bad_request");
    assert!(app.jobs().await.is_empty());
}

#[tokio::test]
async fn api_errors_share_one_envelope() {
    let app = App::new();
    // Not found: unknown endpoints and unknown models.
    for uri in ["/api/nope", "/api", "/api/", "/api/models/2024/extra/parts"] {
        app.get(uri).await.error(404, "not_found");
    }
    app.get("/api/models/latest").await.error(404, "not_found");
    app.get("/api/models/20240101_000000")
        .await
        .error(404, "not_found");
    app.get("/api/training/jobs/0123")
        .await
        .error(404, "not_found");
    // A version that cannot be one is refused before any file is touched.
    app.get("/api/models/..%2F..%2Fetc")
        .await
        .error(400, "invalid_version");
    // Methods a route lacks: 405, with the methods it has in Allow.
    let r = app.send("PUT", "/api/models", &[], Body::empty()).await;
    let message = r.error(405, "method_not_allowed");
    assert!(message.contains("PUT"), "{message}");
    let allow = r.header(header::ALLOW).unwrap_or_default();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let r = app.send("DELETE", "/api/health", &[], Body::empty()).await;
    r.error(405, "method_not_allowed");
    assert!(r.header(header::ALLOW).is_some_and(|a| a.contains("GET")));
    // What axum rejects by itself comes in the envelope too: a path segment that is not UTF-8,
    // a query field given twice, a body over the extractor's limit.
    app.get("/api/models/%ff").await.error(400, "bad_request");
    app.get("/api/models?status=ready&status=archived")
        .await
        .error(400, "bad_request");
    let big = vec![b' '; 3 * 1024 * 1024];
    app.post("/api/models/20240101_000000/deploy", &big)
        .await
        .error(413, "payload_too_large");
    // Ours: a bad status filter, a bad force flag, a deploy body that is not the documented one.
    app.get("/api/models?status=bogus")
        .await
        .error(400, "invalid_parameter");
    app.send(
        "DELETE",
        "/api/models/20240101_000000?force=perhaps",
        &[],
        Body::empty(),
    )
    .await
    .error(400, "invalid_parameter");
    app.post("/api/models/20240101_000000/deploy", b"{\"colour\": 1}")
        .await
        .error(400, "bad_request");
    // An upload that is no model.
    let message = app
        .post("/api/models", b"{\"hello\": \"world\"}")
        .await
        .error(422, "invalid_model");
    assert!(
        !message.contains(&app.dir.path().display().to_string()),
        "{message}"
    );
}

#[tokio::test]
async fn outside_the_api_unknown_paths_are_the_web_app() {
    let app = App::new();
    for uri in [
        "/",
        "/index.html",
        "/models/20240101_000000",
        "/no/such/file.js",
    ] {
        let r = app.get(uri).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}");
        assert!(
            r.header(header::CONTENT_TYPE)
                .is_some_and(|t| t.starts_with("text/html")),
            "{uri}"
        );
        let html = r.text();
        assert!(html.contains("mcp-train-test-app"), "{uri}: {html}");
        // The marker that tells the app a server is there.
        assert!(html.contains("name=\"mcp-train-api\""), "{uri}: {html}");
    }
}

#[tokio::test]
async fn with_a_token_every_write_needs_it() {
    let app = App::with(|s| s.token = Some("s3cret".to_owned()));
    let writes: [(&str, &str); 5] = [
        ("POST", "/api/models"),
        ("POST", "/api/models/20240101_000000/deploy"),
        ("DELETE", "/api/models/20240101_000000"),
        ("POST", "/api/training/jobs?seed=1"),
        ("DELETE", "/api/training/jobs/0123"),
    ];
    for (method, uri) in writes {
        for authorization in [
            None,
            Some("Bearer nope"),
            Some("Bearer s3cret2"),
            Some("Bearer "),
            Some("Basic czNjcmV0"),
            Some("s3cret"),
            Some("Token s3cret"),
        ] {
            let headers: Vec<(&str, &str)> = authorization
                .map(|a| vec![("Authorization", a)])
                .unwrap_or_default();
            let r = app
                .send(method, uri, &headers, NOT_AN_EXPORT.to_vec())
                .await;
            r.error(401, "unauthorized");
            assert_eq!(
                r.header(header::WWW_AUTHENTICATE),
                Some("Bearer"),
                "{method} {uri} {authorization:?}"
            );
        }
    }
    // Auth comes before anything else: even bad parameters get 401, not 400.
    app.post("/api/training/jobs?seed=-1", NOT_AN_EXPORT)
        .await
        .error(401, "unauthorized");
    // With the token (the scheme in any case, spaces around it forgiven) each write gets
    // through to its handler.
    for authorization in ["Bearer s3cret", "bearer s3cret", "BEARER   s3cret "] {
        let headers = [("Authorization", authorization)];
        app.send("POST", "/api/models", &headers, NOT_AN_EXPORT.to_vec())
            .await
            .error(422, "invalid_model");
        app.send(
            "DELETE",
            "/api/models/20240101_000000",
            &headers,
            Body::empty(),
        )
        .await
        .error(404, "not_found");
        app.send(
            "POST",
            "/api/training/jobs?seed=-1",
            &headers,
            NOT_AN_EXPORT.to_vec(),
        )
        .await
        .error(400, "invalid_parameter");
    }
    // Reads stay open.
    for uri in [
        "/api/health",
        "/api/models",
        "/api/training/jobs",
        "/api/openapi.json",
        "/metrics",
        "/",
    ] {
        let r = app.get(uri).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.text());
    }
    let health = app.get("/api/health").await.json();
    assert_eq!(health["auth"], json!({ "writes": true, "reads": false }));
}

#[tokio::test]
async fn a_private_server_closes_reads_but_not_health_or_the_app() {
    let app = App::with(|s| {
        s.token = Some("tok".to_owned());
        s.private = true;
    });
    for uri in [
        "/api/models",
        "/api/models/latest",
        "/api/models/deployed",
        "/api/models/20240101_000000",
        "/api/models/20240101_000000/model",
        "/api/models/20240101_000000/package",
        "/api/training/jobs",
        "/api/training/jobs/0123/events",
        "/api/openapi.json",
        "/api/nope",
        "/metrics",
    ] {
        app.get(uri).await.error(401, "unauthorized");
        app.get_with_token(uri, "wrong")
            .await
            .error(401, "unauthorized");
    }
    for uri in ["/api/health", "/", "/index.html", "/models"] {
        let r = app.get(uri).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.text());
    }
    let health = app.get("/api/health").await.json();
    assert_eq!(health["auth"], json!({ "writes": true, "reads": true }));
    for uri in ["/api/models", "/api/training/jobs", "/metrics"] {
        let r = app.get_with_token(uri, "tok").await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.text());
    }
    app.get_with_token("/api/models/latest", "tok")
        .await
        .error(404, "not_found");
}

#[test]
fn settings_that_cannot_be_meant_are_refused_before_anything_starts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let refused = |configure: &dyn Fn(&mut ServeSettings)| {
        let mut settings = ServeSettings::new(&data);
        settings.addr = "127.0.0.1:0".parse().expect("an address");
        configure(&mut settings);
        let checked = settings.check().err();
        let served = match serve(settings) {
            Err(ServeError::Settings(e)) => Some(e),
            other => panic!("served: {other:?}"),
        };
        assert_eq!(checked, served);
        checked
    };
    assert_eq!(
        refused(&|s| s.private = true),
        Some(SettingsError::PrivateWithoutToken)
    );
    assert_eq!(
        refused(&|s| s.token = Some(" \n".to_owned())),
        Some(SettingsError::EmptyToken)
    );
    for origin in [
        "example.test",
        "ftp://example.test",
        "https://",
        "https://example.test/app",
        "https://exa mple.test",
    ] {
        assert_eq!(
            refused(&|s| s.cors_origins = vec!["*".to_owned(), origin.to_owned()]),
            Some(SettingsError::CorsOrigin {
                origin: origin.to_owned()
            }),
            "{origin}"
        );
    }
    assert!(
        !data.exists(),
        "a refused server created its data directory"
    );

    let mut fine = ServeSettings::new(&data);
    fine.token = Some("t".to_owned());
    fine.private = true;
    fine.cors_origins = ["*", "http://localhost:8080", "https://app.example.com/"]
        .map(str::to_owned)
        .to_vec();
    assert_eq!(fine.check(), Ok(()));
}

#[tokio::test]
async fn metrics_keep_their_names_labels_and_meanings() {
    let app = App::new();
    for _ in 0..3 {
        app.get("/api/models/20240101_000000").await;
    }
    app.get("/api/models/20240102_000000").await;
    app.get("/api/health").await;
    app.get("/api/no/such/thing").await;
    app.send("FOO", "/api/models", &[], Body::empty()).await;
    let model = br#"{"not": "a model"}"#;
    app.post("/api/models", model)
        .await
        .error(422, "invalid_model");
    app.post("/api/training/jobs", NOT_AN_EXPORT)
        .await
        .error(422, "invalid_export");

    let r = app.get("/metrics").await;
    assert_eq!(r.status, StatusCode::OK);
    let content_type = r.header(header::CONTENT_TYPE).unwrap_or_default();
    assert!(
        content_type.starts_with("application/openmetrics-text")
            || content_type.starts_with("text/plain"),
        "{content_type}"
    );
    let m = r.text();
    let requests = |method: &str, route: &str, status: &str| {
        metric(
            &m,
            "mcp_train_http_requests_total",
            &[
                &format!("method=\"{method}\""),
                &format!("route=\"{route}\""),
                &format!("status=\"{status}\""),
            ],
        )
    };
    // Routes are the matched patterns, so ids do not make a series each.
    assert_eq!(
        requests("GET", "/api/models/{version}", "404"),
        Some(4.0),
        "{m}"
    );
    assert_eq!(requests("GET", "/api/health", "200"), Some(1.0), "{m}");
    assert_eq!(requests("GET", "/api/{*rest}", "404"), Some(1.0), "{m}");
    assert_eq!(requests("other", "/api/models", "405"), Some(1.0), "{m}");
    assert_eq!(requests("POST", "/api/models", "422"), Some(1.0), "{m}");
    assert!(!m.contains("20240101_000000") && !m.contains("FOO"), "{m}");
    // Latencies: a histogram per method and route, counted once per request.
    let latency = |suffix: &str, extra: &[&str]| {
        let mut labels = vec!["method=\"GET\"", "route=\"/api/models/{version}\""];
        labels.extend_from_slice(extra);
        metric(
            &m,
            &format!("mcp_train_http_request_duration_seconds{suffix}"),
            &labels,
        )
    };
    assert_eq!(latency("_count", &[]), Some(4.0), "{m}");
    assert_eq!(latency("_bucket", &["le=\"+Inf\""]), Some(4.0), "{m}");
    assert!(latency("_sum", &[]).is_some_and(|s| s >= 0.0), "{m}");
    for bound in [
        "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5",
        "10.0",
    ] {
        let le = format!("le=\"{bound}\"");
        let n = latency("_bucket", &[&le]);
        assert!(n.is_some_and(|n| n <= 4.0), "no bucket {bound}:\n{m}");
    }
    // Upload bytes by route, counted as they arrive (refused uploads too).
    assert_eq!(
        metric(
            &m,
            "mcp_train_http_upload_bytes_total",
            &["route=\"/api/models\""]
        ),
        Some(model.len() as f64),
        "{m}"
    );
    assert_eq!(
        metric(
            &m,
            "mcp_train_http_upload_bytes_total",
            &["route=\"/api/training/jobs\""]
        ),
        Some(NOT_AN_EXPORT.len() as f64),
        "{m}"
    );
    // Read at scrape time: jobs of this process and models by status, bytes on disk.
    for status in ["queued", "running", "completed", "failed", "cancelled"] {
        let label = format!("status=\"{status}\"");
        assert_eq!(
            metric(&m, "mcp_train_training_jobs", &[&label]),
            Some(0.0),
            "{m}"
        );
    }
    for status in ["ready", "deployed", "archived"] {
        let label = format!("status=\"{status}\"");
        assert_eq!(metric(&m, "mcp_train_models", &[&label]), Some(0.0), "{m}");
    }
    assert!(metric(&m, "mcp_train_storage_bytes", &[]).is_some(), "{m}");
    for (name, kind) in [
        ("mcp_train_http_requests", "counter"),
        ("mcp_train_http_request_duration_seconds", "histogram"),
        ("mcp_train_http_upload_bytes", "counter"),
        ("mcp_train_training_jobs", "gauge"),
        ("mcp_train_models", "gauge"),
        ("mcp_train_storage_bytes", "gauge"),
    ] {
        assert!(
            m.contains(&format!("# TYPE {name} {kind}\n")),
            "{name}:\n{m}"
        );
        assert!(m.contains(&format!("# HELP {name} ")), "{name}:\n{m}");
    }
}

/// A small model trained on a features CSV, filed under `log_type` with version `version`.
fn model_json(log_type: &str, version: &str) -> Vec<u8> {
    use mcp_train_core::pipeline::{train, Hooks, TrainChoices, TrainInput};
    let mut csv = String::from("a,b\n");
    for i in 0..60 {
        csv.push_str(&format!("{},{}\n", i % 7, (i * 3) % 5));
    }
    let config = mcp_train_core::config::Config::defaults();
    let options = TrainChoices {
        seed: Some(1),
        ..TrainChoices::default()
    }
    .resolve(&config)
    .expect("parameters")
    .options(&config, 1_704_067_200_000_000);
    let input = TrainInput::FeaturesCsv {
        bytes: csv.as_bytes(),
        file_name: "f.csv",
        label_column: None,
    };
    let hooks = Hooks {
        progress: &mut |_| true,
        elapsed_ms: &|| 0.0,
    };
    let mut model = train(input, &options, hooks).expect("trains").artifact;
    model.log_type = log_type.to_owned();
    model.version = version.to_owned();
    model.to_json()
}

#[tokio::test]
async fn models_are_listed_deployed_and_rolled_back_per_log_type() {
    let app = App::new();
    let (w0, w1, d0) = ("20240101_000000", "20240101_000001", "20240101_000002");
    for (log_type, version) in [("wifi", w0), ("wifi", w1), ("dns", d0)] {
        let r = app
            .post("/api/models", &model_json(log_type, version))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        assert_eq!(r.json()["log_type"], log_type);
    }
    let dns = app.get("/api/models?log_type=dns").await.json();
    assert_eq!(dns["models"].as_array().map(Vec::len), Some(1), "{dns}");
    assert_eq!(dns["models"][0]["version"], d0);
    app.get("/api/models?log_type=DNS!")
        .await
        .error(400, "invalid_parameter");

    for version in [w0, w1, d0] {
        let r = app
            .post(&format!("/api/models/{version}/deploy"), b"")
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    // Deploying the dns model left the wifi one deployed: two deployed models.
    app.get("/api/models/deployed").await.error(409, "conflict");
    let wifi = app.get("/api/models/deployed?log_type=wifi").await.json();
    assert_eq!(wifi["version"], w1);

    let r = app.post("/api/models/rollback/wifi", b"").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let change = r.json();
    assert_eq!(change["model"]["version"], w0);
    assert_eq!(change["previous"]["version"], w1);
    app.post("/api/models/rollback/wifi", b"")
        .await
        .error(409, "conflict");
    app.post("/api/models/rollback/Bad%20Type", b"")
        .await
        .error(400, "invalid_parameter");
    let dns = app.get("/api/models/deployed?log_type=dns").await.json();
    assert_eq!(dns["version"], d0, "the dns model is untouched");

    let history = app.get("/api/models/history?log_type=wifi").await.json();
    let actions: Vec<&str> = history["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["rollback", "deploy", "deploy"], "{history}");
}
