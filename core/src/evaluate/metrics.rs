//! Classification metrics on labelled rows, and ROC / precision–recall curves.
//!
//! The anomaly is the positive class; ranking metrics take anomaly scores, higher = more
//! anomalous (`−score_samples`). See the [module docs](super) for the sign conventions.

use serde::{Deserialize, Serialize};

/// Counts of a binary prediction against the labels; positive = anomaly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bools(v: &[u8]) -> Vec<bool> {
        v.iter().map(|&b| b == 1).collect()
    }

    fn assert_close(a: f64, b: f64) {
        assert!((a - b).abs() <= 1e-12, "{a} != {b}");
    }

    fn assert_curve(curve: &Curve, x: &[f64], y: &[f64]) {
        assert_eq!(curve.x.len(), x.len());
        assert_eq!(curve.y.len(), y.len());
        curve
            .x
            .iter()
            .zip(x)
            .for_each(|(&a, &b)| assert_close(a, b));
        curve
            .y
            .iter()
            .zip(y)
            .for_each(|(&a, &b)| assert_close(a, b));
    }

    #[test]
    fn confusion_matrix_and_rates_by_hand() {
        // sklearn: accuracy 0.75, precision = recall = f1 = 2/3, confusion [[4, 1], [1, 2]].
        let labels = bools(&[1, 1, 1, 0, 0, 0, 0, 0]);
        let predicted = bools(&[1, 1, 0, 1, 0, 0, 0, 0]);
        let m = classification_metrics(&labels, &predicted, &[0.0; 8]);
        assert_eq!(
            m.confusion_matrix,
            ConfusionMatrix {
                true_negative: 4,
                false_positive: 1,
                false_negative: 1,
                true_positive: 2
            }
        );
        assert_eq!((m.samples, m.positives), (8, 3));
        assert_eq!(m.accuracy, 0.75);
        assert_eq!(
            (m.precision, m.recall, m.f1),
            (2.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0)
        );
        // Constant scores rank nothing: AUC 0.5, AP = the anomaly share.
        assert_eq!(m.roc_auc, Some(0.5));
        assert_eq!(m.average_precision, Some(3.0 / 8.0));
    }

    #[test]
    fn rates_match_sklearn_when_precision_and_recall_differ() {
        // sklearn: accuracy 0.4, precision 1/3, recall 0.5, f1 0.4.
        let m = classification_metrics(
            &bools(&[1, 1, 0, 0, 0]),
            &bools(&[1, 0, 1, 1, 0]),
            &[0.0; 5],
        );
        assert_eq!(m.accuracy, 0.4);
        assert_eq!(m.precision, 0.3333333333333333);
        assert_eq!(m.recall, 0.5);
        assert_eq!(m.f1, 0.4);
    }

    #[test]
    fn undefined_rates_are_zero() {
        // Nothing predicted anomalous; nothing labelled anomalous; no rows at all.
        let m = classification_metrics(&bools(&[1, 0]), &bools(&[0, 0]), &[0.2, 0.1]);
        assert_eq!((m.precision, m.recall, m.f1), (0.0, 0.0, 0.0));
        let m = classification_metrics(&bools(&[0, 0]), &bools(&[0, 1]), &[0.2, 0.1]);
        assert_eq!(
            (m.precision, m.recall, m.f1, m.accuracy),
            (0.0, 0.0, 0.0, 0.5)
        );
        let m = classification_metrics(&[], &[], &[]);
        assert_eq!((m.samples, m.accuracy, m.roc_auc), (0, 0.0, None));
    }

    #[test]
    fn ranking_metrics_need_their_classes() {
        let only_normal = classification_metrics(&[false; 3], &[false; 3], &[0.1, 0.2, 0.3]);
        assert_eq!(
            (only_normal.roc_auc, only_normal.average_precision),
            (None, None)
        );
        // All anomalous: AUC undefined, AP trivially 1 (as sklearn).
        let only_anomalous = classification_metrics(&[true; 3], &[true; 3], &[0.1, 0.2, 0.3]);
        assert_eq!(only_anomalous.roc_auc, None);
        assert_eq!(only_anomalous.average_precision, Some(1.0));
        assert!(roc_curve(&[true; 3], &[0.1, 0.2, 0.3], 10).is_none());
        assert!(precision_recall_curve(&[false; 3], &[0.1, 0.2, 0.3], 10).is_none());
    }

    #[test]
    fn perfectly_separated_scores_give_auc_one_and_ap_one() {
        let labels = bools(&[0, 1, 0, 1, 0, 0]);
        let scores = [0.1, 0.9, 0.2, 0.8, 0.3, 0.3];
        let m = classification_metrics(&labels, &labels, &scores);
        assert_eq!((m.roc_auc, m.average_precision), (Some(1.0), Some(1.0)));
        // Reversed ranking: AUC 0.
        let negated: Vec<f64> = scores.iter().map(|s| -s).collect();
        assert_eq!(
            classification_metrics(&labels, &labels, &negated).roc_auc,
            Some(0.0)
        );
    }

    #[test]
    fn sklearn_docstring_example() {
        // roc_auc_score 0.75, average_precision_score 0.8333333333333333.
        let labels = bools(&[0, 0, 1, 1]);
        let scores = [0.1, 0.4, 0.35, 0.8];
        let m = classification_metrics(&labels, &labels, &scores);
        assert_eq!(m.roc_auc, Some(0.75));
        assert_close(m.average_precision.unwrap_or(f64::NAN), 0.8333333333333333);
        let roc = roc_curve(&labels, &scores, 100);
        assert_curve(
            roc.as_ref().unwrap(),
            &[0.0, 0.0, 0.5, 0.5, 1.0],
            &[0.0, 0.5, 0.5, 1.0, 1.0],
        );
        let pr = precision_recall_curve(&labels, &scores, 100);
        assert_curve(
            pr.as_ref().unwrap(),
            &[0.0, 0.5, 0.5, 1.0, 1.0],
            &[1.0, 1.0, 0.5, 0.6666666666666666, 0.5],
        );
    }

    #[test]
    fn tied_scores_form_one_threshold() {
        // sklearn: roc_auc 0.6111111111111112, AP 0.5666666666666667, roc_curve
        // fpr [0, 1/3, 2/3, 1], tpr [0, 1/3, 1, 1]; PR (reversed) recall [0, 1/3, 1, 1],
        // precision [1, 0.5, 0.6, 0.5].
        let labels = bools(&[1, 0, 1, 0, 1, 0]);
        let scores = [0.8, 0.8, 0.5, 0.5, 0.5, 0.2];
        let m = classification_metrics(&labels, &labels, &scores);
        assert_close(m.roc_auc.unwrap_or(f64::NAN), 0.6111111111111112);
        assert_close(m.average_precision.unwrap_or(f64::NAN), 0.5666666666666667);
        let third = 1.0 / 3.0;
        assert_curve(
            &roc_curve(&labels, &scores, 100).unwrap(),
            &[0.0, third, 2.0 * third, 1.0],
            &[0.0, third, 1.0, 1.0],
        );
        assert_curve(
            &precision_recall_curve(&labels, &scores, 100).unwrap(),
            &[0.0, third, 1.0, 1.0],
            &[1.0, 0.5, 0.6, 0.5],
        );
        // −0.0 and 0.0 are the same score.
        let zeros = classification_metrics(&bools(&[1, 0]), &[false; 2], &[0.0, -0.0]);
        assert_eq!(zeros.roc_auc, Some(0.5));
    }

    #[test]
    fn matches_sklearn_on_a_random_case_with_ties() {
        // numpy RandomState(0): y = rand(20) < 0.3, s = round(rand(20) + 0.3·y, 1).
        // roc_auc_score 0.6372549019607843, average_precision_score 0.32222222222222224.
        let labels = bools(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0]);
        let scores = [
            1.0, 0.8, 0.5, 0.8, 0.1, 0.6, 0.1, 0.9, 0.5, 0.4, 0.3, 0.8, 0.5, 0.6, 0.3, 0.9, 0.9,
            0.6, 0.9, 0.7,
        ];
        let m = classification_metrics(&labels, &labels, &scores);
        assert_close(m.roc_auc.unwrap_or(f64::NAN), 0.6372549019607843);
        assert_close(m.average_precision.unwrap_or(f64::NAN), 0.32222222222222224);
        let roc = roc_curve(&labels, &scores, 100).unwrap();
        assert_curve(
            &roc,
            &[
                0.0,
                0.058823529411764705,
                0.17647058823529413,
                0.35294117647058826,
                0.4117647058823529,
                0.5882352941176471,
                0.7647058823529411,
                0.8235294117647058,
                0.8823529411764706,
                1.0,
            ],
            &[
                0.0,
                0.0,
                2.0 / 3.0,
                2.0 / 3.0,
                2.0 / 3.0,
                2.0 / 3.0,
                2.0 / 3.0,
                2.0 / 3.0,
                1.0,
                1.0,
            ],
        );
        let pr = precision_recall_curve(&labels, &scores, 100).unwrap();
        assert_curve(
            &pr,
            &[
                0.0,
                0.0,
                2.0 / 3.0,
                2.0 / 3.0,
                2.0 / 3.0,
                2.0 / 3.0,
                2.0 / 3.0,
                2.0 / 3.0,
                1.0,
                1.0,
            ],
            &[
                1.0,
                0.0,
                0.4,
                0.25,
                0.2222222222222222,
                0.16666666666666666,
                0.13333333333333333,
                0.125,
                0.16666666666666666,
                0.15,
            ],
        );
    }

    /// Labels and scores of row `i` of a larger deterministic case, reproduced in Python for
    /// the reference values below.
    fn big_case(n: u64) -> (Vec<bool>, Vec<f64>) {
        let labels: Vec<bool> = (0..n).map(|i| (i * 7919) % 97 < 9).collect();
        let scores = (0..n)
            .map(|i| {
                let base = ((i * 104_729) % 1_000) as f64 / 1_000.0;
                if (i * 7919) % 97 < 9 {
                    base + 0.25
                } else {
                    base
                }
            })
            .collect();
        (labels, scores)
    }

    #[test]
    fn matches_sklearn_on_a_larger_case() {
        let (labels, scores) = big_case(100_000);
        let m = classification_metrics(&labels, &labels, &scores);
        assert_close(m.roc_auc.unwrap_or(f64::NAN), BIG_AUC);
        assert_close(m.average_precision.unwrap_or(f64::NAN), BIG_AP);
    }

    /// `roc_auc_score` and `average_precision_score` of `big_case(100_000)` (9278 anomalies,
    /// 1352 distinct scores).
    const BIG_AUC: f64 = 0.7188689879387213;
    const BIG_AP: f64 = 0.39303981780908614;

    #[test]
    fn nan_scores_rank_as_least_anomalous() {
        let labels = bools(&[1, 0, 0]);
        let m = classification_metrics(&labels, &labels, &[0.5, f64::NAN, 0.1]);
        assert_eq!(m.roc_auc, Some(1.0));
    }

    #[test]
    fn long_curves_are_thinned_keeping_both_ends() {
        let (labels, scores) = big_case(5_000);
        let full = roc_curve(&labels, &scores, usize::MAX).unwrap();
        assert!(full.x.len() > 1_000);
        for max_points in [0, 1, 2, 3, 100, 999] {
            let c = roc_curve(&labels, &scores, max_points).unwrap();
            assert_eq!(c.x.len(), max_points.max(2));
            assert_eq!(c.y.len(), c.x.len());
            assert_eq!((c.x[0], c.y[0]), (0.0, 0.0));
            assert_eq!(c.x.last(), full.x.last());
            assert_eq!(c.y.last(), full.y.last());
            assert!(c.x.windows(2).all(|w| w[0] <= w[1]));
        }
        let pr = precision_recall_curve(&labels, &scores, 50).unwrap();
        assert_eq!(pr.x.len(), 50);
        assert_eq!((pr.x[0], pr.y[0]), (0.0, 1.0));
        assert_eq!(pr.x.last(), Some(&1.0));
    }

    proptest! {
        #[test]
        fn auc_is_a_probability_and_flips_with_the_scores(
            rows in prop::collection::vec((any::<bool>(), -5i8..5), 2..60),
        ) {
            let labels: Vec<bool> = rows.iter().map(|r| r.0).collect();
            let scores: Vec<f64> = rows.iter().map(|r| f64::from(r.1) / 2.0).collect();
            let negated: Vec<f64> = scores.iter().map(|s| -s).collect();
            let m = classification_metrics(&labels, &labels, &scores);
            let flipped = classification_metrics(&labels, &labels, &negated);
            let both_classes = labels.iter().any(|&l| l) && labels.iter().any(|&l| !l);
            prop_assert_eq!(m.roc_auc.is_some(), both_classes);
            if let (Some(a), Some(b)) = (m.roc_auc, flipped.roc_auc) {
                prop_assert!((0.0..=1.0).contains(&a));
                prop_assert!((a + b - 1.0).abs() < 1e-12);
            }
            if let Some(ap) = m.average_precision {
                prop_assert!(ap > 0.0 && ap <= 1.0);
            }
        }

        #[test]
        fn ranking_metrics_ignore_monotone_transforms(
            rows in prop::collection::vec((any::<bool>(), -5i8..5), 2..60),
        ) {
            let labels: Vec<bool> = rows.iter().map(|r| r.0).collect();
            let scores: Vec<f64> = rows.iter().map(|r| f64::from(r.1)).collect();
            let squashed: Vec<f64> = scores.iter().map(|s| libm::exp(s / 3.0) - 7.0).collect();
            let a = classification_metrics(&labels, &labels, &scores);
            let b = classification_metrics(&labels, &labels, &squashed);
            prop_assert_eq!(a.roc_auc, b.roc_auc);
            prop_assert_eq!(a.average_precision, b.average_precision);
        }
    }
}
