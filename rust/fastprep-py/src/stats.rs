use fastprep_core::stats;
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::util::{detached, map_matrix, reduce_matrix, with_csr, CsrData, CsrIndices, Matrix};

type Arr<'py, T> = Bound<'py, PyArray1<T>>;

/// `(first, nan_count, mean, m2, min, max)`: what the statistics kernels return to Python,
/// `first` the values' count, or their weight for the weighted kernels.
type Stats<'py, C> = (
    Arr<'py, C>,
    Arr<'py, u64>,
    Arr<'py, f64>,
    Arr<'py, f64>,
    Arr<'py, f64>,
    Arr<'py, f64>,
);

fn to_python<'py, C: numpy::Element>(
    py: Python<'py>,
    first: Vec<C>,
    s: stats::ColumnStats,
) -> Stats<'py, C> {
    (
        first.into_pyarray(py),
        s.nan_count.into_pyarray(py),
        s.mean.into_pyarray(py),
        s.m2.into_pyarray(py),
        s.min.into_pyarray(py),
        s.max.into_pyarray(py),
    )
}

/// (count, nan_count, mean, m2, min, max) of every column, NaN skipped.
#[pyfunction]
pub fn column_stats<'py>(py: Python<'py>, x: Matrix<'py>) -> PyResult<Stats<'py, u64>> {
    let mut s = reduce_matrix!(py, x, |m| Ok(stats::column_stats(m)));
    Ok(to_python(py, std::mem::take(&mut s.count), s))
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
pub fn csr_column_stats<'py>(
    py: Python<'py>,
    data: CsrData<'py>,
    index: CsrIndices<'py>,
    cols: usize,
) -> PyResult<Stats<'py, u64>> {
    let mut s = with_csr!(data, index, cols, |csr| detached(py, || Ok(
        stats::csr_column_stats(csr)
    ))?);
    Ok(to_python(py, std::mem::take(&mut s.count), s))
}

/// (weight, nan_count, mean, m2, min, max) of every column with a weight per row.
#[pyfunction]
pub fn weighted_column_stats<'py>(
    py: Python<'py>,
    x: Matrix<'py>,
    w: PyReadonlyArray1<'py, f64>,
) -> PyResult<Stats<'py, f64>> {
    let w = w.as_slice()?;
    let s = reduce_matrix!(py, x, |m| stats::weighted_column_stats(m, w));
    Ok(to_python(py, s.weight, s.stats))
}

/// `weighted_column_stats` of a CSR matrix, its implicit zeros weighing their row's weight.
#[pyfunction]
pub fn weighted_csr_column_stats<'py>(
    py: Python<'py>,
    data: CsrData<'py>,
    index: CsrIndices<'py>,
    cols: usize,
    w: PyReadonlyArray1<'py, f64>,
) -> PyResult<Stats<'py, f64>> {
    let w = w.as_slice()?;
    let s = with_csr!(data, index, cols, |csr| detached(py, || {
        stats::weighted_csr_column_stats(csr, w)
    })?);
    Ok(to_python(py, s.weight, s.stats))
}
