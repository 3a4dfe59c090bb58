//! ndarray in and out of the detectors (feature `ndarray`): a C-contiguous `ArrayView2<f64>` is
//! viewed as a [`Matrix`] without copying, and scores come back as `Array1<f64>`.

use ndarray::{Array1, ArrayView2};

use super::{Matrix, ModelError, OutlierDetector};

impl<'a> TryFrom<ArrayView2<'a, f64>> for Matrix<'a> {
    type Error = ModelError;

    /// Views the array's memory as rows (no copy), with [`Matrix::new`]'s checks; a view whose
    /// rows are not contiguous in row-major order is refused rather than silently copied.
    fn try_from(view: ArrayView2<'a, f64>) -> Result<Matrix<'a>, ModelError> {
        let n_cols = view.ncols();
        if view.nrows() == 0 || n_cols == 0 {
            return Err(ModelError::EmptyData { len: 0, n_cols });
        }
        match view.to_slice() {
            Some(data) => Matrix::new(data, n_cols),
            None => Err(ModelError::NotContiguous),
        }
    }
}

/// The detectors' outputs as ndarray arrays, for any [`OutlierDetector`].
pub trait OutlierDetectorNdarray: OutlierDetector {
    /// [`OutlierDetector::score_samples`] of an array view.
    fn score_samples_array(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>, ModelError> {
        Ok(Array1::from(self.score_samples(Matrix::try_from(x)?)?))
    }

    /// [`OutlierDetector::decision_function`] of an array view.
    fn decision_function_array(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>, ModelError> {
        Ok(Array1::from(self.decision_function(Matrix::try_from(x)?)?))
    }

    /// [`OutlierDetector::predict`] of an array view: −1 for anomalies, 1 for inliers.
    fn predict_array(&self, x: ArrayView2<'_, f64>) -> Result<Array1<i8>, ModelError> {
        Ok(Array1::from(self.predict(Matrix::try_from(x)?)?))
    }
}

impl<D: OutlierDetector + ?Sized> OutlierDetectorNdarray for D {}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, ShapeBuilder};

    #[test]
    fn a_c_contiguous_view_is_borrowed_not_copied() {
        let a = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let m = Matrix::try_from(a.view()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((m.n_rows(), m.n_cols()), (2, 3));
        assert_eq!(m.as_slice().as_ptr(), a.as_ptr());
        assert_eq!(m.row(1), &[4.0, 5.0, 6.0]);
    }

    #[test]
    fn strided_empty_and_non_finite_arrays_are_refused() {
        let a = array![[1.0, 2.0], [3.0, 4.0]];
        assert_eq!(Matrix::try_from(a.t()), Err(ModelError::NotContiguous));
        let f = ndarray::Array2::<f64>::zeros((2, 3).f());
        assert_eq!(Matrix::try_from(f.view()), Err(ModelError::NotContiguous));
        let e = ndarray::Array2::<f64>::zeros((0, 3));
        assert!(matches!(
            Matrix::try_from(e.view()),
            Err(ModelError::EmptyData { .. })
        ));
        let n = array![[1.0, f64::NAN]];
        assert!(matches!(
            Matrix::try_from(n.view()),
            Err(ModelError::NonFinite { row: 0, col: 1, .. })
        ));
    }
}
