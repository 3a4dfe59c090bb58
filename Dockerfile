# syntax=docker/dockerfile:1
# mcp-train: the `mcp-train` binary and the built web app in a small Debian image, running as a
# non-root user with its data directory on a volume.
#   docker build -t mcp-train .
#   docker run -p 8080:8080 -v mcp-train-data:/data -e MCP_TRAIN_TOKEN=… mcp-train
# Linted with hadolint (server/tests/monitoring.rs); not built here (no Docker daemon): see
# docs/deployment.md.

# --- build: the release binary, and the web app with trunk (scripts/web.sh installs the wasm32
# target, wasm-bindgen-cli at Cargo.lock's version and the pinned trunk) ---
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN scripts/web.sh build \
 && cargo build --release --locked -p mcp-train \
 && strip target/release/mcp-train

# --- runtime ---
FROM debian:bookworm-slim
# curl for the health check; ca-certificates for HTTPS notification channels. Unpinned on
# purpose: the image takes Debian's security updates when rebuilt.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 mcp-train \
 && useradd --system --uid 10001 --gid mcp-train --home-dir /data --shell /usr/sbin/nologin mcp-train \
 && mkdir -p /data \
 && chown mcp-train:mcp-train /data
COPY --from=build /src/target/release/mcp-train /usr/local/bin/mcp-train
COPY --from=build /src/dist /usr/share/mcp-train/dist
COPY config /usr/share/mcp-train/config
# The registry, the anomaly store, exports and notification state live here.
ENV MCP_TRAIN_DATA=/data \
    MCP_TRAIN_LOG=json
VOLUME ["/data"]
WORKDIR /data
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8080/api/health"]
ENTRYPOINT ["mcp-train"]
CMD ["serve", "--addr", "0.0.0.0:8080", "--dist", "/usr/share/mcp-train/dist"]
