//! The JSON of the `mcp-train serve` API (docs/API.md), written once: the server serializes these
//! types and the web app's client deserializes the same ones, so the two cannot drift apart.
//!
//! Pure serde, no I/O, so it builds for wasm32 too. The JSON on the wire is part of the API:
//! field names, their order and the strings of every enum are what clients (the web app, scripts
//! following docs/API.md, the OpenAPI document) read, so they change only with the API.
//!
//! ```
//! use mcp_train_core::api::{ErrorBody, JobFailure, JobFailureCode};
//!
//! let body = ErrorBody::new("not_found", "no model 20240101_000000 in the registry");
//! assert_eq!(
//!     serde_json::to_string(&body).unwrap(),
//!     r#"{"error":{"code":"not_found","message":"no model 20240101_000000 in the registry"}}"#
//! );
//! let failure: JobFailure =
//!     serde_json::from_str(r#"{"code":"invalid_export","message":"no records"}"#).unwrap();
//! assert_eq!(failure.code, JobFailureCode::InvalidExport);
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::pipeline::TrainParams;
use crate::registry::ModelRecord;

/// Where a training job is: `queued` → `running` → `completed` | `failed` | `cancelled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Accepted, waiting for the training thread.
    Queued,
    /// Training.
    Running,
    /// Ended with a registered model.
    Completed,
    /// Ended with an error (see the job's `error`).
    Failed,
    /// Stopped on request before it finished.
    Cancelled,
}

impl JobStatus {
    /// Every status, in the order of a job's life.
    pub const ALL: [JobStatus; 5] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Completed,
        JobStatus::Failed,
        JobStatus::Cancelled,
    ];

    /// The status as on the wire: `queued`, `running`, `completed`, `failed` or `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    /// Whether the job has ended (completed, failed or cancelled): its status changes no more.
    pub fn finished(self) -> bool {
        matches!(
            self,
            JobStatus::Completed | JobStatus::Failed | JobStatus::Cancelled
        )
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How far a job is: the pipeline's stage (`queued`, `fit`, …, `done`) and the fraction done.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct JobProgress {
    /// The pipeline stage under way: `queued`, `fit`, …, `done`.
    pub stage: String,
    /// Share of the job done, in [0, 1].
    pub fraction: f64,
}

/// Why a job failed, as a stable code clients may branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobFailureCode {
    /// The export cannot be read or holds no usable records.
    InvalidExport,
    /// The pipeline refused the data or the parameters (too few rows, a bad parameter, …).
    TrainingFailed,
    /// The server failed (a disk error, a crash of the training thread); details are in its log.
    Internal,
}

impl JobFailureCode {
    /// The code as on the wire: `invalid_export`, `training_failed` or `internal`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobFailureCode::InvalidExport => "invalid_export",
            JobFailureCode::TrainingFailed => "training_failed",
            JobFailureCode::Internal => "internal",
        }
    }
}

impl fmt::Display for JobFailureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed job's error: `{"code", "message"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFailure {
    /// Stable code clients may branch on.
    pub code: JobFailureCode,
    /// For people.
    pub message: String,
}

/// A training job as clients see it (`GET /api/training/jobs/{id}`, and each event's data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// 32 lowercase hex digits.
    pub id: String,
    /// Where the job is in its life.
    pub status: JobStatus,
    /// The export's name, recorded as the model's lineage.
    pub file_name: String,
    /// The export's size.
    pub size_bytes: u64,
    /// When the job was accepted (ISO 8601 UTC).
    pub created_at: String,
    /// When training began (ISO 8601 UTC); `None` while queued.
    pub started_at: Option<String>,
    /// When the job ended (ISO 8601 UTC); `None` until then.
    pub finished_at: Option<String>,
    /// Current stage and fraction done.
    pub progress: JobProgress,
    /// The training parameters the job runs with.
    pub params: TrainParams,
    /// Records in the export (known once it is validated, which is before the job is accepted).
    pub records: usize,
    /// Records left out (`drop_invalid`).
    pub dropped: usize,
    /// The registered model, once the job completed.
    pub model: Option<ModelRecord>,
    /// Why the job failed.
    pub error: Option<JobFailure>,
}

/// `GET /api/training/jobs`: newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobList {
    /// The jobs the server knows, newest first.
    pub jobs: Vec<Job>,
}

/// `GET /api/models`: newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelList {
    /// The registered models, newest first.
    pub models: Vec<ModelRecord>,
}

/// `POST /api/models/{version}/deploy`. (Fields in alphabetical order, the order the server has
/// always sent them in.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    /// Whether anything changed (deploying the deployed model changes nothing).
    pub changed: bool,
    /// The deployed model.
    pub model: ModelRecord,
    /// The model that was deployed before and is now archived.
    pub previous: Option<ModelRecord>,
}

/// `ok`, or `degraded` when the registry cannot be read (the answer is still 200).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// Everything works.
    Ok,
    /// The registry cannot be read; the server still answers.
    Degraded,
}

/// Whether the registry can be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageStatus {
    /// The registry can be read.
    Ok,
    /// The registry cannot be read (see `message`).
    Unavailable,
}

impl StorageStatus {
    /// `ok` or `unavailable`.
    pub fn as_str(self) -> &'static str {
        match self {
            StorageStatus::Ok => "ok",
            StorageStatus::Unavailable => "unavailable",
        }
    }
}

impl fmt::Display for StorageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `GET /api/health`. The fields of the health types are in alphabetical order: the JSON keeps
/// the key order the server has always sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// Which requests need the token.
    pub auth: HealthAuth,
    /// Upload limits in MiB.
    pub limits: HealthLimits,
    /// `ok`, or `degraded` when the registry cannot be read.
    pub status: HealthStatus,
    /// The registry's state, model count and size.
    pub storage: HealthStorage,
    /// The server's version (`CARGO_PKG_VERSION`).
    pub version: String,
}

/// Which requests need the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthAuth {
    /// Whether reads of the API need the token too (`serve --private`).
    pub reads: bool,
    /// Whether changes (any method but GET, HEAD and OPTIONS) need the token.
    pub writes: bool,
}

/// Upload limits, in MiB (`limits` in training_config.yaml).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthLimits {
    /// Largest export accepted for training, in MiB.
    pub max_export_mb: u64,
    /// Largest upload the server accepts, in MiB.
    pub max_upload_mb: u64,
}

/// The registry: its model count and size when it can be read, else a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthStorage {
    /// Bytes the registry takes on disk, when it can be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// Why the registry cannot be read, when it cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Registered models, when the registry can be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub models: Option<usize>,
    /// Whether the registry can be read.
    pub status: StorageStatus,
}

impl HealthStorage {
    /// A readable registry of `models` models taking `bytes` on disk.
    pub fn ok(models: usize, bytes: u64) -> Self {
        HealthStorage {
            bytes: Some(bytes),
            message: None,
            models: Some(models),
            status: StorageStatus::Ok,
        }
    }

    /// A registry that cannot be read, and what to tell clients about it.
    pub fn unavailable(message: impl Into<String>) -> Self {
        HealthStorage {
            bytes: None,
            message: Some(message.into()),
            models: None,
            status: StorageStatus::Unavailable,
        }
    }
}

/// Every API error's body: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error's code and message.
    pub error: ErrorDetail,
}

/// A stable code (`not_found`, `invalid_parameter`, … — the table in docs/API.md) and a message
/// for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable code clients may branch on, e.g. `not_found`.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}

impl ErrorBody {
    /// An error body with this code and message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorBody {
            error: ErrorDetail {
                code: code.into(),
                message: message.into(),
            },
        }
    }
}

#[cfg(test)]
mod tests;
