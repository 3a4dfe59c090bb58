//! Helpers shared by the scikit-learn exactness tests.

/// How far apart our values are from scikit-learn's, over every value compared.
#[derive(Debug, Default)]
pub struct Gap {
    pub max: f64,
    pub identical: usize,
    pub total: usize,
}

/// Panics naming the row if a difference exceeds `tolerance`; adds up the gap.
pub fn assert_close(gap: &mut Gap, what: &str, ours: &[f64], theirs: &[f64], tolerance: f64) {
    assert_eq!(ours.len(), theirs.len(), "{what}: lengths");
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        let d = (a - b).abs();
        assert!(
            d <= tolerance,
            "{what}: row {i}: ours {a}, scikit-learn {b}"
        );
        gap.max = gap.max.max(d);
        gap.identical += usize::from(a.to_bits() == b.to_bits());
        gap.total += 1;
    }
}
