//! What the page asks a worker to do and what the worker answers.
//!
//! A message to the worker is a JS object `{ task: "<Task as JSON>", blob: Blob }`: the blob is
//! the user's `File` itself (structured-cloned by reference, not copied) or a small blob the page
//! made (a `model.json` to package). A message back is `{ event: "<WorkerEvent as JSON>",
//! bytes?: Uint8Array }`, the bytes (a model, a ZIP) transferred rather than copied.

use mcp_train_core::config::{AutoOr, Config, DetectorKind, MaxSamples};
use mcp_train_core::export::ValidationReport;
use mcp_train_core::package::Verification;
use mcp_train_core::pipeline::TrainOptions;
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
}

/// Training parameters as the form edits them; the rest comes from the configuration defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainParams {
    pub detector: DetectorKind,
    pub seed: u64,
    pub contamination: AutoOr<f64>,
    pub n_estimators: u32,
    pub max_samples: MaxSamples,
    pub n_neighbors: u32,
    pub drop_invalid: bool,
}

impl TrainParams {
    /// The parameters the configuration files in `config/` give.
    pub fn from_config(config: &Config) -> TrainParams {
        let model = &config.model.model;
        let contamination = match model.kind {
            DetectorKind::IsolationForest => model.isolation_forest.contamination,
            DetectorKind::Lof => model.lof.contamination,
        };
        TrainParams {
            detector: model.kind,
            seed: model.isolation_forest.random_state,
            contamination,
            n_estimators: model.isolation_forest.n_estimators,
            max_samples: model.isolation_forest.max_samples,
            n_neighbors: model.lof.n_neighbors,
            drop_invalid: config.training.validation.drop_invalid,
        }
    }

    /// The pipeline options these parameters stand for.
    ///
    /// The seed and contamination become overrides exactly as the CLI's `--seed` and
    /// `--contamination` do, so the same choices give the same model bytes on both.
    pub fn to_options(&self, now_micros: i64) -> TrainOptions {
        let mut config = Config::defaults();
        let defaults = TrainParams::from_config(&config);
        config.model.model.isolation_forest.n_estimators = self.n_estimators;
        config.model.model.isolation_forest.max_samples = self.max_samples;
        config.model.model.lof.n_neighbors = self.n_neighbors;
        TrainOptions {
            config,
            detector: (self.detector != defaults.detector).then_some(self.detector),
            seed: Some(self.seed),
            contamination: (self.contamination != defaults.contamination
                || self.detector != defaults.detector)
                .then_some(self.contamination),
            drop_invalid: self.drop_invalid,
            now_micros,
        }
    }
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
    /// The task failed; `message` is for the user.
    Failed {
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_parameters_train_like_the_cli_without_flags_but_the_seed() {
        let config = Config::defaults();
        let params = TrainParams::from_config(&config);
        let options = params.to_options(7);
        assert_eq!(options.config, config);
        assert_eq!(options.detector, None);
        assert_eq!(options.contamination, None);
        assert_eq!(
            options.seed,
            Some(config.model.model.isolation_forest.random_state)
        );
        assert_eq!(options.now_micros, 7);
    }

    #[test]
    fn edited_parameters_reach_the_options() {
        let mut params = TrainParams::from_config(&Config::defaults());
        params.detector = DetectorKind::Lof;
        params.n_neighbors = 7;
        params.seed = 3;
        let options = params.to_options(0);
        assert_eq!(options.detector, Some(DetectorKind::Lof));
        assert_eq!(options.config.model.model.lof.n_neighbors, 7);
        assert_eq!(options.seed, Some(3));
        assert_eq!(options.contamination, Some(params.contamination));
    }

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
