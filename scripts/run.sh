#!/usr/bin/env bash
# Builds mcp-train and runs the whole flow on a synthetic export:
# generate → validate → features → train → score.
# (The web app and the server join this command as they land.)
#
#   scripts/run.sh [RECORDS]      # default 20000 records; output in ./mcp-train-data/demo/
set -euo pipefail
cd "$(dirname "$0")/.."
records="${1:-20000}"
out="mcp-train-data/demo"

echo "==> building mcp-train (release)"
cargo build --release --locked -p mcp-train
bin="target/release/mcp-train"
mkdir -p "$out"

echo "==> $bin synth --records $records --anomaly-ratio 0.05 --seed 42 --out $out/export.json"
"$bin" synth --records "$records" --anomaly-ratio 0.05 --seed 42 --out "$out/export.json"

echo "==> $bin validate $out/export.json"
"$bin" validate "$out/export.json"

echo "==> $bin features $out/export.json --out $out/features.csv --include-label"
"$bin" features "$out/export.json" --out "$out/features.csv" --include-label

echo "==> $bin train $out/export.json --out $out/model.json"
"$bin" train "$out/export.json" --out "$out/model.json"

echo "==> $bin score $out/model.json $out/export.json --out $out/scores.csv"
"$bin" score "$out/model.json" "$out/export.json" --out "$out/scores.csv"

echo
echo "Done. Files are in $out/:"
ls -l "$out"
echo "Try: $bin validate --help"
