#!/usr/bin/env bash
# Registry operations per second, directory vs object storage (moto's S3 server on loopback),
# through two `mcp-train serve` replicas: see scripts/bench-registry.py.
#
#   scripts/bench-registry.sh                 # 50 operations of each kind, 4 racing threads
#   OPS=200 THREADS=8 scripts/bench-registry.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
ensure_moto
cargo build --release --locked -q -p mcp-train
target="${CARGO_TARGET_DIR:-$PWD/target}"
python3 scripts/bench-registry.py "$target/release/mcp-train" "$MCP_TRAIN_MOTO" \
  --ops "${OPS:-50}" --threads "${THREADS:-4}"
