//! Errors as JavaScript sees them: an `Error` whose `code` is stable (the table in pkg/README.md)
//! and whose message is the core's, with the location the core names (record, field,
//! line:column). Where the core gives the location as fields, they are copied onto the error
//! (`line`, `column`) so callers need not parse the message.

use std::fmt::Display;

use mcp_train_core::export::ExportError;
use mcp_train_core::pipeline::{ParamError, TrainError};
use wasm_bindgen::JsValue;

/// A stable error code, the `code` property of every error the package throws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// An argument has the wrong type or shape (not a parameter's value: see `InvalidParameter`).
    InvalidArgument,
    /// A training parameter does not parse or is out of range.
    InvalidParameter,
    /// The export or log cannot be read or holds no usable record.
    InvalidExport,
    /// A features CSV cannot be read.
    InvalidCsv,
    /// The `model.json` cannot be used.
    InvalidModel,
    /// The log type has no agent, or its agent refuses the model.
    UnsupportedLogType,
    /// The data or the model refused training, scoring or evaluation.
    TrainingFailed,
    /// The training was aborted (the `AbortSignal` or the progress callback).
    Aborted,
    /// A line of a live log cannot be read or scored.
    BadLine,
    /// A deployment package cannot be built or read.
    InvalidPackage,
}

impl Code {
    /// The code as JavaScript sees it.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidArgument => "INVALID_ARGUMENT",
            Code::InvalidParameter => "INVALID_PARAMETER",
            Code::InvalidExport => "INVALID_EXPORT",
            Code::InvalidCsv => "INVALID_CSV",
            Code::InvalidModel => "INVALID_MODEL",
            Code::UnsupportedLogType => "UNSUPPORTED_LOG_TYPE",
            Code::TrainingFailed => "TRAINING_FAILED",
            Code::Aborted => "ABORTED",
            Code::BadLine => "BAD_LINE",
            Code::InvalidPackage => "INVALID_PACKAGE",
        }
    }
}

/// A JavaScript `Error` with `code` and `message`.
pub fn js_error(code: Code, message: impl Display) -> JsValue {
    let error = js_sys::Error::new(&message.to_string());
    set(&error, "code", &code.as_str().into());
    error.into()
}

/// [`js_error`] with a `line` and `column` (1-based) on the error as well.
pub fn js_error_at(code: Code, message: impl Display, line: usize, column: usize) -> JsValue {
    let error = js_error(code, message);
    set(&error, "line", &(line as f64).into());
    set(&error, "column", &(column as f64).into());
    error
}

fn set(target: &JsValue, key: &str, value: &JsValue) {
    // Setting a property on a fresh Error cannot fail.
    let _ = js_sys::Reflect::set(target, &key.into(), value);
}

/// An export that cannot be read, with its line and column when the core has them.
pub fn export_error(e: &ExportError) -> JsValue {
    match e {
        ExportError::Syntax { line, column, .. }
        | ExportError::NotAnExport { line, column, .. } => {
            js_error_at(Code::InvalidExport, e, *line, *column)
        }
        ExportError::Empty | ExportError::Invalid { .. } => js_error(Code::InvalidExport, e),
    }
}

/// A training parameter that cannot be used.
pub fn param_error(e: &ParamError) -> JsValue {
    js_error(Code::InvalidParameter, e)
}

/// Why training, scoring or evaluation stopped, by its kind.
pub fn train_error(e: &TrainError) -> JsValue {
    match e {
        TrainError::Export(e) => export_error(e),
        TrainError::Csv(_) => js_error(Code::InvalidCsv, e),
        TrainError::Artifact(_) => js_error(Code::InvalidModel, e),
        TrainError::Agent(_) => js_error(Code::UnsupportedLogType, e),
        TrainError::Cancelled => js_error(Code::Aborted, "the training was aborted"),
        TrainError::Model(_)
        | TrainError::TooFewRows { .. }
        | TrainError::ColumnMismatch { .. }
        | TrainError::NoLabels
        | TrainError::ExportForCsvModel
        | TrainError::CsvForExportModel => js_error(Code::TrainingFailed, e),
    }
}
