//! B-spline features (scikit-learn's `SplineTransformer`), dense.
//!
//! Each input column has its full knot vector `t` (the base knots and `degree` more on each
//! side, as scikit-learn places them). A value's B-spline basis is evaluated as SciPy's
//! `BSpline` does (`find_interval`, then de Boor's recursion `_deBoor_D`, in the same operation
//! order) and each output column sums the basis values that map to it, in SciPy's order (one
//! for open splines; two for the first `degree` columns of periodic ones, which wrap). Outside
//! the base interval, scikit-learn's extrapolation: NaN (`error`: the caller refuses), the
//! boundary values (`constant`), the boundary tangent (`linear`; values and slopes given), the
//! polynomial pieces continued (`continue`), or the value wrapped into the period
//! (`periodic`). A missing value gives zeros (`zeros`) or NaN.

use crate::error::{Error, Result};
use crate::matrix::{Element, MatRef};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extrapolation {
    Error,
    Constant,
    Linear,
    Continue,
    Periodic,
}

impl Extrapolation {
    pub fn parse(name: &str) -> Result<Self> {
        Ok(match name {
            "error" => Self::Error,
            "constant" => Self::Constant,
            "linear" => Self::Linear,
            "continue" => Self::Continue,
            "periodic" => Self::Periodic,
            other => {
                return Err(Error::Parameter(format!(
                    "extrapolation must be 'error', 'constant', 'linear', 'continue' or \
                     'periodic', got {other:?}"
                )))
            }
        })
    }
}

/// The fitted splines of every input column, checked.
#[derive(Clone, Debug)]
pub struct Splines {
    degree: usize,
    /// Each column's knots, column after column, `per` values each.
    knots: Vec<f64>,
    per: usize,
    /// Basis functions per column before the bias column is dropped.
    splines: usize,
    extrapolation: Extrapolation,
    include_bias: bool,
    zeros_for_missing: bool,
    /// Per column: the basis values at the lower and upper bound, then their slopes there
    /// (`4 * splines` values), for `constant` and `linear`.
    bounds: Vec<f64>,
}

impl Splines {
    /// `knots`: `columns` knot vectors of `2 * degree + n_knots` values (increasing, give or
    /// take rounding);
    /// `bounds`: `4 * splines` values per column, or none.
    pub fn new(
        knots: Vec<f64>,
        columns: usize,
        degree: usize,
        extrapolation: Extrapolation,
        include_bias: bool,
        zeros_for_missing: bool,
        bounds: Vec<f64>,
    ) -> Result<Self> {
        let bad = |what: String| Err(Error::Shape(format!("splines: {what}")));
        if columns == 0 || !knots.len().is_multiple_of(columns) {
            return bad(format!("{} knots for {columns} columns", knots.len()));
        }
        let per = knots.len() / columns;
        let n_knots = per.saturating_sub(degree.saturating_mul(2));
        let periodic = extrapolation == Extrapolation::Periodic;
        if n_knots < 2 || (periodic && n_knots <= degree) {
            return bad(format!("{per} knots per column for degree {degree}"));
        }
        // Not checked for order: a periodic extension may round one ULP below its neighbour
        // (as scikit-learn's does), and the interval search stays in bounds whatever the order.
        if knots.iter().any(|v| !v.is_finite()) {
            return bad("knots are finite".into());
        }
        let splines = if periodic {
            n_knots - 1
        } else {
            n_knots + degree - 1
        };
        let needs_bounds = matches!(
            extrapolation,
            Extrapolation::Constant | Extrapolation::Linear
        );
        if bounds.len()
            != if needs_bounds {
                4 * splines * columns
            } else {
                0
            }
        {
            return bad(format!("{} boundary values", bounds.len()));
        }
        Ok(Self {
            degree,
            knots,
            per,
            splines,
            extrapolation,
            include_bias,
            zeros_for_missing,
            bounds,
        })
    }

    pub fn columns(&self) -> usize {
        self.knots.len() / self.per
    }

    /// Output columns per input column.
    pub fn width_per_column(&self) -> usize {
        self.splines - usize::from(!self.include_bias)
    }

    pub fn width(&self) -> usize {
        self.columns() * self.width_per_column()
    }

    /// The values `row` holds in `out` while it works: the row, then one column's basis
    /// values and de Boor's scratch.
    pub fn buffer(&self) -> usize {
        self.width() + self.splines + 2 * self.degree + 2
    }

    /// One row (`input(j)`: column `j`'s value) into `out`, which it resizes (to `buffer()`
    /// while it works, so a buffer kept across rows allocates nothing).
    #[inline]
    pub fn row(&self, input: impl Fn(usize) -> f64, out: &mut Vec<f64>) {
        let (width, per) = (self.width(), self.width_per_column());
        out.resize(self.buffer(), 0.0);
        let (row, work) = out.split_at_mut(width);
        let (values, basis) = work.split_at_mut(self.splines);
        for j in 0..self.columns() {
            self.column(j, input(j), basis, values);
            row[j * per..(j + 1) * per].copy_from_slice(&values[..per]);
        }
        out.truncate(width);
    }

    /// Column `j`'s basis at `x` into `values` (`splines` of them).
    fn column(&self, j: usize, x: f64, basis: &mut [f64], values: &mut [f64]) {
        let k = self.degree;
        let t = &self.knots[j * self.per..(j + 1) * self.per];
        let n = self.per - k - 1;
        let (lo, hi) = (t[k], t[n]);
        values.fill(0.0);
        if x.is_nan() {
            if !self.zeros_for_missing {
                values.fill(f64::NAN);
            }
            return;
        }
        let x = match self.extrapolation {
            Extrapolation::Periodic => {
                if hi - lo > 0.0 {
                    lo + python_mod(x - lo, hi - lo)
                } else {
                    0.0 // one distinct value: a constant column, as scikit-learn's
                }
            }
            Extrapolation::Error if !(lo..=hi).contains(&x) => {
                values.fill(f64::NAN);
                return;
            }
            Extrapolation::Constant | Extrapolation::Linear if !(lo..=hi).contains(&x) => {
                self.beyond(j, x, lo, hi, values);
                return;
            }
            _ => x,
        };
        let ell = interval(t, k, x);
        de_boor(t, x, k, ell, basis);
        let splines = self.splines;
        let column = |a: usize| {
            let b = ell + a - k;
            if b < splines {
                b
            } else {
                b - splines
            }
        };
        if basis[..=k].iter().all(|h| h.is_finite()) {
            for (a, &h) in basis[..=k].iter().enumerate() {
                values[column(a)] += h;
            }
        } else {
            // SciPy sums every coefficient times every basis value: 0 * inf is NaN elsewhere.
            for (c, v) in values.iter_mut().enumerate() {
                for (a, &h) in basis[..=k].iter().enumerate() {
                    *v += if column(a) == c { h } else { 0.0 * h };
                }
            }
        }
    }

    /// scikit-learn's `constant` and `linear` extrapolation of a value beyond `[lo, hi]`.
    fn beyond(&self, j: usize, x: f64, lo: f64, hi: f64, values: &mut [f64]) {
        let s = self.splines;
        let b = &self.bounds[4 * s * j..4 * s * (j + 1)];
        let (f_min, f_max, fp_min, fp_max) = (&b[..s], &b[s..2 * s], &b[2 * s..3 * s], &b[3 * s..]);
        let k = self.degree;
        if self.extrapolation == Extrapolation::Constant {
            if x < lo {
                values[..k].copy_from_slice(&f_min[..k]);
            } else {
                values[s - k..].copy_from_slice(&f_max[s - k..]);
            }
            return;
        }
        // Degree 1: the second spline's slope is not zero at the bound either.
        for jj in 0..(if k <= 1 { k + 1 } else { k }).min(s) {
            if x < lo {
                values[jj] = f_min[jj] + (x - lo) * fp_min[jj];
            } else {
                let c = s - 1 - jj;
                values[c] = f_max[c] + (x - hi) * fp_max[c];
            }
        }
    }
}

/// Python's (NumPy's) float `%`: the remainder with the divisor's sign.
fn python_mod(a: f64, b: f64) -> f64 {
    let r = a % b;
    if r != 0.0 && (r < 0.0) != (b < 0.0) {
        r + b
    } else if r == 0.0 {
        0.0f64.copysign(b)
    } else {
        r
    }
}

/// SciPy's `find_interval` (extrapolating): `ell` with `t[ell] <= x < t[ell + 1]`, within
/// `[k, n - 1]`.
fn interval(t: &[f64], k: usize, x: f64) -> usize {
    let n = t.len() - k - 1;
    let mut ell = k;
    while x < t[ell] && ell != k {
        ell -= 1;
    }
    ell += 1;
    while ell != n && x >= t[ell] {
        ell += 1;
    }
    ell - 1
}

/// SciPy's `_deBoor_D` without derivatives: the `k + 1` non-zero basis values at `x` of the
/// interval `ell` into `h[..=k]` (`h` holds `2k + 2` values: the last `k + 1` are scratch).
fn de_boor(t: &[f64], x: f64, k: usize, ell: usize, h: &mut [f64]) {
    let (h, hh) = h.split_at_mut(k + 1);
    h[0] = 1.0;
    for j in 1..=k {
        hh[..j].copy_from_slice(&h[..j]);
        h[0] = 0.0;
        for n in 1..=j {
            let (xb, xa) = (t[ell + n], t[ell + n - j]);
            if xb == xa {
                h[n] = 0.0;
                continue;
            }
            let w = hh[n - 1] / (xb - xa);
            h[n - 1] += w * (xb - x);
            h[n] = w * (x - xa);
        }
    }
}

/// The spline features of every row of `x`, rounded once to the output type.
pub fn spline<T: Element>(x: MatRef<'_, T>, splines: &Splines, out: &mut [T]) -> Result<()> {
    if x.cols() != splines.columns() {
        return Err(Error::Shape(format!(
            "splines of {} columns for an input of {}",
            splines.columns(),
            x.cols()
        )));
    }
    let (cols, width) = (x.cols(), splines.width());
    x.map_rows_into(out, width, |input, output| {
        let mut row = Vec::with_capacity(splines.buffer());
        for (r, o) in input.chunks_exact(cols).zip(output.chunks_exact_mut(width)) {
            splines.row(|j| r[j].to_f64(), &mut row);
            for (o, &v) in o.iter_mut().zip(&row) {
                *o = T::from_f64(v);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Degree 1 on base knots 0, 1, 2 (full knots -1 .. 3): hat functions.
    fn hats(extrapolation: Extrapolation, bounds: Vec<f64>) -> Splines {
        Splines::new(
            vec![-1.0, 0.0, 1.0, 2.0, 3.0],
            1,
            1,
            extrapolation,
            true,
            true,
            bounds,
        )
        .expect("splines")
    }

    fn at(s: &Splines, x: f64) -> Vec<f64> {
        let mut out = Vec::new();
        s.row(|_| x, &mut out);
        out
    }

    #[test]
    fn hat_functions_inside() {
        let s = hats(Extrapolation::Continue, vec![]);
        assert_eq!(at(&s, 0.5), [0.5, 0.5, 0.0]);
        assert_eq!(at(&s, 2.0), [0.0, 0.0, 1.0]);
        assert_eq!(at(&s, f64::NAN), [0.0, 0.0, 0.0]);
    }

    #[test]
    fn beyond_the_bounds() {
        let bounds = vec![1.0, 0.0, 0.0, 0.0, 0.0, 1.0, -1.0, 1.0, 0.0, 0.0, -1.0, 1.0];
        assert_eq!(
            at(&hats(Extrapolation::Constant, bounds.clone()), -5.0),
            [1.0, 0.0, 0.0]
        );
        assert_eq!(
            at(&hats(Extrapolation::Linear, bounds), 3.0),
            [0.0, -1.0, 2.0] // degree 1: the last two hats continue their slopes
        );
        assert!(at(&hats(Extrapolation::Error, vec![]), 2.5)[0].is_nan());
        assert_eq!(python_mod(-0.5, 2.0), 1.5);
    }

    #[test]
    fn inconsistent_splines_are_refused() {
        let e = Extrapolation::Continue;
        assert!(Splines::new(vec![0.0, 1.0], 1, 1, e, true, true, vec![]).is_err());
        assert!(Splines::new(
            vec![f64::NAN, 0.0, 1.0, 2.0, 3.0],
            1,
            1,
            e,
            true,
            true,
            vec![]
        )
        .is_err());
        assert!(Splines::new(
            vec![0.0; 5],
            1,
            1,
            Extrapolation::Linear,
            true,
            true,
            vec![]
        )
        .is_err());
    }
}
