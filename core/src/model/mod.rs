//! Detectors: a [`StandardScaler`] and an [`IsolationForest`] faithful to scikit-learn.
//!
//! Every model follows the same path: parameters → [`IsolationForestParams::check`] → fit → a
//! fitted model that scores rows. Feature matrices are row-major `&[f64]` viewed through a
//! [`Matrix`], whose constructor rejects empty, ragged and non-finite input once, so the fitting
//! and scoring loops need no further checks.
//!
//! The same data, parameters and seed give the same bits on every platform (native and
//! `wasm32-unknown-unknown`): randomness comes from a seeded ChaCha8 generator drawn only through
//! fixed-width integers and `f64`, and transcendental maths goes through `libm`.
//!
//! ```
//! use mcp_train_core::model::{IsolationForestParams, Matrix, OutlierDetector, StandardScaler};
//!
//! // Two features; the last row is far from the others.
//! let rows = [0.0, 1.0, 0.1, 1.1, -0.1, 0.9, 0.05, 1.05, -0.05, 0.95, 8.0, -7.0];
//! let x = Matrix::new(&rows, 2).unwrap();
//! let scaler = StandardScaler::fit(x).unwrap();
//! let scaled = scaler.transform(x).unwrap();
//! let scaled = Matrix::new(&scaled, 2).unwrap();
//!
//! let forest = IsolationForestParams::new().random_state(7).fit(scaled).unwrap();
//! let scores = forest.score_samples(scaled).unwrap();
//! let lowest = (0..scores.len()).min_by(|&a, &b| scores[a].total_cmp(&scores[b]));
//! assert_eq!(lowest, Some(5));
//! ```

mod error;
pub mod iforest;
#[cfg(feature = "linfa")]
mod linfa_impl;
pub mod lof;
mod matrix;
#[cfg(feature = "ndarray")]
mod ndarray_io;
mod percentile;
mod sample;
mod scaler;
#[cfg(test)]
mod test_support;

pub use error::ModelError;
pub use iforest::N_ESTIMATORS_MAX;
pub use iforest::{
    average_path_length, max_depth, IsolationForest, IsolationForestParams, IsolationTree,
    ValidIsolationForestParams,
};
#[cfg(feature = "linfa")]
pub use linfa_impl::{LinfaError, StandardScalerParams};
pub use lof::{LocalOutlierFactor, LofParams, ValidLofParams, N_NEIGHBORS_MAX};
pub use matrix::Matrix;
#[cfg(feature = "ndarray")]
pub use ndarray_io::OutlierDetectorNdarray;
pub use percentile::percentile;
pub use scaler::StandardScaler;

/// The one bound check of a count hyperparameter (`n_estimators`, `n_neighbors`): 1 to `max`.
pub(crate) fn check_count(n: u32, max: u32) -> Result<(), String> {
    match n {
        0 => Err("0 must be at least 1".into()),
        n if n > max => Err(format!("{n} is out of range 1..={max}")),
        _ => Ok(()),
    }
}

/// What every fitted detector offers. Scores follow scikit-learn: `score_samples` is higher for
/// normal rows; `decision = score − offset`; a row is an anomaly when its decision is negative.
/// Detectors implement the first three methods; the rest follow from them.
pub trait OutlierDetector {
    /// Columns the detector was fitted on.
    fn n_features(&self) -> usize;

    /// The threshold on `score_samples` (scikit-learn's `offset_`).
    fn offset(&self) -> f64;

    /// Scores `x` into a caller's buffer of `x.n_rows()` values, so large inputs can be scored
    /// chunk by chunk without allocating per chunk.
    fn score_samples_into(&self, x: Matrix<'_>, out: &mut [f64]) -> Result<(), ModelError>;

    /// scikit-learn's `score_samples`: lower is more abnormal.
    fn score_samples(&self, x: Matrix<'_>) -> Result<Vec<f64>, ModelError> {
        let mut out = vec![0.0; x.n_rows()];
        self.score_samples_into(x, &mut out)?;
        Ok(out)
    }

    /// `score_samples − offset`: negative for anomalies (scikit-learn's `decision_function`).
    fn decision_function(&self, x: Matrix<'_>) -> Result<Vec<f64>, ModelError> {
        let offset = self.offset();
        let mut scores = self.score_samples(x)?;
        for s in &mut scores {
            *s -= offset;
        }
        Ok(scores)
    }

    /// −1 for anomalies (decision < 0), 1 for inliers (scikit-learn's `predict`).
    fn predict(&self, x: Matrix<'_>) -> Result<Vec<i8>, ModelError> {
        Ok(self
            .decision_function(x)?
            .into_iter()
            .map(|d| if d < 0.0 { -1 } else { 1 })
            .collect())
    }

    /// Whether each row is an anomaly (decision < 0).
    fn is_anomaly(&self, x: Matrix<'_>) -> Result<Vec<bool>, ModelError> {
        Ok(self
            .decision_function(x)?
            .into_iter()
            .map(|d| d < 0.0)
            .collect())
    }
}

/// Scores like [`OutlierDetector::score_samples_into`], splitting large inputs over the machine's
/// cores. Each row's score depends only on that row, so the result is bit-identical to scoring on
/// one thread. On wasm32 (no threads) and for small inputs it runs on the calling thread.
pub fn score_in_parallel<D: OutlierDetector + Sync + ?Sized>(
    detector: &D,
    x: Matrix<'_>,
    out: &mut [f64],
) -> Result<(), ModelError> {
    /// Rows below which scoring stays on the calling thread.
    const PARALLEL_MIN_ROWS: usize = 50_000;
    let threads = crate::parallel::threads();
    let (rows, n_cols) = (x.n_rows(), x.n_cols());
    if threads > 1 && rows >= PARALLEL_MIN_ROWS && out.len() == rows {
        let chunk = rows.div_ceil(threads);
        let parts: Vec<_> = x
            .as_slice()
            .chunks(chunk * n_cols)
            .zip(out.chunks_mut(chunk))
            .collect();
        return crate::parallel::map(parts, |(rows, out)| {
            detector.score_samples_into(Matrix::new(rows, n_cols)?, out)
        })
        .into_iter()
        .collect();
    }
    #[cfg(target_arch = "wasm32")]
    {
        // Browsers run a wasm function unoptimised until its next call (no on-stack
        // replacement), so one call over a million rows would never speed up: score in slices.
        const SLICE_ROWS: usize = 4096;
        let n_cols = x.n_cols();
        if x.n_rows() > SLICE_ROWS && out.len() == x.n_rows() && n_cols > 0 {
            return x
                .as_slice()
                .chunks(SLICE_ROWS * n_cols)
                .zip(out.chunks_mut(SLICE_ROWS))
                .try_for_each(|(rows, out)| {
                    detector.score_samples_into(Matrix::new(rows, n_cols)?, out)
                });
        }
    }
    detector.score_samples_into(x, out)
}

impl OutlierDetector for IsolationForest {
    fn n_features(&self) -> usize {
        IsolationForest::n_features(self)
    }
    fn offset(&self) -> f64 {
        IsolationForest::offset(self)
    }
    fn score_samples_into(&self, x: Matrix<'_>, out: &mut [f64]) -> Result<(), ModelError> {
        IsolationForest::score_samples_into(self, x, out)
    }
}

impl OutlierDetector for LocalOutlierFactor {
    fn n_features(&self) -> usize {
        LocalOutlierFactor::n_features(self)
    }
    fn offset(&self) -> f64 {
        LocalOutlierFactor::offset(self)
    }
    fn score_samples_into(&self, x: Matrix<'_>, out: &mut [f64]) -> Result<(), ModelError> {
        LocalOutlierFactor::score_samples_into(self, x, out)
    }
}
