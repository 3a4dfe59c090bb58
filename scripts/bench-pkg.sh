#!/usr/bin/env bash
# Training time of the npm package in Node against the CLI (release build) on the same export:
# one synthetic wifi export, one `mcp-train train`, one `train()` of pkg/ in Node, the same
# parameters and creation time, so the two models must also be the same bytes.
#
#   scripts/bench-pkg.sh               # 200000 records (RECORDS=N to change), default parameters
#   NODE=/path/to/node scripts/bench-pkg.sh   # another Node (default: node on PATH)
#
# Needs pkg/dist (scripts/pkg.sh build). Prints both times and their ratio; no timing is asserted.
set -euo pipefail
cd "$(dirname "$0")/.."

records="${RECORDS:-200000}"
node="${NODE:-node}"
[ -f pkg/dist/web/mcp_train_js_bg.wasm ] || { echo "no pkg/dist: run scripts/pkg.sh build first"; exit 1; }
cargo build --release --locked -p mcp-train --bin mcp-train
dir="${CARGO_TARGET_DIR:-target}"
case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac
bin="$dir/release/mcp-train"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" synth -n "$records" --seed 7 -o "$work/export.json" --quiet
epoch=1717243200 # 2024-06-01T12:00:00Z

start=$(date +%s.%N)
SOURCE_DATE_EPOCH=$epoch "$bin" train "$work/export.json" -o "$work/cli.json" --quiet 2>/dev/null
end=$(date +%s.%N)
cli_seconds=$(echo "$end - $start" | bc)

# Node: the time of train() alone, and of the whole process (start, wasm instantiation, read).
start=$(date +%s.%N)
train_seconds=$("$node" --input-type=module -e '
  import fs from "node:fs";
  import { train } from "./pkg/node.mjs";
  const bytes = fs.readFileSync(process.argv[1]);
  const t0 = performance.now();
  const { modelJson } = train(bytes, { createdAt: "2024-06-01T12:00:00Z", fileName: "export.json" });
  const seconds = (performance.now() - t0) / 1000;
  fs.writeFileSync(process.argv[2], modelJson);
  console.log(seconds.toFixed(3));
' "$work/export.json" "$work/pkg.json")
end=$(date +%s.%N)
node_seconds=$(echo "$end - $start" | bc)

same=no
cmp -s "$work/cli.json" "$work/pkg.json" && same=yes
echo "export: $records records, $(stat -c %s "$work/export.json") bytes; $(nproc) CPUs; node $("$node" --version)"
printf 'CLI   mcp-train train (release):        %6.2f s\n' "$cli_seconds"
printf 'pkg   train() in Node:                  %6.2f s  (whole process %.2f s)\n' "$train_seconds" "$node_seconds"
awk -v p="$node_seconds" -v c="$cli_seconds" 'BEGIN { printf "ratio pkg (whole process) / CLI:        %6.2fx (target <= 1.5x)\n", p / c }'
echo "same model.json bytes: $same"
[ "$same" = yes ]
