//! The knowledge base on an injected attack: a wifi model trained on synthetic traffic scans a
//! night of password guessing (a burst of `AP-STA-POSSIBLE-PSK-MISMATCH` from one MAC); an
//! analyst resolves one of its anomalies with a note; a second burst a night later is then
//! explained with the features that mattered, the catalogue entry for its event and the past
//! anomaly with the analyst's verdict — and `search_knowledge`, `mcp-train kb search` and
//! `GET /api/kb/search` find the same entry and anomaly in the same index.

use mcp_train::mcp::McpConfig;
use serde_json::{json, Value};

use crate::common::mcp::Mcp;
use crate::common::server::{dist, Server};
use crate::common::{ok, run, stdout_json, Work};
use crate::openapi::Document;

const ATTACKER: &str = "de:ad:be:ef:00:01";

/// `count` PSK mismatches of `ATTACKER` on ap-02, two seconds apart, from `day` 03:10 UTC, with
/// the station's association attempts between them, as hostapd logs them.
fn burst(day: u32, count: u32) -> String {
    let mut out = String::new();
    for i in 0..count {
        let (m, s) = (10 + i * 2 / 60, i * 2 % 60);
        let at = format!("2024-01-{day:02}T03:{m:02}:{s:02}.000000Z");
        out.push_str(&format!(
            "{at} ap-02 hostapd[42]: wlan0: STA {ATTACKER} IEEE 802.11: associated (aid 3)\n"
        ));
        out.push_str(&format!(
            "{at} ap-02 hostapd[42]: wlan0: AP-STA-POSSIBLE-PSK-MISMATCH {ATTACKER}\n"
        ));
    }
    out
}

/// A data directory with a wifi model trained on synthetic traffic and deployed.
fn deployed_wifi(w: &Work) -> String {
    let export = w.s("wifi.json");
    ok(&run(
        &[
            "synth",
            "--records",
            "4000",
            "--seed",
            "11",
            "--out",
            &export,
            "-q",
        ],
        &[],
    ));
    let data = w.s("data");
    let summary = stdout_json(&run(
        &[
            "train",
            &export,
            "--seed",
            "3",
            "--out",
            &w.s("model.json"),
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
    data
}

/// Registers `text` as a raw wifi log and scans it with the deployed model; the anomalies'
/// ids.
async fn detect(mcp: &Mcp, w: &Work, name: &str, text: &str) -> Vec<i64> {
    let path = w.path(name);
    std::fs::write(&path, text).expect("writes");
    let dataset = mcp
        .ok(
            "register_dataset",
            json!({"path": path.to_string_lossy(), "log_type": "wifi"}),
        )
        .await;
    let found = mcp
        .ok(
            "detect_anomalies",
            json!({"dataset": dataset["id"], "limit": 100}),
        )
        .await;
    let ids: Vec<i64> = found["stored_ids"]
        .as_array()
        .expect("stored_ids")
        .iter()
        .filter_map(Value::as_i64)
        .collect();
    assert!(!ids.is_empty(), "the burst was not flagged: {found}");
    ids
}

#[tokio::test]
async fn an_injected_attack_is_explained_from_the_catalogue_and_a_past_verdict() {
    let w = Work::new();
    let data = deployed_wifi(&w);
    let mcp = Mcp::start(
        std::path::Path::new(&data),
        McpConfig {
            stdio: true,
            ..McpConfig::default()
        },
    )
    .await;

    // The first night: flagged, and resolved by an analyst.
    let past = detect(&mcp, &w, "night-1.log", &burst(8, 40)).await;
    let past_id = past[0];
    let note = "password guessing from an unknown laptop in the car park; MAC blocked on all APs";
    mcp.ok(
        "set_anomaly_status",
        json!({"id": past_id, "status": "acknowledged", "by": "dana"}),
    )
    .await;
    mcp.ok(
        "set_anomaly_status",
        json!({"id": past_id, "status": "resolved", "note": note, "by": "dana"}),
    )
    .await;

    // The second night: explained.
    let new = detect(&mcp, &w, "night-2.log", &burst(9, 40)).await;
    let explained = mcp.ok("explain_anomaly", json!({"id": new[0]})).await;
    let features = explained["top_features"].as_array().expect("top_features");
    assert!(!features.is_empty(), "no feature named: {explained}");
    for f in features {
        let meaning = f["meaning"].as_str().expect("meaning");
        assert!(
            !meaning.contains("no description"),
            "feature {} has no meaning: {explained}",
            f["feature"]
        );
    }
    // The contributions are the detector's own, largest first.
    let contributions: Vec<f64> = features
        .iter()
        .map(|f| f["contribution"].as_f64().expect("contribution"))
        .collect();
    assert!(
        contributions.windows(2).all(|p| p[0] >= p[1]),
        "{contributions:?}"
    );
    let events = explained["events"].as_array().expect("events");
    assert!(
        events
            .iter()
            .any(|e| e["id"] == "wifi/AP-STA-POSSIBLE-PSK-MISMATCH"
                && e["matched_by"] == "message"
                && !e["what_to_check"].as_str().unwrap_or("").is_empty()),
        "the catalogue entry is missing: {explained}"
    );
    let similar = explained["similar"].as_array().expect("similar");
    let verdict = similar
        .iter()
        .find(|s| s["id"] == past_id)
        .unwrap_or_else(|| {
            panic!("the resolved anomaly {past_id} is not among the similar: {explained}")
        });
    assert_eq!(verdict["status"], "resolved", "{verdict}");
    assert_eq!(verdict["verdict_note"], note, "{verdict}");
    assert_eq!(verdict["verdict_by"], "dana", "{verdict}");
    let summary = explained["summary"].as_str().expect("summary");
    assert!(
        summary.contains(features[0]["feature"].as_str().unwrap()),
        "{summary}"
    );

    // Search: the catalogue entry first, the analyst's verdict on the past anomaly found by
    // its note's words, each citing its source.
    let hits = mcp
        .ok(
            "search_knowledge",
            json!({"query": "PSK mismatch", "limit": 20}),
        )
        .await;
    let results = hits["results"].as_array().expect("results");
    assert_eq!(
        results[0]["source"],
        json!({"kind": "catalogue", "id": "wifi/AP-STA-POSSIBLE-PSK-MISMATCH"}),
        "{hits}"
    );
    let past_ref = json!({"kind": "anomaly", "id": past_id.to_string()});
    assert!(
        results.iter().any(|r| r["source"] == past_ref),
        "anomaly {past_id} is not found: {hits}"
    );
    let by_note = mcp
        .ok(
            "search_knowledge",
            json!({"query": "car park laptop", "kinds": ["verdict"]}),
        )
        .await;
    assert_eq!(by_note["results"][0]["source"], past_ref, "{by_note}");
    assert!(
        by_note["results"][0]["snippet"]
            .as_str()
            .unwrap()
            .contains("[car]"),
        "{by_note}"
    );
    drop(mcp);

    // The command line and the HTTP API answer from the same index.
    let cli = stdout_json(&run(
        &[
            "kb",
            "search",
            "car",
            "park",
            "laptop",
            "--kind",
            "verdict",
            "--data-dir",
            &data,
            "--json",
        ],
        &[],
    ));
    assert_eq!(cli["results"], by_note["results"]);
    let explain_cli = stdout_json(&run(
        &[
            "kb",
            "explain",
            &new[0].to_string(),
            "--data-dir",
            &data,
            "--json",
        ],
        &[],
    ));
    assert_eq!(explain_cli["top_features"], explained["top_features"]);
    // Over HTTP: the same answers, each a response the OpenAPI document declares.
    let server = Server::start(std::path::Path::new(&data), &dist(&w), &[]);
    let doc = Document::fetch(&server);
    let (search, explanation) = ("/api/kb/search", "/api/anomalies/{id}/explanation");
    let reply = server.get("/api/kb/search?q=car+park+laptop&kind=verdict");
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        doc.check("get", search, &reply)["results"],
        by_note["results"]
    );
    let reply = server.get(&format!("/api/anomalies/{}/explanation", new[0]));
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        doc.check("get", explanation, &reply)["similar"],
        explained["similar"]
    );
    for (path, template, status) in [
        ("/api/kb/search?q=%3F%21", search, 400),
        ("/api/kb/search?q=psk&limit=101", search, 400),
        ("/api/kb/search?q=psk&colour=red", search, 400),
        ("/api/anomalies/999999/explanation", explanation, 404),
        ("/api/anomalies/abc/explanation", explanation, 400),
    ] {
        let reply = server.get(path);
        assert_eq!(reply.status, status, "{path}: {}", reply.text());
        assert!(
            doc.check("get", template, &reply)["error"]["message"].is_string(),
            "{path}"
        );
    }
    // A rebuild indexes the same documents again.
    let rebuilt = stdout_json(&run(&["kb", "rebuild", "--data-dir", &data, "--json"], &[]));
    assert!(rebuilt["anomalies"].as_u64().unwrap() >= (past.len() + new.len()) as u64);
    assert!(rebuilt["verdicts"].as_u64().unwrap() >= 2, "{rebuilt}");
}
