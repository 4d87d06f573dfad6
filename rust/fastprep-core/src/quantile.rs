//! Exact order statistics of columns, skipping NaN: quantiles, medians and modes.
//!
//! The interpolation reproduces NumPy bit for bit, so exact fits agree with scikit-learn:
//! quantiles follow `np.nanquantile` with `method="linear"` or `"averaged_inverted_cdf"`
//! (including NumPy's index clamping and two-sided `_lerp`), and medians follow `np.nanmedian`,
//! which averages the two middle values as `(a + b) / 2`.
//! A column with no non-NaN value gives NaN.

use crate::error::{Error, Result};

use crate::matrix::{per_column, Element, Mat, MatRef};
use crate::memory::zeroed;
use crate::parallel::{map_blocks, map_items, max_threads};

/// `buffer`, grown with fresh (huge-page-backed) memory if it is shorter than `len`.
fn at_least<U: Copy + Default>(buffer: &mut Vec<U>, len: usize) -> &mut [U] {
    if buffer.len() < len {
        *buffer = zeroed(len);
    }
    &mut buffer[..len]
}

/// The keys that sorting `keys` would put at positions `ranks` (ascending, distinct, each below
/// `keys.len()`), without sorting: an MSD radix selection. Each level counts one 11-bit digit
/// of the keys, moves them into digit order and goes on only into the buckets that hold a
/// wanted rank, so it reads the data about three times whatever the number of ranks (a
/// `select_nth_unstable` per rank reads it twice per rank). With a `SortKey`, the order is
/// `total_cmp`'s and the values returned are exactly the sorted ones. `keys` is reordered and
/// `scratch` (as long) overwritten.
fn order_statistics<K: SortKey>(keys: &mut [K], scratch: &mut [K], ranks: &[usize]) -> Vec<f64> {
    let mut out = vec![K::default(); ranks.len()];
    radix_select(keys, scratch, ranks, &mut out, K::BITS);
    out.into_iter().map(K::value).collect()
}

/// An unsigned integer whose order is the `total_cmp` order of the floats it stands for: `u64`
/// for any value as `f64`, `u32` for float32 input, whose keys move half the bytes.
trait SortKey: Copy + Ord + Default + Send + Sync {
    const BITS: u32;
    /// The key of a value of the input (NaN excluded before).
    fn of(v: f64) -> Self;
    /// The value of a key, as `f64`.
    fn value(self) -> f64;
    fn bits(self) -> u64;
}

impl SortKey for u64 {
    const BITS: u32 = 64;
    #[inline]
    fn of(v: f64) -> Self {
        sort_key(v)
    }
    #[inline]
    fn value(self) -> f64 {
        from_sort_key(self)
    }
    #[inline]
    fn bits(self) -> u64 {
        self
    }
}

impl SortKey for u32 {
    const BITS: u32 = 32;
    /// `v` is a float32 value (exact as `f32`).
    #[inline]
    fn of(v: f64) -> Self {
        let bits = (v as f32).to_bits();
        if bits >> 31 == 1 {
            !bits
        } else {
            bits | 1 << 31
        }
    }
    #[inline]
    fn value(self) -> f64 {
        f64::from(f32::from_bits(if self >> 31 == 1 {
            self & !(1 << 31)
        } else {
            !self
        }))
    }
    #[inline]
    fn bits(self) -> u64 {
        u64::from(self)
    }
}

/// `a.total_cmp(&b) == sort_key(a).cmp(&sort_key(b))`.
#[inline]
fn sort_key(v: f64) -> u64 {
    let bits = v.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

#[inline]
fn from_sort_key(key: u64) -> f64 {
    f64::from_bits(if key >> 63 == 1 {
        key & !(1 << 63)
    } else {
        !key
    })
}

/// Bits per radix digit: 2,048 buckets, whose counters and write positions stay in L1 cache.
const DIGIT_BITS: u32 = 11;
/// Below this many keys a bucket is sorted outright.
const SORT_BELOW: usize = 1 << 10;

/// Writes the keys at sorted positions `ranks` into `out`. Every key agrees on all bits above
/// the lowest `bits_left`. `keys` is reordered; `scratch` (as long) is overwritten.
fn radix_select<K: SortKey>(
    keys: &mut [K],
    scratch: &mut [K],
    ranks: &[usize],
    out: &mut [K],
    bits_left: u32,
) {
    if ranks.is_empty() {
        return;
    }
    if keys.len() <= SORT_BELOW || bits_left == 0 {
        keys.sort_unstable();
        for (o, &r) in out.iter_mut().zip(ranks) {
            *o = keys[r];
        }
        return;
    }
    // The digit starts at the highest bit on which the keys differ: a column of one sign and
    // magnitude shares its top bits, which would split nothing (a vectorised pass, cheaper
    // than a count that finds a single bucket).
    let first = keys[0];
    let differ = keys
        .iter()
        .fold(0u64, |acc, &k| acc | (k.bits() ^ first.bits()));
    if differ == 0 {
        out.fill(first);
        return;
    }
    let bits_left = bits_left.min(64 - differ.leading_zeros());
    let shift = bits_left.saturating_sub(DIGIT_BITS);
    let mask = (1usize << (bits_left - shift)) - 1;
    let digit = |k: K| (k.bits() >> shift) as usize & mask;
    let mut counts = vec![0usize; mask + 1];
    for &k in keys.iter() {
        counts[digit(k)] += 1;
    }
    let mut starts = Vec::with_capacity(counts.len());
    let mut total = 0;
    for &c in &counts {
        starts.push(total);
        total += c;
    }
    // Only the buckets that hold a wanted rank are moved (a few for a median or quartiles,
    // most of them for a thousand quantiles), each to its place in digit order. Branch-free:
    // a key of another bucket is written over its bucket's first slot, which stays in cache
    // and is never read.
    let mut wanted = vec![0usize; counts.len()];
    for &r in ranks {
        wanted[starts.partition_point(|&s| s <= r) - 1] = 1;
    }
    let mut next = starts.clone();
    for &k in keys.iter() {
        let d = digit(k);
        scratch[next[d]] = k;
        next[d] += wanted[d];
    }
    // Each wanted bucket is now a contiguous run of `scratch`, in order; recurse into them
    // (`keys` serves as their scratch).
    let mut i = 0;
    while i < ranks.len() {
        // The last bucket starting at or before the rank: the non-empty one that holds it.
        let d = starts.partition_point(|&s| s <= ranks[i]) - 1;
        let (lo, hi) = (starts[d], starts[d] + counts[d]);
        let j = i + ranks[i..].partition_point(|&r| r < hi);
        let inner: Vec<usize> = ranks[i..j].iter().map(|r| r - lo).collect();
        radix_select(
            &mut scratch[lo..hi],
            &mut keys[lo..hi],
            &inner,
            &mut out[i..j],
            shift,
        );
        i = j;
    }
}

/// Matrices with fewer rows go straight to the gather and the radix selection.
const SAMPLED_MIN_ROWS: usize = 1 << 18;
/// Rows of the sample that places the intervals of the sampled selection.
const SAMPLE_ROWS: usize = 1 << 15;
/// Consecutive rows per run of the sample (runs read whole cache lines, in order).
const SAMPLE_RUN: usize = 16;
/// Most wanted ranks per column for which the sampled selection is tried: a median and
/// quartiles or a few bin edges are; a thousand quantiles go to the radix selection.
const SAMPLED_MAX_RANKS: usize = 16;
/// Bytes per step of the pass: a step's rows stay in L2 cache while each group of columns
/// reads them, and a block checks after each step that it keeps few enough keys.
const STEP_BYTES: usize = 1 << 18;
/// Rows ahead of the one read that the pass prefetches.
#[cfg(target_arch = "x86_64")]
const PREFETCH_ROWS: usize = 64;

/// One column's keys `lo..=hi` around some wanted ranks, as the sample places them.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Interval {
    lo: u64,
    hi: u64,
}

impl Interval {
    /// A one-key interval: its keys are counted, not kept (they are all the same value).
    fn is_point(&self) -> bool {
        self.lo == self.hi
    }
}

/// An empty slot: no key is inside it.
const NO_INTERVAL: Interval = Interval {
    lo: u64::MAX,
    hi: u64::MAX - 1,
};

/// What a block of rows shows of every column: its NaN count and extreme keys; per interval
/// slot (`slots` per column) the keys below the interval and inside it; and per column the keys
/// inside its intervals other than one-key ones, in no particular order.
struct Tally {
    /// Whether `min` and `max` are kept (only the extreme ranks need them).
    extremes: bool,
    nan: Vec<usize>,
    min: Vec<u64>,
    max: Vec<u64>,
    below: Vec<usize>,
    inside: Vec<usize>,
    kept: Vec<Vec<u64>>,
}

impl Tally {
    fn new(m: usize, slots: usize, extremes: bool) -> Self {
        Tally {
            extremes,
            nan: vec![0; m],
            min: vec![u64::MAX; m],
            max: vec![0; m],
            below: vec![0; m * slots],
            inside: vec![0; m * slots],
            kept: (0..m).map(|_| Vec::new()).collect(),
        }
    }

    fn kept_total(&self) -> usize {
        self.kept.iter().map(Vec::len).sum()
    }

    /// Counts `rows` (row-major, `bounds.len() / slots` values each) into this tally.
    fn add_rows<T: Element>(&mut self, rows: &[T], bounds: &[Interval], slots: usize) {
        let m = self.nan.len();
        for kept in &mut self.kept {
            kept.reserve(rows.len() / m);
        }
        #[cfg(target_arch = "x86_64")]
        if crate::simd::has_avx2_fma() {
            // SAFETY: the CPU has AVX2, and every column has room for a key per row.
            return unsafe { avx2::add_rows(self, rows, bounds, slots) };
        }
        self.add_columns(rows, bounds, slots, 0);
    }

    /// `add_rows` for the columns from `first` on.
    fn add_columns<T: Element>(
        &mut self,
        rows: &[T],
        bounds: &[Interval],
        slots: usize,
        first: usize,
    ) {
        let m = self.nan.len();
        for row in rows.chunks_exact(m) {
            for (j, &v) in row.iter().enumerate().skip(first) {
                let v = v.to_f64();
                if v.is_nan() {
                    self.nan[j] += 1;
                    continue;
                }
                let k = sort_key(v);
                self.min[j] = self.min[j].min(k);
                self.max[j] = self.max[j].max(k);
                for s in j * slots..(j + 1) * slots {
                    let b = bounds[s];
                    self.below[s] += usize::from(k < b.lo);
                    if b.lo <= k && k <= b.hi {
                        self.inside[s] += 1;
                        if !b.is_point() {
                            self.kept[j].push(k);
                        }
                    }
                }
            }
        }
    }

    /// Adds the counts of `other` (not its kept keys).
    fn add_counts(&mut self, other: &Tally) {
        let add = |a: &mut [usize], b: &[usize]| a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
        add(&mut self.nan, &other.nan);
        add(&mut self.below, &other.below);
        add(&mut self.inside, &other.inside);
        for (a, &b) in self.min.iter_mut().zip(&other.min) {
            *a = (*a).min(b);
        }
        for (a, &b) in self.max.iter_mut().zip(&other.max) {
            *a = (*a).max(b);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{Interval, Tally, PREFETCH_ROWS};
    use crate::matrix::Element;
    use std::arch::x86_64::*;

    /// `Tally::add_rows` four columns at a time (a group), a group's state in registers, over
    /// the rows of a step that stay in cache for the next group. Each interval `lo..=hi` is two
    /// boundaries, `lo - 1` and `hi`: a value's key above one adds to its count, and the
    /// interval holds the key if it is above exactly one of them.
    ///
    /// # Safety
    /// The CPU has AVX2; every column's kept keys have room for one more key per row.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn add_rows<T: Element>(
        tally: &mut Tally,
        rows: &[T],
        bounds: &[Interval],
        slots: usize,
    ) {
        let points = bounds.iter().any(|b| b.is_point());
        let extremes = tally.extremes;
        match (slots, points, extremes) {
            (1, false, false) => add_groups::<T, 1, false, false>(tally, rows, bounds),
            (2, false, false) => add_groups::<T, 2, false, false>(tally, rows, bounds),
            (3, false, false) => add_groups::<T, 3, false, false>(tally, rows, bounds),
            (4, false, false) => add_groups::<T, 4, false, false>(tally, rows, bounds),
            (1, false, true) => add_groups::<T, 1, false, true>(tally, rows, bounds),
            (2, false, true) => add_groups::<T, 2, false, true>(tally, rows, bounds),
            (3, false, true) => add_groups::<T, 3, false, true>(tally, rows, bounds),
            (4, false, true) => add_groups::<T, 4, false, true>(tally, rows, bounds),
            (1..=4, ..) => add_groups::<T, 4, true, true>(tally, rows, bounds),
            (5..=8, ..) => add_groups::<T, 8, true, true>(tally, rows, bounds),
            _ => tally.add_columns(rows, bounds, slots, 0),
        }
    }

    #[inline]
    fn lanes(v: __m256i) -> [i64; 4] {
        // SAFETY: both are 32 plain bytes.
        unsafe { std::mem::transmute(v) }
    }

    /// `S` is at least the number of slots (spare ones are empty); `POINTS` says whether some
    /// interval is a one-key one, whose keys are counted but not kept; `EXTREMES` whether the
    /// tally keeps the extreme keys.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn add_groups<T: Element, const S: usize, const POINTS: bool, const EXTREMES: bool>(
        tally: &mut Tally,
        rows: &[T],
        bounds: &[Interval],
    ) {
        let m = tally.nan.len();
        let slots = bounds.len() / m;
        for g in 0..m / 4 {
            add_group::<T, S, POINTS, EXTREMES>(tally, rows, bounds, slots, g);
        }
        if m % 4 != 0 {
            tally.add_columns(rows, bounds, slots, m - m % 4);
        }
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn add_group<T: Element, const S: usize, const POINTS: bool, const EXTREMES: bool>(
        tally: &mut Tally,
        rows: &[T],
        bounds: &[Interval],
        slots: usize,
        g: usize,
    ) {
        let (m, n) = (tally.nan.len(), rows.len() / tally.nan.len());
        let slot = |l: usize, s: usize| (s < slots).then(|| bounds[(4 * g + l) * slots + s]);
        // Boundaries in signed form (`sort_key ^ 1 << 63`): AVX2 compares signed 64-bit
        // lanes. A spare slot is empty: both its boundaries are the same.
        let wide = |f: &dyn Fn(usize) -> u64| {
            let at = |l: usize| (f(l) ^ 1 << 63) as i64;
            _mm256_setr_epi64x(at(0), at(1), at(2), at(3))
        };
        let under: [__m256i; S] = std::array::from_fn(|s| {
            wide(&|l| slot(l, s).map_or(u64::MAX - 1, |b| b.lo.saturating_sub(1)))
        });
        let top: [__m256i; S] =
            std::array::from_fn(|s| wide(&|l| slot(l, s).map_or(u64::MAX - 1, |b| b.hi)));
        // All ones in the lanes of intervals whose keys are kept (not one-key ones).
        let kept_slot: [__m256i; S] = std::array::from_fn(|s| {
            let mask = |l: usize| -i64::from(slot(l, s).is_some_and(|b| !b.is_point()));
            _mm256_setr_epi64x(mask(0), mask(1), mask(2), mask(3))
        });
        let zero = _mm256_setzero_si256();
        let flip = _mm256_set1_epi64x(i64::MIN);
        let magnitude = _mm256_set1_epi64x(i64::MAX);
        let (mut from, mut past) = ([zero; S], [zero; S]);
        let (mut nan, mut min, mut max) = (zero, magnitude, flip);
        let kept = &mut tally.kept[4 * g..4 * g + 4];
        let ends: [*mut u64; 4] = std::array::from_fn(|l| kept[l].as_mut_ptr());
        let mut lens: [usize; 4] = std::array::from_fn(|l| kept[l].len());
        let mut p = rows.as_ptr().add(4 * g);
        // Hardware prefetchers lose a strided stream at page boundaries.
        let ahead = PREFETCH_ROWS * m;
        for _ in 0..n {
            let x = T::load4(p);
            crate::memory::prefetch(p.wrapping_add(ahead));
            p = p.add(m);
            let is_nan = _mm256_castpd_si256(_mm256_cmp_pd::<_CMP_UNORD_Q>(x, x));
            let bits = _mm256_castpd_si256(x);
            let negative = _mm256_cmpgt_epi64(zero, bits);
            let key = _mm256_xor_si256(bits, _mm256_and_si256(negative, magnitude));
            // A NaN lane takes the top key: above every boundary (none is that high), and no
            // minimum; for the maximum, the bottom key.
            let high = _mm256_blendv_epi8(key, magnitude, is_nan);
            nan = _mm256_sub_epi64(nan, is_nan);
            if EXTREMES {
                let low = _mm256_blendv_epi8(key, flip, is_nan);
                min = _mm256_blendv_epi8(min, high, _mm256_cmpgt_epi64(min, high));
                max = _mm256_blendv_epi8(max, low, _mm256_cmpgt_epi64(low, max));
            }
            let mut keep = zero;
            for s in 0..S {
                let a = _mm256_cmpgt_epi64(high, under[s]);
                let b = _mm256_cmpgt_epi64(high, top[s]);
                from[s] = _mm256_sub_epi64(from[s], a);
                past[s] = _mm256_sub_epi64(past[s], b);
                let inside = _mm256_xor_si256(a, b);
                let inside = if POINTS {
                    _mm256_and_si256(inside, kept_slot[s])
                } else {
                    inside
                };
                keep = _mm256_xor_si256(keep, inside);
            }
            let keep = _mm256_movemask_pd(_mm256_castsi256_pd(keep)) as usize;
            let keys = lanes(_mm256_xor_si256(key, flip));
            for l in 0..4 {
                ends[l].add(lens[l]).write(keys[l] as u64);
                lens[l] += (keep >> l) & 1;
            }
        }
        for (kept, &len) in kept.iter_mut().zip(&lens) {
            kept.set_len(len);
        }
        let (nan, min, max) = (lanes(nan), lanes(min), lanes(max));
        let (from, past) = (from.map(lanes), past.map(lanes));
        for l in 0..4 {
            let j = 4 * g + l;
            tally.nan[j] += nan[l] as usize;
            if EXTREMES {
                tally.min[j] = tally.min[j].min((min[l] as u64) ^ 1 << 63);
                tally.max[j] = tally.max[j].max((max[l] as u64) ^ 1 << 63);
            }
            for s in 0..slots {
                // NaN lanes are above every boundary.
                let (a, b) = (from[s][l] as usize, past[s][l] as usize);
                tally.below[j * slots + s] += n - a;
                tally.inside[j * slots + s] += a - b;
            }
        }
    }
}

/// A fixed pseudo-random offset in `0..span`, so that data with a period is still sampled
/// across its period.
fn jitter(k: usize, span: usize) -> usize {
    let mut z = (k as u64)
        .wrapping_add(1)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 31)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    ((z ^ (z >> 29)) % span.max(1) as u64) as usize
}

/// One column's intervals from its sample's keys (reordered): around each wanted rank of a
/// column of about `n` values, the sample ranks within five standard deviations of where the
/// rank falls, merged where they overlap. The extreme ranks come from the pass's minimum and
/// maximum and need none; an interval that reaches the sample's end is open on that side.
/// Also the share of the sample inside them, which the pass expects to keep.
fn intervals(sample: &mut [u64], n: usize, wanted: &[usize]) -> (Vec<Interval>, f64) {
    let ns = sample.len();
    let margin = 2.5 * (ns as f64).sqrt() + 8.0;
    // Per wanted rank: its sample position and the interval's ends in the sample (none where
    // the interval is open).
    let spans: Vec<(usize, Option<usize>, Option<usize>)> = wanted
        .iter()
        .filter(|&&r| r != 0 && r + 1 != n)
        .map(|&r| {
            let at = r as f64 / (n - 1) as f64 * (ns - 1) as f64;
            let (lo, hi) = ((at - margin).floor(), (at + margin).ceil());
            (
                at.round() as usize,
                (lo >= 0.0).then_some(lo as usize),
                (hi <= (ns - 1) as f64).then_some(hi as usize),
            )
        })
        .collect();
    let mut at: Vec<usize> = spans
        .iter()
        .flat_map(|&(c, a, b)| [Some(c), a, b])
        .flatten()
        .collect();
    at.sort_unstable();
    at.dedup();
    let mut keys = vec![0u64; at.len()];
    radix_select(sample, &mut vec![0u64; ns], &at, &mut keys, 64);
    let key = |i: usize| keys[at.partition_point(|&a| a < i)];
    let mut merged: Vec<Interval> = Vec::with_capacity(3 * spans.len());
    // Intervals that share a key become one (a key is counted in one interval only), except
    // that a one-key interval stays one: a range starting or ending on its key gives it up.
    let mut push = |mut next: Interval| {
        if let Some(last) = merged.last_mut() {
            if next.lo <= last.hi {
                if last.is_point() && next.lo == last.lo {
                    next.lo += 1;
                } else if next.is_point() && next.lo == last.hi {
                    last.hi -= 1;
                    if last.lo > last.hi {
                        merged.pop();
                    }
                } else {
                    last.hi = last.hi.max(next.hi);
                    return;
                }
            }
        }
        if next.lo <= next.hi {
            merged.push(next);
        }
    };
    let (mut covered, mut last_end) = (0, 0);
    for &(c, lo, hi) in &spans {
        let (start, end) = (lo.unwrap_or(0).max(last_end), hi.map_or(ns, |h| h + 1));
        covered += end.saturating_sub(start);
        last_end = last_end.max(end);
        let (mut a, mut b) = (lo.map_or(0, key), hi.map_or(u64::MAX - 1, key));
        // An end that the sample repeats up to the rank's own position is a heavily tied
        // value: it becomes a one-key interval of its own, counted rather than kept.
        let centre = key(c);
        let tied_low = lo.is_some() && a == centre && a < b;
        let tied_high = hi.is_some() && b == centre && a < b;
        if tied_low {
            push(Interval { lo: a, hi: a });
            a += 1;
        }
        if tied_high {
            b -= 1;
        }
        if a <= b {
            push(Interval { lo: a, hi: b });
        }
        if tied_high {
            push(Interval {
                lo: b + 1,
                hi: b + 1,
            });
        }
    }
    (merged, covered as f64 / ns as f64)
}

/// Every column's number of non-NaN values `n` and its keys at sorted positions `ranks(n)`,
/// from one pass over the row-major data instead of a gather into column order and a selection
/// over all of it (a tall matrix: `SAMPLED_MIN_ROWS`). A sample of about `sample_rows` rows
/// places, around each wanted rank, an interval of keys that should hold it; the pass counts
/// each column's NaN, its extremes and the keys below and inside each interval, and keeps only
/// the keys inside (a few percent). The counts then say which kept key has which rank, and a
/// radix selection over the kept keys finds them. `None` when the sample misplaced an interval
/// (a rank falls outside it) or too many keys fall inside (ties the intervals cannot split):
/// the caller then gathers and selects, so the result is exact either way.
fn sampled_order_statistics<T: Element>(
    x: MatRef<'_, T>,
    sample_rows: usize,
    ranks: &(impl Fn(usize) -> Vec<usize> + Sync),
) -> Option<Vec<(usize, Vec<f64>)>> {
    let (n, m) = (x.rows(), x.cols());
    let runs = sample_rows.div_ceil(SAMPLE_RUN);
    let spacing = n / runs.max(1);
    if m == 0 || runs == 0 || spacing < 2 * SAMPLE_RUN {
        return None;
    }
    let data = x.data();
    let parallel = max_threads() != 1;

    // The sample: runs of rows at evenly spread, jittered places, each column's keys in its
    // own stretch of one buffer. Stretches a cache line longer than the sample keep the
    // columns' write positions off the same cache sets.
    let sampled = runs * SAMPLE_RUN;
    let stride = sampled + 8;
    let mut flat = zeroed::<u64>(m * stride);
    let mut lens = vec![0usize; m];
    for k in 0..runs {
        // A run may reach into the next spacing: every row is as likely to be in a run.
        let first = (k * spacing + jitter(k, spacing)).min(n - SAMPLE_RUN);
        for row in data[first * m..(first + SAMPLE_RUN) * m].chunks_exact(m) {
            for (j, &v) in row.iter().enumerate() {
                let v = v.to_f64();
                flat[j * stride + lens[j]] = sort_key(v);
                lens[j] += usize::from(!v.is_nan());
            }
        }
    }
    let samples: Vec<&mut [u64]> = flat
        .chunks_mut(stride)
        .zip(&lens)
        .map(|(c, &len)| &mut c[..len])
        .collect();
    let columns = map_items(samples, parallel, |sample| {
        let ns = sample.len();
        if ns < 256 {
            return None;
        }
        let n_guess = ((n as f64 * ns as f64 / sampled as f64).round() as usize).max(2);
        let wanted = ranks(n_guess);
        let extremes = wanted.first() == Some(&0) || wanted.last() == Some(&(n_guess - 1));
        (wanted.len() <= SAMPLED_MAX_RANKS).then(|| (intervals(sample, n_guess, &wanted), extremes))
    })
    .into_iter()
    .collect::<Option<Vec<_>>>()?;
    let extremes = columns.iter().any(|c| c.1);
    let (columns, shares): (Vec<Vec<Interval>>, Vec<f64>) =
        columns.into_iter().map(|c| c.0).unzip();
    let slots = columns.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let mut bounds = vec![NO_INTERVAL; m * slots];
    for (j, column) in columns.iter().enumerate() {
        bounds[j * slots..][..column.len()].copy_from_slice(column);
    }

    // The pass: blocks of rows on every core; a block gives up once it keeps more than a
    // quarter of its values.
    let threads = if parallel {
        rayon::current_num_threads().max(1)
    } else {
        1
    };
    let block_rows = n.div_ceil(threads * 4).max(1);
    let step_rows = (STEP_BYTES / (m * std::mem::size_of::<T>())).max(64);
    let tallies = map_blocks(n.div_ceil(block_rows), parallel, |b| {
        let block = &data[b * block_rows * m..((b + 1) * block_rows).min(n) * m];
        let mut tally = Tally::new(m, slots, extremes);
        // Room for the keys the sample expects and then some, in one fresh allocation.
        let rows = block.len() / m;
        for (kept, share) in tally.kept.iter_mut().zip(&shares) {
            *kept = zeroed((rows as f64 * share * 1.25) as usize + step_rows);
            kept.clear();
        }
        for step in block.chunks(step_rows * m) {
            tally.add_rows(step, &bounds, slots);
            if tally.kept_total() * 4 > block.len() {
                return None;
            }
        }
        Some(tally)
    });
    let tallies: Vec<Tally> = tallies.into_iter().collect::<Option<_>>()?;
    let mut total = Tally::new(m, slots, extremes);
    for tally in &tallies {
        total.add_counts(tally);
    }

    // Which interval holds each rank, then one selection over each column's kept keys.
    let Tally {
        nan,
        min,
        max,
        below,
        inside,
        ..
    } = total;
    map_blocks(m, parallel, |j| {
        let count = n - nan[j];
        if count == 0 {
            return Some((0, Vec::new()));
        }
        let slot = |s: usize| j * slots + s;
        let wanted = ranks(count);
        let mut out = vec![0u64; wanted.len()];
        // Ranks among the kept keys, and where their keys go in `out`.
        let (mut local, mut to) = (Vec::new(), Vec::new());
        for (i, &r) in wanted.iter().enumerate() {
            if extremes && (r == 0 || r + 1 == count) {
                out[i] = if r == 0 { min[j] } else { max[j] };
                continue;
            }
            let s = (0..slots)
                .find(|&s| below[slot(s)] <= r && r < below[slot(s)] + inside[slot(s)])?;
            if bounds[slot(s)].is_point() {
                out[i] = bounds[slot(s)].lo;
                continue;
            }
            // The kept keys of this column's earlier intervals all come before this one's.
            let before: usize = (0..s)
                .filter(|&t| !bounds[slot(t)].is_point())
                .map(|t| inside[slot(t)])
                .sum();
            local.push(before + r - below[slot(s)]);
            to.push(i);
        }
        if !local.is_empty() {
            // The column's kept keys from every block, in one buffer.
            let mut kept = zeroed::<u64>(tallies.iter().map(|t| t.kept[j].len()).sum());
            let mut at = 0;
            for tally in &tallies {
                kept[at..at + tally.kept[j].len()].copy_from_slice(&tally.kept[j]);
                at += tally.kept[j].len();
            }
            let mut selected = vec![0u64; local.len()];
            let len = kept.len();
            radix_select(&mut kept, &mut zeroed(len), &local, &mut selected, 64);
            for (&i, &k) in to.iter().zip(&selected) {
                out[i] = k;
            }
        }
        Some((count, out.into_iter().map(from_sort_key).collect()))
    })
    .into_iter()
    .collect()
}

/// NumPy's `_lerp`: exact at both ends, monotone in `t`.
#[inline]
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

/// NumPy's quantile methods that fastprep supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantileMethod {
    /// Hyndman & Fan's type 7, NumPy's default: `np.nanpercentile`, scikit-learn's
    /// `RobustScaler` and `QuantileTransformer`.
    Linear,
    /// Type 2: the mean of the two neighbours at a jump of the CDF, else the upper one;
    /// scikit-learn's `KBinsDiscretizer` default.
    AveragedInvertedCdf,
}

impl QuantileMethod {
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "linear" => Ok(Self::Linear),
            "averaged_inverted_cdf" => Ok(Self::AveragedInvertedCdf),
            other => Err(Error::Parameter(format!(
                "quantile method must be 'linear' or 'averaged_inverted_cdf', got {other:?}"
            ))),
        }
    }
}

/// Position of quantile `q` in `n` sorted values: (previous index, next index, gamma), as
/// NumPy's `_get_indexes` and `_get_gamma` compute them, clamping included.
fn position(n: usize, q: f64, method: QuantileMethod) -> (usize, usize, f64) {
    let virtual_index = match method {
        QuantileMethod::Linear => (n - 1) as f64 * q,
        QuantileMethod::AveragedInvertedCdf => n as f64 * q - 1.0,
    };
    // NumPy points both neighbours at the last value (index -1) above the range and at the
    // first (index 0) below it; gamma is taken against those clamped indices.
    let (prev, next, prev_index) = if virtual_index >= (n - 1) as f64 {
        (n - 1, n - 1, -1.0)
    } else if virtual_index < 0.0 {
        (0, 0, 0.0)
    } else {
        let p = virtual_index.floor();
        (p as usize, p as usize + 1, p)
    };
    let gamma = virtual_index - prev_index;
    let gamma = match method {
        QuantileMethod::Linear => gamma,
        QuantileMethod::AveragedInvertedCdf => {
            if gamma == 0.0 {
                0.5
            } else {
                1.0
            }
        }
    };
    (prev, next, gamma)
}

fn check_probabilities(qs: &[f64]) -> Result<()> {
    match qs.iter().find(|q| !(0.0..=1.0).contains(*q)) {
        Some(q) => Err(Error::Parameter(format!(
            "quantiles must be in [0, 1], got {q}"
        ))),
        None => Ok(()),
    }
}

/// What one column's quantiles `qs` (and its median, if `with_median`) need.
#[derive(Clone, Copy)]
struct Wanted<'q> {
    qs: &'q [f64],
    method: QuantileMethod,
    with_median: bool,
}

impl Wanted<'_> {
    /// The sorted positions these statistics read in `n >= 1` sorted values.
    fn ranks(&self, n: usize) -> Vec<usize> {
        let mut ranks: Vec<usize> = self
            .qs
            .iter()
            .flat_map(|&q| {
                let (a, b, _) = position(n, q, self.method);
                [a, b]
            })
            .collect();
        if self.with_median {
            ranks.extend([(n - 1) / 2, n / 2]);
        }
        ranks.sort_unstable();
        ranks.dedup();
        ranks
    }

    /// The quantiles and median of `n` values from `selected`, their values at `ranks(n)`;
    /// NaN if there are no values.
    fn at_ranks(&self, n: usize, selected: &[f64]) -> (Vec<f64>, f64) {
        if n == 0 {
            return (vec![f64::NAN; self.qs.len()], f64::NAN);
        }
        let ranks = self.ranks(n);
        let at = |r: usize| selected[ranks.partition_point(|&x| x < r)];
        let quantiles = self
            .qs
            .iter()
            .map(|&q| {
                let (a, b, gamma) = position(n, q, self.method);
                lerp(at(a), at(b), gamma)
            })
            .collect();
        // The two middle values (one and the same for odd n), averaged as NumPy does.
        let median = if !self.with_median {
            f64::NAN
        } else if n % 2 == 1 {
            at(n / 2)
        } else {
            (at(n / 2 - 1) + at(n / 2)) / 2.0
        };
        (quantiles, median)
    }

    /// Every column's statistics: from the sampled selection on a tall matrix, else from the
    /// values gathered into column order.
    fn of_columns<T: Element>(&self, x: MatRef<'_, T>) -> Vec<(Vec<f64>, f64)> {
        let ranks = |n: usize| self.ranks(n);
        // Many ranks (a thousand quantiles) go straight to the gather, without a sample.
        if x.rows() >= SAMPLED_MIN_ROWS && ranks(x.rows()).len() <= SAMPLED_MAX_RANKS {
            if let Some(columns) = sampled_order_statistics(x, SAMPLE_ROWS, &ranks) {
                return columns
                    .iter()
                    .map(|(n, selected)| self.at_ranks(*n, selected))
                    .collect();
            }
        }
        self.of_gathered(x)
    }

    /// From the values gathered into column order, as 32-bit keys for float32 input.
    fn of_gathered<T: Element>(&self, x: MatRef<'_, T>) -> Vec<(Vec<f64>, f64)> {
        if T::as_f32s(&[]).is_some() {
            self.of_keys::<T, u32>(x)
        } else {
            self.of_keys::<T, u64>(x)
        }
    }

    fn of_keys<T: Element, K: SortKey>(&self, x: MatRef<'_, T>) -> Vec<(Vec<f64>, f64)> {
        per_column(x, K::of, |_, keys: &mut [K], scratch| {
            let n = keys.len();
            if n == 0 {
                return self.at_ranks(0, &[]);
            }
            let selected = order_statistics(keys, at_least(scratch, n), &self.ranks(n));
            self.at_ranks(n, &selected)
        })
    }
}

/// Per-column results as a `qs.len() × cols` matrix.
fn by_quantile(columns: &[Vec<f64>], n_quantiles: usize) -> Mat<f64> {
    let m = columns.len();
    let mut data = vec![f64::NAN; n_quantiles * m];
    for (j, column) in columns.iter().enumerate() {
        for (i, &q) in column.iter().enumerate() {
            data[i * m + j] = q;
        }
    }
    Mat {
        data,
        rows: n_quantiles,
        cols: m,
    }
}

/// Quantiles `qs` (fractions in [0, 1]) of every column: a `qs.len() × cols` matrix.
pub fn column_quantiles<T: Element>(
    x: MatRef<'_, T>,
    qs: &[f64],
    method: QuantileMethod,
) -> Result<Mat<f64>> {
    check_probabilities(qs)?;
    let wanted = Wanted {
        qs,
        method,
        with_median: false,
    };
    let columns: Vec<Vec<f64>> = wanted.of_columns(x).into_iter().map(|c| c.0).collect();
    Ok(by_quantile(&columns, qs.len()))
}

/// Median of every column, as `np.nanmedian`.
pub fn column_medians<T: Element>(x: MatRef<'_, T>) -> Vec<f64> {
    let wanted = Wanted {
        qs: &[],
        method: QuantileMethod::Linear,
        with_median: true,
    };
    wanted.of_columns(x).into_iter().map(|c| c.1).collect()
}

/// `column_quantiles` and `column_medians` from one selection (what `RobustScaler` needs).
pub fn column_quantiles_and_medians<T: Element>(
    x: MatRef<'_, T>,
    qs: &[f64],
    method: QuantileMethod,
) -> Result<(Mat<f64>, Vec<f64>)> {
    check_probabilities(qs)?;
    let wanted = Wanted {
        qs,
        method,
        with_median: true,
    };
    let (columns, medians): (Vec<_>, Vec<_>) = wanted.of_columns(x).into_iter().unzip();
    Ok((by_quantile(&columns, qs.len()), medians))
}

/// Most frequent non-NaN value of every column; ties go to the smallest value
/// (scikit-learn's `most_frequent`). `-0.0` and `0.0` count as one value.
pub fn column_modes<T: Element>(x: MatRef<'_, T>) -> Vec<f64> {
    // `+ 0.0` turns -0.0 into 0.0, so the two zeros are one value.
    per_column(
        x,
        |v| v + 0.0,
        |_, values, _| {
            values.sort_unstable_by(f64::total_cmp);
            let mut best = (f64::NAN, 0usize);
            let mut i = 0;
            while i < values.len() {
                let mut k = i + 1;
                while k < values.len() && values[k] == values[i] {
                    k += 1;
                }
                // Strictly greater keeps the first, that is the smallest, of tied values.
                if k - i > best.1 {
                    best = (values[i], k - i);
                }
                i = k;
            }
            best.0
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let data = [4.0f64, 1.0, 3.0, f64::NAN, 2.0];
        let x = MatRef::new(&data, 5, 1).expect("shape");
        let linear = QuantileMethod::Linear;
        let q = column_quantiles(x, &[0.0, 0.25, 0.5, 1.0], linear).expect("kernel");
        assert_eq!(q.data, vec![1.0, 1.75, 2.5, 4.0]);
        let averaged = QuantileMethod::AveragedInvertedCdf;
        let q = column_quantiles(x, &[0.0, 0.3, 0.5, 1.0], averaged).expect("kernel");
        assert_eq!(q.data, vec![1.0, 2.0, 2.5, 4.0]);
        assert_eq!(column_medians(x), vec![2.5]);
        let (q, medians) = column_quantiles_and_medians(x, &[0.25], linear).expect("kernel");
        assert_eq!((q.data, medians), (vec![1.75], vec![2.5]));
        assert!(column_quantiles(x, &[1.5], linear).is_err());
    }

    #[test]
    fn sort_keys_order_as_total_cmp() {
        let values = [
            f64::NEG_INFINITY,
            -1e300,
            -1.5,
            -5e-324,
            -0.0,
            0.0,
            5e-324,
            1.0,
            1e300,
            f64::INFINITY,
        ];
        for a in values {
            assert_eq!(from_sort_key(sort_key(a)).to_bits(), a.to_bits());
            for b in values {
                assert_eq!(a.total_cmp(&b), sort_key(a).cmp(&sort_key(b)), "{a} {b}");
            }
        }
        // The 32-bit keys of float32 values (1e300 becomes infinity, 5e-324 zero).
        let narrow = values
            .map(|v| v as f32)
            .into_iter()
            .chain([-1e-45, 1e-45, -3.4e38]);
        let narrow: Vec<f32> = narrow.collect();
        for &a in &narrow {
            let key = <u32 as SortKey>::of(f64::from(a));
            assert_eq!(key.value().to_bits(), f64::from(a).to_bits());
            for &b in &narrow {
                assert_eq!(
                    a.total_cmp(&b),
                    key.cmp(&SortKey::of(f64::from(b))),
                    "{a} {b}"
                );
            }
        }
    }

    /// Columns that exercise every path of the selection: small, all in one bucket for
    /// several digits, ties, signed zeros and infinities, wide and narrow ranges.
    fn columns() -> Vec<Vec<f64>> {
        let hashed = |i: u64| (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 11) as f64 / 2f64.powi(53);
        vec![
            (0..1000).map(|i| ((i * 7919) % 1009) as f64).collect(),
            (0..50_000).map(|i| hashed(i) * 2.0 - 1.0).collect(),
            (0..50_000).map(|i| 50.0 + hashed(i) * 1e-9).collect(),
            (0..50_000).map(|i| (hashed(i) * 8.0).floor()).collect(),
            (0..30_000)
                .map(|i| match i % 7 {
                    0 => -0.0,
                    1 => 0.0,
                    2 => f64::INFINITY,
                    3 => f64::NEG_INFINITY,
                    _ => (hashed(i) - 0.5) * 1e300,
                })
                .collect(),
            vec![3.25; 5000],
        ]
    }

    #[test]
    fn order_statistics_match_a_full_sort() {
        for values in columns() {
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let n = values.len();
            let ranks: Vec<usize> = {
                let mut r: Vec<usize> = (0..n).step_by(n / 97 + 1).collect();
                r.extend([0, 1, n / 2, n - 2, n - 1]);
                r.sort_unstable();
                r.dedup();
                r
            };
            let mut keys: Vec<u64> = values.iter().map(|&v| sort_key(v)).collect();
            let mut scratch = vec![0; n];
            let selected = order_statistics(&mut keys, &mut scratch, &ranks);
            for (&r, v) in ranks.iter().zip(&selected) {
                assert_eq!(v.to_bits(), sorted[r].to_bits(), "rank {r} of {n}");
            }
            // The same values as float32, through 32-bit keys.
            let narrow: Vec<f64> = values.iter().map(|&v| f64::from(v as f32)).collect();
            let mut sorted = narrow.clone();
            sorted.sort_by(f64::total_cmp);
            let mut keys: Vec<u32> = narrow.iter().map(|&v| SortKey::of(v)).collect();
            let selected = order_statistics(&mut keys, &mut vec![0; n], &ranks);
            for (&r, v) in ranks.iter().zip(&selected) {
                assert_eq!(v.to_bits(), sorted[r].to_bits(), "float32 rank {r} of {n}");
            }
        }
    }

    #[test]
    fn a_wide_matrix_gives_what_each_column_gives_alone() {
        // Large enough for the parallel gather (column groups per thread), with NaN to skip.
        let (rows, m) = (20_000, 9);
        let data: Vec<f64> = (0..rows * m)
            .map(|i| match (i * 2_654_435_761) % 1_000_003 {
                h if h % 17 == 0 => f64::NAN,
                h => (h as f64 - 500_000.0) * (1 + i % m) as f64,
            })
            .collect();
        let qs = [0.0, 0.1, 0.25, 0.5, 0.9, 1.0];
        let x = MatRef::new(&data, rows, m).expect("shape");
        let (q, medians) =
            column_quantiles_and_medians(x, &qs, QuantileMethod::Linear).expect("kernel");
        for j in 0..m {
            let column: Vec<f64> = data.iter().skip(j).step_by(m).copied().collect();
            let one = MatRef::new(&column, rows, 1).expect("shape");
            let (q1, m1) =
                column_quantiles_and_medians(one, &qs, QuantileMethod::Linear).expect("kernel");
            for i in 0..qs.len() {
                assert_eq!(q.data[i * m + j].to_bits(), q1.data[i].to_bits(), "{j} {i}");
            }
            assert_eq!(medians[j].to_bits(), m1[0].to_bits(), "{j}");
        }
    }

    #[test]
    fn modes_prefer_the_smallest_tie() {
        let data = [3.0f64, 1.0, 3.0, 1.0, f64::NAN, 2.0];
        let x = MatRef::new(&data, 6, 1).expect("shape");
        assert_eq!(column_modes(x), vec![1.0]);
    }

    #[test]
    fn no_rows_gives_nan_per_column() {
        let x = MatRef::new(&[] as &[f64], 0, 3).expect("shape");
        assert_eq!(column_medians(x).len(), 3);
        assert_eq!(column_modes(x).len(), 3);
    }

    #[test]
    fn all_nan_column_gives_nan() {
        let data = [f64::NAN, f64::NAN];
        let x = MatRef::new(&data, 2, 1).expect("shape");
        assert!(column_medians(x)[0].is_nan());
        assert!(column_modes(x)[0].is_nan());
        assert!(column_quantiles(x, &[0.5], QuantileMethod::Linear)
            .expect("kernel")
            .data[0]
            .is_nan());
    }

    /// A `rows × columns.len()` row-major matrix of the given column makers.
    fn matrix(rows: usize, columns: &[&dyn Fn(usize) -> f64]) -> Vec<f64> {
        (0..rows)
            .flat_map(|i| columns.iter().map(move |c| c(i)))
            .collect()
    }

    fn hashed(i: usize) -> f64 {
        ((i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 11) as f64 / 2f64.powi(53)
    }

    /// Sample rows in the tests: 1,024 runs over 40,000 rows (a spacing of 39).
    const TEST_SAMPLE: usize = 16_384;

    /// The sampled selection agrees bit for bit with gathering and selecting, whenever it
    /// answers; `must_answer` says it should (the intervals are not defeated by ties).
    fn check_sampled<T: Element>(data: &[T], rows: usize, cols: usize, must_answer: bool) {
        let x = MatRef::new(data, rows, cols).expect("shape");
        let sets: [(&[f64], QuantileMethod, bool); 4] = [
            (&[0.25, 0.75], QuantileMethod::Linear, true),
            (
                &[0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
                QuantileMethod::AveragedInvertedCdf,
                false,
            ),
            (&[0.001, 0.5, 0.999], QuantileMethod::Linear, false),
            (&[], QuantileMethod::Linear, true),
        ];
        for (qs, method, with_median) in sets {
            let wanted = Wanted {
                qs,
                method,
                with_median,
            };
            let expected = wanted.of_gathered(x);
            let ranks = |n: usize| wanted.ranks(n);
            let Some(sampled) = sampled_order_statistics(x, TEST_SAMPLE, &ranks) else {
                assert!(!must_answer, "no answer for {qs:?}");
                continue;
            };
            for (j, ((n, selected), want)) in sampled.iter().zip(&expected).enumerate() {
                let got = wanted.at_ranks(*n, selected);
                let bits = |v: &[f64]| v.iter().map(|q| q.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got.0), bits(&want.0), "column {j}, {qs:?}");
                assert_eq!(got.1.to_bits(), want.1.to_bits(), "median of column {j}");
            }
            // And the public entry point, which falls back when the sample cannot answer.
            if !qs.is_empty() {
                let (q, medians) = column_quantiles_and_medians(x, qs, method).expect("kernel");
                for (j, want) in expected.iter().enumerate() {
                    for (i, w) in want.0.iter().enumerate() {
                        assert_eq!(q.data[i * cols + j].to_bits(), w.to_bits(), "{j} {i}");
                    }
                    let (_, median) = Wanted {
                        with_median: true,
                        ..wanted
                    }
                    .of_gathered(x)[j];
                    assert_eq!(medians[j].to_bits(), median.to_bits());
                }
            }
        }
    }

    #[test]
    fn sampled_selection_equals_the_gathered_one() {
        let rows = 40_000;
        // Widths of four columns (the vector path) and a tail of three (the scalar path).
        let columns: [&dyn Fn(usize) -> f64; 8] = [
            &|i| (hashed(i) - 0.5) * 1e4,
            // One value for a fifth of the rows, up to just past the median.
            &|i| match hashed(i) {
                h if (0.3..0.505).contains(&h) => 0.4,
                h => h,
            },
            &|i| {
                if i % 3 == 0 {
                    f64::NAN
                } else {
                    hashed(i) + 7.0
                }
            },
            &|i| -(hashed(i) * 1e-300),
            &|i| i as f64,
            &|i| match i % 5 {
                0 => f64::INFINITY,
                1 => f64::NEG_INFINITY,
                _ => hashed(i) - 0.5,
            },
            &|i| if hashed(i) < 0.5 { -0.0 } else { hashed(i) },
            // Periodic within a run of the sample.
            &|i| (i % 11) as f64,
        ];
        let data = matrix(rows, &columns);
        check_sampled(&data, rows, columns.len(), true);
        let narrow: Vec<f32> = data.iter().map(|&v| v as f32).collect();
        check_sampled(&narrow, rows, columns.len(), false);
    }

    #[test]
    fn sampled_selection_counts_ties_and_gives_way_to_the_gather() {
        let rows = 40_000;
        let columns: [&dyn Fn(usize) -> f64; 4] = [
            // One value: one-key intervals, counted and never kept.
            &|_| 3.25,
            // Eight values: the intervals hold whole values, one-key or not.
            &|i| (hashed(i) * 8.0).floor(),
            // Mostly zeros, as a count column is.
            &|i| {
                if hashed(i) < 0.9 {
                    0.0
                } else {
                    hashed(i) * 1e5
                }
            },
            &|i| hashed(i),
        ];
        check_sampled(&matrix(rows, &columns), rows, columns.len(), false);
        // A value held by the rows from 20% to just past the median: the median's interval
        // starts on it, and keeps it out as a one-key interval of its own.
        let tied = |i: usize| match hashed(i) {
            h if (0.2..0.505).contains(&h) => 0.4,
            h => h,
        };
        check_sampled(&matrix(rows, &[&tied]), rows, 1, true);
        // And one from just below the median to 80%: the interval ends on it.
        let tied = |i: usize| match hashed(i) {
            h if (0.495..0.8).contains(&h) => 0.6,
            h => h,
        };
        check_sampled(&matrix(rows, &[&tied]), rows, 1, true);
        // Periods longer than a run of the sample correlate its rows; two sorted halves.
        let columns: [&dyn Fn(usize) -> f64; 3] = [
            &|i| (i % 156) as f64,
            &|i| if i < 20_000 { i as f64 } else { -(i as f64) },
            &|i| if i % 2 == 0 { f64::NAN } else { hashed(i) },
        ];
        check_sampled(&matrix(rows, &columns), rows, columns.len(), false);
        // Too few non-NaN values to sample: no answer, and the gather answers.
        let columns: [&dyn Fn(usize) -> f64; 2] = [
            &|i| if i % 1000 == 0 { i as f64 } else { f64::NAN },
            &hashed,
        ];
        let data = matrix(rows, &columns);
        let x = MatRef::new(&data, rows, 2).expect("shape");
        let wanted = Wanted {
            qs: &[0.5],
            method: QuantileMethod::Linear,
            with_median: false,
        };
        assert!(sampled_order_statistics(x, TEST_SAMPLE, &|n| wanted.ranks(n)).is_none());
        check_sampled(&data, rows, 2, false);
    }

    #[test]
    fn tall_matrices_take_the_sampled_selection() {
        // Above SAMPLED_MIN_ROWS, through the public functions, against the gather.
        let rows = SAMPLED_MIN_ROWS + 1234;
        let columns: [&dyn Fn(usize) -> f64; 5] = [
            &|i| (hashed(i) - 0.5) * 1e4,
            &|i| if i % 7 == 0 { f64::NAN } else { hashed(i) },
            &|i| (hashed(i) * 100.0).floor(),
            &|i| -(i as f64),
            &|_| 1.0,
        ];
        let data = matrix(rows, &columns);
        let x = MatRef::new(&data, rows, 5).expect("shape");
        let wanted = Wanted {
            qs: &[0.25, 0.75],
            method: QuantileMethod::Linear,
            with_median: true,
        };
        assert!(sampled_order_statistics(x, SAMPLE_ROWS, &|n| wanted.ranks(n)).is_some());
        check_sampled(&data, rows, 5, false);
    }

    /// The AVX2 tally counts and keeps what the portable one does, key for key and in the same
    /// order, for every kind of interval layout.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_tally_equals_the_portable_one() {
        if !crate::simd::has_avx2_fma() {
            return;
        }
        let special = [
            f64::NAN,
            -f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            -1.0,
            0.5,
            0.75,
            2.0,
            5e-324,
        ];
        let k = sort_key;
        let iv = |lo: f64, hi: f64| Interval {
            lo: k(lo),
            hi: k(hi),
        };
        // Open at either end, as the sample leaves the extreme intervals.
        let (from_bottom, to_top) = (
            Interval { lo: 0, hi: k(-1.0) },
            Interval {
                lo: k(1.5),
                hi: u64::MAX - 1,
            },
        );
        let inf = f64::INFINITY;
        let layouts: [&[Interval]; 6] = [
            &[iv(-1.0, 0.0)],
            &[from_bottom, iv(0.25, 0.75), to_top],
            // One-key intervals, a spare slot and an empty one.
            &[iv(-0.0, -0.0), iv(0.5, 2.0), iv(inf, inf), NO_INTERVAL],
            &[iv(-1.0, -0.5), iv(0.0, 0.0), iv(0.5, 0.5), iv(0.6, 0.8)],
            // Five and nine slots: the general build and the portable fallback.
            &[
                iv(-1.0, -1.0),
                iv(-0.5, -0.1),
                iv(0.0, 0.1),
                iv(0.5, 0.5),
                iv(0.7, 1.0),
            ],
            &[iv(-0.25, 0.25); 9],
        ];
        for cols in [1, 4, 9] {
            let rows = 1000;
            let data: Vec<f64> = (0..rows * cols)
                .map(|i| match i % 7 {
                    0 => special[(i / 7) % special.len()],
                    _ => (hashed(i) - 0.4) * 3.0,
                })
                .collect();
            for layout in layouts {
                for extremes in [false, true] {
                    let slots = layout.len();
                    let bounds: Vec<Interval> = (0..cols).flat_map(|_| layout.to_vec()).collect();
                    check_tally(&data, cols, &bounds, slots, extremes);
                    let narrow: Vec<f32> = data.iter().map(|&v| v as f32).collect();
                    check_tally(&narrow, cols, &bounds, slots, extremes);
                }
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    fn check_tally<T: Element>(
        data: &[T],
        cols: usize,
        bounds: &[Interval],
        slots: usize,
        extremes: bool,
    ) {
        let tally = |avx2: bool| {
            let mut t = Tally::new(cols, slots, extremes);
            for kept in &mut t.kept {
                kept.reserve(data.len() / cols);
            }
            if avx2 {
                // SAFETY: the CPU has AVX2, and every column has room for a key per row.
                unsafe { avx2::add_rows(&mut t, data, bounds, slots) };
            } else {
                t.add_columns(data, bounds, slots, 0);
            }
            t
        };
        let (fast, portable) = (tally(true), tally(false));
        let what = format!("{cols} columns, {slots} slots, extremes {extremes}");
        assert_eq!(fast.nan, portable.nan, "{what}");
        assert_eq!(fast.below, portable.below, "{what}");
        assert_eq!(fast.inside, portable.inside, "{what}");
        assert_eq!(fast.kept, portable.kept, "{what}");
        if extremes {
            assert_eq!(fast.min, portable.min, "{what}");
            assert_eq!(fast.max, portable.max, "{what}");
        }
    }
}
