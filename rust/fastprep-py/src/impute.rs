use fastprep_core::impute as core;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

use crate::util::{map_matrix, Matrix};

/// Keeps `columns` with NaN replaced by `fill`, then appends NaN indicators of `indicator`.
#[pyfunction]
pub fn impute<'py>(
    py: Python<'py>,
    x: Matrix<'py>,
    columns: Vec<usize>,
    fill: PyReadonlyArray1<'py, f64>,
    indicator: Vec<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let fill = fill.as_slice()?;
    let width = columns.len() + indicator.len();
    Ok(map_matrix!(py, x, width, |m, out| core::impute(
        m, &columns, fill, &indicator, out
    )))
}
