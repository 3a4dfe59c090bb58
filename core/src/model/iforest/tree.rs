//! One isolation tree: growing it (scikit-learn's `ExtraTreeRegressor(max_features=1,
//! splitter="random")` as Isolation Forest uses it) and its stored form.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::model::Matrix;

/// `children_left` / `children_right` of a leaf, as scikit-learn's `TREE_LEAF`.
pub const TREE_LEAF: i64 = -1;
/// `feature` of a leaf, as scikit-learn's `TREE_UNDEFINED`.
pub const TREE_UNDEFINED: i64 = -2;
/// `threshold` of a leaf, as scikit-learn stores it.
pub const LEAF_THRESHOLD: f64 = -2.0;

/// scikit-learn treats a feature as constant in a node when its `float32` range is at most this
/// (`FEATURE_THRESHOLD` in `sklearn/tree/_partitioner.pxd`).
const FEATURE_THRESHOLD: f32 = 1e-7;

/// One isolation tree in scikit-learn's flat `tree_` layout: node `i` has `children_left[i]`,
/// `children_right[i]` (both [`TREE_LEAF`] for a leaf), the split `feature[i]` (an original
/// column index; [`TREE_UNDEFINED`] for a leaf) and `threshold[i]`, and `n_node_samples[i]`
/// distinct training rows reached it. Node 0 is the root; a row goes left when its value,
/// rounded to `float32`, is `<= threshold`.
///
/// The fields are public so a tree fitted elsewhere can be assembled; it is checked when it
/// joins an [`IsolationForest`](super::IsolationForest).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IsolationTree {
    /// Left child of each node, or [`TREE_LEAF`].
    pub children_left: Vec<i64>,
    /// Right child of each node, or [`TREE_LEAF`].
    pub children_right: Vec<i64>,
    /// Column each node splits on, or [`TREE_UNDEFINED`] for a leaf.
    pub feature: Vec<i64>,
    /// Split value of each node; rows with a value `<=` it go left.
    pub threshold: Vec<f64>,
    /// Distinct training rows that reached each node.
    pub n_node_samples: Vec<u64>,
}

impl IsolationTree {
    /// The number of nodes.
    pub fn node_count(&self) -> usize {
        self.children_left.len()
    }

    /// Whether node `i` is a leaf.
    pub fn is_leaf(&self, i: usize) -> bool {
        self.children_left.get(i) == Some(&TREE_LEAF)
    }

    fn push_leaf(&mut self, n_samples: usize) -> usize {
        self.children_left.push(TREE_LEAF);
        self.children_right.push(TREE_LEAF);
        self.feature.push(TREE_UNDEFINED);
        self.threshold.push(LEAF_THRESHOLD);
        self.n_node_samples.push(n_samples as u64);
        self.children_left.len() - 1
    }

    /// Checks the structure and returns each node's depth (root 0).
    ///
    /// A valid tree has five arrays of one non-zero length; every split node has two distinct
    /// children with larger indices (scikit-learn numbers nodes depth-first, so this holds for
    /// its trees and rules out cycles), a feature below `n_features` and a finite threshold; and
    /// every node but the root has exactly one parent.
    pub(crate) fn check(&self, n_features: usize) -> Result<Vec<u32>, String> {
        let n = self.children_left.len();
        if n == 0 {
            return Err("tree has no nodes".into());
        }
        let lengths = [
            self.children_right.len(),
            self.feature.len(),
            self.threshold.len(),
            self.n_node_samples.len(),
        ];
        if lengths.iter().any(|&l| l != n) {
            return Err(format!(
                "tree arrays have different lengths: children_left {n}, children_right {}, \
                 feature {}, threshold {}, n_node_samples {}",
                lengths[0], lengths[1], lengths[2], lengths[3]
            ));
        }
        let mut depth = vec![0u32; n];
        let mut parents = vec![0u8; n];
        for i in 0..n {
            let (left, right) = (self.children_left[i], self.children_right[i]);
            if left == TREE_LEAF && right == TREE_LEAF {
                continue;
            }
            for child in [left, right] {
                let ok = usize::try_from(child).is_ok_and(|c| c > i && c < n);
                if !ok {
                    return Err(format!("node {i}: child {child} is not a later node"));
                }
            }
            if left == right {
                return Err(format!("node {i}: both children are node {left}"));
            }
            let feature = self.feature[i];
            if !usize::try_from(feature).is_ok_and(|f| f < n_features) {
                return Err(format!(
                    "node {i}: feature {feature} is not one of the {n_features} features"
                ));
            }
            if !self.threshold[i].is_finite() {
                return Err(format!(
                    "node {i}: threshold {} is not finite",
                    self.threshold[i]
                ));
            }
            for child in [left as usize, right as usize] {
                parents[child] = parents[child].saturating_add(1);
                depth[child] = depth[i] + 1;
            }
        }
        if let Some(i) = (1..n).find(|&i| parents[i] != 1) {
            return Err(format!("node {i} has {} parents", parents[i]));
        }
        Ok(depth)
    }
}

/// A value as scikit-learn's trees see it: rounded to `float32`, compared as `float64`.
pub(crate) fn as_f32(v: f64) -> f64 {
    v as f32 as f64
}

struct Frame {
    start: usize,
    end: usize,
    depth: u32,
    /// `(parent node, is the left child)`; `None` for the root.
    parent: Option<(usize, bool)>,
    /// `features[..n_constant]` are known to be constant in this node.
    n_constant: usize,
}

/// Grows one tree on the rows `samples` of `x`, splitting only on the columns in `features`.
///
/// Depth-first, left before right, so nodes are numbered as scikit-learn numbers them. At each
/// node a feature is drawn uniformly among those not constant in the node; features found
/// constant move to the front of `features` and stay excluded in the subtree, as in
/// scikit-learn's `node_split_random`. The threshold is uniform in `[min, max)` of the node's
/// `float32` values.
pub(crate) fn grow(
    x: Matrix<'_>,
    samples: &mut [usize],
    features: &mut [usize],
    max_depth: u32,
    rng: &mut ChaCha8Rng,
) -> IsolationTree {
    let mut tree = IsolationTree::default();
    let mut stack = vec![Frame {
        start: 0,
        end: samples.len(),
        depth: 0,
        parent: None,
        n_constant: 0,
    }];
    while let Some(frame) = stack.pop() {
        let node = tree.push_leaf(frame.end - frame.start);
        if let Some((parent, is_left)) = frame.parent {
            let link = if is_left {
                &mut tree.children_left
            } else {
                &mut tree.children_right
            };
            link[parent] = node as i64;
        }
        if frame.end - frame.start < 2 || frame.depth >= max_depth {
            continue;
        }
        let rows = &mut samples[frame.start..frame.end];
        let mut n_constant = frame.n_constant;
        let mut split = None;
        while n_constant < features.len() {
            let j = n_constant + rng.gen_range(0..(features.len() - n_constant) as u64) as usize;
            let col = features[j];
            let (min, max) = min_max(x, rows, col);
            if max <= min + FEATURE_THRESHOLD {
                features.swap(j, n_constant);
                n_constant += 1;
                continue;
            }
            let (min, max) = (min as f64, max as f64);
            // scikit-learn's rand_uniform: (high - low) * u + low, and a draw of `max` becomes
            // `min` so the right child is never empty.
            let mut threshold = (max - min) * rng.gen::<f64>() + min;
            if threshold == max {
                threshold = min;
            }
            split = Some((col, threshold));
            break;
        }
        let Some((col, threshold)) = split else {
            continue;
        };
        let pos = frame.start + partition(x, rows, col, threshold);
        tree.feature[node] = col as i64;
        tree.threshold[node] = threshold;
        for (start, end, is_left) in [(pos, frame.end, false), (frame.start, pos, true)] {
            stack.push(Frame {
                start,
                end,
                depth: frame.depth + 1,
                parent: Some((node, is_left)),
                n_constant,
            });
        }
    }
    tree
}

/// The `float32` minimum and maximum of column `col` over `rows`.
fn min_max(x: Matrix<'_>, rows: &[usize], col: usize) -> (f32, f32) {
    rows.iter()
        .map(|&r| x.get(r, col) as f32)
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        })
}

/// Moves the rows that go left (`float32` value `<= threshold`) to the front; returns how many.
fn partition(x: Matrix<'_>, rows: &mut [usize], col: usize, threshold: f64) -> usize {
    let (mut i, mut j) = (0, rows.len());
    while i < j {
        if as_f32(x.get(rows[i], col)) <= threshold {
            i += 1;
        } else {
            j -= 1;
            rows.swap(i, j);
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn matrix(data: &[f64], n_cols: usize) -> Matrix<'_> {
        Matrix::new(data, n_cols).unwrap_or_else(|e| panic!("{e}"))
    }

    fn grow_all(data: &[f64], n_cols: usize, max_depth: u32, seed: u64) -> IsolationTree {
        let x = matrix(data, n_cols);
        let mut samples: Vec<usize> = (0..x.n_rows()).collect();
        let mut features: Vec<usize> = (0..n_cols).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        grow(x, &mut samples, &mut features, max_depth, &mut rng)
    }

    #[test]
    fn grown_trees_are_valid_and_isolate_every_row_without_a_depth_limit() {
        let data: Vec<f64> = (0..64).map(|i| ((i * 37) % 64) as f64 * 0.25).collect();
        let tree = grow_all(&data, 2, 64, 1);
        assert!(tree.check(2).is_ok());
        assert_eq!(tree.n_node_samples[0], 32);
        for i in 0..tree.node_count() {
            if tree.is_leaf(i) {
                assert_eq!(tree.n_node_samples[i], 1, "rows are distinct");
            } else {
                let (l, r) = (
                    tree.children_left[i] as usize,
                    tree.children_right[i] as usize,
                );
                assert_eq!(
                    tree.n_node_samples[l] + tree.n_node_samples[r],
                    tree.n_node_samples[i]
                );
                assert_eq!(l, i + 1, "depth-first numbering puts the left child next");
            }
        }
    }

    #[test]
    fn depth_limit_stops_growth() {
        let data: Vec<f64> = (0..100).map(f64::from).collect();
        let tree = grow_all(&data, 1, 3, 2);
        let depth = tree.check(1).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(depth.iter().max(), Some(&3));
    }

    #[test]
    fn constant_features_are_never_split_on() {
        // Column 1 is constant; column 2 differs only below float32 resolution.
        let data: Vec<f64> = (0..50)
            .flat_map(|i| [f64::from(i), 3.0, 1.0 + f64::from(i % 2) * 1e-12])
            .collect();
        for seed in 0..20 {
            let tree = grow_all(&data, 3, 10, seed);
            for i in 0..tree.node_count() {
                if !tree.is_leaf(i) {
                    assert_eq!(tree.feature[i], 0, "seed {seed} node {i}");
                }
            }
        }
    }

    #[test]
    fn all_constant_node_is_a_leaf() {
        let data = [5.0, 1.0, 5.0, 1.0, 5.0, 1.0];
        let tree = grow_all(&data, 2, 8, 0);
        assert_eq!(tree.node_count(), 1);
        assert_eq!(tree.n_node_samples, vec![3]);
    }

    #[test]
    fn thresholds_split_between_float32_values() {
        // 0.1 is not a float32; the tree must compare its float32 rounding.
        let data = [0.1, 0.1, 0.3, 0.3];
        let tree = grow_all(&data, 1, 8, 3);
        assert_eq!(tree.node_count(), 3);
        let t = tree.threshold[0];
        assert!(t >= as_f32(0.1) && t < as_f32(0.3), "{t}");
        assert_eq!(tree.n_node_samples, vec![4, 2, 2]);
    }

    #[test]
    fn check_rejects_broken_structure() {
        let good = grow_all(&[1.0, 2.0, 3.0, 4.0], 1, 8, 0);
        assert!(good.check(1).is_ok());
        assert!(good.check(0).is_err_and(|e| e.contains("feature 0")));

        let mut cyclic = good.clone();
        cyclic.children_left[0] = 0;
        assert!(cyclic.check(1).is_err_and(|e| e.contains("child 0")));

        let mut out_of_range = good.clone();
        out_of_range.children_right[0] = 99;
        assert!(out_of_range.check(1).is_err());

        let mut shared = good.clone();
        let right = shared.children_right[0];
        shared.children_left[0] = right;
        assert!(shared.check(1).is_err());

        let mut short = good.clone();
        short.threshold.pop();
        assert!(short
            .check(1)
            .is_err_and(|e| e.contains("different lengths")));

        let mut nan = good;
        nan.threshold[0] = f64::NAN;
        assert!(nan.check(1).is_err_and(|e| e.contains("threshold NaN")));

        assert!(IsolationTree::default().check(1).is_err());
    }
}
