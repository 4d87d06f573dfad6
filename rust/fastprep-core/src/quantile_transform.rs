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
use crate::parallel::{map_items, max_threads};
use crate::sparse::{CsrIndex, CsrRef};
use crate::special::{ndtr, ndtri, ndtri_slice};

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

/// A quantile with its reference and the slope to the next: what the fast forward path reads,
/// the two knots of a segment side by side.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(32))]
struct Knot {
    q: f64,
    r: f64,
    slope: f64,
}

/// Stands before the first knot and after the last: its NaN fails every bracket.
const NO_KNOT: Knot = Knot {
    q: f64::NAN,
    r: f64::NAN,
    slope: f64::NAN,
};

/// Bucket starts as indices into `knots`: 16-bit up to 65,534 quantiles (sklearn's default is
/// 1,000), halving the table that every lookup reads at random.
#[derive(Clone, Debug)]
enum Grid {
    Narrow(Vec<u16>),
    Wide(Vec<u32>),
}

/// Fitted quantiles of one column, indexed for the forward pass.
///
/// The forward map needs, for a value `x`, `lo` (the first quantile `>= x`) and `hi` (one past
/// the last quantile `<= x`): np.interp going up interpolates at `hi - 1`, and going down (on the
/// negated, reversed arrays) at `lo`. A grid of buckets over the quantile range narrows `lo` to
/// the few quantiles of one bucket; `run_end` skips runs of repeated quantiles.
///
/// The batch path ([`Column::forward_batch`]) searches a bucket without a data-dependent branch
/// (the same halving steps for every value of the column, enough for its fullest bucket), as a
/// mispredicted branch per value cost more than the rest of the lookup.
#[derive(Clone, Debug)]
struct Column {
    q: Vec<f64>,
    /// Last index of the run of quantiles equal to `q[i]`.
    run_end: Vec<u32>,
    /// `knots[i + 1]` is quantile `i`; `NO_KNOT` before them, and after them as many as the
    /// search can step past the last one.
    knots: Vec<Knot>,
    /// `knots[k].q`, what the search reads: 8 bytes a quantile, where `knots` takes 32.
    knot_q: Vec<f64>,
    /// `grid[b] - 1 .. grid[b + 1] - 1`: the quantiles whose bucket is `b` (`grid` holds
    /// indices into `knots`).
    grid: Grid,
    /// The first step of the branch-free search: the largest power of two not above the most
    /// quantiles one bucket holds (0 when no bucket holds more than none).
    top_step: usize,
    /// Number of the last bucket (`x == q[n - 1]` falls in it).
    last_bucket: usize,
    inv_width: f64,
}

impl Column {
    fn new(q: Vec<f64>, refs: &[f64]) -> Self {
        let n = q.len();
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
            run_end,
            knots: Vec::new(),
            knot_q: Vec::new(),
            grid: Grid::Narrow(Vec::new()),
            top_step: 0,
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
            *g = i as u32 + 1;
        }
        let fullest = grid.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0) as usize;
        column.top_step = if fullest == 0 {
            0
        } else {
            1 << fullest.ilog2()
        };
        let q = &column.q;
        let knots = (0..n).map(|i| Knot {
            q: q[i],
            r: refs[i],
            // np.interp's slope, for both directions.
            slope: match q.get(i + 1) {
                Some(&next) => (refs[i + 1] - refs[i]) / (next - q[i]),
                None => f64::NAN,
            },
        });
        column.knots = std::iter::once(NO_KNOT).chain(knots).collect();
        column.knots.resize(1 + n + 2 * column.top_step, NO_KNOT);
        column.knot_q = column.knots.iter().map(|k| k.q).collect();
        column.grid = match grid.iter().map(|&g| u16::try_from(g)).collect() {
            Ok(narrow) => Grid::Narrow(narrow),
            Err(_) => Grid::Wide(grid),
        };
        column
    }

    /// The index into `knots` of the first quantile `>= x`, for `q[0] <= x <= q[n-1]`, except
    /// that `-0.0` counts as below `+0.0`: callers check that the knots before and at the
    /// result bracket `x`.
    ///
    /// The result lies at most `fullest < 2 * top_step` past `grid[b]`; halving steps from
    /// `top_step` down add up to any offset below `2 * top_step`. Whether a step is taken is
    /// the sign of `q - x`, not a comparison, which LLVM compiles into a branch here. For any
    /// `x` (NaN, outside the quantiles) the result stays inside `knots`.
    #[inline(always)]
    fn search<G: Copy + Into<u32>>(&self, grid: &[G], x: f64, top_step: usize) -> usize {
        let mut k = grid[self.bucket(x)].into() as usize;
        let mut step = top_step;
        while step > 0 {
            let below = ((self.knot_q[k + step - 1] - x).to_bits() >> 63) as usize;
            k += step & below.wrapping_neg();
            step >>= 1;
        }
        k
    }

    /// np.interp's slope from quantile `i` to `i + 1`.
    #[inline(always)]
    fn slope(&self, i: usize) -> f64 {
        self.knots[i + 1].slope
    }

    /// Monotone non-decreasing in `x` (for `q[0] <= x <= q[n-1]`).
    #[inline(always)]
    fn bucket(&self, x: f64) -> usize {
        // Saturating and NaN-safe; to i64, which x86 converts in one instruction (to u64 it
        // takes a dozen).
        let b = ((x - self.q[0]) * self.inv_width) as i64;
        b.clamp(0, self.last_bucket as i64) as usize
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
        let (from, to) = match &self.grid {
            Grid::Narrow(g) => (usize::from(g[b]), usize::from(g[b + 1])),
            Grid::Wide(g) => (g[b] as usize, g[b + 1] as usize),
        };
        let (from, to) = (from - 1, to - 1);
        // (Values strictly between two quantiles take `bracketed` before they get here.)
        let lo = from + q[from..to].partition_point(|&e| e < x);
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
            let s = self.slope(j);
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
        // exactly slope(lo - 1) and its terms are exact negations of these.
        let down = if lo == 0 || q[lo] == x {
            -r[lo]
        } else {
            let s = self.slope(lo - 1);
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

/// Values mapped per call of [`Column::forward_batch`]: its search results stay on the stack.
const BATCH: usize = 256;
/// Rows per transposed tile in `quantile_transform`.
const TILE: usize = 2048;

/// The forward map up to the uniform output (before `ndtri` for a normal one).
fn to_uniform(v: f64, c: &Column, refs: &[f64], normal: bool) -> f64 {
    if v.is_nan() {
        return f64::NAN;
    }
    match c.pinned(v, normal) {
        Some(y) => y,
        None => c.interp_both_ways(v, refs),
    }
}

/// `ndtri`, then np.clip (NaN passes through).
#[inline]
fn to_normal(y: f64, clip: (f64, f64)) -> f64 {
    let z = ndtri(y);
    let z = if z < clip.0 { clip.0 } else { z };
    if z > clip.1 {
        clip.1
    } else {
        z
    }
}

impl Column {
    /// scikit-learn's pinning of values at (or, for a normal output, within `BOUNDS_THRESHOLD`
    /// of) the extreme quantiles to 0 or 1; `None` for the values it interpolates.
    #[inline(always)]
    fn pinned(&self, v: f64, normal: bool) -> Option<f64> {
        let (first, last) = (self.q[0], self.q[self.q.len() - 1]);
        let (lower, upper) = if normal {
            (v - BOUNDS_THRESHOLD < first, v + BOUNDS_THRESHOLD > last)
        } else {
            (v == first, v == last)
        };
        if lower {
            Some(0.0)
        } else if upper {
            Some(1.0)
        } else {
            None
        }
    }

    /// The forward map at `x` up to the uniform output, from the knots before and at `k` (a
    /// `search` result) when they bracket `x` (which proves `k`: a NaN knot before the first
    /// quantile and after the last fails this) and, for a normal output, `x` is not pinned;
    /// NaN otherwise. `&`, not `&&`: one branch, not four.
    #[inline(always)]
    fn bracketed(&self, x: f64, k: usize, normal: bool) -> f64 {
        let (a, b) = (self.knots[k - 1], self.knots[k]);
        let mut take = (a.q < x) & (x < b.q);
        if normal {
            let (first, last) = (self.q[0], self.q[self.q.len() - 1]);
            take &= (x - BOUNDS_THRESHOLD >= first) & (x + BOUNDS_THRESHOLD <= last);
        }
        if !take {
            return f64::NAN;
        }
        let up = a.slope * (x - a.q) + a.r;
        let down = a.slope * (b.q - x) - b.r;
        0.5 * (up - down)
    }

    /// `forward` of one value, through the batch path's search and bracket first (for the
    /// compiled plan, which maps a row at a time).
    fn forward_one(&self, x: f64, refs: &[f64], normal: bool, clip: (f64, f64)) -> f64 {
        let k = match &self.grid {
            Grid::Narrow(grid) => self.search(grid, x, self.top_step),
            Grid::Wide(grid) => self.search(grid, x, self.top_step),
        };
        let y = self.bracketed(x, k, normal);
        let y = if y.is_nan() {
            to_uniform(x, self, refs, normal)
        } else {
            y
        };
        if normal {
            to_normal(y, clip)
        } else {
            y
        }
    }

    /// `search` of each of `values` into `found`.
    #[inline(always)]
    fn search_batch(&self, values: &[f64], found: &mut [u32; BATCH], top_step: usize) {
        match &self.grid {
            Grid::Narrow(grid) => {
                for (k, &x) in found.iter_mut().zip(values) {
                    *k = self.search(grid, x, top_step) as u32;
                }
            }
            Grid::Wide(grid) => {
                for (k, &x) in found.iter_mut().zip(values) {
                    *k = self.search(grid, x, top_step) as u32;
                }
            }
        }
    }

    /// `forward` of each of `values` (at most `BATCH`), in place.
    ///
    /// All the searches run first, in a loop whose iterations do not depend on each other, so
    /// the CPU overlaps their table reads; the interpolations follow. A value strictly between
    /// two quantiles (nearly all of them) takes the two-line path of `interp_both_ways`; the
    /// rest go through `forward` itself.
    fn forward_batch(&self, values: &mut [f64], refs: &[f64], normal: bool, clip: (f64, f64)) {
        let mut found = [0u32; BATCH];
        // The common step counts unrolled (a constant `top_step`).
        match self.top_step {
            1 => self.search_batch(values, &mut found, 1),
            2 => self.search_batch(values, &mut found, 2),
            4 => self.search_batch(values, &mut found, 4),
            top_step => self.search_batch(values, &mut found, top_step),
        }
        for (y, &k) in values.iter_mut().zip(&found) {
            let value = self.bracketed(*y, k as usize, normal);
            *y = if value.is_nan() {
                to_uniform(*y, self, refs, normal)
            } else {
                value
            };
        }
        if normal {
            ndtri_slice(values);
            // np.clip (NaN passes through).
            for z in values.iter_mut() {
                *z = if *z < clip.0 { clip.0 } else { *z };
                *z = if *z > clip.1 { clip.1 } else { *z };
            }
        }
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
            Some(c) => c.forward_one(v, &self.references, self.normal, self.clip),
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
        // A tile of rows is transposed into `values` (a run of `stride` per column), mapped
        // column by column, and transposed back. Reads and writes of the row-major data stay
        // sequential; each column's values reach its kernel contiguous, and its tables stay in
        // L1 for a whole run. The stride is kept off multiples of 4 KiB, where the runs would
        // contend for the same L1 sets.
        if m == 0 || input.is_empty() {
            return;
        }
        let tile = TILE.min(input.len() / m);
        let mut stride = tile + 8;
        if (stride * 8).is_multiple_of(4096) {
            stride += 8;
        }
        let mut values = vec![0.0; stride * m];
        for (rows_in, rows_out) in input.chunks(tile * m).zip(output.chunks_mut(tile * m)) {
            let len = rows_in.len() / m;
            for (r, row) in rows_in.chunks_exact(m).enumerate() {
                for (j, &v) in row.iter().enumerate() {
                    values[j * stride + r] = v.to_f64();
                }
            }
            for (c, column) in cols.iter().zip(values.chunks_exact_mut(stride)) {
                for batch in column[..len].chunks_mut(BATCH) {
                    match c {
                        None => batch.fill(f64::NAN),
                        Some(c) if inverse => {
                            for x in batch.iter_mut() {
                                *x = backward(*x, c, references, normal);
                            }
                        }
                        Some(c) => c.forward_batch(batch, references, normal, clip),
                    }
                }
            }
            for (r, row) in rows_out.chunks_exact_mut(m).enumerate() {
                for (j, o) in row.iter_mut().enumerate() {
                    *o = T::from_f64(values[j * stride + r]);
                }
            }
        }
    })
}

/// `quantile_transform` of a CSR matrix's stored values (its implicit zeros stay zeros, as
/// scikit-learn's sparse transform leaves them): the new stored values in `out`.
pub fn quantile_transform_csr<T: Element, I: CsrIndex>(
    x: CsrRef<'_, T, I>,
    quantiles: MatRef<'_, f64>,
    references: &[f64],
    normal: bool,
    inverse: bool,
    out: &mut [T],
) -> Result<()> {
    let cols = columns(quantiles, references, x.cols())?;
    if out.len() != x.data().len() {
        return Err(Error::Shape(
            "output length differs from the stored values".into(),
        ));
    }
    let clip = normal_clip();
    // Column by column, as the dense kernel maps them: the stored values moved into one run
    // per column (each run is written and read in order, so the heads of all runs stay in
    // cache), each run mapped with its column's tables hot, then read back in stored order.
    let m = x.cols();
    let mut starts = vec![0usize; m + 1];
    for j in x.columns() {
        starts[j + 1] += 1;
    }
    for j in 0..m {
        starts[j + 1] += starts[j];
    }
    let mut runs = vec![0.0f64; x.data().len()];
    let mut next = starts.clone();
    for (&v, j) in x.data().iter().zip(x.columns()) {
        runs[next[j]] = v.to_f64();
        next[j] += 1;
    }
    let mut pieces: Vec<(usize, &mut [f64])> = Vec::with_capacity(m);
    let mut rest = runs.as_mut_slice();
    for j in 0..m {
        let (run, tail) = rest.split_at_mut(starts[j + 1] - starts[j]);
        pieces.push((j, run));
        rest = tail;
    }
    let parallel = max_threads() > 1 && m > 1 && x.data().len() >= 1 << 16;
    map_items(pieces, parallel, |(j, run)| {
        for batch in run.chunks_mut(BATCH) {
            match &cols[j] {
                None => batch.fill(f64::NAN),
                Some(c) if inverse => {
                    for v in batch.iter_mut() {
                        *v = backward(*v, c, references, normal);
                    }
                }
                Some(c) => c.forward_batch(batch, references, normal, clip),
            }
        }
    });
    next.copy_from_slice(&starts);
    for (o, j) in out.iter_mut().zip(x.columns()) {
        *o = T::from_f64(runs[next[j]]);
        next[j] += 1;
    }
    Ok(())
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

    /// The forward map by the general code alone: the oracle of the fast paths.
    fn forward(v: f64, c: &Column, refs: &[f64], normal: bool, clip: (f64, f64)) -> f64 {
        let y = to_uniform(v, c, refs, normal);
        if normal {
            to_normal(y, clip)
        } else {
            y
        }
    }

    /// The neighbour of finite `v` towards `direction` (`f64::next_up` needs Rust 1.86).
    fn step(v: f64, direction: f64) -> f64 {
        if v == 0.0 {
            return direction * f64::from_bits(1);
        }
        let away = (v > 0.0) == (direction > 0.0);
        f64::from_bits(if away {
            v.to_bits() + 1
        } else {
            v.to_bits() - 1
        })
    }

    /// Values for the batch path: every quantile, both zeros, the values just beside each
    /// quantile, points inside each segment, NaN, infinities and the range's outside.
    fn probes(q: &[f64]) -> Vec<f64> {
        let mut xs = vec![
            0.0,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -1e300,
            1e300,
        ];
        for w in q.windows(2) {
            xs.extend([w[0], step(w[0], 1.0), step(w[0], -1.0), w[1]]);
            xs.extend((1..4).map(|i| w[0] + (w[1] - w[0]) * i as f64 / 4.0));
        }
        xs
    }

    /// `forward_batch` and `forward_one` (the branch-free search and the fast path) equal
    /// the general code, value by value, bit for bit, for uniform and normal output.
    fn assert_batch_matches(q: Vec<f64>) {
        let (xs, refs) = (probes(&q), references(q.len()));
        assert_batch_matches_at(&Column::new(q, &refs), &xs);
    }

    /// Evenly spaced references for `n` quantiles.
    fn references(n: usize) -> Vec<f64> {
        (0..n).map(|i| i as f64 / (n - 1).max(1) as f64).collect()
    }

    fn assert_batch_matches_at(column: &Column, xs: &[f64]) {
        let refs = references(column.q.len());
        let clip = normal_clip();
        for normal in [false, true] {
            for chunk in xs.chunks(BATCH) {
                let mut batch = chunk.to_vec();
                column.forward_batch(&mut batch, &refs, normal, clip);
                for (&x, &y) in chunk.iter().zip(&batch) {
                    let expected = forward(x, column, &refs, normal, clip);
                    assert_eq!(y.to_bits(), expected.to_bits(), "{x} (normal: {normal})");
                    let one = column.forward_one(x, &refs, normal, clip);
                    assert_eq!(one.to_bits(), expected.to_bits(), "one {x} ({normal})");
                }
            }
        }
    }

    #[test]
    fn batch_matches_value_by_value() {
        // Repeated quantiles, both zeros, a long run in one bucket.
        assert_batch_matches(vec![-3.0, -0.0, 0.0, 0.0, 1.5, 1.5, 2.0, 7.0, 1e6]);
        assert_batch_matches(vec![-1.0, -0.0, -0.0, 0.0, 1.0]);
        assert_batch_matches(vec![2.0, 2.0, 2.0]);
        assert_batch_matches(vec![5.0]);
        // Crowded buckets: a heavy tail leaves most quantiles in the first bucket, so the
        // search takes the general (not unrolled) step count.
        let heavy: Vec<f64> = (0..300).map(|i| (i as f64 / 20.0).exp()).collect();
        assert!(Column::new(heavy.clone(), &[0.0; 300]).top_step > 4);
        assert_batch_matches(heavy);
    }

    #[test]
    fn wide_grid_matches_value_by_value() {
        // Bucket starts past 16 bits.
        let mut q: Vec<f64> = (0..70_000).map(|i| (i as f64 * 0.37).sin() * 1e3).collect();
        q.sort_by(f64::total_cmp);
        let column = Column::new(q.clone(), &references(q.len()));
        assert!(matches!(column.grid, Grid::Wide(_)));
        let xs: Vec<f64> = q
            .iter()
            .step_by(7)
            .flat_map(|&v| [v, step(v, 1.0)])
            .collect();
        assert_batch_matches_at(&column, &xs);
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
