//! The package's `README.md`: a model card a person reads before trusting the model — what it
//! is, how well it did, which features it takes, and how to validate, integrate and troubleshoot.

use std::fmt::Write;

use super::manifest::{InferenceConfig, Metadata};

/// Rows of the feature-importance table.
const TOP_FEATURES: usize = 10;

fn number(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.4}")
    }
}

fn optional(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_owned(), number)
}

/// Writes the card. `String` formatting cannot fail, so the `fmt::Result`s are dropped.
pub(crate) fn model_card(meta: &Metadata, inference: &InferenceConfig, folder: &str) -> String {
    let m = &meta.model_info;
    let t = &meta.training_info;
    let e = &meta.evaluation_info;
    let mut s = String::new();
    let detector = match m.detector.as_str() {
        "isolation_forest" => "Isolation Forest (scikit-learn compatible)",
        "lof" => "Local Outlier Factor (novelty mode)",
        other => other,
    };
    if m.log_type == crate::pipeline::WIFI_LOG_TYPE {
        let _ = writeln!(s, "# Model {} — WiFi log anomaly detector\n", m.version);
        let _ = writeln!(
            s,
            "A {detector} trained by {} on {} records of `{}` and packaged on {}. It scores feature \
             vectors extracted from `hostapd` / `wpa_supplicant` syslog records: the lower the score, \
             the more unusual the record.\n",
            m.generator, t.samples, t.lineage.file_name, meta.deployment_info.deployment_timestamp
        );
    } else {
        let _ = writeln!(
            s,
            "# Model {} — {} log anomaly detector\n",
            m.version, m.log_type
        );
        let _ = writeln!(
            s,
            "A {detector} trained by {} on {} records of `{}` and packaged on {}. It scores feature \
             vectors that the `{}` agent extracts from its log records: the lower the score, the \
             more unusual the record.\n",
            m.generator,
            t.samples,
            t.lineage.file_name,
            meta.deployment_info.deployment_timestamp,
            m.log_type
        );
    }
    let _ = writeln!(s, "## Model\n");
    let _ = writeln!(s, "| | |\n|---|---|");
    let _ = writeln!(s, "| Version | `{}` |", m.version);
    let _ = writeln!(s, "| Created | {} |", m.created_at);
    let _ = writeln!(
        s,
        "| Log type | `{}` (agent protocol {}) |",
        m.log_type, m.protocol_version
    );
    let _ = writeln!(s, "| Detector | `{}` |", m.detector);
    if let serde_json::Value::Object(params) = &m.parameters {
        let list: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(s, "| Parameters | `{}` |", list.join(", "));
    }
    match (&m.feature_schema, &m.extractor_version) {
        (Some(schema), Some(version)) => {
            let _ = writeln!(
                s,
                "| Features | {} (`{schema}`, extractor {version}) |",
                m.n_features
            );
        }
        _ => {
            let _ = writeln!(s, "| Features | {} (from a features CSV) |", m.n_features);
        }
    }
    let _ = writeln!(
        s,
        "| Threshold | score < {} is an anomaly ({}) |",
        inference.threshold, m.threshold.method
    );
    let _ = writeln!(
        s,
        "| Training data | `{}`, {} bytes, SHA-256 `{}` |",
        t.lineage.file_name, t.lineage.size_bytes, t.lineage.sha256
    );
    let _ = writeln!(
        s,
        "| Samples | {} trained on, {} held out, {} dropped as invalid |",
        t.samples, t.test_samples, t.dropped_records
    );
    let _ = writeln!(s, "| Seed | {} |\n", t.seed);

    let _ = writeln!(s, "## Metrics\n");
    let st = &e.score_stats;
    let _ = writeln!(
        s,
        "Scores over all {} training records: mean {}, std {}, min {}, max {}. {:.2} % of them \
         are flagged as anomalies.\n",
        st.count,
        number(st.mean),
        number(st.std),
        number(st.min),
        number(st.max),
        100.0 * e.anomaly_ratio
    );
    match &e.metrics {
        Some(metrics) => {
            let c = &metrics.confusion_matrix;
            let _ = writeln!(
                s,
                "On {} held-out labelled records ({} anomalous):\n",
                metrics.samples, metrics.positives
            );
            let _ = writeln!(s, "| Metric | Value |\n|---|---|");
            for (name, value) in [
                ("Accuracy", Some(metrics.accuracy)),
                ("Precision", Some(metrics.precision)),
                ("Recall", Some(metrics.recall)),
                ("F1", Some(metrics.f1)),
                ("ROC AUC", metrics.roc_auc),
                ("Average precision", metrics.average_precision),
            ] {
                let _ = writeln!(s, "| {name} | {} |", optional(value));
            }
            let _ = writeln!(
                s,
                "\nConfusion matrix: {} true negatives, {} false positives, {} false negatives, \
                 {} true positives.\n",
                c.true_negative, c.false_positive, c.false_negative, c.true_positive
            );
        }
        None => {
            let _ = writeln!(
                s,
                "The training data had no labels, so there are no held-out accuracy metrics.\n"
            );
        }
    }
    if !e.threshold_checks.is_empty() {
        let _ = writeln!(
            s,
            "Threshold checks:\n\n| Metric | Required | Value | Result |\n|---|---|---|---|"
        );
        for check in &e.threshold_checks {
            let result = match check.passed {
                Some(true) => "pass",
                Some(false) => "FAIL",
                None => "not measured",
            };
            let _ = writeln!(
                s,
                "| {} | {} {} | {} | {result} |",
                check.metric,
                check.comparison,
                number(check.threshold),
                optional(check.value)
            );
        }
        let _ = writeln!(s);
    }

    let _ = writeln!(s, "## Features\n");
    let _ = writeln!(
        s,
        "`predict` takes one dict per record with every one of these {} features by name (raw \
         values; the package scales them). Order: \n",
        m.n_features
    );
    let _ = writeln!(s, "```\n{}\n```\n", m.feature_names.join(", "));
    let mut important: Vec<_> = e.feature_importance.iter().collect();
    important.sort_by(|a, b| b.importance.total_cmp(&a.importance));
    if !important.is_empty() {
        let _ = writeln!(
            s,
            "Most influential features (permutation importance):\n\n| Feature | Importance |\n|---|---|"
        );
        for f in important.iter().take(TOP_FEATURES) {
            let _ = writeln!(s, "| `{}` | {:.4} |", f.feature, f.importance);
        }
        let _ = writeln!(s);
    }

    let _ = writeln!(s, "## Validate\n");
    let _ = writeln!(
        s,
        "Python {} and nothing else is needed (see `requirements.txt`).\n\n```bash\nunzip {folder}.zip\ncd {folder}\npython3 validate_model.py\n```\n\nIt checks the SHA-256 of every file against `deployment_manifest.json` (and the manifest's own \
         `manifest_sha256`), loads the model, and scores the manifest's self-test vectors, which \
         must match the scores mcp-train computed to within {}. It exits 0 and prints `PASS`, or \
         exits 1 naming the file that failed. `mcp-train verify {folder}.zip` runs the same checks.\n",
        meta.deployment_info.python_requires,
        super::manifest::SELF_TEST_TOLERANCE
    );

    let _ = writeln!(s, "## Integrate\n");
    let _ = writeln!(
        s,
        "```python\nfrom inference_example import ModelInference\n\nmodel = ModelInference()  # reads model.json, scaler.json and the manifest beside it\nresults = model.predict([{{\"{}\": 13.0, ...}}])  # one dict per record, every feature\nfor r in results:\n    print(r[\"score\"], r[\"decision\"], r[\"is_anomaly\"])\n```\n",
        m.feature_names.first().map_or("feature", String::as_str)
    );
    let _ = writeln!(
        s,
        "`decision = score − {}`; a record is an anomaly when `decision < 0`. From the shell, \
         `python3 inference_example.py features.csv` scores a CSV with a header (as written by \
         `mcp-train features`) or a JSON list of dicts and prints `index,score,decision,is_anomaly`. \
         Suggested batch size {}, timeout {} s (`inference_config` in the manifest).\n",
        inference.threshold, inference.batch_size, inference.timeout_seconds
    );

    let _ = writeln!(s, "## Troubleshoot\n");
    let _ = writeln!(
        s,
        "- `FAIL <file>: sha256 mismatch` — the file changed after packaging. Get a fresh copy \
         of the package; do not edit files inside it.\n\
         - `FeatureError: row N is missing ...` — every feature must be present; a missing value \
         is never read as 0. Extract features with the same mcp-train schema (`{}`).\n\
         - Self-test differences — the scripts need a standard CPython ≥ 3.8 with IEEE 754 \
         doubles; report the Python version and platform.\n\
         - Many more anomalies than the {:.2} % seen in training — the traffic has drifted or the \
         features were extracted differently; retrain on recent logs.",
        m.feature_schema.as_deref().unwrap_or("your CSV columns"),
        100.0 * e.anomaly_ratio
    );
    s
}
