//! Per-column statistics of one batch: the input of every moment-based fit accumulator.
//!
//! Policy: NaN is disregarded (counted in `nan_count`, excluded from every other statistic).
//! Infinities count as values and show in `min`/`max`, so that the caller can refuse them; they
//! are left out of the sums. The sums of the values and of their squares (weighted: of the
//! weights, `w x` and `w x²`) are exact (`crate::exact`): statistics of parts of a batch merge
//! into the statistics of the whole, bit for bit, in any order.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::exact::{add_block_moments, ExactSum, MAX_BLOCK};
#[cfg(target_arch = "x86_64")]
use crate::exact::{cuts, square_cuts, ROUNDS, SQUARE_MAX, SQUARE_MIN};
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
    /// Σx over the finite values (weighted: Σ w x).
    pub sum: Vec<ExactSum>,
    /// Σx² over the finite values (weighted: Σ w x²).
    pub sum_sq: Vec<ExactSum>,
    /// Smallest non-NaN value; NaN when `count` is 0.
    pub min: Vec<f64>,
    /// Largest non-NaN value; NaN when `count` is 0.
    pub max: Vec<f64>,
}

/// `weighted_column_stats`' result: Σw over each column's non-NaN values, and the statistics
/// (`count` is still the number of non-NaN values).
#[derive(Debug, Clone, PartialEq)]
pub struct WeightedStats {
    pub weight: Vec<ExactSum>,
    pub stats: ColumnStats,
}

/// Cells a block of rows aims at, so that reading it one column at a time stays in cache.
const BLOCK_CELLS: usize = 1 << 15;
const MIN_BLOCK_ROWS: usize = 256;

/// Count, NaN count, exact Σx and Σx², min and max of every column, skipping NaN. A zero
/// extreme is always `0.0`, never `-0.0`. Blocks of rows run in parallel for large inputs.
pub fn column_stats<T: Element>(x: MatRef<'_, T>) -> ColumnStats {
    let m = x.cols();
    if m == 0 || x.rows() == 0 {
        return ColumnStats::empty(m);
    }
    let rows = (BLOCK_CELLS / m).clamp(MIN_BLOCK_ROWS, MAX_BLOCK);
    let block = rows * m;
    let mut stats = if x.data().len() >= PARALLEL_MIN_CELLS && max_threads() != 1 {
        x.data()
            .par_chunks(block)
            .fold(
                || (ColumnStats::empty(m), Scratch::new(rows)),
                |(mut acc, mut scratch), b| {
                    add_block(b, m, &mut acc, &mut scratch);
                    (acc, scratch)
                },
            )
            .map(|(acc, _)| acc)
            .reduce(|| ColumnStats::empty(m), |a, b| a.merge(&b))
    } else {
        let (mut acc, mut scratch) = (ColumnStats::empty(m), Scratch::new(rows));
        for b in x.data().chunks(block) {
            add_block(b, m, &mut acc, &mut scratch);
        }
        acc
    };
    stats.settle_zeros();
    stats
}

/// A column of a block, and the two halves of its squares.
struct Scratch {
    values: Vec<f64>,
    high: Vec<f64>,
    low: Vec<f64>,
}

impl Scratch {
    fn new(rows: usize) -> Self {
        Scratch {
            values: vec![0.0; rows],
            high: vec![0.0; rows],
            low: vec![0.0; rows],
        }
    }
}

const LANES: usize = 8;

/// Adds a block of whole rows to `acc`, a column at a time: copied out (four at a time),
/// scanned and summed.
/// The AVX2 build where the CPU has it (the sums are exact, so every build gives the same
/// bits).
fn add_block<T: Element>(data: &[T], m: usize, acc: &mut ColumnStats, scratch: &mut Scratch) {
    #[cfg(target_arch = "x86_64")]
    if crate::simd::has_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA.
        return unsafe { add_block_avx2(data, m, acc, scratch) };
    }
    add_block_portable(data, m, acc, scratch)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn add_block_avx2<T: Element>(
    data: &[T],
    m: usize,
    acc: &mut ColumnStats,
    scratch: &mut Scratch,
) {
    let mut j = 0;
    if crate::simd::has_avx512() {
        while m - j >= 8 {
            // SAFETY: the CPU has AVX-512F; columns j..j + 8 exist.
            let rest = avx512::group8(data, m, j, acc);
            let lanes = (0..8).filter(|l| rest & (1 << l) != 0).map(|l| j + l);
            add_columns(data, m, lanes, false, acc, scratch);
            j += 8;
        }
    }
    while m - j >= 4 {
        let rest = avx2::group4(data, m, j, acc);
        let lanes = (0..4).filter(|l| rest & (1 << l) != 0).map(|l| j + l);
        add_columns(data, m, lanes, false, acc, scratch);
        j += 4;
    }
    add_columns(data, m, j..m, true, acc, scratch);
}

/// What a group of `N` columns' first walk found, per lane: count, min, max, largest and
/// smallest non-zero magnitude. Adds the counts and bounds to `acc`, and returns the cuts of
/// each lane's sums and squares (1 where unused) and the lanes left to the column path (out of
/// range for the fused passes).
#[cfg(target_arch = "x86_64")]
fn begin_lanes<const N: usize>(
    j0: usize,
    rows: usize,
    [count, min, max, largest, smallest]: [[f64; N]; 5],
    acc: &mut ColumnStats,
) -> (Cuts<N>, Cuts<N>, Cuts<N>, u8) {
    let mut rest = 0u8;
    let (mut cx, mut ch, mut cl) = (
        [[1.0f64; N]; ROUNDS],
        [[1.0; N]; ROUNDS],
        [[1.0; N]; ROUNDS],
    );
    for l in 0..N {
        let j = j0 + l;
        acc.count[j] += count[l] as u64;
        acc.nan_count[j] += rows as u64 - count[l] as u64;
        acc.min[j] = acc.min[j].min(min[l]);
        acc.max[j] = acc.max[j].max(max[l]);
        let in_range = smallest[l] >= SQUARE_MIN && largest[l] < SQUARE_MAX;
        match (largest[l] == 0.0, cuts(largest[l]), square_cuts(largest[l])) {
            (true, _, _) => {}
            (false, Some(x), Some((h, lo))) if in_range => {
                for i in 0..ROUNDS {
                    (cx[i][l], ch[i][l], cl[i][l]) = (x[i], h[i], lo[i]);
                }
            }
            _ => rest |= 1 << l,
        }
    }
    (cx, ch, cl, rest)
}

/// Per round, per lane: the cuts, or the sums, of a group of `N` columns.
#[cfg(target_arch = "x86_64")]
type Cuts<const N: usize> = [[f64; N]; ROUNDS];

/// Adds each lane's round sums (values, high and low halves of the squares) to `acc`, but for
/// the lanes in `rest` and those with bits `left` below the last cut, which it returns.
#[cfg(target_arch = "x86_64")]
fn end_lanes<const N: usize>(
    j0: usize,
    mut rest: u8,
    left: [f64; N],
    [sums, high, low]: [Cuts<N>; 3],
    acc: &mut ColumnStats,
) -> u8 {
    for l in 0..N {
        if left[l] != 0.0 {
            rest |= 1 << l;
        }
        if rest & (1 << l) != 0 {
            continue;
        }
        let j = j0 + l;
        for i in 0..ROUNDS {
            acc.sum[j].add_f64(sums[i][l]);
            acc.sum_sq[j].add_f64(high[i][l]);
            acc.sum_sq[j].add_f64(low[i][l]);
        }
    }
    rest
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use super::ColumnStats;
    use crate::exact::ROUNDS;
    use crate::matrix::Element;

    #[inline]
    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn load8<T: Element>(p: *const T) -> __m512d {
        _mm512_insertf64x4::<1>(_mm512_castpd256_pd512(T::load4(p)), T::load4(p.add(4)))
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn extract(
        mut r: __m512d,
        c: &[__m512d; ROUNDS],
        acc: &mut [__m512d; ROUNDS],
    ) -> __m512d {
        for i in 0..ROUNDS {
            let q = _mm512_sub_pd(_mm512_add_pd(c[i], r), c[i]);
            r = _mm512_sub_pd(r, q);
            acc[i] = _mm512_add_pd(acc[i], q);
        }
        r
    }

    /// `avx2::group4` over eight columns, one `f64` lane each.
    ///
    /// # Safety
    /// The CPU has AVX-512F, AVX2 and FMA, and `j0 + 8 <= m`.
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub unsafe fn group8<T: Element>(data: &[T], m: usize, j0: usize, acc: &mut ColumnStats) -> u8 {
        let rows = data.len() / m;
        let base = data.as_ptr().add(j0);
        let zero = _mm512_setzero_pd();
        let inf = _mm512_set1_pd(f64::INFINITY);
        // The finite values, NaN and infinities as 0 (which adds nothing).
        let finite = |v: __m512d| {
            let ok = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(_mm512_abs_pd(v), inf);
            _mm512_maskz_mov_pd(ok, v)
        };
        let (mut count, mut min, mut max) = (zero, inf, _mm512_set1_pd(f64::NEG_INFINITY));
        let (mut largest, mut smallest) = (zero, inf);
        let one = _mm512_set1_pd(1.0);
        for i in 0..rows {
            let v = load8(base.add(i * m));
            count = _mm512_mask_add_pd(count, _mm512_cmp_pd_mask::<_CMP_ORD_Q>(v, v), count, one);
            // (v < min) ? v : min: NaN never replaces a bound.
            min = _mm512_min_pd(v, min);
            max = _mm512_max_pd(v, max);
            let a = _mm512_abs_pd(finite(v));
            largest = _mm512_max_pd(a, largest);
            let nonzero = _mm512_cmp_pd_mask::<_CMP_NEQ_OQ>(a, zero);
            smallest = _mm512_mask_min_pd(smallest, nonzero, a, smallest);
        }
        let lanes = |v: __m512d| {
            let mut o = [0.0f64; 8];
            _mm512_storeu_pd(o.as_mut_ptr(), v);
            o
        };
        let (cx, ch, cl, rest) = super::begin_lanes::<8>(
            j0,
            rows,
            [
                lanes(count),
                lanes(min),
                lanes(max),
                lanes(largest),
                lanes(smallest),
            ],
            acc,
        );
        let vec = |c: &[[f64; 8]; ROUNDS]| -> [__m512d; ROUNDS] {
            std::array::from_fn(|i| _mm512_loadu_pd(c[i].as_ptr()))
        };
        let (cx, ch, cl) = (vec(&cx), vec(&ch), vec(&cl));
        let mut sums = [zero; ROUNDS];
        let mut left = zero;
        for i in 0..rows {
            let r = extract(finite(load8(base.add(i * m))), &cx, &mut sums);
            left = _mm512_max_pd(left, _mm512_abs_pd(r));
        }
        let (mut high, mut low) = ([zero; ROUNDS], [zero; ROUNDS]);
        for i in 0..rows {
            let v = finite(load8(base.add(i * m)));
            let p = _mm512_mul_pd(v, v);
            let e = _mm512_fmsub_pd(v, v, p);
            let rh = extract(p, &ch, &mut high);
            let rl = extract(e, &cl, &mut low);
            left = _mm512_max_pd(left, _mm512_max_pd(_mm512_abs_pd(rh), _mm512_abs_pd(rl)));
        }
        let (sums, high, low) = (sums.map(lanes), high.map(lanes), low.map(lanes));
        super::end_lanes::<8>(j0, rest, lanes(left), [sums, high, low], acc)
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::ColumnStats;
    use crate::exact::avx2::extract;
    use crate::exact::ROUNDS;
    use crate::matrix::Element;

    /// Adds columns `j0..j0 + 4` of a block of rows (`m` columns) to `acc`, four lanes walking
    /// down the rows: one pass for the counts and bounds, one for the sums, one for the squares
    /// (`exact::fused_sum` and `exact::fused_squares`, a column per lane). Returns the lanes
    /// whose sums are left to the column path (bits below the last cut, or out of range).
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA, and `j0 + 4 <= m`.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn group4<T: Element>(data: &[T], m: usize, j0: usize, acc: &mut ColumnStats) -> u8 {
        let rows = data.len() / m;
        let base = data.as_ptr().add(j0);
        let zero = _mm256_setzero_pd();
        let inf = _mm256_set1_pd(f64::INFINITY);
        let abs = _mm256_castsi256_pd(_mm256_set1_epi64x(i64::MAX));
        // The finite values, NaN and infinities as 0 (which adds nothing).
        let finite = |v: __m256d| {
            let a = _mm256_and_pd(v, abs);
            _mm256_and_pd(_mm256_cmp_pd::<_CMP_LT_OQ>(a, inf), v)
        };
        let (mut count, mut min, mut max) = (zero, inf, _mm256_set1_pd(f64::NEG_INFINITY));
        let (mut largest, mut smallest) = (zero, inf);
        let one = _mm256_set1_pd(1.0);
        for i in 0..rows {
            let v = T::load4(base.add(i * m));
            count = _mm256_add_pd(count, _mm256_and_pd(_mm256_cmp_pd::<_CMP_ORD_Q>(v, v), one));
            // (v < min) ? v : min: NaN never replaces a bound.
            min = _mm256_min_pd(v, min);
            max = _mm256_max_pd(v, max);
            let a = _mm256_and_pd(finite(v), abs);
            largest = _mm256_max_pd(a, largest);
            let nonzero = _mm256_cmp_pd::<_CMP_NEQ_OQ>(a, zero);
            smallest = _mm256_min_pd(_mm256_blendv_pd(inf, a, nonzero), smallest);
        }
        let lanes = |v: __m256d| {
            let mut o = [0.0f64; 4];
            _mm256_storeu_pd(o.as_mut_ptr(), v);
            o
        };
        let (cx, ch, cl, rest) = super::begin_lanes::<4>(
            j0,
            rows,
            [
                lanes(count),
                lanes(min),
                lanes(max),
                lanes(largest),
                lanes(smallest),
            ],
            acc,
        );
        let vec = |c: &[[f64; 4]; ROUNDS]| -> [__m256d; ROUNDS] {
            std::array::from_fn(|i| _mm256_loadu_pd(c[i].as_ptr()))
        };
        let (cx, ch, cl) = (vec(&cx), vec(&ch), vec(&cl));
        let mut sums = [zero; ROUNDS];
        let mut left = zero;
        for i in 0..rows {
            let r = extract(finite(T::load4(base.add(i * m))), &cx, &mut sums);
            left = _mm256_max_pd(left, _mm256_and_pd(r, abs));
        }
        let (mut high, mut low) = ([zero; ROUNDS], [zero; ROUNDS]);
        for i in 0..rows {
            let v = finite(T::load4(base.add(i * m)));
            let p = _mm256_mul_pd(v, v);
            let e = _mm256_fmsub_pd(v, v, p);
            let rh = extract(p, &ch, &mut high);
            let rl = extract(e, &cl, &mut low);
            left = _mm256_max_pd(left, _mm256_and_pd(_mm256_or_pd(rh, rl), abs));
        }
        let (sums, high, low) = (sums.map(lanes), high.map(lanes), low.map(lanes));
        super::end_lanes::<4>(j0, rest, lanes(left), [sums, high, low], acc)
    }
}

#[inline(always)]
fn add_block_portable<T: Element>(
    data: &[T],
    m: usize,
    acc: &mut ColumnStats,
    scratch: &mut Scratch,
) {
    add_columns(data, m, 0..m, true, acc, scratch);
}

/// Adds columns `which` of a block to `acc` (their counts and bounds too if `bounds`), a
/// column at a time: copied out (four at a time), scanned and summed.
#[inline(always)]
fn add_columns<T: Element>(
    data: &[T],
    m: usize,
    which: impl Iterator<Item = usize>,
    bounds: bool,
    acc: &mut ColumnStats,
    scratch: &mut Scratch,
) {
    let rows = data.len() / m;
    for j in which {
        let values = &mut scratch.values[..rows];
        for (v, row) in values.iter_mut().zip(data.chunks_exact(m)) {
            *v = row[j].to_f64();
        }
        let (count, min, max, largest, smallest) = scan(values);
        if bounds {
            acc.count[j] += count;
            acc.nan_count[j] += rows as u64 - count;
            acc.min[j] = acc.min[j].min(min); // f64::min ignores NaN, as np.fmin
            acc.max[j] = acc.max[j].max(max);
        }
        add_block_moments(
            values,
            largest,
            smallest,
            &mut scratch.high,
            &mut scratch.low,
            &mut acc.sum[j],
            &mut acc.sum_sq[j],
        );
    }
}

/// Count of non-NaN values, min, max (NaN never replaces a bound: comparisons with NaN are
/// false) and the largest and smallest non-zero magnitudes of the finite values, which stay; NaN and infinities
/// become 0, which adds nothing to the sums.
#[inline(always)]
fn scan(values: &mut [f64]) -> (u64, f64, f64, f64, f64) {
    let mut count = [0.0f64; LANES];
    let mut min = [f64::INFINITY; LANES];
    let mut max = [f64::NEG_INFINITY; LANES];
    let mut largest = [0.0f64; LANES];
    let mut smallest = [f64::INFINITY; LANES];
    let mut chunks = values.chunks_exact_mut(LANES);
    for c in &mut chunks {
        for l in 0..LANES {
            let x = c[l];
            count[l] += if x.is_nan() { 0.0 } else { 1.0 };
            min[l] = if x < min[l] { x } else { min[l] };
            max[l] = if x > max[l] { x } else { max[l] };
            let a = x.abs();
            let kept = if a < f64::INFINITY { x } else { 0.0 };
            c[l] = kept;
            let a = kept.abs();
            largest[l] = if a > largest[l] { a } else { largest[l] };
            let a = if a != 0.0 { a } else { f64::INFINITY };
            smallest[l] = if a < smallest[l] { a } else { smallest[l] };
        }
    }
    for v in chunks.into_remainder() {
        let x = *v;
        count[0] += if x.is_nan() { 0.0 } else { 1.0 };
        min[0] = if x < min[0] { x } else { min[0] };
        max[0] = if x > max[0] { x } else { max[0] };
        *v = if x.abs() < f64::INFINITY { x } else { 0.0 };
        largest[0] = largest[0].max(v.abs());
        if *v != 0.0 {
            smallest[0] = smallest[0].min(v.abs());
        }
    }
    let fold = |a: &[f64], f: fn(f64, f64) -> f64| a.iter().copied().reduce(f).unwrap_or(0.0);
    (
        count.iter().sum::<f64>() as u64,
        fold(&min, f64::min),
        fold(&max, f64::max),
        fold(&largest, f64::max),
        fold(&smallest, f64::min),
    )
}

/// `column_stats` of a CSR matrix: its implicit zeros count as values (adding nothing to the
/// sums).
pub fn csr_column_stats<T: Element, I: CsrIndex>(x: CsrRef<'_, T, I>) -> ColumnStats {
    let (m, rows) = (x.cols(), x.rows());
    let mut s = ColumnStats::empty(m);
    let mut stored = vec![0u64; m];
    for (&v, j) in x.data().iter().zip(x.columns()) {
        let v = v.to_f64();
        stored[j] += 1;
        if v.is_nan() {
            s.nan_count[j] += 1;
            continue;
        }
        s.min[j] = s.min[j].min(v);
        s.max[j] = s.max[j].max(v);
        if v.is_finite() {
            s.sum[j].add_f64(v);
            s.sum_sq[j].add_product(v, v);
        }
    }
    for j in 0..m {
        s.count[j] = rows as u64 - s.nan_count[j];
        if stored[j] < rows as u64 {
            s.min[j] = s.min[j].min(0.0);
            s.max[j] = s.max[j].max(0.0);
        }
    }
    s.settle_zeros();
    s
}

/// `csr_column_stats` with a weight per row (`w[r]` for row `r`, finite and >= 0): the
/// implicit zeros of row `r` weigh `w[r]`.
pub fn weighted_csr_column_stats<T: Element, I: CsrIndex>(
    x: CsrRef<'_, T, I>,
    w: &[f64],
) -> Result<WeightedStats> {
    let (m, rows) = (x.cols(), x.rows());
    check_weights(w, rows)?;
    let mut s = ColumnStats::empty(m);
    let mut stored = vec![0u64; m];
    let mut total = ExactSum::new();
    let mut nan_weight = vec![ExactSum::new(); m];
    let data = x.data();
    let columns: Vec<usize> = x.columns().collect();
    for (r, &wr) in w.iter().enumerate() {
        total.add_f64(wr);
        for k in x.row_range(r) {
            let (v, j) = (data[k].to_f64(), columns[k]);
            stored[j] += 1;
            if v.is_nan() {
                s.nan_count[j] += 1;
                nan_weight[j].add_f64(wr);
                continue;
            }
            s.min[j] = s.min[j].min(v);
            s.max[j] = s.max[j].max(v);
            if v.is_finite() {
                s.sum[j].add_product(wr, v);
                s.sum_sq[j].add_product3(wr, v, v);
            }
        }
    }
    let mut weight = vec![total; m];
    for j in 0..m {
        weight[j].add_sum(&nan_weight[j], true);
        s.count[j] = rows as u64 - s.nan_count[j];
        if stored[j] < rows as u64 {
            s.min[j] = s.min[j].min(0.0);
            s.max[j] = s.max[j].max(0.0);
        }
    }
    s.settle_zeros();
    Ok(WeightedStats { weight, stats: s })
}

fn check_weights(w: &[f64], rows: usize) -> Result<()> {
    if w.len() != rows {
        return Err(Error::Shape(format!(
            "{} weights for {} rows",
            w.len(),
            rows
        )));
    }
    Ok(())
}

/// `column_stats` with a weight per row (`w[i]` for row `i`, finite and >= 0, checked by the
/// caller): exact Σw, Σ w x and Σ w x² over each column's finite values (Σw over all its
/// non-NaN values); NaN and the extremes as `column_stats`, over every non-NaN value whatever
/// its weight.
pub fn weighted_column_stats<T: Element>(x: MatRef<'_, T>, w: &[f64]) -> Result<WeightedStats> {
    let (n, m) = (x.rows(), x.cols());
    check_weights(w, n)?;
    let mut weight = vec![ExactSum::new(); m];
    let mut stats = ColumnStats::empty(m);
    for (row, &wi) in x.data().chunks_exact(m.max(1)).zip(w) {
        for (j, v) in row.iter().enumerate() {
            let v = v.to_f64();
            if v.is_nan() {
                stats.nan_count[j] += 1;
                continue;
            }
            stats.count[j] += 1;
            weight[j].add_f64(wi);
            stats.min[j] = stats.min[j].min(v);
            stats.max[j] = stats.max[j].max(v);
            if v.is_finite() {
                stats.sum[j].add_product(wi, v);
                stats.sum_sq[j].add_product3(wi, v, v);
            }
        }
    }
    stats.settle_zeros();
    Ok(WeightedStats { weight, stats })
}

impl ColumnStats {
    /// No rows seen yet.
    pub fn empty(m: usize) -> Self {
        ColumnStats {
            count: vec![0; m],
            nan_count: vec![0; m],
            sum: vec![ExactSum::new(); m],
            sum_sq: vec![ExactSum::new(); m],
            min: vec![f64::NAN; m],
            max: vec![f64::NAN; m],
        }
    }

    /// The statistics of both operands' rows (exact, so in any order).
    pub fn merge(mut self, other: &ColumnStats) -> ColumnStats {
        for j in 0..self.count.len() {
            self.count[j] += other.count[j];
            self.nan_count[j] += other.nan_count[j];
            self.sum[j].add_sum(&other.sum[j], false);
            self.sum_sq[j].add_sum(&other.sum_sq[j], false);
            self.min[j] = self.min[j].min(other.min[j]); // f64::min ignores NaN, as np.fmin
            self.max[j] = self.max[j].max(other.max[j]);
        }
        self
    }

    /// Empty columns get NaN bounds; a zero extreme is always 0.0 (-0.0 == 0.0, so either
    /// could win a scan).
    fn settle_zeros(&mut self) {
        for j in 0..self.count.len() {
            if self.count[j] == 0 {
                (self.min[j], self.max[j]) = (f64::NAN, f64::NAN);
            } else {
                self.min[j] += 0.0;
                self.max[j] += 0.0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum_of(values: &[f64]) -> ExactSum {
        let mut s = ExactSum::new();
        values.iter().for_each(|&v| s.add_f64(v));
        s
    }

    #[test]
    fn integer_weights_are_repeated_rows() {
        let data = [1.0, 4.0, 2.0, f64::NAN, 7.0, 5.0];
        let w = [2.0, 0.0, 3.0];
        let weighted =
            weighted_column_stats(MatRef::new(&data, 3, 2).expect("shape"), &w).expect("weights");
        let repeated = [1.0, 4.0, 1.0, 4.0, 7.0, 5.0, 7.0, 5.0, 7.0, 5.0];
        let plain = column_stats(MatRef::new(&repeated, 5, 2).expect("shape"));
        assert_eq!(weighted.weight, vec![sum_of(&[5.0]), sum_of(&[5.0])]);
        assert_eq!(weighted.stats.sum, plain.sum);
        assert_eq!(weighted.stats.sum_sq, plain.sum_sq);
        // The same through the CSR form, whose implicit zeros weigh their row's weight.
        let (indptr, indices, values) = (
            [0i32, 2, 3, 5],
            [0i32, 1, 0, 0, 1],
            [1.0, 4.0, 2.0, 7.0, 5.0],
        );
        let csr = CsrRef::new(&indptr, &indices, &values, 2).expect("csr");
        let sparse = weighted_csr_column_stats(csr, &w).expect("weights");
        assert_eq!(sparse.weight, weighted.weight);
        assert_eq!(sparse.stats.sum[0], weighted.stats.sum[0]);
        assert!(weighted_column_stats(MatRef::new(&data, 3, 2).expect("shape"), &[1.0]).is_err());
    }

    #[test]
    fn skips_nan_and_sums_exactly() {
        let data = [1.0, f64::NAN, 3.0, 2.0, 5.0, f64::NAN];
        let s = column_stats(MatRef::new(&data, 3, 2).expect("shape"));
        assert_eq!(s.count, vec![3, 1]);
        assert_eq!(s.nan_count, vec![0, 2]);
        assert_eq!(s.sum, vec![sum_of(&[9.0]), sum_of(&[2.0])]);
        assert_eq!(s.sum_sq, vec![sum_of(&[35.0]), sum_of(&[4.0])]);
        assert_eq!(s.min, vec![1.0, 2.0]);
        assert_eq!(s.max, vec![5.0, 2.0]);
    }

    /// Every value class a fit meets: NaN, ±inf, -0.0, subnormals, large and small values.
    fn awkward(rows: usize, cols: usize) -> Vec<f64> {
        let specials = [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            5e-324,
            1e300,
        ];
        (0..rows * cols)
            .map(|i| {
                let h = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
                if h.is_multiple_of(11) {
                    specials[(h / 11) as usize % specials.len()]
                } else {
                    (h as f64 / 7.0) - 1e5 * (i % cols) as f64
                }
            })
            .collect()
    }

    #[test]
    fn any_split_of_the_rows_gives_the_same_statistics() {
        for m in [1, 3, 8, 13] {
            let rows = 5000;
            let data = awkward(rows, m);
            let whole = column_stats(MatRef::new(&data, rows, m).expect("shape"));
            for cut in [1, 999, 2048, 4999] {
                let (a, b) = data.split_at(cut * m);
                let a = column_stats(MatRef::new(a, cut, m).expect("shape"));
                let b = column_stats(MatRef::new(b, rows - cut, m).expect("shape"));
                assert_eq!(b.merge(&a), whole, "{m} columns cut at {cut}");
            }
            let mut one_by_one = ColumnStats::empty(m);
            for row in data.chunks(m) {
                one_by_one = one_by_one.merge(&column_stats(MatRef::new(row, 1, m).expect("row")));
            }
            assert_eq!(one_by_one, whole, "{m} columns row by row");
            for j in 0..m {
                let col: Vec<f64> = data.iter().skip(j).step_by(m).copied().collect();
                let finite: Vec<f64> = col.iter().copied().filter(|v| v.is_finite()).collect();
                assert_eq!(whole.sum[j], sum_of(&finite));
                let mut squares = ExactSum::new();
                finite.iter().for_each(|&v| squares.add_product(v, v));
                assert_eq!(whole.sum_sq[j], squares);
            }
        }
    }

    #[test]
    fn empty_columns_have_nan_bounds() {
        let data: [f32; 0] = [];
        let s = column_stats(MatRef::new(&data, 0, 2).expect("shape"));
        assert_eq!(s.count, vec![0, 0]);
        assert!(s.min.iter().chain(&s.max).all(|v| v.is_nan()));
        assert!(s.sum.iter().all(|v| v.is_zero()));
    }
}
