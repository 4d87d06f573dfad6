use fastprep_core::drift as core;
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::encode::{lookup_inputs, CategoryIndex};
use crate::strings::HeldColumn;
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

/// Per column, how often each lookup code occurs (categories, then missing, then unknown).
#[pyfunction]
pub fn code_counts<'py>(
    py: Python<'py>,
    indexes: Vec<Bound<'py, CategoryIndex>>,
    columns: Vec<HeldColumn<'py>>,
) -> PyResult<Vec<Bound<'py, PyArray1<i64>>>> {
    let (indexes, views) = lookup_inputs(&indexes, &columns)?;
    let counts = detached(py, || {
        indexes
            .iter()
            .zip(&views)
            .map(|(index, column)| core::code_counts(index, column))
            .collect::<fastprep_core::Result<Vec<_>>>()
    })?;
    Ok(counts.into_iter().map(|c| c.into_pyarray(py)).collect())
}
