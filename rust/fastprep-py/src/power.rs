use fastprep_core::power::{self as core, PowerMethod};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::errors::to_py;
use crate::util::{detached, map_matrix, reduce_matrix, Matrix};

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
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
);

/// For each column of `x` whose bounds `lowers[j]`, `uppers[j]` are not NaN: the count of its
/// values (NaN skipped), its lambda maximising the likelihood, and the mean and population
/// variance of the column transformed with it; columns in parallel. Other columns: their
/// count and NaN.
#[pyfunction]
pub fn fit_power_lambdas<'py>(
    py: Python<'py>,
    x: Matrix<'py>,
    method: &str,
    lowers: Vec<f64>,
    uppers: Vec<f64>,
    xatol: f64,
) -> PyResult<Fitted<'py>> {
    let method = PowerMethod::parse(method).map_err(to_py)?;
    let bounds: Vec<Option<(f64, f64)>> = lowers
        .into_iter()
        .zip(uppers)
        .map(|(lo, hi)| (!lo.is_nan() && !hi.is_nan()).then_some((lo, hi)))
        .collect();
    let fitted = reduce_matrix!(py, x, |m| core::fit_lambdas(m, method, &bounds, xatol));
    let mut columns = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (n, lmbda, mean, var) in fitted {
        columns.0.push(n as u64);
        columns.1.push(lmbda);
        columns.2.push(mean);
        columns.3.push(var);
    }
    Ok((
        columns.0.into_pyarray(py),
        columns.1.into_pyarray(py),
        columns.2.into_pyarray(py),
        columns.3.into_pyarray(py),
    ))
}
