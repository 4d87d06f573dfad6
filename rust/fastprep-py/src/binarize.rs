use fastprep_core::binarize as core;
use pyo3::prelude::*;

use crate::util::{map_matrix, Matrix};

/// 1 where `x > threshold`, else 0; NaN stays NaN.
#[pyfunction]
pub fn binarize<'py>(
    py: Python<'py>,
    x: Matrix<'py>,
    threshold: f64,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(map_matrix!(py, x, m.cols(), |m, out| core::binarize(
        m, threshold, out
    )))
}
