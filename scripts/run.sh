#!/usr/bin/env bash
# Builds mcp-train and runs the whole flow on a synthetic export:
# generate → validate → features → train (and register) → score → deploy → verify the package,
# then unpack it and run its own Python validator. Then builds the web app (scripts/web.sh build)
# and starts `mcp-train serve` on http://127.0.0.1:${PORT:-8080}/ until Ctrl-C: the web app and the
# API over the registry in ./mcp-train-data (where the demo registered and deployed its model).
#
#   scripts/run.sh [RECORDS]        # default 20000 records; output in ./mcp-train-data/demo/
#   scripts/run.sh --cli [RECORDS]  # the command-line flow only
#   scripts/run.sh --web            # build the web app and start the server only
#   PORT=9000 scripts/run.sh        # serve on another port
#   MCP_TRAIN_TOKEN=… scripts/run.sh  # writes to the server need this bearer token
set -euo pipefail
cd "$(dirname "$0")/.."
cli=1 web=1
case "${1:-}" in
  --cli) web=0; shift ;;
  --web) cli=0; shift ;;
esac
records="${1:-20000}"
out="mcp-train-data/demo"
port="${PORT:-8080}"

bin="target/release/mcp-train"
# The registry every step below (and the server) uses.
export MCP_TRAIN_DATA="${MCP_TRAIN_DATA:-$PWD/mcp-train-data}"

serve_web() {
  scripts/web.sh build
  cargo build --release --locked -p mcp-train
  echo
  echo "==> $bin serve --addr 127.0.0.1:$port --data-dir $MCP_TRAIN_DATA --dist dist"
  [ "$cli" = 1 ] && echo "    try it with the demo export: $PWD/$out/export.json"
  echo "    it prints its URL; open it in a browser (Ctrl-C stops the server)"
  exec "$bin" serve --addr "127.0.0.1:$port" --data-dir "$MCP_TRAIN_DATA" --dist dist
}
[ "$cli" = 1 ] || serve_web

echo "==> building mcp-train (release)"
cargo build --release --locked -p mcp-train
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
echo "Done. Files are in $out/, the registry is in $MCP_TRAIN_DATA:"
ls -l "$out"
echo "Try: $bin models --help, $bin verify --help"
[ "$web" = 1 ] || exit 0
echo
serve_web
