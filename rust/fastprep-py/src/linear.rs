use std::sync::Mutex;

use fastprep_core::linear::{self as core, Link};
use fastprep_core::MatRef;
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat};

use crate::errors::to_py;
use crate::plan::{by_owner, rust_in_effect, Plan};
use crate::util::{numpy_output, slice, view, Matrix};

/// A linear model's scores of a float64 or float32 matrix: `x · coefᵀ + intercept`, float64.
#[pyfunction]
pub fn linear_decision<'py>(
    py: Python<'py>,
    x: Matrix<'py>,
    coef: PyReadonlyArray2<'py, f64>,
    intercept: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyAny>> {
    let (c, b) = (view(&coef)?, slice(&intercept)?);
    Ok(match x {
        Matrix::F64(a) => {
            let m = view(&a)?;
            numpy_output::<f64, _>(py, m.rows(), c.rows(), |out| core::decision(m, c, b, out))?
        }
        Matrix::F32(a) => {
            let m = view(&a)?;
            numpy_output::<f64, _>(py, m.rows(), c.rows(), |out| core::decision(m, c, b, out))?
        }
    }
    .into_any())
}

/// Probabilities (or, with `log`, their logarithms) of a `rows × k` matrix of scores:
/// `rows × 2` for one score, else `rows × k`.
#[pyfunction]
pub fn linear_proba<'py>(
    py: Python<'py>,
    scores: PyReadonlyArray2<'py, f64>,
    link: &str,
    log: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let link = Link::parse(link).map_err(to_py)?;
    let s = view(&scores)?;
    let width = core::n_proba(s.cols());
    Ok(
        numpy_output::<f64, _>(py, s.rows(), width, |out| core::proba(s, link, log, out))?
            .into_any(),
    )
}

/// What a model's one-record entry answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Predict,
    Proba,
    Decision,
}

/// A pipeline's `predict_one`, `predict_proba_one` or `decision_function_one` as one native
/// call: the record's features by the plan's row path, then the linear model's scores (and
/// probabilities, or the label), with no array between them. Installed on a fitted pipeline
/// as `RowCall` is (an instance attribute found before the method); anything the row path
/// does not take (not a dict, a value it does not read, the Python backend, an encoder's
/// refusal) goes to the pipeline's own method (`slow`), with the same answer or error.
#[pyclass(frozen, module = "fastprep._core")]
pub struct ModelRowCall {
    plan: Py<Plan>,
    owner: String,
    coef: Vec<f64>,
    intercept: Vec<f64>,
    link: Option<Link>,
    answer: Answer,
    classes: Option<Py<PyAny>>,
    backend: Py<PyAny>,
    module: Py<PyDict>,
    slow: Py<PyAny>,
    /// The features and scores of a record, kept across requests.
    scratch: Mutex<(Vec<f64>, Vec<f64>)>,
}

#[pymethods]
impl ModelRowCall {
    #[new]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (plan, owner, coef, intercept, link, answer, classes, backend, module, slow))]
    fn new(
        plan: Py<Plan>,
        owner: String,
        coef: PyReadonlyArray2<'_, f64>,
        intercept: PyReadonlyArray1<'_, f64>,
        link: Option<&str>,
        answer: &str,
        classes: Option<Py<PyAny>>,
        backend: Py<PyAny>,
        module: &Bound<'_, PyModule>,
        slow: Py<PyAny>,
    ) -> PyResult<Self> {
        let c = view(&coef)?;
        let b = slice(&intercept)?;
        core::check(c, b, plan.get().width()).map_err(to_py)?;
        let answer = match answer {
            "predict" => Answer::Predict,
            "predict_proba" => Answer::Proba,
            "decision_function" => Answer::Decision,
            other => {
                return Err(to_py(fastprep_core::Error::Parameter(format!(
                    "unknown answer {other:?}"
                ))))
            }
        };
        let link = link.map(Link::parse).transpose().map_err(to_py)?;
        if answer == Answer::Proba && link.is_none() {
            return Err(to_py(fastprep_core::Error::Parameter(
                "probabilities need a link".into(),
            )));
        }
        if answer == Answer::Predict && classes.is_none() {
            return Err(to_py(fastprep_core::Error::Parameter(
                "labels need the classes".into(),
            )));
        }
        Ok(Self {
            plan,
            owner,
            coef: c.data().to_vec(),
            intercept: b.to_vec(),
            link,
            answer,
            classes,
            backend,
            module: module.dict().unbind(),
            slow,
            scratch: Mutex::default(),
        })
    }

    /// The answer for one record.
    fn call<'py>(
        &self,
        py: Python<'py>,
        record: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if let Ok(row) = record.cast_exact::<PyDict>() {
            if rust_in_effect(py, &self.backend, &self.module)? {
                if let Some(out) = by_owner(py, &self.owner, self.native(py, row))? {
                    return Ok(out);
                }
            }
        }
        self.slow.bind(py).call1((record,))
    }

    fn __call__<'py>(
        &self,
        py: Python<'py>,
        record: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call(py, record)
    }
}

impl ModelRowCall {
    /// The answer by the row path, or None where the method must answer.
    fn native<'py>(
        &self,
        py: Python<'py>,
        row: &Bound<'py, PyDict>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let plan = self.plan.get();
        let width = plan.width();
        let k = self.intercept.len();
        let coef = MatRef::new(&self.coef, k, width).map_err(to_py)?;
        let mut own = (Vec::new(), Vec::new());
        let mut guard = self.scratch.try_lock();
        let (features, scores) = match guard.as_mut() {
            Ok(held) => {
                let (f, s) = &mut **held;
                (f, s)
            }
            Err(_) => (&mut own.0, &mut own.1),
        };
        features.resize(width, 0.0);
        scores.resize(k, 0.0);
        let ran = plan.with_values(py, row, None, |values| plan.run_into(values, features))?;
        if ran != Some(true) {
            return Ok(None);
        }
        core::decision_row(features.as_slice(), coef, &self.intercept, scores);
        Ok(Some(match self.answer {
            Answer::Decision if k == 1 => PyFloat::new(py, scores[0]).into_any(),
            Answer::Decision => PyArray1::from_slice(py, scores).into_any(),
            Answer::Proba => {
                let link = self.link.unwrap_or(Link::Logistic);
                let out = unsafe { PyArray1::<f64>::new(py, core::n_proba(k), false) };
                // SAFETY: a new array, not yet shared; `proba_row` writes every element.
                core::proba_row(scores, link, unsafe { out.as_slice_mut()? });
                out.into_any()
            }
            Answer::Predict => {
                let index = if k == 1 {
                    usize::from(scores[0] > 0.0)
                } else {
                    argmax(scores)
                };
                match &self.classes {
                    Some(classes) => classes.bind(py).get_item(index)?,
                    None => return Ok(None),
                }
            }
        }))
    }
}

/// NumPy's argmax: the first largest value, or the first NaN.
fn argmax(scores: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in scores.iter().enumerate() {
        if v.is_nan() {
            return i;
        }
        if v > scores[best] {
            best = i;
        }
    }
    best
}
