//! Per-column statistics of one batch: the input of every moment-based fit accumulator.
//!
//! Policy: NaN is disregarded (counted in `nan_count`, excluded from every other statistic).
//! Infinities are included as values, so `min`/`max` show them and the caller can refuse them.
//! The sum of squared deviations (`m2`) uses the corrected two-pass algorithm (Chan, Golub &
//! LeVeque): `Σd² - (Σd)²/n` with `d = x - mean` cancels the rounding error of the mean, so a
//! constant column gets exactly 0, as in scikit-learn.

use crate::matrix::{Element, MatRef};

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

/// Count, NaN count, mean, m2, min and max of every column, skipping NaN. A zero extreme is
/// always `0.0`, never `-0.0`.
pub fn column_stats<T: Element>(x: MatRef<'_, T>) -> ColumnStats {
    let m = x.cols();
    let mut count = vec![0u64; m];
    let mut sum = vec![0.0f64; m];
    let mut min = vec![f64::INFINITY; m];
    let mut max = vec![f64::NEG_INFINITY; m];
    // Row-major data: walk rows and update one accumulator per column, branch-free so the
    // inner loop vectorises.
    for row in x.row_iter() {
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
    for row in x.row_iter() {
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
        // -0.0 and 0.0 compare equal, so which one a scan keeps depends on the order;
        // `+ 0.0` makes the extremes' zero always 0.0.
        min[j] += 0.0;
        max[j] += 0.0;
        if count[j] == 0 {
            min[j] = f64::NAN;
            max[j] = f64::NAN;
            m2[j] = 0.0;
        }
    }
    let nan_count = count.iter().map(|&c| x.rows() as u64 - c).collect();
    ColumnStats {
        count,
        nan_count,
        mean,
        m2,
        min,
        max,
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
