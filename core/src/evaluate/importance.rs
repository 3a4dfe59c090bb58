//! Label-free permutation feature importance.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::split::{sample_indices, shuffle};

/// How much a detector's scores rely on one feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureImportance {
    /// Name of the feature, as in the feature list.
    pub feature: String,
    /// Share of the total score change, in `[0, 1]`; the importances sum to 1 (or are all 0).
    pub importance: f64,
}

/// Permutation importance without labels: for each feature, shuffle its column among the rows
/// and measure the mean absolute change of the scores `score` gives; then normalise the changes
/// to sum to 1 (all 0 when no feature changes anything). Works with any detector through the
/// `score` closure, which receives a row-major matrix of `n_cols` columns and returns one score
/// per row.
///
/// `data` is row-major with `n_cols` columns (a trailing partial row is ignored); `names[j]`
/// names column `j` (`feature_j` when missing). At most `max_rows` rows are used — a seeded
/// uniform sample, in their original order — so the cost is `n_cols + 1` calls of `score` on at
/// most `max_rows` rows, whatever the export size. Non-finite score changes are left out of the
/// means; extra or missing scores are ignored (only the rows both calls scored count).
///
/// Sorted by importance, highest first, then by name. Deterministic per `seed`.
pub fn permutation_importance(
    data: &[f64],
    n_cols: usize,
    names: &[String],
    score: &mut dyn FnMut(&[f64]) -> Vec<f64>,
    seed: u64,
    max_rows: usize,
) -> Vec<FeatureImportance> {
    if n_cols == 0 {
        return Vec::new();
    }
    let n_rows = data.len() / n_cols;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let rows = sample_indices(n_rows, max_rows, &mut rng);
    let mut sample = Vec::with_capacity(rows.len() * n_cols);
    for &i in &rows {
        sample.extend_from_slice(&data[i * n_cols..(i + 1) * n_cols]);
    }
    let baseline = score(&sample);

    let mut changes = Vec::with_capacity(n_cols);
    let mut permuted = sample.clone();
    let mut column = Vec::with_capacity(rows.len());
    for j in 0..n_cols {
        column.clear();
        column.extend(sample.iter().skip(j).step_by(n_cols).copied());
        shuffle(&mut column, &mut rng);
        for (row, &v) in permuted.chunks_exact_mut(n_cols).zip(&column) {
            row[j] = v;
        }
        let scores = score(&permuted);
        changes.push(mean_abs_change(&baseline, &scores, rows.len()));
        // Restore column j, so each feature is permuted on its own.
        for (row, original) in permuted
            .chunks_exact_mut(n_cols)
            .zip(sample.chunks_exact(n_cols))
        {
            row[j] = original[j];
        }
    }

    let total: f64 = changes.iter().sum();
    let mut importances: Vec<FeatureImportance> = changes
        .into_iter()
        .enumerate()
        .map(|(j, change)| FeatureImportance {
            feature: names
                .get(j)
                .cloned()
                .unwrap_or_else(|| format!("feature_{j}")),
            importance: if total > 0.0 { change / total } else { 0.0 },
        })
        .collect();
    importances.sort_by(|a, b| {
        b.importance
            .total_cmp(&a.importance)
            .then_with(|| a.feature.cmp(&b.feature))
    });
    importances
}

/// Mean of |after − before| over the first `rows` rows both have, skipping non-finite changes
/// (they count as no change); 0 for no rows.
fn mean_abs_change(before: &[f64], after: &[f64], rows: usize) -> f64 {
    let n = rows.min(before.len()).min(after.len());
    if n == 0 {
        return 0.0;
    }
    let sum: f64 = before[..n]
        .iter()
        .zip(&after[..n])
        .map(|(b, a)| (a - b).abs())
        .filter(|d| d.is_finite())
        .sum();
    sum / n as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|j| format!("f{j}")).collect()
    }

    /// 3 columns: an informative one, a weakly used one and one the scorer ignores.
    fn synthetic(rows: usize) -> Vec<f64> {
        (0..rows)
            .flat_map(|i| {
                let i = i as f64;
                [
                    libm::sin(i * 0.7) * 3.0,
                    libm::cos(i * 1.3),
                    (i * 0.37) % 1.0,
                ]
            })
            .collect()
    }

    fn scorer(data: &[f64]) -> Vec<f64> {
        data.chunks_exact(3)
            .map(|r| -r[0].abs() - 0.1 * r[1])
            .collect()
    }

    #[test]
    fn informative_feature_ranks_above_noise() {
        let data = synthetic(500);
        let result = permutation_importance(&data, 3, &names(3), &mut scorer, 42, 200);
        let order: Vec<&str> = result.iter().map(|f| f.feature.as_str()).collect();
        assert_eq!(order, ["f0", "f1", "f2"]);
        assert_eq!(result[2].importance, 0.0);
        assert!(result[0].importance > 0.8);
        let total: f64 = result.iter().map(|f| f.importance).sum();
        assert!((total - 1.0).abs() < 1e-12);
    }

    #[test]
    fn uses_at_most_max_rows_and_is_deterministic() {
        let data = synthetic(1_000);
        let mut calls = Vec::new();
        let mut counting = |m: &[f64]| {
            calls.push(m.len() / 3);
            scorer(m)
        };
        let a = permutation_importance(&data, 3, &names(3), &mut counting, 7, 64);
        assert_eq!(calls, [64; 4]);
        let b = permutation_importance(&data, 3, &names(3), &mut scorer, 7, 64);
        assert_eq!(a, b);
    }

    #[test]
    fn scores_that_ignore_every_feature_give_zero_importance() {
        let data = synthetic(50);
        let mut constant = |m: &[f64]| vec![0.5; m.len() / 3];
        let result = permutation_importance(&data, 3, &[], &mut constant, 1, 100);
        // Ties sort by name; missing names are filled in.
        let order: Vec<&str> = result.iter().map(|f| f.feature.as_str()).collect();
        assert_eq!(order, ["feature_0", "feature_1", "feature_2"]);
        assert!(result.iter().all(|f| f.importance == 0.0));
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        assert!(permutation_importance(&[1.0], 0, &[], &mut scorer, 0, 10).is_empty());
        let mut short = |_: &[f64]| vec![f64::NAN];
        let result = permutation_importance(&synthetic(10), 3, &names(3), &mut short, 0, 0);
        assert!(result.iter().all(|f| f.importance == 0.0));
    }
}
