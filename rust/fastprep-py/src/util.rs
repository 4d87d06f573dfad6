//! Conversions shared by every binding: NumPy in, core call detached from the GIL, NumPy out.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use fastprep_core::memory::Buffer;
use fastprep_core::{Element, Mat, MatRef};
use numpy::ndarray::Array2;
use numpy::{
    IntoPyArray, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::prelude::*;

use crate::errors::{to_py, FastprepError, SchemaError};

/// A 2-D float array; the Python layer has already made it C-contiguous.
#[derive(FromPyObject)]
pub enum Matrix<'py> {
    F64(PyReadonlyArray2<'py, f64>),
    F32(PyReadonlyArray2<'py, f32>),
}

/// Borrows a NumPy array as a core matrix view.
pub fn view<'a, T: Element + numpy::Element>(
    a: &'a PyReadonlyArray2<'_, T>,
) -> PyResult<MatRef<'a, T>> {
    let (rows, cols) = (a.shape()[0], a.shape()[1]);
    // `as_slice` also takes a Fortran-ordered array, whose data is not row-major.
    if !a.is_c_contiguous() {
        return Err(SchemaError::new_err("expected a C-contiguous array"));
    }
    let data = a
        .as_slice()
        .map_err(|_| SchemaError::new_err("expected a C-contiguous, aligned array"))?;
    MatRef::new(data, rows, cols).map_err(to_py)
}

/// Runs a core call with the GIL released. A panic is a bug: it comes back as a
/// `FastprepError` (an `Exception`), never as pyo3's `PanicException` (a `BaseException`).
pub fn detached<T, F>(py: Python<'_>, f: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce() -> fastprep_core::Result<T> + Send,
{
    match py.detach(|| catch_unwind(AssertUnwindSafe(f))) {
        Ok(result) => result.map_err(to_py),
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(FastprepError::new_err(format!(
                "internal error in a fastprep kernel (please report it): {what}"
            )))
        }
    }
}

/// Moves a core matrix into a NumPy array without copying it.
pub fn to_numpy<T: Element + numpy::Element>(
    py: Python<'_>,
    m: Mat<T>,
) -> PyResult<Bound<'_, PyArray2<T>>> {
    let array = Array2::from_shape_vec((m.rows, m.cols), m.data)
        .map_err(|e| FastprepError::new_err(e.to_string()))?;
    Ok(array.into_pyarray(py))
}

/// Allocates a `rows × cols` NumPy output and lets a kernel fill it with the GIL released.
///
/// NumPy allocates it: on Linux NumPy asks for transparent huge pages on large arrays, which
/// saves most of the page faults a fresh 100 MB buffer otherwise costs (more than the kernel).
pub fn numpy_output<'py, T, F>(
    py: Python<'py>,
    rows: usize,
    cols: usize,
    fill: F,
) -> PyResult<Bound<'py, PyArray2<T>>>
where
    T: Element + numpy::Element,
    F: FnOnce(&mut [T]) -> fastprep_core::Result<()> + Send,
{
    // SAFETY: the buffer is uninitialised until `fill` writes it. Every kernel writes every
    // output cell (the contract of `MatRef::map_rows_into`) and nothing reads it before; the
    // elements are plain floats, so no drop code ever sees an uninitialised value. On error
    // the array is dropped unread.
    let array = unsafe { PyArray2::<T>::new(py, [rows, cols], false) };
    {
        let mut guard = array.readwrite();
        let out = guard
            .as_slice_mut()
            .map_err(|e| FastprepError::new_err(e.to_string()))?;
        detached(py, || fill(out))?;
    }
    Ok(array)
}

/// Runs a kernel `|view, out| -> Result<()>` on a `Matrix` of either float type: `out` is a new
/// NumPy array of the same float type with `$cols` columns (an expression that may use the
/// view), filled with the GIL released.
macro_rules! map_matrix {
    ($py:expr, $x:expr, $cols:expr, |$m:ident, $out:ident| $body:expr) => {
        match $x {
            $crate::util::Matrix::F64(a) => {
                let $m = $crate::util::view(&a)?;
                let cols = $cols;
                $crate::util::numpy_output($py, $m.rows(), cols, |$out| $body)?.into_any()
            }
            $crate::util::Matrix::F32(a) => {
                let $m = $crate::util::view(&a)?;
                let cols = $cols;
                $crate::util::numpy_output($py, $m.rows(), cols, |$out| $body)?.into_any()
            }
        }
    };
}
pub(crate) use map_matrix;

/// Fills the caller's array `target` (a C-contiguous, writeable `rows × cols` array of `T`,
/// not the input: the caller checks this with clear messages; here it is a safety net) with
/// the GIL released.
pub fn fill_into<'py, T, F>(
    target: &Bound<'py, PyAny>,
    rows: usize,
    cols: usize,
    fill: F,
) -> PyResult<()>
where
    T: Element + numpy::Element,
    F: FnOnce(&mut [T]) -> fastprep_core::Result<()> + Send,
{
    let bad = |what: &str| crate::errors::ParameterError::new_err(format!("out: {what}"));
    let array = target
        .cast::<PyArray2<T>>()
        .map_err(|_| bad("not a 2-D array of the output's dtype"))?;
    if array.shape() != [rows, cols] {
        return Err(bad(&format!(
            "shape {:?}, expected ({rows}, {cols})",
            array.shape()
        )));
    }
    let mut guard = array
        .try_readwrite()
        .map_err(|_| bad("not writeable, or the input itself"))?;
    let out = guard.as_slice_mut().map_err(|_| bad("not C-contiguous"))?;
    detached(target.py(), || fill(out))
}

/// `map_matrix`, writing into the caller's array `$into` when it is `Some` (and returning
/// it), else into a new one.
macro_rules! map_matrix_into {
    ($py:expr, $x:expr, $cols:expr, $into:expr, |$m:ident, $out:ident| $body:expr) => {
        match $into {
            None => $crate::util::map_matrix!($py, $x, $cols, |$m, $out| $body),
            Some(target) => {
                match $x {
                    $crate::util::Matrix::F64(a) => {
                        let $m = $crate::util::view(&a)?;
                        let cols = $cols;
                        $crate::util::fill_into::<f64, _>(&target, $m.rows(), cols, |$out| $body)?;
                    }
                    $crate::util::Matrix::F32(a) => {
                        let $m = $crate::util::view(&a)?;
                        let cols = $cols;
                        $crate::util::fill_into::<f32, _>(&target, $m.rows(), cols, |$out| $body)?;
                    }
                }
                target
            }
        }
    };
}
pub(crate) use map_matrix_into;

/// Runs a kernel `|view| -> Result<R>` on a `Matrix` of either float type, detached, for
/// kernels whose result type does not depend on the input float type.
macro_rules! reduce_matrix {
    ($py:expr, $x:expr, |$m:ident| $body:expr) => {
        match $x {
            $crate::util::Matrix::F64(a) => {
                let $m = $crate::util::view(&a)?;
                $crate::util::detached($py, || $body)?
            }
            $crate::util::Matrix::F32(a) => {
                let $m = $crate::util::view(&a)?;
                $crate::util::detached($py, || $body)?
            }
        }
    };
}
pub(crate) use reduce_matrix;

/// `(array, result)`: a new `rows × cols` NumPy output, float32 if `$float32` else float64,
/// filled with the GIL released by `|out| -> fastprep_core::Result<R>` (one body, two float
/// types); `result` is what the body returned.
macro_rules! float_output {
    ($py:expr, $rows:expr, $cols:expr, $float32:expr, |$out:ident| $body:expr) => {{
        let mut result = Default::default();
        let array = if $float32 {
            $crate::util::numpy_output($py, $rows, $cols, |$out: &mut [f32]| {
                result = $body?;
                Ok(())
            })?
            .into_any()
        } else {
            $crate::util::numpy_output($py, $rows, $cols, |$out: &mut [f64]| {
                result = $body?;
                Ok(())
            })?
            .into_any()
        };
        (array, result)
    }};
}
pub(crate) use float_output;

/// Whether nothing can ever change the memory of `obj`, a NumPy array: it and every array it
/// views are read-only, and the object at the end of its bases exports read-only memory
/// (bytes, a read-only mmap: what an artifact's arrays view). An array that owns its memory
/// does not count, since its owner may make it writeable again.
fn frozen(obj: &Bound<'_, PyAny>) -> bool {
    let py = obj.py();
    let check = || -> PyResult<bool> {
        let memoryview = py.import("builtins")?.getattr("memoryview")?;
        let mut obj = obj.clone();
        loop {
            if obj.cast::<PyUntypedArray>().is_ok() {
                if obj
                    .getattr("flags")?
                    .getattr("writeable")?
                    .extract::<bool>()?
                {
                    return Ok(false);
                }
                obj = obj.getattr("base")?;
                if obj.is_none() {
                    return Ok(false);
                }
            } else if obj.is_instance(&memoryview)? {
                if !obj.getattr("readonly")?.extract::<bool>()? {
                    return Ok(false);
                }
                obj = obj.getattr("obj")?;
            } else {
                return memoryview.call1((obj,))?.getattr("readonly")?.extract();
            }
        }
    };
    check().unwrap_or(false)
}

/// The memory of a frozen array, kept alive by a reference to the array.
struct FrozenArray<T> {
    _array: Py<PyAny>,
    ptr: *const T,
    len: usize,
}

// SAFETY: the memory never changes (`frozen`) and lives as long as the array this holds a
// reference to; reading it needs no lock and no GIL.
unsafe impl<T: Sync> Send for FrozenArray<T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for FrozenArray<T> {}

impl<T> AsRef<[T]> for FrozenArray<T> {
    fn as_ref(&self) -> &[T] {
        // SAFETY: `ptr` is non-null, aligned and valid for `len` values (checked in `buffer`).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// Arrays smaller than this are copied without asking whether they could be shared: the
/// question (a few attribute look-ups) costs more than their copy.
const SHARE_MIN_BYTES: usize = 1 << 16;

/// A 1-D array as a core buffer: shared when the array is large and frozen (an artifact's
/// memory-mapped vocabulary then loads without a copy), copied otherwise.
pub fn buffer<T>(a: &PyReadonlyArray1<'_, T>) -> Buffer<T>
where
    T: numpy::Element + Copy + Default + Sync + 'static,
{
    match a.as_slice() {
        Ok(values)
            if std::mem::size_of_val(values) >= SHARE_MIN_BYTES
                && values.as_ptr().align_offset(std::mem::align_of::<T>()) == 0
                && frozen(a.as_any()) =>
        {
            Buffer::shared(Arc::new(FrozenArray {
                _array: a.as_any().clone().unbind(),
                ptr: values.as_ptr(),
                len: values.len(),
            }))
        }
        Ok(values) => fastprep_core::memory::copied(values).into(),
        Err(_) => a.as_array().to_vec().into(),
    }
}

/// A CSR matrix's stored values (float64 or float32) and its `indptr` and `indices` (both
/// int32 or both int64, C-contiguous: the Python layer has made them so).
#[derive(FromPyObject)]
pub enum CsrData<'py> {
    F64(PyReadonlyArray1<'py, f64>),
    F32(PyReadonlyArray1<'py, f32>),
}

#[derive(FromPyObject)]
pub enum CsrIndices<'py> {
    I32(PyReadonlyArray1<'py, i32>, PyReadonlyArray1<'py, i32>),
    I64(PyReadonlyArray1<'py, i64>, PyReadonlyArray1<'py, i64>),
}

pub fn slice<'a, T: numpy::Element>(a: &'a PyReadonlyArray1<'_, T>) -> PyResult<&'a [T]> {
    a.as_slice()
        .map_err(|_| SchemaError::new_err("expected a C-contiguous array"))
}

/// Runs `|csr| body` on a checked `CsrRef` of whichever data and index types it holds.
macro_rules! with_csr {
    ($data:expr, $index:expr, $cols:expr, |$csr:ident| $body:expr) => {{
        use fastprep_core::sparse::CsrRef;
        use $crate::errors::to_py;
        use $crate::util::{slice, CsrData, CsrIndices};
        match ($data, $index) {
            (CsrData::F64(d), CsrIndices::I32(p, i)) => {
                let $csr = CsrRef::new(slice(&p)?, slice(&i)?, slice(&d)?, $cols).map_err(to_py)?;
                $body
            }
            (CsrData::F64(d), CsrIndices::I64(p, i)) => {
                let $csr = CsrRef::new(slice(&p)?, slice(&i)?, slice(&d)?, $cols).map_err(to_py)?;
                $body
            }
            (CsrData::F32(d), CsrIndices::I32(p, i)) => {
                let $csr = CsrRef::new(slice(&p)?, slice(&i)?, slice(&d)?, $cols).map_err(to_py)?;
                $body
            }
            (CsrData::F32(d), CsrIndices::I64(p, i)) => {
                let $csr = CsrRef::new(slice(&p)?, slice(&i)?, slice(&d)?, $cols).map_err(to_py)?;
                $body
            }
        }
    }};
}
pub(crate) use with_csr;

/// A new NumPy array of the stored values' type, one per stored value, filled by
/// `kernel(csr, out)` with the GIL released.
pub fn csr_values<'py, T, I, F>(
    py: Python<'py>,
    csr: fastprep_core::sparse::CsrRef<'_, T, I>,
    kernel: F,
) -> PyResult<Bound<'py, PyAny>>
where
    T: Element + numpy::Element,
    I: fastprep_core::sparse::CsrIndex,
    F: FnOnce(fastprep_core::sparse::CsrRef<'_, T, I>, &mut [T]) -> fastprep_core::Result<()>
        + Send,
{
    let mut out = vec![T::from_f64(0.0); csr.data().len()];
    detached(py, || kernel(csr, &mut out))?;
    Ok(out.into_pyarray(py).into_any())
}
