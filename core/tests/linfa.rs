//! The detectors and the scaler driven through linfa's traits (feature `linfa`): a linfa
//! `Dataset` of wifi-v1 features with their labels in, scaled records, scores and anomaly labels
//! out — bit for bit what the core's own API gives on the same data.

use linfa::prelude::*;
use mcp_train_core::config::AutoOr;
use mcp_train_core::export::{parse_export, ValidateOptions};
use mcp_train_core::features::{extract, FeatureConfig};
use mcp_train_core::model::{
    IsolationForestParams, LinfaError, LofParams, Matrix, ModelError, StandardScaler,
};
use mcp_train_core::synth::{write_export, SynthConfig};
use ndarray::{Array1, Array2, Ix1, ShapeBuilder};

/// wifi-v1 features of a labelled synthetic export: records and whether each is an attack.
fn labelled_features(records: usize) -> (Array2<f64>, Array1<bool>) {
    let synth = SynthConfig {
        records,
        anomaly_ratio: 0.06,
        seed: 5,
        ..SynthConfig::default()
    }
    .check()
    .expect("synth config");
    let mut bytes = Vec::new();
    write_export(&synth, &mut bytes).expect("synthetic export");
    let parsed = parse_export(&bytes, &ValidateOptions::default()).expect("a valid export");
    let features = extract(&parsed.export, &FeatureConfig::default(), None);
    let (n_rows, n_cols) = (features.n_rows(), features.n_cols());
    let labels = features.labels.iter().map(|l| *l == Some(true)).collect();
    let records = Array2::from_shape_vec((n_rows, n_cols), features.data).expect("row-major");
    (records, labels)
}

/// The core's `OutlierDetector` API, in its own scope: its `predict` and linfa's would be
/// ambiguous where both traits are imported.
mod core_api {
    use mcp_train_core::model::{Matrix, OutlierDetector};

    /// `score_samples` and `is_anomaly` of `x`.
    pub fn scores_and_flags(model: &impl OutlierDetector, x: Matrix<'_>) -> (Vec<f64>, Vec<bool>) {
        let scores = model.score_samples(x).expect("scores");
        let flags = model.is_anomaly(x).expect("flags");
        (scores, flags)
    }
}

fn bits(values: impl IntoIterator<Item = f64>) -> Vec<u64> {
    values.into_iter().map(f64::to_bits).collect()
}

/// The core's own path: scaler, then the detector's scores and anomaly flags.
fn core_scaled(records: &Array2<f64>) -> (StandardScaler, Vec<f64>) {
    let data = records.as_slice().expect("standard layout");
    let x = Matrix::new(data, records.ncols()).expect("a matrix");
    let scaler = StandardScaler::fit(x).expect("a scaler");
    let scaled = scaler.transform(x).expect("scaled");
    (scaler, scaled)
}

#[test]
fn isolation_forest_through_linfa_scores_bit_for_bit_like_the_core() {
    let (records, truth) = labelled_features(3_000);
    let n_cols = records.ncols();
    let dataset = Dataset::new(records.clone(), truth.clone());

    // linfa: fit the scaler, transform the dataset (targets kept), fit and predict.
    let scaler = Fit::fit(&StandardScaler::params(), &dataset).expect("a scaler");
    let scaled = Transformer::transform(&scaler, dataset);
    assert_eq!(scaled.targets(), &truth);
    let params = IsolationForestParams::new()
        .n_estimators(50)
        .random_state(7)
        .contamination(AutoOr::Value(0.06));
    let forest = Fit::fit(&params, &scaled).expect("a forest");
    let scores: Array1<f64> = forest.predict(&scaled);
    let flagged: Array1<bool> = forest.predict(&scaled);

    // The core's API on the same data.
    let (core_scaler, core_scaled) = core_scaled(&records);
    assert_eq!(scaler, core_scaler);
    assert_eq!(
        bits(scaled.records.iter().copied()),
        bits(core_scaled.clone())
    );
    let x = Matrix::new(&core_scaled, n_cols).expect("a matrix");
    let core_forest = params.fit(x).expect("a forest");
    assert_eq!(forest, core_forest);
    let (core_scores, core_flags) = core_api::scores_and_flags(&core_forest, x);
    assert_eq!(bits(scores.iter().copied()), bits(core_scores));
    assert_eq!(flagged.to_vec(), core_flags);

    // The labels compare with the ground truth through linfa's metrics.
    let predicted: DatasetBase<_, Array1<bool>> = forest.predict(scaled.view());
    let matrix = predicted
        .confusion_matrix(&scaled)
        .expect("a confusion matrix");
    assert!(matrix.accuracy() > 0.9, "{matrix:?}");
    // An attack is far more likely to be flagged than a normal record.
    let rate = |attack: bool| {
        let rows = truth.iter().zip(&flagged).filter(|(&t, _)| t == attack);
        let (n, hits) = rows.fold((0, 0), |(n, h), (_, &f)| (n + 1, h + usize::from(f)));
        hits as f64 / n as f64
    };
    assert!(
        rate(true) > 5.0 * rate(false),
        "attacks flagged {}, normal records {}",
        rate(true),
        rate(false)
    );
}

#[test]
fn lof_through_linfa_scores_bit_for_bit_like_the_core() {
    let (records, truth) = labelled_features(1_500);
    let n_cols = records.ncols();
    let dataset = Dataset::new(records.clone(), truth);
    let scaler = Fit::fit(&StandardScaler::params(), &dataset).expect("a scaler");
    let scaled = Transformer::transform(&scaler, dataset);
    let params = LofParams::new().n_neighbors(15).random_state(3);
    let lof = Fit::fit(&params, &scaled).expect("a LOF model");
    let scores: Array1<f64> = lof.predict(&scaled.records);
    let flagged: Array1<bool> = lof.predict(&scaled.records);

    let (_, core_scaled) = core_scaled(&records);
    let x = Matrix::new(&core_scaled, n_cols).expect("a matrix");
    let core_lof = params.fit(x).expect("a LOF model");
    assert_eq!(lof, core_lof);
    let (core_scores, core_flags) = core_api::scores_and_flags(&core_lof, x);
    assert_eq!(bits(scores.iter().copied()), bits(core_scores));
    assert_eq!(flagged.to_vec(), core_flags);
    assert!(flagged.iter().any(|&f| f), "some rows are flagged");
}

#[test]
fn records_in_any_layout_give_the_same_scores() {
    let (records, _) = labelled_features(800);
    let forest = Fit::fit(
        &IsolationForestParams::new().n_estimators(20),
        &DatasetBase::from(records.clone()),
    )
    .expect("a forest");
    let want: Array1<f64> = forest.predict(&records);
    // Fortran order and a transposed view of a transposed copy are copied into C order once.
    let mut fortran = Array2::zeros(records.raw_dim().f());
    fortran.assign(&records);
    assert!(fortran.as_slice().is_none(), "column-major");
    let got: Array1<f64> = forest.predict(&fortran);
    assert_eq!(bits(got.iter().copied()), bits(want.iter().copied()));
    let transposed = records.t().to_owned();
    let got: Array1<f64> = forest.predict(&transposed.t());
    assert_eq!(bits(got.iter().copied()), bits(want.iter().copied()));
    // Fitting on the Fortran-ordered records gives the same forest as well.
    let refit = Fit::fit(
        &IsolationForestParams::new().n_estimators(20),
        &DatasetBase::from(fortran),
    )
    .expect("a forest");
    assert_eq!(refit, forest);
    // And scaling through linfa does not depend on the layout either.
    let scaler = StandardScaler::fit(
        Matrix::new(records.as_slice().expect("C order"), records.ncols()).expect("a matrix"),
    )
    .expect("a scaler");
    let c: Array2<f64> = Transformer::transform(&scaler, records.view());
    let t: Array2<f64> = Transformer::transform(&scaler, transposed.t());
    assert_eq!(bits(c.iter().copied()), bits(t.iter().copied()));
}

/// Generic code written against linfa's traits alone takes the detectors' parameters.
fn fit_and_flag<P>(params: P, dataset: &Dataset<f64, bool, Ix1>) -> Result<Array1<bool>, LinfaError>
where
    P: Fit<Array2<f64>, Array1<bool>, LinfaError>,
    P::Object: PredictInplace<Array2<f64>, Array1<bool>>,
{
    let model = params.fit(dataset)?;
    Ok(model.predict(&dataset.records))
}

#[test]
fn unchecked_parameters_are_checked_before_fitting() {
    let (records, truth) = labelled_features(600);
    let dataset = Dataset::new(records, truth);
    let flags = fit_and_flag(IsolationForestParams::new().n_estimators(10), &dataset)
        .expect("flags from a forest");
    assert_eq!(flags.len(), dataset.nsamples());
    let flags = fit_and_flag(LofParams::new(), &dataset).expect("flags from LOF");
    assert_eq!(flags.len(), dataset.nsamples());

    let bad = IsolationForestParams::new().n_estimators(0);
    match fit_and_flag(bad.clone(), &dataset) {
        Err(LinfaError::Model(ModelError::InvalidParameter { name, .. })) => {
            assert_eq!(name, "n_estimators")
        }
        other => panic!("n_estimators 0 was accepted: {other:?}"),
    }
    assert!(ParamGuard::check_ref(&bad).is_err());
    assert!(matches!(
        ParamGuard::check(LofParams::new().max_samples(1)),
        Err(ModelError::InvalidParameter {
            name: "max_samples",
            ..
        })
    ));
    let checked = ParamGuard::check(IsolationForestParams::new().random_state(9)).expect("valid");
    assert_eq!(
        Some(&checked),
        IsolationForestParams::new()
            .random_state(9)
            .check()
            .ok()
            .as_ref()
    );

    // Records the model cannot use are an error from `fit`, not a panic.
    let empty = DatasetBase::from(Array2::<f64>::zeros((0, 3)));
    assert!(matches!(
        Fit::fit(&IsolationForestParams::new(), &empty),
        Err(LinfaError::Model(ModelError::EmptyData { .. }))
    ));
    let nan = DatasetBase::from(ndarray::array![[1.0, f64::NAN], [2.0, 3.0]]);
    assert!(matches!(
        Fit::fit(&StandardScaler::params(), &nan),
        Err(LinfaError::Model(ModelError::NonFinite {
            row: 0,
            col: 1,
            ..
        }))
    ));
}

#[test]
#[should_panic(expected = "the model was fitted on 2 features, but the data has 3")]
fn predicting_on_the_wrong_number_of_features_panics_with_the_reason() {
    let train = ndarray::array![[0.0, 1.0], [0.5, 1.5], [1.0, 0.0], [9.0, 9.0]];
    let forest = Fit::fit(
        &IsolationForestParams::new().n_estimators(5),
        &DatasetBase::from(train),
    )
    .expect("a forest");
    let _: Array1<f64> = forest.predict(&Array2::<f64>::zeros((2, 3)));
}
