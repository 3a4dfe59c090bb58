//! The scoring layout of forests with shallow trees and few features — the usual case: trees
//! grown on 256 samples are at most 8 deep.
//!
//! Every tree is stored as a complete binary tree as deep as the deepest tree of the forest, in
//! heap order (node `j`'s children are `2j` and `2j + 1`, the root is 1), so a walk needs no
//! child pointers: `j = 2j + (x > threshold)`. A leaf above the bottom becomes a chain of
//! splits that always go left (threshold +∞: no value, not even NaN or +∞, is greater), ending
//! at the leaf slot that holds its value. Trees of `N` slots are `[Split; N]` arrays and rows are
//! read through `[[f32; LANES]; 256]` groups indexed by a `u8` feature, so no index in the walk
//! needs a bounds check and the walks of `LANES` rows stay in registers.
//!
//! Decisions and sums are exactly those of the pointer layout (same `float32` thresholds, leaf
//! values added tree by tree in the same order): the scores are bit-identical.

use super::{average_path_length, f32_at_or_below, IsolationTree, BLOCK_ROWS, LANES};

/// The deepest forest laid out this way: 2^10 slots of 8 bytes per tree, 16 KiB with the leaves.
const MAX_DEPTH: u32 = 10;
/// Feature indices are `u8`.
const MAX_FEATURES: usize = 256;

/// One split: go right when the row's `feature` is above `threshold`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Split {
    threshold: f32,
    feature: u8,
}

/// Always left: the padding below a leaf that is not at the bottom.
const LEFT: Split = Split {
    threshold: f32::INFINITY,
    feature: 0,
};

#[derive(Debug, Clone, PartialEq)]
pub(super) struct CompleteForest {
    /// Steps from the root to the bottom, the same for every tree.
    depth: u32,
    /// `2^depth` per tree; slot 0 is unused (the root is 1).
    splits: Vec<Split>,
    /// `2^depth` per tree: what a row ending at bottom slot `2^depth + i` adds to its summed path
    /// length, at `i`.
    leaves: Vec<f64>,
}

impl CompleteForest {
    /// The layout of `trees` (checked, with each node's depth in `depths`), or `None` when the
    /// forest is too deep or too wide for it.
    pub(super) fn new(
        trees: &[IsolationTree],
        depths: &[Vec<u32>],
        n_features: usize,
    ) -> Option<CompleteForest> {
        let depth = depths.iter().flatten().copied().max().unwrap_or(0);
        if depth > MAX_DEPTH || n_features > MAX_FEATURES {
            return None;
        }
        let n = 1usize << depth;
        let mut splits = vec![LEFT; n * trees.len()];
        let mut leaves = vec![0.0; n * trees.len()];
        for (t, (tree, node_depth)) in trees.iter().zip(depths).enumerate() {
            let splits = &mut splits[t * n..(t + 1) * n];
            let leaves = &mut leaves[t * n..(t + 1) * n];
            // (tree node, heap slot)
            let mut stack = vec![(0usize, 1usize)];
            while let Some((i, slot)) = stack.pop() {
                let d = node_depth[i];
                if tree.is_leaf(i) {
                    // The slots below stay LEFT; the always-left path ends at `slot << (depth - d)`.
                    let value =
                        (f64::from(d + 1) + average_path_length(tree.n_node_samples[i])) - 1.0;
                    leaves[(slot << (depth - d)) - n] = value;
                } else {
                    splits[slot] = Split {
                        threshold: f32_at_or_below(tree.threshold[i]),
                        // Checked: 0 <= feature < n_features <= 256.
                        feature: u8::try_from(tree.feature[i]).ok()?,
                    };
                    stack.push((usize::try_from(tree.children_left[i]).ok()?, 2 * slot));
                    stack.push((usize::try_from(tree.children_right[i]).ok()?, 2 * slot + 1));
                }
            }
        }
        Some(CompleteForest {
            depth,
            splits,
            leaves,
        })
    }

    /// Summed path lengths of the rows of `rows` (row-major, `n_cols` wide) into `sums`, one
    /// per row, `BLOCK_ROWS` rows at a time.
    pub(super) fn path_sums(&self, rows: &[f64], n_cols: usize, sums: &mut [f64]) {
        let n_groups = BLOCK_ROWS / LANES;
        // Group g's column f, lane k is at block[g * n_cols + f][k]. Each group is read as 256
        // columns, of which only the first n_cols are features, so groups overlap in the
        // allocation and the values a walk touches stay close together.
        let mut block = vec![[0.0f32; LANES]; (n_groups - 1) * n_cols + MAX_FEATURES];
        let mut lanes = vec![0.0; BLOCK_ROWS];
        for (rows, sums) in rows
            .chunks(BLOCK_ROWS * n_cols)
            .zip(sums.chunks_mut(BLOCK_ROWS))
        {
            for (r, row) in rows.chunks_exact(n_cols).enumerate() {
                let at = (r / LANES) * n_cols;
                for (cell, &v) in block[at..at + n_cols].iter_mut().zip(row) {
                    cell[r % LANES] = v as f32;
                }
            }
            // A short last block walks whole groups; the lanes past its rows hold values left
            // from the block before (or zeros) and their sums are dropped.
            let groups: Vec<&[[f32; LANES]; MAX_FEATURES]> = (0..sums.len().div_ceil(LANES))
                .filter_map(|g| block[g * n_cols..g * n_cols + MAX_FEATURES].try_into().ok())
                .collect();
            let lanes = &mut lanes[..groups.len() * LANES];
            lanes.fill(0.0);
            match self.depth {
                0 => self.walk::<1>(&groups, lanes),
                1 => self.walk::<2>(&groups, lanes),
                2 => self.walk::<4>(&groups, lanes),
                3 => self.walk::<8>(&groups, lanes),
                4 => self.walk::<16>(&groups, lanes),
                5 => self.walk::<32>(&groups, lanes),
                6 => self.walk::<64>(&groups, lanes),
                7 => self.walk::<128>(&groups, lanes),
                8 => self.walk::<256>(&groups, lanes),
                9 => self.walk::<512>(&groups, lanes),
                _ => self.walk::<1024>(&groups, lanes),
            }
            sums.copy_from_slice(&lanes[..sums.len()]);
        }
    }

    /// The walk for trees of `N = 2^depth` slots.
    fn walk<const N: usize>(&self, groups: &[&[[f32; LANES]; MAX_FEATURES]], sums: &mut [f64]) {
        let trees = self
            .splits
            .chunks_exact(N)
            .filter_map(|tree| <&[Split; N]>::try_from(tree).ok());
        let leaves = self
            .leaves
            .chunks_exact(N)
            .filter_map(|leaf| <&[f64; N]>::try_from(leaf).ok());
        for (tree, leaf) in trees.zip(leaves) {
            for (group, sums) in groups.iter().zip(sums.chunks_exact_mut(LANES)) {
                let mut at = [1usize; LANES];
                for _ in 0..N.trailing_zeros() {
                    for (k, a) in at.iter_mut().enumerate() {
                        // `a < N` before the last step; the mask only tells the compiler so.
                        let split = tree[*a & (N - 1)];
                        let v = group[usize::from(split.feature)][k];
                        *a = 2 * *a + usize::from(v > split.threshold);
                    }
                }
                for (sum, &a) in sums.iter_mut().zip(&at) {
                    // `N <= a < 2N` at the bottom.
                    *sum += leaf[a & (N - 1)];
                }
            }
        }
    }
}
