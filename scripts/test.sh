#!/usr/bin/env bash
# Runs every check and test of mcp-train. Installs what is missing (the wasm32 target, rustfmt,
# clippy, wasm-bindgen-cli, trunk, chromium, the browser test's npm package) and skips what is
# already there, so it works on a fresh machine and reruns fast.
#
#   scripts/test.sh            # everything: fmt, clippy, tests, wasm32 build of the core,
#                              # the web app's build and its browser end-to-end test
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/tools.sh
. scripts/tools.sh

# Compiled artifacts live outside the clone (unless CARGO_TARGET_DIR says otherwise), so every
# clone on this machine — CI's fresh ones included — reuses what an earlier run compiled instead of
# building every profile from scratch. Test outputs for the summary go there too.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-train/target}"
mkdir -p "$CARGO_TARGET_DIR"
out="$CARGO_TARGET_DIR"
echo "compiled artifacts in $CARGO_TARGET_DIR"
# Incremental caches are kept per clone path and would pile up gigabytes with every fresh clone
# CI makes; a from-scratch test run gains nothing from them. (Set CARGO_INCREMENTAL=1 to keep them.)
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
# A full disk shows up as a linker error far into the run: check first, free what is safe to free
# (the incremental caches), and stop with the cause when that is not enough.
free_gb() { df -Pk "$CARGO_TARGET_DIR" | awk 'NR==2 {print int($4 / 1048576)}'; }
if [ "$(free_gb)" -lt 12 ]; then
  echo "only $(free_gb) GB free: removing incremental caches under $CARGO_TARGET_DIR"
  find "$CARGO_TARGET_DIR" -maxdepth 3 -type d -name incremental -prune -exec rm -rf {} +
fi
if [ "$(free_gb)" -lt 6 ]; then
  echo "error: only $(free_gb) GB free on the disk holding $CARGO_TARGET_DIR; the build needs about 6 GB (remove old target directories or set CARGO_TARGET_DIR elsewhere)" >&2
  exit 1
fi

step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
need_component() {
  rustup component list --installed 2>/dev/null | grep -q "^$1" || rustup component add "$1"
}
need_component rustfmt
need_component clippy
ensure_wasm_target
# wasm-bindgen-cli runs the wasm tests in node; its version must equal wasm-bindgen's in Cargo.lock.
ensure_wasm_bindgen_cli
command -v node >/dev/null || { echo "node is required for the wasm tests (apt-get install nodejs)"; exit 1; }
# The package tests run the packaged scripts with the system's Python 3 (standard library only).
if ! command -v python3 >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y python3; else
    echo "python3 is required for the package tests (apt-get install python3)"; exit 1; fi
fi
python3 --version
# aiosmtpd and standardwebhooks for the notification tests (a venv in ~/.cache/mcp-train/py).
ensure_py_tools
ensure_moto
ensure_nats
# The real MCP clients of server/tests/mcp_clients.rs: the Python SDK (same venv), the TypeScript
# SDK, the conformance suite and Node 22 (an npm prefix in ~/.cache/mcp-train/npm).
ensure_mcp_clients
cargo --version

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, -D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "wasm32 release build of the core"
cargo build -p mcp-train-core --release --locked --target wasm32-unknown-unknown

step "wasm32: the same training gives the same model bytes as natively (node)"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test -p mcp-train-core --locked --target wasm32-unknown-unknown --test determinism 2>&1 \
  | tee "$out"/test-output-wasm.txt

step "monitoring tools: Prometheus, Alertmanager (Debian packages, unpacked), hadolint (PyPI)"
# server/tests/monitoring.rs runs promtool, amtool, a real Prometheus and Alertmanager, and
# hadolint on the Dockerfile; these set MCP_TRAIN_PROMETHEUS_BIN and MCP_TRAIN_DEPLOY_LINT.
ensure_prometheus
ensure_hadolint

step "tests"
cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$out"/test-output.txt
cargo test -p mcp-train-core --locked --features linfa --test linfa 2>&1 | tee -a "$out"/test-output.txt

step "Python wheel: maturin build (dev profile), pip install into a fresh venv, pytest"
# Against the debug CLI `cargo test` has just built (same bytes, scores, reports). The dev
# profile because a release build of the core and PyO3 (codegen-units 1, thin LTO) costs CI
# minutes and the tests' data is small; `scripts/py.sh bench` builds the release wheel.
# The Spark tests (PySpark local[2] and local-cluster, about a minute once PySpark is installed)
# run too; MCP_TRAIN_SPARK=0 leaves them out.
MCP_TRAIN_SPARK="${MCP_TRAIN_SPARK:-1}" MCP_TRAIN_BIN="$CARGO_TARGET_DIR/debug/mcp-train" \
  scripts/py.sh test 2>&1 | tee "$out"/test-output-py.txt

step "web app: trunk build --release → dist/"
scripts/web.sh build

step "web: IndexedDB storage tests in headless Chromium (wasm-bindgen-test)"
scripts/web.sh deps
webdriver_json="$out"/wasm-bindgen-test-webdriver.json
cat > "$webdriver_json" <<'JSON'
{"goog:chromeOptions": {"binary": "/usr/bin/chromium",
  "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]}}
JSON
CHROMEDRIVER="$(command -v chromedriver)" WASM_BINDGEN_TEST_WEBDRIVER_JSON="$webdriver_json" \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test -p mcp-train-web --locked --target wasm32-unknown-unknown --test idb 2>&1 \
  | tee "$out"/test-output-idb.txt

# The browser test drives dist/ in headless Chromium and compares with the CLI (the debug build
# `cargo test` has just made: same bytes, and no release build to wait for). Its result joins the
# summary below even when it fails; the exit status then says so.
web_status=0
MCP_TRAIN_PROFILE=debug scripts/web.sh e2e 2>&1 | tee "$out"/test-output-web.txt || web_status=$?
# Failed before the browser test could report (e.g. an install): count that as one failure.
grep -q '^web e2e:' "$out"/test-output-web.txt || echo 'web e2e: 0 passed, 1 failed' >> "$out"/test-output-web.txt

# The same dist/ served by `mcp-train serve` (the debug binary): share, download, train on the server.
server_status=0
MCP_TRAIN_PROFILE=debug scripts/web.sh e2e-server 2>&1 | tee "$out"/test-output-web-server.txt || server_status=$?
grep -q '^web e2e-server:' "$out"/test-output-web-server.txt ||
  echo 'web e2e-server: 0 passed, 1 failed' >> "$out"/test-output-web-server.txt
[ "$web_status" = 0 ] && web_status=$server_status

# The npm package (pkg/): built by wasm-pack, then its Node and headless-Chromium tests against
# the debug CLI. Its count joins the summary even when it fails before its tests report.
pkg_status=0
{ scripts/pkg.sh build && MCP_TRAIN_PROFILE=debug scripts/pkg.sh test; } 2>&1 \
  | tee "$out"/test-output-pkg.txt || pkg_status=$?
grep -q '^pkg tests:' "$out"/test-output-pkg.txt || echo 'pkg tests: 0 passed, 1 failed' >> "$out"/test-output-pkg.txt
[ "$web_status" = 0 ] && web_status=$pkg_status

# One closing line for the whole run, summed over every test binary and the browser test.
# pytest's last line reads e.g. "130 passed, 2 failed, 5 skipped in 9.1s" (counts in any order).
awk '/^test result:/ { p += $4; f += $6; i += $8 }
     /^(web e2e(-server)?|pkg tests):/ { p += $3; f += $5 }
     FILENAME ~ /test-output-py\.txt$/ && / (passed|failed|errors?)[, ]/ && / in [0-9.]+s/ {
       for (k = 2; k <= NF; k++) {
         w = $k; sub(/,$/, "", w)
         if (w == "passed") p += $(k-1)
         else if (w == "failed" || w == "error" || w == "errors") f += $(k-1)
         else if (w == "skipped") i += $(k-1)
       }
     }
     END { printf "\nall tests: %d passed, %d failed, %d ignored\n", p, f, i }' \
  "$out"/test-output.txt "$out"/test-output-wasm.txt "$out"/test-output-idb.txt "$out"/test-output-web.txt \
  "$out"/test-output-web-server.txt "$out"/test-output-py.txt "$out"/test-output-pkg.txt
exit "$web_status"
