//! The fitted detectors for Python: core's [`IsolationForest`] and [`LocalOutlierFactor`] over
//! numpy arrays. Input is a C-contiguous float64 array viewed without a copy (the Python layer
//! makes one only when the caller's array is another dtype or layout); scores come back as numpy
//! arrays that take over the Rust buffer. Fitting and scoring run with the GIL released, scoring
//! on all cores (core's `score_in_parallel`).
//!
//! The scikit-learn estimator API (`get_params`, `fit_predict`, tags, …) lives in
//! `python/mcp_train/_estimators.py`; these classes are the fitted state it holds.

use mcp_train_core::config::ParseError;
use mcp_train_core::model::{
    score_in_parallel, IsolationForest, IsolationForestParams, IsolationTree, LocalOutlierFactor,
    LofParams, Matrix, ModelError, OutlierDetector,
};
use mcp_train_core::pipeline::{
    parse_contamination, parse_max_samples, parse_n_estimators, parse_n_neighbors, parse_seed,
};
use numpy::{PyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use crate::errors::{error, model_error};

/// A parameter parsed from its text by the core's parser (the CLI's and the API's), so the
/// wheel accepts exactly what they accept and says so in the same words.
fn parsed<T>(name: &str, parse: fn(&str) -> Result<T, ParseError>, text: &str) -> PyResult<T> {
    parse(text).map_err(|e| error("invalid_parameter", format!("{name}: {e}")))
}

/// Views `x` as a matrix of `n_features` columns (when given) and runs `work` on it.
fn with_matrix<T>(
    x: &PyReadonlyArray2<'_, f64>,
    n_features: Option<usize>,
    work: impl FnOnce(Matrix<'_>) -> Result<T, ModelError> + Send,
) -> Result<T, ModelError>
where
    T: Send,
{
    let view = x.as_array();
    x.py().detach(move || {
        let matrix = Matrix::try_from(view)?;
        if let Some(expected) = n_features {
            if matrix.n_cols() != expected {
                return Err(ModelError::FeatureCountMismatch {
                    expected,
                    found: matrix.n_cols(),
                });
            }
        }
        work(matrix)
    })
}

/// Scores every row of `x` on all cores, into a numpy array that owns the scores.
fn score<'py, D: OutlierDetector + Sync>(
    detector: &D,
    x: PyReadonlyArray2<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let py = x.py();
    let scores = with_matrix(&x, Some(detector.n_features()), |m| {
        let mut out = vec![0.0; m.n_rows()];
        score_in_parallel(detector, m, &mut out)?;
        Ok(out)
    })
    .map_err(model_error)?;
    Ok(PyArray1::from_vec(py, scores))
}

/// For pickling: `(cls.from_json, (model_json,))`.
fn reduce<'py>(
    slf: &Bound<'py, PyAny>,
    json: Vec<u8>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
    let py = slf.py();
    let from_json = slf.get_type().getattr("from_json")?;
    let args = PyTuple::new(py, [PyBytes::new(py, &json)])?;
    Ok((from_json, args))
}

fn to_json<T: serde::Serialize>(value: &T) -> PyResult<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| error("invalid_model", e))
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, bytes: &[u8]) -> PyResult<T> {
    serde_json::from_slice(bytes).map_err(|e| error("invalid_model", format!("{what}: {e}")))
}

/// A fitted Isolation Forest (the state of `mcp_train.IsolationForest`).
#[pyclass(module = "mcp_train._mcp_train", name = "IsolationForestModel", frozen)]
#[derive(Debug)]
pub struct PyIsolationForest {
    inner: IsolationForest,
}

#[pymethods]
impl PyIsolationForest {
    /// Fits a forest on the rows of `x` (a C-contiguous float64 array). The parameters come as
    /// text (`"auto"`, `"256"` a count, `"0.5"` a fraction, …), named as in scikit-learn, for
    /// the core to parse and range-check.
    #[staticmethod]
    #[pyo3(signature = (x, *, n_estimators, max_samples, contamination, max_features, bootstrap, random_state))]
    fn fit(
        x: PyReadonlyArray2<'_, f64>,
        n_estimators: &str,
        max_samples: &str,
        contamination: &str,
        max_features: f64,
        bootstrap: bool,
        random_state: &str,
    ) -> PyResult<Self> {
        let params = IsolationForestParams::new()
            .n_estimators(parsed("n_estimators", parse_n_estimators, n_estimators)?)
            .max_samples(parsed("max_samples", parse_max_samples, max_samples)?)
            .contamination(parsed("contamination", parse_contamination, contamination)?.to_f64())
            .max_features(max_features)
            .bootstrap(bootstrap)
            .random_state(parsed("random_state", parse_seed, random_state)?)
            .check()
            .map_err(model_error)?;
        let inner = with_matrix(&x, None, |m| params.fit(m)).map_err(model_error)?;
        Ok(PyIsolationForest { inner })
    }

    /// A forest from trees fitted elsewhere (scikit-learn's, with each tree's `feature` mapped
    /// to the original columns): `trees_json` is a JSON list of `{children_left,
    /// children_right, feature, threshold, n_node_samples}`; every tree is checked.
    #[staticmethod]
    fn from_parts(
        trees_json: &[u8],
        max_samples: usize,
        offset: f64,
        n_features: usize,
    ) -> PyResult<Self> {
        let trees: Vec<IsolationTree> = from_json("trees", trees_json)?;
        let inner = IsolationForest::from_parts(trees, max_samples, offset, n_features)
            .map_err(model_error)?;
        Ok(PyIsolationForest { inner })
    }

    /// The forest as JSON (the `detector` of a model file).
    fn to_json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        Ok(PyBytes::new(py, &to_json(&self.inner)?))
    }

    /// A forest from [`to_json`](Self::to_json)'s bytes, checked.
    #[staticmethod]
    fn from_json(bytes: &[u8]) -> PyResult<Self> {
        Ok(PyIsolationForest {
            inner: from_json("isolation forest", bytes)?,
        })
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let json = to_json(&slf.get().inner)?;
        reduce(slf.as_any(), json)
    }

    /// scikit-learn's `score_samples`: lower is more abnormal.
    fn score_samples<'py>(
        &self,
        x: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        score(&self.inner, x)
    }

    #[getter]
    fn offset(&self) -> f64 {
        self.inner.offset()
    }

    #[getter]
    fn n_features(&self) -> usize {
        self.inner.n_features()
    }

    #[getter]
    fn max_samples(&self) -> usize {
        self.inner.max_samples()
    }

    #[getter]
    fn n_estimators(&self) -> usize {
        self.inner.n_estimators()
    }
}

/// A fitted Local Outlier Factor in novelty mode (the state of `mcp_train.LocalOutlierFactor`).
#[pyclass(
    module = "mcp_train._mcp_train",
    name = "LocalOutlierFactorModel",
    frozen
)]
#[derive(Debug)]
pub struct PyLocalOutlierFactor {
    inner: LocalOutlierFactor,
}

#[pymethods]
impl PyLocalOutlierFactor {
    /// Fits on the rows of `x` (a C-contiguous float64 array), or on a seeded subsample of
    /// `max_samples` of them (`None`: every row). Parameters as text, for the core to parse and
    /// check.
    #[staticmethod]
    #[pyo3(signature = (x, *, n_neighbors, contamination, max_samples, random_state))]
    fn fit(
        x: PyReadonlyArray2<'_, f64>,
        n_neighbors: &str,
        contamination: &str,
        max_samples: Option<usize>,
        random_state: &str,
    ) -> PyResult<Self> {
        let max_samples = max_samples.unwrap_or_else(|| x.as_array().nrows().max(2));
        let params = LofParams::new()
            .n_neighbors(parsed("n_neighbors", parse_n_neighbors, n_neighbors)?)
            .contamination(parsed("contamination", parse_contamination, contamination)?.to_f64())
            .max_samples(max_samples)
            .random_state(parsed("random_state", parse_seed, random_state)?)
            .check()
            .map_err(model_error)?;
        let inner = with_matrix(&x, None, |m| params.fit(m)).map_err(model_error)?;
        Ok(PyLocalOutlierFactor { inner })
    }

    fn to_json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        Ok(PyBytes::new(py, &to_json(&self.inner)?))
    }

    #[staticmethod]
    fn from_json(bytes: &[u8]) -> PyResult<Self> {
        Ok(PyLocalOutlierFactor {
            inner: from_json("local outlier factor", bytes)?,
        })
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let json = to_json(&slf.get().inner)?;
        reduce(slf.as_any(), json)
    }

    /// scikit-learn's `score_samples` (novelty mode): lower is more abnormal.
    fn score_samples<'py>(
        &self,
        x: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        score(&self.inner, x)
    }

    /// scikit-learn's `negative_outlier_factor_`: each training row against the others.
    #[getter]
    fn negative_outlier_factor<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, self.inner.negative_outlier_factor())
    }

    #[getter]
    fn offset(&self) -> f64 {
        self.inner.offset()
    }

    #[getter]
    fn n_features(&self) -> usize {
        self.inner.n_features()
    }

    #[getter]
    fn n_neighbors(&self) -> usize {
        self.inner.n_neighbors()
    }

    #[getter]
    fn n_samples_fit(&self) -> usize {
        self.inner.n_samples_fit()
    }
}
