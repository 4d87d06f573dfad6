use fastprep_core::power::{self as core, PowerMethod};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
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

type Fitted<'py> = (
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
);

/// Each column's lambda in `[lowers[j], uppers[j]]` maximising its likelihood (values
/// without NaN), and the mean and population variance of the column transformed with it;
/// columns in parallel.
#[pyfunction]
pub fn fit_power_lambdas<'py>(
    py: Python<'py>,
    columns: Vec<PyReadonlyArray1<'py, f64>>,
    method: &str,
    lowers: Vec<f64>,
    uppers: Vec<f64>,
    xatol: f64,
) -> PyResult<Fitted<'py>> {
    let method = PowerMethod::parse(method).map_err(to_py)?;
    let columns = columns
        .iter()
        .map(|c| c.as_slice())
        .collect::<Result<Vec<_>, _>>()?;
    let bounds: Vec<(f64, f64)> = lowers.into_iter().zip(uppers).collect();
    let fitted = detached(py, || core::fit_lambdas(&columns, method, &bounds, xatol))?;
    let (lambdas, rest): (Vec<f64>, Vec<(f64, f64)>) =
        fitted.into_iter().map(|(l, m, v)| (l, (m, v))).unzip();
    let (means, variances): (Vec<f64>, Vec<f64>) = rest.into_iter().unzip();
    Ok((
        lambdas.into_pyarray(py),
        means.into_pyarray(py),
        variances.into_pyarray(py),
    ))
}
