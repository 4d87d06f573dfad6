//! Exact order statistics of columns, skipping NaN: quantiles, medians and modes.
//!
//! The interpolation reproduces NumPy bit for bit, so exact fits agree with scikit-learn:
//! quantiles follow `np.nanquantile` with `method="linear"` or `"averaged_inverted_cdf"`
//! (including NumPy's index clamping and two-sided `_lerp`), and medians follow `np.nanmedian`,
//! which averages the two middle values as `(a + b) / 2`.
//! A column with no non-NaN value gives NaN.

use crate::error::{Error, Result};
use rayon::prelude::*;

use crate::matrix::{Element, Mat, MatRef};
use crate::memory::zeroed;
use crate::parallel::{max_threads, PARALLEL_MIN_CELLS};

/// `f(column, scratch)` for every column's non-NaN values (in row order) converted by `convert`,
/// columns in parallel; `scratch` is a buffer kept across the columns a thread takes, empty
/// until `f` grows it (`at_least`). The values are gathered in one pass over the row-major data,
/// into one buffer: fresh buffers per column cost more in page faults than the work done on
/// them.
fn per_column<T: Element, U: Copy + Default + Send + Sync, R: Send>(
    x: MatRef<'_, T>,
    convert: impl Fn(f64) -> U + Sync,
    f: impl Fn(&mut [U], &mut Vec<U>) -> R + Sync + Send,
) -> Vec<R> {
    let (n, m) = (x.rows(), x.cols());
    let parallel = max_threads() != 1 && x.data().len() >= PARALLEL_MIN_CELLS;
    let mut buffer = zeroed::<U>(n * m);
    // Columns are gathered in groups, a group per task, one group per thread and at most a
    // 64-byte cache line of each row: tasks then read disjoint lines of a wide matrix. (The
    // grouping changes only who writes which column, never what is written.)
    let per_line = (64 / std::mem::size_of::<T>()).max(1);
    let group = m.div_ceil(rayon::current_num_threads()).clamp(1, per_line);
    let gather = |(g, chunk): (usize, &mut [U])| -> Vec<usize> {
        let j0 = g * group;
        let cols = chunk.len() / n;
        let mut lengths = vec![0usize; cols];
        for row in x.row_iter() {
            for c in 0..cols {
                let v = row[j0 + c].to_f64();
                if !v.is_nan() {
                    chunk[c * n + lengths[c]] = convert(v);
                    lengths[c] += 1;
                }
            }
        }
        lengths
    };
    let columns: Vec<&mut [U]> = if n == 0 {
        (0..m).map(|_| <&mut [U]>::default()).collect()
    } else {
        let lengths: Vec<usize> = if parallel {
            let parts: Vec<Vec<usize>> = buffer
                .par_chunks_mut(n * group)
                .enumerate()
                .map(gather)
                .collect();
            parts.concat()
        } else {
            buffer
                .chunks_mut(n * group)
                .enumerate()
                .flat_map(gather)
                .collect()
        };
        buffer
            .chunks_mut(n)
            .zip(&lengths)
            .map(|(c, &len)| &mut c[..len])
            .collect()
    };
    let run = |spare: &mut Vec<U>, column: &mut [U]| f(column, spare);
    if !parallel {
        let mut spare = Vec::new();
        columns.into_iter().map(|c| run(&mut spare, c)).collect()
    } else {
        columns.into_par_iter().map_init(Vec::new, run).collect()
    }
}

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
/// `select_nth_unstable` per rank reads it twice per rank). With `sort_key`, the order is
/// `f64::total_cmp`'s and the values returned are exactly the sorted ones. `keys` is
/// reordered and `scratch` (as long) overwritten.
fn order_statistics(keys: &mut [u64], scratch: &mut [u64], ranks: &[usize]) -> Vec<f64> {
    let mut out = vec![0u64; ranks.len()];
    radix_select(keys, scratch, ranks, &mut out, 64);
    out.into_iter().map(from_sort_key).collect()
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
fn radix_select(
    keys: &mut [u64],
    scratch: &mut [u64],
    ranks: &[usize],
    out: &mut [u64],
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
    let differ = keys.iter().fold(0u64, |acc, &k| acc | (k ^ first));
    if differ == 0 {
        out.fill(first);
        return;
    }
    let bits_left = bits_left.min(64 - differ.leading_zeros());
    let shift = bits_left.saturating_sub(DIGIT_BITS);
    let mask = (1usize << (bits_left - shift)) - 1;
    let digit = |k: u64| (k >> shift) as usize & mask;
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

/// Quantiles `qs` of one column's values (as `sort_key`s) and, if `with_median`, its median
/// (as `np.nanmedian`), from one selection; NaN if there are no values.
fn quantiles_of(
    keys: &mut [u64],
    scratch: &mut Vec<u64>,
    qs: &[f64],
    method: QuantileMethod,
    with_median: bool,
) -> (Vec<f64>, f64) {
    let n = keys.len();
    if n == 0 {
        return (vec![f64::NAN; qs.len()], f64::NAN);
    }
    let positions: Vec<_> = qs.iter().map(|&q| position(n, q, method)).collect();
    let mut ranks: Vec<usize> = positions.iter().flat_map(|&(a, b, _)| [a, b]).collect();
    if with_median {
        ranks.extend([(n - 1) / 2, n / 2]);
    }
    ranks.sort_unstable();
    ranks.dedup();
    let selected = order_statistics(keys, at_least(scratch, n), &ranks);
    let at = |r: usize| selected[ranks.partition_point(|&x| x < r)];
    let quantiles = positions
        .iter()
        .map(|&(a, b, gamma)| lerp(at(a), at(b), gamma))
        .collect();
    // The two middle values (one and the same for odd n), averaged as NumPy does.
    let median = if !with_median {
        f64::NAN
    } else if n % 2 == 1 {
        at(n / 2)
    } else {
        (at(n / 2 - 1) + at(n / 2)) / 2.0
    };
    (quantiles, median)
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
    let columns = per_column(x, sort_key, |keys, scratch| {
        quantiles_of(keys, scratch, qs, method, false).0
    });
    Ok(by_quantile(&columns, qs.len()))
}

/// Median of every column, as `np.nanmedian`.
pub fn column_medians<T: Element>(x: MatRef<'_, T>) -> Vec<f64> {
    per_column(x, sort_key, |keys, scratch| {
        quantiles_of(keys, scratch, &[], QuantileMethod::Linear, true).1
    })
}

/// `column_quantiles` and `column_medians` from one gather of the values (what `RobustScaler`
/// needs: gathering costs as much as selecting).
pub fn column_quantiles_and_medians<T: Element>(
    x: MatRef<'_, T>,
    qs: &[f64],
    method: QuantileMethod,
) -> Result<(Mat<f64>, Vec<f64>)> {
    check_probabilities(qs)?;
    let both = per_column(x, sort_key, |keys, scratch| {
        quantiles_of(keys, scratch, qs, method, true)
    });
    let (columns, medians): (Vec<_>, Vec<_>) = both.into_iter().unzip();
    Ok((by_quantile(&columns, qs.len()), medians))
}

/// Most frequent non-NaN value of every column; ties go to the smallest value
/// (scikit-learn's `most_frequent`). `-0.0` and `0.0` count as one value.
pub fn column_modes<T: Element>(x: MatRef<'_, T>) -> Vec<f64> {
    // `+ 0.0` turns -0.0 into 0.0, so the two zeros are one value.
    per_column(
        x,
        |v| v + 0.0,
        |values, _| {
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
}
