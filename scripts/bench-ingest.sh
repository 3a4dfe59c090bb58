#!/usr/bin/env bash
# Ingestion benchmark: a raw log of LINES lines (default 1 000 000, synthetic, LOG_TYPE dns by
# default) posted to a real `mcp-train serve` (release build) as one streamed request
# (POST /api/logs/{log_type}). Reports lines per second, the server's peak RSS, and checks that
# the anomalies it stored are exactly as many as `mcp-train detect --store` stores from the same
# file with the same deployed model.
#
#   scripts/bench-ingest.sh            # 1 M dns lines
#   LINES=200000 LOG_TYPE=wifi scripts/bench-ingest.sh
#   MCP_TRAIN_BIN=target/release/mcp-train scripts/bench-ingest.sh
#
# Needs curl and python3 (to turn the synthetic export into raw syslog lines).
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${LINES:-1000000}
LOG_TYPE=${LOG_TYPE:-dns}
TARGET=${CARGO_TARGET_DIR:-target}
# MCP_TRAIN_BIN: an already built release binary (skips the build).
if [ -z "${MCP_TRAIN_BIN:-}" ]; then
    cargo build --release -q -p mcp-train
fi
BIN=${MCP_TRAIN_BIN:-$TARGET/release/mcp-train}
WORK=$(mktemp -d)
SERVER=
cleanup() {
    if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "synthesising $LINES $LOG_TYPE records…"
"$BIN" synth --log-type "$LOG_TYPE" --records "$LINES" --seed 11 --days 30 --out "$WORK/log.json" -q
python3 - "$WORK/log.json" "$WORK/log.txt" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w") as out:
    for r in doc["data"]:
        host = r.get("device_id") or r.get("host") or "gw"
        out.write(f"{r['timestamp']} {host} {r['process_name']}[42]: {r['message']}\n")
PY
rm "$WORK/log.json"
# The model learns the same 30 days the log covers (a model trained on another time span would
# flag a third of the lines and turn the benchmark into an insert benchmark).
"$BIN" synth --log-type "$LOG_TYPE" --records "${TRAIN_RECORDS:-50000}" --seed 3 --days 30 --out "$WORK/train.json" -q
DATA="$WORK/data"
VERSION=$(SOURCE_DATE_EPOCH=1700000000 "$BIN" train "$WORK/train.json" --seed 3 --out "$WORK/model.json" \
    --register --registry "$DATA" --json -q |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["registered"]["record"]["version"])')
"$BIN" models --registry "$DATA" deploy "$VERSION" >/dev/null
BYTES=$(stat -c %s "$WORK/log.txt")
echo "log: $(wc -l <"$WORK/log.txt") lines, $((BYTES / 1048576)) MiB; model $VERSION"

"$BIN" serve --addr 127.0.0.1:0 --data-dir "$DATA" >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER=$!
for _ in $(seq 100); do
    grep -q "listening on" "$WORK/serve.out" 2>/dev/null && break
    sleep 0.1
done
URL=$(sed -n 's/.*listening on \(http:[^ ]*\)/\1/p' "$WORK/serve.out" | tr -d '/\n' | sed 's|http:|http://|')
RSS_BEFORE=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER/status")
START=$(date +%s.%N)
curl -sS --fail-with-body -X POST -H 'Content-Type: text/plain' -T "$WORK/log.txt" \
    "$URL/api/logs/$LOG_TYPE" >"$WORK/report.json"
END=$(date +%s.%N)
PEAK=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER/status")
STORED=$(curl -sS "$URL/api/anomalies/summary" |
    python3 -c 'import json,sys; print(sum(c["count"] for c in json.load(sys.stdin)["counts"]))')
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=

DSTART=$(date +%s.%N)
"$BIN" detect --registry "$DATA" --log-type "$LOG_TYPE" "$WORK/log.txt" --store "$WORK/cli" \
    >/dev/null 2>"$WORK/detect.err"
DEND=$(date +%s.%N)
DETECTED=$(sed -n 's/^detect: \([0-9]*\) anomalies stored.*/\1/p' "$WORK/detect.err")

python3 - "$WORK/report.json" "$START" "$END" "$DSTART" "$DEND" "$RSS_BEFORE" "$PEAK" "$STORED" "$DETECTED" "$BYTES" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
start, end, dstart, dend = map(float, sys.argv[2:6])
rss0, peak, stored, detected, size = map(int, sys.argv[6:11])
secs = end - start
print(f"HTTP ingestion: {report['lines']:,} lines ({size / 1048576:.0f} MiB) in {secs:.1f} s = "
      f"{report['lines'] / secs:,.0f} lines/s ({size / 1048576 / secs:.1f} MiB/s); "
      f"{report['scored']:,} scored, {report['invalid']:,} invalid, {report['anomalies']:,} anomalies")
print(f"server RSS: {rss0 / 1024:.0f} MiB idle, peak {peak / 1024:.0f} MiB")
print(f"detect --store on the same file: {dend - dstart:.1f} s = {report['lines'] / (dend - dstart):,.0f} lines/s, "
      f"{detected:,} anomalies stored")
ok = stored == report["anomalies"] == detected
print(f"stored by the server {stored:,} == reported {report['anomalies']:,} == detect --store {detected:,}: {'OK' if ok else 'MISMATCH'}")
sys.exit(0 if ok else 1)
PY
