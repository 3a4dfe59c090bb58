//! Exact k-nearest-neighbour search over the training rows: a k-d tree with bounding boxes
//! along the rows' principal axes.
//!
//! The result of a query is defined without reference to the tree: the `k` training rows with
//! the smallest squared distance, ties broken by the lower row index. The tree only skips boxes
//! that provably hold no such row, so any tree (and any visiting order) gives the same
//! neighbours, and the same bits, as a brute-force scan.
//!
//! A squared distance is `Σ_j (q_j − p_j)²` over the original features in order, as
//! scikit-learn's `KDTree` computes its `rdist`; the distance is its `sqrt`. The tree lives in
//! rotated coordinates (see [`Rotation`]). A box is skipped when a lower bound on the squared
//! distance to it — each coordinate's gap reduced by the rotation's rounding error, the sum
//! shrunk by a relative slack far larger than all other rounding — still exceeds the k-th
//! smallest squared distance found so far. A block of rows is dropped as soon as its partial
//! sums (which only grow) all exceed it.

use super::rotation::{Rotation, ORTHONORMAL_TOLERANCE};

/// Rows whose distances to one query are computed side by side: their values are stored
/// transposed, so each row's sum keeps its order while the CPU works on several at once.
const LANES: usize = 8;
/// Leaves hold at most this many rows.
const LEAF_SIZE: usize = 64;
/// Features summed between two checks of whether a block of rows is already too far.
const STRIDE: usize = 8;
/// `Node::split` of a leaf.
const LEAF: u32 = u32::MAX;

/// A node of the tree: a leaf owning a run of slots, or a split with two children.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Node {
    /// Leaves: the first slot (a multiple of `LANES`). Splits: the left child.
    first: u32,
    /// Leaves: the number of rows. Splits: the right child.
    second: u32,
    /// Splits: the rotated coordinate split on; `LEAF` for leaves.
    split: u32,
    /// Splits: the smallest value of that coordinate in the right child.
    value: f64,
}

/// The training rows arranged for exact k-nearest-neighbour queries.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct NeighborIndex {
    n_features: usize,
    /// The original rows in tree order, `LANES` slots at a time, transposed: feature `j` of
    /// slot `s` is at `(s / LANES) * LANES * n_features + j * LANES + s % LANES`. Each leaf
    /// starts a new block; slots past a leaf's rows repeat its first row and are never
    /// reported.
    slots: Vec<f64>,
    /// The training row behind each slot.
    rows: Vec<u32>,
    /// The slot of each training row.
    slot_of: Vec<u32>,
    nodes: Vec<Node>,
    /// Per node, the smallest then the largest rotated coordinates over its rows.
    boxes: Vec<f64>,
    rotation: Rotation,
    /// The largest rounding error of a training row's rotated coordinates.
    row_error: f64,
    /// `1 −` the relative slack on box distances.
    shrink: f64,
}

/// One query: its features, its rotated coordinates and their rounding error.
struct Query<'a> {
    x: &'a [f64],
    y: &'a [f64],
    /// Rounding error of `y` plus that of the training rows.
    error: f64,
    exclude: u32,
}

impl NeighborIndex {
    /// Builds the tree over `data` (row-major, `n_features` columns, finite, at most `u32::MAX`
    /// rows). Each split halves its rows at the median of the rotated coordinate with the
    /// widest range (ties by row index), so the depth is about log2(n / LEAF_SIZE).
    pub(super) fn new(data: &[f64], n_features: usize) -> NeighborIndex {
        let d = n_features;
        let n_rows = data.len().checked_div(d).unwrap_or(0);
        let rotation = Rotation::fit(data, d);
        let mut rotated = vec![0.0; n_rows * d];
        let mut row_error = 0.0f64;
        for (y, x) in rotated.chunks_exact_mut(d).zip(data.chunks_exact(d)) {
            row_error = row_error.max(rotation.apply(x, y));
        }
        let mut index = NeighborIndex {
            n_features,
            slots: Vec::with_capacity((n_rows + n_rows / 4) * d),
            rows: Vec::with_capacity(n_rows + n_rows / 4),
            slot_of: vec![0; n_rows],
            nodes: Vec::new(),
            boxes: Vec::new(),
            rotation,
            row_error,
            // Rounding moves a sum of n non-negative terms by about n · 2⁻⁵³ of it at most, and
            // the rotation may stretch distances by its tolerance.
            shrink: 1.0 - (10.0 * ORTHONORMAL_TOLERANCE + 1e-10 * (d as f64 + 10.0)),
        };
        if n_rows > 0 {
            let mut order: Vec<u32> = (0..n_rows as u32).collect();
            index.grow(data, &rotated, &mut order);
        }
        index
    }

    /// Adds the node over `order` (and its subtree); returns its id.
    fn grow(&mut self, data: &[f64], rotated: &[f64], order: &mut [u32]) -> u32 {
        let d = self.n_features;
        let id = self.nodes.len() as u32;
        self.nodes.push(Node {
            first: 0,
            second: 0,
            split: LEAF,
            value: 0.0,
        });
        let y = |r: u32| &rotated[r as usize * d..(r as usize + 1) * d];
        let start = self.boxes.len();
        self.boxes.extend_from_slice(y(order[0]));
        self.boxes.extend_from_slice(y(order[0]));
        for &r in &order[1..] {
            let (lo, hi) = self.boxes[start..].split_at_mut(d);
            for ((l, h), &v) in lo.iter_mut().zip(hi.iter_mut()).zip(y(r)) {
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
                    if l < block.len() {
                        self.slot_of[r as usize] = self.rows.len() as u32;
                    }
                    self.rows.push(r);
                    let x = &data[r as usize * d..(r as usize + 1) * d];
                    for (j, &v) in x.iter().enumerate() {
                        self.slots[at + j * LANES + l] = v;
                    }
                }
            }
            self.nodes[id as usize].first = first;
            self.nodes[id as usize].second = order.len() as u32;
            return id;
        }
        let mid = order.len() / 2;
        let key = |r: &u32| (rotated[*r as usize * d + widest], *r);
        order.select_nth_unstable_by(mid, |a, b| {
            let (va, ra) = key(a);
            let (vb, rb) = key(b);
            va.total_cmp(&vb).then(ra.cmp(&rb))
        });
        let value = key(&order[mid]).0;
        let (left, right) = order.split_at_mut(mid);
        let left = self.grow(data, rotated, left);
        let right = self.grow(data, rotated, right);
        self.nodes[id as usize] = Node {
            first: left,
            second: right,
            split: widest as u32,
            value,
        };
        id
    }

    /// Fills `best` with the `best.k()` rows nearest to `query` (which has `n_features`
    /// values), leaving out the row `exclude` if given.
    ///
    /// `seeds` are rows likely to be near — say, the neighbours of a nearby query: measured
    /// first, they make the k-th distance small from the start, so more boxes are skipped.
    /// They never change the result.
    pub(super) fn search(
        &self,
        query: &[f64],
        exclude: Option<u32>,
        seeds: &[u32],
        best: &mut Nearest,
    ) {
        best.items.clear();
        if self.nodes.is_empty() || best.k == 0 {
            return;
        }
        let exclude = exclude.unwrap_or(u32::MAX);
        for &row in seeds {
            if row != exclude {
                if let Some(&slot) = self.slot_of.get(row as usize) {
                    best.offer(self.squared_distance(query, slot as usize), row);
                }
            }
        }
        let mut y = std::mem::take(&mut best.rotated);
        y.resize(self.n_features, 0.0);
        let error = self.rotation.apply(query, &mut y) + self.row_error;
        let q = Query {
            x: query,
            y: &y,
            error,
            exclude,
        };
        self.visit(0, &q, best);
        best.rotated = y;
    }

    /// The squared distance from `query` to the row in `slot`, summed as in `scan_leaf`.
    fn squared_distance(&self, query: &[f64], slot: usize) -> f64 {
        let d = self.n_features;
        let base = (slot / LANES) * LANES * d + slot % LANES;
        let mut sum = 0.0;
        for (&q, &p) in query.iter().zip(self.slots[base..].iter().step_by(LANES)) {
            let t = q - p;
            sum += t * t;
        }
        sum
    }

    /// The rows of `data` (row-major, `n_features` columns) ordered by the leaf whose region
    /// holds them, then by index. Queries taken in this order touch the same training rows one
    /// after another, and each is near the one before. `scratch` only lends its buffer.
    pub(super) fn leaf_order(&self, data: &[f64], scratch: &mut Nearest) -> Vec<usize> {
        let y = &mut scratch.rotated;
        y.resize(self.n_features, 0.0);
        let mut keyed: Vec<(u32, usize)> = data
            .chunks_exact(self.n_features)
            .enumerate()
            .map(|(i, row)| {
                self.rotation.apply(row, y);
                let mut at = 0;
                while let Some(n) = self.nodes.get(at as usize) {
                    if n.split == LEAF {
                        break;
                    }
                    at = if y[n.split as usize] < n.value {
                        n.first
                    } else {
                        n.second
                    };
                }
                (at, i)
            })
            .collect();
        keyed.sort_unstable();
        keyed.into_iter().map(|(_, i)| i).collect()
    }

    /// Searches the subtree of `node`, the child on the query's side of a split first, so the
    /// k-th distance is small by the time the other side's box is measured against it.
    fn visit(&self, node: u32, q: &Query<'_>, best: &mut Nearest) {
        if self.box_beyond(node, q, best.worst()) {
            return;
        }
        let n = self.nodes[node as usize];
        if n.split == LEAF {
            self.scan_leaf(n.first as usize, n.second as usize, q, best);
        } else if q.y[n.split as usize] < n.value {
            self.visit(n.first, q, best);
            self.visit(n.second, q, best);
        } else {
            self.visit(n.second, q, best);
            self.visit(n.first, q, best);
        }
    }

    /// Whether every row in the box of `node` is provably farther from the query than `worst`
    /// (squared). Stops summing as soon as the partial sum says so.
    fn box_beyond(&self, node: u32, q: &Query<'_>, worst: f64) -> bool {
        if worst == f64::INFINITY {
            return false;
        }
        let d = self.n_features;
        let b = &self.boxes[2 * d * node as usize..2 * d * (node as usize + 1)];
        let (lo, hi) = b.split_at(d);
        let error = q.error;
        let gap2 = |y: f64, l: f64, h: f64| {
            // The gap below the box, above it, or 0 inside it, less the rounding error.
            let below = l - y;
            let above = y - h;
            let gap = if below > above { below } else { above } - error;
            let gap = if gap > 0.0 { gap } else { 0.0 };
            gap * gap
        };
        let mut acc = [0.0f64; 4];
        let y4 = q.y.chunks_exact(4);
        let tail = y4.remainder();
        for (c, ((y, l), h)) in y4
            .zip(lo.chunks_exact(4))
            .zip(hi.chunks_exact(4))
            .enumerate()
        {
            for i in 0..4 {
                acc[i] += gap2(y[i], l[i], h[i]);
            }
            if c % 2 == 1 && ((acc[0] + acc[1]) + (acc[2] + acc[3])) * self.shrink > worst {
                return true;
            }
        }
        let at = d - tail.len();
        for ((&y, &l), &h) in tail.iter().zip(&lo[at..]).zip(&hi[at..]) {
            acc[0] += gap2(y, l, h);
        }
        ((acc[0] + acc[1]) + (acc[2] + acc[3])) * self.shrink > worst
    }

    fn scan_leaf(&self, first: usize, len: usize, q: &Query<'_>, best: &mut Nearest) {
        let d = self.n_features;
        let stride = LANES * d;
        let blocks = &self.slots[first * d..(first + len.div_ceil(LANES) * LANES) * d];
        'blocks: for (b, block) in blocks.chunks_exact(stride).enumerate() {
            let mut acc = [0.0f64; LANES];
            for (q_chunk, v_chunk) in q.x.chunks(STRIDE).zip(block.chunks(STRIDE * LANES)) {
                for (&q, v) in q_chunk.iter().zip(v_chunk.chunks_exact(LANES)) {
                    for (a, &p) in acc.iter_mut().zip(v) {
                        let t = q - p;
                        *a += t * t;
                    }
                }
                // The sums only grow, so a block of rows that are all beyond the current k-th
                // squared distance cannot get back in.
                let worst = best.worst();
                if acc.iter().all(|&a| a > worst) {
                    continue 'blocks;
                }
            }
            let slot = first + b * LANES;
            let valid = (len - b * LANES).min(LANES);
            for (l, &a) in acc.iter().enumerate().take(valid) {
                let row = self.rows[slot + l];
                if row != q.exclude {
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
    /// Scratch space for the query's rotated coordinates.
    rotated: Vec<f64>,
}

impl Nearest {
    /// An empty list that keeps up to `k` rows.
    pub(super) fn new(k: usize) -> Nearest {
        Nearest {
            k,
            items: Vec::with_capacity(k + 1),
            rotated: Vec::new(),
        }
    }

    /// The squared distance a row must not exceed to enter; infinite until `k` rows are in.
    fn worst(&self) -> f64 {
        if self.items.len() < self.k {
            f64::INFINITY
        } else {
            self.items.last().map_or(f64::INFINITY, |&(d, _)| d)
        }
    }

    /// Takes in `row` if it is among the `k` nearest so far and not in already.
    fn offer(&mut self, dist_sq: f64, row: u32) {
        if dist_sq > self.worst() {
            return;
        }
        let at = self
            .items
            .partition_point(|&(d, r)| d < dist_sq || (d == dist_sq && r < row));
        if at >= self.k || self.items.get(at) == Some(&(dist_sq, row)) {
            return;
        }
        if self.items.len() >= self.k {
            self.items.pop();
        }
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

    /// Clusters ±1000 apart whose rows are 1e-9 apart: distances far below the rounding
    /// error of the rotated coordinates.
    fn tight_clusters(n: usize, d: usize) -> Vec<f64> {
        let jitter = continuous(n, d, 5);
        jitter
            .chunks_exact(d)
            .enumerate()
            .flat_map(|(i, row)| {
                let centre = if i % 3 == 0 { 1000.0 } else { -1000.0 };
                row.iter()
                    .enumerate()
                    .map(move |(j, v)| centre * (j as f64 + 1.0) + 1e-10 * v)
            })
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
            (tight_clusters(300, 6), 6),
        ] {
            let index = NeighborIndex::new(&data, d);
            let queries = continuous(40, d, 9);
            for k in [1, 5, 20] {
                let mut best = Nearest::new(k);
                for q in queries.chunks_exact(d).chain(data.chunks_exact(d).take(60)) {
                    index.search(q, None, &[], &mut best);
                    assert_eq!(best.items(), brute_force(&data, d, q, k, None));
                }
                for (i, q) in data.chunks_exact(d).enumerate().take(60) {
                    let expected = brute_force(&data, d, q, k, Some(i as u32));
                    index.search(q, Some(i as u32), &[], &mut best);
                    assert_eq!(best.items(), expected);
                    // Seeds — even the excluded row, repeats, or rows out of range — only
                    // speed the search up.
                    let seeds = [i as u32, 0, 0, 3, 7, u32::MAX];
                    index.search(q, Some(i as u32), &seeds, &mut best);
                    assert_eq!(best.items(), expected);
                }
            }
        }
    }

    #[test]
    fn fewer_rows_than_k_returns_all_of_them() {
        let data = [0.0, 1.0, 3.0];
        let index = NeighborIndex::new(&data, 1);
        let mut best = Nearest::new(5);
        index.search(&[2.9], None, &[], &mut best);
        let rows: Vec<u32> = best.items().iter().map(|&(_, r)| r).collect();
        assert_eq!(rows, [2, 1, 0]);
    }
}
