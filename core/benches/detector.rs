//! Detector compute on a features CSV, for the comparison with scikit-learn
//! (`scripts/bench_vs_sklearn.py`): the time to fit the scaler and the Isolation Forest and to
//! score every row, with the data already in memory — what scikit-learn's `fit` + `score_samples`
//! measure. Reading the CSV is not timed.
//!
//!   MCP_TRAIN_BENCH_CSV=data.csv cargo bench -p mcp-train-core --bench detector
//!
//! Prints one JSON line: rows, features, threads, and the best of `MCP_TRAIN_BENCH_REPEAT` (3)
//! runs of each step in seconds. `forest_total_s` (forest fit + score) is the figure comparable to
//! scikit-learn's, which has no scaler; `scaler_s` is reported beside it.

use std::time::Instant;

use mcp_train_core::model::{score_in_parallel, IsolationForestParams, Matrix, StandardScaler};
use mcp_train_core::pipeline::read_features_csv;

fn main() {
    let Ok(path) = std::env::var("MCP_TRAIN_BENCH_CSV") else {
        eprintln!("set MCP_TRAIN_BENCH_CSV to a features CSV (see scripts/bench_vs_sklearn.py)");
        return;
    };
    let repeat: usize = std::env::var("MCP_TRAIN_BENCH_REPEAT")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let csv = read_features_csv(&bytes, None).unwrap_or_else(|e| panic!("{e}"));
    let n_cols = csv.names.len();
    let x = Matrix::new(&csv.data, n_cols).unwrap_or_else(|e| panic!("{e}"));
    let (mut best_scaler, mut best_fit, mut best_score) = (f64::MAX, f64::MAX, f64::MAX);
    let mut checksum = 0.0;
    for _ in 0..repeat {
        let start = Instant::now();
        let scaler = StandardScaler::fit(x).unwrap_or_else(|e| panic!("{e}"));
        let scaled = scaler.transform(x).unwrap_or_else(|e| panic!("{e}"));
        let scaled = Matrix::new(&scaled, n_cols).unwrap_or_else(|e| panic!("{e}"));
        let scaler_done = start.elapsed().as_secs_f64();
        let forest = IsolationForestParams::new()
            .random_state(0)
            .fit(scaled)
            .unwrap_or_else(|e| panic!("{e}"));
        let fit_done = start.elapsed().as_secs_f64();
        let mut scores = vec![0.0; scaled.n_rows()];
        score_in_parallel(&forest, scaled, &mut scores).unwrap_or_else(|e| panic!("{e}"));
        let score_done = start.elapsed().as_secs_f64();
        checksum = scores.iter().sum::<f64>();
        best_scaler = best_scaler.min(scaler_done);
        best_fit = best_fit.min(fit_done - scaler_done);
        best_score = best_score.min(score_done - fit_done);
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "{{\"rows\": {}, \"features\": {n_cols}, \"threads\": {threads}, \"repeat\": {repeat}, \"scaler_s\": {best_scaler}, \"fit_s\": {best_fit}, \"score_s\": {best_score}, \"forest_total_s\": {}, \"score_sum\": {checksum}}}",
        x.n_rows(),
        best_fit + best_score
    );
}
