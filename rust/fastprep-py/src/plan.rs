use std::sync::Arc;

use fastprep_core::normalize::Norm;
use fastprep_core::plan::{self as core, Block, Input, Step};
use fastprep_core::quantile_transform::Indexed;
use fastprep_core::strings::{Chunk, Column, Offsets, StrArray};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyString};

use crate::encode::found_lists;
use crate::encode::CategoryIndex;
use crate::errors::{to_py, SchemaError};
use crate::strings::HeldColumn;
use crate::util::{detached, float_output};

/// A fitted pipeline compiled into one native plan (see `fastprep_core::plan`). Immutable:
/// threads share it without a lock; `run` and `run_row` release the GIL for the whole plan.
#[pyclass(frozen, module = "fastprep._core")]
pub struct Plan {
    inner: core::Plan,
}

fn vec_f64(obj: &Bound<'_, PyAny>) -> PyResult<Vec<f64>> {
    Ok(obj
        .extract::<PyReadonlyArray1<'_, f64>>()?
        .as_array()
        .to_vec())
}

fn step(t: &Bound<'_, PyAny>) -> PyResult<Step> {
    let kind: String = t.get_item(0)?.extract()?;
    Ok(match kind.as_str() {
        "impute" => Step::Impute {
            kept: t.get_item(1)?.extract()?,
            fill: vec_f64(&t.get_item(2)?)?,
            indicator: t.get_item(3)?.extract()?,
        },
        "sub_div" => Step::SubDiv {
            sub: vec_f64(&t.get_item(1)?)?,
            div: vec_f64(&t.get_item(2)?)?,
        },
        "mul_add" => Step::MulAdd {
            mul: vec_f64(&t.get_item(1)?)?,
            add: vec_f64(&t.get_item(2)?)?,
            clip: t.get_item(3)?.extract()?,
        },
        "binarize" => Step::Binarize {
            threshold: t.get_item(1)?.extract()?,
        },
        "normalize" => Step::Normalize {
            norm: Norm::parse(&t.get_item(1)?.extract::<String>()?).map_err(to_py)?,
        },
        "quantile" => {
            let q: numpy::PyReadonlyArray2<'_, f64> = t.get_item(1)?.extract()?;
            let matrix = crate::util::view(&q)?;
            let refs = vec_f64(&t.get_item(2)?)?;
            let normal: bool = t.get_item(3)?.extract()?;
            Step::Quantile(Box::new(
                Indexed::new(matrix, &refs, normal).map_err(to_py)?,
            ))
        }
        "yeo_johnson" => Step::YeoJohnson {
            lambdas: vec_f64(&t.get_item(1)?)?,
            sub: vec_f64(&t.get_item(2)?)?,
            div: vec_f64(&t.get_item(3)?)?,
        },
        "digitize" => Step::Digitize {
            edges: vec_f64(&t.get_item(1)?)?,
            offsets: t.get_item(2)?.extract()?,
            onehot: t.get_item(3)?.extract()?,
        },
        other => return Err(SchemaError::new_err(format!("unknown plan step {other:?}"))),
    })
}

fn indexes(obj: &Bound<'_, PyAny>) -> PyResult<Vec<Arc<fastprep_core::encode::CategoryIndex>>> {
    let list: Vec<Bound<'_, CategoryIndex>> = obj.extract()?;
    Ok(list.iter().map(|i| i.get().inner.clone()).collect())
}

fn block(t: &Bound<'_, PyAny>) -> PyResult<Block> {
    let kind: String = t.get_item(0)?.extract()?;
    let inputs: Vec<usize> = t.get_item(1)?.extract()?;
    Ok(match kind.as_str() {
        "numeric" => {
            let steps = t
                .get_item(2)?
                .try_iter()?
                .map(|s| step(&s?))
                .collect::<PyResult<_>>()?;
            Block::Numeric { inputs, steps }
        }
        "onehot" => {
            let tables: Vec<PyReadonlyArray1<'_, i32>> = t.get_item(3)?.extract()?;
            Block::OneHot {
                inputs,
                indexes: indexes(&t.get_item(2)?)?,
                tables: tables.iter().map(|a| a.as_array().to_vec()).collect(),
                offsets: t.get_item(4)?.extract()?,
                width: t.get_item(5)?.extract()?,
            }
        }
        "gather" => {
            let tables: Vec<PyReadonlyArray1<'_, f64>> = t.get_item(3)?.extract()?;
            Block::Gather {
                inputs,
                indexes: indexes(&t.get_item(2)?)?,
                tables: tables.iter().map(|a| a.as_array().to_vec()).collect(),
            }
        }
        other => {
            return Err(SchemaError::new_err(format!(
                "unknown plan block {other:?}"
            )))
        }
    })
}

/// An input as Python passes it: a float64 array, or a categorical column's chunk list.
enum HeldInput<'py> {
    Numbers(PyReadonlyArray1<'py, f64>),
    Categories(HeldColumn<'py>),
}

/// One request value, read from a Python object without building an array.
enum RowValue {
    Number(f64),
    Str(Vec<u8>),
    Int(i64),
    Missing,
}

type Ran<'py> = (Bound<'py, PyAny>, Vec<usize>, Vec<usize>);
type TalliedRan<'py> = (
    Bound<'py, PyAny>,
    Vec<usize>,
    Vec<usize>,
    Vec<Option<Bound<'py, PyArray1<u64>>>>,
);
type SparseRan<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i32>>,
    Bound<'py, PyArray1<f64>>,
    Vec<usize>,
    Vec<usize>,
);

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

#[pymethods]
impl Plan {
    #[new]
    fn new(n_inputs: usize, blocks: &Bound<'_, PyAny>) -> PyResult<Self> {
        let blocks = blocks
            .try_iter()?
            .map(|b| block(&b?))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(Self {
            inner: core::Plan::new(n_inputs, blocks).map_err(to_py)?,
        })
    }

    #[getter]
    fn width(&self) -> usize {
        self.inner.width()
    }

    /// Runs the plan over a batch: `(out, unknown, missing)`, the last two per encoder input.
    fn run<'py>(
        &self,
        py: Python<'py>,
        inputs: Vec<Bound<'py, PyAny>>,
        rows: usize,
        float32: bool,
    ) -> PyResult<Ran<'py>> {
        let held = hold(&inputs)?;
        let views = views(&held)?;
        self.execute(py, &views, rows, float32)
    }

    /// `run`, plus per encoder input the count of each lookup code (categories, then
    /// missing, then unknown), or None for a vocabulary too large to tally in the run.
    fn run_tallied<'py>(
        &self,
        py: Python<'py>,
        inputs: Vec<Bound<'py, PyAny>>,
        rows: usize,
        float32: bool,
    ) -> PyResult<TalliedRan<'py>> {
        let held = hold(&inputs)?;
        let views = views(&held)?;
        let (out, (found, tallies)) = float_output!(py, rows, self.inner.width(), float32, |out| {
            self.inner.run_tallied(&views, rows, out, true)
        });
        let (unknown, missing) = found_lists(found);
        let tallies = tallies
            .into_iter()
            .map(|t| (!t.is_empty()).then(|| t.into_pyarray(py)))
            .collect();
        Ok((out, unknown, missing, tallies))
    }

    /// Runs the plan over a batch into CSR arrays: `(indptr, indices, values, unknown,
    /// missing)`; zeros are not stored.
    fn run_csr<'py>(
        &self,
        py: Python<'py>,
        inputs: Vec<Bound<'py, PyAny>>,
        rows: usize,
    ) -> PyResult<SparseRan<'py>> {
        let held = hold(&inputs)?;
        let views = views(&held)?;
        let (indptr, indices, values, found) = detached(py, || self.inner.run_csr(&views, rows))?;
        let (unknown, missing) = found_lists(found);
        Ok((
            indptr.into_pyarray(py),
            indices.into_pyarray(py),
            values.into_pyarray(py),
            unknown,
            missing,
        ))
    }

    /// Runs the plan on one request row, read from a dict by `names`; `kinds` says how each
    /// input is read ("numeric", "str", "int", "float"). Returns None when a value is of a
    /// type the row path does not read (the caller then takes the batch path, which accepts
    /// or refuses it with the same error as any batch).
    fn run_row<'py>(
        &self,
        py: Python<'py>,
        row: &Bound<'py, PyDict>,
        names: Vec<Bound<'py, PyString>>,
        kinds: Vec<String>,
        float32: bool,
    ) -> PyResult<Option<Ran<'py>>> {
        if names.len() != kinds.len() {
            return Err(SchemaError::new_err("one kind per input name"));
        }
        let mut values = Vec::with_capacity(names.len());
        for (name, kind) in names.iter().zip(&kinds) {
            let Some(value) = row.get_item(name)? else {
                return Err(SchemaError::new_err(format!(
                    "record lacks the column {:?}",
                    name.to_string()
                )));
            };
            let read = read_value(&value, kind);
            match read {
                Some(v) => values.push(v),
                None => return Ok(None),
            }
        }
        let missing_bit = [0u8];
        let offsets: Vec<[i64; 2]> = values
            .iter()
            .map(|v| match v {
                RowValue::Str(b) => [0, b.len() as i64],
                _ => [0, 0],
            })
            .collect();
        let numbers: Vec<[f64; 1]> = values
            .iter()
            .map(|v| match v {
                RowValue::Number(x) => [*x],
                RowValue::Missing => [f64::NAN],
                _ => [0.0],
            })
            .collect();
        let ints: Vec<[i64; 1]> = values
            .iter()
            .map(|v| match v {
                RowValue::Int(x) => [*x],
                _ => [0],
            })
            .collect();
        let mut views = Vec::with_capacity(values.len());
        for (i, (v, kind)) in values.iter().zip(&kinds).enumerate() {
            let input = match (kind.as_str(), v) {
                ("numeric", _) => Input::Numbers(&numbers[i]),
                ("str", RowValue::Str(b)) => {
                    let s = StrArray::utf8(Offsets::I64(&offsets[i]), b, None).map_err(to_py)?;
                    Input::Categories(Column::new(vec![Chunk::Str(s)]))
                }
                ("str", _) => {
                    let validity =
                        fastprep_core::strings::Validity::new(&missing_bit, 0, 1).map_err(to_py)?;
                    let s = StrArray::utf8(Offsets::I64(&offsets[i]), &[], Some(validity))
                        .map_err(to_py)?;
                    Input::Categories(Column::new(vec![Chunk::Str(s)]))
                }
                ("int", RowValue::Int(_)) => Input::Categories(Column::new(vec![Chunk::Int {
                    values: &ints[i],
                    missing: None,
                }])),
                ("int", _) => Input::Categories(Column::new(vec![Chunk::Int {
                    values: &ints[i],
                    missing: Some(&[true]),
                }])),
                _ => Input::Categories(Column::new(vec![Chunk::Float {
                    values: &numbers[i],
                    missing: None,
                }])),
            };
            views.push(input);
        }
        self.execute(py, &views, 1, float32).map(Some)
    }
}

/// A request value as the input `kind` reads it, or None for a type it does not read.
fn read_value(value: &Bound<'_, PyAny>, kind: &str) -> Option<RowValue> {
    if value.is_none() {
        return Some(RowValue::Missing);
    }
    let is_nan = value.cast::<PyFloat>().is_ok_and(|f| f.value().is_nan());
    match kind {
        "numeric" => {
            if value.is_instance_of::<PyString>() {
                return None;
            }
            value.extract::<f64>().ok().map(RowValue::Number)
        }
        "str" => {
            if is_nan {
                return Some(RowValue::Missing);
            }
            let s = value.cast::<PyString>().ok()?;
            Some(RowValue::Str(s.to_str().ok()?.as_bytes().to_vec()))
        }
        "int" => {
            if is_nan {
                return Some(RowValue::Missing);
            }
            if value.is_instance_of::<PyFloat>() || value.is_instance_of::<PyString>() {
                return None;
            }
            value.extract::<i64>().ok().map(RowValue::Int)
        }
        "float" => {
            if value.is_instance_of::<PyString>() {
                return None;
            }
            value.extract::<f64>().ok().map(RowValue::Number)
        }
        _ => None,
    }
}

impl Plan {
    fn execute<'py>(
        &self,
        py: Python<'py>,
        views: &[Input<'_>],
        rows: usize,
        float32: bool,
    ) -> PyResult<Ran<'py>> {
        let (out, found) = float_output!(py, rows, self.inner.width(), float32, |out| {
            self.inner.run(views, rows, out)
        });
        let (unknown, missing) = found_lists(found);
        Ok((out, unknown, missing))
    }
}
