//! Configuration: the defaults in `config/*.yaml`, parsed from strings so the browser can embed
//! the very same files.
//!
//! Two files, as in the predecessor: `model_config.yaml` (features, detector, scaler) and
//! `training_config.yaml` (validation, evaluation, registry, limits). Unknown keys are errors, so
//! a typo never silently falls back to a default; every value is range-checked in [`Config::check`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::export::ValidateOptions;
use crate::features::FeatureConfig;
use crate::model::{IsolationForestParams, LofParams, ModelError};

/// The model configuration shipped with mcp-train.
pub const DEFAULT_MODEL_CONFIG: &str = include_str!("../../config/model_config.yaml");
/// The training configuration shipped with mcp-train.
pub const DEFAULT_TRAINING_CONFIG: &str = include_str!("../../config/training_config.yaml");

/// File names of the two configuration files inside a configuration directory.
pub const MODEL_CONFIG_FILE: &str = "model_config.yaml";
/// File name of the training configuration (validation, evaluation, registry, limits).
pub const TRAINING_CONFIG_FILE: &str = "training_config.yaml";

/// A configuration file that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ConfigError {
    /// Which file (e.g. `model_config.yaml`).
    pub file: String,
    /// What is wrong, with the YAML line and column or the key path.
    pub message: String,
}

/// A parameter's text that does not parse, with what was expected (the value is shown at most
/// 64 characters long).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("expected {expected}, found {found:?}")]
pub struct ParseError {
    /// What the text should have been, e.g. `"auto" or a fraction in (0, 0.5]`.
    pub expected: String,
    /// The text given.
    pub found: String,
}

impl ParseError {
    /// `text` does not parse as `expected`.
    pub fn new(expected: impl Into<String>, text: &str) -> ParseError {
        ParseError {
            expected: expected.into(),
            found: text.chars().take(64).collect(),
        }
    }
}

/// `"auto"` or a number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AutoOr<T> {
    /// Let the detector choose (scikit-learn's `"auto"`).
    Auto,
    /// An explicit value.
    Value(T),
}

impl<T> AutoOr<T> {
    /// Maps the value, keeping `Auto`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> AutoOr<U> {
        match self {
            AutoOr::Auto => AutoOr::Auto,
            AutoOr::Value(v) => AutoOr::Value(f(v)),
        }
    }
}

impl<T: Serialize> Serialize for AutoOr<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            AutoOr::Auto => s.serialize_str("auto"),
            AutoOr::Value(v) => v.serialize(s),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for AutoOr<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw<T> {
            Text(String),
            Value(T),
        }
        match Raw::<T>::deserialize(d)? {
            Raw::Text(t) if t.eq_ignore_ascii_case("auto") => Ok(AutoOr::Auto),
            Raw::Text(t) => Err(serde::de::Error::custom(format!(
                "expected \"auto\" or a number, found {t:?}"
            ))),
            Raw::Value(v) => Ok(AutoOr::Value(v)),
        }
    }
}

/// `"auto"` or the value's own text.
impl<T: fmt::Display> fmt::Display for AutoOr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AutoOr::Auto => f.write_str("auto"),
            AutoOr::Value(v) => v.fmt(f),
        }
    }
}

/// The expected share of anomalies in the training data: a fraction in (0, 0.5].
///
/// The range is checked here, once: a `Contamination` is always in range. It is written (YAML,
/// `model.json`, job JSON) as the plain number.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Contamination(f64);

/// A contamination outside (0, 0.5].
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("{0} is not \"auto\" or a fraction in (0, 0.5]")]
pub struct ContaminationError(pub f64);

impl Contamination {
    /// What a contamination parameter accepts, for messages.
    pub const EXPECTED: &'static str = "\"auto\" or a fraction in (0, 0.5]";

    /// The fraction.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Contamination {
    type Error = ContaminationError;

    fn try_from(v: f64) -> Result<Self, Self::Error> {
        if v > 0.0 && v <= 0.5 {
            Ok(Contamination(v))
        } else {
            Err(ContaminationError(v))
        }
    }
}

impl From<Contamination> for f64 {
    fn from(c: Contamination) -> f64 {
        c.0
    }
}

impl fmt::Display for Contamination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// `auto` (any case) or a fraction in (0, 0.5].
impl FromStr for AutoOr<Contamination> {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, ParseError> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("auto") {
            return Ok(AutoOr::Auto);
        }
        t.parse::<f64>()
            .ok()
            .and_then(|v| Contamination::try_from(v).ok())
            .map(AutoOr::Value)
            .ok_or_else(|| ParseError::new(Contamination::EXPECTED, text))
    }
}

impl AutoOr<Contamination> {
    /// The unchecked form the configuration sections and detector parameters hold.
    pub fn to_f64(self) -> AutoOr<f64> {
        self.map(Contamination::get)
    }

    /// Checks an unchecked contamination.
    pub fn try_from_f64(value: AutoOr<f64>) -> Result<Self, ContaminationError> {
        match value {
            AutoOr::Auto => Ok(AutoOr::Auto),
            AutoOr::Value(v) => Contamination::try_from(v).map(AutoOr::Value),
        }
    }
}

/// `max_samples`: "auto" = min(256, n), a count, or a fraction of the records.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MaxSamples {
    /// min(256, number of training records).
    Auto,
    /// This many records per tree (at most the number of records).
    Count(u64),
    /// This share of the records per tree, in (0, 1].
    Fraction(f64),
}

impl Serialize for MaxSamples {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            MaxSamples::Auto => s.serialize_str("auto"),
            MaxSamples::Count(n) => s.serialize_u64(*n),
            MaxSamples::Fraction(f) => s.serialize_f64(*f),
        }
    }
}

impl<'de> Deserialize<'de> for MaxSamples {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Count(u64),
            Fraction(f64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Count(n) => Ok(MaxSamples::Count(n)),
            Raw::Fraction(f) => Ok(MaxSamples::Fraction(f)),
            Raw::Text(t) if t.eq_ignore_ascii_case("auto") => Ok(MaxSamples::Auto),
            Raw::Text(t) => Err(serde::de::Error::custom(format!(
                "expected \"auto\", a count or a fraction, found {t:?}"
            ))),
        }
    }
}

impl MaxSamples {
    /// What a `max_samples` parameter accepts, for messages.
    pub const EXPECTED: &'static str = "\"auto\", a count ≥ 1 or a fraction in (0, 1]";

    /// Checks the range: a count of at least 1, a fraction in (0, 1].
    pub fn check(self) -> Result<(), String> {
        match self {
            MaxSamples::Count(0) => Err("0 must be at least 1".into()),
            MaxSamples::Fraction(f) if !(f > 0.0 && f <= 1.0) => {
                Err(format!("{f} is not a fraction in (0, 1]"))
            }
            _ => Ok(()),
        }
    }
}

/// `auto`, the count, or the fraction — always with a decimal point, so `1.0` (every row) reads
/// back as a fraction and not as a count of one row.
impl fmt::Display for MaxSamples {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaxSamples::Auto => f.write_str("auto"),
            MaxSamples::Count(n) => n.fmt(f),
            MaxSamples::Fraction(v) if v.fract() == 0.0 => write!(f, "{v:.1}"),
            MaxSamples::Fraction(v) => v.fmt(f),
        }
    }
}

/// `auto` (any case), a whole number ≥ 1 (a count), or a fraction in (0, 1].
impl FromStr for MaxSamples {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, ParseError> {
        let t = text.trim();
        let parsed = if t.eq_ignore_ascii_case("auto") {
            Some(MaxSamples::Auto)
        } else if let Ok(n) = t.parse::<u64>() {
            Some(MaxSamples::Count(n))
        } else {
            t.parse::<f64>().ok().map(MaxSamples::Fraction)
        };
        parsed
            .filter(|m| m.check().is_ok())
            .ok_or_else(|| ParseError::new(MaxSamples::EXPECTED, text))
    }
}

/// Isolation Forest parameters, named as in scikit-learn: the `model.isolation_forest` section,
/// and the parameters a forest in `model.json` was fitted with. Unchecked as written;
/// [`IsolationForestParams::check`] holds their bounds (and [`Config::check`] calls it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IsolationForestConfig {
    /// Number of trees in the forest, at least 1.
    pub n_estimators: u32,
    /// Records drawn to grow each tree.
    pub max_samples: MaxSamples,
    /// Expected share of anomalies, setting the threshold; `auto` is scikit-learn's offset −0.5.
    pub contamination: AutoOr<f64>,
    /// Share of the features each tree draws from, in (0, 1].
    pub max_features: f64,
    /// Draw each tree's records with replacement.
    pub bootstrap: bool,
    /// Seed of the forest's random draws; equal seeds and data give an equal forest.
    pub random_state: u64,
}

/// Local Outlier Factor (novelty mode) parameters: the `model.lof` section, and the parameters
/// a LOF model in `model.json` was fitted with. Unchecked as written; [`LofParams::check`] holds
/// their bounds (and [`Config::check`] calls it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LofConfig {
    /// Neighbours compared to estimate local density, at least 1.
    pub n_neighbors: u32,
    /// Expected share of anomalies, setting the threshold; `auto` is scikit-learn's offset −1.5.
    pub contamination: AutoOr<f64>,
    /// The seed of the subsample LOF keeps of large training sets. Absent in files written
    /// before LOF had its own seed: those read it as the shipped default, 42.
    #[serde(default = "default_random_state")]
    pub random_state: u64,
}

fn default_random_state() -> u64 {
    42
}

/// Which detector to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectorKind {
    /// Isolation Forest (the default).
    IsolationForest,
    /// Local Outlier Factor in novelty mode.
    Lof,
}

impl DetectorKind {
    /// Every detector, in the order surfaces list them.
    pub const ALL: [DetectorKind; 2] = [DetectorKind::IsolationForest, DetectorKind::Lof];
    /// What a detector parameter accepts, for messages.
    pub const EXPECTED: &'static str = "isolation_forest or lof";

    /// The name in configuration files, `model.json` and the API: `isolation_forest` or `lof`.
    pub fn as_str(self) -> &'static str {
        match self {
            DetectorKind::IsolationForest => "isolation_forest",
            DetectorKind::Lof => "lof",
        }
    }
}

impl fmt::Display for DetectorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `isolation_forest` or `lof`.
impl FromStr for DetectorKind {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, ParseError> {
        DetectorKind::ALL
            .into_iter()
            .find(|k| k.as_str() == text.trim())
            .ok_or_else(|| ParseError::new(DetectorKind::EXPECTED, text))
    }
}

/// The `model:` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    /// The detector trained (`type:` in YAML).
    #[serde(rename = "type")]
    pub kind: DetectorKind,
    /// Parameters used when `type` is `isolation_forest`.
    pub isolation_forest: IsolationForestConfig,
    /// Parameters used when `type` is `lof`.
    pub lof: LofConfig,
}

/// The `scaler:` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScalerConfig {
    /// Only `standard` exists.
    #[serde(rename = "type")]
    pub kind: ScalerKind,
}

/// Feature scaling before the detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScalerKind {
    /// Zero mean and unit variance per feature, fitted on the training records.
    Standard,
}

/// `model_config.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Format version of the file; only [`CONFIG_VERSION`] is accepted.
    pub version: u32,
    /// Which features are extracted from the records.
    pub features: FeatureConfig,
    /// The detector and its parameters.
    pub model: ModelSection,
    /// Feature scaling before the detector.
    pub scaler: ScalerConfig,
}

/// Metric checks on labelled evaluation; `None` switches one off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Least accuracy on the held-out records, in [0, 1].
    pub min_accuracy: Option<f64>,
    /// Least precision on anomalies, in [0, 1].
    pub min_precision: Option<f64>,
    /// Least recall on anomalies, in [0, 1].
    pub min_recall: Option<f64>,
    /// Least F1 score on anomalies, in [0, 1].
    pub min_f1: Option<f64>,
    /// Least area under the ROC curve, in [0, 1].
    pub min_roc_auc: Option<f64>,
    /// Largest share of held-out records flagged as anomalies, in [0, 1].
    pub max_anomaly_ratio: Option<f64>,
}

/// The `evaluation:` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationConfig {
    /// Share of labelled records held out for metrics, in (0, 1).
    pub test_size: f64,
    /// Seed of the train/test split; training sets it to the run's seed.
    pub random_state: u64,
    /// Percentiles of the anomaly scores reported, each in [0, 100].
    pub score_percentiles: Vec<f64>,
    /// Pass/fail checks on the held-out metrics.
    pub thresholds: Thresholds,
}

/// The `registry:` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryConfig {
    /// Versions kept by pruning, at least 1; the deployed model is never pruned.
    pub keep_last: u32,
}

/// The `limits:` section (sizes in MiB).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest export accepted for training, in MiB, at least 1.
    pub max_export_mb: u64,
    /// Largest upload the server accepts, in MiB, at least 1.
    pub max_upload_mb: u64,
}

/// `training_config.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingConfig {
    /// Format version of the file; only [`CONFIG_VERSION`] is accepted.
    pub version: u32,
    /// How exports are validated before training.
    pub validation: ValidateOptions,
    /// Held-out evaluation: split, score percentiles and metric checks.
    pub evaluation: EvaluationConfig,
    /// Model registry retention.
    pub registry: RegistryConfig,
    /// Size limits on exports and uploads.
    pub limits: Limits,
}

/// Both configuration files, checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// `model_config.yaml`: features, detector and scaler.
    pub model: ModelConfig,
    /// `training_config.yaml`: validation, evaluation, registry and limits.
    pub training: TrainingConfig,
}

/// The configuration format version this build reads.
pub const CONFIG_VERSION: u32 = 1;

fn parse_yaml<T: for<'de> Deserialize<'de>>(file: &str, text: &str) -> Result<T, ConfigError> {
    serde_saphyr::from_str(text).map_err(|e| ConfigError {
        file: file.to_owned(),
        message: e
            .to_string()
            .lines()
            .next()
            .unwrap_or("invalid YAML")
            .to_owned(),
    })
}

impl Config {
    /// Parses and checks both files.
    pub fn from_yaml(model_yaml: &str, training_yaml: &str) -> Result<Config, ConfigError> {
        let config = Config {
            model: parse_yaml(MODEL_CONFIG_FILE, model_yaml)?,
            training: parse_yaml(TRAINING_CONFIG_FILE, training_yaml)?,
        };
        config.check()?;
        Ok(config)
    }

    /// The shipped defaults.
    pub fn defaults() -> Config {
        // The defaults are part of the build and covered by a test; should they ever fail to
        // parse, fall back to the same values written in code rather than panic.
        Config::from_yaml(DEFAULT_MODEL_CONFIG, DEFAULT_TRAINING_CONFIG)
            .unwrap_or_else(|_| Config::builtin())
    }

    fn builtin() -> Config {
        Config {
            model: ModelConfig {
                version: CONFIG_VERSION,
                features: FeatureConfig::default(),
                model: ModelSection {
                    kind: DetectorKind::IsolationForest,
                    isolation_forest: IsolationForestConfig {
                        n_estimators: 100,
                        max_samples: MaxSamples::Auto,
                        contamination: AutoOr::Auto,
                        max_features: 1.0,
                        bootstrap: false,
                        random_state: 42,
                    },
                    lof: LofConfig {
                        n_neighbors: 20,
                        contamination: AutoOr::Auto,
                        random_state: 42,
                    },
                },
                scaler: ScalerConfig {
                    kind: ScalerKind::Standard,
                },
            },
            training: TrainingConfig {
                version: CONFIG_VERSION,
                validation: ValidateOptions::default(),
                evaluation: EvaluationConfig {
                    test_size: 0.2,
                    random_state: 42,
                    score_percentiles: vec![25.0, 50.0, 75.0, 95.0, 99.0],
                    thresholds: Thresholds {
                        min_accuracy: Some(0.8),
                        min_precision: Some(0.5),
                        min_recall: Some(0.5),
                        min_f1: Some(0.5),
                        min_roc_auc: Some(0.8),
                        max_anomaly_ratio: Some(0.2),
                    },
                },
                registry: RegistryConfig { keep_last: 10 },
                limits: Limits {
                    max_export_mb: 1024,
                    max_upload_mb: 1024,
                },
            },
        }
    }

    /// Range-checks every value; the error names the key and the bad value.
    pub fn check(&self) -> Result<(), ConfigError> {
        let model = |message: String| ConfigError {
            file: MODEL_CONFIG_FILE.to_owned(),
            message,
        };
        let training = |message: String| ConfigError {
            file: TRAINING_CONFIG_FILE.to_owned(),
            message,
        };
        if self.model.version != CONFIG_VERSION {
            return Err(model(format!(
                "version: {} is not supported (this build reads version {CONFIG_VERSION})",
                self.model.version
            )));
        }
        if self.training.version != CONFIG_VERSION {
            return Err(training(format!(
                "version: {} is not supported (this build reads version {CONFIG_VERSION})",
                self.training.version
            )));
        }
        self.model
            .features
            .check()
            .map_err(|e| model(format!("features.{e}")))?;
        // The detectors' own checks hold every hyperparameter bound; here they only gain the
        // key's path.
        let section = |path: &str, e: ModelError| model(format!("model.{path}.{e}"));
        IsolationForestParams::from(self.model.model.isolation_forest.clone())
            .check()
            .map_err(|e| section("isolation_forest", e))?;
        LofParams::from(self.model.model.lof.clone())
            .check()
            .map_err(|e| section("lof", e))?;

        let validation = &self.training.validation;
        if !(0.0..=1.0).contains(&validation.min_wifi_share) {
            return Err(training(format!(
                "validation.min_wifi_share: {} is not in [0, 1]",
                validation.min_wifi_share
            )));
        }
        let evaluation = &self.training.evaluation;
        if !(evaluation.test_size > 0.0 && evaluation.test_size < 1.0) {
            return Err(training(format!(
                "evaluation.test_size: {} is not in (0, 1)",
                evaluation.test_size
            )));
        }
        for p in &evaluation.score_percentiles {
            if !(0.0..=100.0).contains(p) {
                return Err(training(format!(
                    "evaluation.score_percentiles: {p} is not in [0, 100]"
                )));
            }
        }
        let t = &evaluation.thresholds;
        for (name, value) in [
            ("min_accuracy", t.min_accuracy),
            ("min_precision", t.min_precision),
            ("min_recall", t.min_recall),
            ("min_f1", t.min_f1),
            ("min_roc_auc", t.min_roc_auc),
            ("max_anomaly_ratio", t.max_anomaly_ratio),
        ] {
            if let Some(v) = value {
                if !(0.0..=1.0).contains(&v) {
                    return Err(training(format!(
                        "evaluation.thresholds.{name}: {v} is not in [0, 1]"
                    )));
                }
            }
        }
        if self.training.registry.keep_last == 0 {
            return Err(training("registry.keep_last: 0 must be at least 1".into()));
        }
        for (name, value) in [
            ("max_export_mb", self.training.limits.max_export_mb),
            ("max_upload_mb", self.training.limits.max_upload_mb),
        ] {
            if value == 0 {
                return Err(training(format!("limits.{name}: 0 must be at least 1")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_defaults_parse_and_match_the_builtin_values() {
        let parsed = Config::from_yaml(DEFAULT_MODEL_CONFIG, DEFAULT_TRAINING_CONFIG);
        assert_eq!(parsed, Ok(Config::builtin()));
    }

    #[test]
    fn unknown_keys_are_errors() {
        let typo = DEFAULT_MODEL_CONFIG.replace("n_estimators", "n_estimator");
        let e = Config::from_yaml(&typo, DEFAULT_TRAINING_CONFIG)
            .map(|_| ())
            .unwrap_err();
        assert_eq!(e.file, MODEL_CONFIG_FILE);
        assert!(e.message.contains("n_estimator"), "{e}");
    }

    #[test]
    fn out_of_range_values_name_the_key() {
        for (from, to, key) in [
            (
                "contamination: auto   #",
                "contamination: 0.9   #",
                "model.isolation_forest.contamination: 0.9",
            ),
            ("n_estimators: 100", "n_estimators: 0", "n_estimators: 0"),
            ("max_samples: auto", "max_samples: 1.5", "max_samples: 1.5"),
            ("max_samples: auto", "max_samples: many", "many"),
            (
                "window_minutes: [5, 15, 60]",
                "window_minutes: [0]",
                "window_minutes",
            ),
        ] {
            let changed = DEFAULT_MODEL_CONFIG.replacen(from, to, 1);
            assert_ne!(changed, DEFAULT_MODEL_CONFIG, "{from}");
            let e = Config::from_yaml(&changed, DEFAULT_TRAINING_CONFIG)
                .map(|_| ())
                .unwrap_err();
            assert!(e.to_string().contains(key), "{e} should name {key}");
        }
        let changed = DEFAULT_TRAINING_CONFIG.replace("test_size: 0.2", "test_size: 1.0");
        let e = Config::from_yaml(DEFAULT_MODEL_CONFIG, &changed)
            .map(|_| ())
            .unwrap_err();
        assert!(e.to_string().contains("evaluation.test_size: 1"), "{e}");
    }

    #[test]
    fn max_samples_forms() {
        for (text, expected) in [
            ("max_samples: 128", MaxSamples::Count(128)),
            ("max_samples: 0.5", MaxSamples::Fraction(0.5)),
            ("max_samples: AUTO", MaxSamples::Auto),
        ] {
            let changed = DEFAULT_MODEL_CONFIG.replacen("max_samples: auto", text, 1);
            let config = Config::from_yaml(&changed, DEFAULT_TRAINING_CONFIG);
            assert_eq!(
                config.map(|c| c.model.model.isolation_forest.max_samples),
                Ok(expected)
            );
        }
    }

    #[test]
    fn broken_yaml_names_the_position() {
        let e = Config::from_yaml("features: [unclosed", DEFAULT_TRAINING_CONFIG)
            .map(|_| ())
            .unwrap_err();
        assert_eq!(e.file, MODEL_CONFIG_FILE);
        assert!(e.message.chars().any(|c| c.is_ascii_digit()), "{e}");
    }
}
