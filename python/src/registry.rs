//! The model registry from Python: the same directory or object-store registry the CLI and the
//! server use (`mcp_train_store`), so a Spark, Ray or Dask job registers and reads models where
//! a team's servers see them. Records go out as JSON (the Python side parses them); timestamps
//! come in from Python, the core keeps no clock.

use std::path::Path;

use mcp_train_core::registry::{Registry, RegistryError};
use mcp_train_store::registry::{RegistryAt, Store};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::error;

/// A registry error as a `McpTrainError` with a code a caller may branch on.
fn registry_error(e: RegistryError) -> PyErr {
    let code = match &e {
        RegistryError::NotFound { .. } | RegistryError::Empty | RegistryError::NoneDeployed => {
            "not_found"
        }
        RegistryError::Conflict { .. } => "conflict",
        RegistryError::VersionTaken { .. } => "version_taken",
        RegistryError::Storage(_) => "storage",
        RegistryError::InvalidModel { .. } => "invalid_model",
        _ => "registry",
    };
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    error(code, message)
}

fn json(value: &impl serde::Serialize) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| error("internal", e))
}

/// A registry: a directory, or object storage (`s3://bucket/prefix`, `gs://…`, `az://…`, with
/// credentials from the environment).
#[derive(Debug)]
#[pyclass(name = "_Registry", module = "mcp_train._mcp_train", frozen)]
pub struct PyRegistry {
    at: RegistryAt,
}

impl PyRegistry {
    fn run<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Registry<Store>) -> Result<T, RegistryError> + Send,
    ) -> PyResult<T> {
        py.detach(|| f(&mut self.at.open())).map_err(registry_error)
    }
}

#[pymethods]
impl PyRegistry {
    #[new]
    fn new(location: &str) -> PyResult<Self> {
        let at = RegistryAt::from_flag(Some(Path::new(location)))
            .map_err(|e| registry_error(e.into()))?;
        Ok(PyRegistry { at })
    }

    /// The directory or URL.
    #[getter]
    fn location(&self) -> String {
        self.at.describe()
    }

    /// Every model's record, newest first, as a JSON array.
    #[pyo3(signature = (log_type=None))]
    fn list(&self, py: Python<'_>, log_type: Option<String>) -> PyResult<String> {
        let models = self.run(py, |r| match &log_type {
            Some(t) => r.list_of(t),
            None => r.list(),
        })?;
        json(&models)
    }

    /// The record of the model deployed for `log_type` (JSON), or `None`.
    fn deployed(&self, py: Python<'_>, log_type: String) -> PyResult<Option<String>> {
        let record = self.run(py, |r| r.deployed(&log_type))?;
        record.as_ref().map(json).transpose()
    }

    /// A model's `model.json` bytes and record (JSON): `name` is a version, `latest` or
    /// `deployed` (of `log_type`).
    #[pyo3(signature = (name, log_type=None))]
    fn model<'py>(
        &self,
        py: Python<'py>,
        name: String,
        log_type: Option<String>,
    ) -> PyResult<(Bound<'py, PyBytes>, String)> {
        let stored = self.run(py, |r| {
            let version = r.resolve_in(&name, log_type.as_deref())?.version;
            r.get(&version)
        })?;
        Ok((PyBytes::new(py, &stored.bytes), json(&stored.record)?))
    }

    /// Registers a `model.json` (status ready) `at` (microseconds since the epoch); its version
    /// moves on by a second when taken. The new record, as JSON.
    fn register(&self, py: Python<'_>, model: Vec<u8>, at: i64) -> PyResult<String> {
        let record = self.run(py, |r| r.register_bytes(&model, at))?;
        json(&record)
    }

    /// Deploys `version` `at`; with `check`, only if the model of its log type deployed now is
    /// `expected` (`None`: none). The deployed record and the one it archived, if any, as JSON.
    #[pyo3(signature = (version, at, check=false, expected=None))]
    fn deploy(
        &self,
        py: Python<'_>,
        version: String,
        at: i64,
        check: bool,
        expected: Option<String>,
    ) -> PyResult<(String, Option<String>)> {
        let change = self.run(py, |r| {
            r.deploy_expecting(&version, at, check.then_some(expected.as_deref()))
        })?;
        Ok((
            json(&change.model)?,
            change.displaced.as_ref().map(json).transpose()?,
        ))
    }
}
