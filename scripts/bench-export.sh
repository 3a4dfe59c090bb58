#!/usr/bin/env bash
# Anomaly export benchmark: fills a fresh anomaly store with N synthetic anomalies (default
# 1,000,000) through the hidden `mcp-train anomalies seed` (big transactions), starts a release
# `mcp-train serve` on it, exports everything over HTTP in each format (NDJSON, CSV, ECS, OCSF),
# and prints for each: rows, bytes, rows/s (the job's started_at → finished_at), the download's
# SHA-256 checked against the history entry, and the server's peak RSS (VmHWM of
# /proc/PID/status) after the export. Usage: scripts/bench-export.sh [N]
# MCP_TRAIN_BIN=path skips the release build and benchmarks that binary instead.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
target="${CARGO_TARGET_DIR:-target}"
if [[ -n "${MCP_TRAIN_BIN:-}" ]]; then
  bin="$MCP_TRAIN_BIN"
else
  cargo build --release -p mcp-train --quiet
  bin="$target/release/mcp-train"
fi
echo "binary: $bin"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
micros() { python3 -c "import sys,datetime; print(int(datetime.datetime.fromisoformat(sys.argv[1].replace('Z','+00:00')).timestamp()*1e6))" "$1"; }

start=$(date +%s.%N)
"$bin" anomalies seed --count "$N" --data-dir "$work/data"
end=$(date +%s.%N)
printf 'seeded %d anomalies in %.1f s; store %s\n' "$N" "$(echo "$end - $start" | bc)" \
  "$(du -sh "$work/data" | cut -f1)"

"$bin" serve --addr 127.0.0.1:0 --data-dir "$work/data" --dist "$work/no-dist" \
  >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$work/serve.out" 2>/dev/null && break
  sleep 0.1
done
base=$(sed -n 's/.*listening on \(http:\/\/[^/]*\)\/.*/\1/p' "$work/serve.out" | head -1)
[[ -n "$base" ]] || { echo "the server did not start:"; cat "$work/serve.err"; exit 1; }
echo "server pid $server_pid at $base; VmHWM at start $(awk '/VmHWM/ {print $2, $3}' /proc/$server_pid/status)"
printf '%-7s %9s %12s %10s %12s %s\n' format rows bytes rows/s peak_RSS sha256
for format in ndjson csv ecs ocsf; do
  id=$(curl -sf -X POST -H 'Content-Type: application/json' -d "{\"format\":\"$format\",\"by\":\"bench\"}" \
    "$base/api/exports" | json 'd["id"]')
  while :; do
    job=$(curl -sf "$base/api/exports/$id")
    status=$(echo "$job" | json 'd["status"]')
    [[ "$status" == queued || "$status" == running ]] || break
    sleep 0.2
  done
  [[ "$status" == completed ]] || { echo "export $format ended $status: $job"; exit 1; }
  rows=$(echo "$job" | json 'd["rows"]')
  bytes=$(echo "$job" | json 'd["bytes"]')
  sha=$(echo "$job" | json 'd["sha256"]')
  t0=$(micros "$(echo "$job" | json 'd["started_at"]')")
  t1=$(micros "$(echo "$job" | json 'd["finished_at"]')")
  rate=$(python3 -c "print(round($rows / max(1e-6, ($t1 - $t0) / 1e6)))")
  curl -sf -o "$work/download" "$base/api/exports/$id/download"
  got=$(sha256sum "$work/download" | cut -d' ' -f1)
  [[ "$got" == "$sha" ]] || { echo "$format: downloaded sha256 $got != history $sha"; exit 1; }
  [[ "$rows" == "$N" ]] || { echo "$format: $rows rows, expected $N"; exit 1; }
  hwm=$(awk '/VmHWM/ {print $2 " " $3}' /proc/$server_pid/status)
  printf '%-7s %9d %12d %10d %12s %s (download matches)\n' "$format" "$rows" "$bytes" "$rate" "$hwm" "$sha"
  rm -f "$work/download"
done
