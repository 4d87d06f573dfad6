//! Per-column statistics of one batch: the input of every moment-based fit accumulator.
//!
//! Policy: NaN is disregarded (counted in `nan_count`, excluded from every other statistic).
//! Infinities are included as values, so `min`/`max` show them and the caller can refuse them.
//! Within a block of rows, the sum of squared deviations (`m2`) uses the corrected two-pass
//! algorithm (Chan, Golub & LeVeque): `Σd² - (Σd)²/n` with `d = x - mean` cancels the rounding
//! error of the mean, so a constant column gets exactly 0, as in scikit-learn; blocks merge
//! with Chan's pairwise update.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::matrix::{Element, MatRef};
use crate::parallel::{max_threads, PARALLEL_MIN_CELLS};
use crate::sparse::{CsrIndex, CsrRef};

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
///
/// Columns are taken in groups (8, then 4, then 1 at a time), each group's accumulators held in
/// registers for a walk down the block, so no accumulator goes through memory per row. The
/// AVX2 build and the portable one do the same operations in the same order, column by column
/// and row by row, so they give the same bits.
fn block_stats<T: Element>(data: &[T], m: usize) -> ColumnStats {
    let rows = data.len() / m;
    let mut s = ColumnStats::empty(m);
    let mut j = 0;
    #[cfg(target_arch = "x86_64")]
    if crate::simd::has_avx2_fma() {
        while m - j >= 4 {
            // SAFETY: the CPU has AVX2 (checked above); the group's columns are in bounds.
            j += unsafe {
                if m - j >= 8 {
                    avx2::group_stats::<T, 2>(data, m, j, &mut s)
                } else {
                    avx2::group_stats::<T, 1>(data, m, j, &mut s)
                }
            };
        }
    }
    while j < m {
        j += match m - j {
            8.. => group_stats::<T, 8>(data, m, j, &mut s),
            4.. => group_stats::<T, 4>(data, m, j, &mut s),
            _ => group_stats::<T, 1>(data, m, j, &mut s),
        };
    }
    for j in 0..m {
        s.nan_count[j] = rows as u64 - s.count[j];
    }
    s
}

/// The portable build of one group: columns `j0..j0 + N` of `out`; returns `N`.
///
/// Each pass first runs without NaN masks (most columns have no NaN), and runs again masked
/// only if a lane came out NaN; on NaN-free data both versions do the same arithmetic, so the
/// result is the same. All accumulators are f64 (a block's count is exact in f64) and every
/// select is between two f64 values, as in the AVX2 build.
fn group_stats<T: Element, const N: usize>(
    data: &[T],
    m: usize,
    j0: usize,
    out: &mut ColumnStats,
) -> usize {
    let mut p1 = pass1::<T, N, false>(data, m, j0);
    let clean = !p1.1.iter().any(|v| v.is_nan());
    if !clean {
        p1 = pass1::<T, N, true>(data, m, j0);
    }
    let (count, sum, min, max) = p1;
    let mean: [f64; N] = std::array::from_fn(|l| sum[l] / count[l]);
    let fast = clean.then(|| pass2::<T, N, false>(data, m, j0, &mean));
    let (sum_d, m2) = match fast {
        Some(p2) if !p2.1.iter().any(|v| v.is_nan()) => p2,
        _ => pass2::<T, N, true>(data, m, j0, &mean),
    };
    finish_group(j0, &count, &mean, &sum_d, &m2, &min, &max, out);
    N
}

type Pass1<const N: usize> = ([f64; N], [f64; N], [f64; N], [f64; N]);

/// Count, sum, min and max of the group; unmasked, NaN makes its sum NaN.
#[inline(always)]
fn pass1<T: Element, const N: usize, const MASKED: bool>(
    data: &[T],
    m: usize,
    j0: usize,
) -> Pass1<N> {
    let rows = data.len() / m;
    let mut count = [if MASKED { 0.0 } else { rows as f64 }; N];
    let mut sum = [0.0f64; N];
    let mut min = [f64::INFINITY; N];
    let mut max = [f64::NEG_INFINITY; N];
    for row in data.chunks_exact(m) {
        let g = group::<T, N>(row, j0);
        for l in 0..N {
            let v = g[l].to_f64();
            if MASKED {
                let ok = !v.is_nan();
                count[l] += if ok { 1.0 } else { 0.0 };
                sum[l] += if ok { v } else { 0.0 };
            } else {
                sum[l] += v;
            }
            // Comparisons with NaN are false, so NaN never replaces a bound.
            min[l] = if v < min[l] { v } else { min[l] };
            max[l] = if v > max[l] { v } else { max[l] };
        }
    }
    (count, sum, min, max)
}

/// Sum of deviations from `mean` and of their squares; unmasked, a NaN deviation makes them
/// NaN.
#[inline(always)]
fn pass2<T: Element, const N: usize, const MASKED: bool>(
    data: &[T],
    m: usize,
    j0: usize,
    mean: &[f64; N],
) -> ([f64; N], [f64; N]) {
    let mut sum_d = [0.0f64; N];
    let mut m2 = [0.0f64; N];
    for row in data.chunks_exact(m) {
        let g = group::<T, N>(row, j0);
        for l in 0..N {
            let d = g[l].to_f64() - mean[l];
            let d = if !MASKED || !d.is_nan() { d } else { 0.0 };
            sum_d[l] += d;
            m2[l] += d * d;
        }
    }
    (sum_d, m2)
}

#[inline(always)]
fn group<T: Element, const N: usize>(row: &[T], j0: usize) -> [T; N] {
    *<&[T; N]>::try_from(&row[j0..j0 + N]).expect("N columns")
}

/// Writes one group's statistics into columns `j0..` of `out`.
fn finish_group(
    j0: usize,
    count: &[f64],
    mean: &[f64],
    sum_d: &[f64],
    m2: &[f64],
    min: &[f64],
    max: &[f64],
    out: &mut ColumnStats,
) {
    for l in 0..count.len() {
        let j = j0 + l;
        out.count[j] = count[l] as u64;
        if count[l] > 0.0 {
            out.mean[j] = mean[l];
            // Mathematically non-negative; rounding must not make a variance negative.
            out.m2[j] = (m2[l] - sum_d[l] * sum_d[l] / count[l]).max(0.0);
            out.min[j] = min[l];
            out.max[j] = max[l];
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{finish_group, ColumnStats};
    use crate::matrix::Element;

    type V<const G: usize> = [__m256d; G];

    /// `group_stats` over `4 * G` columns, `G` vectors of four `f64` lanes per accumulator,
    /// with the same fast and masked passes.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA, and `j0 + 4 * G <= m`.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn group_stats<T: Element, const G: usize>(
        data: &[T],
        m: usize,
        j0: usize,
        out: &mut ColumnStats,
    ) -> usize {
        let rows = data.len() / m;
        let base = data.as_ptr().add(j0);
        let mut p1 = pass1::<T, G, false>(base, rows, m);
        let clean = !any_nan(&p1.1);
        if !clean {
            p1 = pass1::<T, G, true>(base, rows, m);
        }
        let (count, sum, min, max) = p1;
        let mean: V<G> = std::array::from_fn(|g| _mm256_div_pd(sum[g], count[g]));
        let fast = if clean {
            Some(pass2::<T, G, false>(base, rows, m, &mean))
        } else {
            None
        };
        let (sum_d, m2) = match fast {
            Some(p2) if !any_nan(&p2.1) => p2,
            _ => pass2::<T, G, true>(base, rows, m, &mean),
        };
        let lanes = |v: &V<G>| -> Vec<f64> {
            let mut o = vec![0.0; 4 * G];
            for g in 0..G {
                _mm256_storeu_pd(o.as_mut_ptr().add(4 * g), v[g]);
            }
            o
        };
        finish_group(
            j0,
            &lanes(&count),
            &lanes(&mean),
            &lanes(&sum_d),
            &lanes(&m2),
            &lanes(&min),
            &lanes(&max),
            out,
        );
        4 * G
    }

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn any_nan<const G: usize>(v: &V<G>) -> bool {
        v.iter()
            .any(|&x| _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_UNORD_Q>(x, x)) != 0)
    }

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn pass1<T: Element, const G: usize, const MASKED: bool>(
        base: *const T,
        rows: usize,
        m: usize,
    ) -> (V<G>, V<G>, V<G>, V<G>) {
        let zero = _mm256_setzero_pd();
        let one = _mm256_set1_pd(1.0);
        let mut count = [if MASKED {
            zero
        } else {
            _mm256_set1_pd(rows as f64)
        }; G];
        let mut sum = [zero; G];
        let mut min = [_mm256_set1_pd(f64::INFINITY); G];
        let mut max = [_mm256_set1_pd(f64::NEG_INFINITY); G];
        for i in 0..rows {
            let p = base.add(i * m);
            for g in 0..G {
                let v = T::load4(p.add(4 * g));
                if MASKED {
                    let ok = _mm256_cmp_pd::<_CMP_ORD_Q>(v, v);
                    count[g] = _mm256_add_pd(count[g], _mm256_and_pd(ok, one));
                    sum[g] = _mm256_add_pd(sum[g], _mm256_and_pd(ok, v));
                } else {
                    sum[g] = _mm256_add_pd(sum[g], v);
                }
                // (v < min) ? v : min, as the portable build: NaN never replaces a bound.
                min[g] = _mm256_min_pd(v, min[g]);
                max[g] = _mm256_max_pd(v, max[g]);
            }
        }
        (count, sum, min, max)
    }

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn pass2<T: Element, const G: usize, const MASKED: bool>(
        base: *const T,
        rows: usize,
        m: usize,
        mean: &V<G>,
    ) -> (V<G>, V<G>) {
        let zero = _mm256_setzero_pd();
        let mut sum_d = [zero; G];
        let mut m2 = [zero; G];
        for i in 0..rows {
            let p = base.add(i * m);
            for g in 0..G {
                let mut d = _mm256_sub_pd(T::load4(p.add(4 * g)), mean[g]);
                if MASKED {
                    d = _mm256_and_pd(_mm256_cmp_pd::<_CMP_ORD_Q>(d, d), d);
                }
                sum_d[g] = _mm256_add_pd(sum_d[g], d);
                m2[g] = _mm256_add_pd(m2[g], _mm256_mul_pd(d, d));
            }
        }
        (sum_d, m2)
    }
}

/// `column_stats` of a CSR matrix: its implicit zeros count as values. Two passes over the
/// stored values: the sum of each column (zeros add nothing), then `m2` as the squared
/// deviations of the stored values plus those of the implicit zeros, `(rows - stored) mean²`.
/// It is `weighted_csr_column_stats` with every weight 1, the same bits (`1 * v` is `v`).
pub fn csr_column_stats<T: Element, I: CsrIndex>(x: CsrRef<'_, T, I>) -> ColumnStats {
    csr_stats(x, |_| 1.0).stats
}

/// `csr_column_stats` with a weight per row (`w[r]` for row `r`, finite and >= 0): the
/// implicit zeros of row `r` weigh `w[r]`. `m2` as there, weighted.
pub fn weighted_csr_column_stats<T: Element, I: CsrIndex>(
    x: CsrRef<'_, T, I>,
    w: &[f64],
) -> Result<WeightedStats> {
    if w.len() != x.rows() {
        let message = format!("{} weights for {} rows", w.len(), x.rows());
        return Err(Error::Shape(message));
    }
    Ok(csr_stats(x, |r| w[r]))
}

/// `csr_column_stats` with row `r` weighing `weight_of(r)`.
fn csr_stats<T: Element, I: CsrIndex>(
    x: CsrRef<'_, T, I>,
    weight_of: impl Fn(usize) -> f64,
) -> WeightedStats {
    let (m, rows) = (x.cols(), x.rows());
    let mut s = ColumnStats::empty(m);
    let (mut stored, mut sum) = (vec![0u64; m], vec![0.0f64; m]);
    let (mut nan_weight, mut stored_weight) = (vec![0.0f64; m], vec![0.0f64; m]);
    let data = x.data();
    let columns: Vec<usize> = x.columns().collect();
    let mut total = 0.0f64;
    for r in 0..rows {
        let wr = weight_of(r);
        total += wr;
        for k in x.row_range(r) {
            let (v, j) = (data[k].to_f64(), columns[k]);
            stored[j] += 1;
            if v.is_nan() {
                s.nan_count[j] += 1;
                nan_weight[j] += wr;
                continue;
            }
            stored_weight[j] += wr;
            sum[j] += wr * v;
            s.min[j] = if s.min[j].is_nan() {
                v
            } else {
                s.min[j].min(v)
            };
            s.max[j] = if s.max[j].is_nan() {
                v
            } else {
                s.max[j].max(v)
            };
        }
    }
    let weight: Vec<f64> = nan_weight.iter().map(|nw| total - nw).collect();
    for j in 0..m {
        s.count[j] = rows as u64 - s.nan_count[j];
        if s.count[j] == 0 {
            continue;
        }
        s.mean[j] = if weight[j] > 0.0 {
            sum[j] / weight[j]
        } else {
            f64::NAN
        };
        if stored[j] < rows as u64 {
            s.min[j] = if s.min[j].is_nan() {
                0.0
            } else {
                s.min[j].min(0.0)
            };
            s.max[j] = if s.max[j].is_nan() {
                0.0
            } else {
                s.max[j].max(0.0)
            };
        }
    }
    let mut m2 = vec![0.0f64; m];
    for r in 0..rows {
        let wr = weight_of(r);
        for k in x.row_range(r) {
            let j = columns[k];
            let d = data[k].to_f64() - s.mean[j];
            if !d.is_nan() {
                m2[j] += wr * d * d;
            }
        }
    }
    for j in 0..m {
        if s.count[j] > 0 {
            let implicit = (weight[j] - stored_weight[j]).max(0.0);
            if weight[j] > 0.0 {
                s.m2[j] = m2[j] + implicit * s.mean[j] * s.mean[j];
            }
            s.min[j] += 0.0;
            s.max[j] += 0.0;
        }
    }
    WeightedStats { weight, stats: s }
}

/// `column_stats` with a weight per row (`w[i]` for row `i`, finite and >= 0, checked by the
/// caller): `weight` is the sum of the weights of a column's non-NaN values, `mean` the
/// weighted mean and `m2` the weighted sum of squared deviations, by the corrected two-pass
/// algorithm (`Σ w d² - (Σ w d)² / W`); NaN and the extremes as `column_stats`, over every
/// non-NaN value whatever its weight.
pub fn weighted_column_stats<T: Element>(x: MatRef<'_, T>, w: &[f64]) -> Result<WeightedStats> {
    let (n, m) = (x.rows(), x.cols());
    if w.len() != n {
        return Err(Error::Shape(format!("{} weights for {} rows", w.len(), n)));
    }
    let mut weight = vec![0.0f64; m];
    let mut sum = vec![0.0f64; m];
    let mut stats = ColumnStats::empty(m);
    for (row, &wi) in x.data().chunks_exact(m.max(1)).zip(w) {
        for (j, v) in row.iter().enumerate() {
            let v = v.to_f64();
            if v.is_nan() {
                stats.nan_count[j] += 1;
                continue;
            }
            stats.count[j] += 1;
            weight[j] += wi;
            sum[j] += wi * v;
            stats.min[j] = if stats.min[j].is_nan() {
                v
            } else {
                stats.min[j].min(v)
            };
            stats.max[j] = if stats.max[j].is_nan() {
                v
            } else {
                stats.max[j].max(v)
            };
        }
    }
    for j in 0..m {
        stats.mean[j] = if weight[j] > 0.0 {
            sum[j] / weight[j]
        } else {
            f64::NAN
        };
    }
    let (mut sum_d, mut sum_d2) = (vec![0.0f64; m], vec![0.0f64; m]);
    for (row, &wi) in x.data().chunks_exact(m.max(1)).zip(w) {
        for (j, v) in row.iter().enumerate() {
            let d = v.to_f64() - stats.mean[j];
            if !d.is_nan() {
                sum_d[j] += wi * d;
                sum_d2[j] += wi * d * d;
            }
        }
    }
    for j in 0..m {
        if weight[j] > 0.0 {
            stats.m2[j] = (sum_d2[j] - sum_d[j] * sum_d[j] / weight[j]).max(0.0);
        }
        if stats.count[j] > 0 {
            stats.min[j] += 0.0;
            stats.max[j] += 0.0;
        }
    }
    Ok(WeightedStats { weight, stats })
}

/// `weighted_column_stats`' result: the weight of each column's values, and the statistics
/// (`count` is still the number of non-NaN values).
#[derive(Debug, Clone, PartialEq)]
pub struct WeightedStats {
    pub weight: Vec<f64>,
    pub stats: ColumnStats,
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
    fn integer_weights_are_repeated_rows() {
        let data = [1.0, 4.0, 2.0, f64::NAN, 7.0, 5.0];
        let w = [2.0, 0.0, 3.0];
        let weighted =
            weighted_column_stats(MatRef::new(&data, 3, 2).expect("shape"), &w).expect("weights");
        let repeated = [1.0, 4.0, 1.0, 4.0, 7.0, 5.0, 7.0, 5.0, 7.0, 5.0];
        let plain = column_stats(MatRef::new(&repeated, 5, 2).expect("shape"));
        assert_eq!(weighted.weight, vec![5.0, 5.0]);
        for j in 0..2 {
            assert!((weighted.stats.mean[j] - plain.mean[j]).abs() < 1e-12);
            assert!((weighted.stats.m2[j] - plain.m2[j]).abs() < 1e-9);
        }
        // The same through the CSR form, whose implicit zeros weigh their row's weight.
        let (indptr, indices, values) = (
            [0i32, 2, 3, 5],
            [0i32, 1, 0, 0, 1],
            [1.0, 4.0, 2.0, 7.0, 5.0],
        );
        let csr = CsrRef::new(&indptr, &indices, &values, 2).expect("csr");
        let sparse = weighted_csr_column_stats(csr, &w).expect("weights");
        assert_eq!(sparse.weight, vec![5.0, 5.0]);
        assert!((sparse.stats.mean[0] - weighted.stats.mean[0]).abs() < 1e-12);
        assert!(weighted_column_stats(MatRef::new(&data, 3, 2).expect("shape"), &[1.0]).is_err());
    }

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

    /// Every value class a fit meets: NaN, ±inf, -0.0, subnormals, large and small values.
    fn awkward(rows: usize, cols: usize) -> Vec<f64> {
        with_specials(
            rows,
            cols,
            &[
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                -0.0,
                5e-324,
                1e300,
            ],
        )
    }

    fn with_specials(rows: usize, cols: usize, specials: &[f64]) -> Vec<f64> {
        (0..rows * cols)
            .map(|i| {
                let h = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
                if h % 11 == 0 && !specials.is_empty() {
                    specials[(h / 11) as usize % specials.len()]
                } else {
                    (h as f64 / 7.0) - 1e5 * (i % cols) as f64
                }
            })
            .collect()
    }

    fn same_bits(a: &ColumnStats, b: &ColumnStats) -> bool {
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        a.count == b.count
            && a.nan_count == b.nan_count
            && [
                (&a.mean, &b.mean),
                (&a.m2, &b.m2),
                (&a.min, &b.min),
                (&a.max, &b.max),
            ]
            .iter()
            .all(|(x, y)| bits(x) == bits(y))
    }

    #[test]
    fn avx2_and_portable_builds_give_the_same_bits() {
        #[cfg(target_arch = "x86_64")]
        if crate::simd::has_avx2_fma() {
            for rows in [0, 1, 7, 3000] {
                let m = 8;
                let data = awkward(rows, m);
                let single: Vec<f32> = data.iter().map(|&v| v as f32).collect();
                let mut wide = ColumnStats::empty(m);
                let mut portable = ColumnStats::empty(m);
                // SAFETY: the CPU has AVX2; 8 columns.
                unsafe { avx2::group_stats::<f64, 2>(&data, m, 0, &mut wide) };
                group_stats::<f64, 8>(&data, m, 0, &mut portable);
                assert!(same_bits(&wide, &portable), "float64, {rows} rows");
                let mut wide = ColumnStats::empty(m);
                let mut portable = ColumnStats::empty(m);
                unsafe { avx2::group_stats::<f32, 1>(&single, m, 4, &mut wide) };
                group_stats::<f32, 4>(&single, m, 4, &mut portable);
                assert!(same_bits(&wide, &portable), "float32, {rows} rows");
            }
        }
    }

    /// What `group_stats` gives with the masked passes only.
    fn masked_only(data: &[f64], m: usize) -> ColumnStats {
        let (count, sum, min, max) = pass1::<f64, 4, true>(data, m, 0);
        let mean: [f64; 4] = std::array::from_fn(|l| sum[l] / count[l]);
        let (sum_d, m2) = pass2::<f64, 4, true>(data, m, 0, &mean);
        let mut out = ColumnStats::empty(m);
        finish_group(0, &count, &mean, &sum_d, &m2, &min, &max, &mut out);
        out
    }

    #[test]
    fn the_unmasked_fast_passes_change_nothing() {
        let kinds: [&[f64]; 4] = [
            &[],
            &[f64::INFINITY],
            &[f64::INFINITY, f64::NEG_INFINITY],
            &[f64::NAN, -0.0],
        ];
        for specials in kinds {
            let data = with_specials(3000, 4, specials);
            let mut fast = ColumnStats::empty(4);
            group_stats::<f64, 4>(&data, 4, 0, &mut fast);
            assert!(same_bits(&fast, &masked_only(&data, 4)), "{specials:?}");
            #[cfg(target_arch = "x86_64")]
            if crate::simd::has_avx2_fma() {
                let mut wide = ColumnStats::empty(4);
                // SAFETY: the CPU has AVX2; 4 columns.
                unsafe { avx2::group_stats::<f64, 1>(&data, 4, 0, &mut wide) };
                assert!(same_bits(&wide, &fast), "{specials:?}");
            }
        }
    }

    #[test]
    fn every_column_grouping_agrees_with_one_column_at_a_time() {
        for m in [1, 3, 4, 5, 8, 13, 16, 17] {
            let data = awkward(2500, m);
            let whole = column_stats(MatRef::new(&data, 2500, m).expect("shape"));
            for j in 0..m {
                let col: Vec<f64> = data.iter().skip(j).step_by(m).copied().collect();
                let one = column_stats(MatRef::new(&col, 2500, 1).expect("shape"));
                let pick = |s: &ColumnStats, k: usize| ColumnStats {
                    count: vec![s.count[k]],
                    nan_count: vec![s.nan_count[k]],
                    mean: vec![s.mean[k]],
                    m2: vec![s.m2[k]],
                    min: vec![s.min[k]],
                    max: vec![s.max[k]],
                };
                assert!(same_bits(&pick(&whole, j), &one), "{m} columns, column {j}");
            }
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
