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
    let report = engine::run(target, inputs(default_inputs), 20_261_203, Some(&out), 5, |_| {});
    let findings: Vec<String> = report
        .findings
        .iter()
        .map(|f| format!("input {}: {} ({:?})", f.input_number, f.message, f.saved))
        .collect();
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

/// Inputs the fuzzer found, replayed: each once panicked or broke an invariant.
#[test]
fn regressions_found_by_fuzzing() {
    let cases: [(Target, &[u8]); 0] = [];
    for (target, input) in cases {
        assert!(engine::replay(target, input).is_ok(), "{}: {input:?}", target.name());
    }
}
