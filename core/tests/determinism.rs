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
    "3796514710dd520c3367df3780e56fdd22927463ad8b7e57793a772fdedc8e85";
/// SHA-256 of `model.json` for the LOF below.
const LOF_SHA256: &str = "5da8cb98e3e2735e86dc652614892f0dec67041b4988d99a789db9a3af6557c7";
/// SHA-256 of that `model.json` before LOF recorded its own `random_state` and models their
/// `log_type` and `protocol_version`: the same model with those fields left out.
const LOF_SHA256_WITHOUT_RANDOM_STATE: &str =
    "2a7735917ee5dc31f0f20ad94e3f89b21e442e1bd7270baeb2613ebdda92a4a8";
/// SHA-256 of the deployment package of the Isolation Forest below (it embeds the Python
/// scripts, so editing them moves this too).
const PACKAGE_SHA256: &str = "818e7ad6276fa7ffd32f96ee5d63d449668abb8881c3f69b3fdcd2b359c8e8f8";

/// SHA-256 of `model.json` for each other log type's agent (its synthetic export, its features):
/// the agents' parsers, windows and template miner give the same rows on every platform.
const AGENT_MODEL_SHA256: [(&str, &str); 3] = [
    (
        "dns",
        "d2770f02300b084b72f7d7df4cc6756585aab88b306e7d17d751cd476a2500a9",
    ),
    (
        "firewall",
        "2cdc6951143d0936634fca6cfb70df90884c86bbe1f2184b1735bf350ffa1973",
    ),
    (
        "syslog",
        "2297eff992308b9824e063df7c47af6cb6d53a73377e0d370e8a7875ec2468d0",
    ),
];

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
fn lof_models_changed_only_by_recording_their_seed_and_log_type() {
    let mut json = String::from_utf8(model_json(DetectorKind::Lof)).expect("utf-8");
    // The fields added since the pinned model: each with the comma and line break before it.
    for field in [
        "\"random_state\": 11",
        "\"log_type\": \"wifi\"",
        "\"protocol_version\": \"1.0.0\"",
    ] {
        assert_eq!(json.matches(field).count(), 1, "one {field} field");
        let at = json.find(field).expect("the field");
        let from = json[..at].rfind(',').expect("a field before it");
        json = format!("{}{}", &json[..from], &json[at + field.len()..]);
    }
    assert_eq!(sha256(json.as_bytes()), LOF_SHA256_WITHOUT_RANDOM_STATE);
}

#[test]
fn package_bytes_are_the_same_on_every_platform() {
    let model = model_json(DetectorKind::IsolationForest);
    let package = mcp_train_core::package::build(&model, 1_700_000_100_000_000).expect("packages");
    assert_eq!(sha256(&package.bytes), PACKAGE_SHA256);
}

fn agent_model_json(log_type: &str) -> Vec<u8> {
    let agent = mcp_train_core::agent::agent(log_type).expect("agent");
    let synth = SynthConfig {
        records: 3_000,
        anomaly_ratio: 0.05,
        seed: 5,
        ..SynthConfig::default()
    }
    .check()
    .expect("synth config");
    let mut export = Vec::new();
    agent.synth(&synth, &mut export).expect("synth");
    let config = Config::defaults();
    let options = TrainChoices {
        seed: Some(11),
        ..TrainChoices::default()
    }
    .resolve(&config)
    .expect("parameters")
    .options(&config, 1_700_000_000_000_000);
    let mut progress = |_: &Progress| true;
    train(
        TrainInput::Export {
            bytes: &export,
            file_name: "determinism.json",
            log_type: Some(log_type),
        },
        &options,
        Hooks {
            progress: &mut progress,
            elapsed_ms: &|| 0.0,
        },
    )
    .expect("trains")
    .artifact
    .to_json()
}

#[test]
fn agent_model_bytes_are_the_same_on_every_platform() {
    let found: Vec<(&str, String)> = AGENT_MODEL_SHA256
        .iter()
        .map(|(log_type, _)| (*log_type, sha256(&agent_model_json(log_type))))
        .collect();
    let pinned: Vec<(&str, String)> = AGENT_MODEL_SHA256
        .iter()
        .map(|(t, h)| (*t, (*h).to_owned()))
        .collect();
    assert_eq!(found, pinned);
}
