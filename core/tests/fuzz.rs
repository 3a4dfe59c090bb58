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
