#!/usr/bin/env bash
# Builds, serves and tests the web app (web/, built by trunk into dist/). Installs what is missing
# and skips what is already there, so it works on a fresh machine and reruns fast.
#
#   scripts/web.sh [build]     # wasm32 target, trunk, wasm-bindgen-cli; trunk build --release → dist/
#   scripts/web.sh deps        # browser-test dependencies: chromium (apt), npm ci in tests/web
#   scripts/web.sh cli         # the mcp-train binary the browser test compares with (release;
#                              # MCP_TRAIN_PROFILE=debug for the debug build)
#   scripts/web.sh e2e         # deps + cli, then the browser end-to-end test on dist/
#   scripts/web.sh e2e-server  # deps + cli, then the browser test of dist/ served by `mcp-train serve`
#   scripts/web.sh serve       # serve dist/ on http://127.0.0.1:${PORT:-8080}/
#   scripts/web.sh sizes       # dist/ size and the gzipped size of its .wasm files
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/tools.sh
. scripts/tools.sh

step() { printf '\n==> %s\n' "$*"; }

sizes() {
  [ -d dist ] || { echo "no dist/ (run scripts/web.sh build)"; return 1; }
  local total wasm_raw=0 wasm_gz=0 f
  total=$(du -sb dist | awk '{print $1}')
  for f in dist/*.wasm; do
    [ -e "$f" ] || continue
    wasm_raw=$((wasm_raw + $(stat -c %s "$f")))
    wasm_gz=$((wasm_gz + $(gzip -9 -c "$f" | wc -c)))
    printf '  %-48s %10d bytes, %9d gzipped\n' "$f" "$(stat -c %s "$f")" "$(gzip -9 -c "$f" | wc -c)"
  done
  awk -v t="$total" -v r="$wasm_raw" -v g="$wasm_gz" 'BEGIN {
    printf "dist/ %d bytes (%.2f MB); .wasm %d bytes (%.2f MB), gzipped %d bytes (%.2f MB)\n", t, t / 1e6, r, r / 1e6, g, g / 1e6 }'
}

build() {
  step "web toolchain (wasm32 target, trunk $TRUNK_VERSION, wasm-bindgen-cli)"
  ensure_wasm_target
  ensure_wasm_bindgen_cli
  ensure_trunk
  trunk --version
  step "trunk build --release --offline → dist/"
  trunk build --release --offline
  sizes
}

chromium_path() {
  local c
  for c in "${CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    [ -n "$c" ] && [ -x "$c" ] && { echo "$c"; return 0; }
  done
  return 1
}

deps() {
  step "browser-test dependencies (chromium, node, playwright-core)"
  if ! chromium_path >/dev/null || ! command -v chromedriver >/dev/null; then
    apt_install chromium chromium-driver
  fi
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_install nodejs npm
  fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 18 ] || { echo "node >= 18 is required for the browser tests (found $(node --version))"; return 1; }
  "$(chromium_path)" --version 2>/dev/null
  echo "node $(node --version)"
  # npm ci when node_modules is missing or was installed from another package-lock.json.
  local lock_sum stamp=tests/web/node_modules/.package-lock.sha256
  lock_sum=$(sha256sum tests/web/package-lock.json | awk '{print $1}')
  if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]; then
    (cd tests/web && npm ci --no-audit --no-fund)
    echo "$lock_sum" > "$stamp"
  else
    echo "tests/web/node_modules is up to date"
  fi
}

# The CLI the browser test compares with: release by default; MCP_TRAIN_PROFILE=debug uses the
# debug build (scripts/test.sh does: `cargo test` has just built it, which saves a release build).
profile="${MCP_TRAIN_PROFILE:-release}"
cli_path() {
  local dir="${CARGO_TARGET_DIR:-target}"
  case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac
  echo "$dir/$profile/mcp-train"
}
cli() {
  step "mcp-train CLI ($profile)"
  if [ "$profile" = debug ]; then cargo build --locked -p mcp-train; else cargo build --release --locked -p mcp-train; fi
}

e2e() {
  deps
  cli
  [ -f dist/index.html ] || { echo "no dist/index.html: run scripts/web.sh build first"; return 1; }
  step "browser end-to-end test (headless chromium, dist/ served under a sub-path)"
  CHROMIUM="$(chromium_path)" MCP_TRAIN_BIN="$(cli_path)" node tests/web/e2e.mjs
}

e2e_server() {
  deps
  cli
  [ -f dist/index.html ] || { echo "no dist/index.html: run scripts/web.sh build first"; return 1; }
  step "browser end-to-end test with the server (mcp-train serve --dist dist, headless chromium)"
  CHROMIUM="$(chromium_path)" MCP_TRAIN_BIN="$(cli_path)" node tests/web/e2e-server.mjs
}

serve() {
  [ -f dist/index.html ] || { echo "no dist/index.html: run scripts/web.sh build first"; return 1; }
  local port="${PORT:-8080}"
  echo "serving dist/ at http://127.0.0.1:$port/ (Ctrl-C stops it)"
  exec python3 -m http.server "$port" --bind 127.0.0.1 --directory dist
}

case "${1:-build}" in
  build) build ;;
  deps) deps ;;
  cli) cli ;;
  e2e) e2e ;;
  e2e-server) e2e_server ;;
  serve) serve ;;
  sizes) sizes ;;
  -h|--help|help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) echo "unknown command: $1 (build, deps, cli, e2e, e2e-server, serve, sizes)"; exit 2 ;;
esac
