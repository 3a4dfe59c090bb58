#!/usr/bin/env bash
# The Python wheel (python/: PyO3 + maturin, abi3): build it, test it installed, benchmark it.
#
#   scripts/py.sh build [dev|release]   # wheel into $CARGO_TARGET_DIR/wheels/<profile>/ (default dev)
#   scripts/py.sh test                  # dev wheel, pip-installed into a fresh venv, then pytest
#   scripts/py.sh bench [ROWS]          # release wheel vs scikit-learn IsolationForest(n_jobs=2)
#
# The tests compare with the CLI: MCP_TRAIN_BIN (default $CARGO_TARGET_DIR/debug/mcp-train, which
# `cargo test` builds; built here when missing). Tools (maturin, pytest, numpy, scikit-learn,
# pinned) come from scripts/tools.sh ensure_wheel_tools.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/tools.sh
. scripts/tools.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-train/target}"
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# Builds the wheel with cargo profile $1 and prints its path.
build() {
  local profile="${1:-dev}" dir
  dir="$CARGO_TARGET_DIR/wheels/$profile"
  rm -rf "$dir"
  mkdir -p "$dir"
  "$MCP_TRAIN_WHEEL_VENV/bin/maturin" build --quiet --locked --manifest-path python/Cargo.toml \
    --profile "$profile" --interpreter "$MCP_TRAIN_WHEEL_VENV/bin/python" --out "$dir" >&2
  ls "$dir"/mcp_train-*.whl
}

# A fresh venv at $1 holding only the wheel $2 and the pinned test tools.
fresh_venv() {
  local venv="$1" wheel="$2"
  rm -rf "$venv"
  python3 -m venv "$venv"
  local tools=()
  for pin in "${MCP_TRAIN_WHEEL_PINS[@]}"; do
    case "$pin" in maturin==*) ;; *) tools+=("$pin") ;; esac
  done
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$wheel" "${tools[@]}"
}

ensure_wheel_tools
case "${1:-}" in
  build)
    build "${2:-dev}"
    ;;
  test)
    # The dev profile (opt-level 1): a release build (codegen-units 1, thin LTO) of the core and
    # PyO3 takes minutes longer on CI and the tests' data is small; speed is bench's business.
    wheel=$(build dev)
    echo "built $wheel ($(du -h "$wheel" | cut -f1))"
    bin="${MCP_TRAIN_BIN:-$CARGO_TARGET_DIR/debug/mcp-train}"
    if [ ! -x "$bin" ]; then
      cargo build --locked -p mcp-train --bin mcp-train
    fi
    venv="$CARGO_TARGET_DIR/wheel-test-venv"
    fresh_venv "$venv" "$wheel"
    ensure_moto   # the S3 server of tests/test_registry.py
    # From python/tests, so `import mcp_train` is the installed wheel, not the source folder.
    (cd python/tests && MCP_TRAIN_BIN="$bin" MCP_TRAIN_REPO="$PWD/../.." \
      "$venv/bin/python" -m pytest -p no:cacheprovider -q -rs .)
    ;;
  bench)
    wheel=$(build release)
    echo "built $wheel ($(du -h "$wheel" | cut -f1))"
    venv="$CARGO_TARGET_DIR/wheel-bench-venv"
    fresh_venv "$venv" "$wheel"
    "$venv/bin/python" python/bench/bench_wheel.py --rows "${2:-1000000}"
    ;;
  *)
    echo "usage: scripts/py.sh build [dev|release] | test | bench [ROWS]" >&2
    exit 2
    ;;
esac
