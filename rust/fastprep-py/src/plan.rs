use std::sync::{Arc, Mutex};

use fastprep_core::memory::Buffer;
use fastprep_core::plan::spec::{self, Spec};
use fastprep_core::plan::{Input, InputKind, RowScratch, RowValue, Transformer};
use fastprep_core::{Error, Result};
use numpy::{
    IntoPyArray, PyArray1, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2,
    PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyInt, PyString};

use crate::encode::CategoryIndex;
use crate::errors::to_py;
use crate::strings::HeldColumn;
use crate::util::{buffer, detached, float_output};

/// A fitted pipeline compiled into one native plan, built from the plan's spec (see
/// `fastprep_core::plan::spec`). Immutable: threads share it without a lock; a batch runs
/// with the GIL released.
#[pyclass(frozen, module = "fastprep._core")]
pub struct Plan {
    inner: Transformer,
    /// The inputs' names, made once: a request row is read by them.
    names: Vec<Py<PyString>>,
    /// What a request row needs besides its output, kept across requests.
    scratch: Mutex<RowScratch>,
}

/// A spec node held as a Python object (dicts, lists, NumPy arrays).
struct PyNode<'py>(Bound<'py, PyAny>);

fn wrong(e: PyErr) -> Error {
    Error::Shape(e.to_string())
}

impl<'py> Spec for PyNode<'py> {
    fn get(&self, key: &str) -> Result<Self> {
        match self.0.get_item(key) {
            Ok(v) => Ok(PyNode(v)),
            Err(_) => Err(Error::Shape(format!("the plan lacks {key:?}"))),
        }
    }

    fn has(&self, key: &str) -> bool {
        self.0
            .cast::<PyDict>()
            .is_ok_and(|d| d.contains(key).unwrap_or(false))
    }

    fn is_null(&self) -> bool {
        self.0.is_none()
    }

    fn text(&self) -> Result<String> {
        self.0.extract().map_err(wrong)
    }

    fn flag(&self) -> Result<bool> {
        self.0.extract().map_err(wrong)
    }

    fn natural(&self) -> Result<usize> {
        self.0.extract().map_err(wrong)
    }

    fn number(&self) -> Result<f64> {
        self.0.extract().map_err(wrong)
    }

    fn items(&self) -> Result<Vec<Self>> {
        self.0
            .try_iter()
            .map_err(wrong)?
            .map(|item| item.map(PyNode).map_err(wrong))
            .collect()
    }

    fn f64s(&self) -> Result<Vec<f64>> {
        let a: PyReadonlyArray1<'_, f64> = self.0.extract().map_err(wrong)?;
        Ok(a.as_array().to_vec())
    }

    fn i32s(&self) -> Result<Vec<i32>> {
        let a: PyReadonlyArray1<'_, i32> = self.0.extract().map_err(wrong)?;
        Ok(a.as_array().to_vec())
    }

    fn i64s(&self) -> Result<Vec<i64>> {
        let a: PyReadonlyArray1<'_, i64> = self.0.extract().map_err(wrong)?;
        Ok(a.as_array().to_vec())
    }

    fn byte_buffer(&self) -> Result<Buffer<u8>> {
        Ok(buffer(&self.0.extract().map_err(wrong)?))
    }

    fn i64_buffer(&self) -> Result<Buffer<i64>> {
        Ok(buffer(&self.0.extract().map_err(wrong)?))
    }

    fn matrix(&self) -> Result<(Vec<f64>, usize, usize)> {
        let a: PyReadonlyArray2<'_, f64> = self.0.extract().map_err(wrong)?;
        let (rows, cols) = (a.shape()[0], a.shape()[1]);
        Ok((a.as_array().iter().copied().collect(), rows, cols))
    }

    fn prebuilt_index(&self) -> Option<Arc<fastprep_core::encode::CategoryIndex>> {
        let index = self.0.get_item("index").ok()?;
        let index = index.cast::<CategoryIndex>().ok()?;
        Some(index.get().inner.clone())
    }
}

/// An input as Python passes it: a float64 array, or a categorical column's chunk list.
enum HeldInput<'py> {
    Numbers(PyReadonlyArray1<'py, f64>),
    Categories(HeldColumn<'py>),
}

fn hold<'py>(inputs: &[Bound<'py, PyAny>]) -> PyResult<Vec<HeldInput<'py>>> {
    inputs
        .iter()
        .map(|i| match i.extract::<PyReadonlyArray1<'py, f64>>() {
            Ok(a) => Ok(HeldInput::Numbers(a)),
            Err(_) => Ok(HeldInput::Categories(i.extract()?)),
        })
        .collect()
}

fn views<'a>(held: &'a [HeldInput<'_>]) -> PyResult<Vec<Input<'a>>> {
    held.iter()
        .map(|h| match h {
            HeldInput::Numbers(a) => Ok(Input::Numbers(a.as_slice()?)),
            HeldInput::Categories(c) => Ok(Input::Categories(c.column()?)),
        })
        .collect()
}

type Tallies<'py> = Vec<Option<Bound<'py, PyArray1<u64>>>>;
type SparseRan<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i32>>,
    Bound<'py, PyArray1<f64>>,
);

#[pymethods]
impl Plan {
    /// Parses and checks a plan spec (dicts, lists and NumPy arrays).
    #[new]
    fn new(py: Python<'_>, spec: &Bound<'_, PyAny>) -> PyResult<Self> {
        let inner = spec::parse(&PyNode(spec.clone())).map_err(to_py)?;
        let names = inner
            .inputs()
            .iter()
            .map(|i| PyString::intern(py, &i.name).unbind())
            .collect();
        Ok(Self {
            inner,
            names,
            scratch: Mutex::default(),
        })
    }

    #[getter]
    pub(crate) fn width(&self) -> usize {
        self.inner.width()
    }

    /// The dense output of a batch, or None when an encoder refuses a value it found (the
    /// caller then takes the step-by-step path, which raises or warns as the encoder does).
    fn run<'py>(
        &self,
        py: Python<'py>,
        inputs: Vec<Bound<'py, PyAny>>,
        rows: usize,
        float32: bool,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let held = hold(&inputs)?;
        let views = views(&held)?;
        let (out, found) = float_output!(py, rows, self.inner.width(), float32, |out| {
            self.inner.plan().run(&views, rows, out)
        });
        Ok(self.inner.refusal(&found).is_none().then_some(out))
    }

    /// A linear model's answers for the batch, computed block by block after the plan's
    /// features (never the whole feature matrix): its scores (`link` None) or probabilities
    /// (their logs with `log`), float64, or None as `run`.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (inputs, rows, coef, intercept, link, log))]
    fn run_model<'py>(
        &self,
        py: Python<'py>,
        inputs: Vec<Bound<'py, PyAny>>,
        rows: usize,
        coef: PyReadonlyArray2<'py, f64>,
        intercept: PyReadonlyArray1<'py, f64>,
        link: Option<&str>,
        log: bool,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        use fastprep_core::linear::{self, Link};
        let c = crate::util::view(&coef)?;
        let b = crate::util::slice(&intercept)?;
        linear::check(c, b, self.inner.width()).map_err(to_py)?;
        let link = link.map(Link::parse).transpose().map_err(to_py)?;
        let width = linear::answer_width(c.rows(), link);
        let held = hold(&inputs)?;
        let views = views(&held)?;
        let mut found = Vec::new();
        let out = crate::util::numpy_output::<f64, _>(py, rows, width, |out| {
            found = self
                .inner
                .plan()
                .run_then(&views, rows, out, width, |features, answers| {
                    linear::answers(features, c, b, link, log, answers)
                })?;
            Ok(())
        })?;
        Ok(self.inner.refusal(&found).is_none().then(|| out.into_any()))
    }

    /// `run`, with per lookup (in `looked_up` order) the count of each lookup code
    /// (categories, then missing, then unknown), or None for a vocabulary too large to tally.
    fn run_tallied<'py>(
        &self,
        py: Python<'py>,
        inputs: Vec<Bound<'py, PyAny>>,
        rows: usize,
        float32: bool,
    ) -> PyResult<Option<(Bound<'py, PyAny>, Tallies<'py>)>> {
        let held = hold(&inputs)?;
        let views = views(&held)?;
        let (out, (found, tallies)) = float_output!(py, rows, self.inner.width(), float32, |out| {
            self.inner.plan().run_tallied(&views, rows, out, true)
        });
        if self.inner.refusal(&found).is_some() {
            return Ok(None);
        }
        let tallies = tallies
            .into_iter()
            .map(|t| (!t.is_empty()).then(|| t.into_pyarray(py)))
            .collect();
        Ok(Some((out, tallies)))
    }

    /// The batch as CSR arrays `(indptr, indices, values)` (zeros not stored), or None as `run`.
    fn run_csr<'py>(
        &self,
        py: Python<'py>,
        inputs: Vec<Bound<'py, PyAny>>,
        rows: usize,
    ) -> PyResult<Option<SparseRan<'py>>> {
        let held = hold(&inputs)?;
        let views = views(&held)?;
        let (indptr, indices, values, found) =
            detached(py, || self.inner.plan().run_csr(&views, rows))?;
        if self.inner.refusal(&found).is_some() {
            return Ok(None);
        }
        Ok(Some((
            indptr.into_pyarray(py),
            indices.into_pyarray(py),
            values.into_pyarray(py),
        )))
    }

    /// One request row read from a dict by the inputs' names: its output (1-D), or None when
    /// a value is of a type the row path does not read or an encoder refuses it (the caller
    /// takes the batch path, which accepts or refuses it as any batch). Missing keys are one
    /// error naming them all.
    fn run_row<'py>(
        &self,
        py: Python<'py>,
        row: &Bound<'py, PyDict>,
        float32: bool,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        // One row: the GIL stays held, releasing it would cost more than the row.
        let width = self.inner.width();
        let ran = self.with_values(py, row, None, |values| {
            Ok(if float32 {
                let out = unsafe { PyArray1::<f32>::new(py, width, false) };
                // SAFETY: a new array, not yet shared; every element is written before it
                // is returned (or it is dropped on error).
                let ok = self.run_into(values, unsafe { out.as_slice_mut()? })?;
                ok.then(|| out.into_any())
            } else {
                let out = unsafe { PyArray1::<f64>::new(py, width, false) };
                let ok = self.run_into(values, unsafe { out.as_slice_mut()? })?;
                ok.then(|| out.into_any())
            })
        })?;
        Ok(ran.flatten())
    }

    /// Request rows (a sequence of dicts) into one `rows × width` array, or None as for
    /// `run_row` (the caller takes the batch path). Missing keys name the record and the keys.
    fn run_records<'py>(
        &self,
        py: Python<'py>,
        rows: &Bound<'py, PyAny>,
        float32: bool,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let rows: Vec<Bound<'py, PyAny>> = rows.try_iter()?.collect::<PyResult<_>>()?;
        let width = self.inner.width();
        macro_rules! fill {
            ($t:ty) => {{
                let out = unsafe { numpy::PyArray2::<$t>::new(py, [rows.len(), width], false) };
                // SAFETY: a new array, not yet shared; each row is written whole before the
                // array is returned (or it is dropped).
                let data = unsafe { out.as_slice_mut()? };
                for (r, row) in rows.iter().enumerate() {
                    let Ok(row) = row.cast::<PyDict>() else {
                        return Ok(None);
                    };
                    let into = &mut data[r * width..(r + 1) * width];
                    let ran =
                        self.with_values(py, row, Some(r), |values| self.run_into(values, into))?;
                    if ran != Some(true) {
                        return Ok(None);
                    }
                }
                out.into_any()
            }};
        }
        Ok(Some(if float32 { fill!(f32) } else { fill!(f64) }))
    }
}

/// Inputs a request row reads without allocating (more take two small vectors).
const INLINE: usize = 16;

impl Plan {
    /// The row's values by the inputs' names, each read for its input's kind, handed to `f`;
    /// None if one is of a type the row path does not read. A missing key is an error naming
    /// every one.
    pub(crate) fn with_values<'py, R>(
        &self,
        py: Python<'py>,
        row: &Bound<'py, PyDict>,
        record: Option<usize>,
        f: impl FnOnce(&[RowValue<'_>]) -> PyResult<R>,
    ) -> PyResult<Option<R>> {
        let n = self.names.len();
        if n <= INLINE {
            let mut held: [Option<Bound<'py, PyAny>>; INLINE] = Default::default();
            self.hold(py, row, record, &mut held[..n])?;
            let mut values = [RowValue::Missing; INLINE];
            if !self.read(&held[..n], &mut values[..n]) {
                return Ok(None);
            }
            f(&values[..n]).map(Some)
        } else {
            let mut held: Vec<Option<Bound<'py, PyAny>>> = (0..n).map(|_| None).collect();
            self.hold(py, row, record, &mut held)?;
            let mut values = vec![RowValue::Missing; n];
            if !self.read(&held, &mut values) {
                return Ok(None);
            }
            f(&values).map(Some)
        }
    }

    /// `held[i]` the row's value of input `i`.
    fn hold<'py>(
        &self,
        py: Python<'py>,
        row: &Bound<'py, PyDict>,
        record: Option<usize>,
        held: &mut [Option<Bound<'py, PyAny>>],
    ) -> PyResult<()> {
        let mut complete = true;
        for (h, name) in held.iter_mut().zip(&self.names) {
            *h = row.get_item(name.bind(py))?;
            complete &= h.is_some();
        }
        if complete {
            return Ok(());
        }
        let absent: Vec<String> = held
            .iter()
            .zip(&self.names)
            .filter(|(h, _)| h.is_none())
            .map(|(_, name)| format!("'{}'", name.bind(py)))
            .collect();
        let which = match record {
            Some(r) => format!("record {r} lacks"),
            None => "the record lacks".to_string(),
        };
        let columns = if absent.len() == 1 {
            "column"
        } else {
            "columns"
        };
        Err(crate::errors::SchemaError::new_err(format!(
            "{which} the {columns} {}",
            absent.join(", ")
        )))
    }

    /// Each held value read for its input's kind into `values`; false if one is of a type
    /// the row path does not read.
    fn read<'a>(&self, held: &'a [Option<Bound<'_, PyAny>>], values: &mut [RowValue<'a>]) -> bool {
        for ((v, h), spec) in values.iter_mut().zip(held).zip(self.inner.inputs()) {
            match h.as_ref().and_then(|h| read_value(h, spec.kind)) {
                Some(x) => *v = x,
                None => return false,
            }
        }
        true
    }

    /// One row into `out`; false when an encoder refuses a value.
    pub(crate) fn run_into<T: fastprep_core::Element>(
        &self,
        values: &[RowValue<'_>],
        out: &mut [T],
    ) -> PyResult<bool> {
        // The plan's scratch (requests hold the GIL, so one at a time takes it); a call that
        // finds it taken (no GIL, or a panic left it poisoned) makes its own. Not a thread
        // local: a new thread's first request would pay for setting one up.
        let refused = match self.scratch.try_lock() {
            Ok(mut s) => self.inner.run_row(values, out, &mut s),
            Err(_) => self.inner.run_row(values, out, &mut RowScratch::default()),
        }
        .map_err(to_py)?;
        Ok(refused.is_none())
    }
}

/// A request value as an input of `kind` reads it, or None for anything but the plain types
/// (None, float, int, str): the batch path then accepts or refuses it, as it does any batch,
/// so every path gives the same answer or the same error.
fn read_value<'a>(value: &'a Bound<'_, PyAny>, kind: InputKind) -> Option<RowValue<'a>> {
    if value.is_none() {
        return Some(RowValue::Missing);
    }
    // Checked in the order a request's values most often come (a str's type check against
    // float walks its type's bases; against int and str it reads a flag).
    match kind {
        InputKind::Numeric | InputKind::Float => {
            if let Ok(f) = value.cast::<PyFloat>() {
                Some(RowValue::Number(f.value()))
            } else if value.is_instance_of::<PyInt>() {
                value.extract::<f64>().ok().map(RowValue::Number)
            } else {
                None
            }
        }
        InputKind::Str => {
            if let Ok(s) = value.cast::<PyString>() {
                s.to_str().ok().map(|s| RowValue::Str(s.as_bytes()))
            } else {
                missing_float(value)
            }
        }
        InputKind::Int => {
            if value.is_instance_of::<PyInt>() {
                value.extract::<i64>().ok().map(RowValue::Int)
            } else {
                missing_float(value)
            }
        }
    }
}

/// A float NaN as a missing value of a str or int input; any other float is not read.
fn missing_float<'a>(value: &Bound<'_, PyAny>) -> Option<RowValue<'a>> {
    let f = value.cast::<PyFloat>().ok()?;
    f.value().is_nan().then_some(RowValue::Missing)
}

/// A composition's `transform_one` (or, with `records`, `transform_records`) as one native
/// call: installed on a fitted composition (as an instance attribute, which Python finds
/// before the class's method), it runs the plan's row path when the record is a dict (the
/// records a list or tuple), `dtype` is float64 or float32 and the backend in effect is
/// Rust, and hands anything else to the composition's own method (`slow`), which gives the
/// same numbers or the same error.
#[pyclass(frozen, module = "fastprep._core")]
pub struct RowCall {
    plan: Py<Plan>,
    /// The composition's name, which starts its error messages.
    owner: String,
    float64: Py<PyAny>,
    float32: Py<PyAny>,
    /// `get` of `fastprep._backend`'s context variable (the backend of this thread or task)
    /// and the module's namespace (whose `_default` is the process's).
    backend: Py<PyAny>,
    module: Py<PyDict>,
    slow: Py<PyAny>,
    records: bool,
}

#[pymethods]
impl RowCall {
    #[new]
    #[allow(clippy::too_many_arguments)]
    fn new(
        plan: Py<Plan>,
        owner: String,
        float64: Py<PyAny>,
        float32: Py<PyAny>,
        backend: Py<PyAny>,
        module: &Bound<'_, PyModule>,
        slow: Py<PyAny>,
        records: bool,
    ) -> Self {
        Self {
            plan,
            owner,
            float64,
            float32,
            backend,
            // A dict lookup, where the module's attribute would first search its type.
            module: module.dict().unbind(),
            slow,
            records,
        }
    }

    #[pyo3(signature = (row, *, dtype=None))]
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        row: &Bound<'py, PyAny>,
        dtype: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call(py, row, dtype)
    }

    /// The same call as a method: what is installed (Python calls a bound method of a
    /// native class with its arguments in place, where calling the object packs a tuple).
    #[pyo3(signature = (row, *, dtype=None))]
    fn call<'py>(
        &self,
        py: Python<'py>,
        row: &Bound<'py, PyAny>,
        dtype: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let float32 = match dtype {
            None => Some(false),
            Some(d) if d.is(self.float64.bind(py)) => Some(false),
            Some(d) if d.is(self.float32.bind(py)) => Some(true),
            Some(_) => None,
        };
        let readable = if self.records {
            row.is_exact_instance_of::<pyo3::types::PyList>()
                || row.is_exact_instance_of::<pyo3::types::PyTuple>()
        } else {
            row.is_exact_instance_of::<PyDict>()
        };
        if let (Some(float32), true) = (float32, readable) {
            if self.rust_in_effect(py)? {
                let ran = if self.records {
                    self.plan.get().run_records(py, row, float32)
                } else {
                    self.plan
                        .get()
                        .run_row(py, row.cast_exact::<PyDict>()?, float32)
                };
                if let Some(out) = by_owner(py, &self.owner, ran)? {
                    return Ok(out);
                }
            }
        }
        let dtype = match dtype {
            Some(d) => d.clone(),
            None => self.float64.bind(py).clone(),
        };
        self.slow.bind(py).call1((row, dtype))
    }
}

impl RowCall {
    fn rust_in_effect(&self, py: Python<'_>) -> PyResult<bool> {
        rust_in_effect(py, &self.backend, &self.module)
    }
}

/// A native entry's answer from the row path (None: the method answers), with a
/// `SchemaError` prefixed by the name of the object it belongs to, as its methods' are.
pub(crate) fn by_owner<'py>(
    py: Python<'py>,
    owner: &str,
    ran: PyResult<Option<Bound<'py, PyAny>>>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    match ran {
        Err(e) if e.is_instance_of::<crate::errors::SchemaError>(py) => Err(
            crate::errors::SchemaError::new_err(format!("{owner}: {}", e.value(py))),
        ),
        other => other,
    }
}

/// Whether the backend in effect here is Rust: `backend` is `fastprep._backend`'s context
/// variable's bound `get` (this thread's or task's choice), `module` that module's namespace,
/// whose `_default` is the process's.
pub(crate) fn rust_in_effect(
    py: Python<'_>,
    backend: &Py<PyAny>,
    module: &Py<PyDict>,
) -> PyResult<bool> {
    let here = backend.bind(py).call0()?;
    let name = if here.is_none() {
        match module.bind(py).get_item(pyo3::intern!(py, "_default"))? {
            Some(name) => name,
            None => return Ok(false),
        }
    } else {
        here
    };
    Ok(name.extract::<&str>().is_ok_and(|n| n == "rust"))
}
