use fastprep_core::stats;
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::util::{detached, map_matrix, reduce_matrix, with_csr, CsrData, CsrIndices, Matrix};

type Arr<'py, T> = Bound<'py, PyArray1<T>>;

/// (count, nan_count, mean, m2, min, max) of every column, NaN skipped.
#[pyfunction]
#[allow(clippy::type_complexity)]
pub fn column_stats<'py>(
    py: Python<'py>,
    x: Matrix<'py>,
) -> PyResult<(
    Arr<'py, u64>,
    Arr<'py, u64>,
    Arr<'py, f64>,
    Arr<'py, f64>,
    Arr<'py, f64>,
    Arr<'py, f64>,
)> {
    let s = reduce_matrix!(py, x, |m| Ok(stats::column_stats(m)));
    Ok((
        s.count.into_pyarray(py),
        s.nan_count.into_pyarray(py),
        s.mean.into_pyarray(py),
        s.m2.into_pyarray(py),
        s.min.into_pyarray(py),
        s.max.into_pyarray(py),
    ))
}

/// A private copy of `x` (same dtype), made on every core for a large matrix.
#[pyfunction]
pub fn copy_matrix<'py>(py: Python<'py>, x: Matrix<'py>) -> PyResult<Bound<'py, PyAny>> {
    Ok(map_matrix!(py, x, m.cols(), |m, out| {
        fastprep_core::parallel::copy(m.data(), out);
        Ok(())
    }))
}

/// `column_stats` of a CSR matrix, its implicit zeros counted as values.
#[pyfunction]
#[allow(clippy::type_complexity)]
pub fn csr_column_stats<'py>(
    py: Python<'py>,
    data: CsrData<'py>,
    index: CsrIndices<'py>,
    cols: usize,
) -> PyResult<(
    Arr<'py, u64>,
    Arr<'py, u64>,
    Arr<'py, f64>,
    Arr<'py, f64>,
    Arr<'py, f64>,
    Arr<'py, f64>,
)> {
    let s = with_csr!(data, index, cols, |csr| detached(py, || Ok(
        stats::csr_column_stats(csr)
    ))?);
    Ok((
        s.count.into_pyarray(py),
        s.nan_count.into_pyarray(py),
        s.mean.into_pyarray(py),
        s.m2.into_pyarray(py),
        s.min.into_pyarray(py),
        s.max.into_pyarray(py),
    ))
}

/// (weight, nan_count, mean, m2, min, max) of every column with a weight per row.
#[pyfunction]
#[allow(clippy::type_complexity)]
pub fn weighted_column_stats<'py>(
    py: Python<'py>,
    x: Matrix<'py>,
    w: PyReadonlyArray1<'py, f64>,
) -> PyResult<(
    Arr<'py, f64>,
    Arr<'py, u64>,
    Arr<'py, f64>,
    Arr<'py, f64>,
    Arr<'py, f64>,
    Arr<'py, f64>,
)> {
    let w = w.as_slice()?.to_vec();
    let s = reduce_matrix!(py, x, |m| stats::weighted_column_stats(m, &w));
    Ok((
        s.weight.into_pyarray(py),
        s.stats.nan_count.into_pyarray(py),
        s.stats.mean.into_pyarray(py),
        s.stats.m2.into_pyarray(py),
        s.stats.min.into_pyarray(py),
        s.stats.max.into_pyarray(py),
    ))
}

/// `weighted_column_stats` of a CSR matrix, its implicit zeros weighing their row's weight.
#[pyfunction]
#[allow(clippy::type_complexity)]
pub fn weighted_csr_column_stats<'py>(
    py: Python<'py>,
    data: CsrData<'py>,
    index: CsrIndices<'py>,
    cols: usize,
    w: PyReadonlyArray1<'py, f64>,
) -> PyResult<(
    Arr<'py, f64>,
    Arr<'py, u64>,
    Arr<'py, f64>,
    Arr<'py, f64>,
    Arr<'py, f64>,
    Arr<'py, f64>,
)> {
    let w = w.as_slice()?.to_vec();
    let s = with_csr!(data, index, cols, |csr| detached(py, || {
        stats::weighted_csr_column_stats(csr, &w)
    })?);
    Ok((
        s.weight.into_pyarray(py),
        s.stats.nan_count.into_pyarray(py),
        s.stats.mean.into_pyarray(py),
        s.stats.m2.into_pyarray(py),
        s.stats.min.into_pyarray(py),
        s.stats.max.into_pyarray(py),
    ))
}
