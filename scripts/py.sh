#!/usr/bin/env bash
# The Python wheel (python/: PyO3 + maturin, abi3): build it, test it installed, benchmark it.
#
#   scripts/py.sh build [dev|release]   # wheel into $CARGO_TARGET_DIR/wheels/<profile>/ (default dev)
#   scripts/py.sh test                  # dev wheel, pip-installed into a fresh venv, then pytest
#   scripts/py.sh bench [ROWS]          # release wheel vs scikit-learn IsolationForest(n_jobs=2)
#   scripts/py.sh spark                 # dev wheel in the Spark venv, the Spark tests only
#   scripts/py.sh bench-spark [ROWS]    # release wheel: scoring through Spark local[2] vs the CLI
#
# The Spark tests (python/tests/test_spark.py: PySpark local[2] and local-cluster, ~2 min) are
# slow to start, so `test` runs them only with MCP_TRAIN_SPARK=1 and skips them otherwise;
# `spark` runs them alone. PySpark, pyarrow and Java come from scripts/tools.sh ensure_spark.
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

# The Spark tests with wheel $1 and CLI $2: the wheel goes into the Spark venv (PySpark is
# too big to install into a fresh venv each run), replacing the one a previous run put there.
spark_tests() {
  ensure_spark
  "$MCP_TRAIN_SPARK_VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps \
    --force-reinstall "$1"
  local started=$SECONDS
  (cd python/tests && MCP_TRAIN_SPARK=1 MCP_TRAIN_BIN="$2" MCP_TRAIN_REPO="$PWD/../.." \
    "$MCP_TRAIN_SPARK_VENV/bin/python" -m pytest -p no:cacheprovider -q -rs test_spark.py)
  echo "Spark tests: $((SECONDS - started)) s"
}

# The dev wheel ($wheel) and the CLI the tests compare with ($bin: MCP_TRAIN_BIN, else the debug
# build, built when missing).
dev_wheel_and_cli() {
  wheel=$(build dev)
  echo "built $wheel ($(du -h "$wheel" | cut -f1))"
  bin="${MCP_TRAIN_BIN:-$CARGO_TARGET_DIR/debug/mcp-train}"
  if [ ! -x "$bin" ]; then
    cargo build --locked -p mcp-train --bin mcp-train
  fi
}

ensure_wheel_tools
case "${1:-}" in
  build)
    build "${2:-dev}"
    ;;
  test)
    # The dev profile (opt-level 1): a release build (codegen-units 1, thin LTO) of the core and
    # PyO3 takes minutes longer on CI and the tests' data is small; speed is bench's business.
    dev_wheel_and_cli
    venv="$CARGO_TARGET_DIR/wheel-test-venv"
    fresh_venv "$venv" "$wheel"
    ensure_moto   # the S3 server of tests/test_registry.py
    # From python/tests, so `import mcp_train` is the installed wheel, not the source folder.
    # test_spark.py skips itself here (no MCP_TRAIN_SPARK); with the flag it runs in the Spark
    # venv below instead.
    (cd python/tests && MCP_TRAIN_SPARK= MCP_TRAIN_BIN="$bin" MCP_TRAIN_REPO="$PWD/../.." \
      "$venv/bin/python" -m pytest -p no:cacheprovider -q -rs .)
    if [ "${MCP_TRAIN_SPARK:-}" = 1 ]; then
      spark_tests "$wheel" "$bin"
    fi
    ;;
  spark)
    dev_wheel_and_cli
    ensure_moto
    spark_tests "$wheel" "$bin"
    ;;
  bench-spark)
    wheel=$(build release)
    echo "built $wheel ($(du -h "$wheel" | cut -f1))"
    # The CLI to compare with: MCP_TRAIN_BIN (a release build), else built here.
    bin="${MCP_TRAIN_BIN:-$CARGO_TARGET_DIR/release/mcp-train}"
    if [ -z "${MCP_TRAIN_BIN:-}" ]; then
      cargo build --locked --release -p mcp-train --bin mcp-train
    fi
    ensure_spark
    "$MCP_TRAIN_SPARK_VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps \
      --force-reinstall "$wheel"
    "$MCP_TRAIN_SPARK_VENV/bin/python" python/bench/bench_spark.py --rows "${2:-1000000}" \
      --cli "$bin"
    ;;
  bench)
    wheel=$(build release)
    echo "built $wheel ($(du -h "$wheel" | cut -f1))"
    venv="$CARGO_TARGET_DIR/wheel-bench-venv"
    fresh_venv "$venv" "$wheel"
    "$venv/bin/python" python/bench/bench_wheel.py --rows "${2:-1000000}"
    ;;
  *)
    echo "usage: scripts/py.sh build [dev|release] | test | spark | bench [ROWS] | bench-spark [ROWS]" >&2
    exit 2
    ;;
esac
