//! Notifications against real peers on loopback, started here: a webhook receiver that checks
//! signatures with the reference `standardwebhooks` package, a fake Slack that answers 429 and
//! 500, and an aiosmtpd SMTP sink (plain, and STARTTLS + AUTH with a certificate made by
//! openssl). The Python packages come from scripts/tools.sh `ensure_py_tools`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcp_train::notify::{Event, Notifier, NotifyConfig, Observer};
use mcp_train_core::anomalies::StoredAnomaly;
use serde_json::{json, Value};

use super::common::server::{dist, export, metric, train, version_of, Server};
use super::common::{failure, ok, run, Work};

const SECRET: &str = "whsec_bm90aWZ5LXRlc3Qta2V5LW5ldmVyLWxvZ2dlZA==";
const SLACK_PATH: &str = "/services/T000/B000/slack-token-XYZ";

/// The venv's Python (`MCP_TRAIN_PY`, else ~/.cache/mcp-train/py).
fn python() -> PathBuf {
    let path = std::env::var_os("MCP_TRAIN_PY")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/mcp-train/py/bin/python")
        });
    assert!(
        path.is_file(),
        "{} is missing: run `. scripts/tools.sh && ensure_py_tools` (aiosmtpd, standardwebhooks)",
        path.display()
    );
    path
}

/// A peer from tests/notify_peers.py, killed when dropped.
struct Peer {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Peer {
    fn start(work: &Work, name: &str, args: &[&str]) -> Peer {
        let log = work.path(&format!("{name}.jsonl"));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/notify_peers.py");
        let mut child = Command::new(python())
            .arg(script)
            .arg(args[0])
            .arg(&log)
            .args(&args[1..])
            .stdout(Stdio::piped())
            // aiosmtpd logs every aborted handshake with a traceback (the untrusted-certificate
            // case): kept in a file next to the log.
            .stderr(std::fs::File::create(work.path(&format!("{name}.stderr"))).expect("creates"))
            .spawn()
            .expect("starts the peer");
        let out = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(out)
            .read_line(&mut line)
            .expect("reads the port");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the {name} peer did not start: {line:?}"));
        Peer { child, port, log }
    }

    fn entries(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }

    /// Waits until the peer has `n` entries.
    fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let entries = self.entries();
            if entries.len() >= n {
                return entries;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} requests at the peer, got {}: {entries:?}",
                entries.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A config directory holding `notifications.yaml`.
fn config_dir(work: &Work, name: &str, yaml: &str) -> String {
    let dir = work.path(name);
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("notifications.yaml"), yaml).expect("writes");
    dir.to_string_lossy().into_owned()
}

/// Two models (versions a < b) of a small export, trained by the CLI.
fn two_models(w: &Work) -> (Vec<u8>, Vec<u8>) {
    let e = export(w, "export.json", 300, 1);
    (
        train(w, &e, 1, 1_700_000_000),
        train(w, &e, 1, 1_700_000_060),
    )
}

fn body(entry: &Value) -> Value {
    serde_json::from_str(entry["body"].as_str().expect("body")).expect("a JSON body")
}

#[test]
fn webhook_messages_verify_with_the_reference_implementation_and_secrets_stay_out() {
    let w = Work::new();
    let hook = Peer::start(&w, "hook", &["webhook", SECRET]);
    let config = config_dir(
        &w,
        "config",
        &format!(
            "version: 1\nchannels:\n  - name: hook\n    kind: webhook\n    url: http://127.0.0.1:{}/hooks/private-path\n    secret_env: TEST_HOOK_SECRET\n    events: [model.deployed, model.rolled_back, training.completed]\n",
            hook.port
        ),
    );
    let (a, b) = two_models(&w);
    let s = Server::start_with_env(
        &w.path("data"),
        &dist(&w),
        &["--config", &config],
        &[("TEST_HOOK_SECRET", SECRET), ("RUST_LOG", "debug")],
    );
    let channels = s.get("/api/notifications/channels");
    assert_eq!(channels.status, 200, "{}", channels.text());
    let text = channels.text();
    assert!(
        !text.contains("bm90aWZ5") && !text.contains("private-path"),
        "{text}"
    );
    let c = &channels.json()["channels"][0];
    assert_eq!(
        (
            c["name"].as_str(),
            c["kind"].as_str(),
            c["destination"].as_str()
        ),
        (Some("hook"), Some("webhook"), Some("127.0.0.1")),
        "{c}"
    );
    assert_eq!(
        c["events"],
        json!(["model.deployed", "model.rolled_back", "training.completed"])
    );

    let t = s.post("/api/notifications/test/hook", b"");
    assert_eq!(t.status, 200, "{}", t.text());
    assert_eq!(t.json()["attempts"], 1);
    s.post("/api/notifications/test/nope", b"")
        .assert_error(404, "not_found");

    let (va, vb) = (version_of(&a), version_of(&b));
    assert_eq!(s.post("/api/models", &a).status, 201);
    assert_eq!(s.post("/api/models", &b).status, 201);
    assert_eq!(s.post(&format!("/api/models/{va}/deploy"), b"").status, 200);
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(s.post(&format!("/api/models/{vb}/deploy"), b"").status, 200);
    let r = s.post("/api/models/rollback/wifi", b"");
    assert_eq!(r.status, 200, "{}", r.text());
    // A training job on the server: `training.completed` names the model it registered.
    let export = std::fs::read(w.path("export.json")).expect("the export");
    let id = s.start_job("/api/training/jobs?seed=3", &export);
    let job = s.finished_job(&id, Duration::from_secs(120));
    assert_eq!(job["status"], "completed", "{job}");
    let trained = job["model"]["version"]
        .as_str()
        .expect("a model")
        .to_owned();

    let got = hook.wait_for(5, Duration::from_secs(30));
    for e in &got {
        assert_eq!(
            e["verified"], true,
            "the reference implementation refused: {e}"
        );
        assert_eq!(e["path"], "/hooks/private-path");
    }
    let bodies: Vec<Value> = got.iter().map(body).collect();
    let types: Vec<&str> = bodies.iter().filter_map(|b| b["type"].as_str()).collect();
    assert_eq!(types[0], "test");
    let mut events: Vec<(String, String, String)> = bodies[1..]
        .iter()
        .map(|b| {
            (
                b["type"].as_str().unwrap_or_default().to_owned(),
                b["data"]["version"].as_str().unwrap_or_default().to_owned(),
                b["data"]["previous"].to_string(),
            )
        })
        .collect();
    events.sort();
    assert_eq!(
        events,
        vec![
            ("model.deployed".to_owned(), va.clone(), "null".to_owned()),
            (
                "model.deployed".to_owned(),
                vb.clone(),
                json!(va).to_string()
            ),
            (
                "model.rolled_back".to_owned(),
                va.clone(),
                json!(vb).to_string()
            ),
            ("training.completed".to_owned(), trained, "null".to_owned()),
        ]
    );
    let ids: std::collections::BTreeSet<&str> = got
        .iter()
        .filter_map(|e| e["headers"]["webhook-id"].as_str())
        .collect();
    assert_eq!(ids.len(), 5, "one id per message");

    // The receiver does refuse a bad signature (the check above can fail).
    let first = &got[0];
    let forged = ureq::post(&format!(
        "http://127.0.0.1:{}/hooks/private-path",
        hook.port
    ))
    .set(
        "webhook-id",
        first["headers"]["webhook-id"].as_str().unwrap_or_default(),
    )
    .set(
        "webhook-timestamp",
        first["headers"]["webhook-timestamp"]
            .as_str()
            .unwrap_or_default(),
    )
    .set(
        "webhook-signature",
        first["headers"]["webhook-signature"]
            .as_str()
            .unwrap_or_default(),
    )
    .send_string(
        &first["body"]
            .as_str()
            .unwrap_or_default()
            .replace("test", "tset"),
    );
    assert!(
        matches!(forged, Err(ureq::Error::Status(401, _))),
        "{forged:?}"
    );
    assert_eq!(
        hook.entries().last().map(|e| e["verified"].clone()),
        Some(json!(false))
    );

    let m = s.metrics();
    assert_eq!(
        metric(
            &m,
            "mcp_train_notifications_total",
            &["channel=\"hook\"", "outcome=\"delivered\""]
        ),
        Some(5.0),
        "{m}"
    );
    let log = s.stderr();
    assert!(
        log.contains("DEBUG") || log.contains("INFO"),
        "the server logs: {log}"
    );
    assert!(
        !log.contains("bm90aWZ5") && !log.contains("private-path"),
        "a secret in the log:\n{log}"
    );
}

#[test]
fn a_fake_slack_answering_429_then_500_is_retried_honouring_retry_after() {
    let w = Work::new();
    let slack = Peer::start(&w, "slack", &["slack", "429:2,500,200"]);
    let down = Peer::start(&w, "down", &["slack", "500"]);
    let yaml = "version: 1\nretry:\n  max_attempts: 3\n  initial_backoff_ms: 100\n  max_backoff_ms: 300\nchannels:\n  - name: alerts\n    kind: slack\n    url_env: TEST_SLACK_URL\n    events: [anomalies.detected]\n";
    let config = config_dir(&w, "config", yaml);
    let url = format!("http://127.0.0.1:{}{SLACK_PATH}", slack.port);
    let out = run(
        &["notify", "test", "alerts", "--config", &config],
        &[("TEST_SLACK_URL", &url)],
    );
    let stdout = ok(&out);
    assert!(
        stdout.contains("delivered a test message through alerts (3 attempts"),
        "{stdout}"
    );
    let got = slack.entries();
    let statuses: Vec<i64> = got.iter().filter_map(|e| e["status"].as_i64()).collect();
    assert_eq!(statuses, [429, 500, 200]);
    let waited = got[1]["at"].as_f64().unwrap_or(0.0) - got[0]["at"].as_f64().unwrap_or(0.0);
    assert!(
        waited >= 1.95,
        "Retry-After: 2 was not honoured: the retry came after {waited:.2} s"
    );
    let b = body(&got[2]);
    assert_eq!(
        b["text"], "mcp-train test message for channel alerts",
        "{b}"
    );
    assert_eq!(b["blocks"][0]["type"], "section", "{b}");
    assert!(!stdout.contains("slack-token"), "{stdout}");

    // Always 500: the command fails with the cause, never the URL.
    let url = format!("http://127.0.0.1:{}{SLACK_PATH}", down.port);
    let out = run(
        &["notify", "test", "alerts", "--config", &config],
        &[("TEST_SLACK_URL", &url)],
    );
    let (code, stderr) = failure(&out);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("channel \"alerts\": not delivered after 3 attempt(s): HTTP 500"),
        "{stderr}"
    );
    assert!(!stderr.contains("slack-token"), "{stderr}");
    assert_eq!(down.entries().len(), 3);

    // `notify channels` lists it without the URL.
    let out = run(
        &["notify", "channels", "--config", &config],
        &[("TEST_SLACK_URL", &url)],
    );
    let listed = ok(&out);
    assert!(
        listed.starts_with("alerts") && listed.contains("slack") && !listed.contains("slack-token"),
        "{listed}"
    );
}

#[test]
fn a_message_slack_always_refuses_becomes_a_dead_letter_that_survives_a_restart() {
    let w = Work::new();
    let slack = Peer::start(&w, "slack", &["slack", "500"]);
    let yaml = "version: 1\nretry:\n  max_attempts: 3\n  initial_backoff_ms: 50\n  max_backoff_ms: 100\nchannels:\n  - name: alerts\n    kind: slack\n    url_env: TEST_SLACK_URL\n    events: [model.deployed]\n";
    let config = config_dir(&w, "config", yaml);
    let url = format!("http://127.0.0.1:{}{SLACK_PATH}", slack.port);
    let env = [("TEST_SLACK_URL", url.as_str())];
    let (a, _) = two_models(&w);
    let va = version_of(&a);
    let data = w.path("data");
    let s = Server::start_with_env(&data, &dist(&w), &["--config", &config], &env);
    let empty = s.get("/api/notifications/dead-letters");
    assert_eq!(empty.json()["total"], 0, "{}", empty.text());
    assert_eq!(s.post("/api/models", &a).status, 201);
    assert_eq!(s.post(&format!("/api/models/{va}/deploy"), b"").status, 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    let page = loop {
        let page = s.get("/api/notifications/dead-letters").json();
        if page["total"] == 1 {
            break page;
        }
        assert!(Instant::now() < deadline, "no dead letter: {page}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let d = &page["items"][0];
    assert_eq!(
        (d["channel"].as_str(), d["event"].as_str()),
        (Some("alerts"), Some("model.deployed")),
        "{d}"
    );
    assert_eq!(d["attempts"], 3, "{d}");
    assert!(
        d["error"]
            .as_str()
            .unwrap_or_default()
            .starts_with("HTTP 500"),
        "{d}"
    );
    assert_eq!(d["data"]["version"], va.as_str(), "{d}");
    assert_eq!(slack.entries().len(), 3);
    let m = s.metrics();
    let count = |outcome: &str| {
        metric(
            &m,
            "mcp_train_notifications_total",
            &["channel=\"alerts\"", &format!("outcome=\"{outcome}\"")],
        )
    };
    assert_eq!(
        (count("retried"), count("failed")),
        (Some(2.0), Some(1.0)),
        "{m}"
    );
    assert_eq!(
        metric(&m, "mcp_train_notification_dead_letters", &[]),
        Some(1.0),
        "{m}"
    );
    let t = s.post("/api/notifications/test/alerts", b"");
    let e = t.assert_error(502, "delivery_failed");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("HTTP 500"),
        "{e}"
    );
    s.get("/api/notifications/dead-letters?limit=0")
        .assert_error(400, "invalid_parameter");
    assert!(!s.stderr().contains("slack-token"), "{}", s.stderr());
    drop(s);

    let s = Server::start_with_env(&data, &dist(&w), &["--config", &config], &env);
    let page = s.get("/api/notifications/dead-letters").json();
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(
        metric(&s.metrics(), "mcp_train_notification_dead_letters", &[]),
        Some(1.0)
    );
}

/// A CA and a certificate for 127.0.0.1 signed by it, made by openssl.
fn certificates(w: &Work) -> (PathBuf, PathBuf, PathBuf) {
    let dir = w.path("tls");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .expect("writes");
    for args in [
        "req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=mcp-train-test-ca",
        "req -new -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj /CN=127.0.0.1",
        "x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile leaf.ext -out leaf.pem",
    ] {
        let out = Command::new("openssl")
            .args(args.split(' '))
            .current_dir(&dir)
            .output()
            .expect("openssl runs (apt-get install openssl)");
        assert!(out.status.success(), "openssl {args}: {}", String::from_utf8_lossy(&out.stderr));
    }
    (
        dir.join("ca.pem"),
        dir.join("leaf.pem"),
        dir.join("leaf.key"),
    )
}

fn email_yaml(port: u16, starttls: &str, extra: &str) -> String {
    format!(
        "version: 1\nchannels:\n  - name: mail\n    kind: email\n    smtp:\n      host: 127.0.0.1\n      port: {port}\n      starttls: {starttls}\n{extra}    from: mcp-train <mcp-train@example.test>\n    to: [oncall@example.test, second@example.test]\n    events: [training.failed]\n"
    )
}

#[test]
fn email_reaches_an_smtp_sink_in_clear_and_over_starttls_with_auth() {
    let w = Work::new();
    let plain = Peer::start(&w, "smtp", &["smtp"]);
    let config = config_dir(&w, "plain", &email_yaml(plain.port, "none", ""));
    ok(&run(&["notify", "test", "mail", "--config", &config], &[]));
    let got = plain.wait_for(1, Duration::from_secs(10));
    assert_eq!(got[0]["mail_from"], "mcp-train@example.test");
    assert_eq!(
        got[0]["rcpt_tos"],
        json!(["oncall@example.test", "second@example.test"])
    );
    let data = got[0]["data"].as_str().unwrap_or_default();
    assert!(
        data.contains("Subject: [mcp-train] mcp-train test message for channel mail"),
        "{data}"
    );
    assert_eq!(got[0]["tls"], false);

    // STARTTLS required, AUTH over it, the server's certificate checked against ca_file.
    let (ca, cert, key) = certificates(&w);
    let password = "smtp-password-never-shown";
    let tls = Peer::start(
        &w,
        "smtps",
        &[
            "smtp",
            &cert.to_string_lossy(),
            &key.to_string_lossy(),
            "mailer",
            password,
        ],
    );
    let auth = "      username_env: TEST_SMTP_USER\n      password_env: TEST_SMTP_PASSWORD\n";
    let env = [
        ("TEST_SMTP_USER", "mailer"),
        ("TEST_SMTP_PASSWORD", password),
    ];
    let with_ca = format!("      ca_file: {}\n{auth}", ca.display());
    let config = config_dir(&w, "tls", &email_yaml(tls.port, "required", &with_ca));
    let out = run(&["notify", "test", "mail", "--config", &config], &env);
    ok(&out);
    let got = tls.wait_for(1, Duration::from_secs(10));
    assert_eq!(
        (got[0]["tls"].clone(), got[0]["authenticated"].clone()),
        (json!(true), json!(true)),
        "{got:?}"
    );
    assert!(!super::common::text(&out.stderr).contains(password));

    // Without the CA the certificate is not trusted: the command fails and says why.
    let config = config_dir(&w, "untrusted", &email_yaml(tls.port, "required", auth));
    let out = run(&["notify", "test", "mail", "--config", &config], &env);
    let (code, stderr) = failure(&out);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("not delivered") && stderr.to_lowercase().contains("certificate"),
        "{stderr}"
    );
    assert!(!stderr.contains(password), "{stderr}");
    // A plain server refuses nothing, but STARTTLS required refuses to send in clear text.
    let config = config_dir(&w, "required", &email_yaml(plain.port, "required", ""));
    let (code, stderr) = failure(&run(&["notify", "test", "mail", "--config", &config], &[]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        plain.entries().len(),
        1,
        "an email went out without STARTTLS"
    );
}

#[derive(Debug, Default)]
struct Recorded(Mutex<Vec<(String, &'static str)>>);

impl Observer for Recorded {
    fn attempt(&self, channel: &str, outcome: &'static str) {
        self.0
            .lock()
            .expect("lock")
            .push((channel.to_owned(), outcome));
    }
    fn dead_letters(&self, _: usize) {}
}

fn anomaly(log_type: &str, decision: f64, i: usize) -> StoredAnomaly {
    let a = json!({
        "entry": {"index": i, "timestamp": "2026-12-04T03:00:00.000000Z", "log_type": log_type,
                  "host": "ap-7", "process": "dnsmasq", "level": "INFO",
                  "message": format!("query[A] host{i}.example from 10.0.0.{}", i % 250),
                  "fields": [["client", format!("10.0.0.{}", i % 250)]]},
        "agent": log_type,
        "inference": {"score": -0.5, "decision": decision, "is_anomaly": true, "model_version": "20261204_030000"},
        "contributions": []
    });
    let mut s = StoredAnomaly::new(
        serde_json::from_value(a).expect("an anomaly"),
        1_796_000_000_000_000,
    );
    s.id = i as i64 + 1;
    s
}

#[test]
fn anomalies_are_grouped_per_log_type_above_the_score_and_rate_limited() {
    let w = Work::new();
    let hook = Peer::start(&w, "hook", &["webhook", SECRET]);
    let yaml = format!(
        "version: 1\nanomalies:\n  window_seconds: 1\n  min_score: 60\n  max_samples: 3\nchannels:\n  - name: hook\n    kind: webhook\n    url: http://127.0.0.1:{}/a\n    secret_env: S\n    events: [anomalies.detected]\n    rate_limit:\n      max_messages: 2\n      window_seconds: 3\n",
        hook.port
    );
    let config = NotifyConfig::from_yaml(&yaml, Path::new("notifications.yaml"), &|n| {
        (n == "S").then(|| SECRET.to_owned())
    })
    .expect("parses");
    let observer = Arc::new(Recorded::default());
    let notifier =
        Notifier::start(config, Some(&w.path("data")), observer.clone()).expect("starts");
    // 200 dns anomalies in 5 calls, risk scores 50 + 0.2 × i (60 and above: i ≥ 50), and 4 wifi.
    let dns: Vec<StoredAnomaly> = (0..200)
        .map(|i| anomaly("dns", -(i as f64) * 0.002, i))
        .collect();
    for chunk in dns.chunks(40) {
        notifier.anomalies("dns", chunk);
    }
    let wifi: Vec<StoredAnomaly> = (0..4).map(|i| anomaly("wifi", -0.3, 1000 + i)).collect();
    notifier.anomalies("wifi", &wifi);
    notifier.anomalies("wifi", &[anomaly("wifi", 0.05, 2000)]); // risk 45: not sent
    let got = hook.wait_for(2, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(hook.entries().len(), 2, "one message per log type");
    let mut bodies: Vec<Value> = got.iter().map(body).collect();
    bodies.sort_by_key(|b| {
        b["data"]["log_type"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    });
    assert!(got.iter().all(|e| e["verified"] == true));
    let d = &bodies[0]["data"];
    assert_eq!(
        (d["log_type"].as_str(), d["count"].as_u64()),
        (Some("dns"), Some(150)),
        "{d}"
    );
    let top: Vec<f64> = d["samples"]
        .as_array()
        .expect("samples")
        .iter()
        .filter_map(|s| s["score"].as_f64())
        .collect();
    assert_eq!(top, [89.8, 89.6, 89.4], "{d}");
    assert_eq!(d["samples"][0]["severity"], 4);
    assert_eq!(d["suppressed"], 0);
    assert_eq!(bodies[0]["type"], "anomalies.detected");
    let w1 = &bodies[1]["data"];
    assert_eq!(
        (w1["log_type"].as_str(), w1["count"].as_u64()),
        (Some("wifi"), Some(4)),
        "{w1}"
    );

    // The channel's limit (2 per 3 s) is reached: the next group is suppressed, and the first
    // message after the window says so.
    let first = Instant::now();
    notifier.anomalies("dns", &dns[100..110]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !observer
        .0
        .lock()
        .expect("lock")
        .iter()
        .any(|(_, o)| *o == "suppressed")
    {
        assert!(
            Instant::now() < deadline,
            "nothing suppressed: {:?}",
            observer.0.lock()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(hook.entries().len(), 2);
    std::thread::sleep(Duration::from_secs(3).saturating_sub(first.elapsed()));
    notifier.anomalies("dns", &dns[190..200]);
    let got = hook.wait_for(3, Duration::from_secs(10));
    let d = body(&got[2]);
    assert_eq!(
        (
            d["data"]["count"].as_u64(),
            d["data"]["suppressed"].as_u64()
        ),
        (Some(10), Some(1)),
        "{d}"
    );
    let outcomes: Vec<&str> = observer
        .0
        .lock()
        .expect("lock")
        .iter()
        .map(|(_, o)| *o)
        .collect();
    assert_eq!(
        outcomes,
        ["delivered", "delivered", "suppressed", "delivered"]
    );

    // An event nobody subscribes to is not sent.
    notifier.event(Event::ModelDeployed {
        log_type: "dns".into(),
        version: "v".into(),
        previous: None,
    });
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(hook.entries().len(), 3);
}

#[test]
fn a_bad_notifications_file_names_the_file_and_the_line_or_field() {
    let w = Work::new();
    let config = config_dir(
        &w,
        "bad",
        "version: 1\nchannels:\n  - name: x\n    kind: pager\n",
    );
    let (code, stderr) = failure(&run(&["notify", "channels", "--config", &config], &[]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("notifications.yaml") && stderr.contains("line 4"),
        "{stderr}"
    );
    let config = config_dir(
        &w,
        "env",
        "version: 1\nchannels:\n  - name: alerts\n    kind: slack\n    url_env: NOT_SET_ANYWHERE_42\n    events: [model.deployed]\n",
    );
    let (code, stderr) = failure(&run(
        &["notify", "test", "alerts", "--config", &config],
        &[],
    ));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "channels[0] (alerts).url_env: the environment variable NOT_SET_ANYWHERE_42 is not set"
        ),
        "{stderr}"
    );
    // The server refuses to start with it, saying the same.
    let out = run(
        &[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--data-dir",
            &w.s("data"),
            "--config",
            &config,
        ],
        &[],
    );
    let (code, stderr) = failure(&out);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("NOT_SET_ANYWHERE_42"), "{stderr}");
}
