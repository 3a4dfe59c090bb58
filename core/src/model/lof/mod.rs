//! Local Outlier Factor in novelty mode, faithful to scikit-learn's
//! `LocalOutlierFactor(novelty=True)` (`sklearn/neighbors/_lof.py`) with the Euclidean metric.
//!
//! Fitting finds, for each training row, its `k` nearest *other* training rows, where `k` is
//! `min(n_neighbors, n_rows − 1)`. A row's k-distance is the distance to its k-th neighbour,
//! `reach_dist(a, b) = max(dist(a, b), k_distance(b))`, its local reachability density is
//! `lrd = 1 / (mean reach_dist to its neighbours + 1e-10)` (the `1e-10` keeps duplicates finite)
//! and its negative outlier factor is `−mean(lrd(neighbour) / lrd(row))`: about −1 for inliers,
//! lower for outliers. A new row is scored the same way against its `k` nearest training rows.
//! `offset` is −1.5 for contamination "auto", else the `100 · contamination` percentile of the
//! training rows' negative outlier factors; a row is an anomaly when `score − offset < 0`.
//!
//! The arithmetic follows scikit-learn's: distances are `sqrt` of the squared differences
//! summed feature by feature (as its `KDTree` does), and means are numpy's pairwise sums
//! divided by `k`. On data where scikit-learn picks its k-d tree, every value comes out
//! bit-identical (see `core/tests/sklearn_lof_exactness.rs`). Neighbours are exact; ties in
//! squared distance go to the lower row index.
//!
//! **Cost.** LOF keeps its training rows: the model is `O(n_rows × n_features)`, fitting is a
//! k-nearest-neighbour query per training row (`O(n²)` distance computations at worst) and
//! scoring is one query per new row. So, beyond scikit-learn, at most
//! [`max_samples`](LofParams::max_samples) rows (default 10 000) are kept: a larger training
//! set is subsampled uniformly without replacement, seeded by
//! [`random_state`](LofParams::random_state). Queries go through a k-d tree along the rows'
//! principal axes that skips only what provably cannot hold a neighbour; on 41 correlated
//! features of synthetic WiFi logs it fits 10 000 rows in about 0.5 s and scores 100 000 rows
//! in about 3.5 s on one core. On uncorrelated data it degrades towards brute force.
//!
//! ```
//! use mcp_train_core::model::{LofParams, Matrix, OutlierDetector};
//!
//! // A small cloud around the origin.
//! let rows = [
//!     0.0, 0.1, 0.2, 0.0, -0.1, 0.1, 0.1, -0.2, -0.2, -0.1, 0.15, 0.2, -0.05, -0.15, 0.0, 0.0,
//! ];
//! let lof = LofParams::new().n_neighbors(3).fit(Matrix::new(&rows, 2).unwrap()).unwrap();
//!
//! // One new row in the cloud, one far from it.
//! let new = [0.05, 0.05, 3.0, -3.0];
//! let new = Matrix::new(&new, 2).unwrap();
//! assert_eq!(lof.predict(new).unwrap(), [1, -1]);
//! let scores = lof.score_samples(new).unwrap();
//! assert!(scores[1] < lof.offset() && lof.offset() < scores[0]);
//! ```

mod rotation;
mod search;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::check_count;
use super::sample::sample_without_replacement;
use super::{percentile, Matrix, ModelError};
use crate::config::{AutoOr, Contamination, LofConfig};
use search::{Nearest, NeighborIndex};

/// scikit-learn's default `n_neighbors`.
pub const DEFAULT_N_NEIGHBORS: u32 = 20;
/// The most neighbours a row may be compared with (the least is 1).
pub const N_NEIGHBORS_MAX: u32 = 10_000;
/// The default cap on training rows kept by a model.
pub const DEFAULT_MAX_SAMPLES: usize = 10_000;
/// Training values must not exceed this in magnitude, so that no squared distance overflows.
pub const MAX_ABS_VALUE: f64 = 1e100;
/// scikit-learn's guard against a zero mean reachability distance (more duplicates than `k`).
const LRD_EPSILON: f64 = 1e-10;

/// Local Outlier Factor hyperparameters: scikit-learn's `n_neighbors` and `contamination`,
/// plus `max_samples` and `random_state` for subsampling large training sets.
///
/// Build them from a [`LofConfig`] (which gives `max_samples` its default) or with the setters, then [`check`](Self::check) them (or call
/// [`fit`](Self::fit), which checks first).
// They hold their would-be checked form, as linfa's hyperparameters do, so that linfa's
// `ParamGuard::check_ref` can lend it once checked.
#[derive(Debug, Clone, PartialEq)]
pub struct LofParams(pub(super) ValidLofParams);

/// Checked [`LofParams`]: the only thing that fits a [`LocalOutlierFactor`].
#[derive(Debug, Clone, PartialEq)]
pub struct ValidLofParams {
    n_neighbors: u32,
    contamination: AutoOr<f64>,
    max_samples: usize,
    random_state: u64,
}

impl Default for LofParams {
    fn default() -> Self {
        LofParams(ValidLofParams {
            n_neighbors: DEFAULT_N_NEIGHBORS,
            contamination: AutoOr::Auto,
            max_samples: DEFAULT_MAX_SAMPLES,
            random_state: 0,
        })
    }
}

impl From<LofConfig> for LofParams {
    fn from(config: LofConfig) -> Self {
        LofParams::new()
            .n_neighbors(config.n_neighbors)
            .contamination(config.contamination)
            .random_state(config.random_state)
    }
}

impl LofParams {
    /// scikit-learn's defaults (`n_neighbors` 20, contamination "auto"), at most 10 000
    /// training rows, seed 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Neighbours per row, 1 to [`N_NEIGHBORS_MAX`]; capped at `n_rows − 1` when fitting.
    pub fn n_neighbors(mut self, n: u32) -> Self {
        self.0.n_neighbors = n;
        self
    }

    /// `Auto` (offset −1.5) or the expected share of anomalies in the training data, in (0, 0.5].
    pub fn contamination(mut self, c: AutoOr<f64>) -> Self {
        self.0.contamination = c;
        self
    }

    /// The most training rows a model keeps, at least 2 (default 10 000). LOF costs `O(n²)` to
    /// fit and `O(n)` memory and time per scored row, so larger training sets are subsampled.
    pub fn max_samples(mut self, m: usize) -> Self {
        self.0.max_samples = m;
        self
    }

    /// The seed of the subsample drawn when there are more than `max_samples` rows; the same
    /// seed and data give the same model on every platform.
    pub fn random_state(mut self, seed: u64) -> Self {
        self.0.random_state = seed;
        self
    }

    /// Range-checks every parameter; the error names the parameter and the bad value.
    pub fn check(&self) -> Result<ValidLofParams, ModelError> {
        self.validate()?;
        Ok(self.0.clone())
    }

    /// [`check`](Self::check) without the copy.
    pub(super) fn validate(&self) -> Result<(), ModelError> {
        let invalid = |name, message: String| Err(ModelError::InvalidParameter { name, message });
        if let Err(message) = check_count(self.0.n_neighbors, N_NEIGHBORS_MAX) {
            return invalid("n_neighbors", message);
        }
        if let Err(e) = AutoOr::<Contamination>::try_from_f64(self.0.contamination) {
            return invalid("contamination", e.to_string());
        }
        if self.0.max_samples < 2 {
            return invalid(
                "max_samples",
                format!("{} must be at least 2", self.0.max_samples),
            );
        }
        if u32::try_from(self.0.max_samples).is_err() {
            return invalid(
                "max_samples",
                format!("{} is more than {} rows", self.0.max_samples, u32::MAX),
            );
        }
        Ok(())
    }

    /// Checks the parameters and fits a model on `x`.
    pub fn fit(&self, x: Matrix<'_>) -> Result<LocalOutlierFactor, ModelError> {
        self.check()?.fit(x)
    }
}

impl ValidLofParams {
    /// Neighbours per row, before the cap at `n_rows − 1`.
    pub fn n_neighbors(&self) -> u32 {
        self.n_neighbors
    }

    /// `Auto` or the expected share of anomalies.
    pub fn contamination(&self) -> AutoOr<f64> {
        self.contamination
    }

    /// The most training rows a model keeps.
    pub fn max_samples(&self) -> usize {
        self.max_samples
    }

    /// The subsampling seed.
    pub fn random_state(&self) -> u64 {
        self.random_state
    }

    /// Fits a model on the rows of `x` (already scaled), or on a seeded subsample of
    /// `max_samples` of them.
    ///
    /// Errors: fewer than 2 rows (LOF compares each row with others), or a value beyond
    /// ±[`MAX_ABS_VALUE`].
    pub fn fit(&self, x: Matrix<'_>) -> Result<LocalOutlierFactor, ModelError> {
        let n_rows = x.n_rows();
        if n_rows < 2 {
            return Err(ModelError::InvalidParameter {
                name: "n_samples",
                message: format!("LOF needs at least 2 training rows, found {n_rows}"),
            });
        }
        if let Some(i) = x.as_slice().iter().position(|v| v.abs() > MAX_ABS_VALUE) {
            return Err(too_large(i, x.n_cols(), x.as_slice()[i]));
        }
        let n_features = x.n_cols();
        let train: Vec<f64> = if n_rows > self.max_samples {
            let mut rng = ChaCha8Rng::seed_from_u64(self.random_state);
            sample_without_replacement(&mut rng, n_rows, self.max_samples)
                .into_iter()
                .flat_map(|i| x.row(i))
                .copied()
                .collect()
        } else {
            x.as_slice().to_vec()
        };
        let n_train = train.len() / n_features;
        let k = (self.n_neighbors as usize).min(n_train - 1);
        let index = NeighborIndex::new(&train, n_features);

        // Each row's neighbours among the other rows, nearest first, and their distances.
        let mut neighbors = vec![0u32; n_train * k];
        let mut distances = vec![0.0f64; n_train * k];
        let mut best = Nearest::new(k);
        let mut seeds = Vec::with_capacity(k);
        for i in index.leaf_order(&train, &mut best) {
            let row = &train[i * n_features..(i + 1) * n_features];
            index.search(row, Some(i as u32), &seeds, &mut best);
            seeds.clear();
            seeds.extend(best.items().iter().map(|&(_, r)| r));
            let span = i * k..(i + 1) * k;
            for ((n, dist), &(d2, r)) in neighbors[span.clone()]
                .iter_mut()
                .zip(&mut distances[span])
                .zip(best.items())
            {
                *n = r;
                *dist = libm::sqrt(d2);
            }
        }
        let k_distance: Vec<f64> = distances.chunks_exact(k).map(|d| d[k - 1]).collect();

        let mut terms = vec![0.0; k];
        let lrd: Vec<f64> = neighbors
            .chunks_exact(k)
            .zip(distances.chunks_exact(k))
            .map(|(nbrs, dists)| local_reachability_density(nbrs, dists, &k_distance, &mut terms))
            .collect();
        let negative_outlier_factor: Vec<f64> = neighbors
            .chunks_exact(k)
            .zip(&lrd)
            .map(|(nbrs, &own)| negative_outlier_factor(nbrs, own, &lrd, &mut terms))
            .collect();

        let offset = match self.contamination {
            AutoOr::Auto => -1.5,
            AutoOr::Value(c) => {
                percentile(&negative_outlier_factor, 100.0 * c).ok_or_else(|| {
                    ModelError::InvalidParameter {
                        name: "contamination",
                        message: format!("{c} gives no percentile of the training scores"),
                    }
                })?
            }
        };
        LocalOutlierFactor::from_state(LofState {
            n_features,
            n_neighbors: k,
            offset,
            train,
            k_distance,
            lrd,
            negative_outlier_factor,
        })
    }
}

fn too_large(i: usize, n_cols: usize, value: f64) -> ModelError {
    ModelError::InvalidParameter {
        name: "x",
        message: format!(
            "value {value:e} at row {}, column {} is beyond ±{MAX_ABS_VALUE:e}, \
             where squared distances could overflow",
            i / n_cols,
            i % n_cols
        ),
    }
}

/// numpy's pairwise summation (`pairwise_sum_DOUBLE`), which `np.mean(a, axis=1)` applies to
/// each row: plain below 8 values, eight interleaved partial sums up to 128, halves beyond.
fn numpy_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut s = 0.0;
        for &v in a {
            s += v;
        }
        s
    } else if n <= 128 {
        let mut r = [0.0; 8];
        r.copy_from_slice(&a[..8]);
        let whole = n - n % 8;
        for chunk in a[8..whole].chunks_exact(8) {
            for (r, &v) in r.iter_mut().zip(chunk) {
                *r += v;
            }
        }
        let mut s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &a[whole..] {
            s += v;
        }
        s
    } else {
        let half = n / 2;
        let half = half - half % 8;
        numpy_sum(&a[..half]) + numpy_sum(&a[half..])
    }
}

/// `1 / (mean(max(dist, k_distance[neighbour])) + 1e-10)`, as scikit-learn's
/// `_local_reachability_density`; `terms` is scratch space of `neighbors.len()` values.
fn local_reachability_density(
    neighbors: &[u32],
    distances: &[f64],
    k_distance: &[f64],
    terms: &mut [f64],
) -> f64 {
    for ((t, &n), &d) in terms.iter_mut().zip(neighbors).zip(distances) {
        *t = d.max(k_distance[n as usize]);
    }
    1.0 / (numpy_sum(terms) / terms.len() as f64 + LRD_EPSILON)
}

/// `−mean(lrd[neighbour] / own_lrd)`; `terms` is scratch space of `neighbors.len()` values.
fn negative_outlier_factor(neighbors: &[u32], own_lrd: f64, lrd: &[f64], terms: &mut [f64]) -> f64 {
    for (t, &n) in terms.iter_mut().zip(neighbors) {
        *t = lrd[n as usize] / own_lrd;
    }
    -(numpy_sum(terms) / terms.len() as f64)
}

/// A fitted Local Outlier Factor (novelty mode).
///
/// Serialises as `{n_features, n_neighbors, offset, train, k_distance, lrd,
/// negative_outlier_factor}`, with the training rows flat and row-major. Deserialising checks
/// lengths and ranges, so a corrupted model file is an error, never a panic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "LofState", into = "LofState")]
pub struct LocalOutlierFactor {
    state: LofState,
    /// The training rows arranged for neighbour queries; derived from `state.train`.
    index: NeighborIndex,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LofState {
    n_features: usize,
    /// scikit-learn's `n_neighbors_`: the `k` actually used.
    n_neighbors: usize,
    offset: f64,
    /// The training rows, row-major.
    train: Vec<f64>,
    /// Per training row: the distance to its k-th nearest other training row.
    k_distance: Vec<f64>,
    /// Per training row: its local reachability density.
    lrd: Vec<f64>,
    /// Per training row: scikit-learn's `negative_outlier_factor_`.
    negative_outlier_factor: Vec<f64>,
}

impl TryFrom<LofState> for LocalOutlierFactor {
    type Error = ModelError;
    fn try_from(state: LofState) -> Result<Self, ModelError> {
        LocalOutlierFactor::from_state(state)
    }
}

impl From<LocalOutlierFactor> for LofState {
    fn from(model: LocalOutlierFactor) -> Self {
        model.state
    }
}

impl LocalOutlierFactor {
    fn from_state(s: LofState) -> Result<LocalOutlierFactor, ModelError> {
        let invalid = |m: String| Err(ModelError::InvalidModel(m));
        if s.n_features == 0 {
            return invalid("the model has 0 features".into());
        }
        let n_train = s.k_distance.len();
        if n_train < 2 || u32::try_from(n_train).is_err() {
            return invalid(format!(
                "{n_train} training rows; LOF needs 2 to {}",
                u32::MAX
            ));
        }
        if s.n_features.checked_mul(n_train) != Some(s.train.len()) {
            return invalid(format!(
                "{} training values are not {n_train} rows of {} features",
                s.train.len(),
                s.n_features
            ));
        }
        for (name, len) in [
            ("lrd", s.lrd.len()),
            ("negative_outlier_factor", s.negative_outlier_factor.len()),
        ] {
            if len != n_train {
                return invalid(format!(
                    "{len} values of {name} for {n_train} training rows"
                ));
            }
        }
        if !(1..n_train).contains(&s.n_neighbors) {
            return invalid(format!(
                "n_neighbors {} is not in [1, {}] for {n_train} training rows",
                s.n_neighbors,
                n_train - 1
            ));
        }
        if !s.offset.is_finite() {
            return invalid(format!("offset {} is not finite", s.offset));
        }
        if let Some(i) = s
            .train
            .iter()
            .position(|v| !v.is_finite() || v.abs() > MAX_ABS_VALUE)
        {
            return invalid(format!(
                "training value {:e} at row {}, column {} is not finite or beyond ±{MAX_ABS_VALUE:e}",
                s.train[i],
                i / s.n_features,
                i % s.n_features
            ));
        }
        type InRange = fn(&f64) -> bool;
        let columns: [(&str, &[f64], InRange); 3] = [
            ("k_distance", &s.k_distance, |v| v.is_finite() && *v >= 0.0),
            ("lrd", &s.lrd, |v| v.is_finite() && *v > 0.0),
            ("negative_outlier_factor", &s.negative_outlier_factor, |v| {
                v.is_finite() && *v <= 0.0
            }),
        ];
        for (name, values, in_range) in columns {
            if let Some(i) = values.iter().position(|v| !in_range(v)) {
                return invalid(format!("{name} of training row {i} is {}", values[i]));
            }
        }
        let index = NeighborIndex::new(&s.train, s.n_features);
        Ok(LocalOutlierFactor { state: s, index })
    }

    /// The number of features the model was fitted on.
    pub fn n_features(&self) -> usize {
        self.state.n_features
    }

    /// The number of neighbours actually used (scikit-learn's `n_neighbors_`):
    /// `min(n_neighbors, n_training_rows − 1)`.
    pub fn n_neighbors(&self) -> usize {
        self.state.n_neighbors
    }

    /// The number of training rows the model keeps (scikit-learn's `n_samples_fit_`).
    pub fn n_samples_fit(&self) -> usize {
        self.state.k_distance.len()
    }

    /// The training rows the model keeps, row-major (a subsample when the data had more than
    /// `max_samples` rows).
    pub fn training_rows(&self) -> &[f64] {
        &self.state.train
    }

    /// The threshold on `score_samples`: −1.5 for contamination "auto", else the
    /// contamination percentile of [`negative_outlier_factor`](Self::negative_outlier_factor)
    /// (scikit-learn's `offset_`).
    pub fn offset(&self) -> f64 {
        self.state.offset
    }

    /// The score of each training row, against the other training rows (scikit-learn's
    /// `negative_outlier_factor_`). Scoring training rows with
    /// [`score_samples`](super::OutlierDetector::score_samples) instead counts each row as its
    /// own neighbour.
    pub fn negative_outlier_factor(&self) -> &[f64] {
        &self.state.negative_outlier_factor
    }

    /// [`score_samples`](super::OutlierDetector::score_samples) into a caller's buffer of
    /// `x.n_rows()` scores, so large inputs can be scored chunk by chunk; nothing is allocated
    /// per row.
    pub fn score_samples_into(&self, x: Matrix<'_>, out: &mut [f64]) -> Result<(), ModelError> {
        if x.n_cols() != self.state.n_features {
            return Err(ModelError::FeatureCountMismatch {
                expected: self.state.n_features,
                found: x.n_cols(),
            });
        }
        if out.len() != x.n_rows() {
            return Err(ModelError::InvalidParameter {
                name: "out",
                message: format!("buffer of {} scores for {} rows", out.len(), x.n_rows()),
            });
        }
        let k = self.state.n_neighbors;
        let mut best = Nearest::new(k);
        let mut neighbors = Vec::with_capacity(k);
        let mut distances = vec![0.0; k];
        let mut terms = vec![0.0; k];
        // Neighbouring rows one after another: each search starts from the previous one's
        // neighbours.
        for i in self.index.leaf_order(x.as_slice(), &mut best) {
            let row = x.row(i);
            let score = &mut out[i];
            self.index.search(row, None, &neighbors, &mut best);
            neighbors.clear();
            for (d, &(d2, r)) in distances.iter_mut().zip(best.items()) {
                neighbors.push(r);
                *d = libm::sqrt(d2);
            }
            let own = local_reachability_density(
                &neighbors,
                &distances,
                &self.state.k_distance,
                &mut terms,
            );
            *score = negative_outlier_factor(&neighbors, own, &self.state.lrd, &mut terms);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
