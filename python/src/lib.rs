//! The mcp-train core for Python (the `mcp_train` wheel built by maturin).

use pyo3::prelude::*;

#[pymodule]
fn _mcp_train(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
