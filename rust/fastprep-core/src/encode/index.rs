//! The lookup table of a vocabulary, built once per fit, and the lookup of a column's values
//! into codes.

use super::*;

/// A vocabulary's lookup table, built once (at fit or load) so that looking a value up costs
/// the same whatever the number of categories.
#[derive(Clone, Debug)]
pub struct CategoryIndex {
    vocab: Vocab,
    table: StrIndex,
    numbers: HashMap<u64, u32, FixedState>,
}

/// Categories up to which a string vocabulary's table holds the strings in its slots.
pub(super) const INLINE_MAX_CATEGORIES: usize = 1 << 18;

/// A string vocabulary's table. Up to `INLINE_MAX_CATEGORIES`, slots that hold the strings
/// (`StrTable`: a lookup reads one slot). Beyond, a table of codes into the vocabulary's
/// buffers (`CodeTable`): for a million categories its 8-byte slots take 16 MB where inline
/// slots take 64 MB, which a load has to fill.
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
                            // Hardware prefetchers stop at page boundaries, and an artifact's
                            // pages lie anywhere: without this, loading the key is a good part
                            // of the build.
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
            // Pairs of offsets from `windows` rather than `value(r)`: no two bounds checks a
            // value, which are most of the cost of a small table's lookup.
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

    /// The code of one value, as a column's lookup codes it: a string, an integer or a float
    /// (NaN is missing) in a vocabulary of that kind, `None` (missing), or an error when the
    /// vocabulary is of another kind.
    pub fn code_of(&self, value: OneValue<'_>) -> Result<u32> {
        let missing = missing_code(self.len());
        match (value, &self.vocab) {
            (OneValue::Missing, _) => Ok(missing),
            (OneValue::Str(v), Vocab::Str { .. }) => Ok(self.code_str(v)),
            (OneValue::Int(v), Vocab::Int(_)) => Ok(self.code_number(v as u64)),
            (OneValue::Float(v), Vocab::Float(_)) if v.is_nan() => Ok(missing),
            (OneValue::Float(v), Vocab::Float(_)) => Ok(self.code_number(float_key(v))),
            (value, _) => Err(Error::Shape(format!(
                "a {value:?} cannot be looked up in this vocabulary"
            ))),
        }
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

/// One value to look up (`CategoryIndex::code_of`).
#[derive(Clone, Copy, Debug)]
pub enum OneValue<'a> {
    Str(&'a [u8]),
    Int(i64),
    Float(f64),
    Missing,
}

/// A column checked against a vocabulary, with its dictionaries' entries looked up.
pub struct Prepared<'c, 'a> {
    column: &'c Column<'a>,
    starts: Vec<usize>,
    entries: Vec<Option<Vec<u32>>>,
}
