//! Pass/fail checks of the evaluation against `evaluation.thresholds` in the configuration.

use serde::{Deserialize, Serialize};

use super::metrics::ClassificationMetrics;
use crate::config::Thresholds;

/// One configured threshold and how the model fared against it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ThresholdCheck {
    /// `accuracy`, `precision`, `recall`, `f1`, `roc_auc` or `anomaly_ratio`.
    pub metric: String,
    /// `>=` for the `min_*` thresholds, `<=` for `max_anomaly_ratio`.
    pub comparison: String,
    /// The configured bound, in [0, 1].
    pub threshold: f64,
    /// The measured value; `None` when it could not be measured (no labels, or one class only
    /// for `roc_auc`).
    pub value: Option<f64>,
    /// `None` exactly when `value` is; a NaN value fails.
    pub passed: Option<bool>,
}

/// Checks every configured threshold (those that are `Some`), in the order of [`Thresholds`]'
/// fields. The label-based ones need `metrics` (`None` when the export has no labels) and are
/// reported with `value` and `passed` `None` without it; `anomaly_ratio` (the share of rows
/// predicted anomalous) is always available.
pub fn check_thresholds(
    thresholds: &Thresholds,
    metrics: Option<&ClassificationMetrics>,
    anomaly_ratio: f64,
) -> Vec<ThresholdCheck> {
    let at_least = [
        (
            "accuracy",
            thresholds.min_accuracy,
            metrics.map(|m| m.accuracy),
        ),
        (
            "precision",
            thresholds.min_precision,
            metrics.map(|m| m.precision),
        ),
        ("recall", thresholds.min_recall, metrics.map(|m| m.recall)),
        ("f1", thresholds.min_f1, metrics.map(|m| m.f1)),
        (
            "roc_auc",
            thresholds.min_roc_auc,
            metrics.and_then(|m| m.roc_auc),
        ),
    ];
    let mut checks: Vec<ThresholdCheck> = at_least
        .into_iter()
        .filter_map(|(metric, threshold, value)| {
            let threshold = threshold?;
            Some(ThresholdCheck {
                metric: metric.to_owned(),
                comparison: ">=".to_owned(),
                threshold,
                value,
                passed: value.map(|v| v >= threshold),
            })
        })
        .collect();
    if let Some(threshold) = thresholds.max_anomaly_ratio {
        checks.push(ThresholdCheck {
            metric: "anomaly_ratio".to_owned(),
            comparison: "<=".to_owned(),
            threshold,
            value: Some(anomaly_ratio),
            passed: Some(anomaly_ratio <= threshold),
        });
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::ConfusionMatrix;

    fn thresholds() -> Thresholds {
        Thresholds {
            min_accuracy: Some(0.8),
            min_precision: Some(0.5),
            min_recall: Some(0.5),
            min_f1: Some(0.5),
            min_roc_auc: Some(0.8),
            max_anomaly_ratio: Some(0.2),
        }
    }

    fn metrics() -> ClassificationMetrics {
        ClassificationMetrics {
            samples: 100,
            positives: 10,
            accuracy: 0.9,
            precision: 0.4,
            recall: 0.5,
            f1: 0.444,
            roc_auc: Some(0.85),
            average_precision: Some(0.5),
            confusion_matrix: ConfusionMatrix::default(),
        }
    }

    fn passed(checks: &[ThresholdCheck]) -> Vec<(&str, Option<bool>)> {
        checks
            .iter()
            .map(|c| (c.metric.as_str(), c.passed))
            .collect()
    }

    #[test]
    fn checks_pass_and_fail_per_metric() {
        let checks = check_thresholds(&thresholds(), Some(&metrics()), 0.25);
        assert_eq!(
            passed(&checks),
            [
                ("accuracy", Some(true)),
                ("precision", Some(false)),
                ("recall", Some(true)), // equal to the threshold passes
                ("f1", Some(false)),
                ("roc_auc", Some(true)),
                ("anomaly_ratio", Some(false)),
            ]
        );
        assert_eq!(checks[0].comparison, ">=");
        assert_eq!(checks[5].comparison, "<=");
        assert_eq!((checks[5].threshold, checks[5].value), (0.2, Some(0.25)));
    }

    #[test]
    fn label_checks_are_unavailable_without_labels() {
        let checks = check_thresholds(&thresholds(), None, 0.1);
        assert_eq!(checks.len(), 6);
        assert!(checks[..5]
            .iter()
            .all(|c| c.value.is_none() && c.passed.is_none()));
        assert_eq!(checks[5].passed, Some(true));
        // One class only: no AUC to check, the rest still is.
        let one_class = ClassificationMetrics {
            roc_auc: None,
            ..metrics()
        };
        let checks = check_thresholds(&thresholds(), Some(&one_class), 0.1);
        assert_eq!(checks[4].passed, None);
        assert_eq!(checks[0].passed, Some(true));
    }

    #[test]
    fn thresholds_switched_off_are_not_checked() {
        let only_ratio = Thresholds {
            min_accuracy: None,
            min_precision: None,
            min_recall: None,
            min_f1: None,
            min_roc_auc: None,
            max_anomaly_ratio: Some(0.1),
        };
        let checks = check_thresholds(&only_ratio, Some(&metrics()), f64::NAN);
        assert_eq!(passed(&checks), [("anomaly_ratio", Some(false))]);
    }
}
