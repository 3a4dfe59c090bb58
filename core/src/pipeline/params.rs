//! Training parameters: the one path from what a person chooses (CLI flags, query parameters, the
//! web form) to the configuration the pipeline reads.
//!
//! 1. A surface collects its *choices* in [`TrainChoices`]: only what was chosen, each value
//!    parsed and range-checked by [`TrainChoices::set`] (the same parsers everywhere).
//! 2. [`TrainChoices::resolve`] fills the rest from a configuration (the server's `--config`,
//!    the CLI's, the web app's built-in defaults) and checks the result: [`TrainParams`].
//! 3. [`TrainParams::apply`] writes every parameter into a copy of that configuration, and the
//!    pipeline reads only that configuration ([`TrainParams::options`]).
//!
//! **The seed.** A training run has one seed. It seeds the chosen detector (the forest's trees,
//! or the subsample LOF keeps of a large training set), the held-out evaluation split and the
//! feature-importance sample. Unless a surface chooses one (`--seed`, `seed=`, the form), it is
//! the chosen detector's `random_state` in `model_config.yaml`; [`TrainParams::apply`] writes it
//! to that key and to `evaluation.random_state`.

use serde::{Deserialize, Serialize};

use super::TrainOptions;
use crate::config::{AutoOr, Config, Contamination, DetectorKind, MaxSamples, ParseError};
use crate::model::{
    IsolationForestParams, LofParams, ModelError, N_ESTIMATORS_MAX, N_NEIGHBORS_MAX,
};

/// Every training parameter, resolved: what a job records and what the pipeline trains with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainParams {
    /// The anomaly detector to train.
    pub detector: DetectorKind,
    /// The run's one seed: detector, held-out split and feature-importance sample.
    pub seed: u64,
    /// Expected share of anomalies, in (0, 0.5], which sets the threshold; `auto` keeps the
    /// detector's fixed default offset.
    pub contamination: AutoOr<Contamination>,
    /// Trees in the isolation forest, 1 to [`N_ESTIMATORS_MAX`].
    pub n_estimators: u32,
    /// Rows each isolation tree is built from: `auto`, a count or a fraction.
    pub max_samples: MaxSamples,
    /// Neighbours LOF compares each row with, 1 to [`N_NEIGHBORS_MAX`].
    pub n_neighbors: u32,
    /// Whether invalid records are dropped instead of failing the run.
    pub drop_invalid: bool,
}

/// A training parameter that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamError {
    /// No parameter has this name.
    #[error("unknown parameter {0:?}")]
    Unknown(String),
    /// The value does not parse or is out of range.
    #[error("{name}: {error}")]
    Invalid {
        /// The parameter's name.
        name: &'static str,
        /// Why its value cannot be used.
        error: ParseError,
    },
    /// A value out of a detector's bounds (from the configuration).
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// The names of the training parameters, as the API, the form and the CLI (with dashes) call
/// them.
pub const TRAIN_PARAMETERS: [&str; 7] = [
    "detector",
    "seed",
    "contamination",
    "n_estimators",
    "max_samples",
    "n_neighbors",
    "drop_invalid",
];

/// `detector`: `isolation_forest` or `lof`.
pub fn parse_detector(text: &str) -> Result<DetectorKind, ParseError> {
    text.parse()
}

/// `seed`: a whole number ≥ 0.
pub fn parse_seed(text: &str) -> Result<u64, ParseError> {
    text.trim()
        .parse()
        .map_err(|_| ParseError::new("a whole number ≥ 0", text))
}

/// `contamination`: `auto` or a fraction in (0, 0.5].
pub fn parse_contamination(text: &str) -> Result<AutoOr<Contamination>, ParseError> {
    text.parse()
}

/// `n_estimators`: a whole number from 1 to [`N_ESTIMATORS_MAX`].
pub fn parse_n_estimators(text: &str) -> Result<u32, ParseError> {
    parse_count(text, N_ESTIMATORS_MAX)
}

/// `max_samples`: `auto`, a count ≥ 1 or a fraction in (0, 1].
pub fn parse_max_samples(text: &str) -> Result<MaxSamples, ParseError> {
    text.parse()
}

/// `n_neighbors`: a whole number from 1 to [`N_NEIGHBORS_MAX`].
pub fn parse_n_neighbors(text: &str) -> Result<u32, ParseError> {
    parse_count(text, N_NEIGHBORS_MAX)
}

/// `drop_invalid`: `true`/`1` or `false`/`0`.
pub fn parse_drop_invalid(text: &str) -> Result<bool, ParseError> {
    match text.trim() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(ParseError::new("true or false", text)),
    }
}

fn parse_count(text: &str, max: u32) -> Result<u32, ParseError> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| ParseError::new(format!("a whole number from 1 to {max}"), text))
}

/// The parameters a surface's user chose; `None` leaves one to the configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainChoices {
    /// The chosen detector, if any.
    pub detector: Option<DetectorKind>,
    /// The chosen seed, if any.
    pub seed: Option<u64>,
    /// The chosen contamination, if any.
    pub contamination: Option<AutoOr<Contamination>>,
    /// The chosen number of trees, if any.
    pub n_estimators: Option<u32>,
    /// The chosen rows per tree, if any.
    pub max_samples: Option<MaxSamples>,
    /// The chosen number of neighbours, if any.
    pub n_neighbors: Option<u32>,
    /// The chosen drop-invalid setting, if any.
    pub drop_invalid: Option<bool>,
}

impl TrainChoices {
    /// Parses and chooses the parameter `name` (one of [`TRAIN_PARAMETERS`]) from its text.
    pub fn set(&mut self, name: &str, text: &str) -> Result<(), ParamError> {
        fn parsed<T>(
            name: &'static str,
            r: Result<T, ParseError>,
        ) -> Result<Option<T>, ParamError> {
            r.map(Some)
                .map_err(|error| ParamError::Invalid { name, error })
        }
        match name {
            "detector" => self.detector = parsed("detector", parse_detector(text))?,
            "seed" => self.seed = parsed("seed", parse_seed(text))?,
            "contamination" => {
                self.contamination = parsed("contamination", parse_contamination(text))?
            }
            "n_estimators" => self.n_estimators = parsed("n_estimators", parse_n_estimators(text))?,
            "max_samples" => self.max_samples = parsed("max_samples", parse_max_samples(text))?,
            "n_neighbors" => self.n_neighbors = parsed("n_neighbors", parse_n_neighbors(text))?,
            "drop_invalid" => self.drop_invalid = parsed("drop_invalid", parse_drop_invalid(text))?,
            _ => return Err(ParamError::Unknown(name.chars().take(64).collect())),
        }
        Ok(())
    }

    /// The chosen parameters as `(name, text)` pairs, in [`TRAIN_PARAMETERS`] order; each text
    /// parses back to the same value with [`set`](Self::set).
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let values = [
            self.detector.map(|v| v.to_string()),
            self.seed.map(|v| v.to_string()),
            self.contamination.map(|v| v.to_string()),
            self.n_estimators.map(|v| v.to_string()),
            self.max_samples.map(|v| v.to_string()),
            self.n_neighbors.map(|v| v.to_string()),
            self.drop_invalid.map(|v| v.to_string()),
        ];
        TRAIN_PARAMETERS
            .into_iter()
            .zip(values)
            .filter_map(|(name, value)| value.map(|v| (name, v)))
            .collect()
    }

    /// The parameters: these choices over `config`'s, checked. A detector chosen without a
    /// contamination or seed takes that detector's from the configuration.
    pub fn resolve(&self, config: &Config) -> Result<TrainParams, ParamError> {
        let model = &config.model.model;
        let detector = self.detector.unwrap_or(model.kind);
        let (contamination, random_state) = match detector {
            DetectorKind::IsolationForest => (
                model.isolation_forest.contamination,
                model.isolation_forest.random_state,
            ),
            DetectorKind::Lof => (model.lof.contamination, model.lof.random_state),
        };
        let contamination = match self.contamination {
            Some(c) => c,
            None => AutoOr::<Contamination>::try_from_f64(contamination).map_err(|e| {
                ParamError::Model(ModelError::InvalidParameter {
                    name: "contamination",
                    message: e.to_string(),
                })
            })?,
        };
        let params = TrainParams {
            detector,
            seed: self.seed.unwrap_or(random_state),
            contamination,
            n_estimators: self
                .n_estimators
                .unwrap_or(model.isolation_forest.n_estimators),
            max_samples: self
                .max_samples
                .unwrap_or(model.isolation_forest.max_samples),
            n_neighbors: self.n_neighbors.unwrap_or(model.lof.n_neighbors),
            drop_invalid: self
                .drop_invalid
                .unwrap_or(config.training.validation.drop_invalid),
        };
        params.check()?;
        Ok(params)
    }
}

/// Every parameter chosen: what a job's parameters would be sent as in full.
impl From<&TrainParams> for TrainChoices {
    fn from(p: &TrainParams) -> TrainChoices {
        TrainChoices {
            detector: Some(p.detector),
            seed: Some(p.seed),
            contamination: Some(p.contamination),
            n_estimators: Some(p.n_estimators),
            max_samples: Some(p.max_samples),
            n_neighbors: Some(p.n_neighbors),
            drop_invalid: Some(p.drop_invalid),
        }
    }
}

impl TrainParams {
    /// The parameters a configuration gives (a configuration that passed [`Config::check`]).
    ///
    /// An out-of-range contamination, possible only in a configuration built by hand and never
    /// checked, reads as `auto`; [`TrainChoices::resolve`] refuses it instead.
    pub fn from_config(config: &Config) -> TrainParams {
        TrainChoices::default().resolve(config).unwrap_or_else(|_| {
            let model = &config.model.model;
            let random_state = match model.kind {
                DetectorKind::IsolationForest => model.isolation_forest.random_state,
                DetectorKind::Lof => model.lof.random_state,
            };
            TrainParams {
                detector: model.kind,
                seed: random_state,
                contamination: AutoOr::Auto,
                n_estimators: model.isolation_forest.n_estimators,
                max_samples: model.isolation_forest.max_samples,
                n_neighbors: model.lof.n_neighbors,
                drop_invalid: config.training.validation.drop_invalid,
            }
        })
    }

    /// Checks every bound, with the detectors' own checks (the one place the bounds live).
    pub fn check(&self) -> Result<(), ModelError> {
        IsolationForestParams::new()
            .n_estimators(self.n_estimators)
            .max_samples(self.max_samples)
            .contamination(self.contamination.to_f64())
            .check()?;
        LofParams::new()
            .n_neighbors(self.n_neighbors)
            .contamination(self.contamination.to_f64())
            .check()?;
        Ok(())
    }

    /// Writes every parameter into `config`: `model.type`, the chosen detector's contamination
    /// and `random_state` (the seed), `n_estimators`, `max_samples`, `n_neighbors`, the
    /// evaluation split's `random_state` (the seed again) and `validation.drop_invalid`.
    pub fn apply(&self, config: &mut Config) {
        let model = &mut config.model.model;
        model.kind = self.detector;
        model.isolation_forest.n_estimators = self.n_estimators;
        model.isolation_forest.max_samples = self.max_samples;
        model.lof.n_neighbors = self.n_neighbors;
        let contamination = self.contamination.to_f64();
        match self.detector {
            DetectorKind::IsolationForest => {
                model.isolation_forest.contamination = contamination;
                model.isolation_forest.random_state = self.seed;
            }
            DetectorKind::Lof => {
                model.lof.contamination = contamination;
                model.lof.random_state = self.seed;
            }
        }
        config.training.evaluation.random_state = self.seed;
        config.training.validation.drop_invalid = self.drop_invalid;
    }

    /// The pipeline's options: these parameters applied to a copy of `config`.
    pub fn options(&self, config: &Config, now_micros: i64) -> TrainOptions {
        let mut config = config.clone();
        self.apply(&mut config);
        TrainOptions {
            config,
            now_micros,
            feedback: None,
            keep_scores: false,
        }
    }

    /// The pipeline's options over the built-in configuration (what the web app trains with).
    pub fn to_options(&self, now_micros: i64) -> TrainOptions {
        self.options(&Config::defaults(), now_micros)
    }
}

#[cfg(test)]
mod tests;
