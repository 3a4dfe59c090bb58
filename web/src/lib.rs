//! mcp-train in a browser tab: a Leptos app (the `app` binary) and a web worker (the `worker`
//! binary) over the same core the CLI uses. The page keeps state and the IndexedDB registry; every
//! heavy step (reading and validating an export, training, packaging, verifying) runs in a worker
//! spawned per task, so the page stays responsive and a cancel can terminate the work at once.
//!
//! - [`app`], [`pages`], [`components`], [`plots`]: what the user sees.
//! - [`state`]: what the pages share (registry mirror, jobs, settings, the server connection),
//!   persisted through [`idb`] (IndexedDB).
//! - [`worker`]: the page side and the worker side of running a task in a Web Worker.
//! - [`api_client`]: the client of an `mcp-train serve` HTTP API.
//! - [`clock`], [`format`], [`download`], [`js_error`]: small pieces the others share.

pub mod api_client;
pub mod app;
pub mod clock;
pub mod components;
pub mod detect;
pub mod download;
pub mod format;
pub mod idb;
pub mod js_error;
pub mod pages;
pub mod plots;
pub mod state;
pub mod worker;
