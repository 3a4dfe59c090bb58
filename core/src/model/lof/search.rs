//! Exact k-nearest-neighbour search over the training rows: a k-d tree with bounding boxes.
//!
//! The result of a query is defined without reference to the tree: the `k` training rows with
//! the smallest squared distance, ties broken by the lower row index. The tree only skips boxes
//! that provably hold no such row, so any tree shape (and any visiting order) gives the same
//! neighbours, and the same bits, as a brute-force scan.
//!
//! A squared distance is `Σ_j (q_j − p_j)²` summed over the features in order, as scikit-learn's
//! `KDTree` computes its `rdist`; the distance is its `sqrt`. The lower bound of a box is
//! `Σ_j gap_j²` in the same order, where `gap_j` is `q_j − hi_j`, `lo_j − q_j` or 0. Rounding
//! is monotone, so for every row in the box each rounded term is at least the rounded gap term,
//! and the rounded sums keep that order: the computed bound never exceeds a computed distance.
//! Pruning a box whose bound is greater than the current k-th squared distance is therefore
//! exact, with no slack.

/// Rows whose distances to one query are computed side by side (their values are stored
/// transposed, so the compiler can use SIMD lanes without reordering any sum).
pub(super) const LANES: usize = 4;
/// Leaves hold at most this many rows.
const LEAF_SIZE: usize = 32;
/// Features summed between two checks of whether a block of rows is already too far.
const ABANDON_STRIDE: usize = 8;

/// A node of the tree. Inner nodes have two children; leaves own a run of slots.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Node {
    /// Leaves: the first slot (a multiple of `LANES`). Inner nodes: the left child.
    first: u32,
    /// Leaves: the number of rows. Inner nodes: the right child.
    second: u32,
    leaf: bool,
}

/// The training rows arranged for exact k-nearest-neighbour queries.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct NeighborIndex {
    n_features: usize,
    /// The rows in tree order, `LANES` slots at a time, transposed: feature `j` of slot `s` is
    /// at `(s / LANES) * LANES * n_features + j * LANES + s % LANES`. Each leaf starts a new
    /// block; slots past a leaf's rows repeat its first row and are never reported.
    slots: Vec<f64>,
    /// The training row behind each slot.
    rows: Vec<u32>,
    nodes: Vec<Node>,
    /// Per node, the smallest then the largest value of each feature over its rows.
    boxes: Vec<f64>,
}

impl NeighborIndex {
    /// Builds the tree over `data` (row-major, `n_features` columns, finite, at most `u32::MAX`
    /// rows). Each inner node splits its rows at the median of the feature with the widest
    /// range (ties by row index), so the depth is about log2(n / LEAF_SIZE).
    pub(super) fn new(data: &[f64], n_features: usize) -> NeighborIndex {
        let n_rows = data.len().checked_div(n_features).unwrap_or(0);
        let mut order: Vec<u32> = (0..n_rows as u32).collect();
        let mut index = NeighborIndex {
            n_features,
            slots: Vec::with_capacity((n_rows + n_rows / 2) * n_features),
            rows: Vec::with_capacity(n_rows + n_rows / 2),
            nodes: Vec::new(),
            boxes: Vec::new(),
        };
        if n_rows > 0 {
            index.grow(data, &mut order);
        }
        index
    }

    /// Adds the node over `order` (and its subtree); returns its id.
    fn grow(&mut self, data: &[f64], order: &mut [u32]) -> u32 {
        let d = self.n_features;
        let id = self.nodes.len() as u32;
        self.nodes.push(Node {
            first: 0,
            second: 0,
            leaf: true,
        });
        let row = |r: u32| &data[r as usize * d..(r as usize + 1) * d];
        let start = self.boxes.len();
        self.boxes.extend_from_slice(row(order[0]));
        self.boxes.extend_from_slice(row(order[0]));
        for &r in &order[1..] {
            let (lo, hi) = self.boxes[start..].split_at_mut(d);
            for ((l, h), &v) in lo.iter_mut().zip(hi.iter_mut()).zip(row(r)) {
                if v < *l {
                    *l = v;
                }
                if v > *h {
                    *h = v;
                }
            }
        }
        let (lo, hi) = self.boxes[start..].split_at(d);
        let mut widest = 0;
        let mut width = 0.0;
        for (j, (l, h)) in lo.iter().zip(hi).enumerate() {
            if h - l > width {
                width = h - l;
                widest = j;
            }
        }
        // A leaf when small, or when every row is the same point (nothing to split on).
        if order.len() <= LEAF_SIZE || width <= 0.0 {
            let first = self.rows.len() as u32;
            for block in order.chunks(LANES) {
                let at = self.slots.len();
                self.slots.resize(at + LANES * d, 0.0);
                for l in 0..LANES {
                    // Padding repeats the block's first row: finite, and never reported.
                    let r = block.get(l).copied().unwrap_or(block[0]);
                    self.rows.push(r);
                    for (j, &v) in row(r).iter().enumerate() {
                        self.slots[at + j * LANES + l] = v;
                    }
                }
            }
            self.nodes[id as usize] = Node {
                first,
                second: order.len() as u32,
                leaf: true,
            };
            return id;
        }
        let mid = order.len() / 2;
        let key = |r: &u32| (data[*r as usize * d + widest], *r);
        order.select_nth_unstable_by(mid, |a, b| {
            let (va, ra) = key(a);
            let (vb, rb) = key(b);
            va.total_cmp(&vb).then(ra.cmp(&rb))
        });
        let (left, right) = order.split_at_mut(mid);
        let left = self.grow(data, left);
        let right = self.grow(data, right);
        self.nodes[id as usize] = Node {
            first: left,
            second: right,
            leaf: false,
        };
        id
    }

    /// Fills `best` with the `best.k()` rows nearest to `query` (which has `n_features`
    /// values), leaving out the row `exclude` if given.
    pub(super) fn search(&self, query: &[f64], exclude: Option<u32>, best: &mut Nearest) {
        best.clear();
        if self.nodes.is_empty() || best.k == 0 {
            return;
        }
        let bound = self.box_bound(0, query);
        self.visit(0, bound, query, exclude.unwrap_or(u32::MAX), best);
    }

    fn visit(&self, node: u32, bound: f64, query: &[f64], exclude: u32, best: &mut Nearest) {
        if bound > best.worst() {
            return;
        }
        let n = self.nodes[node as usize];
        if n.leaf {
            self.scan_leaf(n.first as usize, n.second as usize, query, exclude, best);
            return;
        }
        let left = self.box_bound(n.first, query);
        let right = self.box_bound(n.second, query);
        if left <= right {
            self.visit(n.first, left, query, exclude, best);
            self.visit(n.second, right, query, exclude, best);
        } else {
            self.visit(n.second, right, query, exclude, best);
            self.visit(n.first, left, query, exclude, best);
        }
    }

    /// The squared distance from `query` to the box of `node`, rounded no higher than the
    /// squared distance to any row in it (see the module docs).
    fn box_bound(&self, node: u32, query: &[f64]) -> f64 {
        let d = self.n_features;
        let b = &self.boxes[2 * d * node as usize..2 * d * (node as usize + 1)];
        let (lo, hi) = b.split_at(d);
        let mut sum = 0.0;
        for ((&q, &l), &h) in query.iter().zip(lo).zip(hi) {
            let gap = if q < l {
                q - l
            } else if q > h {
                q - h
            } else {
                0.0
            };
            sum += gap * gap;
        }
        sum
    }

    fn scan_leaf(&self, first: usize, len: usize, query: &[f64], exclude: u32, best: &mut Nearest) {
        let d = self.n_features;
        let stride = LANES * d;
        let blocks = &self.slots[first * d..(first + len.div_ceil(LANES) * LANES) * d];
        for (b, block) in blocks.chunks_exact(stride).enumerate() {
            let mut acc = [0.0f64; LANES];
            let mut abandoned = false;
            for (c, (q_chunk, v_chunk)) in query
                .chunks(ABANDON_STRIDE)
                .zip(block.chunks(ABANDON_STRIDE * LANES))
                .enumerate()
            {
                for (&q, v) in q_chunk.iter().zip(v_chunk.chunks_exact(LANES)) {
                    for (a, &p) in acc.iter_mut().zip(v) {
                        let t = q - p;
                        *a += t * t;
                    }
                }
                // The sums only grow, so a block of rows that are all beyond the current k-th
                // squared distance cannot get back in.
                if (c + 1) * ABANDON_STRIDE < d {
                    let worst = best.worst();
                    if acc.iter().all(|&a| a > worst) {
                        abandoned = true;
                        break;
                    }
                }
            }
            if abandoned {
                continue;
            }
            let slot = first + b * LANES;
            let valid = (len - b * LANES).min(LANES);
            for (l, &a) in acc.iter().enumerate().take(valid) {
                let row = self.rows[slot + l];
                if row != exclude {
                    best.offer(a, row);
                }
            }
        }
    }
}

/// The `k` nearest rows found so far, sorted by (squared distance, row).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Nearest {
    k: usize,
    items: Vec<(f64, u32)>,
}

impl Nearest {
    /// An empty list that keeps up to `k` rows.
    pub(super) fn new(k: usize) -> Nearest {
        Nearest {
            k,
            items: Vec::with_capacity(k + 1),
        }
    }

    fn clear(&mut self) {
        self.items.clear();
    }

    /// The squared distance a row must not exceed to enter; infinite until `k` rows are in.
    fn worst(&self) -> f64 {
        if self.items.len() < self.k {
            f64::INFINITY
        } else {
            self.items.last().map_or(f64::INFINITY, |&(d, _)| d)
        }
    }

    fn offer(&mut self, dist_sq: f64, row: u32) {
        let full = self.items.len() >= self.k;
        if full {
            match self.items.last() {
                Some(&(d, r)) if (dist_sq, row) < (d, r) => {}
                _ => return,
            }
            self.items.pop();
        }
        let at = self
            .items
            .partition_point(|&(d, r)| d < dist_sq || (d == dist_sq && r < row));
        self.items.insert(at, (dist_sq, row));
    }

    /// The neighbours found, nearest first: (squared distance, row).
    pub(super) fn items(&self) -> &[(f64, u32)] {
        &self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn brute_force(
        data: &[f64],
        d: usize,
        q: &[f64],
        k: usize,
        exclude: Option<u32>,
    ) -> Vec<(f64, u32)> {
        let mut all: Vec<(f64, u32)> = data
            .chunks_exact(d)
            .enumerate()
            .filter(|&(i, _)| Some(i as u32) != exclude)
            .map(|(i, p)| {
                let mut s = 0.0;
                for (a, b) in q.iter().zip(p) {
                    s += (a - b) * (a - b);
                }
                (s, i as u32)
            })
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        all.truncate(k);
        all
    }

    /// Random rows with many repeated values per column, so ties are common.
    fn lattice(n: usize, d: usize, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n * d)
            .map(|_| f64::from(rng.gen_range(0..4u8)) * 0.5)
            .collect()
    }

    fn continuous(n: usize, d: usize, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n * d).map(|_| rng.gen::<f64>() * 10.0 - 5.0).collect()
    }

    #[test]
    fn matches_brute_force_with_and_without_ties() {
        for (data, d) in [
            (continuous(500, 3, 1), 3),
            (continuous(300, 11, 2), 11),
            (lattice(400, 5, 3), 5),
            (lattice(200, 19, 4), 19),
            (vec![1.5; 70 * 2], 2),
        ] {
            let index = NeighborIndex::new(&data, d);
            let queries = continuous(40, d, 9);
            for k in [1, 5, 20] {
                let mut best = Nearest::new(k);
                for q in queries.chunks_exact(d).chain(data.chunks_exact(d).take(60)) {
                    index.search(q, None, &mut best);
                    assert_eq!(best.items(), brute_force(&data, d, q, k, None));
                }
                for (i, q) in data.chunks_exact(d).enumerate().take(60) {
                    index.search(q, Some(i as u32), &mut best);
                    assert_eq!(best.items(), brute_force(&data, d, q, k, Some(i as u32)));
                }
            }
        }
    }

    #[test]
    fn fewer_rows_than_k_returns_all_of_them() {
        let data = [0.0, 1.0, 3.0];
        let index = NeighborIndex::new(&data, 1);
        let mut best = Nearest::new(5);
        index.search(&[2.9], None, &mut best);
        let rows: Vec<u32> = best.items().iter().map(|&(_, r)| r).collect();
        assert_eq!(rows, [2, 1, 0]);
    }
}
