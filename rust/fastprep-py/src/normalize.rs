use fastprep_core::normalize::{self as core, Norm};
use pyo3::prelude::*;

use crate::errors::to_py;
use crate::util::{csr_values, map_matrix, with_csr, CsrData, CsrIndices, Matrix};

/// Divides every row by its `norm` ("l1", "l2" or "max").
#[pyfunction]
pub fn normalize<'py>(py: Python<'py>, x: Matrix<'py>, norm: &str) -> PyResult<Bound<'py, PyAny>> {
    let norm = Norm::parse(norm).map_err(to_py)?;
    Ok(map_matrix!(py, x, m.cols(), |m, out| core::normalize(
        m, norm, out
    )))
}

/// `normalize` of a CSR matrix: its new stored values.
#[pyfunction]
pub fn normalize_csr<'py>(
    py: Python<'py>,
    data: CsrData<'py>,
    index: CsrIndices<'py>,
    cols: usize,
    norm: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let norm = Norm::parse(norm).map_err(to_py)?;
    with_csr!(data, index, cols, |csr| csr_values(py, csr, |c, out| {
        core::normalize_csr(c, norm, out)
    }))
}
