//! Postprocessing of model outputs, row by row: softmax, log-softmax, sigmoid, argmax, top-k,
//! and non-maximum suppression of detection boxes.
//!
//! Scores are computed in `f64` and rounded once to the output type. NaN policy, shared with
//! `fastprep.reference.post`: softmax and log-softmax give a NaN row for a row holding NaN, a
//! row of only −inf, or a row holding +inf (no finite distribution, as scipy gives); argmax and
//! top-k rank NaN above every number (NumPy's argmax does), ties going to the lowest index.

use std::cmp::Ordering;

use crate::error::{Error, Result};
use crate::matrix::{Element, MatRef};
use crate::parallel::{for_row_blocks, for_row_blocks2};

/// The largest value of a row (−inf for an empty row); NaN if the row holds NaN. Branch-free.
#[inline]
fn row_max(row: &[f64]) -> f64 {
    let mut m = f64::NEG_INFINITY;
    let mut nan = false;
    for &v in row {
        nan |= v.is_nan();
        m = if v > m { v } else { m };
    }
    if nan {
        f64::NAN
    } else {
        m
    }
}

/// Softmax of each row: `exp(x - max) / sum`.
pub fn softmax<T: Element>(x: MatRef<'_, T>, out: &mut [T]) -> Result<()> {
    exp_rows(x, out, |_, e, sum, o| {
        for (o, &v) in o.iter_mut().zip(e) {
            *o = T::from_f64(v / sum);
        }
    })
}

/// Log-softmax of each row: `x - max - log(sum(exp(x - max)))`.
pub fn log_softmax<T: Element>(x: MatRef<'_, T>, out: &mut [T]) -> Result<()> {
    exp_rows(x, out, |row, _, sum, o| {
        let m = row_max(row);
        let log_sum = sum.ln();
        for (o, &v) in o.iter_mut().zip(row) {
            *o = T::from_f64(v - m - log_sum);
        }
    })
}

/// Values per batch of rows whose shifted exponentials are taken in one vector pass.
const EXP_BATCH: usize = 1024;

/// For each row: `f(row, exp(row - max), sum, out_row)`, the sum taken left to right as the
/// reference sums. The exponentials of a batch of rows are taken together (`simd::exp_slice`,
/// four at a time on AVX2 CPUs), so a row of ten classes does not leave lanes idle.
fn exp_rows<T: Element>(
    x: MatRef<'_, T>,
    out: &mut [T],
    f: impl Fn(&[f64], &[f64], f64, &mut [T]) + Sync,
) -> Result<()> {
    let width = x.cols().max(1);
    let batch = (EXP_BATCH / width).max(1) * width;
    x.map_rows_into(out, x.cols(), |input, output| {
        let mut rows = vec![0.0f64; batch];
        let mut e = vec![0.0f64; batch];
        for (input, output) in input.chunks(batch).zip(output.chunks_mut(batch)) {
            let (rows, e) = (&mut rows[..input.len()], &mut e[..input.len()]);
            for (r, v) in rows.iter_mut().zip(input) {
                *r = v.to_f64();
            }
            for (row, e) in rows.chunks_exact(width).zip(e.chunks_exact_mut(width)) {
                let m = row_max(row);
                for (e, &v) in e.iter_mut().zip(row) {
                    *e = v - m;
                }
            }
            crate::simd::exp_slice(e);
            let per_row = rows.chunks_exact(width).zip(e.chunks_exact(width));
            for ((row, e), o) in per_row.zip(output.chunks_exact_mut(width)) {
                let sum: f64 = e.iter().sum();
                f(row, e, sum, o);
            }
        }
    })
}

/// The logistic function, without overflow for any input: `1 / (1 + exp(-x))` for `x >= 0`,
/// `exp(x) / (1 + exp(x))` below (so that `exp` never sees a large positive argument).
#[inline]
pub fn sigmoid_value(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// The logistic function of every value; NaN stays NaN.
pub fn sigmoid<T: Element>(x: MatRef<'_, T>, out: &mut [T]) -> Result<()> {
    x.map_rows_into(out, x.cols(), |input, output| {
        for (o, &v) in output.iter_mut().zip(input) {
            *o = T::from_f64(sigmoid_value(v.to_f64()));
        }
    })
}

/// Rows up to this wide are ranked by counting; wider ones by selection then sorting.
const SMALL_ROW: usize = 32;

/// A score whose order is the ranking order of values (NaN above all, `-0.0` equal to `0.0`),
/// as a signed integer of 32 bits (from a float32 value) or 64; never `MIN`, which pads.
trait RankScore: Copy + Ord + Send {
    const PAD: Self;
    fn of(v: f64) -> Self;
}

impl RankScore for i32 {
    const PAD: Self = i32::MIN;
    #[inline(always)]
    fn of(v: f64) -> Self {
        // Exact: the value came from a float32.
        let bits = ((v as f32) + 0.0).to_bits();
        let flip = ((bits as i32 >> 31) as u32) | 1 << 31;
        let ordered = if v.is_nan() { u32::MAX } else { bits ^ flip };
        (ordered ^ 1 << 31) as i32
    }
}

impl RankScore for i64 {
    const PAD: Self = i64::MIN;
    #[inline(always)]
    fn of(v: f64) -> Self {
        let bits = (v + 0.0).to_bits(); // -0.0 + 0.0 == +0.0
                                        // Negative: all bits flipped; positive: the sign bit set. Without a branch (the sign
                                        // of a score is a coin flip).
        let flip = ((bits as i64 >> 63) as u64) | 1 << 63;
        let ordered = if v.is_nan() { u64::MAX } else { bits ^ flip };
        (ordered ^ 1 << 63) as i64
    }
}

/// `slots[r]` = the index of the value ranked `r` in `row` (at most `L` values): value `i`
/// beats value `j` if its score is larger, or equal at a lower index. The counts are kept for
/// all `L` lanes at once (padding never beats a value), one broadcast score per step, so the
/// inner loop is a fixed-width vector loop. Ranks are a permutation, so every slot is written.
#[inline(always)]
fn small_ranks<S: RankScore, const L: usize>(row: &[impl Element], slots: &mut [i64]) {
    let n = row.len();
    let mut scores = [S::PAD; L];
    for (s, v) in scores.iter_mut().zip(row) {
        *s = S::of(v.to_f64());
    }
    let mut rank = [0u32; L];
    for i in 0..n {
        let si = scores[i];
        for j in 0..L {
            rank[j] += u32::from((si > scores[j]) | ((si == scores[j]) & (i < j)));
        }
    }
    for j in 0..n {
        slots[rank[j] as usize] = j as i64;
    }
}

/// A key whose descending order is the ranking order: NaN first, then larger values
/// (`-0.0` equal to `0.0`), ties by the lower index. Distinct for distinct indices.
#[inline]
fn rank_key(v: f64, index: usize) -> u128 {
    // The score back to unsigned: the same order, from 0.
    let ordered = (<i64 as RankScore>::of(v) as u64) ^ 1 << 63;
    (u128::from(ordered) << 32) | u128::from(u32::MAX - index as u32)
}

/// Descending order of scores: NaN first, then larger values; ties by the lower index.
#[inline]
fn ranks_before(a: (f64, usize), b: (f64, usize)) -> Ordering {
    match (a.0.is_nan(), b.0.is_nan()) {
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (true, true) => a.1.cmp(&b.1),
        (false, false) => {
            b.0.partial_cmp(&a.0)
                .unwrap_or(Ordering::Equal)
                .then(a.1.cmp(&b.1))
        }
    }
}

/// The index of each row's largest value (the first NaN, if any; the first of equal maxima).
pub fn argmax<T: Element>(x: MatRef<'_, T>, out: &mut [i64]) -> Result<()> {
    let cols = x.cols();
    if cols == 0 && x.rows() > 0 {
        return Err(Error::Shape("argmax of rows with no values".into()));
    }
    if out.len() != x.rows() {
        return Err(Error::Shape("argmax output has the wrong size".into()));
    }
    for_row_blocks(x.data(), cols, out, 1, |input, output| {
        for (row, o) in input.chunks_exact(cols.max(1)).zip(output.iter_mut()) {
            let mut best = 0;
            let mut top = row.first().map_or(f64::NAN, |v| v.to_f64());
            if !top.is_nan() {
                for (j, v) in row.iter().enumerate().skip(1) {
                    let v = v.to_f64();
                    if v.is_nan() {
                        best = j;
                        break;
                    }
                    if v > top {
                        top = v;
                        best = j;
                    }
                }
            }
            *o = best as i64;
        }
    });
    Ok(())
}

/// The `k` largest values of each row, in descending order (NaN first; ties by the lower
/// index), with their indices. `values` and `indices` are `rows × k`.
pub fn top_k<T: Element>(
    x: MatRef<'_, T>,
    k: usize,
    values: &mut [T],
    indices: &mut [i64],
) -> Result<()> {
    let cols = x.cols();
    if k == 0 || k > cols {
        return Err(Error::Parameter(format!(
            "k must be between 1 and the number of columns ({cols}), got {k}"
        )));
    }
    let rows = x.rows();
    if values.len() != rows * k || indices.len() != rows * k {
        return Err(Error::Shape("top_k outputs have the wrong size".into()));
    }
    // Per block of rows (in parallel): the indices, then the values they point at.
    let narrow = std::mem::size_of::<T>() <= 4;
    for_row_blocks2(
        x.data(),
        cols,
        (indices, values),
        k,
        |input, output, values| {
            let mut keys: Vec<u128> = Vec::with_capacity(cols);
            let mut slots = vec![0i64; cols];
            // Rows up to 16 wide: eight float32 or four float64 rows at a time on AVX2, the
            // rest below.
            let mut done = 0;
            #[cfg(target_arch = "x86_64")]
            if cols <= 16 && crate::simd::has_avx2_fma() {
                if let Some(scores) = T::as_f32s(input) {
                    // SAFETY: the CPU has AVX2 and FMA.
                    done = unsafe { avx2::top_k_indices_f32(scores, cols, k, output) };
                } else if let Some(scores) = T::as_f64s(input) {
                    // SAFETY: the CPU has AVX2 and FMA.
                    done = unsafe { avx2::top_k_indices_f64(scores, cols, k, output) };
                }
            }
            let rows_left = input[done * cols..].chunks_exact(cols);
            for (row, o) in rows_left.zip(output[done * k..].chunks_exact_mut(k)) {
                if cols <= SMALL_ROW {
                    // A row of a few classes: each value's rank is how many values beat it,
                    // counted without branches (sorting ten random scores mispredicts most of its
                    // compares). A float32 score fits a 32-bit key, twice the lanes of a 64-bit one.
                    match (narrow, cols <= 16) {
                        (true, true) => small_ranks::<i32, 16>(row, &mut slots),
                        (true, false) => small_ranks::<i32, SMALL_ROW>(row, &mut slots),
                        (false, true) => small_ranks::<i64, 16>(row, &mut slots),
                        (false, false) => small_ranks::<i64, SMALL_ROW>(row, &mut slots),
                    }
                    o.copy_from_slice(&slots[..k]);
                } else {
                    keys.clear();
                    keys.extend(row.iter().enumerate().map(|(j, v)| rank_key(v.to_f64(), j)));
                    if k < cols {
                        keys.select_nth_unstable_by(k - 1, |a, b| b.cmp(a));
                    }
                    keys.truncate(k);
                    keys.sort_unstable_by(|a, b| b.cmp(a));
                    for (o, &key) in o.iter_mut().zip(keys.iter()) {
                        *o = (u32::MAX - key as u32) as i64;
                    }
                }
            }
            let rows = input.chunks_exact(cols).zip(output.chunks_exact(k));
            for ((row, i), v) in rows.zip(values.chunks_exact_mut(k)) {
                for (v, &j) in v.iter_mut().zip(i) {
                    *v = row[j as usize];
                }
            }
        },
    );
    Ok(())
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// `dst.copy_from_slice(&src[..dst.len()])`, inline: a copy of a length known only at run
    /// time is a call to `memmove`, which cost a tenth of `top_k`.
    #[inline(always)]
    fn put(dst: &mut [i64], src: &[i64; 16]) {
        #[inline(always)]
        fn copy<const K: usize>(dst: &mut [i64], src: &[i64; 16]) {
            let dst: &mut [i64; K] = dst.try_into().expect("K values");
            dst.copy_from_slice(&src[..K]);
        }
        match dst.len() {
            1 => copy::<1>(dst, src),
            2 => copy::<2>(dst, src),
            3 => copy::<3>(dst, src),
            4 => copy::<4>(dst, src),
            5 => copy::<5>(dst, src),
            6 => copy::<6>(dst, src),
            7 => copy::<7>(dst, src),
            8 => copy::<8>(dst, src),
            k => dst.copy_from_slice(&src[..k]),
        }
    }

    /// Rows `first..first + L` of `top_k`'s indices from the ranks in `rank[..n]` (lane `l` of
    /// each vector, an `R`, is row `first + l`): value `j` of rank `r` goes to slot `r`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn write_rows<R: Copy + Default + Into<i64>, const L: usize>(
        rank: &[__m256i; 16],
        n: usize,
        first: usize,
        k: usize,
        out: &mut [i64],
    ) {
        assert_eq!(std::mem::size_of::<[R; L]>(), 32, "one vector of lanes");
        let mut ranks = [[R::default(); L]; 16];
        for j in 0..n {
            // SAFETY: `ranks[j]` is 32 bytes, one vector (checked above).
            _mm256_storeu_si256(ranks[j].as_mut_ptr().cast(), rank[j]);
        }
        let mut slots = [0i64; 16];
        for lane in 0..L {
            for (j, r) in ranks[..n].iter().enumerate() {
                slots[r[lane].into() as usize & 15] = j as i64;
            }
            let row = first + lane;
            put(&mut out[row * k..row * k + k], &slots);
        }
    }

    /// `RankScore::of` for eight float32 values: the same `i32` keys.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn rank_scores(v: __m256) -> __m256i {
        let bits = _mm256_castps_si256(_mm256_add_ps(v, _mm256_setzero_ps()));
        let flip = _mm256_or_si256(_mm256_srai_epi32::<31>(bits), _mm256_set1_epi32(i32::MIN));
        let nan = _mm256_castps_si256(_mm256_cmp_ps::<_CMP_UNORD_Q>(v, v));
        let ordered = _mm256_or_si256(_mm256_xor_si256(bits, flip), nan);
        _mm256_xor_si256(ordered, _mm256_set1_epi32(i32::MIN))
    }

    /// `top_k`'s indices for the rows of `scores` (`n <= 16` wide) in groups of eight, a row
    /// per lane; returns how many rows it did (the rest, fewer than eight, are the caller's).
    ///
    /// Each pair of columns `i < j` is compared once for all eight rows: `j` beats `i` if its
    /// score is larger, else `i` beats `j` (ties go to the lower index), and the loser's rank
    /// goes up. That is `n (n - 1) / 2` compares for eight rows, where `small_ranks` makes `n`
    /// sixteen-lane passes for one. Ranks form a permutation, as there.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn top_k_indices_f32(scores: &[f32], n: usize, k: usize, out: &mut [i64]) -> usize {
        assert!((1..=16).contains(&n) && k <= n);
        let rows = scores.len() / n;
        let full = rows / 8 * 8;
        assert!(out.len() >= full * k);
        let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        let offsets = _mm256_mullo_epi32(lanes, _mm256_set1_epi32(n as i32));
        let mut keys = [_mm256_setzero_si256(); 16];
        let mut rank = [_mm256_setzero_si256(); 16];
        for first in (0..full).step_by(8) {
            let base = scores[first * n..].as_ptr();
            for j in 0..n {
                // SAFETY: rows `first..first + 8` are inside `scores`, and `j < n`.
                let v = _mm256_i32gather_ps::<4>(base.add(j), offsets);
                keys[j] = rank_scores(v);
                rank[j] = _mm256_set1_epi32(j as i32);
            }
            for i in 0..n {
                for j in i + 1..n {
                    let j_wins = _mm256_cmpgt_epi32(keys[j], keys[i]);
                    rank[i] = _mm256_sub_epi32(rank[i], j_wins);
                    rank[j] = _mm256_add_epi32(rank[j], j_wins);
                }
            }
            write_rows::<i32, 8>(&rank, n, first, k, out);
        }
        full
    }

    /// `RankScore::of` for four float64 values: the same `i64` keys.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn rank_scores_f64(v: __m256d) -> __m256i {
        let bits = _mm256_castpd_si256(_mm256_add_pd(v, _mm256_setzero_pd()));
        // The sign spread over each lane (AVX2 has no 64-bit arithmetic shift).
        let sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), bits);
        let flip = _mm256_or_si256(sign, _mm256_set1_epi64x(i64::MIN));
        let nan = _mm256_castpd_si256(_mm256_cmp_pd::<_CMP_UNORD_Q>(v, v));
        let ordered = _mm256_or_si256(_mm256_xor_si256(bits, flip), nan);
        _mm256_xor_si256(ordered, _mm256_set1_epi64x(i64::MIN))
    }

    /// `top_k_indices_f32` for float64 rows, four at a time.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn top_k_indices_f64(scores: &[f64], n: usize, k: usize, out: &mut [i64]) -> usize {
        assert!((1..=16).contains(&n) && k <= n);
        let rows = scores.len() / n;
        let full = rows / 4 * 4;
        assert!(out.len() >= full * k);
        let offsets = _mm_mullo_epi32(_mm_setr_epi32(0, 1, 2, 3), _mm_set1_epi32(n as i32));
        let mut keys = [_mm256_setzero_si256(); 16];
        let mut rank = [_mm256_setzero_si256(); 16];
        for first in (0..full).step_by(4) {
            let base = scores[first * n..].as_ptr();
            for j in 0..n {
                // SAFETY: rows `first..first + 4` are inside `scores`, and `j < n`.
                let v = _mm256_i32gather_pd::<8>(base.add(j), offsets);
                keys[j] = rank_scores_f64(v);
                rank[j] = _mm256_set1_epi64x(j as i64);
            }
            for i in 0..n {
                for j in i + 1..n {
                    let j_wins = _mm256_cmpgt_epi64(keys[j], keys[i]);
                    rank[i] = _mm256_sub_epi64(rank[i], j_wins);
                    rank[j] = _mm256_add_epi64(rank[j], j_wins);
                }
            }
            write_rows::<i64, 4>(&rank, n, first, k, out);
        }
        full
    }
}

// Plain comparisons (finite inputs): they compile to single instructions, where f64::min's
// NaN rules do not.
#[inline(always)]
fn min(a: f64, b: f64) -> f64 {
    if a < b {
        a
    } else {
        b
    }
}

#[inline(always)]
fn max(a: f64, b: f64) -> f64 {
    if a > b {
        a
    } else {
        b
    }
}

#[inline(always)]
fn max0(a: f64) -> f64 {
    max(a, 0.0)
}

/// Intersection over union of two `[x1, y1, x2, y2]` boxes (0 when they do not overlap; NaN
/// when both have zero area).
#[inline]
pub fn iou(a: &[f64], b: &[f64]) -> f64 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    let area = |c: &[f64]| (c[2] - c[0]) * (c[3] - c[1]);
    inter / (area(a) + area(b) - inter)
}

/// Greedy non-maximum suppression: boxes in descending score order (ties: lower index first)
/// are kept unless their IoU with a kept box of the same class exceeds `threshold`, tested
/// as `intersection > threshold * union` (no division; a zero union suppresses nothing). Returns
/// the kept indices in that order. `boxes` is `n × 4` (`x1, y1, x2, y2`); `classes`, when
/// given, confines suppression to boxes of one class. Coordinates must be finite with
/// `x1 <= x2` and `y1 <= y2`, scores not NaN (`fastprep.post.nms` checks).
pub fn nms(
    boxes: MatRef<'_, f64>,
    scores: &[f64],
    threshold: f64,
    classes: Option<&[i64]>,
) -> Result<Vec<i64>> {
    let n = boxes.rows();
    if boxes.cols() != 4 {
        return Err(Error::Shape(format!(
            "boxes must be n x 4 (x1, y1, x2, y2), got {} columns",
            boxes.cols()
        )));
    }
    if scores.len() != n || classes.is_some_and(|c| c.len() != n) {
        return Err(Error::Shape(format!(
            "{n} boxes need {n} scores (and classes), got {}",
            scores.len()
        )));
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| ranks_before((scores[a], a), (scores[b], b)));
    // The boxes in score order, one array per coordinate: the inner loop below reads them
    // in sequence and has no branch, so it vectorises.
    let data = boxes.data();
    let column = |c: usize| -> Vec<f64> { order.iter().map(|&i| data[i * 4 + c]).collect() };
    let (x1, y1, x2, y2) = (column(0), column(1), column(2), column(3));
    let area: Vec<f64> = (0..n).map(|p| (x2[p] - x1[p]) * (y2[p] - y1[p])).collect();
    let class: Vec<i64> = match classes {
        Some(c) => order.iter().map(|&i| c[i]).collect(),
        None => vec![0; n],
    };
    let mut suppressed = vec![false; n];
    let mut kept: Vec<usize> = Vec::new();
    for p in 0..n {
        if suppressed[p] {
            continue;
        }
        kept.push(order[p]);
        let (ax1, ay1, ax2, ay2, aa, ac) = (x1[p], y1[p], x2[p], y2[p], area[p], class[p]);
        let rest = p + 1..n;
        let others = x1[rest.clone()]
            .iter()
            .zip(&y1[rest.clone()])
            .zip(&x2[rest.clone()])
            .zip(&y2[rest.clone()])
            .zip(&area[rest.clone()])
            .zip(&class[rest.clone()]);
        for (s, (((((&bx1, &by1), &bx2), &by2), &ba), &bc)) in
            suppressed[rest].iter_mut().zip(others)
        {
            // `iou > threshold` as `inter > threshold * union`: no division (the union is
            // never negative: boxes have x1 <= x2 and y1 <= y2, checked by the caller)
            let w = max0(min(ax2, bx2) - max(ax1, bx1));
            let h = max0(min(ay2, by2) - max(ay1, by1));
            let inter = w * h;
            *s |= (inter > threshold * (aa + ba - inter)) & (ac == bc);
        }
    }
    Ok(kept.into_iter().map(|i| i as i64).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Mat;

    #[test]
    fn softmax_is_stable_at_the_extremes() {
        let data = [1e308, -1e308, 0.0, f64::NEG_INFINITY, 0.0, 0.0];
        let x = MatRef::new(&data, 2, 3).expect("shape");
        let y = Mat::build(2, 3, |o| softmax(x, o)).expect("kernel");
        assert_eq!(y.data[..3], [1.0, 0.0, 0.0]);
        assert_eq!(y.data[3..], [0.0, 0.5, 0.5]);
    }

    #[test]
    fn small_rankings_match_a_sort_of_the_wide_keys() {
        let pool = [
            f32::NAN,
            1.5,
            -0.0,
            0.0,
            -2.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            1.5,
        ];
        for n in 1..=32 {
            let row: Vec<f32> = (0..n).map(|i| pool[(i * 5 + n) % pool.len()]).collect();
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by_key(|&j| std::cmp::Reverse(rank_key(row[j] as f64, j)));
            let expected: Vec<i64> = order.iter().map(|&j| j as i64).collect();
            let wide: Vec<f64> = row.iter().map(|&v| v as f64).collect();
            let mut slots = vec![-1i64; n];
            small_ranks::<i32, 32>(&row, &mut slots);
            assert_eq!(slots, expected, "float32, {n}");
            small_ranks::<i64, 32>(&wide, &mut slots);
            assert_eq!(slots, expected, "float64, {n}");
            if n <= 16 {
                small_ranks::<i32, 16>(&row, &mut slots);
                assert_eq!(slots, expected, "float32, 16 lanes, {n}");
            }
        }
    }

    /// `top_k` of `data` (`n` wide) equals a sort of the wide keys, row by row.
    fn assert_top_k_sorts<T: Element + PartialEq + std::fmt::Debug>(data: &[T], n: usize) {
        let rows = data.len() / n;
        let x = MatRef::new(data, rows, n).expect("shape");
        for k in [1, n.div_ceil(2), n] {
            let (mut v, mut i) = (vec![T::ZERO; rows * k], vec![0i64; rows * k]);
            top_k(x, k, &mut v, &mut i).expect("kernel");
            for (r, row) in data.chunks_exact(n).enumerate() {
                let mut order: Vec<usize> = (0..n).collect();
                order.sort_by_key(|&j| std::cmp::Reverse(rank_key(row[j].to_f64(), j)));
                let expected: Vec<i64> = order[..k].iter().map(|&j| j as i64).collect();
                assert_eq!(i[r * k..(r + 1) * k], expected[..], "n {n}, k {k}, row {r}");
                for (value, &j) in v[r * k..(r + 1) * k].iter().zip(&expected) {
                    assert_eq!(value.to_f64().to_bits(), row[j as usize].to_f64().to_bits());
                }
            }
        }
    }

    /// Rows up to 16 wide go eight (float32) or four (float64) at a time through the AVX2
    /// ranking where the CPU has it, the last few through `small_ranks`: both equal a sort.
    #[test]
    fn top_k_of_narrow_rows_matches_a_sort() {
        let pool = [
            f64::NAN,
            1.5,
            -0.0,
            0.0,
            -2.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1.5,
            7.25,
            1.0,
            1.0 + 1e-12, // equal to 1.0 in float32 only
        ];
        let mut state = 12345u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        for n in 1..=17 {
            let rows = 8 * 3 + n % 8;
            let wide: Vec<f64> = (0..rows * n).map(|_| pool[next() % pool.len()]).collect();
            let narrow: Vec<f32> = wide.iter().map(|&v| v as f32).collect();
            assert_top_k_sorts(&wide, n);
            assert_top_k_sorts(&narrow, n);
        }
    }

    #[test]
    fn top_k_breaks_ties_by_index_and_ranks_nan_first() {
        let data = [1.0f32, 3.0, 3.0, f32::NAN, 2.0];
        let x = MatRef::new(&data, 1, 5).expect("shape");
        let (mut v, mut i) = (vec![0.0f32; 3], vec![0i64; 3]);
        top_k(x, 3, &mut v, &mut i).expect("kernel");
        assert_eq!(i, [3, 1, 2]);
        assert!(top_k(x, 0, &mut v, &mut i).is_err());
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes_per_class() {
        let boxes = [
            0.0, 0.0, 10.0, 10.0, 1.0, 1.0, 10.0, 10.0, 20.0, 20.0, 30.0, 30.0,
        ];
        let b = MatRef::new(&boxes, 3, 4).expect("shape");
        let scores = [0.9, 0.8, 0.7];
        assert_eq!(nms(b, &scores, 0.5, None).expect("nms"), [0, 2]);
        assert_eq!(
            nms(b, &scores, 0.5, Some(&[0, 1, 0])).expect("nms"),
            [0, 1, 2]
        );
    }
}
