//! Categorical columns from Python: each chunk arrives as a tuple of NumPy views of Arrow
//! buffers (built by `fastprep._columns`), is held here for the length of the call, and is
//! lent to the core as a `strings::Chunk` without copying a byte. The one copy made here is
//! `object_strings`, which turns the `str` objects of an object array or list into buffers.

use fastprep_core::strings::{
    BuiltStrings, Chunk, Column, Indices, Offsets, StrArray, StrObjects, Validity,
};
use numpy::{IntoPyArray, PyReadonlyArray1, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyList, PyString, PyTuple};

use crate::errors::{to_py, SchemaError};

#[derive(FromPyObject)]
pub enum HeldOffsets<'py> {
    I32(PyReadonlyArray1<'py, i32>),
    I64(PyReadonlyArray1<'py, i64>),
}

#[derive(FromPyObject)]
pub enum HeldIndices<'py> {
    I8(PyReadonlyArray1<'py, i8>),
    I16(PyReadonlyArray1<'py, i16>),
    I32(PyReadonlyArray1<'py, i32>),
    I64(PyReadonlyArray1<'py, i64>),
    U8(PyReadonlyArray1<'py, u8>),
    U16(PyReadonlyArray1<'py, u16>),
    U32(PyReadonlyArray1<'py, u32>),
}

type Bits<'py> = Option<(PyReadonlyArray1<'py, u8>, usize)>;

/// One chunk's NumPy arrays, kept borrowed (read-only) while the core reads them.
pub enum HeldChunk<'py> {
    Utf8 {
        offsets: HeldOffsets<'py>,
        data: PyReadonlyArray1<'py, u8>,
        validity: Bits<'py>,
    },
    View {
        views: PyReadonlyArray1<'py, u8>,
        buffers: Vec<PyReadonlyArray1<'py, u8>>,
        validity: Bits<'py>,
    },
    Dict {
        indices: HeldIndices<'py>,
        validity: Bits<'py>,
        dictionary: Box<HeldChunk<'py>>,
    },
    Int {
        values: PyReadonlyArray1<'py, i64>,
        missing: Option<PyReadonlyArray1<'py, bool>>,
    },
    Float {
        values: PyReadonlyArray1<'py, f64>,
        missing: Option<PyReadonlyArray1<'py, bool>>,
    },
}

fn slice<'a, T: numpy::Element>(a: &'a PyReadonlyArray1<'_, T>) -> PyResult<&'a [T]> {
    a.as_slice()
        .map_err(|_| SchemaError::new_err("column buffers must be contiguous"))
}

fn bits<'py>(t: &Bound<'py, PyTuple>, at: usize) -> PyResult<Bits<'py>> {
    let array: Option<PyReadonlyArray1<'py, u8>> = t.get_item(at)?.extract()?;
    let offset: usize = t.get_item(at + 1)?.extract()?;
    Ok(array.map(|a| (a, offset)))
}

fn validity<'a>(held: &'a Bits<'_>, len: usize) -> PyResult<Option<Validity<'a>>> {
    match held {
        None => Ok(None),
        Some((a, offset)) => Ok(Some(Validity::new(slice(a)?, *offset, len).map_err(to_py)?)),
    }
}

impl<'py> HeldChunk<'py> {
    /// `("utf8", offsets, data, validity, bit_offset)`, `("view", views, buffers, validity,
    /// bit_offset)`, `("dict", indices, validity, bit_offset, dictionary_chunk)`,
    /// `("int", values, missing)` or `("float", values, missing)`.
    pub fn extract(obj: &Bound<'py, PyAny>) -> PyResult<Self> {
        let t = obj.cast::<PyTuple>()?;
        let kind: String = t.get_item(0)?.extract()?;
        Ok(match kind.as_str() {
            "utf8" => HeldChunk::Utf8 {
                offsets: t.get_item(1)?.extract()?,
                data: t.get_item(2)?.extract()?,
                validity: bits(t, 3)?,
            },
            "view" => HeldChunk::View {
                views: t.get_item(1)?.extract()?,
                buffers: t.get_item(2)?.extract()?,
                validity: bits(t, 3)?,
            },
            "dict" => HeldChunk::Dict {
                indices: t.get_item(1)?.extract()?,
                validity: bits(t, 2)?,
                dictionary: Box::new(HeldChunk::extract(&t.get_item(4)?)?),
            },
            "int" => HeldChunk::Int {
                values: t.get_item(1)?.extract()?,
                missing: t.get_item(2)?.extract()?,
            },
            "float" => HeldChunk::Float {
                values: t.get_item(1)?.extract()?,
                missing: t.get_item(2)?.extract()?,
            },
            other => {
                return Err(SchemaError::new_err(format!(
                    "unknown chunk kind {other:?}"
                )))
            }
        })
    }

    fn strings(&self) -> PyResult<StrArray<'_>> {
        match self {
            HeldChunk::Utf8 {
                offsets,
                data,
                validity: v,
            } => {
                let (offsets, len) = match offsets {
                    HeldOffsets::I32(o) => (Offsets::I32(slice(o)?), o.len()),
                    HeldOffsets::I64(o) => (Offsets::I64(slice(o)?), o.len()),
                };
                let v = validity(v, len.saturating_sub(1))?;
                StrArray::utf8(offsets, slice(data)?, v).map_err(to_py)
            }
            HeldChunk::View {
                views,
                buffers,
                validity: v,
            } => {
                let v = validity(v, views.len() / 16)?;
                let buffers = buffers.iter().map(slice).collect::<PyResult<Vec<_>>>()?;
                StrArray::view(slice(views)?, buffers, v).map_err(to_py)
            }
            _ => Err(SchemaError::new_err(
                "a dictionary's values must be strings",
            )),
        }
    }

    pub fn chunk(&self) -> PyResult<Chunk<'_>> {
        Ok(match self {
            HeldChunk::Utf8 { .. } | HeldChunk::View { .. } => Chunk::Str(self.strings()?),
            HeldChunk::Dict {
                indices,
                validity: v,
                dictionary,
            } => {
                let indices = match indices {
                    HeldIndices::I8(a) => Indices::I8(slice(a)?),
                    HeldIndices::I16(a) => Indices::I16(slice(a)?),
                    HeldIndices::I32(a) => Indices::I32(slice(a)?),
                    HeldIndices::I64(a) => Indices::I64(slice(a)?),
                    HeldIndices::U8(a) => Indices::U8(slice(a)?),
                    HeldIndices::U16(a) => Indices::U16(slice(a)?),
                    HeldIndices::U32(a) => Indices::U32(slice(a)?),
                };
                let v = validity(v, indices.len())?;
                Chunk::dict(indices, v, dictionary.strings()?).map_err(to_py)?
            }
            HeldChunk::Int { values, missing } => Chunk::Int {
                values: slice(values)?,
                missing: missing.as_ref().map(slice).transpose()?,
            },
            HeldChunk::Float { values, missing } => Chunk::Float {
                values: slice(values)?,
                missing: missing.as_ref().map(slice).transpose()?,
            },
        })
    }
}

/// A column as Python passes it: a list of chunk tuples.
pub struct HeldColumn<'py>(Vec<HeldChunk<'py>>);

impl<'py> FromPyObject<'_, 'py> for HeldColumn<'py> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'_, 'py, PyAny>) -> PyResult<Self> {
        let mut chunks = Vec::new();
        for item in obj.try_iter()? {
            chunks.push(HeldChunk::extract(&item?)?);
        }
        Ok(HeldColumn(chunks))
    }
}

impl HeldColumn<'_> {
    pub fn column(&self) -> PyResult<Column<'_>> {
        Ok(Column::new(
            self.0
                .iter()
                .map(HeldChunk::chunk)
                .collect::<PyResult<_>>()?,
        ))
    }
}

/// The chunk of a 1-D NumPy object array or a list whose values are all `str` or missing
/// (None, or a float NaN), with the values pyarrow reads from it; None when a value is
/// anything else (or a string without a UTF-8 form), which the caller leaves to pyarrow: it
/// types the column or refuses it with its own message. Repeated objects make a `("dict",
/// ...)` chunk, others a `("utf8", ...)` one (see `StrObjects`). Every value is a Python
/// object, so this holds the GIL; the lookups that follow release it.
#[pyfunction]
pub fn object_strings<'py>(
    py: Python<'py>,
    values: &Bound<'py, PyAny>,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    let (read, built) = if let Ok(list) = values.cast::<PyList>() {
        // A list is read as it is, without NumPy's copy of it into an object array.
        let mut built = StrObjects::new(list.len());
        (list.iter().all(|v| push_object(&mut built, &v)), built)
    } else {
        let array: PyReadonlyArray1<'py, Py<PyAny>> = values.extract()?;
        let array = array.as_array();
        let mut built = StrObjects::new(array.len());
        let read = array.iter().all(|v| push_object(&mut built, v.bind(py)));
        (read, built)
    };
    if !read {
        return Ok(None);
    }
    let utf8 = |offsets: Vec<i64>, data: Vec<u8>, validity: Option<Vec<u8>>| {
        (
            "utf8",
            offsets.into_pyarray(py),
            data.into_pyarray(py),
            validity.map(|v| v.into_pyarray(py)),
            0,
        )
            .into_pyobject(py)
    };
    Ok(Some(match built.finish() {
        BuiltStrings::Plain(offsets, data, validity) => utf8(offsets, data, validity)?,
        BuiltStrings::Dict(indices, validity, (offsets, data)) => (
            "dict",
            indices.into_pyarray(py),
            validity.map(|v| v.into_pyarray(py)),
            0,
            utf8(offsets, data, None)?,
        )
            .into_pyobject(py)?,
    }))
}

/// Pushes one value of `object_strings`; false when it is neither a `str` (with a UTF-8
/// form) nor missing.
#[inline]
fn push_object(built: &mut StrObjects, v: &Bound<'_, PyAny>) -> bool {
    let id = v.as_ptr() as usize;
    if built.push_seen(id) {
        return true;
    }
    if let Ok(s) = v.cast::<PyString>() {
        let Ok(s) = s.to_str() else {
            return false;
        };
        built.push_new(id, s.as_bytes());
    } else if v.is_none() || v.cast::<PyFloat>().is_ok_and(|f| f.value().is_nan()) {
        built.push_null();
    } else {
        return false;
    }
    true
}
