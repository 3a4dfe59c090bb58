//! What can go wrong in the registry, and in the storage underneath it.

use std::error::Error;

/// A failure of the storage underneath the registry (a disk, IndexedDB). The message names what
/// was being done and to which file or key; the source, if any, says why.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StorageError {
    message: String,
    #[source]
    source: Option<Box<dyn Error + Send + Sync + 'static>>,
}

impl StorageError {
    /// A failure described by its message alone.
    pub fn new(message: impl Into<String>) -> Self {
        StorageError {
            message: message.into(),
            source: None,
        }
    }

    /// A failure with its underlying cause, e.g. `cannot write models/…/model.json` and the
    /// `io::Error`.
    pub fn with_source(
        message: impl Into<String>,
        source: impl Into<Box<dyn Error + Send + Sync + 'static>>,
    ) -> Self {
        StorageError {
            message: message.into(),
            source: Some(source.into()),
        }
    }
}

/// Why a registry operation failed. Messages are lowercase and name the version concerned.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// No model with this version is registered.
    #[error("no model {version} in the registry")]
    NotFound {
        /// The version asked for.
        version: String,
    },
    /// `deployed` was asked for and no model is deployed.
    #[error("no model is deployed")]
    NoneDeployed,
    /// `deployed` was asked for and models of several log types are deployed.
    #[error("models of several log types are deployed ({log_types}); name the log type")]
    AmbiguousDeployed {
        /// The log types with a deployed model, comma-separated.
        log_types: String,
    },
    /// A rollback found no model of the log type deployed before.
    #[error("no earlier {log_type} model to roll back to")]
    NothingToRollBack {
        /// The log type asked for.
        log_type: String,
    },
    /// `latest` was asked for and the registry holds no model.
    #[error("the registry holds no model")]
    Empty,
    /// Deleting the deployed model needs `force`.
    #[error("refusing to delete model {version}: it is deployed")]
    Deployed {
        /// The deployed model's version.
        version: String,
    },
    /// `import` was given a model whose version the registry holds with other bytes.
    #[error("version {version} is taken by another model in the registry")]
    VersionTaken {
        /// The version in both models.
        version: String,
    },
    /// A precondition of the change does not hold (the deployed model is not the one expected).
    #[error("{reason}")]
    Conflict {
        /// Which precondition failed.
        reason: String,
    },
    /// The model given to `register` cannot be stored.
    #[error("cannot register the model: {reason}")]
    InvalidModel {
        /// Why the model cannot be stored.
        reason: String,
    },
    /// The index exists but cannot be read: not JSON, another format or version, or
    /// inconsistent (a duplicate version, two deployed models). It is never overwritten.
    #[error("registry index is unusable: {reason}")]
    CorruptIndex {
        /// Why the index cannot be read.
        reason: String,
    },
    /// The index lists a model whose stored bytes are missing or do not match their hash.
    #[error("model {version} is damaged: {reason}")]
    CorruptModel {
        /// The damaged model's version.
        version: String,
        /// What is missing or does not match.
        reason: String,
    },
    /// The storage underneath failed (a disk, IndexedDB); the message says what and why.
    #[error(transparent)]
    Storage(#[from] StorageError),
}
