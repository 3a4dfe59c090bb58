//! The one error type of the model module.

/// Why data, parameters or a stored model cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// No rows or no columns.
    #[error("the feature matrix is empty ({len} values, {n_cols} columns)")]
    EmptyData {
        /// Values given.
        len: usize,
        /// Columns per row.
        n_cols: usize,
    },
    /// The number of values is not a multiple of the number of columns.
    #[error(
        "the feature matrix is ragged: {len} values do not divide into rows of {n_cols} columns"
    )]
    RaggedData {
        /// Values given.
        len: usize,
        /// Columns per row.
        n_cols: usize,
    },
    /// NaN or an infinity in the input.
    #[error("non-finite value {value} at row {row}, column {col}")]
    NonFinite {
        /// 0-based row of the value.
        row: usize,
        /// 0-based column of the value.
        col: usize,
        /// The value.
        value: f64,
    },
    /// A finite value the trees cannot hold: like scikit-learn they split on `float32` values.
    #[error("value {value} at row {row}, column {col} is outside the float32 range the trees use")]
    OutOfFloat32Range {
        /// 0-based row of the value.
        row: usize,
        /// 0-based column of the value.
        col: usize,
        /// The value.
        value: f64,
    },
    /// An array whose rows are not laid out one after another in memory (a transposed, strided or
    /// Fortran-ordered view), so it cannot be viewed without a copy.
    #[error("the feature matrix is not C-contiguous (row-major); copy it first (numpy: np.ascontiguousarray)")]
    NotContiguous,
    /// The data has a different number of features than the model was fitted on.
    #[error("the model was fitted on {expected} features, but the data has {found}")]
    FeatureCountMismatch {
        /// Features the model was fitted on.
        expected: usize,
        /// Features the data has.
        found: usize,
    },
    /// A hyperparameter out of range; the message names the value.
    #[error("{name}: {message}")]
    InvalidParameter {
        /// The parameter, as named in the configuration (e.g. `n_estimators`).
        name: &'static str,
        /// What is wrong with its value.
        message: String,
    },
    /// A stored or assembled model that is not internally consistent.
    #[error("invalid model: {0}")]
    InvalidModel(String),
}
