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

/// Checks `decision_function` (within `tolerance`), `predict` and `is_anomaly` on `test` against
/// scikit-learn's `decision_function` and `predict`.
pub fn assert_verdicts(
    gap: &mut Gap,
    name: &str,
    model: &dyn mcp_train_core::model::OutlierDetector,
    test: mcp_train_core::model::Matrix<'_>,
    expected_decision: &[f64],
    expected_predict: &[i8],
    tolerance: f64,
) {
    let decision = model
        .decision_function(test)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_close(
        gap,
        &format!("{name} decision_function"),
        &decision,
        expected_decision,
        tolerance,
    );
    let predict = model.predict(test).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(predict, expected_predict, "{name} predict");
    let flagged = model.is_anomaly(test).unwrap_or_else(|e| panic!("{e}"));
    let expected: Vec<bool> = expected_predict.iter().map(|&p| p == -1).collect();
    assert_eq!(flagged, expected, "{name} is_anomaly");
}
