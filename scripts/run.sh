#!/usr/bin/env bash
# Builds mcp-train and runs the whole flow on a synthetic export:
# generate → validate → features → train (and register) → score → deploy → verify the package,
# then unpack it and run its own Python validator. Then builds the web app (scripts/web.sh build)
# and serves dist/ on http://127.0.0.1:${PORT:-8080}/ until Ctrl-C; the demo export is there to
# drop into its Training page. (The server joins this command when it lands.)
#
#   scripts/run.sh [RECORDS]        # default 20000 records; output in ./mcp-train-data/demo/
#   scripts/run.sh --cli [RECORDS]  # the command-line flow only
#   scripts/run.sh --web            # build and serve the web app only
#   PORT=9000 scripts/run.sh        # serve on another port
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

serve_web() {
  scripts/web.sh build
  echo
  echo "==> serving the web app (dist/) with python3 -m http.server"
  [ "$cli" = 1 ] && echo "    try it with the demo export: $PWD/$out/export.json"
  echo "    open http://127.0.0.1:$port/   (Ctrl-C stops the server)"
  exec python3 -m http.server "$port" --bind 127.0.0.1 --directory dist
}
[ "$cli" = 1 ] || serve_web

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
[ "$web" = 1 ] || exit 0
echo
serve_web
