//! The exact selection of the keys at some ranks of a column, without sorting it.

use super::*;

/// `buffer`, grown with fresh (huge-page-backed) memory if it is shorter than `len`.
pub(super) fn at_least<U: Copy + Default>(buffer: &mut Vec<U>, len: usize) -> &mut [U] {
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
pub(super) fn order_statistics<K: SortKey>(
    keys: &mut [K],
    scratch: &mut [K],
    ranks: &[usize],
) -> Vec<f64> {
    let mut out = vec![K::default(); ranks.len()];
    radix_select(keys, scratch, ranks, &mut out, K::BITS);
    out.into_iter().map(K::value).collect()
}

/// An unsigned integer whose order is the `total_cmp` order of the floats it stands for: `u64`
/// for any value as `f64`, `u32` for float32 input, whose keys move half the bytes.
pub(super) trait SortKey: Copy + Ord + Default + Send + Sync {
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
pub(super) fn sort_key(v: f64) -> u64 {
    let bits = v.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

#[inline]
pub(super) fn from_sort_key(key: u64) -> f64 {
    f64::from_bits(if key >> 63 == 1 {
        key & !(1 << 63)
    } else {
        !key
    })
}

/// Bits per radix digit: 2,048 buckets, whose counters and write positions stay in L1 cache.
pub(super) const DIGIT_BITS: u32 = 11;
/// Below this many keys a bucket is sorted outright.
pub(super) const SORT_BELOW: usize = 1 << 10;

/// Writes the keys at sorted positions `ranks` into `out`. Every key agrees on all bits above
/// the lowest `bits_left`. `keys` is reordered; `scratch` (as long) is overwritten.
pub(super) fn radix_select<K: SortKey>(
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
