use fastprep_core::impute as core;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

use crate::util::{csr_values, map_matrix, with_csr, CsrData, CsrIndices, Matrix};

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

/// The stored values of a CSR matrix with the NaN of column `j` filled with `fill[j]`.
#[pyfunction]
pub fn fill_csr<'py>(
    py: Python<'py>,
    data: CsrData<'py>,
    index: CsrIndices<'py>,
    cols: usize,
    fill: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyAny>> {
    let fill = fill.as_slice()?;
    with_csr!(data, index, cols, |csr| csr_values(py, csr, |c, out| {
        core::fill_csr(c, fill, out)
    }))
}
