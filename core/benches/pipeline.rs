//! Throughput of the first two stages on synthetic exports of 10 K, 100 K and 1 M records:
//! parse + validate (reported in bytes/s) and feature extraction (reported in records/s), both on
//! one core; and of reading a features CSV of as many rows × 30 columns (bytes/s): on all cores
//! (`features_csv/parallel`, rows without quotes) and record by record with the `csv` crate
//! (`features_csv/records`: one quoted cell sends the file that way, as every file went before).
//!
//!   cargo bench -p mcp-train-core --bench pipeline
//!   MCP_TRAIN_BENCH_SIZES=10000,100000 cargo bench -p mcp-train-core --bench pipeline

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mcp_train_core::export::{parse_export, ValidateOptions};
use mcp_train_core::features::{extract, FeatureConfig};
use mcp_train_core::pipeline::read_features_csv;
use mcp_train_core::synth::{write_export, SynthConfig};

fn sizes() -> Vec<usize> {
    std::env::var("MCP_TRAIN_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000, 1_000_000])
}

fn export_bytes(records: usize) -> Vec<u8> {
    let config = SynthConfig {
        records,
        anomaly_ratio: 0.05,
        seed: 42,
        ..SynthConfig::default()
    };
    let config = config
        .check()
        .unwrap_or_else(|e| panic!("synth config: {e}"));
    let mut bytes = Vec::with_capacity(records * 300);
    write_export(&config, &mut bytes).unwrap_or_else(|e| panic!("synth: {e}"));
    bytes
}

/// `rows` × 30 seeded values in [-4, 4) with 16 to 17 significant digits, as Python's `repr`
/// writes random normals; `quoted` quotes the first cell of the first row.
fn csv_bytes(rows: usize, quoted: bool) -> Vec<u8> {
    let mut text = (0..30)
        .map(|j| format!("f{j}"))
        .collect::<Vec<_>>()
        .join(",");
    text.push('\n');
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for r in 0..rows {
        for j in 0..30 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let v = (state >> 11) as f64 / (1u64 << 53) as f64 * 8.0 - 4.0;
            if j > 0 {
                text.push(',');
            }
            if quoted && r == 0 && j == 0 {
                text.push_str(&format!("\"{v}\""));
            } else {
                text.push_str(&v.to_string());
            }
        }
        text.push('\n');
    }
    text.into_bytes()
}

fn pipeline(c: &mut Criterion) {
    let options = ValidateOptions::default();
    let features = FeatureConfig::default();
    for n in sizes() {
        let bytes = export_bytes(n);
        let samples = if n >= 1_000_000 { 10 } else { 20 };

        let mut group = c.benchmark_group("parse_validate");
        group.sample_size(samples);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &bytes, |b, bytes| {
            b.iter(|| parse_export(bytes, &options).map(|p| p.export.records.len()))
        });
        group.finish();

        let parsed = parse_export(&bytes, &options).unwrap_or_else(|e| panic!("parse: {e}"));
        let mut group = c.benchmark_group("features");
        group.sample_size(samples);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(n),
            &parsed.export,
            |b, export| b.iter(|| extract(export, &features, None).n_rows()),
        );
        group.finish();

        let mut group = c.benchmark_group("features_csv");
        group.sample_size(samples);
        for (name, quoted) in [("parallel", false), ("records", true)] {
            let csv = csv_bytes(n, quoted);
            group.throughput(Throughput::Bytes(csv.len() as u64));
            group.bench_with_input(BenchmarkId::new(name, n), &csv, |b, csv| {
                b.iter(|| read_features_csv(csv, None).map(|f| f.n_rows()))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
