use fastprep_core::quantile_transform as core;
use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;

use crate::util::{map_matrix, view, Matrix};

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
