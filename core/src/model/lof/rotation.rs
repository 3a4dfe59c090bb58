//! The principal axes of the training rows, which the neighbour tree splits along.
//!
//! Features of log records are correlated (the same count over 5, 15 and 60 minutes, say), so
//! boxes aligned with the principal axes are much tighter than boxes aligned with the features,
//! and a search skips more of them. Only the tree's pruning sees rotated coordinates; every
//! reported distance is computed from the original features, so the rotation's rounding never
//! changes a result. It is accounted for instead: [`Rotation::apply`] returns a bound on the
//! rounding error of each rotated coordinate, and the axes are checked to be orthonormal to
//! within [`ORTHONORMAL_TOLERANCE`].

/// Above this many features the rotation (d² per query, d³ to fit) is skipped.
const MAX_ROTATED_FEATURES: usize = 128;
/// Jacobi sweeps at most; convergence only affects how well the tree prunes, not results.
const MAX_SWEEPS: usize = 30;
/// How far `AᵀA` may be from the identity (Frobenius norm) for the axes `A` to be used, so
/// that `|A v|² ≤ (1 + ORTHONORMAL_TOLERANCE) |v|²` for every `v`.
pub(super) const ORTHONORMAL_TOLERANCE: f64 = 1e-9;

/// An orthonormal change of basis `x ↦ A (x − centre)`, or the identity.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Rotation {
    n_features: usize,
    centre: Vec<f64>,
    /// Row-major `n_features × n_features`, one principal axis per row, largest variance
    /// first; empty for the identity.
    axes: Vec<f64>,
}

impl Rotation {
    /// The principal axes of `data` (row-major, `n_features` columns, finite), or the identity
    /// when there are too many features or the computed axes are not orthonormal enough.
    pub(super) fn fit(data: &[f64], n_features: usize) -> Rotation {
        let identity = Rotation {
            n_features,
            centre: Vec::new(),
            axes: Vec::new(),
        };
        let d = n_features;
        let n_rows = data.len().checked_div(d).unwrap_or(0);
        if !(2..=MAX_ROTATED_FEATURES).contains(&d) || n_rows < 2 {
            return identity;
        }
        let mut centre = vec![0.0; d];
        for row in data.chunks_exact(d) {
            for (c, &v) in centre.iter_mut().zip(row) {
                *c += v;
            }
        }
        for c in &mut centre {
            *c /= n_rows as f64;
        }
        // The scatter matrix (the covariance up to a factor, which leaves the axes alone).
        let mut scatter = vec![0.0; d * d];
        let mut w = vec![0.0; d];
        for row in data.chunks_exact(d) {
            for ((w, &v), &c) in w.iter_mut().zip(row).zip(&centre) {
                *w = v - c;
            }
            for a in 0..d {
                let wa = w[a];
                for (s, &wb) in scatter[a * d + a..(a + 1) * d].iter_mut().zip(&w[a..]) {
                    *s += wa * wb;
                }
            }
        }
        for a in 0..d {
            for b in 0..a {
                scatter[a * d + b] = scatter[b * d + a];
            }
        }
        let (values, vectors) = jacobi_eigen(scatter, d);
        let mut order: Vec<usize> = (0..d).collect();
        order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
        let mut axes = vec![0.0; d * d];
        for (i, &k) in order.iter().enumerate() {
            for j in 0..d {
                axes[i * d + j] = vectors[j * d + k];
            }
        }
        if !is_orthonormal(&axes, d) {
            return identity;
        }
        Rotation {
            n_features,
            centre,
            axes,
        }
    }

    /// Writes the rotated `x` into `out` and returns a bound on the absolute rounding error of
    /// each rotated coordinate (0 for the identity, which copies `x`).
    pub(super) fn apply(&self, x: &[f64], out: &mut [f64]) -> f64 {
        if self.axes.is_empty() {
            out.copy_from_slice(x);
            return 0.0;
        }
        let d = self.n_features;
        // `out` holds x − centre first, then each axis' dot product with it in turn.
        let mut l1 = 0.0;
        for (o, (&v, &c)) in out.iter_mut().zip(x.iter().zip(&self.centre)) {
            *o = v - c;
            l1 += o.abs();
        }
        let mut centred = [0.0f64; MAX_ROTATED_FEATURES];
        centred[..d].copy_from_slice(out);
        for (o, axis) in out.iter_mut().zip(self.axes.chunks_exact(d)) {
            let mut s = 0.0;
            for (&a, &w) in axis.iter().zip(&centred[..d]) {
                s += a * w;
            }
            *o = s;
        }
        // A dot product of d terms is off by at most about (d + 1)·2⁻⁵³·Σ|a_i w_i|, and
        // |a_i| ≤ 1 (+ tolerance) on orthonormal axes; twice that for safety.
        (d as f64 + 4.0) * f64::EPSILON * l1
    }
}

/// Eigenvalues and eigenvectors (the columns of the returned row-major matrix) of the
/// symmetric `d × d` matrix `a`, by cyclic Jacobi rotations in a fixed order.
fn jacobi_eigen(mut a: Vec<f64>, d: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0; d * d];
    for i in 0..d {
        v[i * d + i] = 1.0;
    }
    for _ in 0..MAX_SWEEPS {
        let mut off = 0.0;
        let mut diag = 0.0;
        for p in 0..d {
            diag += a[p * d + p] * a[p * d + p];
            for q in p + 1..d {
                off += a[p * d + q] * a[p * d + q];
            }
        }
        if off <= 1e-30 * diag {
            break;
        }
        for p in 0..d {
            for q in p + 1..d {
                let apq = a[p * d + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[q * d + q] - a[p * d + p]) / (2.0 * apq);
                let t = if theta.abs() > 1e150 {
                    0.5 / theta
                } else {
                    let t = 1.0 / (theta.abs() + libm::sqrt(theta * theta + 1.0));
                    if theta < 0.0 {
                        -t
                    } else {
                        t
                    }
                };
                let c = 1.0 / libm::sqrt(t * t + 1.0);
                let s = t * c;
                for k in 0..d {
                    let (kp, kq) = (a[k * d + p], a[k * d + q]);
                    a[k * d + p] = c * kp - s * kq;
                    a[k * d + q] = s * kp + c * kq;
                }
                for k in 0..d {
                    let (pk, qk) = (a[p * d + k], a[q * d + k]);
                    a[p * d + k] = c * pk - s * qk;
                    a[q * d + k] = s * pk + c * qk;
                }
                for k in 0..d {
                    let (kp, kq) = (v[k * d + p], v[k * d + q]);
                    v[k * d + p] = c * kp - s * kq;
                    v[k * d + q] = s * kp + c * kq;
                }
            }
        }
    }
    let values = (0..d).map(|i| a[i * d + i]).collect();
    (values, v)
}

/// Whether the rows of `axes` are orthonormal to within [`ORTHONORMAL_TOLERANCE`]: then the
/// spectral norm of `AᵀA − I` (at most its Frobenius norm) is too.
fn is_orthonormal(axes: &[f64], d: usize) -> bool {
    if axes.iter().any(|v| !v.is_finite()) {
        return false;
    }
    let mut frobenius = 0.0;
    for i in 0..d {
        for j in i..d {
            let mut s = 0.0;
            for k in 0..d {
                s += axes[i * d + k] * axes[j * d + k];
            }
            let e = if i == j { s - 1.0 } else { s };
            frobenius += if i == j { e * e } else { 2.0 * e * e };
        }
    }
    // The check's own rounding is far below the margin left by the factor 10.
    libm::sqrt(frobenius) * 10.0 <= ORTHONORMAL_TOLERANCE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_axes_of_an_elongated_cloud() {
        // Points along the diagonal x = y with a little spread across it.
        let mut data = Vec::new();
        for i in 0..50 {
            let t = f64::from(i) - 25.0;
            let across = if i % 2 == 0 { 0.1 } else { -0.1 };
            data.extend([t + across, t - across]);
        }
        let r = Rotation::fit(&data, 2);
        let h = std::f64::consts::FRAC_1_SQRT_2;
        let axis = &r.axes[..2];
        assert!(
            (axis[0].abs() - h).abs() < 1e-3 && (axis[1].abs() - h).abs() < 1e-3,
            "{axis:?}"
        );
        assert!(axis[0] * axis[1] > 0.0);
        // Rotating keeps distances and the error bound covers the rounding.
        let (mut a, mut b) = ([0.0; 2], [0.0; 2]);
        let ea = r.apply(&[3.0, 4.0], &mut a);
        let eb = r.apply(&[0.0, 0.0], &mut b);
        let rotated = (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2);
        assert!((rotated - 25.0).abs() < 1e-12, "{rotated}");
        assert!(ea > 0.0 && ea < 1e-13 && eb > 0.0);
    }

    #[test]
    fn too_few_rows_or_features_give_the_identity() {
        for (data, d) in [(vec![1.0, 2.0], 2), (vec![1.0, 2.0, 3.0], 1)] {
            let r = Rotation::fit(&data, d);
            assert!(r.axes.is_empty());
            let mut out = vec![0.0; d];
            assert_eq!(r.apply(&data[..d], &mut out), 0.0);
            assert_eq!(out, &data[..d]);
        }
    }
}
