use fastprep_core::spline::{self as core, Extrapolation, Splines};
use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;

use crate::errors::to_py;
use crate::util::{map_matrix, Matrix};

/// B-spline features of every column: `knots` one row per column; `bounds` the basis values
/// and slopes at the bounds for `constant` and `linear` extrapolation (else empty).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn spline<'py>(
    py: Python<'py>,
    x: Matrix<'py>,
    knots: PyReadonlyArray2<'py, f64>,
    degree: usize,
    extrapolation: &str,
    include_bias: bool,
    zeros_for_missing: bool,
    bounds: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyAny>> {
    let columns = knots.as_array().nrows();
    let splines = Splines::new(
        knots.as_array().iter().copied().collect(),
        columns,
        degree,
        Extrapolation::parse(extrapolation).map_err(to_py)?,
        include_bias,
        zeros_for_missing,
        bounds.as_array().to_vec(),
    )
    .map_err(to_py)?;
    Ok(map_matrix!(py, x, splines.width(), |m, out| core::spline(
        m, &splines, out
    )))
}
