//! Throughput of the first two stages on synthetic exports of 10 K, 100 K and 1 M records:
//! parse + validate (reported in bytes/s) and feature extraction (reported in records/s).
//!
//!   cargo bench -p mcp-train-core --bench pipeline
//!   MCP_TRAIN_BENCH_SIZES=10000,100000 cargo bench -p mcp-train-core --bench pipeline
//!
//! Single-threaded by construction: both stages run on one core.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mcp_train_core::export::{parse_export, ValidateOptions};
use mcp_train_core::features::{extract, FeatureConfig};
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
    }
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
