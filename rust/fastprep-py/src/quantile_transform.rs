use fastprep_core::quantile_transform as core;
use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;

use crate::util::{csr_values, map_matrix, view, with_csr, CsrData, CsrIndices, Matrix};

/// Maps `x` through per-column `quantiles` (`n_quantiles × n_columns`) onto `references`
/// (uniform, or normal if `normal`); `inverse` maps back.
#[pyfunction]
pub fn quantile_transform<'py>(
    py: Python<'py>,
    x: Matrix<'py>,
    quantiles: PyReadonlyArray2<'py, f64>,
    references: PyReadonlyArray1<'py, f64>,
    normal: bool,
    inverse: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let q = view(&quantiles)?;
    let refs = references.as_slice()?;
    Ok(map_matrix!(py, x, m.cols(), |m, out| {
        core::quantile_transform(m, q, refs, normal, inverse, out)
    }))
}

/// `quantile_transform` of a CSR matrix's stored values: its new stored values.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn quantile_transform_csr<'py>(
    py: Python<'py>,
    data: CsrData<'py>,
    index: CsrIndices<'py>,
    cols: usize,
    quantiles: PyReadonlyArray2<'py, f64>,
    references: PyReadonlyArray1<'py, f64>,
    normal: bool,
    inverse: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let q = view(&quantiles)?;
    let refs = references.as_slice()?;
    with_csr!(data, index, cols, |csr| csr_values(py, csr, |c, out| {
        core::quantile_transform_csr(c, q, refs, normal, inverse, out)
    }))
}
