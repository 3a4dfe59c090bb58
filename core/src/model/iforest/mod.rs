//! Isolation Forest, faithful to scikit-learn's `sklearn/ensemble/_iforest.py`.
//!
//! Fitting draws a subsample of rows (and optionally of features) per tree and grows each tree
//! with random splits up to depth ceil(log2(max_samples)). Scoring follows scikit-learn's float
//! operations in order: per tree `(depth_in_nodes + c(n_leaf)) - 1`, summed tree by tree, divided
//! by `n_trees * c(max_samples)`, and `score_samples = -2^(-mean)`. As in scikit-learn the trees
//! see every value rounded to `float32`. A forest fitted by scikit-learn can be loaded with
//! [`IsolationForest::from_parts`] and scores identically (see `core/tests/sklearn_exactness.rs`).

mod complete;
mod path;
mod tree;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use complete::CompleteForest;

use super::check_count;
use super::sample::sample_without_replacement;
use super::OutlierDetector;
use super::{percentile, Matrix, ModelError};
use crate::config::{AutoOr, Contamination, IsolationForestConfig, MaxSamples};

pub use path::{average_path_length, max_depth};
pub use tree::{IsolationTree, LEAF_THRESHOLD, TREE_LEAF, TREE_UNDEFINED};

/// The most trees a forest may have (the least is 1).
pub const N_ESTIMATORS_MAX: u32 = 10_000;

/// Isolation Forest hyperparameters, named and defaulted as in scikit-learn (`random_state` 0).
///
/// Build them from an [`IsolationForestConfig`] or with the setters, then [`check`](Self::check)
/// them (or call [`fit`](Self::fit), which checks first).
// They hold their would-be checked form, as linfa's hyperparameters do, so that linfa's
// `ParamGuard::check_ref` can lend it once checked.
#[derive(Debug, Clone, PartialEq)]
pub struct IsolationForestParams(pub(super) ValidIsolationForestParams);

/// Checked [`IsolationForestParams`]: the only thing that fits a forest.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidIsolationForestParams(IsolationForestConfig);

impl Default for IsolationForestParams {
    fn default() -> Self {
        IsolationForestParams(ValidIsolationForestParams(IsolationForestConfig {
            n_estimators: 100,
            max_samples: MaxSamples::Auto,
            contamination: AutoOr::Auto,
            max_features: 1.0,
            bootstrap: false,
            random_state: 0,
        }))
    }
}

impl From<IsolationForestConfig> for IsolationForestParams {
    fn from(config: IsolationForestConfig) -> Self {
        IsolationForestParams(ValidIsolationForestParams(config))
    }
}

impl IsolationForestParams {
    /// scikit-learn's defaults with `random_state` 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of trees, 1 to [`N_ESTIMATORS_MAX`].
    pub fn n_estimators(mut self, n: u32) -> Self {
        self.0 .0.n_estimators = n;
        self
    }

    /// Rows drawn per tree: `Auto` = min(256, n), a count (capped at n), or a fraction of n.
    pub fn max_samples(mut self, m: MaxSamples) -> Self {
        self.0 .0.max_samples = m;
        self
    }

    /// `Auto` (offset −0.5) or the expected share of anomalies in the training data, in (0, 0.5].
    pub fn contamination(mut self, c: AutoOr<f64>) -> Self {
        self.0 .0.contamination = c;
        self
    }

    /// Fraction of the features each tree may split on, in (0, 1].
    pub fn max_features(mut self, f: f64) -> Self {
        self.0 .0.max_features = f;
        self
    }

    /// Draw each tree's rows with replacement.
    pub fn bootstrap(mut self, b: bool) -> Self {
        self.0 .0.bootstrap = b;
        self
    }

    /// The seed; the same seed and data give the same forest on every platform.
    pub fn random_state(mut self, seed: u64) -> Self {
        self.0 .0.random_state = seed;
        self
    }

    /// The parameters as configured.
    pub fn config(&self) -> &IsolationForestConfig {
        &self.0 .0
    }

    /// Range-checks every parameter; the error names the parameter and the bad value.
    pub fn check(&self) -> Result<ValidIsolationForestParams, ModelError> {
        self.validate()?;
        Ok(self.0.clone())
    }

    /// [`check`](Self::check) without the copy.
    pub(super) fn validate(&self) -> Result<(), ModelError> {
        let c = &self.0 .0;
        let invalid = |name, message: String| Err(ModelError::InvalidParameter { name, message });
        if let Err(message) = check_count(c.n_estimators, N_ESTIMATORS_MAX) {
            return invalid("n_estimators", message);
        }
        if let Err(message) = c.max_samples.check() {
            return invalid("max_samples", message);
        }
        if let Err(e) = AutoOr::<Contamination>::try_from_f64(c.contamination) {
            return invalid("contamination", e.to_string());
        }
        if !(c.max_features > 0.0 && c.max_features <= 1.0) {
            return invalid(
                "max_features",
                format!("{} is not a fraction in (0, 1]", c.max_features),
            );
        }
        Ok(())
    }

    /// Checks the parameters and fits a forest on `x`.
    pub fn fit(&self, x: Matrix<'_>) -> Result<IsolationForest, ModelError> {
        self.check()?.fit(x)
    }
}

impl ValidIsolationForestParams {
    /// The checked parameters.
    pub fn config(&self) -> &IsolationForestConfig {
        &self.0
    }

    /// The number of rows each tree is grown on for `n_rows` training rows, as scikit-learn's
    /// `max_samples_`.
    pub fn max_samples_for(&self, n_rows: usize) -> Result<usize, ModelError> {
        let m = match self.0.max_samples {
            MaxSamples::Auto => n_rows.min(256),
            // scikit-learn warns and uses all rows when asked for more than there are.
            MaxSamples::Count(c) => usize::try_from(c).map_or(n_rows, |c| c.min(n_rows)),
            // int(fraction * n): truncation, as Python's int().
            MaxSamples::Fraction(f) => match (f * n_rows as f64) as usize {
                0 => {
                    return Err(ModelError::InvalidParameter {
                        name: "max_samples",
                        message: format!("{f} of {n_rows} rows is 0 rows"),
                    })
                }
                m => m,
            },
        };
        // Auto and counts give at least one row for the at least one row of a Matrix.
        Ok(m.max(1))
    }

    /// Fits a forest on the rows of `x`.
    ///
    /// Errors: a value outside the `float32` range (the trees work on `float32`, as
    /// scikit-learn's), or `max_samples` amounting to 0 rows.
    pub fn fit(&self, x: Matrix<'_>) -> Result<IsolationForest, ModelError> {
        let c = &self.0;
        if let Some(i) = x
            .as_slice()
            .iter()
            .position(|v| v.abs() > f64::from(f32::MAX))
        {
            return Err(ModelError::OutOfFloat32Range {
                row: i / x.n_cols(),
                col: i % x.n_cols(),
                value: x.as_slice()[i],
            });
        }
        let n_rows = x.n_rows();
        let n_features = x.n_cols();
        let max_samples = self.max_samples_for(n_rows)?;
        let depth_limit = max_depth(max_samples as u64);
        // max(1, int(max_features * n_features)), as scikit-learn's bagging.
        let n_tree_features = ((c.max_features * n_features as f64) as usize).clamp(1, n_features);

        // One seed per tree from the forest's generator, so each tree depends only on its own.
        let mut rng = ChaCha8Rng::seed_from_u64(c.random_state);
        let mut trees = Vec::with_capacity(c.n_estimators as usize);
        for _ in 0..c.n_estimators {
            let mut tree_rng = ChaCha8Rng::seed_from_u64(rng.gen::<u64>());
            let mut features =
                sample_without_replacement(&mut tree_rng, n_features, n_tree_features);
            let mut samples = if c.bootstrap {
                // scikit-learn passes bootstrap draws to the tree as sample weights, so a tree
                // holds each drawn row once and counts distinct rows in n_node_samples.
                let mut s: Vec<usize> = (0..max_samples)
                    .map(|_| tree_rng.gen_range(0..n_rows as u64) as usize)
                    .collect();
                s.sort_unstable();
                s.dedup();
                s
            } else {
                sample_without_replacement(&mut tree_rng, n_rows, max_samples)
            };
            trees.push(tree::grow(
                x,
                &mut samples,
                &mut features,
                depth_limit,
                &mut tree_rng,
            ));
        }
        let mut forest = IsolationForest::from_parts(trees, max_samples, -0.5, n_features)?;
        if let AutoOr::Value(contamination) = c.contamination {
            let scores = forest.score_samples(x)?;
            forest.offset = percentile(&scores, 100.0 * contamination).ok_or_else(|| {
                ModelError::InvalidParameter {
                    name: "contamination",
                    message: format!("{contamination} gives no percentile of the training scores"),
                }
            })?;
        }
        Ok(forest)
    }
}

/// A fitted Isolation Forest.
///
/// Serialises as `{n_features, max_samples, offset, trees}` with the trees in scikit-learn's
/// flat layout; deserialising checks every tree, so a corrupted model file is an error, never a
/// panic or a wrong score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ForestState", into = "ForestState")]
pub struct IsolationForest {
    n_features: usize,
    max_samples: usize,
    offset: f64,
    trees: Vec<IsolationTree>,
    /// The trees re-laid out for scoring; derived from `trees`.
    compiled: Compiled,
    /// The faster layout, for forests it fits (derived from `trees`).
    complete: Option<CompleteForest>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ForestState {
    n_features: usize,
    max_samples: usize,
    offset: f64,
    trees: Vec<IsolationTree>,
}

impl TryFrom<ForestState> for IsolationForest {
    type Error = ModelError;
    fn try_from(s: ForestState) -> Result<Self, ModelError> {
        IsolationForest::from_parts(s.trees, s.max_samples, s.offset, s.n_features)
    }
}

impl From<IsolationForest> for ForestState {
    fn from(f: IsolationForest) -> Self {
        ForestState {
            n_features: f.n_features,
            max_samples: f.max_samples,
            offset: f.offset,
            trees: f.trees,
        }
    }
}

/// A node in the scoring layout. Children sit side by side (`left`, `left + 1`) so the next
/// node is `left + (x > threshold)`, with no branch. A leaf points at itself with an infinite
/// threshold, so walking on past it is harmless: every tree is walked a fixed number of steps
/// (its depth), which lets several rows advance in lockstep.
///
/// Rows reach the trees as `float32`, so the `float64` threshold `t` is stored as the largest
/// `float32` at or below it: for any `float32` x, `x <= t` exactly when `x <= that`. Comparing
/// in `float32` halves the memory the walk touches without changing a single decision.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Node {
    threshold: f32,
    feature: u32,
    left: u32,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Compiled {
    nodes: Vec<Node>,
    /// Per node: what reaching it adds to a row's summed path length, in scikit-learn's order:
    /// `(depth counted in nodes + c(n_node_samples)) - 1`; only read at leaves.
    leaf_value: Vec<f64>,
    /// Per tree: root index in `nodes` and depth (steps from the root to the deepest leaf).
    roots: Vec<(u32, u32)>,
}

impl Compiled {
    fn new(trees: &[IsolationTree], depths: &[Vec<u32>]) -> Result<Compiled, ModelError> {
        let total: usize = trees.iter().map(IsolationTree::node_count).sum();
        if u32::try_from(total).is_err() {
            return Err(ModelError::InvalidModel(format!(
                "{total} nodes are more than a forest can hold"
            )));
        }
        let mut c = Compiled {
            nodes: Vec::with_capacity(total),
            leaf_value: Vec::with_capacity(total),
            roots: Vec::with_capacity(trees.len()),
        };
        for (tree, depth) in trees.iter().zip(depths) {
            let root = c.nodes.len();
            c.roots
                .push((root as u32, depth.iter().copied().max().unwrap_or(0)));
            // Breadth-first, allocating both children of a node together. `order[k]` is the
            // tree's node stored at `root + k`.
            let mut order = vec![0usize];
            let mut k = 0;
            while k < order.len() {
                let i = order[k];
                let at = (root + k) as u32;
                let n_leaf = tree.n_node_samples[i];
                c.leaf_value
                    .push((f64::from(depth[i] + 1) + average_path_length(n_leaf)) - 1.0);
                if tree.is_leaf(i) {
                    c.nodes.push(Node {
                        threshold: f32::INFINITY,
                        feature: 0,
                        left: at,
                    });
                } else {
                    c.nodes.push(Node {
                        threshold: f32_at_or_below(tree.threshold[i]),
                        // Checked: 0 <= feature < n_features, children in range.
                        feature: tree.feature[i] as u32,
                        left: (root + order.len()) as u32,
                    });
                    order.push(tree.children_left[i] as usize);
                    order.push(tree.children_right[i] as usize);
                }
                k += 1;
            }
        }
        Ok(c)
    }
}

/// The largest `float32` that is `<= t`; `t` is not NaN.
fn f32_at_or_below(t: f64) -> f32 {
    let nearest = t as f32;
    if f64::from(nearest) <= t {
        return nearest;
    }
    // One step down (`f32::next_down`, stable only since Rust 1.86).
    let bits = nearest.to_bits();
    if nearest == 0.0 {
        -f32::from_bits(1)
    } else if nearest > 0.0 {
        f32::from_bits(bits - 1)
    } else {
        f32::from_bits(bits + 1)
    }
}

/// Rows walked through a tree in lockstep: independent walks the CPU overlaps.
const LANES: usize = 8;
/// Rows scored per pass over the trees (a multiple of `LANES`): each tree's nodes stay in the
/// L1 cache while all of these rows walk it.
const BLOCK_ROWS: usize = 256;

impl IsolationForest {
    /// Assembles a forest from fitted trees — for example scikit-learn's, with each tree's
    /// `feature` mapped back to the original columns through `estimators_features_`.
    ///
    /// `max_samples` is scikit-learn's `max_samples_` and `offset` its `offset_`. Every tree is
    /// checked (see [`IsolationTree`]); `n_features` must be at least 1 and `offset` finite.
    pub fn from_parts(
        trees: Vec<IsolationTree>,
        max_samples: usize,
        offset: f64,
        n_features: usize,
    ) -> Result<IsolationForest, ModelError> {
        if trees.is_empty() {
            return Err(ModelError::InvalidModel("the forest has no trees".into()));
        }
        if n_features == 0 {
            return Err(ModelError::InvalidModel("the forest has 0 features".into()));
        }
        if max_samples == 0 {
            return Err(ModelError::InvalidModel("max_samples is 0".into()));
        }
        if !offset.is_finite() {
            return Err(ModelError::InvalidModel(format!(
                "offset {offset} is not finite"
            )));
        }
        let depths = trees
            .iter()
            .enumerate()
            .map(|(t, tree)| {
                tree.check(n_features)
                    .map_err(|e| ModelError::InvalidModel(format!("tree {t}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let compiled = Compiled::new(&trees, &depths)?;
        let complete = CompleteForest::new(&trees, &depths, n_features);
        Ok(IsolationForest {
            n_features,
            max_samples,
            offset,
            trees,
            compiled,
            complete,
        })
    }

    /// The number of features the forest was fitted on.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Rows each tree was grown on (scikit-learn's `max_samples_`).
    pub fn max_samples(&self) -> usize {
        self.max_samples
    }

    /// The threshold on `score_samples`: −0.5 for contamination "auto", else the
    /// contamination percentile of the training scores (scikit-learn's `offset_`).
    pub fn offset(&self) -> f64 {
        self.offset
    }

    /// The trees, in scikit-learn's flat layout.
    pub fn trees(&self) -> &[IsolationTree] {
        &self.trees
    }

    /// The number of trees.
    pub fn n_estimators(&self) -> usize {
        self.trees.len()
    }

    /// Scores (scikit-learn's `score_samples`: in [−1, 0), lower is more abnormal) into a caller's buffer of `x.n_rows()` scores, so
    /// large inputs can be scored chunk by chunk without allocating per chunk.
    pub fn score_samples_into(&self, x: Matrix<'_>, out: &mut [f64]) -> Result<(), ModelError> {
        self.check_width(x.n_cols())?;
        if out.len() != x.n_rows() {
            return Err(ModelError::InvalidParameter {
                name: "out",
                message: format!("buffer of {} scores for {} rows", out.len(), x.n_rows()),
            });
        }
        let n_cols = self.n_features;
        let denominator = self.denominator();
        if let Some(complete) = &self.complete {
            complete.path_sums(x.as_slice(), n_cols, out);
            for score in out.iter_mut() {
                *score = score_from_path_sum(*score, denominator);
            }
            return Ok(());
        }
        let mut values = vec![0.0f32; BLOCK_ROWS * n_cols];
        let mut sums = vec![0.0f64; BLOCK_ROWS];
        for (rows, scores) in x
            .as_slice()
            .chunks(BLOCK_ROWS * n_cols)
            .zip(out.chunks_mut(BLOCK_ROWS))
        {
            for (dst, &src) in values.iter_mut().zip(rows) {
                *dst = src as f32;
            }
            // A short last block is walked in whole lanes; the extra rows hold finite values
            // left from the previous block (or zeros) and their sums are dropped.
            let walked = scores.len().div_ceil(LANES) * LANES;
            self.path_sums(&values[..walked * n_cols], &mut sums[..walked]);
            for (score, &sum) in scores.iter_mut().zip(&sums) {
                *score = score_from_path_sum(sum, denominator);
            }
        }
        Ok(())
    }

    /// The score of one row (see [`score_samples`](Self::score_samples)).
    pub fn score_row(&self, row: &[f64]) -> Result<f64, ModelError> {
        self.check_width(row.len())?;
        if let Some(col) = row.iter().position(|v| !v.is_finite()) {
            return Err(ModelError::NonFinite {
                row: 0,
                col,
                value: row[col],
            });
        }
        // The same walk as `path_sums`, for one row and without a buffer.
        let nodes = &self.compiled.nodes;
        let mut sum = 0.0;
        for &(root, depth) in &self.compiled.roots {
            let mut at = root;
            for _ in 0..depth {
                let node = nodes[at as usize];
                let v = row[node.feature as usize] as f32;
                at = node.left + u32::from(v > node.threshold);
            }
            sum += self.compiled.leaf_value[at as usize];
        }
        Ok(score_from_path_sum(sum, self.denominator()))
    }

    fn check_width(&self, found: usize) -> Result<(), ModelError> {
        if found != self.n_features {
            return Err(ModelError::FeatureCountMismatch {
                expected: self.n_features,
                found,
            });
        }
        Ok(())
    }

    /// n_trees · c(max_samples), as scikit-learn's `denominator`.
    fn denominator(&self) -> f64 {
        self.trees.len() as f64 * average_path_length(self.max_samples as u64)
    }

    /// Summed path lengths of the rows in `values` (row-major `float32`, a whole number of
    /// `LANES` rows) into `sums`, tree by tree in order, exactly as scikit-learn accumulates
    /// `depths`.
    fn path_sums(&self, values: &[f32], sums: &mut [f64]) {
        let n_cols = self.n_features;
        let nodes = &self.compiled.nodes;
        let leaf_value = &self.compiled.leaf_value;
        sums.fill(0.0);
        for &(root, depth) in &self.compiled.roots {
            for (lanes, lane_sums) in values
                .chunks_exact(LANES * n_cols)
                .zip(sums.chunks_exact_mut(LANES))
            {
                let mut at = [root; LANES];
                for _ in 0..depth {
                    for (k, a) in at.iter_mut().enumerate() {
                        let node = nodes[*a as usize];
                        let v = lanes[k * n_cols + node.feature as usize];
                        *a = node.left + u32::from(v > node.threshold);
                    }
                }
                for (sum, &a) in lane_sums.iter_mut().zip(&at) {
                    *sum += leaf_value[a as usize];
                }
            }
        }
    }
}

/// scikit-learn's `-(2 ** -(depths / denominator))`, where a zero denominator (one training
/// row: every depth is 0 too) counts as a quotient of 1.
///
/// `exp2` rather than `pow(2, _)`: libm's `exp2` agrees bit for bit with glibc's (correctly
/// rounded) `pow(2, _)` that numpy calls, where libm's general `pow` is off by an ulp more often.
fn score_from_path_sum(sum: f64, denominator: f64) -> f64 {
    let quotient = if denominator != 0.0 {
        sum / denominator
    } else {
        1.0
    };
    -libm::exp2(-quotient)
}

#[cfg(test)]
mod tests;
