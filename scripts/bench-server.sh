#!/usr/bin/env bash
# Load figures for `mcp-train serve` with wrk (Debian's `wrk`, installed if missing): requests/s
# and latency percentiles for the model list and for a package download, on a registry of
# MODELS models (one deployed), trained from a synthetic export.
#
#   scripts/bench-server.sh                 # 10 s per endpoint, 2 threads, 32 connections
#   DURATION=30s CONNECTIONS=64 MODELS=20 scripts/bench-server.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
duration="${DURATION:-10s}" connections="${CONNECTIONS:-32}" models="${MODELS:-10}"

command -v wrk >/dev/null || apt_install wrk
cargo build --release --locked -q -p mcp-train
bin="$PWD/target/release/mcp-train"
work="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

"$bin" synth --records 20000 --seed 7 --out "$work/export.json" --quiet >/dev/null
for i in $(seq 1 "$models"); do
  SOURCE_DATE_EPOCH=$((1700000000 + i)) "$bin" train "$work/export.json" --seed "$i" \
    --register --registry "$work/data" --out "$work/model.json" --quiet >/dev/null 2>&1
done
version=$(MCP_TRAIN_DATA="$work/data" "$bin" models deploy latest --json |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["model"]["version"])')

RUST_LOG=warn "$bin" serve --addr 127.0.0.1:0 --data-dir "$work/data" --dist "$work/none" \
  > "$work/out.txt" 2> "$work/err.txt" &
server=$!
for _ in $(seq 1 100); do grep -q listening "$work/out.txt" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[^ ]*' "$work/out.txt")
size=$(curl -s -o /dev/null -w '%{size_download}' "${url}api/models/$version/package")

echo "mcp-train serve, $(nproc) cores; wrk -t2 -c$connections -d$duration; $models models"
for path in "api/models" "api/models/$version/package"; do
  echo
  echo "== GET /$path ($(curl -s -o /dev/null -w '%{size_download}' "$url$path") bytes)"
  wrk -t2 -c"$connections" -d"$duration" --latency "$url$path" |
    grep -E 'Requests/sec|Transfer/sec|^ +(50|90|99)%|Non-2xx|errors'
done
echo
echo "package: $size bytes"
