//! Categorical encoding: category counts at fit, a lookup table built once, and the one-hot,
//! ordinal and count outputs at transform.
//!
//! Codes. For a vocabulary of `n` categories, a looked-up value gets a *code*: `0..n` for the
//! category of that rank in the (sorted) vocabulary, `n` ([`missing_code`]) for a missing value
//! (null, None, NaN) and `n + 1` ([`unknown_code`]) for a value not in the vocabulary. Each
//! encoder turns codes into output through a per-column table of `n + 2` entries, computed once
//! from the fitted state; so the policies for missing, unknown and infrequent values live in
//! those tables and the kernels below stay branch-free and identical for every encoder.

use foldhash::fast::FixedState;
use hashbrown::{HashMap, HashTable};
use std::hash::{BuildHasher, Hasher};

use rayon::prelude::*;

use crate::memory::{prefetch, Buffer};
use crate::parallel::{concat, concat_ends, fold_blocks, map_blocks, max_threads};
use crate::strings::{le_u64, Chunk, Column, Offsets, StrArray};
use crate::strtable::{CodeTable, Key, StrTable, INLINE};
use crate::{Element, Error, Result};

/// The fixed seed keeps hashing deterministic across runs and machines (only speed depends
/// on it, never a result).
const SEED: u64 = 0x5eed_fa57_b7e9_0001;
/// Lookup tables larger than this (about a core's L2 cache) are probed a batch at a time,
/// with prefetching.
const PREFETCH_TABLE_BYTES: usize = 1 << 20;
/// Values hashed and prefetched ahead of their probes.
const LOOKUP_BATCH: usize = 16;
/// How far ahead of its reads a pass over a vocabulary's bytes asks for them.
const PREFETCH_BYTES: usize = 1024;
/// Rows per parallel block of a lookup.
const BLOCK_ROWS: usize = 1 << 14;
/// Columns shorter than this are looked up on the calling thread.
const PARALLEL_MIN_ROWS: usize = 1 << 16;

pub fn missing_code(n_categories: usize) -> u32 {
    n_categories as u32
}

pub fn unknown_code(n_categories: usize) -> u32 {
    n_categories as u32 + 1
}

/// The sorted distinct categories of one column.
#[derive(Clone, Debug, PartialEq)]
pub enum Vocab {
    /// UTF-8 strings sorted by bytes (= by code point, as Python sorts `str`), stored as one
    /// data buffer plus `len + 1` offsets.
    Str {
        data: Buffer<u8>,
        offsets: Buffer<i64>,
    },
    /// Integers (booleans as 0/1), ascending.
    Int(Vec<i64>),
    /// Floats, ascending, never NaN, `-0.0` folded into `0.0`.
    Float(Vec<f64>),
}

impl Vocab {
    pub fn len(&self) -> usize {
        match self {
            Vocab::Str { offsets, .. } => offsets.len().saturating_sub(1),
            Vocab::Int(v) => v.len(),
            Vocab::Float(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The strings as an array, offsets checked (once per vocabulary: see `CategoryIndex`).
    fn strings(&self) -> Result<Option<StrArray<'_>>> {
        match self {
            Vocab::Str { data, offsets } => {
                Ok(Some(StrArray::utf8(Offsets::I64(offsets), data, None)?))
            }
            _ => Ok(None),
        }
    }

    /// Checks what a vocabulary coming from outside (an artifact, a user's `categories`) must
    /// satisfy: valid offsets, strictly increasing values, no NaN.
    pub fn validate(&self) -> Result<()> {
        match self {
            Vocab::Str { .. } => {
                let s = self
                    .strings()?
                    .ok_or_else(|| Error::Shape("not strings".into()))?;
                for i in 1..s.len() {
                    if s.get(i - 1) >= s.get(i) {
                        return Err(Error::Shape(
                            "categories must be sorted and distinct".into(),
                        ));
                    }
                }
            }
            Vocab::Int(v) => {
                if v.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(Error::Shape(
                        "categories must be sorted and distinct".into(),
                    ));
                }
            }
            Vocab::Float(v) => {
                if v.iter().any(|x| x.is_nan()) || v.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(Error::Shape(
                        "categories must be sorted, distinct and not NaN".into(),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// What fitting sees of one column: each category's count and the number of missing values.
/// A mergeable accumulator: `merge` of the counts of two parts equals the counts of both.
#[derive(Clone, Debug, PartialEq)]
pub struct Counts {
    pub vocab: Vocab,
    pub counts: Vec<i64>,
    pub missing: i64,
}

/// The hash of a string's bytes (without the length prefix `Hash for [u8]` adds: one mixing
/// round less per lookup; the bytes alone identify the key).
#[inline]
fn hash_bytes(state: &FixedState, key: &[u8]) -> u64 {
    let mut h = state.build_hasher();
    h.write(key);
    h.finish()
}

#[inline]
fn float_key(x: f64) -> u64 {
    // -0.0 == 0.0 as a category; NaN never reaches here (it is missing).
    if x == 0.0 {
        0
    } else {
        x.to_bits()
    }
}

fn kind_error(column: &str, chunk: &Chunk<'_>) -> Error {
    let got = match chunk {
        Chunk::Str(_) | Chunk::Dict { .. } => "strings",
        Chunk::Int { .. } => "integers",
        Chunk::Float { .. } => "floats",
    };
    Error::Shape(format!("a vocabulary of {column} cannot look up {got}"))
}

/// Distinct strings with their counts, in first-seen order, borrowing the input's bytes.
struct StrCounter<'a> {
    table: HashTable<u32>,
    keys: Vec<&'a [u8]>,
    counts: Vec<i64>,
    hasher: FixedState,
}

impl<'a> StrCounter<'a> {
    fn new() -> Self {
        Self {
            table: HashTable::new(),
            keys: Vec::new(),
            counts: Vec::new(),
            hasher: FixedState::with_seed(SEED),
        }
    }

    #[inline]
    fn add(&mut self, key: &'a [u8], weight: i64) {
        let hasher = &self.hasher;
        let keys = &mut self.keys;
        let h = hash_bytes(hasher, key);
        match self.table.find(h, |&i| same_bytes(keys[i as usize], key)) {
            Some(&i) => self.counts[i as usize] += weight,
            None => {
                let i = keys.len() as u32;
                keys.push(key);
                self.counts.push(weight);
                self.table
                    .insert_unique(h, i, |&j| hash_bytes(hasher, keys[j as usize]));
            }
        }
    }

    /// Adds another counter's counts to this one (taking it whole if this one is empty).
    fn absorb(&mut self, other: StrCounter<'a>) {
        if self.keys.is_empty() {
            *self = other;
            return;
        }
        for (key, &c) in other.keys.iter().zip(&other.counts) {
            self.add(key, c);
        }
    }

    fn into_counts(self, missing: i64) -> Counts {
        // Sort by the first 16 bytes held inline (zero-padded, big-endian: their order is the
        // strings' order unless they tie), so most comparisons never touch the strings.
        let prefix = |key: &[u8], at: usize| -> u64 {
            let mut w = [0u8; 8];
            let part = key.get(at..).unwrap_or_default();
            let n = part.len().min(8);
            w[..n].copy_from_slice(&part[..n]);
            u64::from_be_bytes(w)
        };
        let mut sortable: Vec<(u64, u64, u32)> = self
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| (prefix(k, 0), prefix(k, 8), i as u32))
            .collect();
        sortable.sort_unstable_by(|a, b| {
            (a.0, a.1)
                .cmp(&(b.0, b.1))
                .then_with(|| cmp_bytes(self.keys[a.2 as usize], self.keys[b.2 as usize]))
        });
        let order: Vec<u32> = sortable.iter().map(|s| s.2).collect();
        let total: usize = self.keys.iter().map(|k| k.len()).sum();
        let mut data = Vec::with_capacity(total);
        let mut offsets = Vec::with_capacity(order.len() + 1);
        offsets.push(0);
        let mut counts = Vec::with_capacity(order.len());
        for &i in &order {
            data.extend_from_slice(self.keys[i as usize]);
            offsets.push(data.len() as i64);
            counts.push(self.counts[i as usize]);
        }
        Counts {
            vocab: Vocab::Str {
                data: data.into(),
                offsets: offsets.into(),
            },
            counts,
            missing,
        }
    }
}

/// Counts the categories of one column (`name` only labels errors).
pub fn count(column: &Column<'_>) -> Result<Counts> {
    let Some(first) = column.chunks.first() else {
        return Err(Error::Shape("a column needs at least one chunk".into()));
    };
    match first {
        Chunk::Str(_) | Chunk::Dict { .. } => count_strings(column),
        Chunk::Int { .. } => count_numbers(column, false),
        Chunk::Float { .. } => count_numbers(column, true),
    }
}

fn count_strings(column: &Column<'_>) -> Result<Counts> {
    let mut counter = StrCounter::new();
    let mut missing = 0i64;
    for chunk in &column.chunks {
        match chunk {
            Chunk::Str(s) => {
                // Large chunks: count blocks of rows on every core, then add the counters up.
                let count_block = |first: usize, n: usize| {
                    let mut block = StrCounter::new();
                    let mut absent = 0i64;
                    for i in first..first + n {
                        match s.get(i) {
                            Some(v) => block.add(v, 1),
                            None => absent += 1,
                        }
                    }
                    (block, absent)
                };
                let n = s.len();
                // One block per thread: fewer blocks, fewer distinct keys to add up after.
                let threads = match max_threads() {
                    0 => rayon::current_num_threads(),
                    t => t.min(rayon::current_num_threads()),
                };
                let block_rows = n.div_ceil(threads.max(1)).max(1);
                if n < PARALLEL_MIN_ROWS || threads <= 1 {
                    let (block, absent) = count_block(0, n);
                    counter.absorb(block);
                    missing += absent;
                } else {
                    let blocks: Vec<(StrCounter<'_>, i64)> = (0..n.div_ceil(block_rows))
                        .into_par_iter()
                        .map(|b| {
                            let first = b * block_rows;
                            count_block(first, block_rows.min(n - first))
                        })
                        .collect();
                    for (block, absent) in blocks {
                        counter.absorb(block);
                        missing += absent;
                    }
                }
            }
            Chunk::Dict {
                indices,
                validity,
                dictionary,
            } => {
                let mut per_entry = vec![0i64; dictionary.len()];
                for i in 0..indices.len() {
                    if validity.is_some_and(|v| !v.is_valid(i)) {
                        missing += 1;
                    } else if let Some(c) = per_entry.get_mut(indices.get(i) as usize) {
                        *c += 1;
                    }
                }
                for (k, &c) in per_entry.iter().enumerate() {
                    if c == 0 {
                        continue;
                    }
                    match dictionary.get(k) {
                        Some(v) => counter.add(v, c),
                        None => missing += c,
                    }
                }
            }
            other => return Err(kind_error("strings", other)),
        }
    }
    Ok(counter.into_counts(missing))
}

fn count_numbers(column: &Column<'_>, float: bool) -> Result<Counts> {
    let mut table: HashMap<u64, i64, FixedState> =
        HashMap::with_hasher(FixedState::with_seed(SEED));
    let mut missing = 0i64;
    for chunk in &column.chunks {
        match (chunk, float) {
            (Chunk::Int { values, missing: m }, false) => {
                Chunk::numeric_missing(values.len(), *m)?;
                for (i, &v) in values.iter().enumerate() {
                    if m.is_some_and(|m| m[i]) {
                        missing += 1;
                    } else {
                        *table.entry(v as u64).or_insert(0) += 1;
                    }
                }
            }
            (Chunk::Float { values, missing: m }, true) => {
                Chunk::numeric_missing(values.len(), *m)?;
                for (i, &v) in values.iter().enumerate() {
                    if v.is_nan() || m.is_some_and(|m| m[i]) {
                        missing += 1;
                    } else {
                        *table.entry(float_key(v)).or_insert(0) += 1;
                    }
                }
            }
            (other, _) => return Err(kind_error(if float { "floats" } else { "integers" }, other)),
        }
    }
    let mut pairs: Vec<(u64, i64)> = table.into_iter().collect();
    let (vocab, counts) = if float {
        pairs.sort_unstable_by(|a, b| f64::from_bits(a.0).total_cmp(&f64::from_bits(b.0)));
        let values = pairs.iter().map(|p| f64::from_bits(p.0)).collect();
        (Vocab::Float(values), pairs.iter().map(|p| p.1).collect())
    } else {
        pairs.sort_unstable_by_key(|p| p.0 as i64);
        let values = pairs.iter().map(|p| p.0 as i64).collect();
        (Vocab::Int(values), pairs.iter().map(|p| p.1).collect())
    };
    Ok(Counts {
        vocab,
        counts,
        missing,
    })
}

/// Merges two sorted count lists: the union of categories, counts added. Order-free, so any
/// partition of the rows merged in any order gives the same result.
pub fn merge(a: &Counts, b: &Counts) -> Result<Counts> {
    let missing = a.missing + b.missing;
    let count = |(i, j): (Option<usize>, Option<usize>)| {
        i.map_or(0, |i| a.counts[i]) + j.map_or(0, |j| b.counts[j])
    };
    let (vocab, steps) = match (&a.vocab, &b.vocab) {
        (Vocab::Str { .. }, Vocab::Str { .. }) => {
            let (Some(sa), Some(sb)) = (a.vocab.strings()?, b.vocab.strings()?) else {
                return Err(Error::Shape("not strings".into()));
            };
            let steps = union(sa.len(), sb.len(), |i, j| sa.get(i).cmp(&sb.get(j)));
            let mut data = Vec::new();
            let mut offsets = Vec::with_capacity(steps.len() + 1);
            offsets.push(0i64);
            for &(i, j) in &steps {
                let value = match (i, j) {
                    (Some(i), _) => sa.get(i),
                    (None, Some(j)) => sb.get(j),
                    (None, None) => None,
                };
                data.extend_from_slice(value.unwrap_or_default());
                offsets.push(data.len() as i64);
            }
            (
                Vocab::Str {
                    data: data.into(),
                    offsets: offsets.into(),
                },
                steps,
            )
        }
        (Vocab::Int(va), Vocab::Int(vb)) => {
            let steps = union(va.len(), vb.len(), |i, j| va[i].cmp(&vb[j]));
            let values = steps
                .iter()
                .map(|&(i, j)| i.map_or_else(|| j.map_or(0, |j| vb[j]), |i| va[i]));
            (Vocab::Int(values.collect()), steps)
        }
        (Vocab::Float(va), Vocab::Float(vb)) => {
            let steps = union(va.len(), vb.len(), |i, j| va[i].total_cmp(&vb[j]));
            let values = steps
                .iter()
                .map(|&(i, j)| i.map_or_else(|| j.map_or(0.0, |j| vb[j]), |i| va[i]));
            (Vocab::Float(values.collect()), steps)
        }
        _ => {
            return Err(Error::Shape(
                "cannot merge category counts of different kinds (strings, integers, floats)"
                    .into(),
            ))
        }
    };
    let counts = steps.iter().map(|&step| count(step)).collect();
    Ok(Counts {
        vocab,
        counts,
        missing,
    })
}

/// The union of two sorted sequences as steps `(index in a, index in b)`; `cmp(i, j)` compares
/// `a[i]` with `b[j]`.
fn union(
    na: usize,
    nb: usize,
    cmp: impl Fn(usize, usize) -> std::cmp::Ordering,
) -> Vec<(Option<usize>, Option<usize>)> {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let mut steps = Vec::with_capacity(na.max(nb));
    let (mut i, mut j) = (0, 0);
    while i < na || j < nb {
        let order = if i == na {
            Greater
        } else if j == nb {
            Less
        } else {
            cmp(i, j)
        };
        match order {
            Less => {
                steps.push((Some(i), None));
                i += 1;
            }
            Greater => {
                steps.push((None, Some(j)));
                j += 1;
            }
            Equal => {
                steps.push((Some(i), Some(j)));
                i += 1;
                j += 1;
            }
        }
    }
    steps
}

/// A vocabulary's lookup table, built once (at fit or load) so that looking a value up costs
/// the same whatever the number of categories.
#[derive(Clone, Debug)]
pub struct CategoryIndex {
    vocab: Vocab,
    table: StrIndex,
    numbers: HashMap<u64, u32, FixedState>,
}

/// Categories up to which a string vocabulary's table holds the strings in its slots.
const INLINE_MAX_CATEGORIES: usize = 1 << 18;

/// A string vocabulary's table. Up to `INLINE_MAX_CATEGORIES`, slots that hold the strings
/// (`StrTable`: a lookup reads one slot). Beyond, a table of codes into the vocabulary's
/// buffers (`CodeTable`): for a million categories its 8-byte slots take 16 MB where inline
/// slots take 64 MB, and loading such an artifact took 66 ms with inline slots against 20 ms.
#[derive(Clone, Debug)]
enum StrIndex {
    Inline(StrTable),
    Compact(CodeTable),
}

impl CategoryIndex {
    /// Builds the table; refuses an invalid vocabulary (unsorted, duplicated, NaN).
    pub fn new(vocab: Vocab) -> Result<Self> {
        let mut table = StrIndex::Inline(StrTable::with_capacity(0));
        let mut numbers = HashMap::with_hasher(FixedState::with_seed(SEED));
        match &vocab {
            Vocab::Str { data, offsets } => {
                if let Some(s) = vocab.strings()? {
                    // One pass: each string is checked against the one before (sorted and
                    // distinct, as `validate` requires) while it is hashed and inserted.
                    // Offsets checked by `strings`. The buffers are taken out of `Buffer`
                    // once: a shared one derefs through its owner on every use.
                    let (data, offsets): (&[u8], &[i64]) = (data, offsets);
                    let key = |i: usize| &data[offsets[i] as usize..offsets[i + 1] as usize];
                    let unsorted = || Error::Shape("categories must be sorted and distinct".into());
                    if s.len() <= INLINE_MAX_CATEGORIES {
                        let mut t = StrTable::with_capacity(s.len());
                        let mut keys = [Key::default(); LOOKUP_BATCH];
                        let mut previous: Option<&[u8]> = None;
                        // A batch of keys hashed and their slots prefetched, then inserted: the
                        // slots of a large vocabulary are written at random.
                        for first in (0..s.len()).step_by(LOOKUP_BATCH) {
                            let m = LOOKUP_BATCH.min(s.len() - first);
                            for (r, k) in keys[..m].iter_mut().enumerate() {
                                *k = Key::new(key(first + r));
                                t.prefetch(k);
                            }
                            for (r, k) in keys[..m].iter().enumerate() {
                                let v = key(first + r);
                                if previous.is_some_and(|p| cmp_bytes(p, v).is_ge()) {
                                    return Err(unsorted());
                                }
                                previous = Some(v);
                                t.insert_new(k, (first + r) as u32, |j| {
                                    Key::new(key(j as usize)).hash()
                                });
                            }
                        }
                        table = StrIndex::Inline(t);
                    } else {
                        let mut hashes = crate::memory::zeroed::<u64>(s.len());
                        let mut previous: &[u8] = key(0);
                        hashes[0] = Key::new(previous).hash();
                        for (i, h) in hashes.iter_mut().enumerate().skip(1) {
                            let k = key(i);
                            // Hardware prefetchers stop at page boundaries, and a mapped
                            // artifact's pages lie anywhere: loading the key was a quarter of
                            // the build (1M categories: 20 to 23 -> 14 to 16 ms).
                            prefetch(k.as_ptr().wrapping_add(PREFETCH_BYTES));
                            prefetch(offsets.as_ptr().wrapping_add(i + PREFETCH_BYTES / 8));
                            if cmp_bytes(previous, k).is_ge() {
                                return Err(unsorted());
                            }
                            previous = k;
                            *h = Key::new(k).hash();
                        }
                        table = StrIndex::Compact(CodeTable::build(hashes));
                    }
                }
            }
            Vocab::Int(v) => {
                vocab.validate()?;
                numbers.reserve(v.len());
                for (i, &x) in v.iter().enumerate() {
                    numbers.insert(x as u64, i as u32);
                }
            }
            Vocab::Float(v) => {
                vocab.validate()?;
                numbers.reserve(v.len());
                for (i, &x) in v.iter().enumerate() {
                    numbers.insert(float_key(x), i as u32);
                }
            }
        }
        Ok(Self {
            vocab,
            table,
            numbers,
        })
    }

    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    pub fn len(&self) -> usize {
        self.vocab.len()
    }

    pub fn is_empty(&self) -> bool {
        self.vocab.is_empty()
    }

    /// The code of a string; compares against the vocabulary's own buffers (checked in `new`).
    #[inline]
    fn code_str(&self, key: &[u8]) -> u32 {
        match &self.table {
            StrIndex::Inline(t) => self.coder(t)(&Key::new(key), key),
            StrIndex::Compact(t) => self.compact_coder(t)(Key::new(key).hash(), key),
        }
    }

    /// The vocabulary's buffers, and the code of an unknown value.
    #[inline(always)]
    fn parts(&self) -> (&[u8], &[i64], u32) {
        let unknown = unknown_code(self.len());
        match &self.vocab {
            Vocab::Str { data, offsets } => (data, offsets, unknown),
            _ => (&[], &[], unknown),
        }
    }

    /// The code of a string from its `Key` and bytes, with the vocabulary's fields taken out
    /// once, so that a loop over values keeps them in registers.
    #[inline(always)]
    fn coder<'s>(&'s self, table: &'s StrTable) -> impl Fn(&Key, &[u8]) -> u32 + 's {
        let (data, offsets, unknown) = self.parts();
        move |k: &Key, key: &[u8]| {
            // Only keys longer than the inline bytes compare their rest here.
            let rest = |i: u32| {
                let i = i as usize;
                data.get(offsets[i] as usize + INLINE..offsets[i + 1] as usize)
                    .is_some_and(|v| same_bytes(v, &key[INLINE..]))
            };
            table.find(k, rest).unwrap_or(unknown)
        }
    }

    /// The code of a string from its hash and bytes, in a compact table.
    #[inline(always)]
    fn compact_coder<'s>(&'s self, table: &'s CodeTable) -> impl Fn(u64, &[u8]) -> u32 + 's {
        let (data, offsets, unknown) = self.parts();
        move |hash: u64, key: &[u8]| {
            let is = |i: u32| {
                let i = i as usize;
                data.get(offsets[i] as usize..offsets[i + 1] as usize)
                    .is_some_and(|v| same_bytes(v, key))
            };
            table.find(hash, is).unwrap_or(unknown)
        }
    }

    /// Codes of the strings `rows` of an offsets + data array without nulls.
    #[inline(never)]
    fn code_offsets<O: Copy + Into<i64>>(
        &self,
        offsets: &[O],
        data: &[u8],
        rows: std::ops::Range<usize>,
        dst: &mut [u32],
    ) {
        let window = offsets.get(rows.start..rows.end + 1).unwrap_or_default();
        let value = |r: usize| {
            let (a, b) = (window[r].into() as usize, window[r + 1].into() as usize);
            data.get(a..b).unwrap_or_default()
        };
        let table = match &self.table {
            StrIndex::Inline(t) => t,
            StrIndex::Compact(t) => {
                // Always beyond the cache: hashes of a batch first, their slots prefetched.
                let code = self.compact_coder(t);
                for (b, codes) in dst.chunks_mut(LOOKUP_BATCH).enumerate() {
                    let first = b * LOOKUP_BATCH;
                    let hashes: [u64; LOOKUP_BATCH] = std::array::from_fn(|r| {
                        let h = Key::new(value((first + r).min(first + codes.len() - 1))).hash();
                        t.prefetch(h);
                        h
                    });
                    for (r, c) in codes.iter_mut().enumerate() {
                        *c = code(hashes[r], value(first + r));
                    }
                }
                return;
            }
        };
        let code = self.coder(table);
        if table.bytes() <= PREFETCH_TABLE_BYTES {
            // Pairs of offsets from `windows` rather than `value(r)`: without its two bounds
            // checks a value, 10 categories took 4.8 against 5.7 ms a million values.
            for (c, w) in dst.iter_mut().zip(window.windows(2)) {
                let v = data
                    .get(w[0].into() as usize..w[1].into() as usize)
                    .unwrap_or_default();
                *c = code(&Key::new(v), v);
            }
            return;
        }
        // A table beyond the cache: hash a batch of values and prefetch their slots first,
        // so that the batch's cache misses overlap.
        for (b, codes) in dst.chunks_mut(LOOKUP_BATCH).enumerate() {
            let first = b * LOOKUP_BATCH;
            let keys: [Key; LOOKUP_BATCH] = std::array::from_fn(|r| {
                let k = Key::new(value((first + r).min(first + codes.len() - 1)));
                table.prefetch(&k);
                k
            });
            for (r, c) in codes.iter_mut().enumerate() {
                *c = code(&keys[r], value(first + r));
            }
        }
    }

    #[inline]
    fn code_number(&self, key: u64) -> u32 {
        self.numbers
            .get(&key)
            .copied()
            .unwrap_or_else(|| unknown_code(self.len()))
    }

    /// Checks that `column` can be looked up in this vocabulary and looks up the entries of
    /// its dictionaries once, so that any range of rows can then be looked up on its own.
    pub fn prepare<'c, 'a>(&self, column: &'c Column<'a>) -> Result<Prepared<'c, 'a>> {
        let missing = missing_code(self.len());
        let mut starts = Vec::with_capacity(column.chunks.len());
        let mut entries = Vec::with_capacity(column.chunks.len());
        let mut start = 0usize;
        for chunk in &column.chunks {
            let codes = match (chunk, &self.vocab) {
                (Chunk::Str(_), Vocab::Str { .. }) => None,
                (Chunk::Int { missing: m, .. }, Vocab::Int(_))
                | (Chunk::Float { missing: m, .. }, Vocab::Float(_)) => {
                    Chunk::numeric_missing(chunk.len(), *m)?;
                    None
                }
                (Chunk::Dict { dictionary, .. }, Vocab::Str { .. }) => Some(
                    (0..dictionary.len())
                        .map(|k| dictionary.get(k).map_or(missing, |v| self.code_str(v)))
                        .collect::<Vec<u32>>(),
                ),
                (other, vocab) => {
                    let kind = match vocab {
                        Vocab::Str { .. } => "strings",
                        Vocab::Int(_) => "integers",
                        Vocab::Float(_) => "floats",
                    };
                    return Err(kind_error(kind, other));
                }
            };
            starts.push(start);
            entries.push(codes);
            start += chunk.len();
        }
        Ok(Prepared {
            column,
            starts,
            entries,
        })
    }

    /// Codes of rows `first..first + out.len()` of a prepared column.
    pub fn lookup_rows(&self, p: &Prepared<'_, '_>, first: usize, out: &mut [u32]) -> Found {
        let (missing, unknown) = (missing_code(self.len()), unknown_code(self.len()));
        let last = first + out.len();
        for (c, chunk) in p.column.chunks.iter().enumerate() {
            let start = p.starts[c];
            let (a, b) = (first.max(start), last.min(start + chunk.len()));
            if a >= b {
                continue;
            }
            let dst = &mut out[a - first..b - first];
            let rows = a - start..b - start;
            match chunk {
                // The common layouts without nulls get a loop of their own.
                Chunk::Str(StrArray::Utf8 {
                    offsets: Offsets::I32(o),
                    data,
                    validity: None,
                }) => self.code_offsets(o, data, rows, dst),
                Chunk::Str(StrArray::Utf8 {
                    offsets: Offsets::I64(o),
                    data,
                    validity: None,
                }) => self.code_offsets(o, data, rows, dst),
                Chunk::Str(s) => {
                    for (code, i) in dst.iter_mut().zip(rows) {
                        *code = s.get(i).map_or(missing, |v| self.code_str(v));
                    }
                }
                Chunk::Dict {
                    indices, validity, ..
                } => {
                    let entries = p.entries[c].as_deref().unwrap_or_default();
                    for (code, i) in dst.iter_mut().zip(rows) {
                        *code = if validity.is_some_and(|v| !v.is_valid(i)) {
                            missing
                        } else {
                            entries
                                .get(indices.get(i) as usize)
                                .copied()
                                .unwrap_or(missing)
                        };
                    }
                }
                Chunk::Int { values, missing: m } => {
                    for (code, i) in dst.iter_mut().zip(rows) {
                        *code = if m.is_some_and(|m| m[i]) {
                            missing
                        } else {
                            self.code_number(values[i] as u64)
                        };
                    }
                }
                Chunk::Float { values, missing: m } => {
                    for (code, i) in dst.iter_mut().zip(rows) {
                        let v = values[i];
                        *code = if v.is_nan() || m.is_some_and(|m| m[i]) {
                            missing
                        } else {
                            self.code_number(float_key(v))
                        };
                    }
                }
            }
        }
        let mut found = Found::default();
        for &code in out.iter() {
            found.unknown += usize::from(code == unknown);
            found.missing += usize::from(code == missing);
        }
        found
    }

    /// Codes of `column`, written to `codes` (one per row). Returns how many values were
    /// unknown and how many missing; missing values get `missing_code` whether or not the
    /// vocabulary saw any.
    pub fn lookup(&self, column: &Column<'_>, codes: &mut [u32]) -> Result<Found> {
        if codes.len() != column.len() {
            return Err(Error::Shape(format!(
                "{} codes for a column of {} values",
                codes.len(),
                column.len()
            )));
        }
        let prepared = self.prepare(column)?;
        Ok(split(codes, |first, block| {
            self.lookup_rows(&prepared, first, block)
        }))
    }
}

/// A column checked against a vocabulary, with its dictionaries' entries looked up.
pub struct Prepared<'c, 'a> {
    column: &'c Column<'a>,
    starts: Vec<usize>,
    entries: Vec<Option<Vec<u32>>>,
}

/// Byte order (as `<[u8]>::cmp`, which is code point order for UTF-8), a word at a time.
#[inline]
fn cmp_bytes(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let n = a.len().min(b.len());
    let mut at = 0;
    while at + 8 <= n {
        let mut wa = [0u8; 8];
        let mut wb = [0u8; 8];
        wa.copy_from_slice(&a[at..at + 8]);
        wb.copy_from_slice(&b[at..at + 8]);
        if wa != wb {
            return u64::from_be_bytes(wa).cmp(&u64::from_be_bytes(wb));
        }
        at += 8;
    }
    a[at..].cmp(&b[at..])
}

/// Byte equality for short strings without a call to `memcmp` (whose call overhead is most
/// of the cost of comparing a 10 to 30 byte category).
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n >= 8 {
        // Whole words, then the last (possibly overlapping) word.
        let mut at = 0;
        while at + 8 <= n {
            if le_u64(a, at) != le_u64(b, at) {
                return false;
            }
            at += 8;
        }
        return le_u64(a, n - 8) == le_u64(b, n - 8);
    }
    a.iter().zip(b).all(|(x, y)| x == y)
}

/// What a lookup found besides categories: the number of unknown and of missing values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Found {
    pub unknown: usize,
    pub missing: usize,
}

impl std::ops::Add for Found {
    type Output = Found;

    fn add(self, other: Found) -> Found {
        Found {
            unknown: self.unknown + other.unknown,
            missing: self.missing + other.missing,
        }
    }
}

/// Runs `f(first_row, out_block)` over blocks of `out`, in parallel when worth it; sums results.
fn split(out: &mut [u32], f: impl Fn(usize, &mut [u32]) -> Found + Sync) -> Found {
    if out.len() < PARALLEL_MIN_ROWS || max_threads() == 1 {
        return f(0, out);
    }
    out.par_chunks_mut(BLOCK_ROWS)
        .enumerate()
        .map(|(b, block)| f(b * BLOCK_ROWS, block))
        .reduce(Found::default, |a, b| a + b)
}

/// Rows per block of the fused encoders, for `k` columns: a block's codes (about 512 KiB of
/// them) stay in cache between their lookup and the output pass. Long runs of one column
/// matter too: 2,048-row blocks of 4 columns took a fifth longer than 32,768-row ones.
fn encode_block_rows(k: usize) -> usize {
    ((1 << 17) / k.max(1)).clamp(2048, 32768)
}

/// Checks the inputs of the fused encoders and prepares each column for its vocabulary.
fn prepare_all<'c, 'a, U>(
    indexes: &[&CategoryIndex],
    columns: &'c [Column<'a>],
    tables: &[&[U]],
    rows: usize,
) -> Result<Vec<Prepared<'c, 'a>>> {
    if indexes.len() != columns.len() || tables.len() != columns.len() {
        return Err(Error::Shape(format!(
            "{} columns, {} vocabularies and {} tables",
            columns.len(),
            indexes.len(),
            tables.len()
        )));
    }
    for (j, ((index, column), table)) in indexes.iter().zip(columns).zip(tables).enumerate() {
        if column.len() != rows {
            return Err(Error::Shape(format!(
                "column {j} has {} rows, expected {rows}",
                column.len()
            )));
        }
        if table.len() != index.len() + 2 {
            return Err(Error::Shape(format!(
                "column {j}: a table needs {} entries (categories, missing, unknown), got {}",
                index.len() + 2,
                table.len()
            )));
        }
    }
    indexes
        .iter()
        .zip(columns)
        .map(|(i, c)| i.prepare(c))
        .collect()
}

/// The codes of rows `first..first + n` of every column, column-major (column `j`'s at
/// `j * n`), and what each column's lookup found.
fn block_codes(
    indexes: &[&CategoryIndex],
    prepared: &[Prepared<'_, '_>],
    first: usize,
    n: usize,
) -> (Vec<u32>, Vec<Found>) {
    let k = prepared.len();
    let mut codes = vec![0u32; n * k];
    let found = (0..k)
        .map(|j| indexes[j].lookup_rows(&prepared[j], first, &mut codes[j * n..(j + 1) * n]))
        .collect();
    (codes, found)
}

/// The one pass behind the fused encoders: looks every column of a block of rows up (blocks
/// in parallel for large inputs), then lets `write(codes, n, out_block)` turn the block's
/// codes (column-major: column `j`'s `n` codes at `j * n`) into its output, row by row, in one
/// pass over it. Returns what each column's lookup found.
fn encode_blocks<T: Send>(
    indexes: &[&CategoryIndex],
    prepared: &[Prepared<'_, '_>],
    rows: usize,
    out: &mut [T],
    out_cols: usize,
    write: impl Fn(&[u32], usize, &mut [T]) + Sync,
) -> Vec<Found> {
    let k = prepared.len();
    let block_rows = encode_block_rows(k);
    let run = |b: usize, block: &mut [T]| -> Vec<Found> {
        let first = b * block_rows;
        let n = block_rows.min(rows - first);
        let (codes, found) = block_codes(indexes, prepared, first, n);
        if out_cols > 0 {
            write(&codes, n, block);
        }
        found
    };
    let add = |a: Vec<Found>, b: Vec<Found>| a.into_iter().zip(b).map(|(x, y)| x + y).collect();
    if rows == 0 {
        return vec![Found::default(); k];
    }
    if out_cols == 0 {
        // Nothing to write (every category dropped): still look up, for the counts.
        let mut empty: [T; 0] = [];
        return (0..rows.div_ceil(block_rows))
            .map(|b| run(b, &mut empty))
            .fold(vec![Found::default(); k], add);
    }
    let parallel = rows * k >= PARALLEL_MIN_ROWS && max_threads() != 1;
    fold_blocks(
        out,
        block_rows * out_cols,
        parallel,
        || vec![Found::default(); k],
        run,
        add,
    )
}

/// Ordinal and count encoding in one pass: `out[r, j] = tables[j][code of columns[j][r]]`,
/// row-major `rows × k`. Returns what each column's lookup found (unknown, missing).
pub fn encode_gather<T: Element>(
    indexes: &[&CategoryIndex],
    columns: &[Column<'_>],
    tables: &[&[f64]],
    rows: usize,
    out: &mut [T],
) -> Result<Vec<Found>> {
    let prepared = prepare_all(indexes, columns, tables, rows)?;
    let k = columns.len();
    if out.len() != rows * k {
        return Err(Error::Shape("output has the wrong size".into()));
    }
    Ok(encode_blocks(
        indexes,
        &prepared,
        rows,
        out,
        k,
        |codes, n, block| {
            for (r, row) in block.chunks_exact_mut(k).enumerate() {
                for (j, (x, table)) in row.iter_mut().zip(tables).enumerate() {
                    *x = T::from_f64(table[codes[j * n + r] as usize]);
                }
            }
        },
    ))
}

/// Dense one-hot in one pass (see `onehot_dense` for the tables); `out` is `rows × width`.
pub fn encode_onehot_dense<T: Element>(
    indexes: &[&CategoryIndex],
    columns: &[Column<'_>],
    tables: &[&[i32]],
    offsets: &[usize],
    width: usize,
    rows: usize,
    out: &mut [T],
) -> Result<Vec<Found>> {
    let prepared = prepare_all(indexes, columns, tables, rows)?;
    check_widths(tables, offsets, width)?;
    if out.len() != rows * width {
        return Err(Error::Shape("output has the wrong size".into()));
    }
    let one = T::from_f64(1.0);
    Ok(encode_blocks(
        indexes,
        &prepared,
        rows,
        out,
        width,
        |codes, n, block| {
            for (r, row) in block.chunks_exact_mut(width).enumerate() {
                row.fill(T::ZERO);
                for (j, (table, &at)) in tables.iter().zip(offsets).enumerate() {
                    let target = table[codes[j * n + r] as usize];
                    if target >= 0 {
                        row[at + target as usize] = one;
                    }
                }
            }
        },
    ))
}

/// Sparse one-hot in one pass: CSR `(indptr, indices)` and what each lookup found.
pub fn encode_onehot_csr(
    indexes: &[&CategoryIndex],
    columns: &[Column<'_>],
    tables: &[&[i32]],
    offsets: &[usize],
    width: usize,
    rows: usize,
) -> Result<(Vec<i64>, Vec<i32>, Vec<Found>)> {
    let prepared = prepare_all(indexes, columns, tables, rows)?;
    check_widths(tables, offsets, width)?;
    if width > i32::MAX as usize {
        return Err(Error::Shape(
            "one-hot output wider than 2^31 columns".into(),
        ));
    }
    let k = columns.len();
    let block_rows = encode_block_rows(k);
    // Each block: its rows' ends (counted from the block's first entry) and indices, then
    // stitched together.
    let run = |b: usize| -> (Vec<i64>, Vec<i32>, Vec<Found>) {
        let first = b * block_rows;
        let n = block_rows.min(rows - first);
        let (codes, found) = block_codes(indexes, &prepared, first, n);
        let mut ends = Vec::with_capacity(n);
        let mut indices = Vec::with_capacity(n * k);
        for r in 0..n {
            for (j, (table, &at)) in tables.iter().zip(offsets).enumerate() {
                let t = table[codes[j * n + r] as usize];
                if t >= 0 {
                    indices.push((at + t as usize) as i32);
                }
            }
            ends.push(indices.len() as i64);
        }
        (ends, indices, found)
    };
    let parallel = rows * k >= PARALLEL_MIN_ROWS && max_threads() != 1;
    let parts = map_blocks(rows.div_ceil(block_rows), parallel, run);
    let mut found = vec![Found::default(); k];
    for (_, _, f) in &parts {
        for (total, &x) in found.iter_mut().zip(f) {
            *total = *total + x;
        }
    }
    let ends: Vec<&[i64]> = parts.iter().map(|p| &p.0[..]).collect();
    let indptr = concat_ends(&ends, parallel);
    let indices: Vec<&[i32]> = parts.iter().map(|p| &p.1[..]).collect();
    Ok((indptr, concat(&indices, parallel, |_, i| i), found))
}

/// Checks that each column's one-hot block fits in the output width.
fn check_widths(tables: &[&[i32]], offsets: &[usize], width: usize) -> Result<()> {
    if offsets.len() != tables.len() {
        return Err(Error::Shape("one block offset per column expected".into()));
    }
    for (j, t) in tables.iter().enumerate() {
        let top = t.iter().copied().max().unwrap_or(-1).max(-1);
        if offsets[j] + (top + 1) as usize > width {
            return Err(Error::Shape(format!(
                "column {j}: one-hot table points past the output width"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::strings::{Indices, Validity};

    fn utf8<'a>(offsets: &'a [i64], data: &'a [u8]) -> StrArray<'a> {
        StrArray::utf8(Offsets::I64(offsets), data, None).unwrap()
    }

    #[test]
    fn counts_strings_sorted_with_missing() {
        let bits = [0b1111_1011u8];
        let s = StrArray::utf8(
            Offsets::I32(&[0, 1, 2, 2, 3, 4]),
            b"baab",
            Some(Validity::new(&bits, 0, 5).unwrap()),
        )
        .unwrap();
        let c = count(&Column::new(vec![Chunk::Str(s)])).unwrap();
        assert_eq!(
            c.vocab,
            Vocab::Str {
                data: b"ab".to_vec().into(),
                offsets: vec![0, 1, 2].into()
            }
        );
        assert_eq!(c.counts, vec![2, 2]);
        assert_eq!(c.missing, 1);
    }

    #[test]
    fn counts_sort_like_python_with_shared_prefixes_and_nul_bytes() {
        let words: [&[u8]; 8] = [
            b"category-0000000002",
            b"category-0000000001",
            b"a",
            b"a\x00",
            b"a\x00b",
            b"",
            b"category-0000000001x",
            b"\xff",
        ];
        let mut data = Vec::new();
        let mut offsets = vec![0i64];
        for w in words {
            data.extend_from_slice(w);
            offsets.push(data.len() as i64);
        }
        let c = count(&Column::new(vec![Chunk::Str(utf8(&offsets, &data))])).unwrap();
        let mut expected = words.to_vec();
        expected.sort();
        let Vocab::Str { data, offsets } = c.vocab else {
            panic!("strings expected")
        };
        let got: Vec<&[u8]> = offsets
            .windows(2)
            .map(|w| &data[w[0] as usize..w[1] as usize])
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn dictionary_counts_equal_plain_counts() {
        let dict = utf8(&[0, 1, 3], b"xyy");
        let chunk = Chunk::dict(Indices::I8(&[1, 0, 1, 1]), None, dict).unwrap();
        let c = count(&Column::new(vec![chunk])).unwrap();
        assert_eq!(c.counts, vec![1, 3]);
    }

    #[test]
    fn merge_adds_counts_and_unions_categories() {
        let a = count(&Column::new(vec![Chunk::Str(utf8(&[0, 1, 2, 3], b"abb"))])).unwrap();
        let b = count(&Column::new(vec![Chunk::Str(utf8(&[0, 1, 2], b"cb"))])).unwrap();
        let m = merge(&a, &b).unwrap();
        let both = count(&Column::new(vec![Chunk::Str(utf8(
            &[0, 1, 2, 3, 4, 5],
            b"abbcb",
        ))]))
        .unwrap();
        assert_eq!(m, both);
        let ia = count(&Column::new(vec![Chunk::Int {
            values: &[3, 1, 3],
            missing: None,
        }]))
        .unwrap();
        let ib = count(&Column::new(vec![Chunk::Int {
            values: &[2, 3],
            missing: Some(&[false, true]),
        }]))
        .unwrap();
        let im = merge(&ia, &ib).unwrap();
        assert_eq!(im.vocab, Vocab::Int(vec![1, 2, 3]));
        assert_eq!((im.counts, im.missing), (vec![1, 1, 2], 1));
    }

    #[test]
    fn lookup_gives_codes_missing_and_unknown() {
        let vocab = Vocab::Str {
            data: b"ab".to_vec().into(),
            offsets: vec![0, 1, 2].into(),
        };
        let index = CategoryIndex::new(vocab).unwrap();
        let bits = [0b0000_1011u8];
        let s = StrArray::utf8(
            Offsets::I32(&[0, 1, 2, 2, 3]),
            b"bac",
            Some(Validity::new(&bits, 0, 4).unwrap()),
        )
        .unwrap();
        let mut codes = vec![0u32; 4];
        let found = index
            .lookup(&Column::new(vec![Chunk::Str(s)]), &mut codes)
            .unwrap();
        assert_eq!(codes, vec![1, 0, 2, 3]);
        assert_eq!(
            found,
            Found {
                unknown: 1,
                missing: 1
            }
        );
        let floats = CategoryIndex::new(Vocab::Float(vec![-1.5, 0.0])).unwrap();
        let mut codes = vec![0u32; 3];
        floats
            .lookup(
                &Column::new(vec![Chunk::Float {
                    values: &[-0.0, f64::NAN, 7.0],
                    missing: None,
                }]),
                &mut codes,
            )
            .unwrap();
        assert_eq!(codes, vec![1, 2, 3]);
    }

    #[test]
    fn index_refuses_unsorted_or_duplicate_vocab() {
        assert!(CategoryIndex::new(Vocab::Int(vec![2, 1])).is_err());
        assert!(CategoryIndex::new(Vocab::Float(vec![1.0, f64::NAN])).is_err());
        let dup = Vocab::Str {
            data: b"aa".to_vec().into(),
            offsets: vec![0, 1, 2].into(),
        };
        assert!(CategoryIndex::new(dup).is_err());
        // The compact table's build checks order too: a large sorted vocabulary, then with
        // its last two strings swapped or its last repeated.
        let n = INLINE_MAX_CATEGORIES + 2;
        let words: Vec<String> = (0..n).map(|i| format!("c{i:08}")).collect();
        let vocab = |w: &[String]| Vocab::Str {
            data: w.concat().into_bytes().into(),
            offsets: (0..=w.len() as i64)
                .map(|i| 9 * i)
                .collect::<Vec<_>>()
                .into(),
        };
        assert!(CategoryIndex::new(vocab(&words)).is_ok());
        let mut swapped = words.clone();
        swapped.swap(n - 2, n - 1);
        assert!(CategoryIndex::new(vocab(&swapped)).is_err());
        let mut repeated = words.clone();
        repeated[n - 1] = repeated[n - 2].clone();
        assert!(CategoryIndex::new(vocab(&repeated)).is_err());
    }

    fn strings<'a>(offsets: &'a [i64], data: &'a [u8]) -> Column<'a> {
        Column::new(vec![Chunk::Str(utf8(offsets, data))])
    }

    #[test]
    fn inline_and_compact_tables_give_the_same_codes() {
        // Both sides of INLINE_MAX_CATEGORIES, with keys of 3 to 33 bytes; the big vocabulary
        // also takes the prefetching path of the inline table's neighbour sizes.
        for n in [1_000, 100_000, INLINE_MAX_CATEGORIES + 1] {
            let words: Vec<String> = (0..n)
                .map(|i| format!("{}{i:07}", "k".repeat(i % 27)))
                .collect();
            let mut sorted = words.clone();
            sorted.sort();
            let (mut data, mut offsets) = (Vec::new(), vec![0i64]);
            for w in &sorted {
                data.extend_from_slice(w.as_bytes());
                offsets.push(data.len() as i64);
            }
            let index = CategoryIndex::new(Vocab::Str {
                data: data.into(),
                offsets: offsets.into(),
            })
            .unwrap();
            // Every category, then unknowns alike in all but their last byte or their length.
            let mut queries: Vec<String> = words.iter().step_by(7).cloned().collect();
            queries.extend(words.iter().step_by(11).map(|w| format!("{w}!")));
            queries.extend(
                words
                    .iter()
                    .step_by(13)
                    .map(|w| w[..w.len() - 1].to_string() + "#"),
            );
            let (mut qd, mut qo) = (Vec::new(), vec![0i64]);
            for q in &queries {
                qd.extend_from_slice(q.as_bytes());
                qo.push(qd.len() as i64);
            }
            let mut codes = vec![0u32; queries.len()];
            let found = index.lookup(&strings(&qo, &qd), &mut codes).unwrap();
            let expected: Vec<u32> = queries
                .iter()
                .map(|q| {
                    sorted
                        .binary_search(q)
                        .map_or(unknown_code(n), |i| i as u32)
                })
                .collect();
            assert_eq!(codes, expected, "{n} categories");
            assert_eq!(
                found.unknown,
                expected.iter().filter(|&&c| c == unknown_code(n)).count()
            );
        }
    }

    #[test]
    fn fused_onehot_dense_and_csr_agree() {
        let a = CategoryIndex::new(Vocab::Str {
            data: b"ab".to_vec().into(),
            offsets: vec![0, 1, 2].into(),
        })
        .unwrap();
        let b = CategoryIndex::new(Vocab::Str {
            data: b"xyz".to_vec().into(),
            offsets: vec![0, 1, 2, 3].into(),
        })
        .unwrap();
        // rows: (a, y), (b, x), (?, <unknown>)
        let columns = [
            strings(&[0, 1, 2, 3], b"abq"),
            strings(&[0, 1, 2, 3], b"yxw"),
        ];
        let tables: [&[i32]; 2] = [&[0, 1, -1, -1], &[0, 1, 2, -1, -1]];
        let indexes = [&a, &b];
        let mut dense = vec![0.0f64; 3 * 5];
        let found =
            encode_onehot_dense(&indexes, &columns, &tables, &[0, 2], 5, 3, &mut dense).unwrap();
        assert_eq!(
            found[0],
            Found {
                unknown: 1,
                missing: 0
            }
        );
        let (indptr, indices, _) =
            encode_onehot_csr(&indexes, &columns, &tables, &[0, 2], 5, 3).unwrap();
        assert_eq!(indptr, vec![0, 2, 4, 4]);
        assert_eq!(indices, vec![0, 3, 1, 2]);
        for r in 0..3 {
            for c in 0..5 {
                let stored =
                    indices[indptr[r] as usize..indptr[r + 1] as usize].contains(&(c as i32));
                assert_eq!(dense[r * 5 + c] == 1.0, stored);
            }
        }
        let short: [&[i32]; 2] = [&[0, 1, -1], &[0, 1, 2, -1, -1]];
        assert!(encode_onehot_csr(&indexes, &columns, &short, &[0, 2], 5, 3).is_err());
    }

    #[test]
    fn fused_gather_reads_tables() {
        let index = CategoryIndex::new(Vocab::Int(vec![1, 5])).unwrap();
        let column = Column::new(vec![Chunk::Int {
            values: &[5, 1, 9, 0],
            missing: Some(&[false, false, false, true]),
        }]);
        let tables: [&[f64]; 1] = [&[10.0, 20.0, f64::NAN, -1.0]];
        let mut out = vec![0.0f32; 4];
        let found = encode_gather(&[&index], &[column], &tables, 4, &mut out).unwrap();
        assert_eq!(&out[..2], &[20.0, 10.0]);
        assert_eq!(out[2], -1.0);
        assert!(out[3].is_nan());
        assert_eq!(
            found,
            vec![Found {
                unknown: 1,
                missing: 1
            }]
        );
    }

    #[test]
    fn word_compare_equals_slice_compare() {
        let words: [&[u8]; 9] = [
            b"",
            b"a",
            b"ab",
            b"abcdefgh",
            b"abcdefghi",
            b"abcdefgi",
            b"abcdefgh\xff",
            b"abcdefghabcdefgh",
            b"\xc3\xa9t\xc3\xa9 category",
        ];
        for a in words {
            for b in words {
                assert_eq!(cmp_bytes(a, b), a.cmp(b), "{a:?} {b:?}");
                assert_eq!(same_bytes(a, b), a == b, "{a:?} {b:?}");
            }
        }
    }
}
