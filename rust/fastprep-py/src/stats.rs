use fastprep_core::exact::ExactSum;
use fastprep_core::stats;
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::{IntoPyDict, PyBytes, PyInt};

use crate::util::{detached, map_matrix, reduce_matrix, with_csr, CsrData, CsrIndices, Matrix};

type Arr<'py, T> = Bound<'py, PyArray1<T>>;

/// An exact sum: a Python int, the sum in units of `2^-SCALE` (`fastprep.accumulators`).
type Exact<'py> = Bound<'py, PyAny>;

/// `(first, nan_count, sum, sum_sq, min, max)`: what the statistics kernels return to Python,
/// `first` the values' count, or their weights' exact sums for the weighted kernels.
type Stats<'py, C> = (
    C,
    Arr<'py, u64>,
    Vec<Exact<'py>>,
    Vec<Exact<'py>>,
    Arr<'py, f64>,
    Arr<'py, f64>,
);

fn exact<'py>(py: Python<'py>, sums: &[ExactSum]) -> PyResult<Vec<Exact<'py>>> {
    let from_bytes = py.get_type::<PyInt>().getattr("from_bytes")?;
    let signed = [("signed", true)].into_py_dict(py)?;
    sums.iter()
        .map(|s| {
            let (lo, limbs) = s.normalized();
            let bytes: Vec<u8> = limbs.iter().flat_map(|l| l.to_le_bytes()).collect();
            let value = from_bytes.call((PyBytes::new(py, &bytes), "little"), Some(&signed))?;
            value.call_method1("__lshift__", (64 * lo,))
        })
        .collect()
}

fn to_python<'py, C>(py: Python<'py>, first: C, s: stats::ColumnStats) -> PyResult<Stats<'py, C>> {
    Ok((
        first,
        s.nan_count.into_pyarray(py),
        exact(py, &s.sum)?,
        exact(py, &s.sum_sq)?,
        s.min.into_pyarray(py),
        s.max.into_pyarray(py),
    ))
}

/// (count, nan_count, Σx, Σx², min, max) of every column, NaN skipped, the sums exact.
#[pyfunction]
pub fn column_stats<'py>(py: Python<'py>, x: Matrix<'py>) -> PyResult<Stats<'py, Arr<'py, u64>>> {
    let mut s = reduce_matrix!(py, x, |m| Ok(stats::column_stats(m)));
    to_python(py, std::mem::take(&mut s.count).into_pyarray(py), s)
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
) -> PyResult<Stats<'py, Arr<'py, u64>>> {
    let mut s = with_csr!(data, index, cols, |csr| detached(py, || Ok(
        stats::csr_column_stats(csr)
    ))?);
    to_python(py, std::mem::take(&mut s.count).into_pyarray(py), s)
}

/// (Σw, nan_count, Σwx, Σwx², min, max) of every column with a weight per row.
#[pyfunction]
pub fn weighted_column_stats<'py>(
    py: Python<'py>,
    x: Matrix<'py>,
    w: PyReadonlyArray1<'py, f64>,
) -> PyResult<Stats<'py, Vec<Exact<'py>>>> {
    let w = w.as_slice()?;
    let s = reduce_matrix!(py, x, |m| stats::weighted_column_stats(m, w));
    to_python(py, exact(py, &s.weight)?, s.stats)
}

/// `weighted_column_stats` of a CSR matrix, its implicit zeros weighing their row's weight.
#[pyfunction]
pub fn weighted_csr_column_stats<'py>(
    py: Python<'py>,
    data: CsrData<'py>,
    index: CsrIndices<'py>,
    cols: usize,
    w: PyReadonlyArray1<'py, f64>,
) -> PyResult<Stats<'py, Vec<Exact<'py>>>> {
    let w = w.as_slice()?;
    let s = with_csr!(data, index, cols, |csr| detached(py, || {
        stats::weighted_csr_column_stats(csr, w)
    })?);
    to_python(py, exact(py, &s.weight)?, s.stats)
}
