//! Training parameters as people choose them (a form, query parameters), and the pipeline
//! options they stand for — one mapping, so the browser and the server train identical models
//! from identical choices.

use serde::{Deserialize, Serialize};

use super::TrainOptions;
use crate::config::{AutoOr, Config, DetectorKind, MaxSamples};

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
}
