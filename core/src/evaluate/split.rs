//! The seeded, stratified train/test split, and the seeded shuffles behind it.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Splits the row indices `0..labels.len()` into `(train, test)`, both sorted ascending,
/// disjoint and together covering every row.
///
/// The test part gets `ceil(test_size · n)` rows, as in scikit-learn's `train_test_split`,
/// kept within `1..=n − 1` so that neither part is empty when `n ≥ 2` (scikit-learn raises
/// instead; `n < 2` puts everything in train). `test_size` outside `[0, 1]` is clamped into it,
/// NaN counting as 0.
///
/// When both classes occur the split is stratified like scikit-learn's `stratify=labels`: the
/// test rows are shared between the classes in proportion to their sizes (largest remainder,
/// a tie going to the anomalies), and each class is shuffled and cut separately. One
/// adjustment: a class with at least two rows keeps at least one row on each side when the
/// other class can spare it, so that a rare anomaly class still shows up in the test part
/// (with 2 anomalies in 1000 rows and `test_size` 0.2, proportional sharing would give the
/// test part none).
///
/// Deterministic per `seed` (ChaCha8 drawing `u64`s: the same on every platform), though not the
/// same rows as scikit-learn's NumPy generator would pick.
pub fn train_test_split(labels: &[bool], test_size: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let n = labels.len();
    let n_test = test_rows(n, test_size);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut anomalies, mut normals): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| labels[i]);
    let (mut train, mut test) = (Vec::with_capacity(n - n_test), Vec::with_capacity(n_test));
    if anomalies.is_empty() || normals.is_empty() {
        let mut all: Vec<usize> = (0..n).collect();
        shuffle(&mut all, &mut rng);
        test.extend_from_slice(&all[..n_test]);
        train.extend_from_slice(&all[n_test..]);
    } else {
        let anomalies_test = stratified_share(n_test, anomalies.len(), normals.len());
        for (class, class_test) in [
            (&mut anomalies, anomalies_test),
            (&mut normals, n_test - anomalies_test),
        ] {
            shuffle(class, &mut rng);
            test.extend_from_slice(&class[..class_test]);
            train.extend_from_slice(&class[class_test..]);
        }
    }
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

/// How many of `n` rows go to the test part.
fn test_rows(n: usize, test_size: f64) -> usize {
    if n < 2 {
        return 0;
    }
    let share = if test_size >= 0.0 {
        test_size.min(1.0)
    } else {
        0.0
    };
    // `as usize` saturates, and share·n ≤ n anyway.
    let rows = libm::ceil(share * n as f64) as usize;
    rows.clamp(1, n - 1)
}

/// How many of the `n_test` test rows go to the anomalies, given `a` anomalies and `b` normal
/// rows (both ≥ 1, `1 ≤ n_test < a + b`).
fn stratified_share(n_test: usize, a: usize, b: usize) -> usize {
    let (n_test, a, b) = (n_test as u128, a as u128, b as u128);
    let n = a + b;
    // Largest remainder: the two floors leave at most one row over; the class with the larger
    // fractional part gets it.
    let (a_floor, a_rem) = ((n_test * a) / n, (n_test * a) % n);
    let (b_floor, b_rem) = ((n_test * b) / n, (n_test * b) % n);
    let mut a_test = a_floor;
    let mut b_test = b_floor;
    if a_test + b_test < n_test {
        if a_rem >= b_rem {
            a_test += 1;
        } else {
            b_test += 1;
        }
    }
    // Keep a class of two or more rows on both sides, taking from the other class only what it
    // can spare without emptying one of its own sides.
    let spare = |test: u128, size: u128| size < 2 || test > 1;
    if a >= 2 && a_test == 0 && spare(b_test, b) && b_test > 0 {
        a_test += 1;
        b_test -= 1;
    } else if b >= 2 && b_test == 0 && spare(a_test, a) && a_test > 0 {
        a_test -= 1;
        b_test += 1;
    }
    let spare_train = |test: u128, size: u128| size < 2 || size - test > 1;
    if a >= 2 && a_test == a && spare_train(b_test, b) && b_test < b {
        a_test -= 1;
    } else if b >= 2 && b_test == b && spare_train(a_test, a) && a_test < a {
        a_test += 1;
    }
    // Never more than n_test, so the conversion back is lossless.
    a_test as usize
}

/// Fisher–Yates shuffle drawing `u64`s, so wasm32 (32-bit `usize`) and 64-bit targets consume
/// the generator identically.
pub(super) fn shuffle<T>(items: &mut [T], rng: &mut ChaCha8Rng) {
    for i in (1..items.len()).rev() {
        let j = rng.gen_range(0..=i as u64) as usize;
        items.swap(i, j);
    }
}

/// `k` distinct indices out of `0..n`, drawn uniformly without replacement, ascending. All of
/// them when `k ≥ n`. O(n) time and memory.
pub(super) fn sample_indices(n: usize, k: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut indices: Vec<usize> = (0..n).collect();
    if k < n {
        // A partial Fisher–Yates: the first k slots end up a uniform sample.
        for i in 0..k {
            let j = rng.gen_range(i as u64..n as u64) as usize;
            indices.swap(i, j);
        }
        indices.truncate(k);
        indices.sort_unstable();
    }
    indices
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(n: usize, anomalies: usize) -> Vec<bool> {
        // Anomalies spread over the rows, not bunched at the start.
        (0..n).map(|i| i * anomalies % n < anomalies).collect()
    }

    fn assert_partition(train: &[usize], test: &[usize], n: usize) {
        assert!(
            train.windows(2).all(|w| w[0] < w[1]),
            "train sorted, distinct"
        );
        assert!(
            test.windows(2).all(|w| w[0] < w[1]),
            "test sorted, distinct"
        );
        let mut all: Vec<usize> = train.iter().chain(test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..n).collect::<Vec<_>>(), "disjoint and covering");
    }

    #[test]
    fn split_sizes_follow_test_size() {
        let (train, test) = train_test_split(&[false; 1000], 0.2, 42);
        assert_eq!((train.len(), test.len()), (800, 200));
        assert_partition(&train, &test, 1000);
        // ceil, like scikit-learn: 0.25 · 10 = 2.5 → 3.
        let (train, test) = train_test_split(&[false; 10], 0.25, 42);
        assert_eq!((train.len(), test.len()), (7, 3));
    }

    #[test]
    fn stratified_split_keeps_the_class_ratio() {
        let y = labels(1000, 50);
        assert_eq!(y.iter().filter(|&&l| l).count(), 50);
        let (train, test) = train_test_split(&y, 0.2, 7);
        assert_partition(&train, &test, 1000);
        assert_eq!(test.len(), 200);
        assert_eq!(test.iter().filter(|&&i| y[i]).count(), 10);
        assert_eq!(train.iter().filter(|&&i| y[i]).count(), 40);
    }

    #[test]
    fn stratified_split_gives_the_leftover_row_to_the_larger_remainder() {
        // 10 rows, 3 anomalies, 4 test rows: shares 1.2 and 2.8 → 1 anomaly, 3 normal.
        let y = labels(10, 3);
        let (_, test) = train_test_split(&y, 0.4, 1);
        assert_eq!(test.len(), 4);
        assert_eq!(test.iter().filter(|&&i| y[i]).count(), 1);
    }

    #[test]
    fn rare_anomalies_still_reach_the_test_part() {
        // Proportional sharing would give 0.4 of a test anomaly.
        let y = labels(1000, 2);
        let (train, test) = train_test_split(&y, 0.2, 3);
        assert_partition(&train, &test, 1000);
        assert_eq!(test.len(), 200);
        assert_eq!(test.iter().filter(|&&i| y[i]).count(), 1);
        assert_eq!(train.iter().filter(|&&i| y[i]).count(), 1);
        // And a class that would go entirely to test keeps a training row.
        // (10 rows, 2 anomalies, 8 test rows: shares 1.6 and 6.4 → 2 anomalies, 6 normal.)
        let y = labels(10, 2);
        let (train, test) = train_test_split(&y, 0.8, 3);
        assert_eq!(test.len(), 8);
        assert_eq!(train.iter().filter(|&&i| y[i]).count(), 1);
    }

    #[test]
    fn split_is_deterministic_per_seed() {
        let y = labels(500, 40);
        let a = train_test_split(&y, 0.3, 11);
        assert_eq!(a, train_test_split(&y, 0.3, 11));
        assert_ne!(a, train_test_split(&y, 0.3, 12));
    }

    #[test]
    fn split_of_tiny_or_odd_inputs_never_panics() {
        assert_eq!(train_test_split(&[], 0.2, 0), (vec![], vec![]));
        assert_eq!(train_test_split(&[true], 0.2, 0), (vec![0], vec![]));
        for size in [f64::NAN, -1.0, 0.0, 1.0, 7.0] {
            let (train, test) = train_test_split(&[true, false, true], size, 0);
            assert_partition(&train, &test, 3);
            assert!(!train.is_empty() && !test.is_empty());
        }
    }

    #[test]
    fn sampled_indices_are_distinct_ascending_and_seeded() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let s = sample_indices(100, 10, &mut rng);
        assert_eq!(s.len(), 10);
        assert!(s.windows(2).all(|w| w[0] < w[1]) && s.iter().all(|&i| i < 100));
        assert_eq!(sample_indices(3, 10, &mut rng), [0, 1, 2]);
    }
}
