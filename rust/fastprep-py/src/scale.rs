use fastprep_core::scale;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

use crate::util::{csr_values, map_matrix_into, with_csr, CsrData, CsrIndices, Matrix};

/// `(x - sub) / div`, per column; into `out` (the caller's array) when given.
#[pyfunction]
#[pyo3(signature = (x, sub, div, out=None))]
pub fn sub_div<'py>(
    py: Python<'py>,
    x: Matrix<'py>,
    sub: PyReadonlyArray1<'py, f64>,
    div: PyReadonlyArray1<'py, f64>,
    out: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (sub, div) = (sub.as_slice()?, div.as_slice()?);
    Ok(map_matrix_into!(py, x, m.cols(), out, |m, o| {
        scale::sub_div(m, sub, div, o)
    }))
}

/// `x * mul + add`, per column, optionally clipped to `clip = (lo, hi)`; into `out` (the
/// caller's array) when given.
#[pyfunction]
#[pyo3(signature = (x, mul, add, clip=None, out=None))]
pub fn mul_add<'py>(
    py: Python<'py>,
    x: Matrix<'py>,
    mul: PyReadonlyArray1<'py, f64>,
    add: PyReadonlyArray1<'py, f64>,
    clip: Option<(f64, f64)>,
    out: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (mul, add) = (mul.as_slice()?, add.as_slice()?);
    Ok(map_matrix_into!(py, x, m.cols(), out, |m, o| {
        scale::mul_add(m, mul, add, clip, o)
    }))
}

/// `sub_div` of a CSR matrix's stored values: its new stored values.
#[pyfunction]
pub fn sub_div_csr<'py>(
    py: Python<'py>,
    data: CsrData<'py>,
    index: CsrIndices<'py>,
    cols: usize,
    sub: PyReadonlyArray1<'py, f64>,
    div: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyAny>> {
    let (sub, div) = (sub.as_slice()?, div.as_slice()?);
    with_csr!(data, index, cols, |csr| csr_values(py, csr, |c, out| {
        scale::sub_div_csr(c, sub, div, out)
    }))
}
