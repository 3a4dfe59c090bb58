//! mcp-train in a browser tab: a Leptos app (the `app` binary) and a web worker (the `worker`
//! binary) over the same core the CLI uses. The page keeps state and the IndexedDB registry; every
//! heavy step (reading and validating an export, training, packaging, verifying) runs in a worker
//! spawned per task, so the page stays responsive and a cancel can terminate the work at once.

pub mod api_client;
pub mod app;
pub mod client;
pub mod components;
pub mod download;
pub mod format;
pub mod idb;
pub mod pages;
pub mod plots;
pub mod protocol;
pub mod state;
pub mod worker;
