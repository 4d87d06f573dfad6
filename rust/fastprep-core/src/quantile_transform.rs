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

/// Fitted quantiles of one column, indexed for the forward pass.
///
/// The forward map needs, for a value `x`, `lo` (the first quantile `>= x`) and `hi` (one past
/// the last quantile `<= x`): np.interp going up interpolates at `hi - 1`, and going down (on the
/// negated, reversed arrays) at `lo`. A grid of buckets over the quantile range finds `lo` with a
/// search over the few quantiles of one bucket; `run_end` skips runs of repeated quantiles.
#[derive(Clone, Debug)]
struct Column {
    q: Vec<f64>,
    /// `(r[i + 1] - r[i]) / (q[i + 1] - q[i])`, np.interp's slope for both directions.
    slopes: Vec<f64>,
    /// Last index of the run of quantiles equal to `q[i]`.
    run_end: Vec<u32>,
    /// `grid[b]..grid[b + 1]`: the quantiles whose bucket is `b` (u32 keeps the tables in L1).
    grid: Vec<u32>,
    /// Number of the last bucket (`x == q[n - 1]` falls in it).
    last_bucket: usize,
    inv_width: f64,
}

impl Column {
    fn new(q: Vec<f64>, refs: &[f64]) -> Self {
        let n = q.len();
        let slopes = (0..n.saturating_sub(1))
            .map(|i| (refs[i + 1] - refs[i]) / (q[i + 1] - q[i]))
            .collect();
        // Quantile counts are far below u32::MAX (they come from n_quantiles).
        let mut run_end = vec![0u32; n];
        for i in (0..n).rev() {
            run_end[i] = if i + 1 < n && q[i + 1] == q[i] {
                run_end[i + 1]
            } else {
                i as u32
            };
        }
        let buckets = 4 * n;
        let span = q[n - 1] - q[0];
        let inv_width = if span > 0.0 && span.is_finite() {
            buckets as f64 / span
        } else {
            0.0
        };
        let mut column = Column {
            q,
            slopes,
            run_end,
            grid: Vec::new(),
            last_bucket: buckets,
            inv_width,
        };
        // bucket() is monotone in x, so the quantiles of bucket b form one contiguous range.
        let mut grid = vec![0u32; buckets + 2];
        let mut i = 0;
        for (b, g) in grid.iter_mut().enumerate() {
            while i < n && column.bucket(column.q[i]) < b {
                i += 1;
            }
            *g = i as u32;
        }
        column.grid = grid;
        column
    }

    /// Monotone non-decreasing in `x` (for `q[0] <= x <= q[n-1]`).
    #[inline(always)]
    fn bucket(&self, x: f64) -> usize {
        let b = ((x - self.q[0]) * self.inv_width) as usize; // saturating cast; NaN is excluded
        b.min(self.last_bucket)
    }

    /// `0.5 * (np.interp(x, q, r) - np.interp(-x, -q[::-1], -r[::-1]))`, bit for bit.
    #[inline]
    fn interp_both_ways(&self, x: f64, r: &[f64]) -> f64 {
        let (q, n) = (&self.q, self.q.len());
        if n == 1 {
            return 0.5 * (r[0] - -r[0]);
        }
        if x > q[n - 1] {
            return 0.5 * (r[n - 1] - -r[n - 1]);
        }
        if x < q[0] {
            return 0.5 * (r[0] - -r[0]);
        }
        let b = self.bucket(x);
        let (from, to) = (self.grid[b] as usize, self.grid[b + 1] as usize);
        let lo = from + q[from..to].partition_point(|&e| e < x);
        // The common case: x strictly between two quantiles, q[lo - 1] < x < q[lo]. Both
        // directions then interpolate on that one segment, with the same slope (the general
        // code below reduces to these two lines).
        if lo > 0 && lo < n && q[lo] != x {
            let s = self.slopes[lo - 1];
            let up = s * (x - q[lo - 1]) + r[lo - 1];
            let down = s * (q[lo] - x) - r[lo];
            if !up.is_nan() && !down.is_nan() {
                return 0.5 * (up - down);
            }
        }
        let hi = if lo < n && q[lo] == x {
            self.run_end[lo] as usize + 1
        } else {
            lo
        };
        // Going up: np.interp at j = hi - 1 (hi >= 1 since x >= q[0]).
        let j = hi - 1;
        let up = if j == n - 1 || q[j] == x {
            r[j]
        } else {
            let s = self.slopes[j];
            let y = s * (x - q[j]) + r[j];
            if !y.is_nan() {
                y
            } else {
                let y = s * (x - q[j + 1]) + r[j + 1];
                if y.is_nan() && r[j] == r[j + 1] {
                    r[j]
                } else {
                    y
                }
            }
        };
        // Going down: np.interp on (-q[::-1], -r[::-1]) at j' = n - 1 - lo; its slope is
        // exactly slopes[lo - 1] and its terms are exact negations of these.
        let down = if lo == 0 || q[lo] == x {
            -r[lo]
        } else {
            let s = self.slopes[lo - 1];
            let y = s * (q[lo] - x) - r[lo];
            if !y.is_nan() {
                y
            } else {
                let y = s * (q[lo - 1] - x) - r[lo - 1];
                if y.is_nan() && r[lo] == r[lo - 1] {
                    -r[lo]
                } else {
                    y
                }
            }
        };
        0.5 * (up - down)
    }
}

/// Non-decreasing and free of NaN (a NaN fails every comparison).
fn is_sorted(v: &[f64]) -> bool {
    v.iter().all(|x| !x.is_nan()) && v.windows(2).all(|w| w[0] <= w[1])
}

/// Checks the state and indexes every column of the `n_quantiles × cols` matrix; `None` for a
/// column whose quantiles are all NaN (no value at fit).
fn columns(
    quantiles: MatRef<'_, f64>,
    references: &[f64],
    cols: usize,
) -> Result<Vec<Option<Column>>> {
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
    if references.len() >= u32::MAX as usize / 4 {
        return Err(Error::Parameter("too many quantiles per column".into()));
    }
    (0..cols)
        .map(|j| {
            let q: Vec<f64> = quantiles.row_iter().map(|row| row[j]).collect();
            if q.iter().all(|v| v.is_nan()) {
                return Ok(None);
            }
            if !is_sorted(&q) {
                return Err(Error::Parameter(format!(
                    "quantiles of column {j} must be sorted and not NaN"
                )));
            }
            Ok(Some(Column::new(q, references)))
        })
        .collect()
}

fn forward(v: f64, c: &Column, refs: &[f64], normal: bool, clip: (f64, f64)) -> f64 {
    let (first, last) = (c.q[0], c.q[c.q.len() - 1]);
    if v.is_nan() {
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
        c.interp_both_ways(v, refs)
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
    if v.is_nan() {
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

/// A fitted quantile transform indexed once (each column's bucket grid built), for the
/// compiled plan: its per-value map is the kernel's `forward`.
#[derive(Clone, Debug)]
pub struct Indexed {
    columns: Vec<Option<Column>>,
    references: Vec<f64>,
    normal: bool,
    clip: (f64, f64),
}

impl Indexed {
    /// `quantiles` is `n_quantiles × cols`; refused unless sorted and matching `references`.
    pub fn new(quantiles: MatRef<'_, f64>, references: &[f64], normal: bool) -> Result<Self> {
        let columns = columns(quantiles, references, quantiles.cols())?;
        Ok(Self {
            columns,
            references: references.to_vec(),
            normal,
            clip: normal_clip(),
        })
    }

    pub fn n_columns(&self) -> usize {
        self.columns.len()
    }

    /// The transform of value `v` of column `j` (as `quantile_transform`, forward).
    #[inline]
    pub fn forward(&self, j: usize, v: f64) -> f64 {
        match &self.columns[j] {
            None => f64::NAN,
            Some(c) => forward(v, c, &self.references, self.normal, self.clip),
        }
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
    let clip = normal_clip();
    x.map_rows_into(out, m, |input, output| {
        // Column by column within the (cache-resident) block, so that one column's quantile
        // tables stay in L1 while its values stream past.
        for (j, c) in cols.iter().enumerate() {
            let cells = input.iter().skip(j).step_by(m);
            let outs = output.iter_mut().skip(j).step_by(m);
            for (o, &v) in outs.zip(cells) {
                let v = v.to_f64();
                let y = match c {
                    None => f64::NAN,
                    Some(c) if inverse => backward(v, c, references, normal),
                    Some(c) => forward(v, c, references, normal, clip),
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

    /// The indexed forward pass equals the two np.interp calls it replaces.
    #[test]
    fn indexed_interpolation_matches_two_interps() {
        let refs: Vec<f64> = (0..9).map(|i| i as f64 / 8.0).collect();
        let q = vec![-3.0, 0.0, 0.0, 0.0, 1.5, 1.5, 2.0, 7.0, 1e6];
        let neg_q_rev: Vec<f64> = q.iter().rev().map(|v| -v).collect();
        let neg_r_rev: Vec<f64> = refs.iter().rev().map(|v| -v).collect();
        let column = Column::new(q.clone(), &refs);
        let mut x = -5.0;
        while x < 12.0 {
            for v in [x, 0.0, 1.5, -3.0, 1e6, 2.0, 7.0] {
                let expected = 0.5 * (interp(v, &q, &refs) - interp(-v, &neg_q_rev, &neg_r_rev));
                assert_eq!(
                    column.interp_both_ways(v, &refs).to_bits(),
                    expected.to_bits(),
                    "{v}"
                );
            }
            x += 0.0625;
        }
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
