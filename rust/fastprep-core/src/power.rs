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

/// `Σ f(v)` over `values`, in fixed blocks summed in order: deterministic on any pool.
fn block_sum(values: &[f64], f: impl Fn(f64) -> f64 + Sync) -> f64 {
    let partial: Vec<f64> = values
        .par_chunks(SUM_BLOCK)
        .map(|c| c.iter().fold(0.0, |acc, &v| acc + f(v)))
        .collect();
    partial.iter().sum()
}

/// Population variance of `f(v)` by the corrected two-pass algorithm (`f` evaluated again
/// rather than stored): `(Σd² - (Σd)²/n) / n`, `d = f(v) - mean`.
fn variance_of(values: &[f64], f: impl Fn(f64) -> f64 + Sync) -> f64 {
    let n = values.len() as f64;
    let mean = block_sum(values, &f) / n;
    let sum_d = block_sum(values, |v| f(v) - mean);
    let sum_d2 = block_sum(values, |v| {
        let d = f(v) - mean;
        d * d
    });
    ((sum_d2 - sum_d * sum_d / n) / n).max(0.0)
}

/// The profile log-likelihood of `lmbda` for one column's values (NaN removed, and for
/// Box-Cox all > 0): scipy's `yeojohnson_llf` / `boxcox_llf`. A degenerate variance gives -inf,
/// as scipy's optimiser sees it.
pub fn log_likelihood(values: &[f64], lmbda: f64, method: PowerMethod) -> f64 {
    let n = values.len() as f64;
    if values.is_empty() {
        return f64::NAN;
    }
    let llf = match method {
        PowerMethod::YeoJohnson => {
            let var = variance_of(values, |v| yeo_johnson(v, lmbda));
            if var < f64::MIN_POSITIVE {
                return f64::NEG_INFINITY;
            }
            let jacobian = block_sum(values, |v| v.signum() * v.abs().ln_1p());
            -n / 2.0 * var.ln() + (lmbda - 1.0) * jacobian
        }
        PowerMethod::BoxCox => {
            let log_sum = block_sum(values, f64::ln);
            let log_var = if lmbda == 0.0 {
                variance_of(values, f64::ln).ln()
            } else {
                // log var(x^lmbda) computed as log var(exp(l - m)) + 2m, m = max l: no overflow.
                let m = values
                    .iter()
                    .map(|v| lmbda * v.ln())
                    .fold(f64::NEG_INFINITY, f64::max);
                variance_of(values, |v| (lmbda * v.ln() - m).exp()).ln() + 2.0 * m
                    - 2.0 * lmbda.abs().ln()
            };
            (lmbda - 1.0) * log_sum - n / 2.0 * log_var
        }
    };
    if llf.is_finite() {
        llf
    } else {
        f64::NEG_INFINITY
    }
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
        for (row, out) in input
            .chunks_exact(m.max(1))
            .zip(output.chunks_exact_mut(m.max(1)))
        {
            for (j, (o, &v)) in out.iter_mut().zip(row).enumerate() {
                let (l, s, d) = (lambdas[j], sub[j], div[j]);
                let v = v.to_f64();
                let y = match (method, inverse) {
                    (PowerMethod::YeoJohnson, false) => (yeo_johnson(v, l) - s) / d,
                    (PowerMethod::BoxCox, false) => (box_cox(v, l) - s) / d,
                    (PowerMethod::YeoJohnson, true) => yeo_johnson_inverse(v * d + s, l),
                    (PowerMethod::BoxCox, true) => box_cox_inverse(v * d + s, l),
                };
                *o = T::from_f64(y);
            }
        }
    })
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
    fn likelihood_peaks_near_the_right_lambda() {
        // Squares of a symmetric sample are normalised by lambda = 0.5 (a square root).
        let values: Vec<f64> = (1..400).map(|i| (i as f64 / 40.0).powi(2)).collect();
        let at = |l| log_likelihood(&values, l, PowerMethod::BoxCox);
        assert!(at(0.5) > at(0.0) && at(0.5) > at(1.0));
    }
}
