//! The library of the `mcp-train` binary: the HTTP server and the file-system layer it shares
//! with the command line.
//!
//! - [`http`]: `mcp-train serve` — [`http::ServeSettings`] and [`http::serve`] run the server,
//!   [`http::app`] is its router (tests send it requests with `tower::ServiceExt::oneshot`,
//!   no socket needed).
//! - [`store`]: the anomaly store (SQLite in the data directory) the server, `detect --store`
//!   and `mcp-train anomalies` share.
//! - [`notify`]: notifications (webhooks, Slack, email) with grouping, retries and dead letters.
//! - [`mcp`]: the MCP tools, resources and prompts, on stdio (`mcp-train mcp`) and `/mcp`.
//! - [`fs`]: what touches the machine — the model registry in a data directory, configuration
//!   directories, the clock (`SOURCE_DATE_EPOCH`).
//!
//! The command line (`src/main.rs` and `src/cli/`) is the binary's own: it turns flags into
//! these settings and calls. Nothing here depends on it. The training, packaging and registry
//! logic itself is in `mcp-train-core`.

pub mod datasets;
pub mod exports;
pub mod fs;
pub mod http;
pub mod kb;
pub mod mcp;
pub mod notify;
pub mod store;
