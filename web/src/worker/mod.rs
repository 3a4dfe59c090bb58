//! The Web Worker story: every heavy step (reading and validating an export, training,
//! packaging, verifying) runs in a worker started for that one task, so the page stays
//! responsive, a cancel terminates the work at once, and the memory of a big training is
//! returned when it ends.
//!
//! - [`protocol`]: what the page asks ([`protocol::Task`]) and what the worker answers
//!   ([`protocol::WorkerEvent`]), as JSON in `postMessage`.
//! - [`client`]: the page side — starts a worker per task (one kept warm), follows its progress,
//!   cancels it by terminating it.
//! - [`runner`]: the worker side — the `worker` binary (`src/bin/worker.rs`) calls
//!   [`runner::start`], which reads the file in slices into wasm memory and runs the task on the
//!   core.

pub mod client;
pub mod protocol;
pub mod runner;
