//! What the page asks a worker to do and what the worker answers.
//!
//! A message to the worker is a JS object `{ task: "<Task as JSON>", blob: Blob }`: the blob is
//! the user's `File` itself (structured-cloned by reference, not copied) or a small blob the page
//! made (a `model.json` to package). A message back is `{ event: "<WorkerEvent as JSON>",
//! bytes?: Uint8Array }`, the bytes (a model, a ZIP) transferred rather than copied.

use crate::detect::Detection;
use mcp_train_core::export::ValidationReport;
use mcp_train_core::package::Verification;
pub use mcp_train_core::pipeline::TrainParams;
use serde::{Deserialize, Serialize};

/// The worker's script, as Trunk names it (`data-type="worker"` with `data-loader-shim`).
pub const WORKER_SCRIPT: &str = "./worker_loader.js";

/// One piece of work for a worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "snake_case")]
pub enum Task {
    /// Read and validate an export.
    Validate { drop_invalid: bool },
    /// Train on an export.
    Train {
        params: TrainParams,
        file_name: String,
        /// The model's creation time, microseconds since the epoch.
        now_micros: i64,
        /// A fixed creation time: record a zero duration, as the CLI does under
        /// `SOURCE_DATE_EPOCH`, so the model is byte-for-byte reproducible.
        frozen: bool,
    },
    /// Build the deployment package of a `model.json`.
    Package { deployed_micros: i64 },
    /// Verify a deployment package ZIP.
    Verify,
    /// Detect anomalies in a raw log or an export (the blob) with a model (the message's
    /// `model` blob, a `model.json`).
    Detect {
        /// The log type the person chose for the file; a model of another one is refused.
        log_type: Option<String>,
        /// The year of RFC 3164 timestamps that carry none (this computer's current year).
        default_year: i32,
    },
}

/// What a worker reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum WorkerEvent {
    /// The worker has loaded and listens: only now can it be sent a task (a message that
    /// arrives while its wasm is still loading would be lost).
    Ready,
    /// Where the task is: `stage` (read, validate, features, scale, fit, score, evaluate,
    /// package, verify) and the whole task's fraction done, 0–1.
    Progress {
        stage: String,
        fraction: f64,
    },
    Validated {
        report: ValidationReport,
    },
    /// `bytes` holds the `model.json`.
    Trained {
        version: String,
        report: Option<ValidationReport>,
    },
    /// `bytes` holds the ZIP.
    Packaged {
        file_name: String,
    },
    Verified {
        verification: Verification,
    },
    Detected {
        detection: Detection,
    },
    /// The task failed; `message` is for the user.
    Failed {
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_train_core::config::Config;

    #[test]
    fn tasks_and_events_round_trip_as_json() {
        let task = Task::Train {
            params: TrainParams::from_config(&Config::defaults()),
            file_name: "export.json".to_owned(),
            now_micros: 1,
            frozen: true,
        };
        let json = serde_json::to_string(&task).unwrap_or_default();
        assert!(json.contains("\"task\":\"train\""), "{json}");
        assert_eq!(serde_json::from_str::<Task>(&json).ok(), Some(task));
        let event = WorkerEvent::Progress {
            stage: "fit".to_owned(),
            fraction: 0.5,
        };
        let json = serde_json::to_string(&event).unwrap_or_default();
        assert_eq!(serde_json::from_str::<WorkerEvent>(&json).ok(), Some(event));
    }
}
