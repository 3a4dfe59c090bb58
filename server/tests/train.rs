//! End-to-end tests of `mcp-train train`, `evaluate` and `score`, run as a person runs them.

use std::process::Command;

use serde_json::Value;

use crate::common;

use common::{failed, json, ok, run, text, Work};

#[test]
fn train_writes_a_model_with_metrics_and_lineage() {
    let w = Work::new();
    let export = w.synth("export.json", "5000", "11");
    let o = run(
        &["train", &export, "--out", &w.s("model.json"), "--seed", "3"],
        &[],
    );
    ok(&o);
    let summary = text(&o.stderr);
    assert!(
        summary.contains("trained isolation_forest on 4,000 rows × 41 features"),
        "{summary}"
    );
    assert!(
        summary.contains("metrics    on 1,000 held-out rows: accuracy"),
        "{summary}"
    );
    let model = json(&w.path("model.json"));
    assert_eq!(model["format"], "mcp-train-model");
    assert_eq!(model["detector"]["type"], "isolation_forest");
    assert_eq!(
        model["detector"]["model"]["trees"].as_array().map(Vec::len),
        Some(100)
    );
    assert_eq!(model["input"]["name"], "wifi-v1");
    assert_eq!(
        model["input"]["vocabulary"]["entries"][0]["name"],
        "hostapd"
    );
    let auc = model["evaluation"]["metrics"]["roc_auc"]
        .as_f64()
        .unwrap_or(0.0);
    assert!(auc >= 0.9, "ROC AUC {auc}");
    let bytes = std::fs::read(&export).expect("export");
    assert_eq!(model["lineage"]["size_bytes"], bytes.len());
    assert_eq!(model["lineage"]["file_name"], "export.json");
    let sha = model["lineage"]["sha256"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let expected = Command::new("sha256sum")
        .arg(&export)
        .output()
        .map(|o| text(&o.stdout))
        .unwrap_or_default();
    assert!(expected.starts_with(&sha), "{sha} vs {expected}");
}

#[test]
fn source_date_epoch_makes_training_byte_identical() {
    let w = Work::new();
    let export = w.synth("export.json", "2000", "12");
    let env = [("SOURCE_DATE_EPOCH", "1700000000")];
    ok(&run(&["train", &export, "--out", &w.s("a.json")], &env));
    ok(&run(&["train", &export, "--out", &w.s("b.json")], &env));
    let a = std::fs::read(w.path("a.json")).expect("a");
    assert_eq!(a, std::fs::read(w.path("b.json")).expect("b"));
    let model = json(&w.path("a.json"));
    assert_eq!(model["version"], "20231114_221320");
    assert_eq!(model["created_at"], "2023-11-14T22:13:20Z");
    assert_eq!(model["training"]["duration_ms"], 0.0);
    ok(&run(
        &["train", &export, "--seed", "99", "--out", &w.s("c.json")],
        &env,
    ));
    assert_ne!(a, std::fs::read(w.path("c.json")).expect("c"));
    let o = run(
        &["train", &export, "--out", &w.s("d.json")],
        &[("SOURCE_DATE_EPOCH", "soon")],
    );
    assert_eq!(failed(&o), 2);
}

#[test]
fn score_writes_one_row_per_record_in_csv_or_json() {
    let w = Work::new();
    let export = w.synth("export.json", "1500", "13");
    ok(&run(&["train", &export, "--out", &w.s("model.json")], &[]));
    let o = run(
        &[
            "score",
            &w.s("model.json"),
            &export,
            "--out",
            &w.s("scores.csv"),
        ],
        &[],
    );
    ok(&o);
    assert!(
        text(&o.stderr).starts_with("scored 1,500 records with model"),
        "{}",
        text(&o.stderr)
    );
    let csv = std::fs::read_to_string(w.path("scores.csv")).expect("csv");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("index,timestamp,score,decision,is_anomaly,label")
    );
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), 1500);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[0], i.to_string());
        let score: f64 = row[2].parse().expect("score");
        let decision: f64 = row[3].parse().expect("decision");
        assert!((-1.0..=0.0).contains(&score));
        assert_eq!(row[4] == "1", decision < 0.0);
    }

    ok(&run(
        &[
            "score",
            &w.s("model.json"),
            &export,
            "--out",
            &w.s("scores.json"),
            "--only-anomalies",
        ],
        &[],
    ));
    let scores = json(&w.path("scores.json"));
    let flagged = rows.iter().filter(|r| r[4] == "1").count();
    assert_eq!(scores.as_array().map(Vec::len), Some(flagged));
    assert!(scores
        .as_array()
        .is_some_and(|a| a.iter().all(|r| r["is_anomaly"] == true)));
}

#[test]
fn train_scores_are_the_bytes_score_writes() {
    let w = Work::new();
    let export = w.synth("export.json", "2000", "23");
    let o = run(
        &[
            "train",
            &export,
            "--out",
            &w.s("model.json"),
            "--scores",
            &w.s("train.csv"),
        ],
        &[],
    );
    ok(&o);
    let summary = text(&o.stderr);
    assert!(
        summary.contains("wrote scores of 2,000 rows ("),
        "{summary}"
    );
    ok(&run(
        &[
            "score",
            &w.s("model.json"),
            &export,
            "--out",
            &w.s("score.csv"),
        ],
        &[],
    ));
    let (kept, scored) = (w.path("train.csv"), w.path("score.csv"));
    assert_eq!(std::fs::read(&kept).ok(), std::fs::read(&scored).ok());
    assert_eq!(
        std::fs::read_to_string(&kept)
            .map(|t| t.lines().count())
            .ok(),
        Some(2001)
    );

    // A features CSV, JSON by the file name, the summary as JSON.
    let mut csv = String::from("a,b,c\n");
    for i in 0..3000u32 {
        let spike = if i % 300 == 5 { 50.0 } else { 0.0 };
        let row = [
            f64::from(i % 17) + spike,
            f64::from(i % 5) * 0.7,
            f64::from(i % 23),
        ];
        csv.push_str(&format!("{},{},{}\n", row[0], row[1], row[2]));
    }
    std::fs::write(w.path("f.csv"), &csv).expect("write");
    let o = run(
        &[
            "train",
            "--features-csv",
            &w.s("f.csv"),
            "--out",
            &w.s("f_model.json"),
            "--scores",
            &w.s("f_train.json"),
            "--json",
        ],
        &[],
    );
    ok(&o);
    let summary: Value = serde_json::from_slice(&o.stdout).expect("summary");
    assert_eq!(summary["scores"]["rows"], 3000);
    assert_eq!(summary["scores"]["out"], w.s("f_train.json"));
    ok(&run(
        &[
            "score",
            &w.s("f_model.json"),
            "--features-csv",
            &w.s("f.csv"),
            "--out",
            &w.s("f_score.json"),
        ],
        &[],
    ));
    let kept = std::fs::read(w.path("f_train.json")).ok();
    assert!(kept.as_ref().is_some_and(|k| k.starts_with(b"[")));
    assert_eq!(kept, std::fs::read(w.path("f_score.json")).ok());
    let flagged = json(&w.path("f_train.json")).as_array().map_or(0, |rows| {
        rows.iter().filter(|r| r["is_anomaly"] == true).count()
    });
    assert_eq!(summary["scores"]["flagged"], flagged);

    // A place the scores cannot go is said before any work, and no model is written.
    let o = run(
        &[
            "train",
            &export,
            "--out",
            &w.s("unwritten.json"),
            "--scores",
            &w.s("missing/dir/s.csv"),
        ],
        &[],
    );
    assert_eq!(failed(&o), 2);
    assert!(
        text(&o.stderr).contains("cannot create"),
        "{}",
        text(&o.stderr)
    );
    assert!(!text(&o.stderr).contains("trained"), "{}", text(&o.stderr));
    assert!(!w.path("unwritten.json").exists());

    // Both on stdout cannot be told apart: refused before any work.
    for clash in [&["--out", "-"][..], &["--json"][..]] {
        let mut args = vec!["train", &export, "--scores", "-"];
        args.extend_from_slice(clash);
        let o = run(&args, &[]);
        assert_eq!(failed(&o), 2);
        assert!(
            text(&o.stderr).contains("both write to stdout"),
            "{}",
            text(&o.stderr)
        );
    }
}

#[test]
fn evaluate_prints_metrics_for_a_labelled_export() {
    let w = Work::new();
    let train = w.synth("train.json", "3000", "14");
    let test = w.synth("test.json", "2000", "15");
    ok(&run(&["train", &train, "--out", &w.s("model.json")], &[]));
    let o = run(&["evaluate", &w.s("model.json"), &test, "--json"], &[]);
    ok(&o);
    let result: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(result["labelled"], 2000);
    assert_eq!(result["metrics"]["positives"], 160);
    assert!(
        result["metrics"]["roc_auc"].as_f64().unwrap_or(0.0) > 0.8,
        "{result}"
    );
    let o = run(&["evaluate", &w.s("model.json"), &test], &[]);
    ok(&o);
    assert!(
        text(&o.stdout).contains("metrics    accuracy"),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn lof_model_through_the_cli() {
    let w = Work::new();
    let export = w.synth("export.json", "1200", "16");
    let o = run(
        &[
            "train",
            &export,
            "--model",
            "lof",
            "--out",
            &w.s("lof.json"),
            "--json",
        ],
        &[],
    );
    ok(&o);
    let summary: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(summary["detector"], "lof");
    ok(&run(
        &["score", &w.s("lof.json"), &export, "--out", &w.s("s.csv")],
        &[],
    ));
    assert_eq!(
        std::fs::read_to_string(w.path("s.csv"))
            .map(|t| t.lines().count())
            .unwrap_or(0),
        1201
    );
}

#[test]
fn bring_your_own_features_csv() {
    let w = Work::new();
    let export = w.synth("export.json", "2000", "17");
    ok(&run(
        &[
            "features",
            &export,
            "--include-label",
            "--out",
            &w.s("f.csv"),
        ],
        &[],
    ));
    ok(&run(
        &[
            "train",
            "--features-csv",
            &w.s("f.csv"),
            "--out",
            &w.s("model.json"),
        ],
        &[],
    ));
    let model = json(&w.path("model.json"));
    assert_eq!(model["input"]["kind"], "features_csv");
    assert_eq!(
        model["input"]["features"].as_array().map(Vec::len),
        Some(41),
        "label column is not a feature"
    );
    assert!(model["evaluation"]["metrics"]["roc_auc"].as_f64().is_some());
    ok(&run(
        &[
            "score",
            &w.s("model.json"),
            "--features-csv",
            &w.s("f.csv"),
            "--out",
            &w.s("s.csv"),
        ],
        &[],
    ));
    assert_eq!(
        std::fs::read_to_string(w.path("s.csv"))
            .map(|t| t.lines().count())
            .unwrap_or(0),
        2001
    );

    std::fs::write(w.path("bad.csv"), "a,b\n1,2\n3,oops\n").expect("write");
    let o = run(
        &[
            "train",
            "--features-csv",
            &w.s("bad.csv"),
            "--out",
            &w.s("m.json"),
        ],
        &[],
    );
    assert_eq!(failed(&o), 1);
    assert!(
        text(&o.stderr).contains("row 2 (line 3), column \"b\": \"oops\" is not a number"),
        "{}",
        text(&o.stderr)
    );
    std::fs::write(w.path("ragged.csv"), "a,b\n1,2\n3\n").expect("write");
    let o = run(&["train", "--features-csv", &w.s("ragged.csv")], &[]);
    assert_eq!(failed(&o), 1);
    assert!(text(&o.stderr).contains("row 2 (line 3) has 1 cells, expected 2"));
    std::fs::write(w.path("nan.csv"), "a,b\n1,2\n3,NaN\n").expect("write");
    let o = run(&["train", "--features-csv", &w.s("nan.csv")], &[]);
    assert_eq!(failed(&o), 1);
    assert!(text(&o.stderr).contains("NaN is not a finite number"));
    let o = run(
        &[
            "train",
            "--features-csv",
            &w.s("f.csv"),
            "--label-column",
            "y",
        ],
        &[],
    );
    assert_eq!(failed(&o), 1);
    assert!(text(&o.stderr).contains("no label column \"y\""));
    // A model trained on exports refuses CSV input, and the other way round.
    ok(&run(
        &["train", &export, "--out", &w.s("export-model.json")],
        &[],
    ));
    let o = run(
        &[
            "score",
            &w.s("export-model.json"),
            "--features-csv",
            &w.s("f.csv"),
        ],
        &[],
    );
    assert_eq!(failed(&o), 1);
    let o = run(&["score", &w.s("model.json"), &export], &[]);
    assert_eq!(failed(&o), 1);
    assert!(text(&o.stderr).contains("trained on a features CSV"));
}

/// Regression: header names holding commas, quotes and line breaks, which our own CSV writer
/// quotes, used to split the header (the reader cut lines before it looked at quotes). Written
/// by `features` and core's writer, read by `train --features-csv` and `score`.
#[test]
fn features_csv_with_quoted_names_round_trips_through_train_and_score() {
    use mcp_train_core::features::{
        FeatureConfig, FeatureMatrix, FeatureSchema, ProcessVocabulary,
    };
    use mcp_train_core::pipeline::read_features_csv;

    let w = Work::new();
    let export = w.synth("export.json", "600", "5");
    ok(&run(
        &[
            "features",
            &export,
            "--include-label",
            "--out",
            &w.s("f.csv"),
        ],
        &[],
    ));
    let features = std::fs::read(w.path("f.csv")).expect("read f.csv");
    let read = read_features_csv(&features, None).expect("features output reads");
    let mut names = read.names.clone();
    names[0] = "rate, per \"minute\"\nlast 5".to_owned();
    names[1] = "two\r\nlines".to_owned();
    let rows = read.n_rows();
    let matrix = FeatureMatrix {
        schema: FeatureSchema {
            features: names.clone(),
            ..FeatureSchema::new(&FeatureConfig::default(), ProcessVocabulary::default())
        },
        data: read.data.clone(),
        record_index: (0..rows).collect(),
        timestamps: vec![0; rows],
        labels: read.labels.clone().expect("a label column"),
    };
    let mut quoted = Vec::new();
    matrix.write_csv(&mut quoted, true).expect("write");
    assert!(quoted.starts_with(b"\"rate, per \"\"minute\"\"\nlast 5\",\"two\r\nlines\","));
    std::fs::write(w.path("quoted.csv"), &quoted).expect("write quoted.csv");

    ok(&run(
        &[
            "train",
            "--features-csv",
            &w.s("quoted.csv"),
            "--out",
            &w.s("model.json"),
        ],
        &[],
    ));
    let model = json(&w.path("model.json"));
    let stored: Vec<&str> = model["input"]["features"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert_eq!(stored, names, "every name, quotes and line breaks included");
    ok(&run(
        &[
            "score",
            &w.s("model.json"),
            "--features-csv",
            &w.s("quoted.csv"),
            "--out",
            &w.s("s.csv"),
        ],
        &[],
    ));
    let scored = std::fs::read_to_string(w.path("s.csv")).unwrap_or_default();
    assert_eq!(scored.lines().count(), rows + 1);

    // A quote that never closes is an error naming where it opened, not one long cell.
    std::fs::write(w.path("open.csv"), "a,b\n1,\"2\n3,4\n").expect("write");
    let o = run(&["train", "--features-csv", &w.s("open.csv")], &[]);
    assert_eq!(failed(&o), 1);
    assert!(
        text(&o.stderr).contains(
            "row 1 (line 2, character 3), column \"b\": the quote opened here is never closed"
        ),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn bad_models_are_refused_with_a_reason() {
    let w = Work::new();
    let export = w.synth("export.json", "500", "18");
    ok(&run(&["train", &export, "--out", &w.s("model.json")], &[]));
    let good = std::fs::read_to_string(w.path("model.json")).expect("model");
    let cases = [
        (
            "corrupt.json",
            good[..good.len() / 2].to_owned(),
            "not a model file",
        ),
        (
            "other.json",
            good.replacen("\"format_version\": 1", "\"format_version\": 7", 1),
            "format version 7 is not supported",
        ),
        (
            "schema.json",
            good.replacen("\"name\": \"wifi-v1\"", "\"name\": \"wifi-v0\"", 1),
            "feature schema wifi-v0",
        ),
        (
            "foreign.json",
            "{\"format\": \"sklearn-joblib\"}".to_owned(),
            "not an mcp-train model",
        ),
    ];
    for (name, content, expected) in cases {
        std::fs::write(w.path(name), content).expect("write");
        let o = run(&["score", &w.s(name), &export], &[]);
        assert_eq!(failed(&o), 1, "{name}");
        assert!(
            text(&o.stderr).contains(expected),
            "{name}: {}",
            text(&o.stderr)
        );
    }
}

#[test]
fn bad_training_arguments() {
    let w = Work::new();
    let export = w.synth("export.json", "300", "19");
    assert_eq!(
        failed(&run(&["train", &export, "--contamination", "0.7"], &[])),
        2
    );
    assert_eq!(
        failed(&run(&["train", &export, "--contamination", "lots"], &[])),
        2
    );
    assert_eq!(run(&["train"], &[]).status.code(), Some(2));
    assert_eq!(
        run(&["train", &export, "--model", "svm"], &[])
            .status
            .code(),
        Some(2)
    );
    std::fs::write(w.path("empty.json"), "").expect("write");
    let o = run(&["train", &w.s("empty.json"), "--out", &w.s("m.json")], &[]);
    assert_eq!(failed(&o), 1);
    assert!(text(&o.stderr).contains("the export is empty"));
    assert!(!w.path("m.json").exists());
}

#[test]
fn every_parameter_flag_reaches_the_model() {
    let w = Work::new();
    let export = w.synth("export.json", "600", "23");
    let o = run(
        &[
            "train",
            &export,
            "--n-estimators",
            "7",
            "--max-samples",
            "64",
            "--contamination",
            "0.1",
            "--seed",
            "4",
            "--out",
            &w.s("forest.json"),
        ],
        &[],
    );
    ok(&o);
    let model = json(&w.path("forest.json"));
    let params = &model["detector"]["params"];
    assert_eq!(
        model["detector"]["model"]["trees"].as_array().map(Vec::len),
        Some(7)
    );
    assert_eq!(params["n_estimators"], 7, "{params}");
    assert_eq!(params["max_samples"], 64, "{params}");
    assert_eq!(params["contamination"], 0.1, "{params}");
    assert_eq!(params["random_state"], 4, "{params}");
    assert_eq!(model["training"]["seed"], 4);

    let o = run(
        &[
            "train",
            &export,
            "--model",
            "lof",
            "--n-neighbors",
            "5",
            "--seed",
            "8",
            "--out",
            &w.s("lof.json"),
        ],
        &[],
    );
    ok(&o);
    let model = json(&w.path("lof.json"));
    assert_eq!(model["detector"]["type"], "lof");
    assert_eq!(model["detector"]["params"]["n_neighbors"], 5);
    // LOF records its own seed.
    assert_eq!(model["detector"]["params"]["random_state"], 8);
    assert_eq!(model["training"]["seed"], 8);
}

#[test]
fn out_of_range_parameter_flags_are_usage_errors() {
    let w = Work::new();
    let export = w.synth("export.json", "300", "19");
    for (flag, value, expected) in [
        ("--n-neighbors", "10001", "a whole number from 1 to 10000"),
        ("--n-neighbors", "0", "a whole number from 1 to 10000"),
        ("--n-estimators", "10001", "a whole number from 1 to 10000"),
        (
            "--max-samples",
            "1.5",
            "a count ≥ 1 or a fraction in (0, 1]",
        ),
        (
            "--contamination",
            "0.7",
            "\"auto\" or a fraction in (0, 0.5]",
        ),
        ("--model", "svm", "isolation_forest or lof"),
    ] {
        let o = run(
            &["train", &export, flag, value, "--out", &w.s("m.json")],
            &[],
        );
        assert_eq!(failed(&o), 2, "{flag} {value}");
        let stderr = text(&o.stderr);
        assert!(
            stderr.contains(flag) && stderr.contains(expected) && stderr.contains(value),
            "{flag} {value}: {stderr}"
        );
        assert!(!w.path("m.json").exists());
    }
}
