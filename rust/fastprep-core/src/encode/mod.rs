//! Categorical encoding: category counts at fit, a lookup table built once, and the one-hot,
//! ordinal and count outputs at transform.
//!
//! Codes. For a vocabulary of `n` categories, a looked-up value gets a *code*: `0..n` for the
//! category of that rank in the (sorted) vocabulary, `n` ([`missing_code`]) for a missing value
//! (null, None, NaN) and `n + 1` ([`unknown_code`]) for a value not in the vocabulary. Each
//! encoder turns codes into output through a per-column table of `n + 2` entries, computed once
//! from the fitted state; so the policies for missing, unknown and infrequent values live in
//! those tables and the kernels below stay branch-free and identical for every encoder.
//!
//! - `count`: the fit, each column's categories and their counts, mergeable;
//! - `index`: the lookup table of a vocabulary, built once, and the lookup of a column's values;
//! - `kernels`: the one-hot, ordinal and count outputs of looked-up codes, by row blocks.

mod count;
mod index;
mod kernels;

pub use count::{count, merge, Counts};
pub use index::{CategoryIndex, OneValue, Prepared};
pub use kernels::{encode_gather, encode_onehot_csr, encode_onehot_dense};

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
pub(super) const SEED: u64 = 0x5eed_fa57_b7e9_0001;
/// Lookup tables larger than this (about a core's L2 cache) are probed a batch at a time,
/// with prefetching.
pub(super) const PREFETCH_TABLE_BYTES: usize = 1 << 20;
/// Values hashed and prefetched ahead of their probes.
pub(super) const LOOKUP_BATCH: usize = 16;
/// How far ahead of its reads a pass over a vocabulary's bytes asks for them.
pub(super) const PREFETCH_BYTES: usize = 1024;
/// Rows per parallel block of a lookup.
pub(super) const BLOCK_ROWS: usize = 1 << 14;
/// Columns shorter than this are looked up on the calling thread.
pub(super) const PARALLEL_MIN_ROWS: usize = 1 << 16;

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
#[inline]
pub(super) fn hash_bytes(state: &FixedState, key: &[u8]) -> u64 {
    let mut h = state.build_hasher();
    h.write(key);
    h.finish()
}

#[inline]
pub(super) fn float_key(x: f64) -> u64 {
    // -0.0 == 0.0 as a category; NaN never reaches here (it is missing).
    if x == 0.0 {
        0
    } else {
        x.to_bits()
    }
}

pub(super) fn kind_error(column: &str, chunk: &Chunk<'_>) -> Error {
    let got = match chunk {
        Chunk::Str(_) | Chunk::Dict { .. } => "strings",
        Chunk::Int { .. } => "integers",
        Chunk::Float { .. } => "floats",
    };
    Error::Shape(format!("a vocabulary of {column} cannot look up {got}"))
}

/// Byte order (as `<[u8]>::cmp`, which is code point order for UTF-8), a word at a time.
#[inline]
pub(super) fn cmp_bytes(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
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
pub(super) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
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

pub(super) fn split(out: &mut [u32], f: impl Fn(usize, &mut [u32]) -> Found + Sync) -> Found {
    if out.len() < PARALLEL_MIN_ROWS || max_threads() == 1 {
        return f(0, out);
    }
    out.par_chunks_mut(BLOCK_ROWS)
        .enumerate()
        .map(|(b, block)| f(b * BLOCK_ROWS, block))
        .reduce(Found::default, |a, b| a + b)
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
#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::index::INLINE_MAX_CATEGORIES;
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
