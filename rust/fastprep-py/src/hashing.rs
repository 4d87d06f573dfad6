use fastprep_core::hashing::{self as core, Csr, Mode};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::strings::{HeldChunk, HeldColumn};
use crate::util::detached;

type CsrArrays<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i32>>,
    Bound<'py, PyArray1<f64>>,
);

fn to_numpy(py: Python<'_>, csr: Csr) -> CsrArrays<'_> {
    (
        csr.indptr.into_pyarray(py),
        csr.indices.into_pyarray(py),
        csr.values.into_pyarray(py),
    )
}

/// Hashes the rows of a table: `names` given = dict mode (`"name=value"`), else string mode.
#[pyfunction]
#[pyo3(signature = (columns, names, n_features, alternate_sign))]
pub fn hash_columns<'py>(
    py: Python<'py>,
    columns: Vec<HeldColumn<'py>>,
    names: Option<Vec<Vec<u8>>>,
    n_features: usize,
    alternate_sign: bool,
) -> PyResult<CsrArrays<'py>> {
    let views = columns
        .iter()
        .map(HeldColumn::column)
        .collect::<PyResult<Vec<_>>>()?;
    let name_slices: Option<Vec<&[u8]>> = names
        .as_ref()
        .map(|n| n.iter().map(Vec::as_slice).collect());
    let mode = match &name_slices {
        Some(n) => Mode::Dict(n),
        None => Mode::Strings,
    };
    let csr = detached(py, || {
        core::hash_columns(&views, mode, n_features, alternate_sign)
    })?;
    Ok(to_numpy(py, csr))
}

/// Hashes flattened samples: sample `r` owns `features[indptr[r]..indptr[r+1]]` and `values`.
#[pyfunction]
pub fn hash_features<'py>(
    py: Python<'py>,
    features: &Bound<'py, PyAny>,
    values: PyReadonlyArray1<'py, f64>,
    indptr: PyReadonlyArray1<'py, i64>,
    n_features: usize,
    alternate_sign: bool,
) -> PyResult<CsrArrays<'py>> {
    let held = HeldChunk::extract(features)?;
    let chunk = held.chunk()?;
    let fastprep_core::strings::Chunk::Str(strings) = chunk else {
        return Err(crate::errors::SchemaError::new_err(
            "feature names must be strings",
        ));
    };
    let (values, indptr) = (values.as_slice()?, indptr.as_slice()?);
    let csr = detached(py, || {
        core::hash_features(&strings, values, indptr, n_features, alternate_sign)
    })?;
    Ok(to_numpy(py, csr))
}
