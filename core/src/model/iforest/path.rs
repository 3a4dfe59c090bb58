//! Path-length arithmetic shared by fitting and scoring.

/// The Euler–Mascheroni constant, as `numpy.euler_gamma`.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// c(n): the average path length of an unsuccessful search in a binary search tree of `n`
/// points — what a leaf holding `n` training rows adds to the depth it sits at.
///
/// c(n) = 2(ln(n − 1) + γ) − 2(n − 1)/n, with c(2) = 1 and c(n ≤ 1) = 0, evaluated in the same
/// order as scikit-learn's `_average_path_length`.
pub fn average_path_length(n: u64) -> f64 {
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        _ => {
            let n = n as f64;
            2.0 * (libm::log(n - 1.0) + EULER_GAMMA) - 2.0 * (n - 1.0) / n
        }
    }
}

/// The depth limit of a tree grown on `max_samples` rows: ceil(log2(max(max_samples, 2))),
/// computed on integers so no float rounding can move it.
pub fn max_depth(max_samples: u64) -> u32 {
    let n = max_samples.max(2);
    // ceil(log2(n)) for n >= 2 is the bit length of n - 1.
    u64::BITS - (n - 1).leading_zeros()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_path_length_values() {
        assert_eq!(average_path_length(0), 0.0);
        assert_eq!(average_path_length(1), 0.0);
        assert_eq!(average_path_length(2), 1.0);
        // Python: 2.0 * (math.log(2.0) + np.euler_gamma) - 2.0 * 2.0 / 3.0
        assert_eq!(average_path_length(3), 1.207_392_357_589_623);
        // sklearn.ensemble._iforest._average_path_length([256])
        assert_eq!(average_path_length(256), 10.244_770_920_119_917);
    }

    #[test]
    fn max_depth_is_ceil_log2() {
        assert_eq!(max_depth(1), 1);
        assert_eq!(max_depth(2), 1);
        assert_eq!(max_depth(3), 2);
        assert_eq!(max_depth(4), 2);
        assert_eq!(max_depth(256), 8);
        assert_eq!(max_depth(257), 9);
        assert_eq!(max_depth(u64::MAX), 64);
    }
}
