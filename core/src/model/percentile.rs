//! numpy's default (`method="linear"`) percentile, bit for bit.

/// The `q`-th percentile (`q` in [0, 100]) of `values` as `numpy.percentile(values, q)` computes
/// it with its default linear method; `None` for no values or a `q` outside [0, 100].
///
/// The float operations follow numpy's order (`q / 100`, `(n - 1) * q`, and numpy's two-sided
/// `lerp`), so an Isolation Forest's `offset_` is reproduced exactly, not just approximately.
/// NaNs sort last, as in numpy (which then returns NaN).
pub fn percentile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() || !(0.0..=100.0).contains(&q) {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    if let (Some(first), Some(last)) = (sorted.first(), sorted.last()) {
        // total_cmp puts -NaN first and NaN last; numpy propagates any NaN.
        if first.is_nan() || last.is_nan() {
            return Some(f64::NAN);
        }
    }
    let n = sorted.len();
    let quantile = q / 100.0;
    let virtual_index = (n - 1) as f64 * quantile;
    let last = sorted[n - 1];
    if virtual_index >= (n - 1) as f64 {
        return Some(last);
    }
    let below = libm::floor(virtual_index);
    // `below` is in [0, n - 1) here, so both neighbours exist.
    let a = sorted[below as usize];
    let b = sorted[below as usize + 1];
    let t = virtual_index - below;
    Some(lerp(a, b, t))
}

/// numpy's `_lerp`: interpolates from whichever end is nearer, for accuracy near `t = 1`.
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy_linear_percentiles() {
        // Reference values from numpy.percentile.
        let v = [3.0, 1.0, 4.0, 1.5, 9.0, 2.6];
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        assert_eq!(percentile(&v, 100.0), Some(9.0));
        assert_eq!(percentile(&v, 50.0), Some(2.8));
        // np.percentile([3, 1, 4, 1.5, 9, 2.6], 10) == 1.25
        assert_eq!(percentile(&v, 10.0), Some(1.25));
        // np.percentile([3, 1, 4, 1.5, 9, 2.6], 90) == 6.5
        assert_eq!(percentile(&v, 90.0), Some(6.5));
        assert_eq!(percentile(&[5.0], 37.0), Some(5.0));
    }

    #[test]
    fn empty_or_out_of_range_q_is_none() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[1.0], -1.0), None);
        assert_eq!(percentile(&[1.0], 100.5), None);
        assert_eq!(percentile(&[1.0], f64::NAN), None);
    }

    #[test]
    fn nan_propagates() {
        assert!(percentile(&[1.0, f64::NAN, 2.0], 10.0).is_some_and(f64::is_nan));
    }
}
