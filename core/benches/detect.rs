//! Detection cost per registered agent, on one core (`cargo bench -p mcp-train-core --bench
//! detect`): for each agent in `AGENTS`, a synthetic export of `MCP_TRAIN_BENCH_RECORDS`
//! (200,000) records is read, the agent's feature state fitted and a forest trained on its rows;
//! then, best of `MCP_TRAIN_BENCH_REPEAT` (3) runs:
//! - `batch_extract_s`: [`Agent::extract`] over all records (sorting included);
//! - `stream_extract_s`: the same rows pushed one record at a time through the agent's stream;
//! - `detect_records_per_s`: [`Detector::detect`] per record (stream + scaler + forest, and
//!   the contributions of the 1 % flagged), without parsing or I/O.
//!
//! Prints one JSON line per agent. Raw lines through the CLI (parsing, output) and its peak
//! memory on a 10 M-line stream: `scripts/bench-detect.sh`.

use std::hint::black_box;
use std::time::Instant;

use mcp_train_core::agent::{Agent, Detector, AGENTS};
use mcp_train_core::config::Config;
use mcp_train_core::export::{parse_export, ValidateOptions};
use mcp_train_core::pipeline::{self, Hooks, ModelArtifact, TrainChoices, TrainInput};
use mcp_train_core::synth::SynthConfig;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A model for `agent`, trained by the pipeline on the agent's export with 1 % contamination,
/// as a tuned deployment would be: anomalies cost more (contributions), and "auto" flags a
/// large share of regular synthetic traffic.
fn model_for(agent: &dyn Agent, export: &[u8]) -> ModelArtifact {
    let config = Config::defaults();
    let mut choices = TrainChoices {
        seed: Some(1),
        ..TrainChoices::default()
    };
    choices.set("contamination", "0.01").expect("contamination");
    let options = choices
        .resolve(&config)
        .expect("choices")
        .options(&config, 1_704_067_200_000_000);
    let input = TrainInput::Export {
        bytes: export,
        file_name: "export.json",
        log_type: Some(agent.info().log_type),
    };
    let hooks = Hooks {
        progress: &mut |_| true,
        elapsed_ms: &|| 0.0,
    };
    pipeline::train(input, &options, hooks)
        .expect("trains")
        .artifact
}

fn best(repeat: usize, mut run: impl FnMut()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..repeat {
        let start = Instant::now();
        run();
        best = best.min(start.elapsed().as_secs_f64());
    }
    best
}

fn main() {
    let records = env("MCP_TRAIN_BENCH_RECORDS", 200_000);
    let repeat = env("MCP_TRAIN_BENCH_REPEAT", 3);
    if AGENTS.is_empty() {
        eprintln!("no agents are registered (AGENTS is empty): nothing to measure");
    }
    for agent in AGENTS {
        let info = agent.info();
        let config = SynthConfig {
            records,
            seed: 1,
            ..SynthConfig::default()
        }
        .check()
        .expect("synth config");
        let mut export = Vec::new();
        agent.synth(&config, &mut export).expect("synth");
        let options = ValidateOptions {
            drop_invalid: true,
            ..ValidateOptions::default()
        };
        let parsed = parse_export(&export, &options).expect("export");
        let records = parsed.export.records;
        let state = agent.fit(&records, &Config::defaults()).expect("fit");
        let rows = agent.extract(&records, &state).expect("extract");
        let model = model_for(*agent, &export);
        let mut sorted: Vec<_> = records.iter().collect();
        sorted.sort_by_key(|r| r.timestamp);

        let batch_s = best(repeat, || {
            black_box(agent.extract(&records, &state).expect("extract"));
        });
        let stream_s = best(repeat, || {
            let mut stream = agent.extractor(&state).expect("stream");
            let mut row = vec![0.0; stream.width()];
            for r in &sorted {
                stream.push(r, &mut row);
                black_box(&row);
            }
        });
        let mut anomalies = 0;
        let detect_s = best(repeat, || {
            let mut detector = Detector::new(model.clone()).expect("detector");
            anomalies = 0;
            for r in &sorted {
                anomalies += usize::from(detector.detect(r).expect("detect").is_some());
            }
        });
        let n = sorted.len() as f64;
        println!(
            "{}",
            serde_json::json!({
                "log_type": info.log_type,
                "records": sorted.len(),
                "features": rows.width,
                "batch_extract_s": batch_s,
                "stream_extract_s": stream_s,
                "stream_over_batch": stream_s / batch_s,
                "detect_records_per_s": n / detect_s,
                "anomalies": anomalies,
            })
        );
    }
}
