//! The mcp-train core for Python: the extension module `mcp_train._mcp_train` of the `mcp_train`
//! wheel (built by maturin, abi3: one wheel for every CPython ≥ 3.9).
//!
//! Thin by design: every function calls the core function the `mcp-train` CLI calls, so
//! parameters are parsed and bounded, and errors worded, in one place. The Python package
//! (`python/mcp_train/`) adds the scikit-learn estimator API and reads files.

mod arrow;
mod errors;
mod estimators;
mod product;
mod registry;

use pyo3::prelude::*;

#[pymodule]
fn _mcp_train(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("McpTrainError", m.py().get_type::<errors::McpTrainError>())?;
    m.add_class::<estimators::PyIsolationForest>()?;
    m.add_class::<estimators::PyLocalOutlierFactor>()?;
    m.add_class::<registry::PyRegistry>()?;
    m.add_function(wrap_pyfunction!(arrow::export_from_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(product::validate, m)?)?;
    m.add_function(wrap_pyfunction!(product::import_log, m)?)?;
    m.add_function(wrap_pyfunction!(product::features, m)?)?;
    m.add_function(wrap_pyfunction!(product::features_csv, m)?)?;
    m.add_function(wrap_pyfunction!(product::train, m)?)?;
    m.add_function(wrap_pyfunction!(product::score, m)?)?;
    m.add_function(wrap_pyfunction!(product::score_file, m)?)?;
    m.add_function(wrap_pyfunction!(product::evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(product::build_package, m)?)?;
    m.add_function(wrap_pyfunction!(product::verify_package, m)?)?;
    m.add_function(wrap_pyfunction!(product::detect, m)?)?;
    Ok(())
}
