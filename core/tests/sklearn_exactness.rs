//! Isolation Forests fitted by scikit-learn, loaded from their trees, must score exactly as
//! scikit-learn does. The fixture is written by `scripts/sklearn_iforest_fixture.py`; no Python
//! is needed here.

mod common;

use mcp_train_core::config::{AutoOr, IsolationForestConfig, MaxSamples};
use mcp_train_core::model::OutlierDetector;
use mcp_train_core::model::{
    percentile, IsolationForest, IsolationForestParams, IsolationTree, Matrix,
};
use serde::Deserialize;

const FIXTURE: &str = include_str!("fixtures/sklearn_iforest.json");
const TOLERANCE: f64 = 1e-12;

#[derive(Deserialize)]
struct Fixture {
    sklearn_version: String,
    n_features: usize,
    train: Vec<Vec<f64>>,
    test: Vec<Vec<f64>>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Params {
    n_estimators: u32,
    max_samples: MaxSamples,
    contamination: AutoOr<f64>,
    max_features: f64,
    bootstrap: bool,
    random_state: u64,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    params: Params,
    max_samples_: usize,
    offset_: f64,
    trees: Vec<IsolationTree>,
    train_score_samples: Vec<f64>,
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

fn forest(case: &Case, n_features: usize) -> IsolationForest {
    IsolationForest::from_parts(
        case.trees.clone(),
        case.max_samples_,
        case.offset_,
        n_features,
    )
    .unwrap_or_else(|e| panic!("{}: {e}", case.name))
}

use common::{assert_close as assert_within, Gap};

fn assert_close(gap: &mut Gap, what: &str, ours: &[f64], theirs: &[f64]) {
    assert_within(gap, what, ours, theirs, TOLERANCE);
}

#[test]
fn fixture_holds_three_scikit_learn_forests() {
    let f = fixture();
    assert!(!f.sklearn_version.is_empty());
    assert_eq!(f.n_features, 5);
    assert_eq!((f.train.len(), f.test.len()), (300, 50));
    assert_eq!(f.cases.len(), 3);
    for case in &f.cases {
        assert_eq!(case.trees.len(), case.params.n_estimators as usize);
        assert_eq!(case.score_samples.len(), f.test.len());
        assert_eq!(case.train_score_samples.len(), f.train.len());
    }
}

#[test]
fn scikit_learn_forests_score_identically() {
    let f = fixture();
    let test = flatten(&f.test);
    let train = flatten(&f.train);
    let test = Matrix::new(&test, f.n_features).unwrap_or_else(|e| panic!("{e}"));
    let train = Matrix::new(&train, f.n_features).unwrap_or_else(|e| panic!("{e}"));
    let mut gap = Gap::default();
    for case in &f.cases {
        let forest = forest(case, f.n_features);
        let name = &case.name;
        let scores = forest.score_samples(test).unwrap_or_else(|e| panic!("{e}"));
        assert_close(
            &mut gap,
            &format!("{name} score_samples"),
            &scores,
            &case.score_samples,
        );
        let train_scores = forest
            .score_samples(train)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_close(
            &mut gap,
            &format!("{name} training score_samples"),
            &train_scores,
            &case.train_score_samples,
        );
        common::assert_verdicts(
            &mut gap,
            name,
            &forest,
            test,
            &case.decision_function,
            &case.predict,
            TOLERANCE,
        );
        for (i, row) in test.rows().enumerate() {
            let one = forest.score_row(row).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(one, scores[i], "{name} score_row {i}");
        }
    }
    eprintln!(
        "scikit-learn {}: max |difference| {:e}, {} of {} values bit-identical",
        f.sklearn_version, gap.max, gap.identical, gap.total
    );
}

#[test]
fn offset_is_scikit_learns_percentile_of_the_training_scores() {
    let f = fixture();
    for case in &f.cases {
        match case.params.contamination {
            AutoOr::Auto => assert_eq!(case.offset_, -0.5, "{}", case.name),
            AutoOr::Value(c) => {
                let ours = percentile(&case.train_score_samples, 100.0 * c);
                let ours = ours.unwrap_or_else(|| panic!("{}: no percentile", case.name));
                assert!(
                    (ours - case.offset_).abs() <= TOLERANCE,
                    "{}: ours {ours}, scikit-learn {}",
                    case.name,
                    case.offset_
                );
            }
        }
    }
}

/// Our own fit draws different random numbers than scikit-learn, so its scores differ; but it
/// is the same algorithm, so on the same data it must rank rows much as scikit-learn does.
#[test]
fn our_fit_ranks_rows_like_scikit_learn() {
    let f = fixture();
    let train = flatten(&f.train);
    let test = flatten(&f.test);
    let train = Matrix::new(&train, f.n_features).unwrap_or_else(|e| panic!("{e}"));
    let test = Matrix::new(&test, f.n_features).unwrap_or_else(|e| panic!("{e}"));
    for case in &f.cases {
        let p = &case.params;
        let config = IsolationForestConfig {
            // More trees than the fixture's, so our side of the comparison is less noisy.
            n_estimators: 300,
            max_samples: p.max_samples,
            contamination: p.contamination,
            max_features: p.max_features,
            bootstrap: p.bootstrap,
            random_state: p.random_state,
        };
        let ours = IsolationForestParams::from(config)
            .fit(train)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ours.max_samples(), case.max_samples_, "{}", case.name);
        let scores = ours.score_samples(test).unwrap_or_else(|e| panic!("{e}"));
        let rho = spearman(&scores, &case.score_samples);
        assert!(rho > 0.9, "{}: rank correlation {rho}", case.name);
    }
}

fn ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    for (rank, &i) in order.iter().enumerate() {
        r[i] = rank as f64;
    }
    r
}

fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let (ra, rb) = (ranks(a), ranks(b));
    let n = a.len() as f64;
    let d2: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - y) * (x - y)).sum();
    1.0 - 6.0 * d2 / (n * (n * n - 1.0))
}
