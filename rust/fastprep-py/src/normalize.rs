use fastprep_core::normalize::{self as core, Norm};
use pyo3::prelude::*;

use crate::errors::to_py;
use crate::util::{map_matrix, Matrix};

/// Divides every row by its `norm` ("l1", "l2" or "max").
#[pyfunction]
pub fn normalize<'py>(py: Python<'py>, x: Matrix<'py>, norm: &str) -> PyResult<Bound<'py, PyAny>> {
    let norm = Norm::parse(norm).map_err(to_py)?;
    Ok(map_matrix!(py, x, m.cols(), |m, out| core::normalize(
        m, norm, out
    )))
}
