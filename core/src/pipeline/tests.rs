use super::*;
use crate::config::Config;
use crate::synth::{write_export, SynthConfig};

const NOW: i64 = 1_704_067_200_000_000; // 2024-01-01T00:00:00Z

fn synth(records: usize, ratio: f64, seed: u64) -> Vec<u8> {
    let config = SynthConfig {
        records,
        anomaly_ratio: ratio,
        seed,
        ..SynthConfig::default()
    }
    .check()
    .expect("synth config");
    let mut bytes = Vec::new();
    write_export(&config, &mut bytes).expect("synth");
    bytes
}

/// The built-in configuration with `choices` (and seed 7 unless chosen).
fn options_with(mut choices: TrainChoices) -> TrainOptions {
    let config = Config::defaults();
    choices.seed = choices.seed.or(Some(7));
    choices
        .resolve(&config)
        .expect("valid choices")
        .options(&config, NOW)
}

fn options() -> TrainOptions {
    options_with(TrainChoices::default())
}

fn run(input: TrainInput<'_>, options: &TrainOptions) -> Result<Trained, TrainError> {
    let mut progress = |_: &Progress| true;
    train(
        input,
        options,
        Hooks {
            progress: &mut progress,
            elapsed_ms: &|| 0.0,
        },
    )
}

fn export(bytes: &[u8]) -> TrainInput<'_> {
    TrainInput::Export {
        bytes,
        file_name: "export.json",
        log_type: None,
    }
}

#[test]
fn isolation_forest_finds_the_injected_incidents() {
    let bytes = synth(6_000, 0.08, 3);
    let trained = run(export(&bytes), &options()).expect("trains");
    let model = &trained.artifact;
    assert_eq!(model.detector.name(), "isolation_forest");
    assert_eq!(model.version, "20240101_000000");
    assert_eq!(model.training.samples + model.training.test_samples, 6_000);
    assert_eq!(model.training.test_samples, 1_200);
    assert_eq!(model.lineage.size_bytes, bytes.len() as u64);
    assert_eq!(model.lineage.sha256.len(), 64);
    let metrics = model
        .evaluation
        .metrics
        .as_ref()
        .expect("labelled export has metrics");
    let auc = metrics.roc_auc.expect("both classes in the test split");
    assert!(auc >= 0.9, "ROC AUC {auc} on injected incidents");
    assert!(model.evaluation.roc_curve.is_some() && model.evaluation.pr_curve.is_some());
    assert_eq!(model.evaluation.feature_importance.len(), 41);
    assert_eq!(
        model.evaluation.score_histogram.counts.iter().sum::<u64>(),
        6_000
    );
}

#[test]
fn same_inputs_seed_and_now_give_identical_bytes() {
    let bytes = synth(2_000, 0.05, 1);
    let a = run(export(&bytes), &options())
        .expect("trains")
        .artifact
        .to_json();
    let b = run(export(&bytes), &options())
        .expect("trains")
        .artifact
        .to_json();
    assert_eq!(a, b);
    let other = options_with(TrainChoices {
        seed: Some(8),
        ..TrainChoices::default()
    });
    let c = run(export(&bytes), &other)
        .expect("trains")
        .artifact
        .to_json();
    assert_ne!(a, c);
}

#[test]
fn model_file_round_trips_and_scores_the_same() {
    let bytes = synth(1_500, 0.05, 2);
    let model = run(export(&bytes), &options()).expect("trains").artifact;
    let loaded = ModelArtifact::from_json(&model.to_json()).expect("loads");
    assert_eq!(loaded, model);
    let validate = ValidateOptions::default();
    let input = ScoreInput::Export {
        bytes: &bytes,
        options: &validate,
    };
    let a = score(&model, input).expect("scores");
    let b = score(&loaded, input).expect("scores");
    assert_eq!(a, b);
    assert_eq!(a.rows.len(), 1_500);
    let indices: Vec<usize> = a.rows.iter().map(|r| r.index).collect();
    assert_eq!(indices, (0..1_500).collect::<Vec<_>>(), "input order");
    assert!(a
        .rows
        .iter()
        .all(|r| (r.decision - (r.score - model.threshold.offset)).abs() == 0.0));
    assert!(a.rows.iter().all(|r| r.is_anomaly == (r.decision < 0.0)));
}

#[test]
fn scoring_the_training_rows_reproduces_the_stored_statistics() {
    let bytes = synth(1_000, 0.05, 4);
    let mut unlabelled = options();
    unlabelled.config.training.evaluation.test_size = 0.2;
    let model = run(export(&bytes), &unlabelled).expect("trains").artifact;
    let validate = ValidateOptions::default();
    let scored = score(
        &model,
        ScoreInput::Export {
            bytes: &bytes,
            options: &validate,
        },
    )
    .expect("scores");
    let mean = scored.rows.iter().map(|r| r.score).sum::<f64>() / scored.rows.len() as f64;
    assert!((mean - model.evaluation.score_stats.mean).abs() < 1e-12);
}

#[test]
fn refuses_other_formats_versions_and_schemas() {
    let bytes = synth(500, 0.05, 5);
    let model = run(export(&bytes), &options()).expect("trains").artifact;
    let json: serde_json::Value = serde_json::from_slice(&model.to_json()).expect("json");
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = json.clone();
        f(&mut v);
        ModelArtifact::from_json(&serde_json::to_vec(&v).expect("json"))
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    assert!(edit(&|v| v["format"] = "joblib".into()).contains("not an mcp-train model"));
    assert!(edit(&|v| v["format_version"] = 2.into()).contains("format version 2 is not supported"));
    assert!(edit(&|v| v["input"]["name"] = "wifi-v9".into()).contains("feature schema wifi-v9"));
    assert!(edit(&|v| v["input"]["extractor_version"] = "2.0.0".into()).contains("2.0.0"));
    let e = edit(&|v| v["scaler"]["mean"] = serde_json::json!([1.0]));
    assert!(e.contains("mean") && e.contains("scale"), "{e}");
    assert!(edit(&|v| v["threshold"]["offset"] = 0.25.into()).contains("offset"));
    let e = ModelArtifact::from_json(b"{\"format\": \"mcp-train-model\", \"format_version\": 1")
        .map(|_| ())
        .unwrap_err();
    assert!(e.to_string().starts_with("not a model file"), "{e}");
}

#[test]
fn progress_moves_forward_and_cancel_stops_the_run() {
    let bytes = synth(800, 0.05, 6);
    let mut seen = Vec::new();
    let mut progress = |p: &Progress| {
        seen.push((p.stage, p.fraction));
        true
    };
    train(
        export(&bytes),
        &options(),
        Hooks {
            progress: &mut progress,
            elapsed_ms: &|| 0.0,
        },
    )
    .expect("trains");
    assert!(seen.windows(2).all(|w| w[0].1 <= w[1].1), "{seen:?}");
    assert_eq!(seen.first().map(|s| s.0), Some(Stage::Validate));
    assert_eq!(seen.last(), Some(&(Stage::Done, 1.0)));

    let mut cancel_at_fit = |p: &Progress| p.stage != Stage::Fit;
    let result = train(
        export(&bytes),
        &options(),
        Hooks {
            progress: &mut cancel_at_fit,
            elapsed_ms: &|| 0.0,
        },
    );
    assert_eq!(result.map(|_| ()), Err(TrainError::Cancelled));
}

#[test]
fn lof_trains_and_scores() {
    let bytes = synth(1_200, 0.05, 7);
    let lof = options_with(TrainChoices {
        detector: Some(DetectorKind::Lof),
        ..TrainChoices::default()
    });
    let model = run(export(&bytes), &lof).expect("trains").artifact;
    assert_eq!(model.detector.name(), "lof");
    assert_eq!(model.threshold.offset, -1.5);
    let loaded = ModelArtifact::from_json(&model.to_json()).expect("loads");
    assert_eq!(loaded, model);
}

#[test]
fn contamination_sets_the_offset_from_the_training_scores() {
    let bytes = synth(2_000, 0.05, 8);
    let mut choices = TrainChoices::default();
    choices
        .set("contamination", "0.1")
        .expect("a contamination");
    let opts = options_with(choices);
    let model = run(export(&bytes), &opts).expect("trains").artifact;
    assert_eq!(model.threshold.method, "contamination=0.1");
    let ratio = model.evaluation.anomaly_ratio;
    assert!((0.07..0.13).contains(&ratio), "anomaly ratio {ratio}");
}

#[test]
fn features_csv_trains_and_scores_with_the_same_columns() {
    let csv = b"a,b,label\n0,0,0\n0.1,0.2,0\n-0.1,0.1,0\n0.05,-0.05,0\n0.2,0.1,0\n-0.2,0,0\n0,0.15,0\n0.1,-0.1,0\n-0.05,0.05,0\n0.15,0.15,0\n9,9,1\n";
    let input = TrainInput::FeaturesCsv {
        bytes: csv,
        file_name: "f.csv",
        label_column: None,
    };
    let model = run(input, &options()).expect("trains").artifact;
    assert_eq!(model.input.feature_names(), ["a", "b"]);
    let scored = score(
        &model,
        ScoreInput::FeaturesCsv {
            bytes: csv,
            label_column: None,
        },
    )
    .expect("scores");
    let lowest = scored
        .rows
        .iter()
        .min_by(|a, b| a.score.total_cmp(&b.score))
        .map(|r| r.index);
    assert_eq!(lowest, Some(10));
    let e = score(
        &model,
        ScoreInput::FeaturesCsv {
            bytes: b"b,a\n1,2\n",
            label_column: None,
        },
    )
    .map(|_| ())
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("differ from the model's at column 1"),
        "{e}"
    );
    let validate = ValidateOptions::default();
    let e = score(
        &model,
        ScoreInput::Export {
            bytes: b"[]",
            options: &validate,
        },
    )
    .map(|_| ())
    .unwrap_err();
    assert!(e.to_string().contains("trained on a features CSV"), "{e}");
}

#[test]
fn evaluate_needs_labels() {
    let bytes = synth(600, 0.1, 9);
    let model = run(export(&bytes), &options()).expect("trains").artifact;
    let validate = ValidateOptions::default();
    let input = ScoreInput::Export {
        bytes: &bytes,
        options: &validate,
    };
    let result = evaluate(&model, input, &Config::defaults()).expect("evaluates");
    assert_eq!((result.samples, result.labelled), (600, 600));
    assert_eq!(result.metrics.positives, 60);
    let unlabelled = br#"[{"timestamp": "2024-01-01T00:00:00Z", "log_level": "INFO", "process_name": "hostapd", "message": "m"}]"#;
    let e = evaluate(
        &model,
        ScoreInput::Export {
            bytes: unlabelled,
            options: &validate,
        },
        &Config::defaults(),
    )
    .map(|_| ())
    .unwrap_err();
    assert!(e.to_string().contains("no labels"), "{e}");
}

#[test]
fn too_little_data_is_a_clear_error() {
    let one = br#"[{"timestamp": "2024-01-01T00:00:00Z", "log_level": "INFO", "process_name": "hostapd", "message": "m"}]"#;
    let e = run(export(one), &options()).map(|_| ()).unwrap_err();
    assert!(e.to_string().contains("at least 2 rows"), "{e}");
}

/// `trained`'s kept scores, and what [`score`] gives with the model read back from its file.
fn kept_and_scored(trained: &Trained, input: ScoreInput<'_>) -> (Vec<ScoredRow>, Vec<ScoredRow>) {
    let loaded = ModelArtifact::from_json(&trained.artifact.to_json()).expect("loads");
    let scored = score(&loaded, input).expect("scores");
    let kept = trained.scores.clone().expect("scores kept");
    (kept, scored.rows)
}

#[test]
fn kept_training_scores_are_the_rows_score_gives_on_the_same_export() {
    // Records out of time order and two invalid ones (dropped): rows are listed by record index,
    // with the indices counting the dropped records, as `score` lists them.
    let mut doc: serde_json::Value = serde_json::from_slice(&synth(3_000, 0.08, 5)).expect("json");
    let data = doc["data"].as_array_mut().expect("records");
    data[1_000..1_400].reverse();
    data.insert(
        17,
        serde_json::json!({"timestamp": "not a time", "message": "m"}),
    );
    data.insert(2_500, serde_json::json!({"log_level": "INFO"}));
    let bytes = serde_json::to_vec(&doc).expect("bytes");
    let mut opts = options_with(TrainChoices {
        drop_invalid: Some(true),
        ..TrainChoices::default()
    });
    assert!(run(export(&bytes), &opts).expect("trains").scores.is_none());
    opts.keep_scores = true;
    let trained = run(export(&bytes), &opts).expect("trains");
    let validate = ValidateOptions {
        drop_invalid: true,
        ..ValidateOptions::default()
    };
    let (kept, scored) = kept_and_scored(
        &trained,
        ScoreInput::Export {
            bytes: &bytes,
            options: &validate,
        },
    );
    assert_eq!(kept.len(), 3_000);
    assert!(kept.iter().all(|r| r.index != 17 && r.index != 2_500));
    assert!(kept.windows(2).all(|w| w[0].index < w[1].index));
    assert!(kept.iter().any(|r| r.is_anomaly) && kept.iter().any(|r| r.label == Some(true)));
    assert_eq!(kept, scored);
}

#[test]
fn kept_training_scores_are_the_rows_score_gives_on_the_same_csv() {
    let mut csv = String::from("x,label,y\n");
    for i in 0..2_000u32 {
        let (x, y) = (f64::from(i % 37) * 0.31, f64::from(i % 11) - 5.5);
        let outlier = i % 250 == 7;
        let x = if outlier { x + 40.0 } else { x };
        csv.push_str(&format!("{x},{},{y}\n", u8::from(outlier)));
    }
    let mut opts = options();
    opts.keep_scores = true;
    let input = TrainInput::FeaturesCsv {
        bytes: csv.as_bytes(),
        file_name: "f.csv",
        label_column: None,
    };
    let trained = run(input, &opts).expect("trains");
    let (kept, scored) = kept_and_scored(
        &trained,
        ScoreInput::FeaturesCsv {
            bytes: csv.as_bytes(),
            label_column: None,
        },
    );
    assert_eq!(kept.len(), 2_000);
    assert!(kept.iter().all(|r| r.timestamp.is_none()));
    assert_eq!(kept.iter().filter(|r| r.label == Some(true)).count(), 8);
    assert_eq!(kept, scored);
}
