//! A checked, borrowed, row-major feature matrix.

use super::ModelError;

/// A row-major view of `n_rows × n_cols` finite `f64` values.
///
/// Only [`Matrix::new`] creates one, so every `Matrix` is non-empty, rectangular and finite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Matrix<'a> {
    data: &'a [f64],
    n_rows: usize,
    n_cols: usize,
}

impl<'a> Matrix<'a> {
    /// Views `data` as rows of `n_cols` values.
    ///
    /// Errors: no values or no columns, a length that is not a multiple of `n_cols`, or a NaN
    /// or infinity (named by row and column).
    pub fn new(data: &'a [f64], n_cols: usize) -> Result<Matrix<'a>, ModelError> {
        let len = data.len();
        if len == 0 || n_cols == 0 {
            return Err(ModelError::EmptyData { len, n_cols });
        }
        if len % n_cols != 0 {
            return Err(ModelError::RaggedData { len, n_cols });
        }
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(ModelError::NonFinite {
                row: i / n_cols,
                col: i % n_cols,
                value: data[i],
            });
        }
        Ok(Matrix {
            data,
            n_rows: len / n_cols,
            n_cols,
        })
    }

    /// The number of rows (at least 1).
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// The number of columns (at least 1).
    pub fn n_cols(&self) -> usize {
        self.n_cols
    }

    /// All values, row after row.
    pub fn as_slice(&self) -> &'a [f64] {
        self.data
    }

    /// Row `i`; panics if `i >= n_rows` like slice indexing.
    pub fn row(&self, i: usize) -> &'a [f64] {
        &self.data[i * self.n_cols..(i + 1) * self.n_cols]
    }

    /// The rows in order.
    pub fn rows(&self) -> std::slice::ChunksExact<'a, f64> {
        self.data.chunks_exact(self.n_cols)
    }

    /// The value at (`row`, `col`).
    pub(crate) fn get(&self, row: usize, col: usize) -> f64 {
        self.data[row * self.n_cols + col]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_and_rows() {
        let data = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let m = Matrix::new(&data, 3).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((m.n_rows(), m.n_cols()), (2, 3));
        assert_eq!(m.row(1), &[4.0, 5.0, 6.0]);
        assert_eq!(m.rows().count(), 2);
        assert_eq!(m.get(1, 2), 6.0);
    }

    #[test]
    fn empty_ragged_and_non_finite_input_are_named_errors() {
        assert_eq!(
            Matrix::new(&[], 3),
            Err(ModelError::EmptyData { len: 0, n_cols: 3 })
        );
        assert_eq!(
            Matrix::new(&[1.0], 0),
            Err(ModelError::EmptyData { len: 1, n_cols: 0 })
        );
        assert_eq!(
            Matrix::new(&[1.0; 5], 2),
            Err(ModelError::RaggedData { len: 5, n_cols: 2 })
        );
        let message = |data: &[f64]| Matrix::new(data, 2).map_err(|e| e.to_string()).err();
        assert!(matches!(
            Matrix::new(&[1.0, 2.0, 3.0, f64::NAN], 2),
            Err(ModelError::NonFinite { row: 1, col: 1, .. })
        ));
        assert_eq!(
            message(&[1.0, 2.0, 3.0, f64::NAN]).as_deref(),
            Some("non-finite value NaN at row 1, column 1")
        );
        assert_eq!(
            message(&[f64::NEG_INFINITY, 2.0]).as_deref(),
            Some("non-finite value -inf at row 0, column 0")
        );
    }
}
