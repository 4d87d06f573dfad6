use fastprep_core::special;
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::util::detached;

/// Inverse of the standard normal CDF, elementwise.
#[pyfunction]
pub fn ndtri<'py>(
    py: Python<'py>,
    p: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let p = p.as_slice()?;
    let out: Vec<f64> = detached(py, || Ok(p.iter().map(|&v| special::ndtri(v)).collect()))?;
    Ok(out.into_pyarray(py))
}

/// The standard normal CDF, elementwise.
#[pyfunction]
pub fn ndtr<'py>(
    py: Python<'py>,
    x: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let x = x.as_slice()?;
    let out: Vec<f64> = detached(py, || Ok(x.iter().map(|&v| special::ndtr(v)).collect()))?;
    Ok(out.into_pyarray(py))
}
