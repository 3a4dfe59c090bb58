//! The integration tests of the `mcp-train` package, one test binary (`cargo test -p mcp-train
//! --test tests`): one module per area, sharing `common`. Most run the real binary as a person
//! or a client would; `router` sends requests to the server's router in-process.

/// Running the binary, scratch directories, and the server harness.
mod common;

/// `agents list` and `synth --log-type`: the built-in agents from the command line.
mod agents;
/// The anomaly store: HTTP ingestion = detect, lifecycle, filters, pages, restarts.
mod anomalies;
/// The command line as a person runs it: exit codes, messages, inputs and outputs.
mod cli;
/// `detect`: stream = batch, --follow across rotation and truncation, registry reloads.
mod detect;
/// `detect --nats`: workers on a real NATS JetStream server, a killed worker losing nothing.
mod detect_nats;
/// Anomaly export jobs over HTTP and the CLI: formats, filters, progress, cancel, expiry, kill -9.
mod exports;
/// Real MCP clients: the Python and TypeScript SDKs over stdio and HTTP in both protocol
/// revisions, the conformance suite; the gateway test runs with scripts/test-gateway.sh.
mod kb;
/// Every log type: synth → validate → train → score = detect; raw logs → import.
mod log_types;
mod mcp_clients;
/// The MCP tool set in-process: groups, read-only mode, paging, in-band errors.
mod mcp_errors;
mod mcp_tools;
/// The model manager per log type: log types in the registry, rollback, history, migration.
mod model_manager;
/// The monitoring kit in deploy/: promtool, amtool, the dashboard, a real Prometheus and
/// Alertmanager against a real `mcp-train serve`.
mod monitoring;
/// Notifications against real peers: webhook signatures, Slack retries and dead letters, SMTP.
mod notify;
/// The registry in object storage: a real S3 server (moto), two replicas and the CLI on one
/// bucket, racing writers, kill -9.
mod object_registry;
/// The OpenAPI document against real responses and the parameter bounds the server enforces.
mod openapi;
/// Deployment packages: `package`, `verify`, and the packaged Python scripts run by Python.
mod package;
/// README.md's console transcripts, replayed.
mod readme;
/// Real dnsmasq and nftables/ulogd2 logs: the committed fixtures, and a fresh recording where
/// the daemons are available.
mod real_daemons;
/// Every real export in `../shared/data/`, when it is there.
mod real_data;
/// The registry on disk: `train --register`, `models`, writers killed or racing.
mod registry;
/// The HTTP API in-process (no socket): parameters, the error envelope, auth, metrics.
mod router;
/// `mcp-train serve` over HTTP, against docs/API.md.
mod serve;
/// `kill -9` in the middle of uploads, deploys and training.
mod serve_crash;
/// Concurrent uploads and downloads, several servers on one data directory.
mod serve_load;
/// `train`, `evaluate` and `score`.
mod train;
