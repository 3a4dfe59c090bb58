//! Core errors as Python exceptions: one class, `mcp_train.McpTrainError` (a `ValueError`), with
//! the core's message and a stable `code` a caller may branch on.

use mcp_train_core::model::ModelError;
use mcp_train_core::package::PackageError;
use mcp_train_core::pipeline::{ParamError, TrainError};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

pyo3::create_exception!(
    _mcp_train,
    McpTrainError,
    PyValueError,
    "Data, parameters or a model the core refuses. `code` says which kind of problem \
     (e.g. \"non_finite\", \"invalid_parameter\", \"invalid_export\"); the message names the \
     bad value and where it is."
);

/// A [`McpTrainError`] with `code` set.
pub fn error(code: &str, message: impl std::fmt::Display) -> PyErr {
    let message = message.to_string();
    Python::attach(|py| {
        let err = McpTrainError::new_err(message);
        // Setting an attribute on a fresh exception instance cannot fail in practice; if it did,
        // the error without its code is still the right error to raise.
        let _ = err.value(py).setattr("code", code);
        err
    })
}

/// The stable code of a model error.
pub fn model_code(e: &ModelError) -> &'static str {
    match e {
        ModelError::EmptyData { .. } => "empty_data",
        ModelError::RaggedData { .. } => "ragged_data",
        ModelError::NonFinite { .. } => "non_finite",
        ModelError::OutOfFloat32Range { .. } => "out_of_range",
        ModelError::NotContiguous => "not_contiguous",
        ModelError::FeatureCountMismatch { .. } => "feature_count_mismatch",
        ModelError::InvalidParameter { .. } => "invalid_parameter",
        ModelError::InvalidModel(_) => "invalid_model",
    }
}

pub fn model_error(e: ModelError) -> PyErr {
    error(model_code(&e), &e)
}

pub fn train_error(e: TrainError) -> PyErr {
    let code = match &e {
        TrainError::Export(_) => "invalid_export",
        TrainError::Csv(_) => "invalid_csv",
        TrainError::Model(m) => model_code(m),
        TrainError::Artifact(_) => "invalid_model_file",
        TrainError::Agent(_) => "unsupported_log",
        TrainError::TooFewRows { .. } => "too_few_rows",
        TrainError::ColumnMismatch { .. } => "column_mismatch",
        TrainError::NoLabels => "no_labels",
        TrainError::ExportForCsvModel | TrainError::CsvForExportModel => "wrong_input",
        TrainError::Cancelled => "cancelled",
    };
    error(code, &e)
}

pub fn param_error(e: ParamError) -> PyErr {
    match e {
        ParamError::Model(m) => model_error(m),
        other => error("invalid_parameter", &other),
    }
}

pub fn package_error(e: PackageError) -> PyErr {
    let code = match &e {
        PackageError::Model(_) => "invalid_model_file",
        PackageError::SelfTest(_) => "self_test_failed",
        PackageError::Archive(_) | PackageError::Empty => "invalid_package",
    };
    error(code, &e)
}
