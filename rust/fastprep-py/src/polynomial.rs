use fastprep_core::polynomial::{self as core, Recipe};
use fastprep_core::Error;
use numpy::{PyReadonlyArray1, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::errors::to_py;
use crate::util::{map_matrix, Matrix};

/// Polynomial features of every row: full column `c` is `full[parents[c]] * x[factors[c]]`
/// (-1: none), the output the `keep` columns.
#[pyfunction]
pub fn polynomial<'py>(
    py: Python<'py>,
    x: Matrix<'py>,
    parents: PyReadonlyArray1<'py, i64>,
    factors: PyReadonlyArray1<'py, i64>,
    keep: PyReadonlyArray1<'py, i64>,
) -> PyResult<Bound<'py, PyAny>> {
    let keep = keep
        .as_slice()?
        .iter()
        .map(|&k| usize::try_from(k))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| to_py(Error::Shape("keep holds a negative column".into())))?;
    let inputs = match &x {
        Matrix::F32(m) => m.shape()[1],
        Matrix::F64(m) => m.shape()[1],
    };
    let recipe = Recipe::new(
        parents.as_slice()?.to_vec(),
        factors.as_slice()?.to_vec(),
        keep,
        inputs,
    )
    .map_err(to_py)?;
    Ok(map_matrix!(py, x, recipe.width(), |m, out| {
        core::polynomial(m, &recipe, out)
    }))
}
