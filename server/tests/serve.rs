//! End-to-end tests of `mcp-train serve` against docs/API.md: the real binary on a loopback
//! port, called over HTTP as a browser, a script or an attacker would.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common;

use common::server::{
    assert_package_verifies, dist, export, metric, post_chunked, raw, raw_get, sha256, train,
    version_of, Server, INDEX_HTML,
};
use common::{ok, run, Work};

/// A server on a fresh data directory, with the test web app.
fn fresh(work: &Work, extra: &[&str]) -> Server {
    Server::start(&work.path("data"), &dist(work), extra)
}

/// `SOURCE_DATE_EPOCH` of the first test model: version 20231114_221320.
const EPOCH: i64 = 1_700_000_000;

#[test]
fn health_reports_storage_auth_and_limits() {
    let w = Work::new();
    let s = fresh(&w, &[]);
    let h = s.get("/api/health");
    assert_eq!(h.status, 200, "{}", h.text());
    let h = h.json();
    assert_eq!(h["status"], "ok", "{h}");
    assert_eq!(h["version"], env!("CARGO_PKG_VERSION"), "{h}");
    assert_eq!(h["storage"]["status"], "ok", "{h}");
    assert_eq!(h["storage"]["models"], 0, "{h}");
    assert_eq!(h["auth"], json!({ "writes": false, "reads": false }), "{h}");
    assert_eq!(h["limits"]["max_upload_mb"], 1024, "{h}");
    assert_eq!(h["limits"]["max_export_mb"], 1024, "{h}");
}

#[test]
fn an_empty_registry_has_no_latest_deployed_or_model() {
    let w = Work::new();
    let s = fresh(&w, &[]);
    let list = s.get("/api/models");
    assert_eq!(list.status, 200, "{}", list.text());
    assert_eq!(list.json(), json!({ "models": [] }));
    s.get("/api/models/latest").assert_error(404, "not_found");
    s.get("/api/models/deployed").assert_error(404, "not_found");
    for path in [
        "/api/models/20240101_000000",
        "/api/models/20240101_000000/model",
        "/api/models/20240101_000000/package",
    ] {
        s.get(path).assert_error(404, "not_found");
    }
    s.post("/api/models/20240101_000000/deploy", b"")
        .assert_error(404, "not_found");
    s.delete("/api/models/20240101_000000")
        .assert_error(404, "not_found");
    s.get("/api/training/jobs/00000000000000000000000000000000")
        .assert_error(404, "not_found");
    s.get("/api/training/jobs/00000000000000000000000000000000/events")
        .assert_error(404, "not_found");
    s.delete("/api/training/jobs/00000000000000000000000000000000")
        .assert_error(404, "not_found");
    let jobs = s.get("/api/training/jobs");
    assert_eq!(jobs.status, 200, "{}", jobs.text());
    assert_eq!(jobs.json(), json!({ "jobs": [] }));
    s.get("/api/nothing-here").assert_error(404, "not_found");
}

#[test]
fn malformed_versions_are_refused_before_any_file_is_touched() {
    let w = Work::new();
    let s = fresh(&w, &[]);
    for version in [
        "latest2",
        "2024010_000000",
        "20240101-000000",
        "20240101_000000x",
        "x20240101_000000",
        "20240101_0000000",
        "registry.json",
        "%2e%2e",
        "..%2Fregistry.json",
        "20240101_000000%2F..",
        "20240101_000000%00",
    ] {
        // Raw requests: an HTTP client library would resolve `%2e%2e` itself.
        for (method, path) in [
            ("GET", format!("/api/models/{version}")),
            ("GET", format!("/api/models/{version}/model")),
            ("GET", format!("/api/models/{version}/package")),
            ("POST", format!("/api/models/{version}/deploy")),
            ("DELETE", format!("/api/models/{version}")),
        ] {
            let head = format!(
                "{method} {path} HTTP/1.1\nHost: {}\nContent-Length: 0",
                s.addr
            );
            let r = raw(s.addr, &head, &[]);
            assert_eq!(r.status, 400, "{method} {path}: {}", r.text());
            r.assert_error(400, "invalid_version");
        }
    }
    assert!(s.versions().is_empty());
}

#[test]
fn an_uploaded_model_is_listed_and_downloads_byte_for_byte() {
    let w = Work::new();
    let e = export(&w, "export.json", 300, 1);
    let model = train(&w, &e, 1, EPOCH);
    let version = version_of(&model);
    assert_eq!(version, "20231114_221320");
    let s = fresh(&w, &[]);

    let up = s.post("/api/models", &model);
    assert_eq!(up.status, 201, "{}", up.text());
    assert_eq!(
        up.header("location"),
        Some("/api/models/20231114_221320"),
        "{:?}",
        up.headers
    );
    let record = up.json();
    assert_eq!(record["version"], version);
    assert_eq!(record["status"], "ready");
    assert_eq!(record["sha256"], sha256(&model));
    assert_eq!(record["size_bytes"], model.len());
    assert_eq!(record["detector"], "isolation_forest");
    assert_eq!(record["features"], 41);
    assert_eq!(record["lineage_file"], "export.json");
    assert_eq!(record["created_at"], "2023-11-14T22:13:20Z");
    assert_eq!(record["deployed_at"], Value::Null);
    assert_eq!(record["archived_at"], Value::Null);

    let got = s.get(&format!("/api/models/{version}"));
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(got.json(), record);
    let latest = s.get("/api/models/latest");
    assert_eq!(latest.status, 200);
    assert_eq!(latest.json(), record);
    s.get("/api/models/deployed").assert_error(404, "not_found");
    assert_eq!(s.versions(), vec![version.clone()]);
    let ready = s.get("/api/models?status=ready");
    assert_eq!(ready.json()["models"][0]["version"], version.as_str());
    assert_eq!(
        s.get("/api/models?status=deployed").json()["models"],
        json!([])
    );
    s.get("/api/models?status=bogus")
        .assert_error(400, "invalid_parameter");

    let m = s.get(&format!("/api/models/{version}/model"));
    assert_eq!(m.status, 200);
    assert!(
        m.body == model,
        "the downloaded model.json differs from the upload"
    );
    assert!(
        m.header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{:?}",
        m.headers
    );
    assert_eq!(
        m.header("content-disposition"),
        Some("attachment; filename=\"model_20231114_221320.json\"")
    );
    let etag = m
        .header("etag")
        .expect("model download has an ETag")
        .to_owned();
    let again = s.get_with(
        &format!("/api/models/{version}/model"),
        &[("If-None-Match", &etag)],
    );
    assert!(
        again.status == 304 || (again.status == 200 && again.body == model),
        "If-None-Match on the model: {}",
        again.status
    );

    let p = s.get(&format!("/api/models/{version}/package"));
    assert_eq!(p.status, 200, "{}", p.text());
    assert_eq!(p.header("content-type"), Some("application/zip"));
    assert_eq!(
        p.header("content-disposition"),
        Some("attachment; filename=\"model_20231114_221320_deployment.zip\"")
    );
    assert_eq!(
        p.header("content-length"),
        Some(p.body.len().to_string().as_str())
    );
    let etag = format!("\"{}\"", sha256(&p.body));
    assert_eq!(p.header("etag"), Some(etag.as_str()));
    assert_package_verifies(&p.body, &version);
    let cached = s.get_with(
        &format!("/api/models/{version}/package"),
        &[("If-None-Match", &etag)],
    );
    assert_eq!(cached.status, 304, "{}", cached.text());
    assert!(cached.body.is_empty());
    // If-None-Match is a list (RFC 9110 13.1.2).
    for header in [format!("\"0000\", {etag}"), "*".to_owned()] {
        let r = s.get_with(
            &format!("/api/models/{version}/package"),
            &[("If-None-Match", &header)],
        );
        assert_eq!(r.status, 304, "If-None-Match: {header}");
    }
    let stale = s.get_with(
        &format!("/api/models/{version}/package"),
        &[("If-None-Match", "\"0000\"")],
    );
    assert_eq!(stale.status, 200);
    // Same model, not redeployed: the same bytes.
    assert!(stale.body == p.body, "a second download differs");

    // The CLI verifies it too, and the package's own Python check runs.
    let zip = w.path("package.zip");
    std::fs::write(&zip, &p.body).expect("writes the zip");
    let out = w.path("unpacked");
    ok(&run(
        &[
            "verify",
            &zip.to_string_lossy(),
            "--extract",
            &out.to_string_lossy(),
        ],
        &[],
    ));
    let folder = out.join("model_20231114_221320_deployment");
    if let Ok(o) = std::process::Command::new("python3")
        .arg("validate_model.py")
        .current_dir(&folder)
        .output()
    {
        assert!(
            o.status.success(),
            "python3 validate_model.py:\n{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let h = s.get("/api/health").json();
    assert_eq!(h["storage"]["models"], 1, "{h}");
}

#[test]
fn uploading_twice_is_harmless_and_other_bytes_for_a_version_conflict() {
    let w = Work::new();
    let e = export(&w, "export.json", 300, 1);
    let a = train(&w, &e, 1, EPOCH);
    let other = train(&w, &e, 2, EPOCH);
    assert_eq!(version_of(&a), version_of(&other));
    assert_ne!(a, other);
    let s = fresh(&w, &[]);
    let first = s.post("/api/models", &a);
    assert_eq!(first.status, 201, "{}", first.text());
    let second = s.post("/api/models", &a);
    assert_eq!(second.status, 200, "{}", second.text());
    assert_eq!(second.json(), first.json());
    s.post("/api/models", &other).assert_error(409, "conflict");
    let m = s.get("/api/models/20231114_221320/model");
    assert!(m.body == a, "the registered model changed after a conflict");
    assert_eq!(s.versions().len(), 1);
}

#[test]
fn invalid_models_and_packages_are_422_and_a_valid_package_registers_its_model() {
    let w = Work::new();
    let e = export(&w, "export.json", 300, 1);
    let model = train(&w, &e, 1, EPOCH);
    let s = fresh(&w, &[]);

    for garbage in [
        &b"this is not a model"[..],
        b"{}",
        b"{\"format\":\"mcp-train-model\",\"format_version\":1}",
        b"[1,2,3]",
        &model[..model.len() / 2],
    ] {
        s.post("/api/models", garbage)
            .assert_error(422, "invalid_model");
    }
    // A model whose detector disagrees with its threshold does not load.
    let mut altered: Value = serde_json::from_slice(&model).expect("model json");
    altered["threshold"]["offset"] = json!(0.123);
    s.post("/api/models", altered.to_string().as_bytes())
        .assert_error(422, "invalid_model");

    let package = mcp_train_core::package::build(&model, 1_700_000_100_000_000)
        .expect("builds a package")
        .bytes;
    let truncated = &package[..package.len() - 100];
    s.post("/api/models", truncated)
        .assert_error(422, "invalid_package");
    // One byte of model.json changed inside the archive (found by its text): the hashes no
    // longer match, or the archive's CRC fails.
    let mut tampered = package.clone();
    let at = tampered
        .windows(17)
        .position(|w| w == b"\"mcp-train-model\"")
        .map(|i| i + 3)
        .unwrap_or(tampered.len() / 2);
    tampered[at] ^= 0x01;
    s.post("/api/models", &tampered)
        .assert_error(422, "invalid_package");
    let mut only_zip_magic = b"PK\x03\x04".to_vec();
    only_zip_magic.extend_from_slice(&[0u8; 64]);
    s.post("/api/models", &only_zip_magic)
        .assert_error(422, "invalid_package");
    assert!(s.versions().is_empty(), "an invalid upload was registered");

    let up = s.post("/api/models", &package);
    assert_eq!(up.status, 201, "{}", up.text());
    assert_eq!(up.json()["sha256"], sha256(&model));
    let m = s.get("/api/models/20231114_221320/model");
    assert!(
        m.body == model,
        "the package's model.json was not registered as is"
    );
    // The model.json itself is now the same bytes: harmless.
    assert_eq!(s.post("/api/models", &model).status, 200);
    // A package of another model with the same version: taken.
    let rival = train(&w, &e, 2, EPOCH);
    let rival = mcp_train_core::package::build(&rival, 1_700_000_100_000_000)
        .expect("builds the rival package")
        .bytes;
    s.post("/api/models", &rival).assert_error(409, "conflict");
}

#[test]
fn deploy_archives_the_previous_model_and_checks_the_precondition() {
    let w = Work::new();
    let e = export(&w, "export.json", 300, 1);
    let a = train(&w, &e, 1, EPOCH);
    let b = train(&w, &e, 1, EPOCH + 60);
    let (va, vb) = (version_of(&a), version_of(&b));
    let s = fresh(&w, &[]);
    assert_eq!(s.post("/api/models", &a).status, 201);
    assert_eq!(s.post("/api/models", &b).status, 201);
    assert_eq!(s.versions(), vec![vb.clone(), va.clone()], "newest first");
    let before = s.get(&format!("/api/models/{va}/package")).body;
    // The deployment time differs from the registration time even at second resolution.
    std::thread::sleep(Duration::from_millis(1100));

    // No body at all: no precondition.
    let d = s.post(&format!("/api/models/{va}/deploy"), b"");
    assert_eq!(d.status, 200, "{}", d.text());
    let d = d.json();
    assert_eq!(d["changed"], true, "{d}");
    assert_eq!(d["previous"], Value::Null, "{d}");
    assert_eq!(d["model"]["version"], va.as_str());
    assert_eq!(d["model"]["status"], "deployed");
    assert!(d["model"]["deployed_at"].is_string(), "{d}");
    assert_eq!(s.get("/api/models/deployed").json()["version"], va.as_str());

    // Again, with the right precondition: nothing changes.
    let again = s.post_json(
        &format!("/api/models/{va}/deploy"),
        &json!({ "expected_deployed": va }),
    );
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["changed"], false);

    // A stale precondition: 409, and the deployed model stays.
    s.post_json(
        &format!("/api/models/{vb}/deploy"),
        &json!({ "expected_deployed": null }),
    )
    .assert_error(409, "conflict");
    s.post_json(
        &format!("/api/models/{vb}/deploy"),
        &json!({ "expected_deployed": "20200101_000000" }),
    )
    .assert_error(409, "conflict");
    assert_eq!(s.get("/api/models/deployed").json()["version"], va.as_str());
    assert_eq!(
        s.get(&format!("/api/models/{vb}")).json()["status"],
        "ready"
    );

    let d = s.post_json(
        &format!("/api/models/{vb}/deploy"),
        &json!({ "expected_deployed": va }),
    );
    assert_eq!(d.status, 200, "{}", d.text());
    let d = d.json();
    assert_eq!(d["changed"], true);
    assert_eq!(d["model"]["version"], vb.as_str());
    assert_eq!(d["previous"]["version"], va.as_str());
    assert_eq!(d["previous"]["status"], "archived");
    assert!(d["previous"]["archived_at"].is_string(), "{d}");
    assert_eq!(s.get("/api/models/deployed").json()["version"], vb.as_str());
    let archived = s.get("/api/models?status=archived").json();
    assert_eq!(archived["models"][0]["version"], va.as_str(), "{archived}");
    assert_eq!(archived["models"].as_array().map(Vec::len), Some(1));
    let deployed = s.get("/api/models?status=deployed").json();
    assert_eq!(deployed["models"][0]["version"], vb.as_str(), "{deployed}");

    // A deployed model's package carries its deployment time; it still verifies.
    let after = s.get(&format!("/api/models/{va}/package"));
    assert_eq!(after.status, 200);
    assert_package_verifies(&after.body, &va);
    assert!(
        after.body != before,
        "deploying did not change the package's deployment time"
    );

    // An archived model can be deployed again; its package then carries the new time.
    std::thread::sleep(Duration::from_millis(1100));
    let d = s.post_json(
        &format!("/api/models/{va}/deploy"),
        &json!({ "expected_deployed": vb }),
    );
    assert_eq!(d.status, 200, "{}", d.text());
    let d = d.json();
    assert_eq!(d["changed"], true);
    assert_eq!(d["model"]["status"], "deployed");
    assert_eq!(d["model"]["archived_at"], Value::Null, "{d}");
    assert_eq!(d["previous"]["version"], vb.as_str());
    let redeployed = s.get(&format!("/api/models/{va}/package"));
    assert_package_verifies(&redeployed.body, &va);
    assert!(
        redeployed.body != after.body,
        "redeploying kept the old package"
    );

    s.post("/api/models/20200101_000000/deploy", b"")
        .assert_error(404, "not_found");
    s.post(&format!("/api/models/{va}/deploy"), b"{not json")
        .assert_error(400, "bad_request");
}

#[test]
fn the_deployed_model_is_deleted_only_with_force() {
    let w = Work::new();
    let e = export(&w, "export.json", 300, 1);
    let a = train(&w, &e, 1, EPOCH);
    let b = train(&w, &e, 1, EPOCH + 60);
    let (va, vb) = (version_of(&a), version_of(&b));
    let s = fresh(&w, &[]);
    assert_eq!(s.post("/api/models", &a).status, 201);
    assert_eq!(s.post("/api/models", &b).status, 201);
    assert_eq!(s.post(&format!("/api/models/{va}/deploy"), b"").status, 200);

    s.delete(&format!("/api/models/{va}"))
        .assert_error(409, "conflict");
    s.delete(&format!("/api/models/{va}?force=false"))
        .assert_error(409, "conflict");
    let d = s.delete(&format!("/api/models/{vb}"));
    assert_eq!(d.status, 200, "{}", d.text());
    assert_eq!(d.json()["deleted"]["version"], vb.as_str());
    s.get(&format!("/api/models/{vb}"))
        .assert_error(404, "not_found");
    s.get(&format!("/api/models/{vb}/model"))
        .assert_error(404, "not_found");
    s.delete(&format!("/api/models/{vb}"))
        .assert_error(404, "not_found");

    let d = s.delete(&format!("/api/models/{va}?force=true"));
    assert_eq!(d.status, 200, "{}", d.text());
    assert_eq!(d.json()["deleted"]["version"], va.as_str());
    s.get("/api/models/deployed").assert_error(404, "not_found");
    s.get("/api/models/latest").assert_error(404, "not_found");
    assert!(s.versions().is_empty());
    // The version is free again.
    assert_eq!(s.post("/api/models", &b).status, 201);
}

#[test]
fn a_training_job_gives_the_same_model_as_the_cli_and_registers_it() {
    let w = Work::new();
    let e = export(&w, "export.json", 2000, 7);
    let cli = train(&w, &e, 5, EPOCH);
    let s = fresh(&w, &[]);
    let body = std::fs::read(&e).expect("export");
    let r = s.post(
        "/api/training/jobs?seed=5&created_at_micros=1700000000000000",
        &body,
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let job = r.json();
    let id = job["id"].as_str().expect("job id").to_owned();
    assert_eq!(id.len(), 32, "{job}");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{job}");
    let location = format!("/api/training/jobs/{id}");
    assert_eq!(r.header("location"), Some(location.as_str()));
    assert!(
        ["queued", "running"].contains(&job["status"].as_str().unwrap_or_default()),
        "{job}"
    );
    assert_eq!(job["file_name"], "export.json");
    assert_eq!(job["size_bytes"], body.len());
    assert_eq!(job["params"]["seed"], 5);
    assert_eq!(job["params"]["detector"], "isolation_forest");
    assert_eq!(job["records"], 2000, "{job}");

    let events = s.events(&format!("/api/training/jobs/{id}/events"));
    let (last, done) = events.last().expect("at least one event");
    assert_eq!(last, "done");
    assert!(
        events[..events.len() - 1]
            .iter()
            .all(|(n, _)| n == "progress"),
        "{events:?}"
    );
    for (_, job) in &events {
        let fraction = job["progress"]["fraction"].as_f64().unwrap_or(-1.0);
        assert!((0.0..=1.0).contains(&fraction), "{job}");
        assert!(job["progress"]["stage"].is_string(), "{job}");
        assert_eq!(job["id"], id.as_str());
    }
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["error"], Value::Null, "{done}");
    assert!(done["finished_at"].is_string(), "{done}");
    let record = done["model"].clone();
    assert_eq!(record["version"], "20231114_221320", "{done}");
    assert_eq!(record["status"], "ready");
    assert_eq!(record["lineage_file"], "export.json");

    let m = s.get("/api/models/20231114_221320/model");
    assert_eq!(m.status, 200, "{}", m.text());
    assert_eq!(record["sha256"], sha256(&m.body));
    assert!(
        m.body == cli,
        "the server's model.json differs from `mcp-train train --seed 5` with \
         SOURCE_DATE_EPOCH={EPOCH} (sha256 {} vs {})",
        sha256(&m.body),
        sha256(&cli)
    );
    assert_eq!(s.versions(), vec!["20231114_221320".to_owned()]);
    let m = s.metrics();
    assert_eq!(
        metric(
            &m,
            "mcp_train_http_upload_bytes_total",
            &["route=\"/api/training/jobs\""]
        ),
        Some(body.len() as f64),
        "{m}"
    );
    assert_eq!(
        metric(&m, "mcp_train_training_jobs", &["status=\"completed\""]),
        Some(1.0),
        "{m}"
    );

    let got = s.get(&location);
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["status"], "completed");
    let jobs = s.get("/api/training/jobs").json();
    assert_eq!(jobs["jobs"][0]["id"], id.as_str(), "{jobs}");
    // Connecting to a finished job gives `done` at once.
    let late = s.events(&format!("/api/training/jobs/{id}/events"));
    assert_eq!(late.len(), 1, "{late:?}");
    assert_eq!(late[0].0, "done");

    // Removing a finished job forgets the job, not the model.
    let d = s.delete(&location);
    assert_eq!(d.status, 200, "{}", d.text());
    s.get(&location).assert_error(404, "not_found");
    assert_eq!(s.get("/api/training/jobs").json()["jobs"], json!([]));
    assert_eq!(s.versions(), vec!["20231114_221320".to_owned()]);

    // NDJSON with another file name and detector.
    let ndjson: String = {
        let v: Value = serde_json::from_slice(&body).expect("export json");
        v["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|r| format!("{r}\n"))
            .collect()
    };
    let id = s.start_job("/api/training/jobs?file_name=wifi.ndjson&detector=lof&n_neighbors=10&contamination=0.1&created_at_micros=1700000060000000", ndjson.as_bytes());
    let done = s.finished_job(&id, Duration::from_secs(60));
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["model"]["detector"], "lof", "{done}");
    assert_eq!(done["model"]["lineage_file"], "wifi.ndjson", "{done}");
    assert_eq!(done["params"]["n_neighbors"], 10, "{done}");
    assert_eq!(s.versions().len(), 2);
}

#[test]
fn invalid_exports_and_parameters_are_refused_before_a_job_starts() {
    let w = Work::new();
    let e = export(&w, "export.json", 300, 1);
    let good = std::fs::read(&e).expect("export");
    let s = fresh(&w, &[]);

    let text = String::from_utf8(good.clone()).expect("utf-8");
    let first_ts = text
        .find("\"timestamp\":\"")
        .map(|i| i + "\"timestamp\":\"".len())
        .expect("a timestamp");
    let end = first_ts + text[first_ts..].find('"').expect("closing quote");
    let bad = format!("{}yesterday{}", &text[..first_ts], &text[end..]);
    let r = s.post("/api/training/jobs", bad.as_bytes());
    let body = r.assert_error(422, "invalid_export");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("record") && message.contains("timestamp"),
        "the message names no record and field: {message}"
    );

    let r = s.post("/api/training/jobs", b"{\"data\":[{\"id\":1,");
    let body = r.assert_error(422, "invalid_export");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("line") && message.contains("column"),
        "the message names no line:column: {message}"
    );
    // An empty body: either reading of docs/API.md (a bad request, or an empty export).
    let empty = s.post("/api/training/jobs", b"");
    let code = if empty.status == 400 {
        "bad_request"
    } else {
        "invalid_export"
    };
    empty.assert_error(if empty.status == 400 { 400 } else { 422 }, code);

    // With drop_invalid the bad record is left out.
    let r = s.post(
        "/api/training/jobs?drop_invalid=true&created_at_micros=1700000000000000",
        bad.as_bytes(),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let job = r.json();
    assert_eq!(job["params"]["drop_invalid"], true);
    let id = job["id"].as_str().expect("id").to_owned();
    let done = s.finished_job(&id, Duration::from_secs(60));
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["dropped"], 1, "{done}");

    for query in [
        "detector=forest",
        "seed=abc",
        "seed=-1",
        "contamination=0.9",
        "contamination=0",
        "contamination=lots",
        "n_estimators=0",
        "n_estimators=many",
        "max_samples=0",
        "max_samples=1.5",
        "n_neighbors=0",
        "n_neighbors=10001",
        "n_estimators=10001",
        "drop_invalid=maybe",
        "created_at_micros=soon",
    ] {
        // Raw: the server may answer before it reads the body.
        let head = format!(
            "POST /api/training/jobs?{query} HTTP/1.1\nHost: {}\nContent-Length: {}",
            s.addr,
            good.len()
        );
        let r = raw(s.addr, &head, &good);
        assert_eq!(r.status, 400, "{query}: {}", r.text());
        r.assert_error(400, "invalid_parameter");
    }
    let jobs = s.get("/api/training/jobs").json();
    assert_eq!(
        jobs["jobs"].as_array().map(Vec::len),
        Some(1),
        "a refused upload became a job: {jobs}"
    );
}

#[test]
fn cancelled_jobs_register_no_model() {
    let w = Work::new();
    // LOF on 40,000 records fits for several seconds: long enough to cancel it running.
    let big = std::fs::read(export(&w, "big.json", 40_000, 3)).expect("big export");
    let small = std::fs::read(export(&w, "small.json", 300, 4)).expect("small export");
    let s = fresh(&w, &[]);
    let running = s.start_job("/api/training/jobs?detector=lof", &big);
    let queued = s.start_job("/api/training/jobs", &small);

    let jobs = s.get("/api/training/jobs").json();
    assert_eq!(
        jobs["jobs"][0]["id"],
        queued.as_str(),
        "newest first: {jobs}"
    );
    assert_eq!(
        jobs["jobs"][1]["id"],
        running.as_str(),
        "newest first: {jobs}"
    );
    let job = s.wait_for_job(&running, &["running"], Duration::from_secs(30));
    assert!(job["started_at"].is_string(), "{job}");
    let q = s.get(&format!("/api/training/jobs/{queued}")).json();
    assert_eq!(q["status"], "queued", "one job at a time: {q}");

    let d = s.delete(&format!("/api/training/jobs/{queued}"));
    assert_eq!(d.status, 200, "{}", d.text());
    assert_eq!(d.json()["status"], "cancelled");
    let d = s.delete(&format!("/api/training/jobs/{running}"));
    assert_eq!(d.status, 200, "{}", d.text());
    let started = std::time::Instant::now();
    let events = s.events(&format!("/api/training/jobs/{running}/events"));
    let (name, done) = events.last().expect("events");
    assert_eq!(name, "done");
    assert_eq!(done["status"], "cancelled", "{done}");
    assert_eq!(done["model"], Value::Null, "{done}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "cancelling took {:?}",
        started.elapsed()
    );
    let q = s.get(&format!("/api/training/jobs/{queued}")).json();
    assert_eq!(q["status"], "cancelled", "{q}");
    // Nothing registered, even a little later.
    std::thread::sleep(Duration::from_millis(500));
    assert!(s.versions().is_empty(), "{:?}", s.versions());
    let m = s.metrics();
    assert_eq!(
        metric(&m, "mcp_train_training_jobs", &["status=\"cancelled\""]),
        Some(2.0),
        "{m}"
    );
}

/// Every path of docs/API.md, as OpenAPI writes it.
const DOCUMENTED_PATHS: [&str; 12] = [
    "/api/health",
    "/api/models",
    "/api/models/latest",
    "/api/models/deployed",
    "/api/models/{version}",
    "/api/models/{version}/model",
    "/api/models/{version}/package",
    "/api/models/{version}/deploy",
    "/api/training/jobs",
    "/api/training/jobs/{id}",
    "/api/training/jobs/{id}/events",
    "/metrics",
];

#[test]
fn openapi_describes_every_documented_path() {
    let w = Work::new();
    let s = fresh(&w, &[]);
    let r = s.get("/api/openapi.json");
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/json")));
    let doc = r.json();
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().expect("paths");
    let missing: Vec<_> = DOCUMENTED_PATHS
        .iter()
        .filter(|p| !paths.contains_key(**p))
        .collect();
    assert!(
        missing.is_empty(),
        "missing paths {missing:?}; has {:?}",
        paths.keys()
    );
    for (path, methods) in [
        ("/api/models", &["get", "post"][..]),
        ("/api/models/{version}", &["get", "delete"]),
        ("/api/models/{version}/deploy", &["post"]),
        ("/api/training/jobs", &["get", "post"]),
        ("/api/training/jobs/{id}", &["get", "delete"]),
    ] {
        for m in methods {
            assert!(paths[path].get(m).is_some(), "{path} has no {m}");
        }
    }
}

#[test]
fn metrics_count_requests_by_route_pattern() {
    let w = Work::new();
    let e = export(&w, "export.json", 300, 1);
    let model = train(&w, &e, 1, EPOCH);
    let s = fresh(&w, &[]);
    for _ in 0..3 {
        s.get("/api/models/20240101_000000")
            .assert_error(404, "not_found");
    }
    s.get("/api/models/20240102_000000")
        .assert_error(404, "not_found");
    assert_eq!(s.post("/api/models", &model).status, 201);
    assert_eq!(s.get("/api/models/20231114_221320/package").status, 200);
    for _ in 0..2 {
        assert_eq!(s.get("/api/health").status, 200);
    }
    let m = s.metrics();
    for name in [
        "mcp_train_http_requests_total",
        "mcp_train_http_request_duration_seconds",
        "mcp_train_http_upload_bytes_total",
        "mcp_train_training_jobs",
        "mcp_train_models",
        "mcp_train_storage_bytes",
    ] {
        assert!(m.contains(name), "no {name} in /metrics:\n{m}");
    }
    let count = |method: &str, route: &str, status: &str| {
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
    assert_eq!(
        count("GET", "/api/models/{version}", "404"),
        Some(4.0),
        "{m}"
    );
    assert_eq!(count("POST", "/api/models", "201"), Some(1.0), "{m}");
    assert_eq!(
        count("GET", "/api/models/{version}/package", "200"),
        Some(1.0),
        "{m}"
    );
    assert_eq!(count("GET", "/api/health", "200"), Some(2.0), "{m}");
    assert!(
        !m.contains("20240101_000000") && !m.contains("20231114_221320"),
        "a raw path in the route label:\n{m}"
    );
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
        metric(&m, "mcp_train_models", &["status=\"ready\""]),
        Some(1.0),
        "{m}"
    );
    assert!(
        metric(&m, "mcp_train_storage_bytes", &[]).is_some_and(|b| b >= model.len() as f64),
        "{m}"
    );
    assert!(
        metric(
            &m,
            "mcp_train_http_request_duration_seconds_count",
            &["route=\"/api/health\""]
        )
        .is_some_and(|c| c >= 2.0),
        "{m}"
    );
}

#[test]
fn writes_need_the_token_and_reads_do_not() {
    let w = Work::new();
    let e = export(&w, "export.json", 300, 1);
    let model = train(&w, &e, 1, EPOCH);
    let s = fresh(&w, &["--token", "s3cret-token"]);
    let export_bytes = std::fs::read(&e).expect("export");

    let unauthorized = |r: common::server::Reply| {
        r.assert_error(401, "unauthorized");
        assert!(
            r.header("www-authenticate")
                .is_some_and(|v| v.starts_with("Bearer")),
            "{:?}",
            r.headers
        );
    };
    // The whole model without a token: refused. (A raw request, so the 401 is read even if
    // the server answers before the body is in.)
    let head = format!(
        "POST /api/models HTTP/1.1\nHost: {}\nContent-Length: {}",
        s.addr,
        model.len()
    );
    unauthorized(raw(s.addr, &head, &model));
    let small = &b"{}"[..];
    unauthorized(s.post("/api/models", small));
    unauthorized(s.post_auth("/api/models", small, "wrong-token"));
    unauthorized(s.post_auth("/api/models", small, "s3cret-token-and-more"));
    unauthorized(s.request(
        "POST",
        "/api/models",
        &[("Authorization", "s3cret-token")],
        Some(small),
    ));
    unauthorized(s.request(
        "POST",
        "/api/models",
        &[("Authorization", "Basic czNjcmV0LXRva2Vu")],
        Some(small),
    ));
    unauthorized(s.post("/api/training/jobs", small));
    let head = format!(
        "POST /api/training/jobs HTTP/1.1\nHost: {}\nContent-Length: {}",
        s.addr,
        export_bytes.len()
    );
    unauthorized(raw(s.addr, &head, &export_bytes));
    assert!(s.versions().is_empty());

    let r = s.post_auth("/api/models", &model, "s3cret-token");
    assert_eq!(r.status, 201, "{}", r.text());
    unauthorized(s.post("/api/models/20231114_221320/deploy", b""));
    unauthorized(s.delete("/api/models/20231114_221320"));
    unauthorized(s.delete("/api/training/jobs/00000000000000000000000000000000"));

    // Reads are open.
    assert_eq!(s.versions(), vec!["20231114_221320".to_owned()]);
    assert_eq!(s.get("/api/models/20231114_221320/model").status, 200);
    assert_eq!(s.get("/api/models/20231114_221320/package").status, 200);
    assert_eq!(s.get("/api/training/jobs").status, 200);
    assert_eq!(s.get("/api/openapi.json").status, 200);
    assert_eq!(s.get("/metrics").status, 200);
    let h = s.get("/api/health").json();
    assert_eq!(h["auth"], json!({ "writes": true, "reads": false }), "{h}");

    let r = s.request(
        "POST",
        "/api/models/20231114_221320/deploy",
        &[("Authorization", "Bearer s3cret-token")],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = s.request(
        "DELETE",
        "/api/models/20231114_221320?force=true",
        &[("Authorization", "Bearer s3cret-token")],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn a_private_server_needs_the_token_for_reads_except_health() {
    let w = Work::new();
    let s = fresh(&w, &["--token", "tok", "--private"]);
    for path in [
        "/api/models",
        "/api/models/latest",
        "/api/models/20240101_000000",
        "/api/models/20240101_000000/package",
        "/api/training/jobs",
        "/metrics",
    ] {
        let r = s.get(path);
        assert_eq!(r.status, 401, "{path}: {}", r.text());
        r.assert_error(401, "unauthorized");
    }
    let h = s.get("/api/health");
    assert_eq!(h.status, 200, "{}", h.text());
    assert_eq!(h.json()["auth"], json!({ "writes": true, "reads": true }));
    let r = s.get_with("/api/models", &[("Authorization", "Bearer tok")]);
    assert_eq!(r.status, 200, "{}", r.text());
    let r = s.get_with("/metrics", &[("Authorization", "Bearer tok")]);
    assert_eq!(r.status, 200, "{}", r.text());
    let r = s.get_with("/api/models", &[("Authorization", "Bearer nope")]);
    r.assert_error(401, "unauthorized");
}

/// training_config.yaml with the given limits (the shipped file, so every other key is there).
fn limits_config(work: &Work, export_mb: u32, upload_mb: u32) -> String {
    let shipped = include_str!("../../config/training_config.yaml");
    let mut out = String::new();
    for line in shipped.lines() {
        let line = if line.trim_start().starts_with("max_export_mb:") {
            format!("  max_export_mb: {export_mb}")
        } else if line.trim_start().starts_with("max_upload_mb:") {
            format!("  max_upload_mb: {upload_mb}")
        } else {
            line.to_owned()
        };
        out.push_str(&line);
        out.push('\n');
    }
    let dir = work.path("config");
    std::fs::create_dir_all(&dir).expect("config dir");
    std::fs::write(dir.join("training_config.yaml"), out).expect("writes the config");
    dir.to_string_lossy().into_owned()
}

#[test]
fn uploads_over_the_configured_limits_are_413() {
    let w = Work::new();
    let e = export(&w, "export.json", 300, 1);
    let model = train(&w, &e, 1, EPOCH);
    assert!(
        model.len() < 2 << 20,
        "the test model grew: {}",
        model.len()
    );
    let config = limits_config(&w, 1, 2);
    let s = fresh(&w, &["--config", &config]);
    let h = s.get("/api/health").json();
    assert_eq!(h["limits"]["max_upload_mb"], 2, "{h}");
    assert_eq!(h["limits"]["max_export_mb"], 1, "{h}");

    let too_big = vec![b' '; 3 << 20];
    let head = |path: &str, len: usize| {
        format!(
            "POST {path} HTTP/1.1\nHost: {}\nContent-Type: application/octet-stream\nContent-Length: {len}",
            s.addr
        )
    };
    // Content-Length says it all: refused without reading the body.
    raw(s.addr, &head("/api/models", too_big.len()), &too_big)
        .assert_error(413, "payload_too_large");
    raw(
        s.addr,
        &head("/api/training/jobs", 2 << 20),
        &too_big[..2 << 20],
    )
    .assert_error(413, "payload_too_large");
    // Chunked: refused once the limit is crossed.
    match post_chunked(&s, "/api/models", too_big.clone()) {
        Ok(r) => {
            r.assert_error(413, "payload_too_large");
        }
        Err(e) => {
            // ureq could not finish sending; a raw chunked request shows the response.
            eprintln!("ureq: {e}");
        }
    }
    let chunked_head = |path: &str| {
        format!(
            "POST {path} HTTP/1.1\nHost: {}\nTransfer-Encoding: chunked",
            s.addr
        )
    };
    let mut chunked = Vec::new();
    for piece in too_big.chunks(256 * 1024) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    raw(s.addr, &chunked_head("/api/models"), &chunked).assert_error(413, "payload_too_large");
    raw(s.addr, &chunked_head("/api/training/jobs"), &chunked)
        .assert_error(413, "payload_too_large");
    assert!(s.versions().is_empty());
    assert_eq!(s.get("/api/training/jobs").json()["jobs"], json!([]));

    // Under the limit: accepted, also when chunked.
    let r = post_chunked(&s, "/api/models", model.clone()).expect("chunked upload");
    assert_eq!(r.status, 201, "{}", r.text());
    let r = s.post("/api/training/jobs", &std::fs::read(&e).expect("export"));
    assert_eq!(r.status, 202, "{}", r.text());
}

#[test]
fn cors_allows_the_configured_origin_only() {
    let w = Work::new();
    let s = fresh(&w, &["--cors-origin", "http://example.test"]);
    let pre = s.request(
        "OPTIONS",
        "/api/models",
        &[
            ("Origin", "http://example.test"),
            ("Access-Control-Request-Method", "POST"),
            (
                "Access-Control-Request-Headers",
                "authorization, content-type",
            ),
        ],
        None,
    );
    assert!(pre.status == 200 || pre.status == 204, "{}", pre.status);
    assert_eq!(
        pre.header("access-control-allow-origin"),
        Some("http://example.test"),
        "{:?}",
        pre.headers
    );
    let methods = pre
        .header("access-control-allow-methods")
        .unwrap_or_default()
        .to_ascii_uppercase();
    assert!(methods.contains("POST") || methods == "*", "{methods}");
    let headers = pre
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        headers.contains("authorization") || headers == "*",
        "{headers}"
    );
    let get = s.get_with("/api/models", &[("Origin", "http://example.test")]);
    assert_eq!(get.status, 200);
    assert_eq!(
        get.header("access-control-allow-origin"),
        Some("http://example.test")
    );
    let other = s.get_with("/api/models", &[("Origin", "http://evil.test")]);
    assert_eq!(other.header("access-control-allow-origin"), None);
    let pre = s.request(
        "OPTIONS",
        "/api/models",
        &[
            ("Origin", "http://evil.test"),
            ("Access-Control-Request-Method", "POST"),
        ],
        None,
    );
    assert_eq!(pre.header("access-control-allow-origin"), None);

    // Without --cors-origin, no site gets in.
    let w2 = Work::new();
    let plain = fresh(&w2, &[]);
    let get = plain.get_with("/api/models", &[("Origin", "http://example.test")]);
    assert_eq!(get.header("access-control-allow-origin"), None);
}

#[test]
fn the_web_app_is_served_with_the_api_marker_and_a_fallback() {
    let w = Work::new();
    let s = fresh(&w, &[]);
    let is_app = |r: &common::server::Reply| {
        r.status == 200
            && r.text().contains("mcp-train-test-app")
            && r.text().contains("<meta name=\"mcp-train-api\"")
    };
    let root = s.get("/");
    assert!(is_app(&root), "{} {}", root.status, root.text());
    assert!(root
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/html")));
    assert!(root.text().contains("content=\"/api\""), "{}", root.text());
    let index = s.get("/index.html");
    assert!(
        is_app(&index) || index.status == 301 || index.status == 308,
        "{} {}",
        index.status,
        index.text()
    );
    for path in ["/models/20240101_000000", "/jobs", "/some/deep/link?x=1"] {
        let r = s.get(path);
        assert!(is_app(&r), "{path}: {} {}", r.status, r.text());
    }
    let js = s.get("/app.js");
    assert_eq!(js.status, 200);
    assert_eq!(js.text(), "console.log('mcp-train-test-js');\n");
    for path in ["/api/x", "/api/models/20240101_000000/nothing", "/api/"] {
        let r = s.get(path);
        assert_eq!(
            (r.status, r.header("content-type")),
            (404, Some("application/json")),
            "GET {path} is not the API's JSON 404: {}",
            r.text()
        );
        r.assert_error(404, "not_found");
    }
    assert_ne!(INDEX_HTML, root.text(), "the marker was not added");
}

#[test]
fn path_traversal_never_serves_a_file_outside_the_data_dir_or_dist() {
    let w = Work::new();
    let e = export(&w, "export.json", 300, 1);
    let model = train(&w, &e, 1, EPOCH);
    let secret = "TOP-SECRET-7f3a9c";
    std::fs::write(w.path("secret.txt"), secret).expect("writes the secret");
    std::fs::write(w.path("registry.json"), secret).expect("writes a decoy");
    std::fs::create_dir_all(w.path("data")).expect("data dir");
    std::fs::write(w.path("data").join("secret.txt"), secret).expect("secret in data");
    let s = fresh(&w, &[]);
    assert_eq!(s.post("/api/models", &model).status, 201);

    let api = [
        "/api/models/..%2F..%2Fregistry.json",
        "/api/models/..%2F..%2Fsecret.txt",
        "/api/models/../registry.json",
        "/api/models/../../secret.txt",
        "/api/models/..%2fsecret.txt/model",
        "/api/models/20231114_221320%2F..%2F..%2Fsecret.txt/model",
        "/api/models/20231114_221320%2F..%2F..%2Fx/model",
        "/api/models/20231114_221320/..%2F..%2Fsecret.txt",
        "/api/models/%2e%2e/%2e%2e/secret.txt",
        "/api/models/..%5C..%5Csecret.txt",
        "/api/models/%252e%252e%252fsecret.txt",
        "/api/models/20231114_221320/package/../../../secret.txt",
        "/api/training/jobs/..%2F..%2Fsecret.txt",
        "/api/training/jobs/../../../secret.txt/events",
    ];
    for path in api {
        let r = raw_get(s.addr, path);
        assert!(!r.text().contains(secret), "{path} served the secret");
        assert!(
            [400, 404].contains(&r.status),
            "{path}: {} {}",
            r.status,
            r.text()
        );
        let body: Value = serde_json::from_slice(&r.body)
            .unwrap_or_else(|_| panic!("{path}: not a JSON error: {}", r.text()));
        assert!(body["error"]["code"].is_string(), "{path}: {body}");
    }
    let static_paths = [
        "/../secret.txt",
        "/../../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/..%2F..%2F..%2Fetc%2Fpasswd",
        "/..\\secret.txt",
        "/%2e%2e%5csecret.txt",
        "/....//secret.txt",
        "/dist/../secret.txt",
        "/%252e%252e/secret.txt",
        "//etc/passwd",
        "/data/secret.txt",
        "/secret.txt",
        "/registry.json",
    ];
    for path in static_paths {
        let r = raw_get(s.addr, path);
        let text = r.text();
        assert!(!text.contains(secret), "{path} served the secret");
        assert!(!text.contains("root:x:0:0"), "{path} served /etc/passwd");
        // Refused, or the web app's own index.html (the single-page fallback).
        assert!(
            [400, 404].contains(&r.status)
                || (r.status == 200 && text.contains("mcp-train-test-app")),
            "{path}: {} {text}",
            r.status
        );
    }
    // The registry still works, and nothing was written outside the data directory.
    assert_eq!(s.versions(), vec!["20231114_221320".to_owned()]);
    assert_eq!(
        std::fs::read_to_string(w.path("secret.txt")).expect("secret"),
        secret
    );
    // Nor do the raw paths end up in the metrics' labels.
    let m = s.metrics();
    assert!(
        !m.contains("secret") && !m.contains("passwd") && !m.contains(".."),
        "raw paths in /metrics:\n{m}"
    );
    // Uploads cannot name their own path either: the version inside model.json is checked.
    let mut evil: Value = serde_json::from_slice(&model).expect("model");
    evil["version"] = json!("../../evil");
    let r = s.post("/api/models", evil.to_string().as_bytes());
    assert!(
        r.status == 422 || r.status == 400,
        "a model with version ../../evil: {} {}",
        r.status,
        r.text()
    );
    assert!(!w.path("evil").exists() && !w.path("evil.json").exists());
}

#[test]
fn malformed_requests_get_json_errors_not_crashes() {
    let w = Work::new();
    let s = fresh(&w, &[]);
    // A deploy body that is not JSON, JSON of the wrong shape, a bad query.
    let r = s.post(
        "/api/models/20240101_000000/deploy",
        b"{\"expected_deployed\": 5}",
    );
    assert!([400, 404].contains(&r.status), "{} {}", r.status, r.text());
    // A content length that lies (a shorter body, then the client hangs up) registers nothing.
    {
        use std::io::{Read, Write};
        let mut c = std::net::TcpStream::connect(s.addr).expect("connects");
        c.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let head = format!(
            "POST /api/models HTTP/1.1\r\nHost: {}\r\nContent-Length: 1000\r\n\r\n{{}}",
            s.addr
        );
        c.write_all(head.as_bytes()).expect("writes");
        c.shutdown(std::net::Shutdown::Write).expect("half-closes");
        let mut answer = Vec::new();
        let _ = c.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
            "{answer}"
        );
    }
    let r = raw_get(s.addr, "/api/models?status=%ff");
    assert!(r.status == 400, "{} {}", r.status, r.text());
    assert_eq!(s.get("/api/health").status, 200);
    assert!(s.versions().is_empty());
}

#[test]
fn without_a_web_app_the_api_works_and_the_root_says_how_to_build_it() {
    let w = Work::new();
    let s = Server::start(&w.path("data"), &w.path("no-dist-here"), &[]);
    let root = s.get("/");
    assert!(root.status < 500, "{} {}", root.status, root.text());
    assert!(
        root.text().contains("build"),
        "/ does not say how to build the app: {} {}",
        root.status,
        root.text()
    );
    assert_eq!(s.get("/api/health").status, 200);
    assert_eq!(s.versions(), Vec::<String>::new());
}

/// A POST the server refuses before its body has arrived (401 here) must not leave the client
/// a dead keep-alive connection: either the response says `Connection: close`, or the
/// connection still serves the next request. Otherwise a client that reuses connections fails
/// its next request with an unexpected EOF.
#[test]
fn a_post_refused_before_its_body_arrives_leaves_a_usable_connection() {
    use std::io::{Read, Write};
    let w = Work::new();
    let s = fresh(&w, &["--token", "tok"]);
    let body = vec![b'x'; 200_000];
    let mut problems = Vec::new();
    for path in ["/api/models", "/api/training/jobs?seed=abc"] {
        let mut c = std::net::TcpStream::connect(s.addr).expect("connects");
        c.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let auth = if path.contains('?') {
            "Authorization: Bearer tok\r\n"
        } else {
            ""
        };
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\n{auth}Content-Length: {}\r\n\r\n",
            s.addr,
            body.len()
        );
        c.write_all(head.as_bytes()).expect("writes the head");
        // The answer comes before the body is sent.
        let mut first = vec![0u8; 4096];
        let n = c.read(&mut first).expect("reads the refusal");
        let first = String::from_utf8_lossy(&first[..n]).to_ascii_lowercase();
        assert!(
            first.starts_with("http/1.1 401") || first.starts_with("http/1.1 400"),
            "{path}: {first}"
        );
        if first.contains("connection: close") {
            continue;
        }
        // Kept alive: then the body is read (or skipped) and the next request answered.
        let sent = c.write_all(&body).and_then(|()| {
            c.write_all(format!("GET /api/health HTTP/1.1\r\nHost: {}\r\n\r\n", s.addr).as_bytes())
        });
        let mut second = vec![0u8; 4096];
        let answer = sent.and_then(|()| c.read(&mut second));
        let second = match answer {
            Ok(n) => String::from_utf8_lossy(&second[..n]).into_owned(),
            Err(e) => format!("error: {e}"),
        };
        if !second.starts_with("HTTP/1.1 200") {
            problems.push(format!(
                "POST {path} was refused without `Connection: close`, but the connection does \
                 not serve the next request (got {second:?}); the refusal was:\n{first}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_lost_data_directory_degrades_health_and_leaks_no_detail() {
    let w = Work::new();
    let e = export(&w, "export.json", 300, 1);
    let model = train(&w, &e, 1, EPOCH);
    let s = fresh(&w, &[]);
    assert_eq!(s.post("/api/models", &model).status, 201);
    // The directory goes away and a plain file takes its place.
    std::fs::rename(w.path("data"), w.path("moved")).expect("moves the data dir");
    std::fs::write(w.path("data"), "not a directory").expect("writes a file");
    let h = s.get("/api/health");
    assert_eq!(h.status, 200, "{}", h.text());
    let h = h.json();
    assert_eq!(h["status"], "degraded", "{h}");
    assert_eq!(h["storage"]["status"], "unavailable", "{h}");
    assert!(h["storage"]["message"].is_string(), "{h}");
    let data_dir = w.path("data").to_string_lossy().into_owned();
    for r in [
        s.get("/api/models"),
        s.get("/api/models/20231114_221320/model"),
        // Raw: the server may answer before it reads the body.
        raw(
            s.addr,
            &format!(
                "POST /api/models HTTP/1.1\nHost: {}\nContent-Length: {}",
                s.addr,
                model.len()
            ),
            &model,
        ),
    ] {
        assert!(r.status >= 500, "{} {}", r.status, r.text());
        let body = r.assert_error(r.status, "internal");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            !message.contains(&data_dir) && !message.contains("os error"),
            "an internal error leaks its detail: {message}"
        );
    }
    // Back in place: everything works again, the model intact.
    std::fs::remove_file(w.path("data")).expect("removes the file");
    std::fs::rename(w.path("moved"), w.path("data")).expect("moves it back");
    assert_eq!(s.get("/api/health").json()["status"], "ok");
    assert!(s.get("/api/models/20231114_221320/model").body == model);
}

#[test]
fn every_api_error_is_json_even_those_the_framework_answers() {
    let w = Work::new();
    let s = fresh(&w, &[]);
    // A path segment that is not UTF-8, a duplicate query field, a method the route lacks, a
    // deploy body over its limit: all in the error envelope.
    raw_get(s.addr, "/api/models/%ff").assert_error(400, "bad_request");
    raw_get(s.addr, "/api/models?status=ready&status=archived").assert_error(400, "bad_request");
    let put = raw(
        s.addr,
        &format!(
            "PUT /api/models HTTP/1.1\nHost: {}\nContent-Length: 0",
            s.addr
        ),
        &[],
    );
    put.assert_error(405, "method_not_allowed");
    assert!(
        put.header("allow").is_some_and(|a| a.contains("POST")),
        "{:?}",
        put.header("allow")
    );
    let big = vec![b' '; 3 * 1024 * 1024];
    let r = raw(
        s.addr,
        &format!(
            "POST /api/models/20240101_000000/deploy HTTP/1.1\nHost: {}\nContent-Length: {}",
            s.addr,
            big.len()
        ),
        &big,
    );
    r.assert_error(413, "payload_too_large");
    // Job parameters given twice are refused rather than one silently winning.
    s.post("/api/training/jobs?seed=1&seed=2", b"{}")
        .assert_error(400, "invalid_parameter");
}

#[test]
fn unknown_methods_share_one_metrics_label() {
    let w = Work::new();
    let s = fresh(&w, &[]);
    for method in ["FOO1", "FOO2", "BARBAZ"] {
        let r = raw(
            s.addr,
            &format!("{method} /api/models HTTP/1.1\nHost: {}", s.addr),
            &[],
        );
        assert!(r.status >= 400, "{method}: {}", r.status);
    }
    let metrics = s.metrics();
    assert!(
        !metrics.contains("FOO1") && !metrics.contains("BARBAZ"),
        "{metrics}"
    );
    assert!(metrics.contains("method=\"other\""), "{metrics}");
}

#[test]
fn the_bearer_scheme_is_case_insensitive_and_a_token_flag_is_trimmed() {
    let w = Work::new();
    let s = fresh(&w, &["--token", "s3cret\n"]);
    let model = train(&w, &export(&w, "e.json", 400, 3), 3, 1_700_000_000);
    let r = s.request(
        "POST",
        "/api/models",
        &[("Authorization", "BEARER s3cret")],
        Some(&model),
    );
    assert_eq!(r.status, 201, "{}", r.text());
}

#[test]
fn cors_origins_are_checked_at_start() {
    let w = Work::new();
    let o = common::command(
        &[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--cors-origin",
            "example.test",
        ],
        &[("RUST_LOG", "off")],
    )
    .arg("--data-dir")
    .arg(w.path("data"))
    .output()
    .expect("runs");
    let (code, line) = common::failure(&o);
    assert_eq!(code, 2);
    assert!(line.contains("--cors-origin"), "{line}");
}

#[test]
fn sigterm_stops_promptly_with_a_job_running_and_its_event_stream_open() {
    let w = Work::new();
    let big = std::fs::read(export(&w, "big.json", 40_000, 3)).expect("big export");
    let mut s = fresh(&w, &[]);
    let id = s.start_job("/api/training/jobs?detector=lof", &big);
    s.wait_for_job(&id, &["running"], Duration::from_secs(30));
    // A client following the job: its stream must end when the server stops, not hold it up.
    let follower = {
        let url = s.url(&format!("/api/training/jobs/{id}/events"));
        std::thread::spawn(move || {
            let response = ureq::get(&url).call().expect("event stream");
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut response.into_reader(), &mut text);
            text
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let started = std::time::Instant::now();
    let code = s.terminate(Duration::from_secs(4));
    assert_eq!(
        code,
        Some(0),
        "not stopped 4 s after SIGTERM:\n{}",
        s.stderr()
    );
    let events = follower.join().expect("follower");
    assert!(events.contains("event: progress"), "{events}");
    assert!(s.stderr().contains("stopped"), "{}", s.stderr());
    eprintln!("stopped {:?} after SIGTERM", started.elapsed());
}

#[test]
fn the_server_configuration_gives_the_parameters_a_job_leaves_out() {
    let w = Work::new();
    let body = std::fs::read(export(&w, "export.json", 400, 2)).expect("export");
    let dir = w.path("trees");
    std::fs::create_dir_all(&dir).expect("config dir");
    let yaml = mcp_train_core::config::DEFAULT_MODEL_CONFIG.replacen(
        "n_estimators: 100",
        "n_estimators: 7",
        1,
    );
    assert!(yaml.contains("n_estimators: 7"));
    std::fs::write(dir.join("model_config.yaml"), yaml).expect("writes the config");
    let s = fresh(&w, &["--config", &dir.to_string_lossy()]);
    let trees = |done: &Value| {
        let version = done["model"]["version"].as_str().unwrap_or_default();
        let model = s.get(&format!("/api/models/{version}/model")).json();
        model["detector"]["model"]["trees"].as_array().map(Vec::len)
    };

    // As the web app sends a job whose form was changed only in its seed.
    let id = s.start_job("/api/training/jobs?seed=5", &body);
    let done = s.finished_job(&id, Duration::from_secs(60));
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["params"]["n_estimators"], 7, "{done}");
    assert_eq!(done["params"]["seed"], 5, "{done}");
    assert_eq!(trees(&done), Some(7), "{done}");

    // A chosen value still wins over the configuration.
    let id = s.start_job(
        "/api/training/jobs?n_estimators=3&created_at_micros=1700000060000000",
        &body,
    );
    let done = s.finished_job(&id, Duration::from_secs(60));
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(trees(&done), Some(3), "{done}");

    // Out of the core's bounds: refused before a job starts.
    for query in ["n_neighbors=10001", "n_estimators=10001"] {
        // No body: the server refuses the parameters before it reads one, and a body still
        // being sent then would meet a closed connection (broken pipe) instead of the answer.
        let r = s.post(&format!("/api/training/jobs?{query}"), b"");
        let error = r.assert_error(400, "invalid_parameter");
        let message = error["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("a whole number from 1 to 10000"),
            "{query}: {message}"
        );
    }
}

#[test]
fn answers_read_as_the_core_wire_types_and_write_back_byte_for_byte() {
    use mcp_train_core::api::{ErrorBody, Health, Job, JobList, JobStatus, ModelList};
    let w = Work::new();
    let e = export(&w, "export.json", 300, 3);
    let s = fresh(&w, &[]);
    let health = s.get("/api/health");
    let read: Health = serde_json::from_slice(&health.body).expect("a Health");
    assert_eq!(serde_json::to_string(&read).expect("writes"), health.text());

    let export_bytes = std::fs::read(&e).expect("reads the export");
    let id = s.start_job("/api/training/jobs?seed=3", &export_bytes);
    s.finished_job(&id, Duration::from_secs(120));
    let one = s.get(&format!("/api/training/jobs/{id}"));
    let job: Job = serde_json::from_slice(&one.body).expect("a Job");
    assert_eq!(job.status, JobStatus::Completed, "{}", one.text());
    assert_eq!(serde_json::to_string(&job).expect("writes"), one.text());
    // Lists went through `json!` (sorted keys), and still do.
    let all = s.get("/api/training/jobs");
    let list: JobList = serde_json::from_slice(&all.body).expect("a JobList");
    assert_eq!(list.jobs, vec![job]);
    let sorted = serde_json::to_value(&list).expect("writes").to_string();
    assert_eq!(sorted, all.text());
    let models = s.get("/api/models");
    let list: ModelList = serde_json::from_slice(&models.body).expect("a ModelList");
    assert_eq!(list.models.len(), 1);
    let sorted = serde_json::to_value(&list).expect("writes").to_string();
    assert_eq!(sorted, models.text());

    let missing = s.get("/api/models/20200101_000000");
    missing.assert_error(404, "not_found");
    let body: ErrorBody = serde_json::from_slice(&missing.body).expect("an ErrorBody");
    assert_eq!(
        serde_json::to_string(&body).expect("writes"),
        missing.text()
    );
}

/// The deployment time is one rule (`mcp_train_core::package::deployment_time`): a model never
/// deployed records its creation time, whoever packages it and whenever it was registered.
#[test]
fn an_undeployed_model_packages_to_one_byte_string_from_the_cli_the_server_and_the_web_app() {
    use mcp_train_core::package::{self, PackagedModel};
    use mcp_train_core::registry::ModelRecord;
    let w = Work::new();
    let e = export(&w, "export.json", 300, 5);
    let model = train(&w, &e, 5, EPOCH);
    let version = version_of(&model);
    let file = w.path("model.json");
    std::fs::write(&file, &model).expect("writes the model");

    // The CLI, from the file.
    let from_file = w.path("file.zip");
    ok(&run(
        &[
            "package",
            &file.to_string_lossy(),
            "--out",
            &from_file.to_string_lossy(),
        ],
        &[],
    ));
    let cli = std::fs::read(&from_file).expect("reads the CLI's package");

    // The CLI, from a registry that registered it (trained again: the same bytes).
    let registry = w.s("registry");
    ok(&run(
        &[
            "train",
            &e,
            "--seed",
            "5",
            "--register",
            "--registry",
            &registry,
            "--out",
            &w.s("again.json"),
            "--quiet",
        ],
        &[("SOURCE_DATE_EPOCH", &EPOCH.to_string())],
    ));
    let from_registry = w.path("registry.zip");
    ok(&run(
        &[
            "package",
            &version,
            "--registry",
            &registry,
            "--out",
            &from_registry.to_string_lossy(),
        ],
        &[],
    ));
    let cli_registry = std::fs::read(&from_registry).expect("reads the package");

    // The server, which registers it now (long after its creation), and keeps it undeployed.
    let s = fresh(&w, &[]);
    assert_eq!(s.post("/api/models", &model).status, 201);
    let served = s.get(&format!("/api/models/{version}/package"));
    assert_eq!(served.status, 200, "{}", served.text());
    let record: ModelRecord =
        serde_json::from_value(s.get(&format!("/api/models/{version}")).json())
            .expect("a model record");
    assert_eq!(record.status.as_str(), "ready");
    assert_ne!(record.registered_at, record.created_at);

    // The web app: the same record and model bytes (its IndexedDB registry holds them), the
    // time from the core rule, the ZIP built by `package::build` in its worker.
    let at = package::deployment_time(PackagedModel::Registered(&record), None).expect("a time");
    let web = package::build(&model, at).expect("builds").bytes;

    assert_package_verifies(&cli, &version);
    for (name, bytes) in [
        ("the CLI from a registry", &cli_registry),
        ("the server", &served.body),
        ("the web app", &web),
    ] {
        assert!(
            *bytes == cli,
            "{name}: sha256 {} differs from the CLI's {}",
            sha256(bytes),
            sha256(&cli)
        );
    }
}
