//! The sampled selection: for tall matrices, a sample places each wanted rank's interval
//! of keys, one pass keeps only the keys inside, and the radix selection finishes on those.

use super::*;

/// Matrices with fewer rows go straight to the gather and the radix selection.
pub(super) const SAMPLED_MIN_ROWS: usize = 1 << 18;
/// Rows of the sample that places the intervals of the sampled selection.
pub(super) const SAMPLE_ROWS: usize = 1 << 15;
/// Consecutive rows per run of the sample (runs read whole cache lines, in order).
pub(super) const SAMPLE_RUN: usize = 16;
/// Most wanted ranks per column for which the sampled selection is tried: a median and
/// quartiles or a few bin edges are; a thousand quantiles go to the radix selection.
pub(super) const SAMPLED_MAX_RANKS: usize = 16;
/// Bytes per step of the pass: a step's rows stay in L2 cache while each group of columns
/// reads them, and a block checks after each step that it keeps few enough keys.
pub(super) const STEP_BYTES: usize = 1 << 18;
/// Rows ahead of the one read that the pass prefetches.
#[cfg(target_arch = "x86_64")]
pub(super) const PREFETCH_ROWS: usize = 64;

/// One column's keys `lo..=hi` around some wanted ranks, as the sample places them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Interval {
    pub(super) lo: u64,
    pub(super) hi: u64,
}

impl Interval {
    /// A one-key interval: its keys are counted, not kept (they are all the same value).
    fn is_point(&self) -> bool {
        self.lo == self.hi
    }
}

/// An empty slot: no key is inside it.
pub(super) const NO_INTERVAL: Interval = Interval {
    lo: u64::MAX,
    hi: u64::MAX - 1,
};

/// What a block of rows shows of every column: its NaN count and extreme keys; per interval
/// slot (`slots` per column) the keys below the interval and inside it; and per column the keys
/// inside its intervals other than one-key ones, in no particular order.
pub(super) struct Tally {
    /// Whether `min` and `max` are kept (only the extreme ranks need them).
    pub(super) extremes: bool,
    pub(super) nan: Vec<usize>,
    pub(super) min: Vec<u64>,
    pub(super) max: Vec<u64>,
    pub(super) below: Vec<usize>,
    pub(super) inside: Vec<usize>,
    pub(super) kept: Vec<Vec<u64>>,
}

impl Tally {
    pub(super) fn new(m: usize, slots: usize, extremes: bool) -> Self {
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

    pub(super) fn kept_total(&self) -> usize {
        self.kept.iter().map(Vec::len).sum()
    }

    /// Counts `rows` (row-major, `bounds.len() / slots` values each) into this tally.
    pub(super) fn add_rows<T: Element>(&mut self, rows: &[T], bounds: &[Interval], slots: usize) {
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
    pub(super) fn add_columns<T: Element>(
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
    pub(super) fn add_counts(&mut self, other: &Tally) {
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
pub(super) mod avx2 {
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
        if !m.is_multiple_of(4) {
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
pub(super) fn jitter(k: usize, span: usize) -> usize {
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
pub(super) fn intervals(sample: &mut [u64], n: usize, wanted: &[usize]) -> (Vec<Interval>, f64) {
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
pub(super) fn sampled_order_statistics<T: Element>(
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
