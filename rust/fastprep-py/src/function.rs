use fastprep_core::function::{self as core, Function};
use pyo3::prelude::*;

use crate::errors::to_py;
use crate::util::{map_matrix, Matrix};

/// The named function `name` of every value (`lo`, `hi`: clip's bounds, NaN for none).
#[pyfunction]
pub fn apply_function<'py>(
    py: Python<'py>,
    x: Matrix<'py>,
    name: &str,
    lo: f64,
    hi: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let f = Function::parse(name, lo, hi).map_err(to_py)?;
    Ok(map_matrix!(py, x, m.cols(), |m, out| core::apply(
        m, f, out
    )))
}
