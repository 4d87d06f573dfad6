use fastprep_core::matrix::MatRef;
use fastprep_core::post as core;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;

use crate::util::{detached, map_matrix, view, Matrix};

/// Softmax of each row (2-D float input; float32 stays float32).
#[pyfunction]
pub fn softmax<'py>(py: Python<'py>, x: Matrix<'py>) -> PyResult<Bound<'py, PyAny>> {
    Ok(map_matrix!(py, x, m.cols(), |m, out| core::softmax(m, out)))
}

/// Log-softmax of each row.
#[pyfunction]
pub fn log_softmax<'py>(py: Python<'py>, x: Matrix<'py>) -> PyResult<Bound<'py, PyAny>> {
    Ok(map_matrix!(py, x, m.cols(), |m, out| core::log_softmax(
        m, out
    )))
}

/// The logistic function of every value.
#[pyfunction]
pub fn sigmoid<'py>(py: Python<'py>, x: Matrix<'py>) -> PyResult<Bound<'py, PyAny>> {
    Ok(map_matrix!(py, x, m.cols(), |m, out| core::sigmoid(m, out)))
}

/// The index of each row's largest value.
#[pyfunction]
pub fn argmax<'py>(py: Python<'py>, x: Matrix<'py>) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let out = match x {
        Matrix::F64(a) => {
            let m = view(&a)?;
            let mut out = vec![0i64; m.rows()];
            detached(py, || core::argmax(m, &mut out))?;
            out
        }
        Matrix::F32(a) => {
            let m = view(&a)?;
            let mut out = vec![0i64; m.rows()];
            detached(py, || core::argmax(m, &mut out))?;
            out
        }
    };
    Ok(out.into_pyarray(py))
}

type TopK<'py> = (Bound<'py, PyAny>, Bound<'py, PyArray2<i64>>);

/// The `k` largest values of each row, descending, and their indices.
#[pyfunction]
pub fn top_k<'py>(py: Python<'py>, x: Matrix<'py>, k: usize) -> PyResult<TopK<'py>> {
    macro_rules! run {
        ($a:expr, $t:ty) => {{
            let m = view(&$a)?;
            let rows = m.rows();
            // Fresh and large (60 MB for 1M rows, top-5): on huge pages.
            let mut values = fastprep_core::memory::zeroed::<$t>(rows * k);
            let mut indices = fastprep_core::memory::zeroed::<i64>(rows * k);
            detached(py, || core::top_k(m, k, &mut values, &mut indices))?;
            let values = PyArray1::from_vec(py, values)
                .reshape([rows, k])?
                .into_any();
            (values, PyArray1::from_vec(py, indices).reshape([rows, k])?)
        }};
    }
    Ok(match x {
        Matrix::F64(a) => run!(a, f64),
        Matrix::F32(a) => run!(a, f32),
    })
}

/// Greedy non-maximum suppression: the kept box indices, best first.
#[pyfunction]
#[pyo3(signature = (boxes, scores, iou_threshold, classes=None))]
pub fn nms<'py>(
    py: Python<'py>,
    boxes: PyReadonlyArray2<'py, f64>,
    scores: PyReadonlyArray1<'py, f64>,
    iou_threshold: f64,
    classes: Option<PyReadonlyArray1<'py, i64>>,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let b: MatRef<'_, f64> = view(&boxes)?;
    let s = scores.as_slice()?;
    let c = classes.as_ref().map(|c| c.as_slice()).transpose()?;
    let kept = detached(py, || core::nms(b, s, iou_threshold, c))?;
    Ok(kept.into_pyarray(py))
}
