//! Anomaly export jobs over real HTTP against a real `mcp-train serve` (and the CLI): every
//! format's content against the store, filters, progress events, cancel, history and SHA-256,
//! expiry, and `kill -9` in the middle of an export.

use std::path::Path;
use std::time::{Duration, Instant};

use mcp_train::store::AnomalyStore;
use mcp_train_core::anomalies::{AnomalyFilter, AnomalyStatus, StatusChange, StoredAnomaly};
use serde_json::{json, Value};

use crate::common;
use crate::openapi::Document;
use common::server::{dist, sha256, Server};
use common::{ok, run, Work};

/// Stores `count` synthetic anomalies in `data` (the hidden `anomalies seed`).
fn seed(data: &Path, count: u64) {
    ok(&run(
        &[
            "anomalies",
            "seed",
            "--count",
            &count.to_string(),
            "--data-dir",
            &data.to_string_lossy(),
        ],
        &[],
    ));
}

/// Every stored anomaly `filter` selects, id ascending, read from the store itself.
fn stored(data: &Path, filter: &AnomalyFilter) -> Vec<StoredAnomaly> {
    let store = AnomalyStore::open(data).expect("opens the store");
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let batch = store.scan(filter, after, 5000).expect("scans");
        let Some(last) = batch.last() else { break };
        after = last.id;
        all.extend(batch);
    }
    all
}

/// Starts an export, expects 202; returns the job.
fn start(s: &Server, body: &Value) -> Value {
    let r = s.post_json("/api/exports", body);
    assert_eq!(r.status, 202, "{}", r.text());
    let job = r.json();
    assert_eq!(job["status"], "queued", "{job}");
    assert!(job["id"].is_string());
    job
}

/// Polls the job until its status is one of `statuses`.
fn wait(s: &Server, id: &str, statuses: &[&str], timeout: Duration) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let r = s.get(&format!("/api/exports/{id}"));
        assert_eq!(r.status, 200, "{}", r.text());
        let job = r.json();
        if statuses.iter().any(|st| job["status"] == *st) {
            return job;
        }
        assert!(
            Instant::now() < deadline,
            "export {id} never reached {statuses:?}: {job}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Follows the job's events to the end; asserts progress only grows and the end is `status`.
fn follow(s: &Server, id: &str, status: &str) -> Value {
    let events = s.events(&format!("/api/exports/{id}/events"));
    let mut rows = 0;
    for (name, job) in &events {
        assert!(name == "progress" || name == "done", "{name}");
        let now = job["rows"].as_u64().expect("rows");
        assert!(now >= rows, "progress went back: {events:?}");
        rows = now;
    }
    let (name, last) = events.last().expect("at least one event");
    assert_eq!(name, "done");
    assert_eq!(last["status"], status, "{last}");
    last.clone()
}

/// Downloads a completed export; checks the headers against the job; returns the bytes.
fn download(s: &Server, job: &Value) -> Vec<u8> {
    let id = job["id"].as_str().expect("id");
    let r = s.get(&format!("/api/exports/{id}/download"));
    assert_eq!(r.status, 200, "{}", r.text());
    let sha = job["sha256"]
        .as_str()
        .expect("a completed job has its sha256");
    assert_eq!(sha256(&r.body), sha, "the history's SHA-256 is the file's");
    assert_eq!(r.body.len() as u64, job["bytes"].as_u64().expect("bytes"));
    assert_eq!(
        r.header("content-length").map(str::to_owned),
        Some(r.body.len().to_string())
    );
    assert_eq!(
        r.header("etag").map(str::to_owned),
        Some(format!("\"sha256-{sha}\""))
    );
    assert!(r
        .header("repr-digest")
        .is_some_and(|d| d.starts_with("sha-256=:")));
    let disposition = r
        .header("content-disposition")
        .expect("Content-Disposition");
    let name = job["file_name"].as_str().expect("file_name");
    assert_eq!(disposition, format!("attachment; filename=\"{name}\""));
    r.body
}

fn lines(bytes: &[u8]) -> Vec<Value> {
    std::str::from_utf8(bytes)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// Files in `data/exports`.
fn files(data: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data.join("exports"))
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn every_format_matches_the_store_and_its_history_entry() {
    let work = Work::new();
    let data = work.path("data");
    seed(&data, 2500);
    {
        // Reviews, so that the statuses in the exports vary.
        let store = AnomalyStore::open(&data).unwrap();
        for (id, status) in [
            (2, AnomalyStatus::Acknowledged),
            (3, AnomalyStatus::Resolved),
            (4, AnomalyStatus::FalsePositive),
        ] {
            let change = StatusChange {
                status,
                note: Some("checked".to_owned()),
                by: Some("alice".to_owned()),
            };
            store
                .change_status(id, &change, 1_796_400_000_000_000)
                .unwrap();
        }
    }
    let s = Server::start(&data, &dist(&work), &[]);
    let doc = Document::fetch(&s);
    let all = stored(&data, &AnomalyFilter::default());
    assert_eq!(all.len(), 2500);

    let mut ids = Vec::new();
    for format in ["ndjson", "csv", "ecs", "ocsf"] {
        let job = start(&s, &json!({"format": format, "by": "alice"}));
        let id = job["id"].as_str().unwrap().to_owned();
        let done = follow(&s, &id, "completed");
        assert_eq!(done["rows"], 2500, "{done}");
        assert_eq!(done["total"], 2500, "{done}");
        assert_eq!(done["by"], "alice");
        assert_eq!(done["format"], format);
        assert!(done["expires_at"].is_string() && done["finished_at"].is_string());
        let body = download(&s, &done);
        let path = "/api/exports/{id}";
        doc.check("get", path, &s.get(&format!("/api/exports/{id}")));
        doc.check(
            "get",
            "/api/exports/{id}/download",
            &s.get(&format!("/api/exports/{id}/download")),
        );
        doc.check(
            "post",
            "/api/exports/{id}/cancel",
            &s.post(&format!("/api/exports/{id}/cancel"), b""),
        );
        match format {
            "ndjson" => {
                let back: Vec<StoredAnomaly> = std::str::from_utf8(&body)
                    .unwrap()
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect();
                assert_eq!(back, all, "the NDJSON export is the store's list");
            }
            "csv" => {
                let mut reader = csv::Reader::from_reader(body.as_slice());
                let header = reader.headers().unwrap().clone();
                assert_eq!(&header[0], "id");
                let col = |name: &str| header.iter().position(|h| h == name).unwrap();
                let records: Vec<csv::StringRecord> =
                    reader.records().map(|r| r.unwrap()).collect();
                assert_eq!(records.len(), all.len());
                for (record, a) in records.iter().zip(&all) {
                    assert_eq!(record[col("id")].parse::<i64>().unwrap(), a.id);
                    assert_eq!(&record[col("status")], a.status.as_str());
                    assert_eq!(record[col("score")].parse::<f64>().unwrap(), a.score);
                    assert_eq!(&record[col("message")], a.anomaly.entry.message);
                    assert_eq!(&record[col("log_type")], a.log_type);
                    assert_eq!(Some(&record[col("device")]), a.device.as_deref());
                }
            }
            "ecs" => {
                let docs = lines(&body);
                assert_eq!(docs.len(), all.len());
                for (doc, a) in docs.iter().zip(&all) {
                    assert_eq!(doc["event"]["id"], a.id.to_string());
                    assert_eq!(doc["event"]["kind"], "alert");
                    assert_eq!(doc["mcp_train"]["status"], a.status.as_str());
                    assert_eq!(doc["@timestamp"], a.anomaly.entry.timestamp);
                    assert_eq!(doc["event"]["risk_score"], a.score);
                }
            }
            _ => {
                let docs = lines(&body);
                assert_eq!(docs.len(), all.len());
                for (doc, a) in docs.iter().zip(&all) {
                    assert_eq!(doc["class_uid"], 2004);
                    assert_eq!(doc["finding_info"]["uid"], a.id.to_string());
                    assert_eq!(doc["unmapped"]["mcp_train"]["status"], a.status.as_str());
                }
                let status = |i: usize| docs[i]["status_id"].as_u64().unwrap();
                assert_eq!([status(0), status(1), status(2), status(3)], [1, 2, 4, 3]);
            }
        }
        ids.push(id);
    }
    // The history lists them newest first, with what was downloaded.
    let history = doc.check("get", "/api/exports", &s.get("/api/exports"));
    let listed: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    ids.reverse();
    assert_eq!(listed, ids);
    let metrics = s.metrics();
    assert!(
        metrics.contains("mcp_train_exports_total{status=\"completed\"} 4"),
        "{metrics}"
    );
    assert!(
        metrics.contains("mcp_train_export_rows_total 10000"),
        "{metrics}"
    );
    // Bad requests are refused, naming what is wrong.
    let r = s.post_json("/api/exports", &json!({"format": "xml"}));
    r.assert_error(400, "bad_request");
    doc.check("post", "/api/exports", &r);
    let r = s.post_json(
        "/api/exports",
        &json!({"format": "ndjson", "filter": {"log_type": "dns"}}),
    );
    doc.check("post", "/api/exports", &r);
    let r = s.post_json(
        "/api/exports",
        &json!({"format": "csv", "filter": {"min_score": 300}}),
    );
    let body = r.assert_error(400, "bad_request");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("min_score"),
        "{body}"
    );
    doc.check("get", "/api/exports/{id}", &s.get("/api/exports/nope"))["error"]["code"]
        .as_str()
        .filter(|c| *c == "not_found")
        .expect("not_found");
    s.get("/api/exports/nope/download")
        .assert_error(404, "not_found");
}

#[test]
fn filters_are_honoured_over_http_and_by_the_cli() {
    let work = Work::new();
    let data = work.path("data");
    seed(&data, 3000);
    let s = Server::start(&data, &dist(&work), &[]);
    let filter = json!({"log_type": "dns", "min_score": 70, "device": "gw3"});
    let parsed: AnomalyFilter = serde_json::from_value(filter.clone()).unwrap();
    let expected = stored(&data, &parsed);
    assert!(!expected.is_empty() && expected.len() < 3000 / 3);
    assert!(expected.iter().all(|a| parsed.matches(a)));
    let job = start(&s, &json!({"format": "ndjson", "filter": filter}));
    let done = follow(&s, job["id"].as_str().unwrap(), "completed");
    assert_eq!(
        done["filter"],
        json!({"log_type": "dns", "min_score": 70.0, "device": "gw3"})
    );
    assert_eq!(done["rows"], expected.len() as u64);
    let body = download(&s, &done);
    let back: Vec<StoredAnomaly> = std::str::from_utf8(&body)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(back, expected);

    // The CLI writes the same bytes with the same filter, and records its run in the history.
    let out = work.path("cli.ndjson");
    let o = run(
        &[
            "anomalies",
            "export",
            "--format",
            "ndjson",
            "--log-type",
            "dns",
            "--min-score",
            "70",
            "--device",
            "gw3",
            "-o",
            &out.to_string_lossy(),
            "--data-dir",
            &data.to_string_lossy(),
        ],
        &[("USER", "carol")],
    );
    ok(&o);
    let cli_bytes = std::fs::read(&out).unwrap();
    assert_eq!(cli_bytes, body);
    assert!(!work.path("cli.ndjson.partial").exists());
    let history = s.get("/api/exports").json();
    let entry = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["by"] == "carol")
        .cloned()
        .expect("the CLI's run is in the history");
    assert_eq!(entry["status"], "completed");
    assert_eq!(entry["sha256"], sha256(&cli_bytes));
    assert_eq!(entry["rows"], expected.len() as u64);
    assert_eq!(entry["file_name"], "cli.ndjson");
    // To stdout, CSV, and a bad flag named.
    let o = run(
        &[
            "anomalies",
            "export",
            "--format",
            "csv",
            "--status",
            "new",
            "--data-dir",
            &data.to_string_lossy(),
        ],
        &[],
    );
    let csv_text = ok(&o);
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    assert_eq!(reader.records().count(), 3000);
    let o = run(
        &[
            "anomalies",
            "export",
            "--format",
            "csv",
            "--min-score",
            "abc",
            "--data-dir",
            &data.to_string_lossy(),
        ],
        &[],
    );
    let (code, stderr) = common::failure(&o);
    assert_eq!(code, 2);
    assert!(stderr.contains("--min-score"), "{stderr}");
}

#[test]
fn cancel_stops_an_export_and_leaves_no_file() {
    let work = Work::new();
    let data = work.path("data");
    seed(&data, 200_000);
    let s = Server::start(&data, &dist(&work), &[]);
    let job = start(&s, &json!({"format": "ocsf"}));
    let id = job["id"].as_str().unwrap().to_owned();
    let running = wait(&s, &id, &["running", "completed"], Duration::from_secs(60));
    assert_eq!(
        running["status"], "running",
        "the export ended before it could be cancelled"
    );
    s.get(&format!("/api/exports/{id}/download"))
        .assert_error(409, "not_ready");
    let r = s.post(&format!("/api/exports/{id}/cancel"), b"");
    assert_eq!(r.status, 200, "{}", r.text());
    let cancelled = r.json();
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    assert!(cancelled["rows"].as_u64().unwrap() < 200_000);
    assert!(cancelled.get("sha256").is_none());
    assert_eq!(
        files(&data),
        Vec::<String>::new(),
        "no file, partial or not"
    );
    s.get(&format!("/api/exports/{id}/download"))
        .assert_error(409, "not_ready");
    s.post(&format!("/api/exports/{id}/cancel"), b"")
        .assert_error(409, "not_running");
    let events = s.events(&format!("/api/exports/{id}/events"));
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].1["status"], "cancelled");
}

#[test]
fn completed_exports_expire() {
    let work = Work::new();
    let data = work.path("data");
    seed(&data, 100);
    let s = Server::start(&data, &dist(&work), &["--export-retention", "2s"]);
    let job = start(&s, &json!({"format": "csv"}));
    let id = job["id"].as_str().unwrap().to_owned();
    let done = follow(&s, &id, "completed");
    download(&s, &done);
    assert_eq!(files(&data), vec![format!("{id}.csv")]);
    let expired = wait(&s, &id, &["expired"], Duration::from_secs(30));
    assert_eq!(
        expired["sha256"], done["sha256"],
        "the history keeps what it was"
    );
    assert_eq!(files(&data), Vec::<String>::new());
    let r = s.get(&format!("/api/exports/{id}/download"));
    r.assert_error(410, "expired");
    Document::fetch(&s).check("get", "/api/exports/{id}/download", &r);
    // A retention out of bounds is refused when the server starts.
    let o = run(
        &[
            "serve",
            "--export-retention",
            "0s",
            "--data-dir",
            &data.to_string_lossy(),
        ],
        &[],
    );
    let (code, stderr) = common::failure(&o);
    assert_eq!(code, 2);
    assert!(stderr.contains("--export-retention"), "{stderr}");
}

#[test]
fn kill_9_during_an_export_leaves_nothing_listed_as_done() {
    let work = Work::new();
    let data = work.path("data");
    seed(&data, 300_000);
    let mut s = Server::start(&data, &dist(&work), &[]);
    let job = start(&s, &json!({"format": "ocsf"}));
    let id = job["id"].as_str().unwrap().to_owned();
    // Wait until the file is being written, then kill the server.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let job = s.get(&format!("/api/exports/{id}")).json();
        assert_ne!(
            job["status"], "completed",
            "finished before the kill: {job}"
        );
        if job["rows"].as_u64().unwrap_or(0) > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{job}");
        std::thread::sleep(Duration::from_millis(10));
    }
    s.kill();
    assert_eq!(
        files(&data),
        vec![format!("{id}.ndjson.partial")],
        "killed mid-write: only the partial file"
    );
    let s = Server::start(&data, &dist(&work), &[]);
    let after = s.get(&format!("/api/exports/{id}")).json();
    assert_eq!(after["status"], "failed", "{after}");
    assert!(
        after["error"].as_str().unwrap().contains("interrupted"),
        "{after}"
    );
    let history = s.get("/api/exports").json();
    assert!(history["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|j| j["status"] != "completed"));
    assert_eq!(
        files(&data),
        Vec::<String>::new(),
        "the partial file is deleted"
    );
    s.get(&format!("/api/exports/{id}/download"))
        .assert_error(409, "not_ready");
    // The store still exports after the crash.
    let job = start(
        &s,
        &json!({"format": "ndjson", "filter": {"device": "gw1"}}),
    );
    let done = follow(&s, job["id"].as_str().unwrap(), "completed");
    assert_eq!(
        done["rows"],
        stored(
            &data,
            &serde_json::from_value(json!({"device": "gw1"})).unwrap()
        )
        .len() as u64
    );
}
