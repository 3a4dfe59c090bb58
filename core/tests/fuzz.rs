//! A short seeded run of the fuzzer (`core/examples/fuzz`) on each target inside `cargo test`:
//! a few thousand inputs each, so a change that makes a parser panic on a near-valid input, or
//! breaks a round trip, fails here. Long runs: see the README's "Fuzzing" paragraph.
#![cfg(not(target_arch = "wasm32"))]

#[path = "../examples/fuzz/engine.rs"]
mod engine;
#[path = "../examples/fuzz/mutate.rs"]
mod mutate;
#[path = "../examples/fuzz/targets.rs"]
mod targets;

use targets::Target;

/// Inputs per target; `MCP_TRAIN_FUZZ_INPUTS` raises it (findings are then saved to
/// `target/fuzz-findings`).
fn inputs(default: u64) -> u64 {
    std::env::var("MCP_TRAIN_FUZZ_INPUTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

fn fuzz(target: Target, default_inputs: u64) {
    assert_eq!(Target::parse(target.name()), Some(target));
    assert!(Target::ALL.contains(&target));
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fuzz-findings");
    let report = engine::run(
        target,
        inputs(default_inputs),
        20_261_203,
        Some(&out),
        5,
        |_| {},
    );
    let findings: Vec<String> = report
        .findings
        .iter()
        .map(|f| format!("input {}: {} ({:?})", f.input_number, f.message, f.saved))
        .collect();
    eprintln!(
        "{}: {} inputs in {:.1} s ({:.0} inputs/s), {} outcome kinds, {} findings",
        target.name(),
        report.inputs,
        report.seconds,
        report.per_second(),
        report.outcomes.len(),
        report.findings.len()
    );
    // Printed as well: a panic message may be swallowed by another run's quiet panic hook.
    for finding in &findings {
        eprintln!("{}: {finding}", target.name());
    }
    assert!(
        findings.is_empty(),
        "{:?} ({} inputs, {:.0}/s):\n{}",
        report.target,
        report.inputs,
        report.per_second(),
        findings.join("\n")
    );
    // The corpus itself must be accepted, or the mutants start from nothing.
    assert!(report.outcomes.len() > 1, "{:?}", report.outcomes);
}

#[test]
fn export_parser_survives_mutated_exports() {
    fuzz(Target::Export, 3_000);
}

#[test]
fn zip_reader_and_verifier_survive_mutated_archives() {
    fuzz(Target::Zip, 1_500);
}

#[test]
fn csv_reader_survives_mutated_csvs() {
    fuzz(Target::Csv, 3_000);
}

#[test]
fn model_loader_survives_mutated_models() {
    fuzz(Target::Model, 1_500);
}

/// Found by fuzzing: serde_json puts an error on a line break at column 0 of the next line, and
/// the export parser passed that on ("line 4, column 0"). The line break is now reported at the
/// end of its own line.
#[test]
fn json_errors_on_a_line_break_name_a_real_column() {
    use mcp_train_core::export::{parse_export, ValidateOptions};

    let cases: [(&[u8], &str); 3] = [
        (
            b"[{\"message\": \"a\nb\"}]",
            "not valid JSON at line 1, column 16: control character",
        ),
        (
            b"[\n",
            "not valid JSON at line 1, column 2: EOF while parsing a list",
        ),
        (
            b"{\"records\": [\n  {\"message\": \"x\n\"}]}",
            "not valid JSON at line 2, column 16: control character",
        ),
    ];
    for (input, expected) in cases {
        let err = parse_export(input, &ValidateOptions::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with(expected),
            "{err:?} should start with {expected:?}"
        );
        assert!(engine::replay(Target::Export, input).is_ok());
    }
}

/// Found by fuzzing (`model-20261203-11078`, `-12995`, `-27510`): a LOF model whose scaler mean
/// was swapped for ±1e308 — finite, so it loaded — put every raw row ~1e307 standard units from
/// the training rows, squared distances overflowed and every score was -inf. Loading now refuses
/// a scaler that puts a raw 0 beyond LOF's value range, naming the field.
#[test]
fn a_lof_model_with_a_far_out_scaler_mean_is_refused() {
    use mcp_train_core::pipeline::ModelArtifact;

    let lof = lof_model_json();
    for (mean, expected) in [
        (1e308, "scaler.mean[1]: 1e308 with scale"),
        (-1e308, "scaler.mean[1]: -1e308 with scale"),
    ] {
        let mut value = lof.clone();
        value["scaler"]["mean"][1] = serde_json::json!(mean);
        let bytes = serde_json::to_vec_pretty(&value).unwrap_or_default();
        let err = ModelArtifact::from_json(&bytes)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with(&format!("model is inconsistent: {expected}")),
            "{err:?}"
        );
        assert!(err.contains("where LOF distances overflow"), "{err:?}");
        assert!(engine::replay(Target::Model, &bytes).is_ok());
    }
    // A mean far out but within range still loads and scores finite numbers.
    let mut value = lof;
    value["scaler"]["mean"][1] = serde_json::json!(1e6);
    let bytes = serde_json::to_vec_pretty(&value).unwrap_or_default();
    let model = ModelArtifact::from_json(&bytes).map_err(|e| e.to_string());
    assert!(model.is_ok(), "{model:?}");
    assert_eq!(
        engine::replay(Target::Model, &bytes),
        Ok("packaged".to_owned())
    );
}

/// Found by fuzzing (`model-20261203-13058`, `-72738`): `evaluation.anomaly_ratio` swapped for
/// ±1e308 loaded, but the package's `score_percentile` (100 × the ratio) overflowed to infinity,
/// was written as `null`, and the package's own verification refused its manifest. Loading now
/// refuses a ratio that is not a share.
#[test]
fn a_model_whose_anomaly_ratio_is_not_a_share_is_refused() {
    use mcp_train_core::pipeline::ModelArtifact;

    let models: Vec<serde_json::Value> = targets::models()
        .iter()
        .filter_map(|(json, _)| serde_json::from_slice(json).ok())
        .collect();
    assert_eq!(models.len(), 2);
    for model in models {
        for ratio in [1e308, -1e308, 1.5, -0.25] {
            let mut value = model.clone();
            value["evaluation"]["anomaly_ratio"] = serde_json::json!(ratio);
            let bytes = serde_json::to_vec_pretty(&value).unwrap_or_default();
            let err = ModelArtifact::from_json(&bytes)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert_eq!(
                err,
                format!(
                    "model is inconsistent: evaluation.anomaly_ratio: {ratio:e} is not a share \
                     between 0 and 1"
                )
            );
            assert!(engine::replay(Target::Model, &bytes).is_ok());
        }
        for ratio in [0.0, 1.0] {
            let mut value = model.clone();
            value["evaluation"]["anomaly_ratio"] = serde_json::json!(ratio);
            let bytes = serde_json::to_vec_pretty(&value).unwrap_or_default();
            assert_eq!(
                engine::replay(Target::Model, &bytes),
                Ok("packaged".to_owned())
            );
        }
    }
}

/// The LOF model of the fuzz corpus, as JSON.
fn lof_model_json() -> serde_json::Value {
    targets::models()
        .iter()
        .filter_map(|(json, _)| serde_json::from_slice::<serde_json::Value>(json).ok())
        .find(|v| v["detector"]["type"] == "lof")
        .unwrap_or_default()
}
