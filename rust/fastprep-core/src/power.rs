//! Power transforms (scikit-learn's `PowerTransformer`): Yeo-Johnson and Box-Cox, their
//! inverses, and the log-likelihood whose maximum gives each column's lambda.
//!
//! Formulas are scipy's (`stats.yeojohnson`, `special.boxcox` / `inv_boxcox`) and
//! scikit-learn's inverse Yeo-Johnson, evaluated in `f64`. The optional standardisation is fused:
//! `(power(x) - sub) / div` forward and `inverse(y * div + sub)` backward, in scikit-learn's
//! operation order. NaN stays NaN. Box-Cox refuses values <= 0 with an error naming the column.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::matrix::{Element, MatRef};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerMethod {
    YeoJohnson,
    BoxCox,
}

impl PowerMethod {
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "yeo-johnson" => Ok(Self::YeoJohnson),
            "box-cox" => Ok(Self::BoxCox),
            other => Err(Error::Parameter(format!(
                "method must be 'yeo-johnson' or 'box-cox', got {other:?}"
            ))),
        }
    }
}

pub fn yeo_johnson(x: f64, lmbda: f64) -> f64 {
    if x >= 0.0 {
        if lmbda.abs() < f64::EPSILON {
            x.ln_1p()
        } else {
            (lmbda * x.ln_1p()).exp_m1() / lmbda
        }
    } else if (lmbda - 2.0).abs() > f64::EPSILON {
        -((2.0 - lmbda) * (-x).ln_1p()).exp_m1() / (2.0 - lmbda)
    } else {
        -(-x).ln_1p()
    }
}

pub fn yeo_johnson_inverse(y: f64, lmbda: f64) -> f64 {
    if y >= 0.0 {
        if lmbda.abs() < f64::EPSILON {
            y.exp() - 1.0
        } else {
            (y * lmbda + 1.0).powf(1.0 / lmbda) - 1.0
        }
    } else if (lmbda - 2.0).abs() > f64::EPSILON {
        1.0 - (-(2.0 - lmbda) * y + 1.0).powf(1.0 / (2.0 - lmbda))
    } else {
        1.0 - (-y).exp()
    }
}

pub fn box_cox(x: f64, lmbda: f64) -> f64 {
    if lmbda.abs() < 1e-19 {
        x.ln()
    } else {
        (lmbda * x.ln()).exp_m1() / lmbda
    }
}

pub fn box_cox_inverse(y: f64, lmbda: f64) -> f64 {
    if lmbda.abs() < 1e-19 {
        y.exp()
    } else {
        ((lmbda * y).ln_1p() / lmbda).exp()
    }
}

/// Values per block of the parallel sums. Fixed, so that the sums (and so the fitted lambdas)
/// do not depend on the number of threads.
const SUM_BLOCK: usize = 1 << 14;

/// `Σ v` over `values`, in fixed blocks summed in order: deterministic on any pool.
fn block_sum(values: &[f64]) -> f64 {
    let partial: Vec<f64> = values
        .par_chunks(SUM_BLOCK)
        .map(|c| c.iter().sum::<f64>())
        .collect();
    partial.iter().sum()
}

/// Population variance of `f(i)` for `i` in `0..len`, evaluating `f` once per value: blocks
/// of `SUM_BLOCK` values are held in cache for the corrected two-pass algorithm
/// (`(Σd² - (Σd)²/n) / n`), and merged in order with Chan's formula, so the result does not
/// depend on the number of threads.
fn blocked_variance(len: usize, f: impl Fn(usize) -> f64 + Sync) -> f64 {
    let blocks: Vec<(f64, f64, f64)> = (0..len.div_ceil(SUM_BLOCK))
        .into_par_iter()
        .map(|b| {
            let y: Vec<f64> = (b * SUM_BLOCK..((b + 1) * SUM_BLOCK).min(len))
                .map(&f)
                .collect();
            let n = y.len() as f64;
            let mean = y.iter().sum::<f64>() / n;
            let (sum_d, sum_d2) = y.iter().fold((0.0, 0.0), |(a, b), &v| {
                let d = v - mean;
                (a + d, b + d * d)
            });
            (n, mean, (sum_d2 - sum_d * sum_d / n).max(0.0))
        })
        .collect();
    let (mut n, mut mean, mut m2) = (0.0f64, 0.0f64, 0.0f64);
    for (nb, mb, m2b) in blocks {
        if n == 0.0 {
            (n, mean, m2) = (nb, mb, m2b);
            continue;
        }
        let total = n + nb;
        let delta = mb - mean;
        mean += delta * (nb / total);
        m2 += m2b + delta * delta * (n * nb / total);
        n = total;
    }
    m2 / n
}

/// One column's profile log-likelihood as a function of lambda, with everything that does not
/// depend on lambda computed once: the logarithms (`ln(1 + |x|)` for Yeo-Johnson, `ln x` for
/// Box-Cox) and the Jacobian term. Each evaluation is then one `exp` per value.
pub struct Likelihood {
    method: PowerMethod,
    logs: Vec<f64>,
    non_negative: Vec<bool>,
    jacobian: f64,
}

impl Likelihood {
    /// `values`: one column, NaN removed (and, for Box-Cox, all > 0).
    pub fn new(values: &[f64], method: PowerMethod) -> Self {
        let logs: Vec<f64> = match method {
            PowerMethod::YeoJohnson => values.par_iter().map(|v| v.abs().ln_1p()).collect(),
            PowerMethod::BoxCox => values.par_iter().map(|v| v.ln()).collect(),
        };
        let non_negative = values.iter().map(|&v| v >= 0.0).collect();
        let jacobian = match method {
            // Σ sign(x) ln(1 + |x|)
            PowerMethod::YeoJohnson => {
                let signed: Vec<f64> = values
                    .iter()
                    .zip(&logs)
                    .map(|(v, l)| v.signum() * l)
                    .collect();
                block_sum(&signed)
            }
            PowerMethod::BoxCox => block_sum(&logs),
        };
        Likelihood {
            method,
            logs,
            non_negative,
            jacobian,
        }
    }

    /// scipy's `yeojohnson_llf` / `boxcox_llf` at `lmbda`; a degenerate variance gives -inf, as
    /// scipy's optimiser sees it.
    pub fn at(&self, lmbda: f64) -> f64 {
        let n = self.logs.len() as f64;
        if self.logs.is_empty() {
            return f64::NAN;
        }
        let llf = match self.method {
            PowerMethod::YeoJohnson => {
                // yeo_johnson() with ln_1p(|x|) precomputed: the same operations.
                let (up_log, down_log) = (
                    lmbda.abs() < f64::EPSILON,
                    (lmbda - 2.0).abs() <= f64::EPSILON,
                );
                let (logs, non_negative) = (&self.logs, &self.non_negative);
                let var = blocked_variance(logs.len(), |i| {
                    let l = logs[i];
                    match (non_negative[i], up_log, down_log) {
                        (true, true, _) => l,
                        (true, false, _) => (lmbda * l).exp_m1() / lmbda,
                        (false, _, false) => -((2.0 - lmbda) * l).exp_m1() / (2.0 - lmbda),
                        (false, _, true) => -l,
                    }
                });
                if var < f64::MIN_POSITIVE {
                    return f64::NEG_INFINITY;
                }
                -n / 2.0 * var.ln() + (lmbda - 1.0) * self.jacobian
            }
            PowerMethod::BoxCox => {
                let log_var = if lmbda == 0.0 {
                    blocked_variance(self.logs.len(), |i| self.logs[i]).ln()
                } else {
                    // log var(x^lmbda) as log var(exp(l - m)) + 2m, m = max l: no overflow.
                    let m = self
                        .logs
                        .iter()
                        .map(|l| lmbda * l)
                        .fold(f64::NEG_INFINITY, f64::max);
                    let logs = &self.logs;
                    blocked_variance(logs.len(), |i| (lmbda * logs[i] - m).exp()).ln() + 2.0 * m
                        - 2.0 * lmbda.abs().ln()
                };
                (lmbda - 1.0) * self.jacobian - n / 2.0 * log_var
            }
        };
        if llf.is_finite() {
            llf
        } else {
            f64::NEG_INFINITY
        }
    }
}

/// The profile log-likelihood of `lmbda` for one column's values (NaN removed).
pub fn log_likelihood(values: &[f64], lmbda: f64, method: PowerMethod) -> f64 {
    Likelihood::new(values, method).at(lmbda)
}

/// The lambda in `[lower, upper]` that maximises the likelihood, to `xatol`: Brent's bounded
/// method step for step as `fastprep._optimize.fminbound` (scipy's `fminbound`).
pub fn fit_lambda(values: &[f64], method: PowerMethod, lower: f64, upper: f64, xatol: f64) -> f64 {
    let likelihood = Likelihood::new(values, method);
    fminbound(|l| -likelihood.at(l), lower, upper, xatol, 500)
}

/// Brent's bounded minimisation (golden section with parabolic steps).
pub fn fminbound(
    mut f: impl FnMut(f64) -> f64,
    lower: f64,
    upper: f64,
    xatol: f64,
    maxiter: usize,
) -> f64 {
    let sqrt_eps = 2.2e-16f64.sqrt();
    let golden_mean = 0.5 * (3.0 - 5.0f64.sqrt());
    let (mut a, mut b) = (lower, upper);
    let mut fulc = a + golden_mean * (b - a);
    let (mut nfc, mut xf) = (fulc, fulc);
    let (mut rat, mut e) = (0.0f64, 0.0f64);
    let mut fx = f(xf);
    let (mut ffulc, mut fnfc) = (fx, fx);
    let mut xm = 0.5 * (a + b);
    let mut tol1 = sqrt_eps * xf.abs() + xatol / 3.0;
    let mut tol2 = 2.0 * tol1;
    for _ in 0..maxiter {
        if (xf - xm).abs() <= tol2 - 0.5 * (b - a) {
            break;
        }
        let mut golden = true;
        if e.abs() > tol1 {
            golden = false;
            let mut r = (xf - nfc) * (fx - ffulc);
            let mut q = (xf - fulc) * (fx - fnfc);
            let mut p = (xf - fulc) * q - (xf - nfc) * r;
            q = 2.0 * (q - r);
            if q > 0.0 {
                p = -p;
            }
            q = q.abs();
            r = e;
            e = rat;
            if p.abs() < (0.5 * q * r).abs() && q * (a - xf) < p && p < q * (b - xf) {
                rat = p / q;
                let x = xf + rat;
                if (x - a) < tol2 || (b - x) < tol2 {
                    rat = if xm >= xf { tol1 } else { -tol1 };
                }
            } else {
                golden = true;
            }
        }
        if golden {
            e = if xf >= xm { a - xf } else { b - xf };
            rat = golden_mean * e;
        }
        let step = if rat >= 0.0 { 1.0 } else { -1.0 };
        let x = xf + step * rat.abs().max(tol1);
        let fu = f(x);
        if fu <= fx {
            if x >= xf {
                a = xf;
            } else {
                b = xf;
            }
            (fulc, ffulc) = (nfc, fnfc);
            (nfc, fnfc) = (xf, fx);
            (xf, fx) = (x, fu);
        } else {
            if x < xf {
                a = x;
            } else {
                b = x;
            }
            if fu <= fnfc || nfc == xf {
                (fulc, ffulc) = (nfc, fnfc);
                (nfc, fnfc) = (x, fu);
            } else if fu <= ffulc || fulc == xf || fulc == nfc {
                (fulc, ffulc) = (x, fu);
            }
        }
        xm = 0.5 * (a + b);
        tol1 = sqrt_eps * xf.abs() + xatol / 3.0;
        tol2 = 2.0 * tol1;
    }
    xf
}

/// Applies each column's power transform with its `lambdas`, then `(y - sub) / div`;
/// `inverse` maps back.
pub fn power_transform<T: Element>(
    x: MatRef<'_, T>,
    lambdas: &[f64],
    method: PowerMethod,
    sub: &[f64],
    div: &[f64],
    inverse: bool,
    out: &mut [T],
) -> Result<()> {
    x.expect_params(&[
        ("lambdas", lambdas.len()),
        ("sub", sub.len()),
        ("div", div.len()),
    ])?;
    let m = x.cols();
    if method == PowerMethod::BoxCox && !inverse {
        for row in x.row_iter() {
            if let Some((j, v)) = row.iter().enumerate().find(|(_, v)| v.to_f64() <= 0.0) {
                return Err(Error::Value {
                    column: j,
                    message: format!("Box-Cox needs strictly positive values, got {}", v.to_f64()),
                });
            }
        }
    }
    x.map_rows_into(out, m, |input, output| {
        // Column by column within the block, so that the method, the direction and the lambda
        // branches are decided once per column rather than once per value.
        for j in 0..m {
            let (l, s, d) = (lambdas[j], sub[j], div[j]);
            match (method, inverse) {
                (PowerMethod::YeoJohnson, false) => {
                    map_column(input, output, j, m, |v| (yeo_johnson(v, l) - s) / d)
                }
                (PowerMethod::BoxCox, false) => {
                    map_column(input, output, j, m, |v| (box_cox(v, l) - s) / d)
                }
                (PowerMethod::YeoJohnson, true) => {
                    map_column(input, output, j, m, |v| yeo_johnson_inverse(v * d + s, l))
                }
                (PowerMethod::BoxCox, true) => {
                    map_column(input, output, j, m, |v| box_cox_inverse(v * d + s, l))
                }
            }
        }
    })
}

/// `output[.., j] = f(input[.., j])` over one block of rows with `m` columns (monomorphised per
/// `f`, so that its lambda branches are hoisted out of the loop).
#[inline(always)]
fn map_column<T: Element>(
    input: &[T],
    output: &mut [T],
    j: usize,
    m: usize,
    f: impl Fn(f64) -> f64,
) {
    let cells = input.iter().skip(j).step_by(m);
    for (o, &v) in output.iter_mut().skip(j).step_by(m).zip(cells) {
        *o = T::from_f64(f(v.to_f64()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transforms_invert() {
        for &l in &[-2.0, -0.5, 0.0, 0.7, 1.0, 2.0, 3.5] {
            for &x in &[-3.0, -0.5, 0.0, 0.25, 4.0] {
                let back = yeo_johnson_inverse(yeo_johnson(x, l), l);
                assert!((back - x).abs() < 1e-12, "yj {l} {x}");
                if x > 0.0 {
                    let back = box_cox_inverse(box_cox(x, l), l);
                    assert!((back - x).abs() < 1e-12, "bc {l} {x}");
                }
            }
        }
    }

    #[test]
    fn box_cox_refuses_non_positive_values_by_column() {
        let data = [1.0f64, 2.0, 3.0, 0.0];
        let x = MatRef::new(&data, 2, 2).expect("shape");
        let mut out = [0.0; 4];
        let err = power_transform(
            x,
            &[1.0, 1.0],
            PowerMethod::BoxCox,
            &[0.0; 2],
            &[1.0; 2],
            false,
            &mut out,
        );
        assert!(matches!(err, Err(Error::Value { column: 1, .. })));
    }

    #[test]
    fn fminbound_finds_a_parabola_minimum() {
        let x = fminbound(|v| (v - 0.3) * (v - 0.3), -5.0, 5.0, 1e-10, 500);
        assert!((x - 0.3).abs() < 1e-8);
    }

    #[test]
    fn likelihood_peaks_near_the_right_lambda() {
        // Squares of a symmetric sample are normalised by lambda = 0.5 (a square root).
        let values: Vec<f64> = (1..400).map(|i| (i as f64 / 40.0).powi(2)).collect();
        let at = |l| log_likelihood(&values, l, PowerMethod::BoxCox);
        assert!(at(0.5) > at(0.0) && at(0.5) > at(1.0));
    }
}
