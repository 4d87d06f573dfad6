use fastprep_core::quantile;
use numpy::{IntoPyArray, PyArray1, PyArray2};
use pyo3::prelude::*;

use crate::util::{reduce_matrix, to_numpy, Matrix};

/// Quantiles `qs` (fractions) of every column, NaN skipped: shape `(len(qs), n_columns)`.
#[pyfunction]
pub fn column_quantiles<'py>(
    py: Python<'py>,
    x: Matrix<'py>,
    qs: Vec<f64>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    to_numpy(
        py,
        reduce_matrix!(py, x, |m| quantile::column_quantiles(m, &qs)),
    )
}

/// Median of every column, NaN skipped.
#[pyfunction]
pub fn column_medians<'py>(py: Python<'py>, x: Matrix<'py>) -> PyResult<Bound<'py, PyArray1<f64>>> {
    Ok(reduce_matrix!(py, x, |m| Ok(quantile::column_medians(m))).into_pyarray(py))
}

/// Most frequent value of every column (smallest on ties), NaN skipped.
#[pyfunction]
pub fn column_modes<'py>(py: Python<'py>, x: Matrix<'py>) -> PyResult<Bound<'py, PyArray1<f64>>> {
    Ok(reduce_matrix!(py, x, |m| Ok(quantile::column_modes(m))).into_pyarray(py))
}
