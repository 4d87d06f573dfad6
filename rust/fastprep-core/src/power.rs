//! Power transforms (scikit-learn's `PowerTransformer`): Yeo-Johnson and Box-Cox, their
//! inverses, and the log-likelihood whose maximum gives each column's lambda.
//!
//! Formulas are scipy's (`stats.yeojohnson`, `special.boxcox` / `inv_boxcox`) and
//! scikit-learn's inverse Yeo-Johnson, evaluated in `f64`. The optional standardisation is fused:
//! `(power(x) - sub) / div` forward and `inverse(y * div + sub)` backward, in scikit-learn's
//! operation order. NaN stays NaN. Box-Cox refuses values <= 0 with an error naming the column.

use std::borrow::Cow;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::matrix::{per_column, Element, MatRef};

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
/// do not depend on the number of threads; small enough for a block's transformed values to
/// live on the stack, in L1 cache, between the two passes of the variance.
const SUM_BLOCK: usize = 1 << 12;

/// `Σ v` over `values`, in fixed blocks summed in order: deterministic on any pool.
fn block_sum(values: &[f64]) -> f64 {
    let partial: Vec<f64> = values
        .par_chunks(SUM_BLOCK)
        .map(|c| c.iter().sum::<f64>())
        .collect();
    partial.iter().sum()
}

/// Population variance of the values that `fill(block, out)` writes for each block of
/// `SUM_BLOCK` indices (`out` has the block's length): each block is summarised by
/// `lane_moments` and the blocks are merged in order with Chan's formula, so the result does
/// not depend on the number of threads.
fn blocked_variance(len: usize, fill: impl Fn(std::ops::Range<usize>, &mut [f64]) + Sync) -> f64 {
    blocked_moments(len, fill).1
}

/// Mean and population variance of the values `fill` writes (see `blocked_variance`).
fn blocked_moments(
    len: usize,
    fill: impl Fn(std::ops::Range<usize>, &mut [f64]) + Sync,
) -> (f64, f64) {
    let blocks: Vec<(f64, f64, f64)> = (0..len.div_ceil(SUM_BLOCK))
        .into_par_iter()
        .map(|b| {
            let range = b * SUM_BLOCK..((b + 1) * SUM_BLOCK).min(len);
            let mut y = [0.0f64; SUM_BLOCK];
            let y = &mut y[..range.len()];
            fill(range, y);
            lane_moments(y)
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
    (mean, m2 / n)
}

/// Running sums per lane: eight independent add chains instead of one.
const LANES: usize = 8;

/// `(n, mean, m2)` of one block by the corrected two-pass algorithm (`Σd² - (Σd)²/n`), each
/// sum kept in `LANES` lanes (value `i` goes to lane `i % LANES`) and the lanes added in a
/// fixed tree, so every build gives the same bits.
#[inline(always)]
fn lane_moments(y: &[f64]) -> (f64, f64, f64) {
    fn lanes(y: &[f64], f: impl Fn(f64) -> (f64, f64)) -> (f64, f64) {
        let (mut a, mut b) = ([0.0f64; LANES], [0.0f64; LANES]);
        let chunks = y.chunks_exact(LANES);
        let tail = chunks.remainder();
        for c in chunks {
            for l in 0..LANES {
                let (u, v) = f(c[l]);
                a[l] += u;
                b[l] += v;
            }
        }
        for (l, &v) in tail.iter().enumerate() {
            let (u, v) = f(v);
            a[l] += u;
            b[l] += v;
        }
        let tree =
            |s: [f64; LANES]| ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
        (tree(a), tree(b))
    }
    let n = y.len() as f64;
    let mean = lanes(y, |v| (v, 0.0)).0 / n;
    let (sum_d, sum_d2) = lanes(y, |v| {
        let d = v - mean;
        (d, d * d)
    });
    (n, mean, (sum_d2 - sum_d * sum_d / n).max(0.0))
}

/// One Yeo-Johnson value from its signed log `s` (`ln(1 + |x|)`, negated for `x < 0`), for
/// lambda away from 0 and 2: `yeo_johnson()`'s operations, with `simd::exp_m1`. With
/// `RECIPROCAL`, the division by lambda (or `-(2 - lambda)`) is a multiplication by its
/// reciprocal, within an ulp of it: for the likelihood, which only compares its values, and
/// where a division per value was about a twentieth of the fit.
#[inline(always)]
fn yeo_johnson_term<const RECIPROCAL: bool>(s: f64, lmbda: f64) -> f64 {
    let (a, c) = if s < 0.0 {
        (2.0 - lmbda, -(2.0 - lmbda))
    } else {
        (lmbda, lmbda)
    };
    let e = crate::simd::exp_m1(a * s.abs());
    if RECIPROCAL {
        e * (1.0 / c)
    } else {
        e / c
    }
}

/// The Yeo-Johnson values of signed logs: `yeo_johnson()` with `ln_1p(|x|)` precomputed
/// (`RECIPROCAL`: see `yeo_johnson_term`).
fn yeo_johnson_fill<const RECIPROCAL: bool>(signed: &[f64], lmbda: f64, out: &mut [f64]) {
    let (up_log, down_log) = (
        lmbda.abs() < f64::EPSILON,
        (lmbda - 2.0).abs() <= f64::EPSILON,
    );
    if !up_log && !down_log {
        return yeo_johnson_terms::<RECIPROCAL>(signed, lmbda, out);
    }
    for (y, &s) in out.iter_mut().zip(signed) {
        // The log branches: ln(1 + x) for x >= 0, -ln(1 - x) for x < 0.
        let log_branch = if s < 0.0 { down_log } else { up_log };
        *y = if log_branch {
            s
        } else {
            yeo_johnson_term::<RECIPROCAL>(s, lmbda)
        };
    }
}

/// `out[i] = yeo_johnson_term(signed[i], lmbda)`, four at a time on AVX2 CPUs.
fn yeo_johnson_terms<const RECIPROCAL: bool>(signed: &[f64], lmbda: f64, out: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if crate::simd::has_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA.
        return unsafe { avx2::yeo_johnson_terms::<RECIPROCAL>(signed, lmbda, out) };
    }
    for (o, &s) in out.iter_mut().zip(signed) {
        *o = yeo_johnson_term::<RECIPROCAL>(s, lmbda);
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// `super::yeo_johnson_terms`, operation for operation.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn yeo_johnson_terms<const RECIPROCAL: bool>(
        signed: &[f64],
        lmbda: f64,
        out: &mut [f64],
    ) {
        let n = signed.len().min(out.len());
        let lam = _mm256_set1_pd(lmbda);
        let two = _mm256_set1_pd(2.0 - lmbda);
        let minus_two = _mm256_set1_pd(-(2.0 - lmbda));
        let (inv_lam, inv_minus_two) = (
            _mm256_set1_pd(1.0 / lmbda),
            _mm256_set1_pd(1.0 / -(2.0 - lmbda)),
        );
        let abs_mask = _mm256_castsi256_pd(_mm256_set1_epi64x(i64::MAX));
        let mut i = 0;
        while i + 4 <= n {
            let s = _mm256_loadu_pd(signed.as_ptr().add(i));
            let neg = _mm256_cmp_pd::<_CMP_LT_OQ>(s, _mm256_setzero_pd());
            let a = _mm256_blendv_pd(lam, two, neg);
            let e = crate::simd::avx2::exp_m1(_mm256_mul_pd(a, _mm256_and_pd(s, abs_mask)));
            let y = if RECIPROCAL {
                _mm256_mul_pd(e, _mm256_blendv_pd(inv_lam, inv_minus_two, neg))
            } else {
                _mm256_div_pd(e, _mm256_blendv_pd(lam, minus_two, neg))
            };
            _mm256_storeu_pd(out.as_mut_ptr().add(i), y);
            i += 4;
        }
        for k in i..n {
            out[k] = super::yeo_johnson_term::<RECIPROCAL>(signed[k], lmbda);
        }
    }
}

/// One column's profile log-likelihood as a function of lambda, with everything that does not
/// depend on lambda computed once: the logarithms (`ln(1 + |x|)` for Yeo-Johnson, `ln x` for
/// Box-Cox) and the Jacobian term. Each evaluation is then one `exp` per value.
pub struct Likelihood<'a> {
    method: PowerMethod,
    /// `log_of` each value.
    logs: Cow<'a, [f64]>,
    jacobian: f64,
    /// Yeo-Johnson: `Some(1.0)` when every value is >= 0, `Some(-1.0)` when every value is
    /// < 0 (one branch of the transform), else `None`. Box-Cox: `Some(1.0)`.
    one_branch: Option<f64>,
    /// The smallest and the largest log.
    extremes: (f64, f64),
}

/// The logarithm the likelihood keeps of a value: for Yeo-Johnson `ln(1 + |x|)`, negated for
/// `x < 0` (the sign picks the branch: a negative x has ln(1 + |x|) > 0); for Box-Cox `ln x`.
#[inline]
pub fn log_of(v: f64, method: PowerMethod) -> f64 {
    match method {
        PowerMethod::YeoJohnson => {
            let l = v.abs().ln_1p();
            if v < 0.0 {
                -l
            } else {
                l
            }
        }
        PowerMethod::BoxCox => v.ln(),
    }
}

impl Likelihood<'static> {
    /// `values`: one column, NaN removed (and, for Box-Cox, all > 0).
    pub fn new(values: &[f64], method: PowerMethod) -> Self {
        let logs: Vec<f64> = values.par_iter().map(|&v| log_of(v, method)).collect();
        Likelihood::of_logs(Cow::Owned(logs), method)
    }
}

impl<'a> Likelihood<'a> {
    /// From a column's `log_of` values, taken already.
    pub fn of_logs(logs: Cow<'a, [f64]>, method: PowerMethod) -> Self {
        // Σ sign(x) ln(1 + |x|) for Yeo-Johnson, Σ ln x for Box-Cox.
        let jacobian = block_sum(&logs);
        let extremes = logs
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &l| {
                (lo.min(l), hi.max(l))
            });
        let one_branch = match method {
            PowerMethod::BoxCox => Some(1.0),
            PowerMethod::YeoJohnson if extremes.0 >= 0.0 => Some(1.0),
            PowerMethod::YeoJohnson if extremes.1 < 0.0 => Some(-1.0),
            PowerMethod::YeoJohnson => None,
        };
        Likelihood {
            method,
            logs,
            jacobian,
            one_branch,
            extremes,
        }
    }

    /// The lambda in `[lower, upper]` that maximises the likelihood, to `xatol`: Brent's
    /// bounded method step for step as `fastprep._optimize.fminbound` (scipy's `fminbound`).
    pub fn maximum(&self, lower: f64, upper: f64, xatol: f64) -> f64 {
        fminbound(|l| -self.at(l), lower, upper, xatol, 500)
    }

    /// Mean and population variance of the transformed values at `lmbda`: the
    /// standardisation that follows the fit, from the logarithms already taken.
    pub fn transformed_moments(&self, lmbda: f64) -> (f64, f64) {
        if self.logs.is_empty() {
            return (f64::NAN, f64::NAN);
        }
        let logs = &self.logs;
        match self.method {
            PowerMethod::YeoJohnson => blocked_moments(logs.len(), |range, y| {
                yeo_johnson_fill::<false>(&logs[range], lmbda, y)
            }),
            PowerMethod::BoxCox => blocked_moments(logs.len(), |range, y| {
                for (y, &l) in y.iter_mut().zip(&logs[range]) {
                    // box_cox() with ln x precomputed.
                    *y = if lmbda.abs() < 1e-19 {
                        l
                    } else {
                        (lmbda * l).exp_m1() / lmbda
                    };
                }
            }),
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
            PowerMethod::YeoJohnson => match self.one_branch {
                // One branch: (e^(a|s|) - 1) / ±a, whose variance is var(e^(a|s|)) / a². Taken
                // without the constant, it keeps its digits where |a| |s| is large and the
                // transformed values all lie within an ulp or two of ∓1/a, which is where
                // the variance of the values themselves loses them (and scipy's likelihood
                // with it, leaving its optimiser a noisy function).
                Some(sign) => {
                    let a = if sign > 0.0 { lmbda } else { 2.0 - lmbda };
                    let log_var = self.log_power_variance(a, sign);
                    if log_var < f64::MIN_POSITIVE.ln() {
                        return f64::NEG_INFINITY;
                    }
                    (lmbda - 1.0) * self.jacobian - n / 2.0 * log_var
                }
                None => {
                    // yeo_johnson() with ln_1p(|x|) precomputed.
                    let logs = &self.logs;
                    let var = blocked_variance(logs.len(), |range, y| {
                        yeo_johnson_fill::<true>(&logs[range], lmbda, y)
                    });
                    if var < f64::MIN_POSITIVE {
                        return f64::NEG_INFINITY;
                    }
                    -n / 2.0 * var.ln() + (lmbda - 1.0) * self.jacobian
                }
            },
            PowerMethod::BoxCox => {
                (lmbda - 1.0) * self.jacobian - n / 2.0 * self.log_power_variance(lmbda, 1.0)
            }
        };
        if llf.is_finite() {
            llf
        } else {
            f64::NEG_INFINITY
        }
    }
}

impl Likelihood<'_> {
    /// `ln var((e^(a l) - 1) / a)` over the logs `l` (times `sign`, making them >= 0): the
    /// power terms scaled by their largest, `ln var(e^(a l - m) - 1) + 2m - 2 ln|a|`, so that
    /// neither overflow nor the constant costs digits (`e^x - 1` keeps the digits of terms
    /// that differ by less than the precision of 1); `ln var(l)` at `a` = 0.
    fn log_power_variance(&self, a: f64, sign: f64) -> f64 {
        let logs = &self.logs;
        if a.abs() < f64::EPSILON {
            return blocked_variance(logs.len(), |range, y| {
                for (y, &l) in y.iter_mut().zip(&logs[range]) {
                    *y = sign * l;
                }
            })
            .ln();
        }
        let (lo, hi) = self.extremes;
        let m = (a * (sign * lo)).max(a * (sign * hi));
        blocked_variance(logs.len(), |range, y| {
            for (y, &l) in y.iter_mut().zip(&logs[range]) {
                *y = a * (sign * l) - m;
            }
            crate::simd::exp_m1_slice(y);
        })
        .ln()
            + 2.0 * m
            - 2.0 * a.abs().ln()
    }
}

/// The profile log-likelihood of `lmbda` for one column's values (NaN removed).
pub fn log_likelihood(values: &[f64], lmbda: f64, method: PowerMethod) -> f64 {
    Likelihood::new(values, method).at(lmbda)
}

/// One column's lambda in `[lower, upper]` (values without NaN): `Likelihood::maximum`.
pub fn fit_lambda(values: &[f64], method: PowerMethod, lower: f64, upper: f64, xatol: f64) -> f64 {
    Likelihood::new(values, method).maximum(lower, upper, xatol)
}

/// For each column `j` of `x` with bounds (`bounds[j]`, `None` for a column not fitted): the
/// number of its values (NaN skipped), its lambda (`Likelihood::maximum`), and the mean and
/// population variance of the column transformed with it (what standardising needs). The
/// values are gathered into column order once, as their logarithms (`log_of`), and the
/// columns are fitted in parallel. A column not fitted gives `(count, NaN, NaN, NaN)`.
pub fn fit_lambdas<T: Element>(
    x: MatRef<'_, T>,
    method: PowerMethod,
    bounds: &[Option<(f64, f64)>],
    xatol: f64,
) -> Result<Vec<(usize, f64, f64, f64)>> {
    if x.cols() != bounds.len() {
        return Err(Error::Shape(format!(
            "{} columns but {} pairs of lambda bounds",
            x.cols(),
            bounds.len()
        )));
    }
    Ok(per_column(
        x,
        |v| log_of(v, method),
        |j, logs: &mut [f64], _| {
            let n = logs.len();
            let Some((lower, upper)) = bounds[j] else {
                return (n, f64::NAN, f64::NAN, f64::NAN);
            };
            let likelihood = Likelihood::of_logs(Cow::Borrowed(logs), method);
            let lmbda = likelihood.maximum(lower, upper, xatol);
            let (mean, var) = likelihood.transformed_moments(lmbda);
            (n, lmbda, mean, var)
        },
    ))
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
    fn likelihood_terms_agree_across_builds_and_with_the_transform() {
        // Signed logs of negative, zero and positive x; 1001 values, so the AVX2 loop has a tail.
        let signed: Vec<f64> = (0..1001).map(|i| (i as f64 - 500.0) / 37.0).collect();
        for lmbda in [-3.0, -0.5, 0.3, 1.0, 1.7, 2.5, 5.0] {
            let (mut exact, mut fast) = (vec![0.0; signed.len()], vec![0.0; signed.len()]);
            yeo_johnson_terms::<false>(&signed, lmbda, &mut exact);
            yeo_johnson_terms::<true>(&signed, lmbda, &mut fast);
            for ((&y, &f), &s) in exact.iter().zip(&fast).zip(&signed) {
                let bits = |v: f64| v.to_bits();
                assert_eq!(
                    bits(y),
                    bits(yeo_johnson_term::<false>(s, lmbda)),
                    "{s} {lmbda}"
                );
                assert_eq!(
                    bits(f),
                    bits(yeo_johnson_term::<true>(s, lmbda)),
                    "{s} {lmbda}"
                );
                let x = if s < 0.0 { -(-s).exp_m1() } else { s.exp_m1() };
                let expected = yeo_johnson(x, lmbda);
                let tolerance = 1e-12 * expected.abs().max(1.0);
                assert!(
                    (y - expected).abs() <= tolerance,
                    "{s} {lmbda}: {y} vs {expected}"
                );
                // The reciprocal's rounding and the product's: at most two ulps from the quotient.
                assert!((f - y).abs() <= 2.0 * f64::EPSILON * y.abs(), "{s} {lmbda}");
            }
        }
    }

    #[test]
    fn transformed_moments_are_those_of_the_transform() {
        let values: Vec<f64> = (0..10_001).map(|i| (i as f64 - 3000.0) / 97.0).collect();
        let positive: Vec<f64> = values.iter().map(|v| v.abs() + 0.5).collect();
        for (method, values) in [
            (PowerMethod::YeoJohnson, &values),
            (PowerMethod::BoxCox, &positive),
        ] {
            for lmbda in [-0.7, 0.0, 0.4, 2.0, 2.6] {
                let y: Vec<f64> = values
                    .iter()
                    .map(|&x| match method {
                        PowerMethod::YeoJohnson => yeo_johnson(x, lmbda),
                        PowerMethod::BoxCox => box_cox(x, lmbda),
                    })
                    .collect();
                let n = y.len() as f64;
                let mean = y.iter().sum::<f64>() / n;
                let var = y.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
                let (m, v) = Likelihood::new(values, method).transformed_moments(lmbda);
                assert!(
                    (m - mean).abs() <= 1e-12 * mean.abs().max(1.0),
                    "{method:?} {lmbda}"
                );
                assert!(
                    (v - var).abs() <= 1e-12 * var,
                    "{method:?} {lmbda}: {v} vs {var}"
                );
            }
        }
    }

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

    #[test]
    fn one_branch_likelihood_is_the_transformed_values_likelihood() {
        // Where the transformed values keep their digits, the variance of the power terms
        // over lambda² is theirs, for either branch of Yeo-Johnson and for Box-Cox.
        let direct = |values: &[f64], l: f64, method: PowerMethod| {
            let y: Vec<f64> = values
                .iter()
                .map(|&v| match method {
                    PowerMethod::YeoJohnson => yeo_johnson(v, l),
                    PowerMethod::BoxCox => box_cox(v, l),
                })
                .collect();
            let n = y.len() as f64;
            let mean = y.iter().sum::<f64>() / n;
            let var = y.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
            let jacobian: f64 = values.iter().map(|&v| log_of(v, method)).sum();
            -n / 2.0 * var.ln() + (l - 1.0) * jacobian
        };
        let positive: Vec<f64> = (0..300)
            .map(|i| 1.0 + (i as f64 * 0.37).sin().abs() * 9.0)
            .collect();
        let negative: Vec<f64> = positive.iter().map(|v| -v).collect();
        for (values, method) in [
            (&positive, PowerMethod::YeoJohnson),
            (&negative, PowerMethod::YeoJohnson),
            (&positive, PowerMethod::BoxCox),
        ] {
            for l in [-1.5, -0.3, 0.0, 0.7, 2.0, 3.5] {
                let (ours, want) = (log_likelihood(values, l, method), direct(values, l, method));
                assert!(
                    (ours - want).abs() <= 1e-9 * want.abs(),
                    "{l}: {ours} {want}"
                );
            }
        }
    }
}
