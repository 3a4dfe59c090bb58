//! The anomaly store end to end: a real `mcp-train serve` ingesting raw logs over HTTP (what it
//! stores equals what `mcp-train detect` finds on the same file), the review lifecycle with its
//! audit trail, every filter and cursor pagination over HTTP and the CLI, readers while a big
//! ingestion runs, and a restart (even after SIGKILL) keeping everything.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{json, Value};

use crate::common::server::{dist, post_chunked, Server};
use crate::common::{ok, run, stdout_json, Work};

/// Raw syslog lines of an export's records (`ISO-8601 host process[pid]: message`), with
/// `bad` lines that no agent reads inserted after every 500th line.
fn raw_log(export: &str, bad: &str) -> String {
    let doc = crate::common::json(Path::new(export));
    let mut out = String::new();
    for (i, r) in doc["data"].as_array().expect("data").iter().enumerate() {
        let host = r["device_id"]
            .as_str()
            .or(r["host"].as_str())
            .unwrap_or("gw");
        out.push_str(&format!(
            "{} {host} {}[42]: {}\n",
            r["timestamp"].as_str().expect("timestamp"),
            r["process_name"].as_str().expect("process"),
            r["message"].as_str().expect("message"),
        ));
        if i % 500 == 499 {
            out.push_str(bad);
            out.push('\n');
        }
    }
    out
}

/// A data directory with a model deployed for `log_type`, and a raw log of that type
/// (`records` lines plus bad ones); returns (data dir, raw log path).
fn deployed(w: &Work, log_type: &str, records: &str) -> (String, String) {
    let export = w.s(&format!("{log_type}.json"));
    ok(&run(
        &[
            "synth",
            "--log-type",
            log_type,
            "--records",
            records,
            "--seed",
            "7",
            "--out",
            &export,
            "-q",
        ],
        &[],
    ));
    let data = w.s(&format!("data-{log_type}"));
    let summary = stdout_json(&run(
        &[
            "train",
            &export,
            "--seed",
            "3",
            "--out",
            &w.s(&format!("{log_type}-model.json")),
            "--register",
            "--registry",
            &data,
            "--json",
            "-q",
        ],
        &[("SOURCE_DATE_EPOCH", "1700000000")],
    ));
    let version = summary["registered"]["record"]["version"]
        .as_str()
        .expect("version")
        .to_owned();
    ok(&run(
        &["models", "--registry", &data, "deploy", &version],
        &[],
    ));
    let raw = w.path(&format!("{log_type}.log"));
    std::fs::write(&raw, raw_log(&export, "this is not a log line")).expect("writes");
    (data, raw.to_string_lossy().into_owned())
}

/// What identifies a found anomaly, ids aside: the entry, the model and its verdict.
fn key(anomaly: &Value) -> String {
    let e = &anomaly["entry"];
    format!(
        "{}|{}|{}|{}|{}|{}",
        e["timestamp"],
        e["host"],
        e["process"],
        e["message"],
        anomaly["inference"]["decision"],
        anomaly["inference"]["model_version"]
    )
}

/// Which anomalies a filter case keeps.
type Keep = Box<dyn Fn(&Value) -> bool>;

/// Every stored anomaly over HTTP, walking the cursor (`query` without `cursor`).
fn all_pages(s: &Server, query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/anomalies?{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let reply = s.get(&path);
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        let page = reply.json();
        items.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return items,
        }
    }
}

/// Every stored anomaly through `mcp-train anomalies list --json`, walking the cursor.
fn all_pages_cli(data: &str, flags: &[&str]) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut args = vec![
            "anomalies",
            "list",
            "--data-dir",
            data,
            "--json",
            "--limit",
            "7",
        ];
        args.extend_from_slice(flags);
        if let Some(c) = &cursor {
            args.extend_from_slice(&["--cursor", c]);
        }
        let page = stdout_json(&run(&args, &[]));
        items.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return items,
        }
    }
}

fn ids(items: &[Value]) -> Vec<i64> {
    items
        .iter()
        .map(|a| a["id"].as_i64().expect("id"))
        .collect()
}

/// Ingests the raw log over HTTP (chunked, streamed); returns the ingest report.
fn ingest(s: &Server, log_type: &str, raw: &str) -> Value {
    let body = std::fs::read(raw).expect("reads the log");
    let reply = post_chunked(s, &format!("/api/logs/{log_type}"), body).expect("posts");
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

/// [dns, wifi] What the server stores from a raw log posted over HTTP is what `detect` finds in
/// the same file (and stores with `--store`): nothing lost, nothing added. Bad lines are named
/// by line and column, and the lines around them still scored.
#[test]
fn ingestion_stores_what_detect_finds() {
    let w = Work::new();
    for log_type in ["dns", "wifi"] {
        let (data, raw) = deployed(&w, log_type, "3000");
        let cli_store = w.s(&format!("cli-{log_type}"));
        let detect = run(
            &[
                "detect",
                "--registry",
                &data,
                "--log-type",
                log_type,
                &raw,
                "--store",
                &cli_store,
            ],
            &[],
        );
        let found: Vec<Value> = ok(&detect)
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect();
        assert!(!found.is_empty(), "{log_type}: detect found nothing");
        let expected: BTreeSet<String> = found.iter().map(key).collect();

        let s = Server::start(Path::new(&data), &dist(&w), &[]);
        let report = ingest(&s, log_type, &raw);
        assert_eq!(report["log_type"], log_type);
        assert_eq!(report["lines"], 3006, "{report}");
        assert_eq!(report["scored"], 3000, "{report}");
        assert_eq!(report["invalid"], 6, "{report}");
        assert_eq!(report["anomalies"], found.len() as u64, "{report}");
        let errors = report["errors"].as_array().expect("errors");
        assert_eq!(errors.len(), 6);
        assert_eq!(errors[0]["line"], 501, "{report}");
        assert_eq!(errors[0]["column"], 1, "{report}");
        assert_eq!(errors[1]["line"], 1002, "{report}");

        let stored = all_pages(&s, &format!("log_type={log_type}&limit=97"));
        let got: BTreeSet<String> = stored.iter().map(|a| key(&a["anomaly"])).collect();
        assert_eq!(stored.len(), found.len(), "{log_type}: one row per anomaly");
        assert_eq!(
            got, expected,
            "{log_type}: the server stores what detect finds"
        );
        // detect --store kept the same anomalies.
        let cli: BTreeSet<String> = all_pages_cli(&cli_store, &[])
            .iter()
            .map(|a| key(&a["anomaly"]))
            .collect();
        assert_eq!(cli, expected, "{log_type}: detect --store");
        // The derived columns are the contract's.
        for a in &stored {
            assert_eq!(a["status"], "new");
            assert_eq!(a["log_type"], log_type);
            let score = a["score"].as_f64().expect("score");
            assert!((50.0..=100.0).contains(&score), "{a}");
        }
        let metrics = s.metrics();
        let scored = crate::common::server::metric(
            &metrics,
            "mcp_train_ingested_lines_total",
            &[&format!("log_type=\"{log_type}\""), "outcome=\"scored\""],
        );
        assert_eq!(scored, Some(3000.0), "{metrics}");
        let gauge = crate::common::server::metric(
            &metrics,
            "mcp_train_anomalies",
            &[&format!("log_type=\"{log_type}\""), "status=\"new\""],
        );
        assert_eq!(gauge, Some(found.len() as f64));
    }
}

/// Ingestion refuses what it cannot score, with the documented codes.
#[test]
fn ingestion_refusals() {
    let w = Work::new();
    let (data, _) = deployed(&w, "dns", "1500");
    let s = Server::start(Path::new(&data), &dist(&w), &[]);
    s.post("/api/logs/nosuchtype", b"x\n")
        .assert_error(400, "invalid_parameter");
    s.post("/api/logs/wifi", b"x\n")
        .assert_error(404, "no_deployed_model");
    s.post("/api/logs/dns?colour=red", b"x\n")
        .assert_error(400, "bad_request");
    // NDJSON export records are read too; a record with a bad field is named.
    let report = s
        .post(
            "/api/logs/dns",
            b"{\"timestamp\": \"not a time\", \"process_name\": \"dnsmasq\", \"message\": \"query[A] a.example from 192.168.1.2\", \"level\": \"INFO\"}\n",
        )
        .json();
    assert_eq!(report["invalid"], 1, "{report}");
}

/// The review lifecycle over HTTP and the CLI, with its audit trail; every filter and cursor
/// pagination over HTTP and the CLI agree with the filter applied to the whole list.
#[test]
fn lifecycle_filters_and_pages() {
    let w = Work::new();
    let (data, raw) = deployed(&w, "dns", "3000");
    let s = Server::start(Path::new(&data), &dist(&w), &[]);
    ingest(&s, "dns", &raw);
    let all = all_pages(&s, "limit=1000");
    assert!(all.len() > 20, "{} anomalies", all.len());
    assert!(ids(&all).windows(2).all(|w| w[0] > w[1]), "newest first");
    let paged = all_pages(&s, "limit=7");
    assert_eq!(ids(&paged), ids(&all), "pages of 7 add up to the list");

    let first = all[0]["id"].as_i64().expect("id");
    let second = all[1]["id"].as_i64().expect("id");
    let path = format!("/api/anomalies/{first}/status");
    let acked = s.post_json(
        &path,
        &json!({"status": "acknowledged", "by": "ana", "note": "looking"}),
    );
    assert_eq!(acked.status, 200, "{}", acked.text());
    let resolved = s
        .post_json(
            &path,
            &json!({"status": "resolved", "by": "ana", "note": "blocked the client"}),
        )
        .json();
    assert_eq!(resolved["status"], "resolved");
    s.post_json(&path, &json!({"status": "resolved"}))
        .assert_error(409, "invalid_transition");
    s.post_json(&path, &json!({"status": "new"}))
        .assert_error(409, "invalid_transition");
    s.post_json(
        "/api/anomalies/999999/status",
        &json!({"status": "resolved"}),
    )
    .assert_error(404, "not_found");
    s.get("/api/anomalies/abc")
        .assert_error(400, "invalid_parameter");
    let detail = s.get(&format!("/api/anomalies/{first}")).json();
    let trail: Vec<(Value, Value, Value, Value)> = detail["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|e| {
            (
                e["by"].clone(),
                e["from"].clone(),
                e["to"].clone(),
                e["note"].clone(),
            )
        })
        .collect();
    assert_eq!(
        trail,
        [
            (json!("ingest"), Value::Null, json!("new"), Value::Null),
            (
                json!("ana"),
                json!("new"),
                json!("acknowledged"),
                json!("looking")
            ),
            (
                json!("ana"),
                json!("acknowledged"),
                json!("resolved"),
                json!("blocked the client")
            ),
        ]
    );
    // The CLI: a verdict by someone else, a bad move refused, the same trail shown.
    let second_id = second.to_string();
    ok(&run(
        &[
            "anomalies",
            "false-positive",
            &second_id,
            "--data-dir",
            &data,
            "--note",
            "backup job",
        ],
        &[("USER", "bob")],
    ));
    let bad = run(
        &[
            "anomalies",
            "false-positive",
            &second_id,
            "--data-dir",
            &data,
            "--by",
            "bob",
        ],
        &[],
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(crate::common::text(&bad.stderr).contains("cannot become false_positive"));
    ok(&run(
        &[
            "anomalies",
            "reopen",
            &second_id,
            "--data-dir",
            &data,
            "--by",
            "carol",
        ],
        &[],
    ));
    let shown = stdout_json(&run(
        &[
            "anomalies",
            "show",
            &second_id,
            "--data-dir",
            &data,
            "--json",
        ],
        &[],
    ));
    let by: Vec<&str> = shown["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|e| e["by"].as_str().expect("by"))
        .collect();
    assert_eq!(by, ["ingest", "bob", "carol"]);
    assert_eq!(shown["status"], "acknowledged");
    assert_eq!(
        s.get(&format!("/api/anomalies/{second}")).json()["history"],
        shown["history"]
    );

    // Every filter: HTTP and CLI select what the filter selects in the whole list.
    let all = all_pages(&s, "limit=1000");
    let sample = &all[all.len() / 2];
    let device = sample["device"].as_str().unwrap_or("gw").to_owned();
    let client = all
        .iter()
        .find_map(|a| a["client"].as_str())
        .expect("an anomaly with a client")
        .to_owned();
    let version = sample["model_version"]
        .as_str()
        .expect("version")
        .to_owned();
    let mut times: Vec<&str> = all
        .iter()
        .map(|a| a["anomaly"]["entry"]["timestamp"].as_str().expect("time"))
        .collect();
    times.sort();
    let (from, to) = (
        times[times.len() / 4].to_owned(),
        times[times.len() * 3 / 4].to_owned(),
    );
    let cases: Vec<(&str, String, Keep)> = vec![
        (
            "log_type",
            "dns".into(),
            Box::new(|a: &Value| a["log_type"] == "dns"),
        ),
        (
            "status",
            "resolved".into(),
            Box::new(|a: &Value| a["status"] == "resolved"),
        ),
        (
            "status",
            "new".into(),
            Box::new(|a: &Value| a["status"] == "new"),
        ),
        (
            "device",
            device.clone(),
            Box::new(move |a: &Value| a["device"] == device.as_str()),
        ),
        (
            "client",
            client.clone(),
            Box::new(move |a: &Value| a["client"] == client.as_str()),
        ),
        (
            "model_version",
            version.clone(),
            Box::new(move |a: &Value| a["model_version"] == version.as_str()),
        ),
        (
            "min_score",
            "56".into(),
            Box::new(|a: &Value| a["score"].as_f64().expect("score") >= 56.0),
        ),
        ("from", from.clone(), {
            let from = from.clone();
            Box::new(move |a: &Value| {
                a["anomaly"]["entry"]["timestamp"].as_str().expect("t") >= from.as_str()
            })
        }),
        ("to", to.clone(), {
            let to = to.clone();
            Box::new(move |a: &Value| {
                a["anomaly"]["entry"]["timestamp"].as_str().expect("t") < to.as_str()
            })
        }),
    ];
    for (key, value, keep) in &cases {
        let want: Vec<i64> = ids(&all.iter().filter(|a| keep(a)).cloned().collect::<Vec<_>>());
        assert!(
            !want.is_empty(),
            "{key}={value} selects nothing: a weak case"
        );
        let encoded: String = value.replace(':', "%3A").replace('+', "%2B");
        let http = all_pages(&s, &format!("{key}={encoded}&limit=5"));
        assert_eq!(ids(&http), want, "HTTP {key}={value}");
        let flag = format!("--{}", key.replace('_', "-"));
        let cli = all_pages_cli(&data, &[&flag, value]);
        assert_eq!(ids(&cli), want, "CLI {flag} {value}");
    }
    let both = all_pages(&s, "status=resolved&log_type=dns");
    assert_eq!(ids(&both), [first]);
    // Bad filters and cursors are named.
    for bad in [
        "min_score=101",
        "status=open",
        "colour=red",
        "cursor=xyz",
        "limit=0",
        "from=yesterday",
    ] {
        let reply = s.get(&format!("/api/anomalies?{bad}"));
        let body = reply.assert_error(400, "invalid_parameter");
        let key = bad.split('=').next().expect("key");
        assert!(
            body["error"]["message"]
                .as_str()
                .expect("message")
                .contains(key)
                || key == "cursor",
            "{body}"
        );
    }
    let summary = s.get("/api/anomalies/summary").json();
    let total: u64 = summary["counts"]
        .as_array()
        .expect("counts")
        .iter()
        .map(|c| c["count"].as_u64().expect("count"))
        .sum();
    assert_eq!(total, all.len() as u64);
}

/// The browser's findings are stored with who saved them; too many at once are refused.
#[test]
fn posted_findings_are_stored() {
    let w = Work::new();
    let (data, raw) = deployed(&w, "dns", "1500");
    let found: Vec<Value> = ok(&run(
        &["detect", "--registry", &data, "--log-type", "dns", &raw],
        &[],
    ))
    .lines()
    .map(|l| serde_json::from_str(l).expect("JSON"))
    .collect();
    let s = Server::start(Path::new(&data), &dist(&w), &[]);
    let reply = s.post_json(
        "/api/anomalies",
        &json!({"anomalies": found, "by": "browser"}),
    );
    assert_eq!(reply.status, 201, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["stored"], found.len() as u64);
    let stored = all_pages(&s, "limit=1000");
    let keys: BTreeSet<String> = stored.iter().map(|a| key(&a["anomaly"])).collect();
    assert_eq!(keys, found.iter().map(key).collect::<BTreeSet<_>>());
    let id = body["ids"][0].as_i64().expect("id");
    assert_eq!(
        s.get(&format!("/api/anomalies/{id}")).json()["history"][0]["by"],
        "browser"
    );
    let mut bad = found[0].clone();
    bad["entry"]["log_type"] = json!("nosuch");
    s.post_json("/api/anomalies", &json!({"anomalies": [bad]}))
        .assert_error(400, "invalid_parameter");
}

/// Readers are served while a big ingestion runs, and a server killed with SIGKILL comes back
/// with everything it had answered as stored.
#[test]
fn readers_during_ingestion_and_a_restart_keep_the_data() {
    let w = Work::new();
    let (data, raw) = deployed(&w, "dns", "20000");
    let dist = dist(&w);
    let mut s = Server::start(Path::new(&data), &dist, &[]);
    let report = std::thread::scope(|scope| {
        let ingesting = scope.spawn(|| ingest(&s, "dns", &raw));
        let mut reads = 0;
        while !ingesting.is_finished() {
            let page = s.get("/api/anomalies?limit=50");
            assert_eq!(page.status, 200, "{}", page.text());
            assert_eq!(s.get("/api/anomalies/summary").status, 200);
            reads += 1;
        }
        eprintln!("{reads} reads while ingesting");
        ingesting.join().expect("ingests")
    });
    let before = all_pages(&s, "limit=1000");
    assert_eq!(
        before.len() as u64,
        report["anomalies"].as_u64().expect("n")
    );
    let id = before[0]["id"].as_i64().expect("id");
    let acked = s.post_json(
        &format!("/api/anomalies/{id}/status"),
        &json!({"status": "acknowledged"}),
    );
    assert_eq!(acked.status, 200);
    s.kill();
    let s = Server::start(Path::new(&data), &dist, &[]);
    let after = all_pages(&s, "limit=1000");
    assert_eq!(after.len(), before.len());
    assert_eq!(
        s.get(&format!("/api/anomalies/{id}")).json()["status"],
        "acknowledged"
    );
}

/// Analysts' verdicts close the loop: `evaluate --feedback` takes them as labels (and says how
/// many records it relabelled), `train --feedback` leaves confirmed anomalies out.
#[test]
fn feedback_changes_evaluation_labels_and_training() {
    let w = Work::new();
    let (data, _) = deployed(&w, "dns", "3000");
    let export = w.s("dns.json");
    let model = w.s("dns-model.json");
    let store = w.s("reviews");
    ok(&run(
        &[
            "detect",
            "--registry",
            &data,
            "--log-type",
            "dns",
            &export,
            "--store",
            &store,
        ],
        &[],
    ));
    let stored = all_pages_cli(&store, &[]);
    // Verdicts that contradict the data's labels, so that they visibly change the metrics.
    let normal: Vec<String> = stored
        .iter()
        .filter(|a| a["anomaly"]["entry"]["label"] == false)
        .map(|a| a["id"].to_string())
        .take(10)
        .collect();
    let attacks: Vec<String> = stored
        .iter()
        .filter(|a| a["anomaly"]["entry"]["label"] == true)
        .map(|a| a["id"].to_string())
        .take(10)
        .collect();
    assert!(
        !normal.is_empty() && !attacks.is_empty(),
        "{} stored",
        stored.len()
    );
    let mut resolve = vec!["anomalies", "resolve", "--data-dir", &store, "--by", "ana"];
    resolve.extend(normal.iter().map(String::as_str));
    ok(&run(&resolve, &[]));
    let mut fp = vec![
        "anomalies",
        "false-positive",
        "--data-dir",
        &store,
        "--by",
        "ana",
    ];
    fp.extend(attacks.iter().map(String::as_str));
    ok(&run(&fp, &[]));
    // Unreviewed anomalies give no labels.
    let without = stdout_json(&run(&["evaluate", &model, &export, "--json"], &[]));
    let with = run(
        &["evaluate", &model, &export, "--json", "--feedback", &store],
        &[],
    );
    let with_json: Value = serde_json::from_str(&ok(&with)).expect("JSON");
    let stderr = crate::common::text(&with.stderr);
    let relabelled = normal.len() + attacks.len();
    assert!(
        stderr.contains(&format!(
            "feedback: {relabelled} records labelled by {relabelled} analyst verdicts"
        )),
        "{stderr}"
    );
    assert_ne!(
        with_json["metrics"], without["metrics"],
        "verdicts change the metrics"
    );
    // Training leaves out what analysts confirmed as anomalies (the resolved ones).
    let trained = run(
        &[
            "train",
            &export,
            "--seed",
            "3",
            "--out",
            &w.s("fb-model.json"),
            "--json",
            "-q",
            "--feedback",
            &store,
        ],
        &[],
    );
    let summary: Value = serde_json::from_str(&ok(&trained)).expect("JSON");
    assert_eq!(
        summary["feedback_excluded"],
        normal.len() as u64,
        "{summary}"
    );
    assert_eq!(
        summary["lineage"]["records"],
        3000 - normal.len() as u64,
        "{summary}"
    );
    let missing = run(
        &["evaluate", &model, &export, "--feedback", &w.s("nothing")],
        &[],
    );
    assert!(crate::common::failure(&missing)
        .1
        .contains("no anomaly store"));
}
