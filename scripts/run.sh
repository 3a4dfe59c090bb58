#!/usr/bin/env bash
# Builds mcp-train and runs the whole flow on a synthetic export:
# generate → validate → features → train (and register) → score → deploy → verify the package,
# then unpack it and run its own Python validator.
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

echo "==> $bin train $out/export.json --out $out/model.json --register"
"$bin" train "$out/export.json" --out "$out/model.json" --register

echo "==> $bin score $out/model.json $out/export.json --out $out/scores.csv"
"$bin" score "$out/model.json" "$out/export.json" --out "$out/scores.csv"

echo "==> $bin models deploy latest"
deployed=$("$bin" models deploy latest --json)
package=$(printf '%s' "$deployed" | python3 -c 'import json, sys; print(json.load(sys.stdin)["package"])')
"$bin" models list

echo "==> $bin verify $package"
"$bin" verify "$package"

echo "==> unzip the package and run its validator: python3 validate_model.py"
rm -rf "$out/package"
"$bin" verify "$package" --extract "$out/package" --quiet >/dev/null
(cd "$out"/package/model_*_deployment && python3 validate_model.py)

echo
echo "Done. Files are in $out/, the registry is in mcp-train-data/:"
ls -l "$out"
echo "Try: $bin models --help, $bin verify --help"
