use fastprep_core::quantile::{self, QuantileMethod};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::errors::to_py;
use crate::util::{detached, reduce_matrix, to_numpy, with_csr, CsrData, CsrIndices, Matrix};

/// Quantiles `qs` (fractions) of every column, NaN skipped: shape `(len(qs), n_columns)`.
#[pyfunction]
#[pyo3(signature = (x, qs, method="linear"))]
pub fn column_quantiles<'py>(
    py: Python<'py>,
    x: Matrix<'py>,
    qs: Vec<f64>,
    method: &str,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let method = QuantileMethod::parse(method).map_err(to_py)?;
    let out = reduce_matrix!(py, x, |m| quantile::column_quantiles(m, &qs, method));
    to_numpy(py, out)
}

/// scikit-learn's weighted percentiles (`percents` in [0, 100]) of every column, row `i`
/// weighing `w[i]`: shape `(len(percents), n_columns)`.
#[pyfunction]
pub fn weighted_column_quantiles<'py>(
    py: Python<'py>,
    x: Matrix<'py>,
    w: PyReadonlyArray1<'py, f64>,
    percents: Vec<f64>,
    average: bool,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let w = w.as_slice()?;
    let out = reduce_matrix!(py, x, |m| quantile::weighted_column_quantiles(
        m, w, &percents, average
    ));
    to_numpy(py, out)
}

/// `(column_quantiles, column_medians)` from one pass over the data.
#[pyfunction]
#[pyo3(signature = (x, qs, method="linear"))]
#[allow(clippy::type_complexity)]
pub fn column_quantiles_and_medians<'py>(
    py: Python<'py>,
    x: Matrix<'py>,
    qs: Vec<f64>,
    method: &str,
) -> PyResult<(Bound<'py, PyArray2<f64>>, Bound<'py, PyArray1<f64>>)> {
    let method = QuantileMethod::parse(method).map_err(to_py)?;
    let (q, medians) = reduce_matrix!(py, x, |m| quantile::column_quantiles_and_medians(
        m, &qs, method
    ));
    Ok((to_numpy(py, q)?, medians.into_pyarray(py)))
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

/// `column_quantiles_and_medians` of a CSR matrix's columns, its implicit zeros counted as
/// values when `implicit_zeros` (else its stored values alone).
#[pyfunction]
#[allow(clippy::type_complexity)]
pub fn csr_column_quantiles_and_medians<'py>(
    py: Python<'py>,
    data: CsrData<'py>,
    index: CsrIndices<'py>,
    cols: usize,
    qs: Vec<f64>,
    method: &str,
    implicit_zeros: bool,
) -> PyResult<(Bound<'py, PyArray2<f64>>, Bound<'py, PyArray1<f64>>)> {
    let method = QuantileMethod::parse(method).map_err(to_py)?;
    let (q, medians) = with_csr!(data, index, cols, |csr| detached(py, || {
        quantile::csr_column_quantiles_and_medians(csr, &qs, method, implicit_zeros)
    })?);
    Ok((to_numpy(py, q)?, medians.into_pyarray(py)))
}

/// `column_modes` of a CSR matrix's columns, its implicit zeros counted.
#[pyfunction]
pub fn csr_column_modes<'py>(
    py: Python<'py>,
    data: CsrData<'py>,
    index: CsrIndices<'py>,
    cols: usize,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let modes = with_csr!(data, index, cols, |csr| detached(py, || Ok(
        quantile::csr_column_modes(csr)
    ))?);
    Ok(modes.into_pyarray(py))
}
