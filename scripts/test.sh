#!/usr/bin/env bash
# Runs every check and test of mcp-train. Installs what is missing (the wasm32 target, rustfmt,
# clippy) and skips what is already there, so it works on a fresh machine and reruns fast.
#
#   scripts/test.sh            # everything: fmt, clippy, tests, wasm32 build of the core
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
need_component() {
  rustup component list --installed 2>/dev/null | grep -q "^$1" || rustup component add "$1"
}
need_component rustfmt
need_component clippy
rustup target list --installed | grep -qx wasm32-unknown-unknown \
  || rustup target add wasm32-unknown-unknown
# wasm-bindgen-cli runs the wasm tests in node; its version must equal wasm-bindgen's in Cargo.lock.
wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
if [ "$(wasm-bindgen-test-runner --version 2>/dev/null | awk '{print $2}')" != "$wb_version" ]; then
  # Without --locked: the CLI's own lock file pins a crate version the registry no longer has.
  cargo install wasm-bindgen-cli --version "$wb_version"
fi
command -v node >/dev/null || { echo "node is required for the wasm tests (apt-get install nodejs)"; exit 1; }
# The package tests run the packaged scripts with the system's Python 3 (standard library only).
if ! command -v python3 >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y python3; else
    echo "python3 is required for the package tests (apt-get install python3)"; exit 1; fi
fi
python3 --version
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
  | tee target/test-output-wasm.txt

step "tests"
cargo test --workspace --locked 2>&1 | tee target/test-output.txt
# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { p += $4; f += $6; i += $8 } END { printf "\nall tests: %d passed, %d failed, %d ignored\n", p, f, i }' \
  target/test-output.txt target/test-output-wasm.txt
