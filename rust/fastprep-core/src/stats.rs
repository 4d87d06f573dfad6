//! Per-column statistics of one batch: the input of every moment-based fit accumulator.
//!
//! Policy: NaN is disregarded (counted in `nan_count`, excluded from every other statistic).
//! Infinities are included as values, so `min`/`max` show them and the caller can refuse them.
//! Within a block of rows, the sum of squared deviations (`m2`) uses the corrected two-pass
//! algorithm (Chan, Golub & LeVeque): `Σd² - (Σd)²/n` with `d = x - mean` cancels the rounding
//! error of the mean, so a constant column gets exactly 0, as in scikit-learn; blocks merge
//! with Chan's pairwise update.

use rayon::prelude::*;

use crate::matrix::{Element, MatRef};
use crate::parallel::{max_threads, PARALLEL_MIN_CELLS};

/// Statistics of one batch, one entry per column.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnStats {
    /// Non-NaN values seen.
    pub count: Vec<u64>,
    /// NaN values seen.
    pub nan_count: Vec<u64>,
    /// Mean of the non-NaN values; NaN when `count` is 0.
    pub mean: Vec<f64>,
    /// Sum of squared deviations from `mean`; 0 when `count` is 0.
    pub m2: Vec<f64>,
    /// Smallest non-NaN value; NaN when `count` is 0.
    pub min: Vec<f64>,
    /// Largest non-NaN value; NaN when `count` is 0.
    pub max: Vec<f64>,
}

/// Rows per block: a block of a few hundred KB stays in cache between the two passes, so the
/// data is read from memory once. Fixed, so that the result does not depend on the thread count.
const BLOCK_ROWS: usize = 2048;

/// Count, NaN count, mean, m2, min and max of every column, skipping NaN. A zero extreme is
/// always `0.0`, never `-0.0`. Blocks of rows are summarised (in parallel for large inputs) and
/// merged in order with Chan's formula.
pub fn column_stats<T: Element>(x: MatRef<'_, T>) -> ColumnStats {
    let m = x.cols();
    let empty = ColumnStats::empty(m);
    if m == 0 || x.rows() == 0 {
        return empty;
    }
    let block = BLOCK_ROWS * m;
    let merge_all = |blocks: Vec<ColumnStats>| blocks.iter().fold(empty.clone(), |a, b| a.merge(b));
    let mut stats = if x.data().len() >= PARALLEL_MIN_CELLS && max_threads() != 1 {
        merge_all(
            x.data()
                .par_chunks(block)
                .map(|b| block_stats(b, m))
                .collect(),
        )
    } else {
        merge_all(x.data().chunks(block).map(|b| block_stats(b, m)).collect())
    };
    // -0.0 and 0.0 compare equal, so which one a scan keeps depends on the order;
    // `+ 0.0` makes the extremes' zero always 0.0.
    for v in stats.min.iter_mut().chain(stats.max.iter_mut()) {
        *v += 0.0;
    }
    stats
}

/// The statistics of one block of whole rows (two passes over cached data).
fn block_stats<T: Element>(data: &[T], m: usize) -> ColumnStats {
    let rows = data.len() / m;
    let mut count = vec![0u64; m];
    let mut sum = vec![0.0f64; m];
    let mut min = vec![f64::INFINITY; m];
    let mut max = vec![f64::NEG_INFINITY; m];
    // Row-major data: walk rows and update one accumulator per column, branch-free so the
    // inner loop vectorises.
    for row in data.chunks_exact(m) {
        for j in 0..m {
            let v = row[j].to_f64();
            let ok = !v.is_nan();
            count[j] += ok as u64;
            sum[j] += if ok { v } else { 0.0 };
            // Comparisons with NaN are false, so NaN never replaces a bound.
            min[j] = if v < min[j] { v } else { min[j] };
            max[j] = if v > max[j] { v } else { max[j] };
        }
    }
    let mean: Vec<f64> = (0..m)
        .map(|j| {
            if count[j] == 0 {
                f64::NAN
            } else {
                sum[j] / count[j] as f64
            }
        })
        .collect();
    let mut sum_d = vec![0.0f64; m];
    let mut m2 = vec![0.0f64; m];
    for row in data.chunks_exact(m) {
        for j in 0..m {
            let d = row[j].to_f64() - mean[j];
            let ok = !d.is_nan();
            sum_d[j] += if ok { d } else { 0.0 };
            m2[j] += if ok { d * d } else { 0.0 };
        }
    }
    for j in 0..m {
        // Mathematically non-negative; rounding must not make a variance negative.
        m2[j] = (m2[j] - sum_d[j] * sum_d[j] / count[j] as f64).max(0.0);
        if count[j] == 0 {
            min[j] = f64::NAN;
            max[j] = f64::NAN;
            m2[j] = 0.0;
        }
    }
    let nan_count = count.iter().map(|&c| rows as u64 - c).collect();
    ColumnStats {
        count,
        nan_count,
        mean,
        m2,
        min,
        max,
    }
}

impl ColumnStats {
    /// No rows seen yet.
    pub fn empty(m: usize) -> Self {
        ColumnStats {
            count: vec![0; m],
            nan_count: vec![0; m],
            mean: vec![f64::NAN; m],
            m2: vec![0.0; m],
            min: vec![f64::NAN; m],
            max: vec![f64::NAN; m],
        }
    }

    /// The statistics of both operands' rows: Chan, Golub & LeVeque's pairwise update for the
    /// moments (the same formula as `fastprep.accumulators.Moments.merge`), exact for the rest.
    /// An empty side is the identity.
    pub fn merge(&self, other: &ColumnStats) -> ColumnStats {
        let mut out = self.clone();
        for j in 0..self.count.len() {
            let (na, nb) = (self.count[j] as f64, other.count[j] as f64);
            if nb > 0.0 && na == 0.0 {
                out.mean[j] = other.mean[j];
                out.m2[j] = other.m2[j];
            } else if nb > 0.0 {
                let n = na + nb;
                let delta = other.mean[j] - self.mean[j];
                out.mean[j] = self.mean[j] + delta * (nb / n);
                out.m2[j] = self.m2[j] + other.m2[j] + delta * delta * (na * nb / n);
            }
            out.count[j] += other.count[j];
            out.nan_count[j] += other.nan_count[j];
            out.min[j] = self.min[j].min(other.min[j]); // f64::min ignores NaN, as np.fmin
            out.max[j] = self.max[j].max(other.max[j]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_nan_and_computes_moments() {
        let data = [1.0, f64::NAN, 3.0, 2.0, 5.0, f64::NAN];
        let s = column_stats(MatRef::new(&data, 3, 2).expect("shape"));
        assert_eq!(s.count, vec![3, 1]);
        assert_eq!(s.nan_count, vec![0, 2]);
        assert_eq!(s.mean, vec![3.0, 2.0]);
        assert_eq!(s.m2, vec![8.0, 0.0]);
        assert_eq!(s.min, vec![1.0, 2.0]);
        assert_eq!(s.max, vec![5.0, 2.0]);
    }

    #[test]
    fn blocks_merge_to_the_same_statistics() {
        let data: Vec<f64> = (0..20_000)
            .map(|i| ((i * 7919) % 1000) as f64 / 7.0)
            .collect();
        let whole = column_stats(MatRef::new(&data, 10_000, 2).expect("shape"));
        let half = 10_000;
        let a = column_stats(MatRef::new(&data[..half], 5_000, 2).expect("shape"));
        let b = column_stats(MatRef::new(&data[half..], 5_000, 2).expect("shape"));
        let merged = a.merge(&b);
        assert_eq!(merged.count, whole.count);
        assert_eq!(merged.min, whole.min);
        for j in 0..2 {
            assert!((merged.mean[j] - whole.mean[j]).abs() < 1e-12 * whole.mean[j].abs());
            assert!((merged.m2[j] - whole.m2[j]).abs() < 1e-9 * whole.m2[j].abs());
        }
    }

    #[test]
    fn empty_columns_have_nan_bounds() {
        let data: [f32; 0] = [];
        let s = column_stats(MatRef::new(&data, 0, 2).expect("shape"));
        assert_eq!(s.count, vec![0, 0]);
        assert!(s
            .mean
            .iter()
            .chain(&s.min)
            .chain(&s.max)
            .all(|v| v.is_nan()));
    }
}
