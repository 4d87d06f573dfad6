use fastprep_core::drift as core;
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::util::detached;

/// Per bin `(-inf, e0], (e0, e1], ..., (e_last, inf)`, how many values fall in it; and how
/// many are NaN. Counted with the GIL released.
#[pyfunction]
pub fn bin_counts<'py>(
    py: Python<'py>,
    values: PyReadonlyArray1<'py, f64>,
    edges: PyReadonlyArray1<'py, f64>,
) -> PyResult<(Bound<'py, PyArray1<i64>>, i64)> {
    let v = values.as_slice()?;
    let e = edges.as_slice()?;
    let (bins, missing) = detached(py, || core::bin_counts(v, e))?;
    Ok((bins.into_pyarray(py), missing))
}
