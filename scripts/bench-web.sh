#!/usr/bin/env bash
# Browser benchmark: in-browser training time (the web app in headless Chromium) against the native
# CLI on the same synthetic exports, plus the size of dist/. Not part of scripts/test.sh.
#
#   scripts/bench-web.sh                         # 100K and 1M records (the 1M export is ~280 MB)
#   BENCH_SIZES=10000,100000 BENCH_RUNS=3 scripts/bench-web.sh   # fastest of 3 trainings per size
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/web.sh build
scripts/web.sh deps
scripts/web.sh cli
printf '\n==> browser benchmark\n'
node tests/web/bench.mjs   # the release CLI in ${CARGO_TARGET_DIR:-target}/
