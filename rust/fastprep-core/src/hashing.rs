//! Feature hashing, bit-compatible with scikit-learn's `FeatureHasher`: MurmurHash3 (x86,
//! 32-bit, seed 0) of the UTF-8 bytes of each feature name, column `|h| mod n_features`, sign of
//! `h` when `alternate_sign`, zero values skipped, duplicates summed, indices sorted per row.

use rayon::prelude::*;

use crate::parallel::{concat, concat_ends, max_threads};
use crate::strings::{le_u32, Chunk, Column, Offsets, StrArray};
use crate::{Error, Result};

const BLOCK_ROWS: usize = 1 << 13;
const PARALLEL_MIN_ROWS: usize = 1 << 15;

const C1: u32 = 0xcc9e_2d51;
const C2: u32 = 0x1b87_3593;

/// MurmurHash3_x86_32 (Austin Appleby's reference algorithm), as a signed 32-bit value like
/// scikit-learn's `murmurhash3_32(..., positive=False)`.
pub fn murmurhash3_32(key: &[u8], seed: u32) -> i32 {
    fmix(body(key, 0, seed)) as i32
}

/// A block's (or the tail's) scrambled word, before it is mixed into the state.
#[inline(always)]
fn scramble(k: u32) -> u32 {
    k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2)
}

#[inline(always)]
fn mix_block(h: u32, block: u32) -> u32 {
    (h ^ scramble(block))
        .rotate_left(13)
        .wrapping_mul(5)
        .wrapping_add(0xe654_6b64)
}

/// The hash state after the 4-byte blocks of `key` from byte `from` on, its tail and its length.
#[inline(always)]
fn body(key: &[u8], from: usize, mut h: u32) -> u32 {
    let whole = key.len() / 4 * 4;
    let mut at = from;
    while at < whole {
        h = mix_block(h, le_u32(key, at));
        at += 4;
    }
    let tail = &key[whole..];
    if !tail.is_empty() {
        let mut k = 0u32;
        for (i, &b) in tail.iter().enumerate() {
            k |= u32::from(b) << (8 * i);
        }
        h ^= scramble(k);
    }
    h ^ key.len() as u32
}

#[inline(always)]
fn fmix(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// Keys hashed side by side. Each key's rounds depend on the one before, so one key at a time
/// waits on a chain of multiplications; eight keys take their common rounds together, which
/// the AVX2 build turns into vector multiplications.
const LANES: usize = 8;

/// `murmurhash3_32(key, 0)` of every key, into `out` (as long as `keys`).
pub fn murmur_many(keys: &[&[u8]], out: &mut [i32]) {
    #[cfg(target_arch = "x86_64")]
    if crate::simd::has_avx2_fma() {
        // SAFETY: the CPU has AVX2.
        return unsafe { murmur_many_avx2(keys, out) };
    }
    murmur_many_portable(keys, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn murmur_many_avx2(keys: &[&[u8]], out: &mut [i32]) {
    murmur_many_portable(keys, out);
}

#[inline(always)]
fn murmur_many_portable(keys: &[&[u8]], out: &mut [i32]) {
    let mut groups = keys.chunks_exact(LANES);
    let mut outs = out.chunks_exact_mut(LANES);
    for (group, o) in (&mut groups).zip(&mut outs) {
        let common = group.iter().map(|k| k.len() / 4).min().unwrap_or(0);
        let mut h = [0u32; LANES];
        for b in 0..common {
            let blocks: [u32; LANES] = std::array::from_fn(|l| le_u32(group[l], 4 * b));
            for (h, &block) in h.iter_mut().zip(&blocks) {
                *h = mix_block(*h, block);
            }
        }
        for (h, key) in h.iter_mut().zip(group) {
            *h = body(key, 4 * common, *h);
        }
        for (o, &h) in o.iter_mut().zip(&h) {
            *o = fmix(h) as i32;
        }
    }
    for (o, key) in outs.into_remainder().iter_mut().zip(groups.remainder()) {
        *o = murmurhash3_32(key, 0);
    }
}

/// Maps hashes to columns and signs exactly as scikit-learn does: column `|h| mod n_features`
/// (for `h = -2^31`, `(2^31 - 1 - (n_features - 1)) mod n_features`), sign of `h`.
///
/// The remainder uses Lemire's multiply-shift (exact for 32-bit operands): a division per
/// feature would cost more than hashing the feature.
#[derive(Clone, Copy, Debug)]
pub struct Buckets {
    n: u32,
    magic: u64,
    of_min: i32,
    alternate_sign: bool,
}

impl Buckets {
    pub fn new(n_features: usize, alternate_sign: bool) -> Result<Self> {
        check_n_features(n_features)?;
        let n = n_features as u32;
        let of_min = ((i64::from(i32::MAX) - (i64::from(n) - 1)) % i64::from(n)) as i32;
        Ok(Self {
            n,
            magic: (u64::MAX / u64::from(n)).wrapping_add(1),
            of_min,
            alternate_sign,
        })
    }

    #[inline]
    fn rem(&self, a: u32) -> u32 {
        let low = self.magic.wrapping_mul(u64::from(a));
        ((u128::from(low) * u128::from(self.n)) >> 64) as u32
    }

    /// The output column and sign of a feature name.
    #[inline]
    pub fn of(&self, key: &[u8]) -> (i32, f64) {
        self.place(murmurhash3_32(key, 0))
    }

    /// The output column and sign of a feature whose hash is `h`.
    #[inline]
    pub fn place(&self, h: i32) -> (i32, f64) {
        let index = if h == i32::MIN {
            self.of_min
        } else {
            self.rem(h.unsigned_abs()) as i32
        };
        // The sign bit set without a branch: hashes are negative at random, so a branch would
        // mispredict on half of them.
        let negative = u64::from(self.alternate_sign) & u64::from(h < 0);
        let sign = f64::from_bits(1.0f64.to_bits() | negative << 63);
        (index, sign)
    }
}

/// A CSR matrix of `f64` values, int32 column indices.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Csr {
    pub indptr: Vec<i64>,
    pub indices: Vec<i32>,
    pub values: Vec<f64>,
}

/// How a table's cells become features.
#[derive(Clone, Copy, Debug)]
pub enum Mode<'a> {
    /// Each string cell is a feature of value 1 (`input_type="string"`); numbers are refused.
    Strings,
    /// Each row is the dict `{name: cell}` (`input_type="dict"`): a string cell is the feature
    /// `"name=cell"` of value 1, a number is the feature `"name"` with that value.
    Dict(&'a [&'a [u8]]),
}

fn check_n_features(n_features: usize) -> Result<()> {
    if n_features == 0 || n_features > i32::MAX as usize {
        return Err(Error::Parameter(format!(
            "n_features must be in [1, 2^31 - 1], got {n_features}"
        )));
    }
    Ok(())
}

/// One row's `(index, value)` pairs → sorted, duplicates summed in input order, appended.
#[inline]
fn flush_row(pairs: &mut Vec<(i32, f64)>, out: &mut Csr) {
    let n = pairs.len();
    if n <= 16 {
        let mut keys = [u64::MAX; 16];
        for (slot, (p, &(index, _))) in keys.iter_mut().zip(pairs.iter().enumerate()) {
            *slot = (index as u64) << 8 | p as u64;
        }
        sort_keys(&mut keys, n);
        merge_keys(
            &keys[..n],
            |p| pairs[p].1,
            |index, value| {
                out.indices.push(index);
                out.values.push(value);
            },
        );
    } else {
        pairs.sort_by_key(|p| p.0); // stable: duplicates keep their input order
        let mut k = 0;
        while k < n {
            let (index, mut value) = pairs[k];
            k += 1;
            while k < n && pairs[k].0 == index {
                value += pairs[k].1;
                k += 1;
            }
            out.indices.push(index);
            out.values.push(value);
        }
    }
    out.indptr.push(out.indices.len() as i64);
    pairs.clear();
}

/// Sorts a row's first `n` (at most 16) keys, `index << 8 | position` (the position keeps
/// duplicates in input order), with branch-free compare-exchanges: hashed indices are random,
/// so a branching sort mispredicts on most comparisons. Unused keys are `u64::MAX` and sort
/// last. Up to 8 keys take a fixed network, in registers.
#[inline(always)]
fn sort_keys(keys: &mut [u64; 16], n: usize) {
    if n <= 4 {
        sort_network::<4>(keys, &NETWORK_4);
    } else if n <= 8 {
        sort_network::<8>(keys, &NETWORK_8);
    } else {
        for i in 1..n {
            for j in (1..=i).rev() {
                let (a, b) = (keys[j - 1], keys[j]);
                keys[j - 1] = a.min(b);
                keys[j] = a.max(b);
            }
        }
    }
}

/// Hands each index of sorted `keys` to `emit` with the sum of its values (`value(position)`),
/// duplicates summed in input order.
#[inline(always)]
fn merge_keys(keys: &[u64], value: impl Fn(usize) -> f64, mut emit: impl FnMut(i32, f64)) {
    let n = keys.len();
    let mut k = 0;
    while k < n {
        let at = keys[k] >> 8;
        let mut v = value((keys[k] & 0xff) as usize);
        k += 1;
        while k < n && keys[k] >> 8 == at {
            v += value((keys[k] & 0xff) as usize);
            k += 1;
        }
        emit(at as i32, v);
    }
}

/// The `n` rows of a row-major `n × k` block of cells (index -1: no feature) as CSR rows.
fn cell_rows(index: &[i32], value: &[f64], n: usize, k: usize) -> Csr {
    if k == 0 || k > 8 {
        let mut out = Csr::default();
        let mut pairs = Vec::with_capacity(k);
        for r in 0..n {
            for j in 0..k {
                let i = index[r * k + j];
                if i >= 0 {
                    pairs.push((i, value[r * k + j]));
                }
            }
            flush_row(&mut pairs, &mut out);
        }
        return out;
    }
    // Up to eight columns: a row's keys sort in registers and its entries are written at a
    // cursor into spare capacity, with no per-row vector of pairs (an allocation a row) and no
    // zeroing first (which would write each block twice).
    let mut indices: Vec<i32> = Vec::with_capacity(n * k);
    let mut values: Vec<f64> = Vec::with_capacity(n * k);
    let mut indptr = Vec::with_capacity(n);
    let (spare_i, spare_v) = (
        &mut indices.spare_capacity_mut()[..n * k],
        &mut values.spare_capacity_mut()[..n * k],
    );
    let mut w = 0;
    for (ri, rv) in index.chunks_exact(k).zip(value.chunks_exact(k)) {
        let mut keys = [u64::MAX; 16];
        let mut present = 0;
        for (j, (key, &i)) in keys.iter_mut().zip(ri).enumerate() {
            if i >= 0 {
                *key = (i as u64) << 8 | j as u64;
                present += 1;
            }
        }
        // Absent cells sort last: the first `present` keys are the row's.
        sort_keys(&mut keys, k);
        merge_keys(
            &keys[..present],
            |p| rv[p],
            |at, v| {
                spare_i[w].write(at);
                spare_v[w].write(v);
                w += 1;
            },
        );
        indptr.push(w as i64);
    }
    // SAFETY: the loop wrote entries `0..w` of both, in order (`w <= n * k`: a row writes at
    // most its `k` cells).
    unsafe {
        indices.set_len(w);
        values.set_len(w);
    }
    Csr {
        indptr,
        indices,
        values,
    }
}

/// Optimal sorting networks (Knuth, TAOCP 5.3.4) for 4 and 8 keys.
const NETWORK_4: [(usize, usize); 5] = [(0, 1), (2, 3), (0, 2), (1, 3), (1, 2)];
const NETWORK_8: [(usize, usize); 19] = [
    (0, 2),
    (1, 3),
    (4, 6),
    (5, 7),
    (0, 4),
    (1, 5),
    (2, 6),
    (3, 7),
    (0, 1),
    (2, 3),
    (4, 5),
    (6, 7),
    (2, 4),
    (3, 5),
    (1, 4),
    (3, 6),
    (1, 2),
    (3, 4),
    (5, 6),
];

/// Sorts `keys[..N]` with the compare-exchanges of `network` on a copy the compiler keeps in
/// registers (a loop over the stack array was most of a row's time).
#[inline(always)]
fn sort_network<const N: usize>(keys: &mut [u64; 16], network: &[(usize, usize)]) {
    let mut k: [u64; N] = std::array::from_fn(|i| keys[i]);
    for &(i, j) in network {
        let (a, b) = (k[i], k[j]);
        k[i] = a.min(b);
        k[j] = a.max(b);
    }
    keys[..N].copy_from_slice(&k);
}

/// Visits the cells of rows `first..last` of a column: `f(row - first, cell)`.
fn for_cells<'a>(
    column: &Column<'a>,
    first: usize,
    last: usize,
    mut f: impl FnMut(usize, Cell<'a>) -> Result<()>,
) -> Result<()> {
    let mut start = 0;
    for chunk in &column.chunks {
        let end = start + chunk.len();
        let (a, b) = (first.max(start), last.min(end));
        if a >= b {
            start = end;
            continue;
        }
        // Plain strings without nulls, the common layout, get a loop of their own.
        if let Chunk::Str(StrArray::Utf8 {
            offsets: Offsets::I32(o),
            data,
            validity: None,
        }) = chunk
        {
            let window = o.get(a - start..b - start + 1).unwrap_or_default();
            for (row, w) in (a..b).zip(window.windows(2)) {
                let value = data.get(w[0] as usize..w[1] as usize).unwrap_or_default();
                f(row - first, Cell::Str(value))?;
            }
            start = end;
            continue;
        }
        for row in a..b {
            let i = row - start;
            let cell = match chunk {
                Chunk::Str(s) => s.get(i).map_or(Cell::Missing, Cell::Str),
                Chunk::Dict {
                    indices,
                    validity,
                    dictionary,
                } => {
                    if validity.is_some_and(|v| !v.is_valid(i)) {
                        Cell::Missing
                    } else {
                        dictionary
                            .get(indices.get(i) as usize)
                            .map_or(Cell::Missing, Cell::Str)
                    }
                }
                Chunk::Int { values, missing } => {
                    if missing.is_some_and(|m| m[i]) {
                        Cell::Missing
                    } else {
                        Cell::Number(values[i] as f64)
                    }
                }
                Chunk::Float { values, missing } => {
                    if missing.is_some_and(|m| m[i]) {
                        Cell::Missing
                    } else {
                        Cell::Number(values[i])
                    }
                }
            };
            f(row - first, cell)?;
        }
        start = end;
    }
    Ok(())
}

/// A block's working buffers, reused by its thread from block to block.
#[derive(Default)]
struct Scratch<'a> {
    index: Vec<i32>,
    value: Vec<f64>,
    key: Vec<u8>,
    at: Vec<usize>,
    strings: Vec<&'a [u8]>,
    hashes: Vec<i32>,
}

#[derive(Clone, Copy)]
enum Cell<'a> {
    Missing,
    Str(&'a [u8]),
    Number(f64),
}

/// Hashes the rows of a table (columns of equal length); missing cells are skipped.
pub fn hash_columns<'a>(
    columns: &[Column<'a>],
    mode: Mode<'_>,
    n_features: usize,
    alternate_sign: bool,
) -> Result<Csr> {
    let buckets = Buckets::new(n_features, alternate_sign)?;
    let rows = columns.first().map_or(0, Column::len);
    if let Some(j) = columns.iter().position(|c| c.len() != rows) {
        return Err(Error::Shape(format!(
            "column {j} has {} rows, column 0 has {rows}",
            columns[j].len()
        )));
    }
    if let Mode::Dict(names) = mode {
        if names.len() != columns.len() {
            return Err(Error::Shape("one name per column expected".into()));
        }
    }
    let k = columns.len();
    let block = |scratch: &mut Scratch<'a>, first: usize, last: usize| -> Result<Csr> {
        // Each cell's (column index, signed value) in a row-major scratch (index -1 = no
        // feature), filled column by column; rows are then read in order, so no sort is needed.
        let n = last - first;
        let Scratch {
            index,
            value,
            key,
            at,
            strings,
            hashes,
        } = scratch;
        index.clear();
        index.resize(n * k, -1);
        value.truncate(n * k);
        value.resize(n * k, 0.0);
        for (j, column) in columns.iter().enumerate() {
            if let Mode::Strings = mode {
                // The column's strings first, then their hashes eight at a time.
                at.clear();
                strings.clear();
                for_cells(column, first, last, |r, cell| match cell {
                    Cell::Missing => Ok(()),
                    Cell::Str(s) => {
                        at.push(r);
                        strings.push(s);
                        Ok(())
                    }
                    Cell::Number(_) => Err(Error::Value {
                        column: j,
                        message: "input_type='string' hashes strings, got a number".into(),
                    }),
                })?;
                hashes.resize(strings.len(), 0);
                murmur_many(strings, hashes);
                for (&r, &h) in at.iter().zip(hashes.iter()) {
                    let (i, sign) = buckets.place(h);
                    index[r * k + j] = i;
                    value[r * k + j] = sign;
                }
                continue;
            }
            let Mode::Dict(names) = mode else {
                continue;
            };
            for_cells(column, first, last, |r, cell| {
                let (feature, v): (&[u8], f64) = match cell {
                    Cell::Missing => return Ok(()),
                    Cell::Str(s) => {
                        key.clear();
                        key.extend_from_slice(names[j]);
                        key.push(b'=');
                        key.extend_from_slice(s);
                        (&key[..], 1.0)
                    }
                    Cell::Number(v) => (names[j], v),
                };
                if v == 0.0 {
                    return Ok(());
                }
                let (i, sign) = buckets.of(feature);
                index[r * k + j] = i;
                value[r * k + j] = v * sign;
                Ok(())
            })?;
        }
        Ok(cell_rows(index, value, n, k))
    };
    by_blocks(rows, Scratch::default, block)
}

/// Hashes flattened samples: sample `r` is `features[indptr[r]..indptr[r + 1]]` with `values`
/// alongside (the Python layer flattens lists of strings, dicts or pairs into this).
pub fn hash_features(
    features: &StrArray<'_>,
    values: &[f64],
    indptr: &[i64],
    n_features: usize,
    alternate_sign: bool,
) -> Result<Csr> {
    let buckets = Buckets::new(n_features, alternate_sign)?;
    if values.len() != features.len()
        || indptr.first() != Some(&0)
        || indptr.last().copied() != Some(features.len() as i64)
        || !crate::strings::non_decreasing(indptr)
    {
        return Err(Error::Shape(
            "features, values and sample boundaries do not match".into(),
        ));
    }
    let rows = indptr.len() - 1;
    let block = |_: &mut (), first: usize, last: usize| -> Result<Csr> {
        let mut out = Csr::default();
        let mut pairs = Vec::new();
        for r in first..last {
            for i in indptr[r] as usize..indptr[r + 1] as usize {
                let value = values[i];
                if value == 0.0 {
                    continue;
                }
                let Some(feature) = features.get(i) else {
                    return Err(Error::Value {
                        column: 0,
                        message: format!("sample {r}: a feature name is missing (None)"),
                    });
                };
                let (index, sign) = buckets.of(feature);
                pairs.push((index, value * sign));
            }
            flush_row(&mut pairs, &mut out);
        }
        Ok(out)
    };
    by_blocks(rows, || (), block)
}

/// Runs `block(first, last)` over row blocks (in parallel for large inputs) and concatenates.
/// `block` gets a scratch of its thread's (from `scratch()`), kept warm from block to block.
fn by_blocks<S>(
    rows: usize,
    scratch: impl Fn() -> S + Sync + Send,
    block: impl Fn(&mut S, usize, usize) -> Result<Csr> + Sync,
) -> Result<Csr> {
    let parallel = rows >= PARALLEL_MIN_ROWS && max_threads() != 1;
    let parts: Vec<Csr> = if !parallel {
        vec![block(&mut scratch(), 0, rows)?]
    } else {
        (0..rows.div_ceil(BLOCK_ROWS))
            .into_par_iter()
            .map_init(&scratch, |s, b| {
                block(s, b * BLOCK_ROWS, ((b + 1) * BLOCK_ROWS).min(rows))
            })
            .collect::<Result<_>>()?
    };
    Ok(stitch(&parts, parallel))
}

/// Row blocks' CSR parts as one matrix.
fn stitch(parts: &[Csr], parallel: bool) -> Csr {
    let ends: Vec<&[i64]> = parts.iter().map(|p| &p.indptr[..]).collect();
    let indices: Vec<&[i32]> = parts.iter().map(|p| &p.indices[..]).collect();
    let values: Vec<&[f64]> = parts.iter().map(|p| &p.values[..]).collect();
    Csr {
        indptr: concat_ends(&ends, parallel),
        indices: concat(&indices, parallel, |_, i| i),
        values: concat(&values, parallel, |_, v| v),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn murmur_matches_reference_vectors() {
        // Values of scikit-learn's murmurhash3_32(key, seed=0).
        assert_eq!(murmurhash3_32(b"", 0), 0);
        assert_eq!(murmurhash3_32(b"foo", 0), -156908512);
        assert_eq!(murmurhash3_32(b"Hello, world!", 0), -1070186941);
        assert_eq!(murmurhash3_32(b"", 1), 0x514e_28b7_u32 as i32);
    }

    #[test]
    fn hashes_side_by_side_equal_one_at_a_time() {
        // Groups of equal and of mixed lengths (0 to 40 bytes), and counts that leave a
        // remainder of fewer than eight keys.
        let text: Vec<u8> = (0..64u32).map(|i| (i * 97 + 13) as u8).collect();
        for n in [0, 1, 7, 8, 9, 23, 64, 200] {
            for mixed in [false, true] {
                let keys: Vec<&[u8]> = (0..n)
                    .map(|i| {
                        let len = if mixed { (i * 7) % 41 } else { 19 };
                        &text[i % 20..i % 20 + len]
                    })
                    .collect();
                let mut out = vec![0i32; n];
                murmur_many(&keys, &mut out);
                let one: Vec<i32> = keys.iter().map(|k| murmurhash3_32(k, 0)).collect();
                assert_eq!(out, one, "{n} keys, mixed lengths {mixed}");
                murmur_many_portable(&keys, &mut out);
                assert_eq!(out, one);
            }
        }
    }

    #[test]
    fn fast_remainder_equals_division() {
        for n in [1u32, 2, 3, 7, 1000, 1 << 20, (1 << 31) - 1] {
            let b = Buckets::new(n as usize, false).unwrap();
            for a in [0u32, 1, 2, 12345, (1 << 31) - 1, 1 << 31, u32::MAX] {
                assert_eq!(b.rem(a), a % n, "{a} % {n}");
            }
            assert_eq!(
                i64::from(b.of_min),
                (i64::from(i32::MAX) - (i64::from(n) - 1)) % i64::from(n)
            );
        }
    }

    #[test]
    fn rows_short_and_long_sort_alike() {
        for n in [0usize, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 40] {
            let pairs: Vec<(i32, f64)> = (0..n)
                .map(|i| (((i * 7919) % 13) as i32, i as f64 + 0.5))
                .collect();
            let mut out = Csr::default();
            flush_row(&mut pairs.clone(), &mut out);
            let mut expected: Vec<(i32, f64)> = Vec::new();
            let mut sorted = pairs.clone();
            sorted.sort_by_key(|p| p.0);
            for (i, v) in sorted {
                match expected.last_mut() {
                    Some(last) if last.0 == i => last.1 += v,
                    _ => expected.push((i, v)),
                }
            }
            let got: Vec<(i32, f64)> = out.indices.iter().copied().zip(out.values).collect();
            assert_eq!(got, expected, "{n} pairs");
        }
    }

    #[test]
    fn cell_rows_equal_pairs_row_by_row() {
        // Every width, with absent cells (-1) and duplicate indices in a row.
        for k in 0..=10usize {
            let n = 50;
            let index: Vec<i32> = (0..n * k)
                .map(|c| ((c * 7919 + k) % 11) as i32 - 2)
                .map(|i| if i < 0 { -1 } else { i % 5 })
                .collect();
            let value: Vec<f64> = (0..n * k).map(|c| c as f64 - 20.5).collect();
            let mut expected = Csr::default();
            let mut pairs = Vec::new();
            for r in 0..n {
                for j in 0..k {
                    if index[r * k + j] >= 0 {
                        pairs.push((index[r * k + j], value[r * k + j]));
                    }
                }
                flush_row(&mut pairs, &mut expected);
            }
            assert_eq!(cell_rows(&index, &value, n, k), expected, "{k} columns");
        }
    }

    #[test]
    fn networks_sort_every_zero_one_input() {
        // The zero-one principle: a network that sorts every 0/1 input sorts every input.
        fn check<const N: usize>(network: &[(usize, usize)]) {
            for bits in 0u32..1 << N {
                let mut keys = [u64::MAX; 16];
                for (i, k) in keys.iter_mut().take(N).enumerate() {
                    *k = u64::from(bits >> i & 1);
                }
                sort_network::<N>(&mut keys, network);
                assert!(keys[..N].windows(2).all(|w| w[0] <= w[1]), "{N}: {bits:b}");
            }
        }
        check::<4>(&NETWORK_4);
        check::<8>(&NETWORK_8);
    }

    #[test]
    fn duplicates_are_summed_and_sorted() {
        let data = b"aab";
        let offsets = [0i64, 1, 2, 3];
        let s = StrArray::utf8(Offsets::I64(&offsets), data, None).unwrap();
        let csr = hash_features(&s, &[1.0, 1.0, 2.0], &[0, 3], 1, false).unwrap();
        assert_eq!(csr.indptr, vec![0, 1]);
        assert_eq!(csr.indices, vec![0]);
        assert_eq!(csr.values, vec![4.0]);
    }

    #[test]
    fn sample_boundaries_must_run_from_zero_to_the_end_without_decreasing() {
        let n = 600;
        let data = vec![b'a'; n];
        let offsets: Vec<i64> = (0..=n as i64).collect();
        let s = StrArray::utf8(Offsets::I64(&offsets), &data, None).unwrap();
        let values = vec![1.0; n];
        // One feature per sample, then every sample's boundary one step back in turn (on
        // both sides of the 256-value blocks of the check).
        let good: Vec<i64> = (0..=n as i64).collect();
        assert!(hash_features(&s, &values, &good, 8, true).is_ok());
        for at in [1, 255, 256, 257, 511, 599] {
            let mut bad = good.clone();
            bad[at] = bad[at + 1] + 1;
            assert!(hash_features(&s, &values, &bad, 8, true).is_err(), "{at}");
        }
        for bad in [&good[1..], &good[..n]] {
            assert!(hash_features(&s, &values, bad, 8, true).is_err());
        }
        assert!(hash_features(&s, &values[1..], &good, 8, true).is_err());
    }
}
