use fastprep_core::power::{self as core, PowerMethod};
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

use crate::errors::to_py;
use crate::util::{detached, map_matrix, Matrix};

/// Power transform of every column with its lambda, then `(y - sub) / div`; or the inverse.
#[pyfunction]
pub fn power_transform<'py>(
    py: Python<'py>,
    x: Matrix<'py>,
    lambdas: PyReadonlyArray1<'py, f64>,
    method: &str,
    sub: PyReadonlyArray1<'py, f64>,
    div: PyReadonlyArray1<'py, f64>,
    inverse: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let method = PowerMethod::parse(method).map_err(to_py)?;
    let (lambdas, sub, div) = (lambdas.as_slice()?, sub.as_slice()?, div.as_slice()?);
    Ok(map_matrix!(
        py,
        x,
        m.cols(),
        |m, out| core::power_transform(m, lambdas, method, sub, div, inverse, out)
    ))
}

/// Profile log-likelihood of `lmbda` for one column's values (NaN removed).
#[pyfunction]
pub fn power_log_likelihood(
    py: Python<'_>,
    values: PyReadonlyArray1<'_, f64>,
    lmbda: f64,
    method: &str,
) -> PyResult<f64> {
    let method = PowerMethod::parse(method).map_err(to_py)?;
    let values = values.as_slice()?;
    detached(py, || Ok(core::log_likelihood(values, lmbda, method)))
}

/// The lambda in `[lower, upper]` maximising one column's likelihood (values without NaN).
#[pyfunction]
pub fn fit_power_lambda(
    py: Python<'_>,
    values: PyReadonlyArray1<'_, f64>,
    method: &str,
    lower: f64,
    upper: f64,
    xatol: f64,
) -> PyResult<f64> {
    let method = PowerMethod::parse(method).map_err(to_py)?;
    let values = values.as_slice()?;
    detached(py, || {
        Ok(core::fit_lambda(values, method, lower, upper, xatol))
    })
}
