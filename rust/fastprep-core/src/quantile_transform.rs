//! Mapping through fitted quantiles (scikit-learn's `QuantileTransformer`).
//!
//! The maths is scikit-learn's `_transform_col`, computed in `f64`: forward, the mean of
//! `np.interp` going up and going down (so repeated quantiles map to the middle of their
//! references), values within `BOUNDS_THRESHOLD` of the extreme quantiles pinned to 0 or 1, then
//! for a normal output `ndtri`, clipped so that the inverse stays consistent. `interp` reproduces
//! `np.interp` bit for bit. NaN stays NaN. A column whose quantiles are all NaN (no value at fit)
//! maps everything to NaN.

use crate::error::{Error, Result};
use crate::matrix::{Element, MatRef};
use crate::special::{ndtr, ndtri};

/// scikit-learn's margin around the extreme quantiles.
pub const BOUNDS_THRESHOLD: f64 = 1e-7;

/// `np.interp(x, xp, fp)` with its defaults (`left = fp[0]`, `right = fp[-1]`), `xp` sorted.
pub fn interp(x: f64, xp: &[f64], fp: &[f64]) -> f64 {
    let n = xp.len();
    if x.is_nan() || n == 0 {
        return f64::NAN;
    }
    if n == 1 {
        return fp[0];
    }
    if x > xp[n - 1] {
        return fp[n - 1];
    }
    if x < xp[0] {
        return fp[0];
    }
    // The last j with xp[j] <= x, as NumPy's binary_search_with_guess.
    let j = xp.partition_point(|&e| e <= x) - 1;
    if j == n - 1 || xp[j] == x {
        return fp[j];
    }
    let slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
    let y = slope * (x - xp[j]) + fp[j];
    if !y.is_nan() {
        return y;
    }
    // NumPy retries from the other end, then falls back on a flat segment's value.
    let y = slope * (x - xp[j + 1]) + fp[j + 1];
    if y.is_nan() && fp[j] == fp[j + 1] {
        fp[j]
    } else {
        y
    }
}

/// Fitted quantiles of one column, with the reversed, negated copies the downward pass needs.
struct Column {
    q: Vec<f64>,
    neg_q_rev: Vec<f64>,
}

/// Non-decreasing and free of NaN (a NaN fails every comparison).
fn is_sorted(v: &[f64]) -> bool {
    v.iter().all(|x| !x.is_nan()) && v.windows(2).all(|w| w[0] <= w[1])
}

/// Checks the state and splits the `n_quantiles × cols` matrix into per-column vectors.
fn columns(quantiles: MatRef<'_, f64>, references: &[f64], cols: usize) -> Result<Vec<Column>> {
    if quantiles.cols() != cols {
        return Err(Error::Shape(format!(
            "quantiles for {} columns but the input has {cols}",
            quantiles.cols()
        )));
    }
    if quantiles.rows() == 0 || quantiles.rows() != references.len() {
        return Err(Error::Shape(format!(
            "{} quantiles per column but {} references",
            quantiles.rows(),
            references.len()
        )));
    }
    if !is_sorted(references) {
        return Err(Error::Parameter("references must be sorted".into()));
    }
    (0..cols)
        .map(|j| {
            let q: Vec<f64> = quantiles.row_iter().map(|row| row[j]).collect();
            let all_nan = q.iter().all(|v| v.is_nan());
            if !all_nan && !is_sorted(&q) {
                return Err(Error::Parameter(format!(
                    "quantiles of column {j} must be sorted and not NaN"
                )));
            }
            let neg_q_rev = q.iter().rev().map(|v| -v).collect();
            Ok(Column { q, neg_q_rev })
        })
        .collect()
}

fn forward(
    v: f64,
    c: &Column,
    refs: &[f64],
    neg_refs_rev: &[f64],
    normal: bool,
    clip: (f64, f64),
) -> f64 {
    let (first, last) = (c.q[0], c.q[c.q.len() - 1]);
    if v.is_nan() || first.is_nan() {
        return f64::NAN;
    }
    let (lower, upper) = if normal {
        (v - BOUNDS_THRESHOLD < first, v + BOUNDS_THRESHOLD > last)
    } else {
        (v == first, v == last)
    };
    let y = if lower {
        0.0
    } else if upper {
        1.0
    } else {
        0.5 * (interp(v, &c.q, refs) - interp(-v, &c.neg_q_rev, neg_refs_rev))
    };
    if !normal {
        return y;
    }
    // np.clip: NaN passes through.
    let z = ndtri(y);
    let z = if z < clip.0 { clip.0 } else { z };
    if z > clip.1 {
        clip.1
    } else {
        z
    }
}

fn backward(v: f64, c: &Column, refs: &[f64], normal: bool) -> f64 {
    let (first, last) = (c.q[0], c.q[c.q.len() - 1]);
    let v = if normal { ndtr(v) } else { v };
    if v.is_nan() || first.is_nan() {
        return f64::NAN;
    }
    let (lower, upper) = if normal {
        (v - BOUNDS_THRESHOLD < 0.0, v + BOUNDS_THRESHOLD > 1.0)
    } else {
        (v == 0.0, v == 1.0)
    };
    if lower {
        first
    } else if upper {
        last
    } else {
        interp(v, refs, &c.q)
    }
}

/// The clip range of a normal output: `ndtri` of `BOUNDS_THRESHOLD - eps` and its mirror.
pub fn normal_clip() -> (f64, f64) {
    let margin = BOUNDS_THRESHOLD - f64::EPSILON;
    (ndtri(margin), ndtri(1.0 - margin))
}

/// Maps `x` through its columns' quantiles (`n_quantiles × cols`) to `references`, then to a
/// normal distribution if `normal`; `inverse` maps back.
pub fn quantile_transform<T: Element>(
    x: MatRef<'_, T>,
    quantiles: MatRef<'_, f64>,
    references: &[f64],
    normal: bool,
    inverse: bool,
    out: &mut [T],
) -> Result<()> {
    let m = x.cols();
    let cols = columns(quantiles, references, m)?;
    let neg_refs_rev: Vec<f64> = references.iter().rev().map(|v| -v).collect();
    let clip = normal_clip();
    x.map_rows_into(out, m, |input, output| {
        for (row, out) in input
            .chunks_exact(m.max(1))
            .zip(output.chunks_exact_mut(m.max(1)))
        {
            for ((o, &v), c) in out.iter_mut().zip(row).zip(&cols) {
                let v = v.to_f64();
                let y = if inverse {
                    backward(v, c, references, normal)
                } else {
                    forward(v, c, references, &neg_refs_rev, normal, clip)
                };
                *o = T::from_f64(y);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Mat;

    #[test]
    fn interp_like_numpy() {
        let xp = [0.0, 1.0, 1.0, 3.0];
        let fp = [0.0, 0.25, 0.5, 1.0];
        assert_eq!(interp(-1.0, &xp, &fp), 0.0);
        assert_eq!(interp(1.0, &xp, &fp), 0.5); // the last of the repeated xp
        assert_eq!(interp(2.0, &xp, &fp), 0.75);
        assert_eq!(interp(5.0, &xp, &fp), 1.0);
        assert!(interp(f64::NAN, &xp, &fp).is_nan());
    }

    #[test]
    fn uniform_round_trip() {
        let quantiles = [0.0, 10.0, 20.0];
        let q = MatRef::new(&quantiles, 3, 1).expect("shape");
        let refs = [0.0, 0.5, 1.0];
        let data = [5.0f64, 10.0, 20.0, f64::NAN];
        let x = MatRef::new(&data, 4, 1).expect("shape");
        let y = Mat::build(4, 1, |o| quantile_transform(x, q, &refs, false, false, o)).expect("ok");
        assert_eq!(&y.data[..3], &[0.25, 0.5, 1.0]);
        assert!(y.data[3].is_nan());
        let y = MatRef::new(&y.data, 4, 1).expect("shape");
        let back =
            Mat::build(4, 1, |o| quantile_transform(y, q, &refs, false, true, o)).expect("ok");
        assert_eq!(&back.data[..3], &data[..3]);
    }

    #[test]
    fn unsorted_quantiles_are_refused() {
        let quantiles = [1.0, 0.0];
        let q = MatRef::new(&quantiles, 2, 1).expect("shape");
        let x = MatRef::new(&[0.0f64], 1, 1).expect("shape");
        let mut out = [0.0];
        assert!(quantile_transform(x, q, &[0.0, 1.0], false, false, &mut out).is_err());
    }
}
