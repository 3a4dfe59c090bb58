//! `mcp-train serve` under concurrent load: many uploads and downloads at once, and several
//! server processes sharing one data directory.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::thread;

use serde_json::json;

use crate::common;

use common::server::{
    assert_listed_models_are_complete, assert_package_verifies, dist, export, metric, sha256,
    train, version_of, Server,
};
use common::Work;

/// `n` distinct models, one minute apart from `epoch`.
fn models(work: &Work, n: usize, epoch: i64) -> Vec<(String, Vec<u8>)> {
    let e = export(work, "export.json", 300, 1);
    (0..n)
        .map(|i| {
            let bytes = train(work, &e, i as u64, epoch + 60 * i as i64);
            (version_of(&bytes), bytes)
        })
        .collect()
}

#[test]
fn fifty_concurrent_uploads_and_downloads_account_for_every_byte() {
    let w = Work::new();
    let models = Arc::new(models(&w, 50, 1_700_000_000));
    let s = Arc::new(Server::start(&w.path("data"), &dist(&w), &[]));
    let handles: Vec<_> = (0..models.len())
        .map(|i| {
            let (s, models) = (Arc::clone(&s), Arc::clone(&models));
            thread::spawn(move || {
                let (version, bytes) = &models[i];
                let up = s.post("/api/models", bytes);
                assert_eq!(up.status, 201, "{version}: {}", up.text());
                let record = up.json();
                assert_eq!(record["version"], version.as_str());
                assert_eq!(record["sha256"], sha256(bytes), "{version}");
                assert_eq!(record["size_bytes"], bytes.len(), "{version}");
                // Download it back, and another thread's model if it is there yet.
                let down = s.get(&format!("/api/models/{version}/model"));
                assert_eq!(down.status, 200, "{version}");
                assert!(down.body == *bytes, "{version}: the download differs");
                let (other, other_bytes) = &models[(i * 7 + 3) % models.len()];
                let r = s.get(&format!("/api/models/{other}/model"));
                assert!(
                    (r.status == 200 && r.body == *other_bytes) || r.status == 404,
                    "{other}: {} ({} bytes)",
                    r.status,
                    r.body.len()
                );
                if i % 5 == 0 {
                    let p = s.get(&format!("/api/models/{version}/package"));
                    assert_eq!(p.status, 200, "{version}: {}", p.text());
                    assert_eq!(
                        p.header("content-length"),
                        Some(p.body.len().to_string().as_str())
                    );
                    assert_package_verifies(&p.body, version);
                }
                bytes.len()
            })
        })
        .collect();
    let mut sent = 0usize;
    let mut failures = Vec::new();
    for h in handles {
        match h.join() {
            Ok(n) => sent += n,
            Err(e) => failures.push(
                e.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default(),
            ),
        }
    }
    assert!(
        failures.is_empty(),
        "{} threads failed: {failures:#?}",
        failures.len()
    );

    let expected: BTreeSet<String> = models.iter().map(|(v, _)| v.clone()).collect();
    let listed = s.versions();
    assert_eq!(listed.len(), 50, "{listed:?}");
    assert_eq!(listed.iter().cloned().collect::<BTreeSet<_>>(), expected);
    let mut newest_first = listed.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(listed, newest_first, "not newest first");
    for (version, bytes) in models.iter() {
        let r = s.get(&format!("/api/models/{version}/model"));
        assert!(r.body == *bytes, "{version} differs after the load");
    }
    let h = s.get("/api/health").json();
    assert_eq!(h["storage"]["models"], 50, "{h}");
    assert!(
        h["storage"]["bytes"]
            .as_u64()
            .is_some_and(|b| b >= sent as u64),
        "{h}: {sent} bytes were uploaded"
    );
    let m = s.metrics();
    assert_eq!(
        metric(
            &m,
            "mcp_train_http_upload_bytes_total",
            &["route=\"/api/models\""]
        ),
        Some(sent as f64),
        "the upload counter does not account for the {sent} bytes sent:\n{m}"
    );
    assert_eq!(
        metric(
            &m,
            "mcp_train_http_requests_total",
            &["method=\"POST\"", "route=\"/api/models\"", "status=\"201\""]
        ),
        Some(50.0),
        "{m}"
    );
    assert_eq!(
        metric(&m, "mcp_train_models", &["status=\"ready\""]),
        Some(50.0),
        "{m}"
    );
}

#[test]
fn two_servers_on_one_data_dir_agree_under_concurrent_writes() {
    let w = Work::new();
    let models = Arc::new(models(&w, 16, 1_710_000_000));
    let e = export(&w, "other.json", 300, 2);
    // Same version as models[0], other bytes.
    let rival = train(&w, &e, 99, 1_710_000_000);
    assert_eq!(version_of(&rival), models[0].0);
    let web = dist(&w);
    let a = Arc::new(Server::start(&w.path("data"), &web, &[]));
    let b = Arc::new(Server::start(&w.path("data"), &web, &[]));

    // Every model is uploaded to both servers at once: one of them registers it (201), the
    // other finds the same bytes (200). models[0] races against a rival with other bytes.
    let mut handles = Vec::new();
    for i in 0..models.len() {
        for (n, server) in [Arc::clone(&a), Arc::clone(&b)].into_iter().enumerate() {
            let models = Arc::clone(&models);
            let rival = rival.clone();
            handles.push(thread::spawn(move || {
                let (version, bytes) = &models[i];
                let body = if i == 0 && n == 1 { &rival } else { bytes };
                let r = server.post("/api/models", body);
                (version.clone(), n, r.status, r.text())
            }));
        }
    }
    let results: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().expect("upload thread"))
        .collect();
    for (i, (version, _)) in models.iter().enumerate() {
        let mut statuses: Vec<u16> = results
            .iter()
            .filter(|r| r.0 == *version)
            .map(|r| r.2)
            .collect();
        statuses.sort_unstable();
        let expected = if i == 0 {
            vec![201, 409]
        } else {
            vec![200, 201]
        };
        assert_eq!(
            statuses,
            expected,
            "{version}: {:?}",
            results
                .iter()
                .filter(|r| r.0 == *version)
                .collect::<Vec<_>>()
        );
    }
    let from_a = a.versions();
    assert_eq!(from_a.len(), 16, "{from_a:?}");
    assert_eq!(
        from_a,
        b.versions(),
        "the two servers list different models"
    );
    assert_eq!(a.get("/api/models").json(), b.get("/api/models").json());
    // Whichever of models[0] and the rival won, both servers serve the same bytes.
    let v0 = &models[0].0;
    let m0a = a.get(&format!("/api/models/{v0}/model")).body;
    let m0b = b.get(&format!("/api/models/{v0}/model")).body;
    assert!(m0a == m0b, "the servers disagree on {v0}");
    assert!(m0a == models[0].1 || m0a == rival, "{v0} is neither upload");
    for (version, bytes) in models.iter().skip(1) {
        let r = b.get(&format!("/api/models/{version}/model"));
        assert!(r.body == *bytes, "{version} differs");
    }

    // Both try to deploy a different model, both believing none is deployed: one wins.
    let (v1, v2) = (models[1].0.clone(), models[2].0.clone());
    let ta = {
        let a = Arc::clone(&a);
        let v = v1.clone();
        thread::spawn(move || {
            a.post_json(
                &format!("/api/models/{v}/deploy"),
                &json!({ "expected_deployed": null }),
            )
        })
    };
    let tb = {
        let b = Arc::clone(&b);
        let v = v2.clone();
        thread::spawn(move || {
            b.post_json(
                &format!("/api/models/{v}/deploy"),
                &json!({ "expected_deployed": null }),
            )
        })
    };
    let (ra, rb) = (ta.join().expect("deploy a"), tb.join().expect("deploy b"));
    let mut statuses = [ra.status, rb.status];
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [200, 409],
        "two deploys with the same precondition: {} {} / {} {}",
        ra.status,
        ra.text(),
        rb.status,
        rb.text()
    );
    let winner = if ra.status == 200 { &v1 } else { &v2 };
    assert_eq!(
        a.get("/api/models/deployed").json()["version"],
        winner.as_str()
    );
    assert_eq!(
        b.get("/api/models/deployed").json()["version"],
        winner.as_str()
    );
    let deployed = a.get("/api/models?status=deployed").json();
    assert_eq!(
        deployed["models"].as_array().map(Vec::len),
        Some(1),
        "{deployed}"
    );

    // Training on both at once, and the CLI registering into the same directory: everyone
    // sees all three models.
    let export_bytes = std::fs::read(&e).expect("export");
    let jobs: Vec<_> = [(&a, 1_711_000_000i64), (&b, 1_711_000_060)]
        .into_iter()
        .map(|(server, at)| {
            server.start_job(
                &format!("/api/training/jobs?created_at_micros={}", at * 1_000_000),
                &export_bytes,
            )
        })
        .collect();
    let cli = common::run(
        &[
            "train",
            &e,
            "--quiet",
            "--register",
            "--registry",
            &w.s("data"),
            "--out",
            &w.s("cli.json"),
        ],
        &[("SOURCE_DATE_EPOCH", "1711000120")],
    );
    common::ok(&cli);
    for (server, id) in [(&a, &jobs[0]), (&b, &jobs[1])] {
        let done = server.finished_job(id, std::time::Duration::from_secs(60));
        assert_eq!(done["status"], "completed", "{done}");
    }
    for v in ["20240321_054640", "20240321_054740", "20240321_054840"] {
        assert_eq!(a.get(&format!("/api/models/{v}")).status, 200, "{v} on a");
        assert_eq!(b.get(&format!("/api/models/{v}")).status, 200, "{v} on b");
    }

    // Deletes on one server are seen by the other.
    let gone = &models[5].0;
    assert_eq!(a.delete(&format!("/api/models/{gone}")).status, 200);
    b.get(&format!("/api/models/{gone}"))
        .assert_error(404, "not_found");
    assert_eq!(a.versions(), b.versions());
    assert_eq!(assert_listed_models_are_complete(&b).len(), 18);
}

#[test]
fn racing_uploads_of_one_version_register_it_once() {
    let w = Work::new();
    let e = export(&w, "export.json", 300, 1);
    let model = Arc::new(train(&w, &e, 1, 1_712_000_000));
    let rival = Arc::new(train(&w, &e, 2, 1_712_000_000));
    let s = Arc::new(Server::start(&w.path("data"), &dist(&w), &[]));
    let handles: Vec<_> = (0..12)
        .map(|i| {
            let (s, model, rival) = (Arc::clone(&s), Arc::clone(&model), Arc::clone(&rival));
            thread::spawn(move || {
                let body = if i % 4 == 3 { &rival } else { &model };
                let r = s.post("/api/models", body);
                (i % 4 == 3, r.status, r.text())
            })
        })
        .collect();
    let results: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().expect("upload thread"))
        .collect();
    let created: Vec<_> = results.iter().filter(|r| r.1 == 201).collect();
    assert_eq!(created.len(), 1, "{results:#?}");
    let winner_is_rival = created[0].0;
    for (is_rival, status, text) in &results {
        let expected = if *is_rival == winner_is_rival {
            [200, 201]
        } else {
            [409, 409]
        };
        assert!(expected.contains(status), "{is_rival} {status} {text}");
    }
    let m = s.get(&format!("/api/models/{}/model", version_of(&model)));
    let winner: &[u8] = if winner_is_rival { &rival } else { &model };
    assert!(
        m.body == winner,
        "the registered bytes are not the winner's"
    );
    assert_eq!(s.versions().len(), 1);
}
