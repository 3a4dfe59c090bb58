//! Classification metrics on labelled rows, and ROC / precision–recall curves.
//!
//! The anomaly is the positive class; ranking metrics take anomaly scores, higher = more
//! anomalous (`−score_samples`). See the [module docs](super) for the sign conventions.

use serde::{Deserialize, Serialize};

/// Counts of a binary prediction against the labels; positive = anomaly.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct ConfusionMatrix {
    /// Normal rows predicted normal.
    pub true_negative: u64,
    /// Normal rows predicted anomalous (false alarms).
    pub false_positive: u64,
    /// Anomalies predicted normal (misses).
    pub false_negative: u64,
    /// Anomalies predicted anomalous.
    pub true_positive: u64,
}

/// Metrics of a detector on labelled rows (the test part of the split).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ClassificationMetrics {
    /// Rows evaluated.
    pub samples: usize,
    /// Of which labelled anomalous.
    pub positives: usize,
    /// Share of rows predicted right; 0 for no rows.
    pub accuracy: f64,
    /// `tp / (tp + fp)`; 0 when nothing was predicted anomalous.
    pub precision: f64,
    /// `tp / (tp + fn)`; 0 when no row is labelled anomalous.
    pub recall: f64,
    /// `2·tp / (2·tp + fp + fn)`; 0 when that is 0/0.
    pub f1: f64,
    /// Area under the ROC curve of the anomaly scores, as scikit-learn's `roc_auc_score`;
    /// `None` unless both classes occur.
    pub roc_auc: Option<f64>,
    /// Average precision of the anomaly scores, as scikit-learn's `average_precision_score`;
    /// `None` when no row is labelled anomalous.
    pub average_precision: Option<f64>,
    /// Counts of the four label/prediction pairs.
    pub confusion_matrix: ConfusionMatrix,
}

/// Metrics of `predicted` (is-anomaly flags) and `anomaly_scores` (higher = more anomalous, e.g.
/// `−score_samples`) against `labels` (`true` = anomaly).
///
/// Precision, recall and F1 are 0 where they would be 0/0 (scikit-learn's `zero_division=0`);
/// accuracy is 0 for no rows. ROC AUC and average precision are exact (see the
/// [module docs](super)); ROC AUC needs both classes and average precision needs at least one
/// anomaly, else they are `None` — scikit-learn raises or warns there (and returns 0.0 for the
/// average precision of no anomaly, which would read as a real, terrible score).
///
/// The three slices should have the same length; if not, only the rows all three have are used.
/// One sort of the scores: O(n log n).
pub fn classification_metrics(
    labels: &[bool],
    predicted: &[bool],
    anomaly_scores: &[f64],
) -> ClassificationMetrics {
    let n = labels.len().min(predicted.len()).min(anomaly_scores.len());
    let (labels, predicted, anomaly_scores) = (&labels[..n], &predicted[..n], &anomaly_scores[..n]);
    let mut cm = ConfusionMatrix::default();
    for (&label, &prediction) in labels.iter().zip(predicted) {
        match (label, prediction) {
            (false, false) => cm.true_negative += 1,
            (false, true) => cm.false_positive += 1,
            (true, false) => cm.false_negative += 1,
            (true, true) => cm.true_positive += 1,
        }
    }
    let ratio = |num: u64, den: u64| {
        if den == 0 {
            0.0
        } else {
            num as f64 / den as f64
        }
    };
    let (tp, fp, fn_) = (cm.true_positive, cm.false_positive, cm.false_negative);
    let ranking = Ranking::new(labels, anomaly_scores);
    ClassificationMetrics {
        samples: n,
        positives: (tp + fn_) as usize,
        accuracy: ratio(tp + cm.true_negative, n as u64),
        precision: ratio(tp, tp + fp),
        recall: ratio(tp, tp + fn_),
        f1: ratio(2 * tp, 2 * tp + fp + fn_),
        roc_auc: ranking.roc_auc(),
        average_precision: ranking.average_precision(),
        confusion_matrix: cm,
    }
}

/// Points of a curve for plotting, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    /// Abscissae (e.g. the false positive rate).
    pub x: Vec<f64>,
    /// Ordinates, one per abscissa (e.g. the true positive rate).
    pub y: Vec<f64>,
}

/// The ROC curve of `anomaly_scores` (higher = more anomalous) against `labels`: `x` is the
/// false-positive rate, `y` the true-positive rate, one point per distinct score from the highest
/// down, after a first point (0, 0) — scikit-learn's `roc_curve(drop_intermediate=False)`.
///
/// `None` unless both classes occur. Longer curves are thinned to `max_points` points (at least
/// 2) evenly spaced along the curve's point sequence, keeping the first and the last. Only the
/// rows both slices have are used. O(n log n).
pub fn roc_curve(labels: &[bool], anomaly_scores: &[f64], max_points: usize) -> Option<Curve> {
    let ranking = Ranking::new(labels, anomaly_scores);
    let (p, n) = (ranking.positives, ranking.negatives);
    if p == 0 || n == 0 {
        return None;
    }
    let (p, n) = (p as f64, n as f64);
    let points = || std::iter::once(Counts::default()).chain(ranking.points.iter().copied());
    let curve = Curve {
        x: points().map(|c| c.fp as f64 / n).collect(),
        y: points().map(|c| c.tp as f64 / p).collect(),
    };
    Some(thin(curve, max_points))
}

/// The precision–recall curve of `anomaly_scores` (higher = more anomalous) against `labels`:
/// `x` is the recall, `y` the precision. It starts at (0, 1) and then has one point per distinct
/// score from the highest down — scikit-learn's `precision_recall_curve` read backwards (it
/// lists thresholds ascending and ends at (0, 1)).
///
/// `None` when no row is labelled anomalous (recall is undefined). Thinned like [`roc_curve`].
pub fn precision_recall_curve(
    labels: &[bool],
    anomaly_scores: &[f64],
    max_points: usize,
) -> Option<Curve> {
    let ranking = Ranking::new(labels, anomaly_scores);
    if ranking.positives == 0 {
        return None;
    }
    let p = ranking.positives as f64;
    let curve = Curve {
        x: std::iter::once(0.0)
            .chain(ranking.points.iter().map(|c| c.tp as f64 / p))
            .collect(),
        y: std::iter::once(1.0)
            .chain(ranking.points.iter().map(|c| c.precision()))
            .collect(),
    };
    Some(thin(curve, max_points))
}

/// Keeps at most `max_points` (at least 2) points, evenly spaced by index, first and last
/// included.
fn thin(curve: Curve, max_points: usize) -> Curve {
    let len = curve.x.len();
    let keep = max_points.max(2);
    if len <= keep {
        return curve;
    }
    // Point j of the thinned curve is point round(j·(len − 1)/(keep − 1)); the step exceeds 1,
    // so the picks are distinct and increasing. u128: no overflow on 32-bit usize.
    let (last, steps) = ((len - 1) as u128, (keep - 1) as u128);
    let pick = |j: usize| ((j as u128 * last + steps / 2) / steps) as usize;
    Curve {
        x: (0..keep).map(|j| curve.x[pick(j)]).collect(),
        y: (0..keep).map(|j| curve.y[pick(j)]).collect(),
    }
}

/// Cumulative counts of the rows scoring at least some threshold.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    fp: u64,
    tp: u64,
}

impl Counts {
    fn precision(self) -> f64 {
        // A threshold point always covers at least one row.
        self.tp as f64 / (self.tp + self.fp) as f64
    }
}

/// The rows ranked by anomaly score, highest first, summarised at each distinct score: what
/// scikit-learn's `_binary_clf_curve` computes.
#[derive(Debug)]
struct Ranking {
    /// Counts at each distinct score, from the highest score down; the last is the totals.
    points: Vec<Counts>,
    positives: u64,
    negatives: u64,
}

impl Ranking {
    fn new(labels: &[bool], anomaly_scores: &[f64]) -> Ranking {
        let mut rows: Vec<(f64, bool)> = anomaly_scores
            .iter()
            .zip(labels)
            .map(|(&score, &label)| (rank_key(score), label))
            .collect();
        // Ties are grouped below, so their order after this (unstable) sort does not matter.
        rows.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
        let mut points = Vec::new();
        let mut counts = Counts::default();
        for (i, &(score, label)) in rows.iter().enumerate() {
            if label {
                counts.tp += 1;
            } else {
                counts.fp += 1;
            }
            if rows.get(i + 1).is_none_or(|next| next.0 != score) {
                points.push(counts);
            }
        }
        Ranking {
            points,
            positives: counts.tp,
            negatives: counts.fp,
        }
    }

    /// Trapezoids under the ROC curve, summed exactly in integers: each step from the previous
    /// point adds Δfp·(tp + tp_prev)/2 in units of 1/(P·N).
    fn roc_auc(&self) -> Option<f64> {
        if self.positives == 0 || self.negatives == 0 {
            return None;
        }
        let mut twice_area: u128 = 0;
        let mut prev = Counts::default();
        for &c in &self.points {
            twice_area += u128::from(c.fp - prev.fp) * u128::from(c.tp + prev.tp);
            prev = c;
        }
        let twice_total = 2 * u128::from(self.positives) * u128::from(self.negatives);
        Some(twice_area as f64 / twice_total as f64)
    }

    /// Σ (Rₖ − Rₖ₋₁)·Pₖ over the distinct thresholds, highest first, with Rₖ − Rₖ₋₁ = Δtp/P.
    fn average_precision(&self) -> Option<f64> {
        if self.positives == 0 {
            return None;
        }
        let mut sum = 0.0;
        let mut prev_tp = 0;
        for &c in &self.points {
            if c.tp > prev_tp {
                sum += (c.tp - prev_tp) as f64 * c.precision();
            }
            prev_tp = c.tp;
        }
        Some(sum / self.positives as f64)
    }
}

/// The value a score is ranked by: NaN counts as −∞ (least anomalous), and −0.0 as 0.0 so that
/// the two zeros tie, as they do for numpy.
fn rank_key(score: f64) -> f64 {
    if score.is_nan() {
        f64::NEG_INFINITY
    } else if score == 0.0 {
        0.0
    } else {
        score
    }
}

#[cfg(test)]
mod tests;
