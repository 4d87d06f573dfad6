use fastprep_core::discretize::{self as core, BinEdges};
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

use crate::errors::to_py;
use crate::util::{map_matrix, Matrix};

/// Bin index per cell, or one-hot bins, from flat per-column `edges` split at `offsets`.
#[pyfunction]
pub fn digitize<'py>(
    py: Python<'py>,
    x: Matrix<'py>,
    edges: PyReadonlyArray1<'py, f64>,
    offsets: Vec<usize>,
    onehot: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let edges = BinEdges::new(edges.as_slice()?, &offsets).map_err(to_py)?;
    let width = |cols: usize| if onehot { edges.total_bins() } else { cols };
    Ok(map_matrix!(
        py,
        x,
        width(m.cols()),
        |m, out| core::digitize(m, edges, onehot, out)
    ))
}
