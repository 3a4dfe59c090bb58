//! Same export, configuration, seed and "now" → the same `model.json` bytes, and the same
//! deployment package bytes, on every platform.
//!
//! The test trains on a synthetic export natively and on `wasm32-unknown-unknown` (run by
//! `wasm-bindgen-test-runner` in node, see `scripts/test.sh`) and compares the SHA-256 of the model
//! file with the same pinned value, so native and wasm agree with each other bit for bit. If a
//! deliberate change to the model format or the algorithms moves the hash, the new value is
//! printed by the failing assertion: update it here in the same commit.

use mcp_train_core::config::{Config, DetectorKind};
use mcp_train_core::pipeline::{train, Hooks, Progress, TrainChoices, TrainInput};
use mcp_train_core::synth::{write_export, SynthConfig};
use sha2::{Digest, Sha256};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// SHA-256 of `model.json` for the Isolation Forest below.
const ISOLATION_FOREST_SHA256: &str =
    "36bfb456ed1315a9abd90623c819eede0738dafcbdfde39c6ee6a1ec52576869";
/// SHA-256 of `model.json` for the LOF below.
const LOF_SHA256: &str = "54c782326501b477ea9a0aa8b2a35cf47c4be333754c90890b6d957158c2e97d";
/// SHA-256 of that `model.json` before LOF recorded its own `random_state`: the same model
/// with the field left out.
const LOF_SHA256_WITHOUT_RANDOM_STATE: &str =
    "2a7735917ee5dc31f0f20ad94e3f89b21e442e1bd7270baeb2613ebdda92a4a8";
/// SHA-256 of the deployment package of the Isolation Forest below (it embeds the Python
/// scripts, so editing them moves this too).
const PACKAGE_SHA256: &str = "12fd007e3b025a29d2494b39997ff2368bf560746b1487544342518153426e19";

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn model_json(detector: DetectorKind) -> Vec<u8> {
    let synth = SynthConfig {
        records: 3_000,
        anomaly_ratio: 0.06,
        seed: 5,
        ..SynthConfig::default()
    }
    .check()
    .expect("synth config");
    let mut export = Vec::new();
    write_export(&synth, &mut export).expect("synth");
    let config = Config::defaults();
    let choices = TrainChoices {
        detector: Some(detector),
        seed: Some(11),
        ..TrainChoices::default()
    };
    let options = choices
        .resolve(&config)
        .expect("parameters")
        .options(&config, 1_700_000_000_000_000);
    let mut progress = |_: &Progress| true;
    let trained = train(
        TrainInput::Export {
            bytes: &export,
            file_name: "determinism.json",
            log_type: None,
        },
        &options,
        Hooks {
            progress: &mut progress,
            elapsed_ms: &|| 0.0,
        },
    )
    .expect("trains");
    trained.artifact.to_json()
}

fn model_sha256(detector: DetectorKind) -> String {
    sha256(&model_json(detector))
}

#[test]
fn isolation_forest_model_bytes_are_the_same_on_every_platform() {
    assert_eq!(
        model_sha256(DetectorKind::IsolationForest),
        ISOLATION_FOREST_SHA256
    );
}

#[test]
fn lof_model_bytes_are_the_same_on_every_platform() {
    assert_eq!(model_sha256(DetectorKind::Lof), LOF_SHA256);
}

#[test]
fn lof_models_changed_only_by_recording_their_seed() {
    let json = String::from_utf8(model_json(DetectorKind::Lof)).expect("utf-8");
    let field = "\"random_state\": 11";
    assert_eq!(json.matches(field).count(), 1, "one LOF random_state field");
    let at = json.find(field).expect("the field");
    // The field and the comma and line break before it.
    let from = json[..at].rfind(',').expect("a field before it");
    let without = format!("{}{}", &json[..from], &json[at + field.len()..]);
    assert_eq!(sha256(without.as_bytes()), LOF_SHA256_WITHOUT_RANDOM_STATE);
}

#[test]
fn package_bytes_are_the_same_on_every_platform() {
    let model = model_json(DetectorKind::IsolationForest);
    let package = mcp_train_core::package::build(&model, 1_700_000_100_000_000).expect("packages");
    assert_eq!(sha256(&package.bytes), PACKAGE_SHA256);
}
