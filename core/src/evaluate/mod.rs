//! Evaluation: score statistics, the seeded train/test split, classification metrics
//! on labelled rows, curves and histograms for plots, threshold checks against the
//! configuration, and label-free feature importance.
//!
//! # Sign conventions
//! Scores follow scikit-learn: a detector's `score_samples` is **higher for normal rows** and
//! lower for anomalies; `decision = score − offset`, and a row is an anomaly when
//! `decision < 0`. Labels say `true` for an anomaly.
//!
//! The ranking metrics here ([`ClassificationMetrics::roc_auc`],
//! [`ClassificationMetrics::average_precision`], [`roc_curve`], [`precision_recall_curve`])
//! treat the **anomaly as the positive class** and take an **anomaly score, higher = more
//! anomalous**: pass `−score_samples` (or `−decision`, which ranks the same). Passing
//! `score_samples` itself turns an AUC of `a` into `1 − a`.
//!
//! # Determinism
//! Everything is a pure function of its arguments: randomness comes from
//! `ChaCha8Rng::seed_from_u64` drawing `u64`s only (never `usize`, whose width differs on
//! wasm32), sums run in a fixed order, and square roots go through `libm`, so native and wasm32
//! results agree bit for bit.
//!
//! # Faithfulness to scikit-learn / numpy
//! ROC AUC is `sklearn.metrics.roc_auc_score` (trapezoids over the full ROC curve, tied scores
//! grouped into one threshold), computed from exact integer counts with a single final division;
//! average precision is `sklearn.metrics.average_precision_score` (the step sum
//! `Σ (Rₖ − Rₖ₋₁)·Pₖ`, not a trapezoid); percentiles are `numpy.percentile` (linear method);
//! histograms are `numpy.histogram` with equal-width bins. The split counts are
//! `sklearn.model_selection.train_test_split`'s (`ceil(test_size·n)` test rows, stratified by
//! label), though the shuffle itself uses a different generator.

mod importance;
mod metrics;
mod split;
mod stats;
mod thresholds;

pub use importance::{permutation_importance, FeatureImportance};
pub use metrics::{
    classification_metrics, precision_recall_curve, roc_curve, ClassificationMetrics,
    ConfusionMatrix, Curve,
};
pub use split::train_test_split;
pub use stats::{histogram, score_stats, Histogram, Percentile, ScoreStats};
pub use thresholds::{check_thresholds, ThresholdCheck};
