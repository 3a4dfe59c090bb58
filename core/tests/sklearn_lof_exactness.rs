//! Our Local Outlier Factor, fitted on scikit-learn's training rows, must reproduce
//! scikit-learn's `LocalOutlierFactor(novelty=True)`. The fixture is written by
//! `scripts/sklearn_lof_fixture.py`; no Python is needed here.

mod common;

use mcp_train_core::config::{AutoOr, LofConfig};
use mcp_train_core::model::OutlierDetector;
use mcp_train_core::model::{LocalOutlierFactor, LofParams, Matrix};
use serde::Deserialize;

const FIXTURE: &str = include_str!("fixtures/sklearn_lof.json");
const TOLERANCE: f64 = 1e-10;

#[derive(Deserialize)]
struct Fixture {
    sklearn_version: String,
    n_features: usize,
    train: Vec<Vec<f64>>,
    test: Vec<Vec<f64>>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    params: LofConfig,
    fit_method: String,
    n_neighbors_: usize,
    offset_: f64,
    negative_outlier_factor_: Vec<f64>,
    score_samples: Vec<f64>,
    decision_function: Vec<f64>,
    predict: Vec<i8>,
}

fn fixture() -> Fixture {
    serde_json::from_str(FIXTURE).unwrap_or_else(|e| panic!("fixture: {e}"))
}

fn flatten(rows: &[Vec<f64>]) -> Vec<f64> {
    rows.iter().flatten().copied().collect()
}

fn fit(case: &Case, train: Matrix<'_>) -> LocalOutlierFactor {
    LofParams::from(case.params.clone())
        .fit(train)
        .unwrap_or_else(|e| panic!("{}: {e}", case.name))
}

use common::{assert_close as assert_within, Gap};

fn assert_close(gap: &mut Gap, what: &str, ours: &[f64], theirs: &[f64]) {
    assert_within(gap, what, ours, theirs, TOLERANCE);
}

#[test]
fn fixture_holds_three_scikit_learn_fits() {
    let f = fixture();
    assert!(!f.sklearn_version.is_empty());
    assert_eq!(f.n_features, 4);
    assert_eq!((f.train.len(), f.test.len()), (200, 60));
    assert_eq!(f.cases.len(), 3);
    for case in &f.cases {
        assert_eq!(case.negative_outlier_factor_.len(), f.train.len());
        assert_eq!(case.score_samples.len(), f.test.len());
        assert!(["kd_tree", "brute"].contains(&case.fit_method.as_str()));
    }
}

#[test]
fn our_fit_reproduces_scikit_learn() {
    let f = fixture();
    let train = flatten(&f.train);
    let test = flatten(&f.test);
    let train = Matrix::new(&train, f.n_features).unwrap_or_else(|e| panic!("{e}"));
    let test = Matrix::new(&test, f.n_features).unwrap_or_else(|e| panic!("{e}"));
    let mut gap = Gap::default();
    for case in &f.cases {
        let name = &case.name;
        let model = fit(case, train);
        assert_eq!(
            model.n_neighbors(),
            case.n_neighbors_,
            "{name} n_neighbors_"
        );
        assert_eq!(model.n_samples_fit(), f.train.len(), "{name} n_samples_fit");
        assert_close(
            &mut gap,
            &format!("{name} negative_outlier_factor_"),
            model.negative_outlier_factor(),
            &case.negative_outlier_factor_,
        );
        assert_close(
            &mut gap,
            &format!("{name} offset_"),
            &[model.offset()],
            &[case.offset_],
        );
        let scores = model.score_samples(test).unwrap_or_else(|e| panic!("{e}"));
        assert_close(
            &mut gap,
            &format!("{name} score_samples"),
            &scores,
            &case.score_samples,
        );
        common::assert_verdicts(
            &mut gap,
            name,
            &model,
            test,
            &case.decision_function,
            &case.predict,
            TOLERANCE,
        );
    }
    eprintln!(
        "scikit-learn {}: max |difference| {:e}, {} of {} values bit-identical",
        f.sklearn_version, gap.max, gap.identical, gap.total
    );
}

/// Where scikit-learn finds neighbours with its k-d tree, it sums squared differences in the
/// same order as we do, so every value should be the same float, not just close.
#[test]
fn k_d_tree_fits_are_bit_identical() {
    let f = fixture();
    let train = flatten(&f.train);
    let test = flatten(&f.test);
    let train = Matrix::new(&train, f.n_features).unwrap_or_else(|e| panic!("{e}"));
    let test = Matrix::new(&test, f.n_features).unwrap_or_else(|e| panic!("{e}"));
    for case in f.cases.iter().filter(|c| c.fit_method == "kd_tree") {
        let model = fit(case, train);
        assert_eq!(
            model.negative_outlier_factor(),
            case.negative_outlier_factor_.as_slice(),
            "{}",
            case.name
        );
        assert_eq!(model.offset(), case.offset_, "{}", case.name);
        let scores = model.score_samples(test).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(scores, case.score_samples, "{}", case.name);
    }
}

#[test]
fn contamination_auto_means_offset_minus_1_5() {
    let f = fixture();
    for case in &f.cases {
        if case.params.contamination == AutoOr::Auto {
            assert_eq!(case.offset_, -1.5, "{}", case.name);
        }
    }
}
