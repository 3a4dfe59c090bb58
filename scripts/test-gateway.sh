#!/usr/bin/env bash
# mcp-train's /mcp behind a real MCP gateway: IBM ContextForge (PyPI mcp-contextforge-gateway,
# installed by scripts/tools.sh into its own venv). Slow (installs the gateway the first time,
# about a minute; starting it takes 10-30 s) and therefore not part of scripts/test.sh:
#
#   scripts/test-gateway.sh
#
# What it does, all on 127.0.0.1 in a temporary directory removed on exit:
#   1. builds the debug binary, writes a synthetic WiFi export (`mcp-train synth`) and trains and
#      registers a model from it (`mcp-train train --register`);
#   2. starts `mcp-train serve` with a bearer token;
#   3. starts the gateway (`mcpgateway`) with a sqlite database, a random JWT secret, loopback
#      targets allowed (SSRF_ALLOW_LOCALHOST) and the admin UI off, and mints a JWT for it;
#   4. runs scripts/gateway_check.py: registers /mcp with the gateway (refused without the token,
#      accepted with it), lists the tools through the gateway and calls list_models and
#      search_knowledge through the gateway's /rpc endpoint, checking the relayed answers.
# Prints PASS or FAIL (with both servers' log tails) and exits non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp="$(mktemp -d "${TMPDIR:-/tmp}/mcp-train-gateway.XXXXXX")"
pids=()
result=FAIL
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [ "$result" != PASS ]; then
    echo "--- mcp-train serve (last lines)"
    tail -n 20 "$tmp/serve.log" 2>/dev/null || true
    echo "--- gateway (last lines)"
    tail -n 20 "$tmp/gateway.log" 2>/dev/null || true
  fi
  rm -rf "$tmp"
  echo "$result: mcp-train behind the ContextForge gateway"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=scripts/tools.sh
. scripts/tools.sh
ensure_mcp_gateway
gw_bin="$MCP_TRAIN_GATEWAY_BIN"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-train/target}"
echo "building mcp-train (debug) in $CARGO_TARGET_DIR (waits if another build holds the lock)"
cargo build --quiet -p mcp-train
bin="$CARGO_TARGET_DIR/debug/mcp-train"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits up to $2 seconds for URL $1 to answer 200.
wait_http() {
  local i
  for ((i = 0; i < $2 * 4; i++)); do
    if curl -fsS -o /dev/null -m 2 "$1" 2>/dev/null; then
      return 0
    fi
    sleep 0.25
  done
  echo "no answer from $1 after $2 s" >&2
  return 1
}

# 1. A data directory with a trained, registered model.
data="$tmp/data"
"$bin" synth -q --records 3000 --seed 42 --out "$tmp/synth-wifi.json"
version="$("$bin" train -q "$tmp/synth-wifi.json" --register --registry "$data" --seed 1 \
  --n-estimators 50 -o "$tmp/model.json" 2>&1 | sed -n 's/^registered model \([0-9_]*\) .*/\1/p')"
if [ -z "$version" ]; then
  echo "training did not register a model" >&2
  exit 1
fi
echo "registered model $version"

# 2. mcp-train serve with a bearer token.
token="$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
serve_port="$(free_port)"
"$bin" serve -q --addr "127.0.0.1:$serve_port" --data-dir "$data" --dist "$tmp/no-web-app" \
  --token "$token" >"$tmp/serve.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$serve_port/api/health" 30
echo "mcp-train serve on http://127.0.0.1:$serve_port (/mcp behind the bearer token)"

# 3. The gateway: its settings come from the environment (mcpgateway/config.py).
gw_port="$(free_port)"
jwt_secret="$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
(
  cd "$tmp"
  export HOST=127.0.0.1 PORT="$gw_port"
  export DATABASE_URL="sqlite:///$tmp/gateway.db"
  export JWT_SECRET_KEY="$jwt_secret"
  export AUTH_ENCRYPTION_SECRET="$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
  export BASIC_AUTH_USER=gateway-admin
  export BASIC_AUTH_PASSWORD="$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
  export PLATFORM_ADMIN_EMAIL=admin@example.com
  export PLATFORM_ADMIN_PASSWORD="$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
  export AUTH_REQUIRED=true MCPGATEWAY_UI_ENABLED=false MCPGATEWAY_ADMIN_API_ENABLED=false
  export SSRF_ALLOW_LOCALHOST=true CACHE_TYPE=memory ENVIRONMENT=development
  export PLUGINS_ENABLED=false OBSERVABILITY_ENABLED=false LOG_LEVEL=WARNING
  exec "$gw_bin/mcpgateway" --host 127.0.0.1 --port "$gw_port"
) >"$tmp/gateway.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$gw_port/health" 120
echo "gateway on http://127.0.0.1:$gw_port"

# A JWT for the platform admin the gateway bootstrapped, signed with its secret.
jwt="$(cd "$tmp" && JWT_SECRET_KEY="$jwt_secret" "$gw_bin/python" -m mcpgateway.utils.create_jwt_token \
  --username admin@example.com --exp 30 --secret "$jwt_secret" 2>/dev/null | tail -n 1)"

# 4. The checks.
"$gw_bin/python" scripts/gateway_check.py --gateway "http://127.0.0.1:$gw_port" --jwt "$jwt" \
  --mcp "http://127.0.0.1:$serve_port/mcp" --token "$token" --version "$version"
result=PASS
