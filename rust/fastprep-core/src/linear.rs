//! Linear models' decision function (scikit-learn's `LogisticRegression`, `LinearRegression`,
//! `Ridge`, `Lasso`, `ElasticNet`, `SGDClassifier` / `SGDRegressor`, `LinearSVC` /
//! `LinearSVR`): per row and output `k`, `x · coef[k] + intercept[k]`.
//!
//! Policy: each dot product is accumulated in `f64` over the columns, left to right, then the
//! intercept is added; the result is `f64` whatever the input's type (a model's scores are
//! float64, as scikit-learn's). NaN in a row makes its scores NaN.
//!
//! Probabilities (`proba`) follow scikit-learn's formulas step for step, with the C library's
//! `exp` (scikit-learn's logistic function is SciPy's `expit`, `1 / (1 + exp(-x))` in C), so
//! that `1 - p` of a binary model is its `1 - p`.

use crate::error::{Error, Result};
use crate::matrix::{Element, MatRef};

/// Checks a model's coefficients (`outputs × features`, row-major) and intercepts.
pub fn check(coef: MatRef<'_, f64>, intercept: &[f64], features: usize) -> Result<()> {
    if coef.cols() != features {
        return Err(Error::Shape(format!(
            "the model takes {} features, the input has {features} columns",
            coef.cols()
        )));
    }
    if intercept.len() != coef.rows() {
        return Err(Error::Shape(format!(
            "{} intercepts for {} outputs",
            intercept.len(),
            coef.rows()
        )));
    }
    Ok(())
}

/// One row's scores into `out` (one per output): what `decision` computes for each row.
#[inline]
pub fn decision_row<T: Element>(
    row: &[T],
    coef: MatRef<'_, f64>,
    intercept: &[f64],
    out: &mut [f64],
) {
    for ((o, weights), &b) in out.iter_mut().zip(coef.row_iter()).zip(intercept) {
        let dot = row
            .iter()
            .zip(weights)
            .fold(0.0f64, |acc, (&v, &w)| acc + v.to_f64() * w);
        *o = dot + b;
    }
}

/// `x · coefᵀ + intercept`: `rows × outputs` scores into `out`.
pub fn decision<T: Element>(
    x: MatRef<'_, T>,
    coef: MatRef<'_, f64>,
    intercept: &[f64],
    out: &mut [f64],
) -> Result<()> {
    check(coef, intercept, x.cols())?;
    let (n, k) = (x.cols(), coef.rows());
    if n == 0 {
        // No features: every score is its intercept (and no row to cut the data into).
        if out.len() != x.rows() * k {
            return Err(Error::Shape("the output buffer has the wrong size".into()));
        }
        for row in out.chunks_exact_mut(k.max(1)) {
            row.copy_from_slice(&intercept[..row.len()]);
        }
        return Ok(());
    }
    x.map_rows_into(out, k, |input, output| {
        for (row, scores) in input.chunks_exact(n).zip(output.chunks_exact_mut(k)) {
            decision_row(row, coef, intercept, scores);
        }
    })
}

/// How a classifier's scores become probabilities (scikit-learn's, per model).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// The logistic function of each score; one score (binary) gives `[1 - p, p]`, several
    /// are normalised to sum to 1 (one-vs-rest).
    Logistic,
    /// The softmax of the scores (multinomial).
    Softmax,
    /// `(clip(score, -1, 1) + 1) / 2`; one score gives `[1 - p, p]`, several are normalised
    /// (uniform where they are all 0). `SGDClassifier(loss="modified_huber")`.
    ModifiedHuber,
}

impl Link {
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "logistic" => Ok(Link::Logistic),
            "softmax" => Ok(Link::Softmax),
            "modified_huber" => Ok(Link::ModifiedHuber),
            other => Err(Error::Parameter(format!(
                "link must be 'logistic', 'softmax' or 'modified_huber', got {other:?}"
            ))),
        }
    }
}

/// The number of probabilities of `k` scores: 2 for one score (binary), else `k`.
pub fn n_proba(k: usize) -> usize {
    if k == 1 {
        2
    } else {
        k
    }
}

/// The answers per row of a model of `k` outputs: its probabilities with `link`, else its
/// scores.
pub fn answer_width(k: usize, link: Option<Link>) -> usize {
    match link {
        Some(_) => n_proba(k),
        None => k,
    }
}

/// SciPy's `expit`, as it computes it.
#[inline]
fn expit(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// One row's probabilities from its scores (`n_proba(scores.len())` of them).
pub fn proba_row(scores: &[f64], link: Link, out: &mut [f64]) {
    if scores.len() == 1 {
        let p = match link {
            Link::Logistic | Link::Softmax => expit(scores[0]),
            Link::ModifiedHuber => (scores[0].clamp(-1.0, 1.0) + 1.0) / 2.0,
        };
        // Softmax of [-s, s] is what scikit-learn's multinomial binary model would give;
        // every binary model it has uses the logistic form.
        out[0] = 1.0 - p;
        out[1] = p;
        return;
    }
    match link {
        Link::Softmax => {
            let max = scores.iter().copied().fold(f64::NEG_INFINITY, |m, v| {
                if v.is_nan() || m.is_nan() {
                    f64::NAN
                } else {
                    m.max(v)
                }
            });
            let mut sum = 0.0;
            for (o, &v) in out.iter_mut().zip(scores) {
                *o = (v - max).exp();
                sum += *o;
            }
            for o in out.iter_mut() {
                *o /= sum;
            }
        }
        Link::Logistic | Link::ModifiedHuber => {
            let mut sum = 0.0;
            for (o, &v) in out.iter_mut().zip(scores) {
                *o = match link {
                    Link::Logistic => expit(v),
                    _ => (v.clamp(-1.0, 1.0) + 1.0) / 2.0,
                };
                sum += *o;
            }
            if sum == 0.0 {
                let uniform = 1.0 / scores.len() as f64;
                out.iter_mut().for_each(|o| *o = uniform);
            } else {
                for o in out.iter_mut() {
                    *o /= sum;
                }
            }
        }
    }
}

/// Probabilities of a `rows × k` matrix of scores: `rows × n_proba(k)` into `out`; with
/// `log`, their natural logarithms (scikit-learn's `predict_log_proba`).
pub fn proba(scores: MatRef<'_, f64>, link: Link, log: bool, out: &mut [f64]) -> Result<()> {
    let k = scores.cols();
    if k == 0 {
        return Err(Error::Shape("probabilities of no scores".into()));
    }
    let width = n_proba(k);
    scores.map_rows_into(out, width, |input, output| {
        for (row, probs) in input.chunks_exact(k).zip(output.chunks_exact_mut(width)) {
            proba_row(row, link, probs);
            if log {
                probs.iter_mut().for_each(|p| *p = p.ln());
            }
        }
    })
}

/// A model's answers for rows of features (`features`, row-major, `coef.cols()` a row):
/// per row, its scores, or with `link` its probabilities (their logs with `log`), into `out`
/// (one row of `n_proba` or of scores per row of features).
pub fn answers(
    features: &[f64],
    coef: MatRef<'_, f64>,
    intercept: &[f64],
    link: Option<Link>,
    log: bool,
    out: &mut [f64],
) {
    let (n, k) = (coef.cols(), coef.rows());
    let width = answer_width(k, link);
    let mut held = [0.0f64; 16];
    let mut owned = Vec::new();
    let scores = if k <= held.len() {
        &mut held[..k]
    } else {
        owned.resize(k, 0.0);
        &mut owned[..]
    };
    for (r, answer) in out.chunks_exact_mut(width).enumerate() {
        let row = &features[r * n..(r + 1) * n];
        match link {
            None => decision_row(row, coef, intercept, answer),
            Some(link) => {
                decision_row(row, coef, intercept, scores);
                proba_row(scores, link, answer);
                if log {
                    answer.iter_mut().for_each(|p| *p = p.ln());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_dot_products_plus_intercepts() {
        let x = [1.0f64, 2.0, 3.0, -1.0, 0.5, f64::NAN];
        let coef = [0.5, -1.0, 2.0, 1.0, 1.0, 1.0];
        let x = MatRef::new(&x, 2, 3).expect("shape");
        let coef = MatRef::new(&coef, 2, 3).expect("shape");
        let mut out = [0.0; 4];
        decision(x, coef, &[1.0, -2.0], &mut out).expect("decision");
        assert_eq!(out[..2], [0.5 - 2.0 + 6.0 + 1.0, 1.0 + 2.0 + 3.0 - 2.0]);
        assert!(out[2].is_nan() && out[3].is_nan());
        assert!(decision(x, coef, &[1.0], &mut out).is_err());
        let narrow = MatRef::new(&[1.0, 2.0], 1, 2).expect("shape");
        assert!(decision(narrow, coef, &[1.0, -2.0], &mut out[..2]).is_err());
    }

    #[test]
    fn no_features_give_the_intercepts() {
        let x: [f32; 0] = [];
        let x = MatRef::new(&x, 2, 0).expect("shape");
        let coef = MatRef::new(&[], 1, 0).expect("shape");
        let mut out = [0.0; 2];
        decision(x, coef, &[3.5], &mut out).expect("decision");
        assert_eq!(out, [3.5, 3.5]);
    }

    #[test]
    fn probabilities_follow_each_link() {
        let mut out = [0.0; 3];
        proba_row(&[0.0], Link::Logistic, &mut out[..2]);
        assert_eq!(out[..2], [0.5, 0.5]);
        proba_row(&[3.0], Link::ModifiedHuber, &mut out[..2]);
        assert_eq!(out[..2], [0.0, 1.0]);
        proba_row(&[1.0, 1.0, 1.0], Link::Softmax, &mut out);
        assert_eq!(out, [1.0 / 3.0; 3]);
        proba_row(&[-5.0, -2.0, -1.0], Link::ModifiedHuber, &mut out);
        assert_eq!(out, [1.0 / 3.0; 3]); // all zero: uniform
        let scores = MatRef::new(&[0.0, 1.0], 2, 1).expect("shape");
        let mut logs = [0.0; 4];
        proba(scores, Link::Logistic, true, &mut logs).expect("proba");
        assert_eq!(logs[0], 0.5f64.ln());
        assert!(Link::parse("probit").is_err());
    }
}
