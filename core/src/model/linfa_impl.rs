//! linfa's traits for the detectors and the scaler (feature `linfa`), so they fit into code
//! written against linfa: records in a [`DatasetBase`], hyperparameters checked through
//! [`ParamGuard`], [`Fit`] for training, [`Predict`](linfa::traits::Predict) for scores or
//! labels, and the fitted scaler as a [`Transformer`].
//!
//! | linfa | here |
//! | --- | --- |
//! | `ParamGuard` (`check`, `check_ref`) | [`IsolationForestParams`] → [`ValidIsolationForestParams`], [`LofParams`] → [`ValidLofParams`] |
//! | `Fit<Array2<f64>, T, LinfaError>` | both params types (checking first) and [`StandardScalerParams`] |
//! | `PredictInplace<Array2<f64>, Array1<f64>>` | [`IsolationForest`], [`LocalOutlierFactor`]: `score_samples` (lower is more abnormal) |
//! | `PredictInplace<Array2<f64>, Array1<bool>>` | the same two: `true` for an anomaly (`is_anomaly`) |
//! | `Transformer<Array2<f64>, Array2<f64>>`, `Transformer<DatasetBase, DatasetBase>` | [`StandardScaler`] |
//!
//! Every impl goes through the [`Matrix`] API, so linfa's path gives the same bits as
//! [`OutlierDetector`] and [`StandardScaler::transform`]. Records in standard (C) layout are
//! viewed without a copy; any other layout is copied once into it.
//!
//! The detectors' own `fit(Matrix)` and the scaler's `transform(Matrix)` are inherent methods,
//! which Rust prefers to trait methods of the same name: outside generic code, call linfa's as
//! `Fit::fit(&params, &dataset)` and `Transformer::transform(&scaler, records)`.
//! `Predict::predict` has no such twin (`OutlierDetector::predict` is a trait method; import one
//! of the two).
//!
//! linfa's `Predict` and `Transformer` cannot fail, so records they cannot score (a different
//! number of features than the model was fitted on, or a non-finite value) panic with the
//! [`ModelError`] message, as linfa's own models assert their input's shape.
//! [`OutlierDetectorNdarray`](super::OutlierDetectorNdarray) returns those errors instead.

use linfa::dataset::DatasetBase;
use linfa::traits::{Fit, PredictInplace, Transformer};
use linfa::ParamGuard;
use ndarray::{Array1, Array2, ArrayBase, CowArray, Data, Ix2};

use super::{
    IsolationForest, IsolationForestParams, LocalOutlierFactor, LofParams, Matrix, ModelError,
    OutlierDetector, StandardScaler, ValidIsolationForestParams, ValidLofParams,
};

/// Why fitting through linfa failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LinfaError {
    /// The parameters or the records (see [`ModelError`]).
    #[error(transparent)]
    Model(#[from] ModelError),
    /// linfa's own error type, which its [`Fit`] trait requires the error to hold.
    #[error(transparent)]
    Linfa(#[from] linfa::Error),
}

/// The records in standard layout: borrowed when they already are, copied once when not.
fn standard<D: Data<Elem = f64>>(records: &ArrayBase<D, Ix2>) -> CowArray<'_, f64, Ix2> {
    records.as_standard_layout()
}

impl ParamGuard for IsolationForestParams {
    type Checked = ValidIsolationForestParams;
    type Error = ModelError;

    fn check_ref(&self) -> Result<&ValidIsolationForestParams, ModelError> {
        self.validate()?;
        Ok(&self.0)
    }

    fn check(self) -> Result<ValidIsolationForestParams, ModelError> {
        self.validate()?;
        Ok(self.0)
    }
}

impl ParamGuard for LofParams {
    type Checked = ValidLofParams;
    type Error = ModelError;

    fn check_ref(&self) -> Result<&ValidLofParams, ModelError> {
        self.validate()?;
        Ok(&self.0)
    }

    fn check(self) -> Result<ValidLofParams, ModelError> {
        self.validate()?;
        Ok(self.0)
    }
}

/// Fits a forest on the dataset's records (its targets, if any, are ignored).
impl<D: Data<Elem = f64>, T> Fit<ArrayBase<D, Ix2>, T, LinfaError> for ValidIsolationForestParams {
    type Object = IsolationForest;

    fn fit(
        &self,
        dataset: &DatasetBase<ArrayBase<D, Ix2>, T>,
    ) -> Result<IsolationForest, LinfaError> {
        let records = standard(&dataset.records);
        Ok(ValidIsolationForestParams::fit(
            self,
            Matrix::try_from(records.view())?,
        )?)
    }
}

/// Fits a LOF model on the dataset's records (its targets, if any, are ignored).
impl<D: Data<Elem = f64>, T> Fit<ArrayBase<D, Ix2>, T, LinfaError> for ValidLofParams {
    type Object = LocalOutlierFactor;

    fn fit(
        &self,
        dataset: &DatasetBase<ArrayBase<D, Ix2>, T>,
    ) -> Result<LocalOutlierFactor, LinfaError> {
        let records = standard(&dataset.records);
        Ok(ValidLofParams::fit(
            self,
            Matrix::try_from(records.view())?,
        )?)
    }
}

/// The scores of `x`, or a panic naming why they cannot be computed.
fn score<M: OutlierDetector, D: Data<Elem = f64>>(model: &M, x: &ArrayBase<D, Ix2>) -> Vec<f64> {
    if x.nrows() == 0 {
        return Vec::new();
    }
    let records = standard(x);
    let scores = Matrix::try_from(records.view()).and_then(|m| model.score_samples(m));
    match scores {
        Ok(scores) => scores,
        Err(e) => panic!("cannot score these records: {e}"),
    }
}

/// `PredictInplace` of scores (`Array1<f64>`) and anomaly labels (`Array1<bool>`) for a detector.
macro_rules! predict_impls {
    ($detector:ty) => {
        /// scikit-learn's `score_samples`: lower is more abnormal.
        ///
        /// # Panics
        ///
        /// When `y` does not have one value per row, or the records cannot be scored (see the
        /// module docs).
        impl<D: Data<Elem = f64>> PredictInplace<ArrayBase<D, Ix2>, Array1<f64>> for $detector {
            fn predict_inplace<'a>(&'a self, x: &'a ArrayBase<D, Ix2>, y: &mut Array1<f64>) {
                assert_eq!(x.nrows(), y.len(), "one score per row");
                *y = Array1::from(score(self, x));
            }

            fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<f64> {
                Array1::zeros(x.nrows())
            }
        }

        /// `true` for an anomaly (its decision, score − offset, is negative).
        ///
        /// # Panics
        ///
        /// As the scores above.
        impl<D: Data<Elem = f64>> PredictInplace<ArrayBase<D, Ix2>, Array1<bool>> for $detector {
            fn predict_inplace<'a>(&'a self, x: &'a ArrayBase<D, Ix2>, y: &mut Array1<bool>) {
                assert_eq!(x.nrows(), y.len(), "one label per row");
                let offset = OutlierDetector::offset(self);
                // The same float operation and comparison as `OutlierDetector::is_anomaly`.
                *y = score(self, x)
                    .into_iter()
                    .map(|s| s - offset < 0.0)
                    .collect();
            }

            fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<bool> {
                Array1::from_elem(x.nrows(), false)
            }
        }
    };
}

predict_impls!(IsolationForest);
predict_impls!(LocalOutlierFactor);

/// The hyperparameters of a [`StandardScaler`]: none, it learns each column's mean and standard
/// deviation. [`StandardScaler::params`] makes one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StandardScalerParams;

impl StandardScaler {
    /// The scaler's linfa hyperparameters, as `linfa_preprocessing::LinearScaler::standard()`.
    pub fn params() -> StandardScalerParams {
        StandardScalerParams
    }

    fn transform_records<D: Data<Elem = f64>>(&self, x: &ArrayBase<D, Ix2>) -> Array2<f64> {
        if x.nrows() == 0 {
            return Array2::zeros(x.raw_dim());
        }
        let records = standard(x);
        let scaled = Matrix::try_from(records.view()).and_then(|m| self.transform(m));
        match scaled.map(|v| Array2::from_shape_vec(x.raw_dim(), v)) {
            Ok(Ok(scaled)) => scaled,
            Ok(Err(e)) => panic!("cannot scale these records: {e}"),
            Err(e) => panic!("cannot scale these records: {e}"),
        }
    }
}

/// Learns each column's mean and standard deviation from the dataset's records.
impl<D: Data<Elem = f64>, T> Fit<ArrayBase<D, Ix2>, T, LinfaError> for StandardScalerParams {
    type Object = StandardScaler;

    fn fit(
        &self,
        dataset: &DatasetBase<ArrayBase<D, Ix2>, T>,
    ) -> Result<StandardScaler, LinfaError> {
        let records = standard(&dataset.records);
        Ok(StandardScaler::fit(Matrix::try_from(records.view())?)?)
    }
}

/// `(x − mean) / scale` per column, into a new array.
///
/// # Panics
///
/// When the records cannot be scaled (see the module docs).
impl<D: Data<Elem = f64>> Transformer<ArrayBase<D, Ix2>, Array2<f64>> for StandardScaler {
    fn transform(&self, x: ArrayBase<D, Ix2>) -> Array2<f64> {
        self.transform_records(&x)
    }
}

/// The dataset with its records scaled; its targets, weights and feature names are kept.
///
/// # Panics
///
/// When the records cannot be scaled (see the module docs).
impl<D: Data<Elem = f64>, T>
    Transformer<DatasetBase<ArrayBase<D, Ix2>, T>, DatasetBase<Array2<f64>, T>> for StandardScaler
{
    fn transform(&self, dataset: DatasetBase<ArrayBase<D, Ix2>, T>) -> DatasetBase<Array2<f64>, T> {
        let records = self.transform_records(&dataset.records);
        let weights = dataset.weights.clone();
        let names = dataset.feature_names().to_vec();
        dataset
            .with_records(records)
            .with_weights(weights)
            .with_feature_names(names)
    }
}
