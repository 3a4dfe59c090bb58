//! Every log type end to end, as a person runs it: `synth --log-type` → `validate` → `train` →
//! `score` and `detect` (stream = batch), and raw log text → `import` → the same scores.

use std::collections::BTreeSet;
use std::fs;

use serde_json::Value;

use crate::common::{failure, ok, run, stdout_json, Work};

const LOG_TYPES: [&str; 4] = ["wifi", "dns", "firewall", "syslog"];

fn synth(w: &Work, log_type: &str, records: &str) -> String {
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
    export
}

/// `score --format json` → per index (score, is_anomaly).
fn scores(model: &str, input: &str) -> Vec<(Value, bool)> {
    let rows = stdout_json(&run(&["score", model, input, "--format", "json"], &[]));
    let mut rows: Vec<Value> = rows.as_array().expect("rows").clone();
    rows.sort_by_key(|r| r["index"].as_u64());
    rows.iter()
        .map(|r| (r["score"].clone(), r["is_anomaly"].as_bool().expect("flag")))
        .collect()
}

#[test]
fn every_log_type_trains_and_detect_flags_what_score_flags() {
    let w = Work::new();
    for log_type in LOG_TYPES {
        let export = synth(&w, log_type, "4000");
        // Recognised from the records, checked against the log type's log schema.
        let report = stdout_json(&run(&["validate", &export, "--json"], &[]));
        assert_eq!(report["log_type"], log_type);
        assert_eq!(report["valid"], true, "{log_type}: {report}");

        let model = w.s(&format!("{log_type}-model.json"));
        let summary = stdout_json(&run(
            &[
                "train", &export, "--seed", "3", "--out", &model, "--json", "-q",
            ],
            &[],
        ));
        let artifact = crate::common::json(std::path::Path::new(&model));
        assert_eq!(artifact["log_type"], log_type);
        assert_eq!(artifact["protocol_version"], "1.0.0");
        let auc = summary["evaluation"]["metrics"]["roc_auc"]
            .as_f64()
            .or_else(|| artifact["evaluation"]["metrics"]["roc_auc"].as_f64())
            .unwrap_or_else(|| panic!("{log_type}: held-out ROC AUC in {summary}"));
        eprintln!("{log_type}: held-out ROC AUC {auc:.3}");
        assert!(auc > 0.8, "{log_type}: held-out ROC AUC {auc:.3}");

        let batch = scores(&model, &export);
        let flagged: BTreeSet<usize> = (0..batch.len()).filter(|&i| batch[i].1).collect();
        assert!(!flagged.is_empty(), "{log_type}: nothing flagged");
        let all = ok(&run(&["detect", &model, &export, "--all"], &[]));
        let reports: Vec<Value> = all
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect();
        assert_eq!(reports.len(), batch.len(), "{log_type}");
        for r in &reports {
            let i = r["entry"]["index"].as_u64().expect("index") as usize;
            assert_eq!(r["inference"]["score"], batch[i].0, "{log_type} record {i}");
        }
        let anomalies = ok(&run(&["detect", &model, &export], &[]));
        let found: BTreeSet<usize> = anomalies
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).expect("JSON line");
                v["entry"]["index"].as_u64().expect("index") as usize
            })
            .collect();
        assert_eq!(found, flagged, "{log_type}: detect flags what score flags");
    }
}

/// Raw syslog lines of an export's records: `ISO-8601 host process[pid]: message`.
fn raw_lines(export: &str) -> String {
    let doc = crate::common::json(std::path::Path::new(export));
    let mut out = String::new();
    for r in doc["data"].as_array().expect("data") {
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
    }
    out
}

#[test]
fn raw_logs_import_to_exports_that_score_the_same() {
    let w = Work::new();
    for log_type in ["dns", "syslog"] {
        let export = synth(&w, log_type, "1500");
        let raw = w.path(&format!("{log_type}.log"));
        fs::write(&raw, raw_lines(&export)).expect("writes");
        let raw = raw.to_string_lossy().into_owned();

        let report = stdout_json(&run(&["validate", &raw, "--json"], &[]));
        assert_eq!(report["log_type"], log_type, "{report}");
        assert_eq!(report["valid"], true, "{report}");

        let imported = w.s(&format!("{log_type}-imported.json"));
        ok(&run(
            &["import", "--log-type", log_type, &raw, "--out", &imported],
            &[],
        ));
        let report = stdout_json(&run(
            &["validate", "--log-type", log_type, &imported, "--json"],
            &[],
        ));
        assert_eq!(report["valid"], true, "{report}");
        assert_eq!(report["errors"].as_array().map(Vec::len), Some(0));

        // A model trained on the raw log scores the raw log and its export alike.
        let model = w.s(&format!("{log_type}-raw-model.json"));
        ok(&run(
            &["train", &raw, "--seed", "3", "--out", &model, "-q"],
            &[],
        ));
        assert_eq!(
            scores(&model, &raw),
            scores(&model, &imported),
            "{log_type}"
        );
    }

    // Bad lines: named with line and column, nothing written without --drop-invalid.
    let bad = w.path("bad.log");
    fs::write(
        &bad,
        "Dec  3 17:50:14 gw dnsmasq[7]: query[A] a.example from 10.0.0.2\n\
         Dec 33 17:50:14 gw dnsmasq[7]: query[A] b.example from 10.0.0.2\n",
    )
    .expect("writes");
    let out_path = w.s("bad.json");
    let (code, stderr) = failure(&run(
        &[
            "import",
            "--log-type",
            "dns",
            &bad.to_string_lossy(),
            "--out",
            &out_path,
        ],
        &[],
    ));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("line 2"), "{stderr}");
    assert!(!std::path::Path::new(&out_path).exists());
    ok(&run(
        &[
            "import",
            "--log-type",
            "dns",
            &bad.to_string_lossy(),
            "--out",
            &out_path,
            "--drop-invalid",
        ],
        &[],
    ));
    let doc = crate::common::json(std::path::Path::new(&out_path));
    assert_eq!(doc["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(doc["export_metadata"]["log_type"], "dns");

    // An unknown log type is a usage error naming it.
    let (code, stderr) = failure(&run(
        &["validate", "--log-type", "netflow", &bad.to_string_lossy()],
        &[],
    ));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("netflow"), "{stderr}");
}
