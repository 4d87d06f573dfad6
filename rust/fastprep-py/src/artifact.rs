use fastprep_core::artifact as core;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

use crate::errors::SchemaError;
use crate::util::detached;

type Entry = (String, &'static str, Vec<usize>, usize, usize);

/// Checks an artifact (a uint8 view of its bytes) with the GIL released, its digest too when
/// `verify`; returns its manifest text, where its data starts and its arrays
/// `(name, dtype, shape, begin, end)`.
#[pyfunction]
#[pyo3(signature = (buffer, verify=true))]
pub fn read_artifact(
    py: Python<'_>,
    buffer: PyReadonlyArray1<'_, u8>,
    verify: bool,
) -> PyResult<(String, usize, Vec<Entry>)> {
    let bytes = buffer
        .as_slice()
        .map_err(|_| SchemaError::new_err("read_artifact takes a contiguous uint8 array"))?;
    let c = detached(py, || {
        let c = core::parse(bytes)?;
        if verify {
            c.verify()?;
        }
        Ok((c.manifest, c.data_start, c.entries))
    })?;
    let entries =
        c.2.into_iter()
            .map(|e| (e.name, e.dtype.name(), e.shape, e.begin, e.end))
            .collect();
    Ok((c.0, c.1, entries))
}
