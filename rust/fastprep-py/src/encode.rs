use fastprep_core::encode::{self as core, Counts, Found, Vocab};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1};
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::errors::{FastprepError, SchemaError};
use crate::strings::HeldColumn;
use crate::util::{buffer, detached, float_output};
use fastprep_core::strings::Column;

/// A vocabulary's lookup table, built once (at fit or load); immutable, shared across threads.
#[pyclass(frozen, module = "fastprep._core")]
pub struct CategoryIndex {
    pub(crate) inner: Arc<core::CategoryIndex>,
}

#[pymethods]
impl CategoryIndex {
    /// `kind` is "str" (`values` = UTF-8 bytes, `offsets` = int64), "int" or "float".
    #[new]
    #[pyo3(signature = (kind, values, offsets=None))]
    fn new(
        py: Python<'_>,
        kind: &str,
        values: &Bound<'_, PyAny>,
        offsets: Option<PyReadonlyArray1<'_, i64>>,
    ) -> PyResult<Self> {
        let vocab = vocab(kind, values, offsets)?;
        let inner = detached(py, || core::CategoryIndex::new(vocab))?;
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }
}

/// A copy of a 1-D array (numeric vocabularies: strings are shared when they can be).
fn owned<T: numpy::Element + Copy + Default>(a: &PyReadonlyArray1<'_, T>) -> Vec<T> {
    match a.as_slice() {
        Ok(values) => fastprep_core::memory::copied(values),
        Err(_) => a.as_array().to_vec(),
    }
}

fn vocab(
    kind: &str,
    values: &Bound<'_, PyAny>,
    offsets: Option<PyReadonlyArray1<'_, i64>>,
) -> PyResult<Vocab> {
    Ok(match kind {
        "str" => {
            let data: PyReadonlyArray1<'_, u8> = values.extract()?;
            let offsets =
                offsets.ok_or_else(|| SchemaError::new_err("string categories need offsets"))?;
            Vocab::Str {
                data: buffer(&data),
                offsets: buffer(&offsets),
            }
        }
        "int" => Vocab::Int(owned(&values.extract::<PyReadonlyArray1<'_, i64>>()?)),
        "float" => Vocab::Float(owned(&values.extract::<PyReadonlyArray1<'_, f64>>()?)),
        other => {
            return Err(SchemaError::new_err(format!(
                "unknown category kind {other:?}"
            )))
        }
    })
}

/// `(kind, values, offsets or None, counts, missing)`, the tuple form of `Counts`.
fn counts_to_py(py: Python<'_>, c: Counts) -> PyResult<Bound<'_, PyTuple>> {
    let counts = c.counts.into_pyarray(py);
    let (kind, values, offsets): (&str, Bound<'_, PyAny>, Option<Bound<'_, PyAny>>) = match c.vocab
    {
        Vocab::Str { data, offsets } => (
            "str",
            data.into_vec().into_pyarray(py).into_any(),
            Some(offsets.into_vec().into_pyarray(py).into_any()),
        ),
        Vocab::Int(v) => ("int", v.into_pyarray(py).into_any(), None),
        Vocab::Float(v) => ("float", v.into_pyarray(py).into_any(), None),
    };
    PyTuple::new(
        py,
        [
            kind.into_pyobject(py)?.into_any(),
            values,
            offsets.into_pyobject(py)?.into_any(),
            counts.into_any(),
            c.missing.into_pyobject(py)?.into_any(),
        ],
    )
}

fn counts_from_py(t: &Bound<'_, PyAny>) -> PyResult<Counts> {
    let kind: String = t.get_item(0)?.extract()?;
    let offsets: Option<PyReadonlyArray1<'_, i64>> = t.get_item(2)?.extract()?;
    let vocab = vocab(&kind, &t.get_item(1)?, offsets)?;
    let counts: PyReadonlyArray1<'_, i64> = t.get_item(3)?.extract()?;
    Ok(Counts {
        vocab,
        counts: counts.as_array().to_vec(),
        missing: t.get_item(4)?.extract()?,
    })
}

/// Counts the categories of one column: `(kind, values, offsets, counts, missing)`, sorted.
#[pyfunction]
pub fn count_categories<'py>(
    py: Python<'py>,
    column: HeldColumn<'py>,
) -> PyResult<Bound<'py, PyTuple>> {
    let view = column.column()?;
    let counts = detached(py, || core::count(&view))?;
    counts_to_py(py, counts)
}

/// The counts of two parts merged into the counts of both.
#[pyfunction]
pub fn merge_category_counts<'py>(
    py: Python<'py>,
    a: &Bound<'py, PyAny>,
    b: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyTuple>> {
    let (a, b) = (counts_from_py(a)?, counts_from_py(b)?);
    let merged = detached(py, || core::merge(&a, &b))?;
    counts_to_py(py, merged)
}

type Lookup<'py> = (Bound<'py, PyArray2<u32>>, Vec<usize>, Vec<usize>);

/// Codes of each column (`k × rows`, uint32) and each column's numbers of unknown and of
/// missing values.
#[pyfunction]
pub fn lookup_codes<'py>(
    py: Python<'py>,
    indexes: Vec<Bound<'py, CategoryIndex>>,
    columns: Vec<HeldColumn<'py>>,
    rows: usize,
) -> PyResult<Lookup<'py>> {
    if indexes.len() != columns.len() {
        return Err(SchemaError::new_err("one index per column expected"));
    }
    let (indexes, views) = lookup_inputs(&indexes, &columns)?;
    let mut unknown = vec![0usize; views.len()];
    let mut missing = vec![0usize; views.len()];
    let codes = PyArray2::<u32>::zeros(py, [views.len(), rows], false);
    {
        let mut guard = codes.readwrite();
        let out = guard
            .as_slice_mut()
            .map_err(|e| FastprepError::new_err(e.to_string()))?;
        detached(py, || {
            for (j, (index, column)) in indexes.iter().zip(&views).enumerate() {
                let found = index.lookup(column, &mut out[j * rows..(j + 1) * rows])?;
                (unknown[j], missing[j]) = (found.unknown, found.missing);
            }
            Ok(())
        })?;
    }
    Ok((codes, unknown, missing))
}

fn tables<'a, T: numpy::Element>(tables: &'a [PyReadonlyArray1<'_, T>]) -> PyResult<Vec<&'a [T]>> {
    tables
        .iter()
        .map(|t| {
            t.as_slice()
                .map_err(|_| SchemaError::new_err("tables must be contiguous"))
        })
        .collect()
}

/// The vocabularies and borrowed columns of a lookup, in the core's types.
pub(crate) fn lookup_inputs<'a>(
    indexes: &'a [Bound<'_, CategoryIndex>],
    columns: &'a [HeldColumn<'_>],
) -> PyResult<(Vec<&'a core::CategoryIndex>, Vec<Column<'a>>)> {
    let views = columns
        .iter()
        .map(HeldColumn::column)
        .collect::<PyResult<Vec<_>>>()?;
    Ok((indexes.iter().map(|i| &*i.get().inner).collect(), views))
}

/// Per column, the numbers of unknown and of missing values a lookup found.
type FoundLists = (Vec<usize>, Vec<usize>);

pub(crate) fn found_lists(found: Vec<Found>) -> FoundLists {
    found.iter().map(|f| (f.unknown, f.missing)).unzip()
}

/// Ordinal and count encoding in one pass: `out[r, j] = tables[j][code]`, float64 or
/// float32; with what each column's lookup found.
#[pyfunction]
pub fn encode_gather<'py>(
    py: Python<'py>,
    indexes: Vec<Bound<'py, CategoryIndex>>,
    columns: Vec<HeldColumn<'py>>,
    tables: Vec<PyReadonlyArray1<'py, f64>>,
    rows: usize,
    float32: bool,
) -> PyResult<(Bound<'py, PyAny>, Vec<usize>, Vec<usize>)> {
    let (indexes, views) = lookup_inputs(&indexes, &columns)?;
    let tables = self::tables(&tables)?;
    let (out, found) = float_output!(py, rows, views.len(), float32, |out| {
        core::encode_gather(&indexes, &views, &tables, rows, out)
    });
    let (unknown, missing) = found_lists(found);
    Ok((out, unknown, missing))
}

/// Dense one-hot in one pass, `rows × width`, float64 or float32.
#[pyfunction]
pub fn encode_onehot_dense<'py>(
    py: Python<'py>,
    indexes: Vec<Bound<'py, CategoryIndex>>,
    columns: Vec<HeldColumn<'py>>,
    tables: Vec<PyReadonlyArray1<'py, i32>>,
    offsets: Vec<usize>,
    width: usize,
    rows: usize,
    float32: bool,
) -> PyResult<(Bound<'py, PyAny>, Vec<usize>, Vec<usize>)> {
    let (indexes, views) = lookup_inputs(&indexes, &columns)?;
    let tables = self::tables(&tables)?;
    let (out, found) = float_output!(py, rows, width, float32, |out| {
        core::encode_onehot_dense(&indexes, &views, &tables, &offsets, width, rows, out)
    });
    let (unknown, missing) = found_lists(found);
    Ok((out, unknown, missing))
}

type CsrFound<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i32>>,
    Vec<usize>,
    Vec<usize>,
);

/// Sparse one-hot in one pass: CSR `(indptr int64, indices int32)` (every stored value is
/// 1), with what each column's lookup found.
#[pyfunction]
pub fn encode_onehot_csr<'py>(
    py: Python<'py>,
    indexes: Vec<Bound<'py, CategoryIndex>>,
    columns: Vec<HeldColumn<'py>>,
    tables: Vec<PyReadonlyArray1<'py, i32>>,
    offsets: Vec<usize>,
    width: usize,
    rows: usize,
) -> PyResult<CsrFound<'py>> {
    let (indexes, views) = lookup_inputs(&indexes, &columns)?;
    let tables = self::tables(&tables)?;
    let (indptr, indices, found) = detached(py, || {
        core::encode_onehot_csr(&indexes, &views, &tables, &offsets, width, rows)
    })?;
    let (unknown, missing) = found_lists(found);
    Ok((
        indptr.into_pyarray(py),
        indices.into_pyarray(py),
        unknown,
        missing,
    ))
}
