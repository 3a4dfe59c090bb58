#!/usr/bin/env bash
# Detect workers' throughput from NATS JetStream, one worker and two sharing a consumer, against
# `detect` on the same lines from a file: see scripts/bench-nats.py.
#
#   scripts/bench-nats.sh                 # 200000 lines
#   LINES=500000 scripts/bench-nats.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
ensure_nats
cargo build --release --locked -q -p mcp-train
target="${CARGO_TARGET_DIR:-$PWD/target}"
"$MCP_TRAIN_NATS_VENV/bin/python" scripts/bench-nats.py "$target/release/mcp-train" \
  "$MCP_TRAIN_NATS_SERVER" --lines "${LINES:-200000}"
