//! Score statistics and histograms.

use serde::{Deserialize, Serialize};

/// One requested percentile of the scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Percentile {
    /// The percentile asked for, in `[0, 100]`.
    pub percentile: f64,
    /// The score at that percentile (numpy's default linear interpolation).
    pub value: f64,
}

/// Summary of a detector's scores, available with or without labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScoreStats {
    /// Number of (finite) scores described.
    pub count: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Population standard deviation (numpy's default `ddof = 0`).
    pub std: f64,
    /// Lowest score.
    pub min: f64,
    /// Highest score.
    pub max: f64,
    /// One entry per requested percentile, in the order requested.
    pub percentiles: Vec<Percentile>,
}

/// Statistics of `scores`: count, mean, population std, min, max and the requested
/// `percentiles` (each in `[0, 100]`, computed like `numpy.percentile` with its default linear
/// method).
///
/// Only finite scores count: NaN and ±∞ are left out, like numpy's `nan*` functions, so the
/// result always serialises to plain JSON numbers. With no finite score, `count` is 0 and every
/// other number (percentile values included) is 0.0. A percentile outside `[0, 100]` is clamped
/// into it (NaN counts as 0); the entry keeps the value asked for.
///
/// Sorts one copy of the scores: O(n log n).
pub fn score_stats(scores: &[f64], percentiles: &[f64]) -> ScoreStats {
    let mut sorted: Vec<f64> = scores.iter().copied().filter(|s| s.is_finite()).collect();
    sorted.sort_unstable_by(f64::total_cmp);
    let (Some(&min), Some(&max)) = (sorted.first(), sorted.last()) else {
        return ScoreStats {
            count: 0,
            mean: 0.0,
            std: 0.0,
            min: 0.0,
            max: 0.0,
            percentiles: percentiles
                .iter()
                .map(|&percentile| Percentile {
                    percentile,
                    value: 0.0,
                })
                .collect(),
        };
    };
    let n = sorted.len() as f64;
    // Two passes in input order (not sorted order) keep the result independent of how the sort
    // breaks ties, and the second pass over deviations is accurate where Σx² − n·mean² is not.
    let finite = || scores.iter().copied().filter(|s| s.is_finite());
    let mean = finite().sum::<f64>() / n;
    let variance = finite().map(|s| (s - mean) * (s - mean)).sum::<f64>() / n;
    ScoreStats {
        count: sorted.len(),
        mean,
        std: libm::sqrt(variance),
        min,
        max,
        percentiles: percentiles
            .iter()
            .map(|&percentile| Percentile {
                percentile,
                value: percentile_of_sorted(&sorted, percentile),
            })
            .collect(),
    }
}

/// `numpy.percentile(sorted, p)` with the linear method, for a non-empty ascending slice.
fn percentile_of_sorted(sorted: &[f64], p: f64) -> f64 {
    let p = if p >= 0.0 { p.min(100.0) } else { 0.0 };
    let last = sorted.len() - 1;
    // numpy: quantile = p / 100, virtual index = (n − 1)·quantile, then a lerp between the two
    // neighbours that is exact at both ends.
    let virtual_index = last as f64 * (p / 100.0);
    let below = libm::floor(virtual_index);
    if below >= last as f64 {
        return sorted[last];
    }
    let lo = below as usize;
    let (a, b) = (sorted[lo], sorted[lo + 1]);
    let t = virtual_index - below;
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

/// Equal-width histogram of some values, for plots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// `bins + 1` ascending bin edges.
    pub edges: Vec<f64>,
    /// Values per bin. Bin `i` is `[edges[i], edges[i + 1])`; the last bin also holds its
    /// right edge (the maximum).
    pub counts: Vec<u64>,
}

/// Histogram of the finite `values` over `bins` equal-width bins from their minimum to their
/// maximum, like `numpy.histogram(values, bins)` (same edges, same bin for every value).
///
/// Non-finite values are left out, so the counts sum to the number of finite values. As in
/// numpy, constant input spans `[v − 0.5, v + 0.5]` and no input spans `[0, 1]`. `bins = 0` is
/// taken as 1. O(n).
pub fn histogram(values: &[f64], bins: usize) -> Histogram {
    let bins = bins.max(1);
    let finite = || values.iter().copied().filter(|v| v.is_finite());
    let (mut first, mut last) = finite().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if first > last {
        (first, last) = (0.0, 1.0);
    }
    if first == last {
        (first, last) = (first - 0.5, last + 0.5);
    }
    let edges = linspace(first, last, bins);
    let mut counts = vec![0u64; bins];
    let width = last - first;
    let bins_f = bins as f64;
    for v in finite() {
        // numpy's fast path: scale to a bin index, then fix it by ±1 against the real edges,
        // which the scaled index can miss by an ulp.
        let mut i = (((v - first) / width) * bins_f) as usize;
        i = i.min(bins - 1);
        if v < edges[i] {
            i = i.saturating_sub(1);
        }
        if i != bins - 1 && v >= edges[i + 1] {
            i += 1;
        }
        counts[i] += 1;
    }
    Histogram { edges, counts }
}

/// `numpy.linspace(start, stop, bins + 1)`: `i·step + start`, with the last edge exactly `stop`.
fn linspace(start: f64, stop: f64, bins: usize) -> Vec<f64> {
    let delta = stop - start;
    let div = bins as f64;
    let step = delta / div;
    let mut edges: Vec<f64> = (0..=bins)
        .map(|i| {
            let i = i as f64;
            if step == 0.0 {
                // numpy's branch for a step that underflows to zero.
                i / div * delta + start
            } else {
                i * step + start
            }
        })
        .collect();
    if let Some(end) = edges.last_mut() {
        *end = stop;
    }
    edges
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(stats: &ScoreStats) -> Vec<f64> {
        stats.percentiles.iter().map(|p| p.value).collect()
    }

    #[test]
    fn score_stats_match_numpy_on_a_small_array() {
        // numpy: a = [3, 1, 4, 1, 5, 9, 2, 6]; mean 3.875, std 2.5708704751503917,
        // percentile(a, [0, 25, 50, 75, 95, 99, 100]) = [1, 1.75, 3.5, 5.25, 7.949999999999998,
        // 8.79, 9].
        let a = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
        let stats = score_stats(&a, &[0.0, 25.0, 50.0, 75.0, 95.0, 99.0, 100.0]);
        assert_eq!(stats.count, 8);
        assert_eq!(stats.mean, 3.875);
        assert_eq!(stats.std, 2.5708704751503917);
        assert_eq!((stats.min, stats.max), (1.0, 9.0));
        assert_eq!(
            values(&stats),
            [1.0, 1.75, 3.5, 5.25, 7.949999999999998, 8.79, 9.0]
        );
    }

    #[test]
    fn score_stats_percentiles_match_numpy_on_isolation_forest_like_scores() {
        // numpy.percentile(s, [25, 50, 75, 95, 99]) for these scores:
        // [-0.485, -0.445, -0.4175, -0.3845, -0.3809]
        let s = [
            -0.41, -0.52, -0.47, -0.44, -0.38, -0.49, -0.44, -0.45, -0.39, -0.6,
        ];
        let stats = score_stats(&s, &[25.0, 50.0, 75.0, 95.0, 99.0]);
        assert_eq!(values(&stats), [-0.485, -0.445, -0.4175, -0.3845, -0.3809]);
    }

    #[test]
    fn score_stats_of_nothing_are_zeros_not_nan() {
        for scores in [&[][..], &[f64::NAN, f64::INFINITY][..]] {
            let stats = score_stats(scores, &[50.0]);
            assert_eq!(stats.count, 0);
            assert_eq!(
                (stats.mean, stats.std, stats.min, stats.max),
                (0.0, 0.0, 0.0, 0.0)
            );
            assert_eq!(values(&stats), [0.0]);
            assert!(serde_json::to_string(&stats).is_ok_and(|j| !j.contains("null")));
        }
    }

    #[test]
    fn score_stats_skip_non_finite_scores_and_clamp_percentiles() {
        let stats = score_stats(&[f64::NAN, 2.0, f64::NEG_INFINITY, 4.0], &[-5.0, 150.0]);
        assert_eq!(stats.count, 2);
        assert_eq!((stats.mean, stats.std), (3.0, 1.0));
        assert_eq!(values(&stats), [2.0, 4.0]);
        assert_eq!(stats.percentiles[0].percentile, -5.0);
    }

    #[test]
    fn histogram_counts_every_value_once_and_the_maximum_in_the_last_bin() {
        let v = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
        let h = histogram(&v, 10);
        assert_eq!(h.edges.len(), 11);
        assert_eq!(h.counts.iter().sum::<u64>(), 11);
        // numpy.histogram(v, 10) counts: [1, 1, 2, 0, 1, 2, 1, 0, 1, 2]: the edges are i·0.1, and
        // 3·0.1 > 0.3, 7·0.1 > 0.7 in floating point.
        assert_eq!(h.counts, [1, 1, 2, 0, 1, 2, 1, 0, 1, 2]);
        assert_eq!(h.edges[0], 0.0);
        assert_eq!(h.edges[10], 1.0);
    }

    #[test]
    fn histogram_matches_numpy_on_values_near_the_edges() {
        // numpy.histogram([-0.61, -0.5, -0.47, -0.44, -0.43, -0.38], 3)
        // counts [1, 2, 3], edges [-0.61, -0.5333333333333333, -0.45666666666666667, -0.38]
        let h = histogram(&[-0.61, -0.5, -0.47, -0.44, -0.43, -0.38], 3);
        assert_eq!(h.counts, [1, 2, 3]);
        assert_eq!(
            h.edges,
            [-0.61, -0.5333333333333333, -0.45666666666666667, -0.38]
        );
    }

    #[test]
    fn histogram_of_constant_values_spans_one_unit() {
        let h = histogram(&[2.0; 5], 4);
        assert_eq!(h.edges, [1.5, 1.75, 2.0, 2.25, 2.5]);
        assert_eq!(h.counts, [0, 0, 5, 0]);
    }

    #[test]
    fn histogram_of_nothing_spans_zero_to_one() {
        let h = histogram(&[f64::NAN], 0);
        assert_eq!(h.edges, [0.0, 1.0]);
        assert_eq!(h.counts, [0]);
    }
}
