//! Borrowed views of categorical columns laid out as Arrow lays them out.
//!
//! Strings are read straight from Arrow's buffers (offsets + data, or 16-byte views + data
//! buffers, or dictionary indices + a string dictionary), so a column that arrives from pyarrow,
//! polars or DuckDB is never turned into one object per value. Every view is checked once when
//! it is built; after that, reading a value cannot go out of bounds, so the hot loops need no
//! error paths.

use crate::{Error, Result};

/// Arrow's validity bitmap: bit `offset + i` (least significant bit first) set = value `i` present.
#[derive(Clone, Copy, Debug)]
pub struct Validity<'a> {
    bits: &'a [u8],
    offset: usize,
}

impl<'a> Validity<'a> {
    pub fn new(bits: &'a [u8], offset: usize, len: usize) -> Result<Self> {
        if bits.len() * 8 < offset + len {
            return Err(Error::Shape(format!(
                "validity bitmap of {} bytes is too short for {len} values at offset {offset}",
                bits.len()
            )));
        }
        Ok(Self { bits, offset })
    }

    #[inline]
    pub fn is_valid(&self, i: usize) -> bool {
        let bit = self.offset + i;
        self.bits
            .get(bit >> 3)
            .is_some_and(|b| b >> (bit & 7) & 1 == 1)
    }
}

/// A string array: `Utf8` (string / large_string: offsets into one data buffer) or `View`
/// (string_view: 16 bytes per value, short strings inline, long ones in data buffers).
#[derive(Clone, Debug)]
pub enum StrArray<'a> {
    Utf8 {
        offsets: Offsets<'a>,
        data: &'a [u8],
        validity: Option<Validity<'a>>,
    },
    View {
        views: &'a [u8],
        buffers: Vec<&'a [u8]>,
        validity: Option<Validity<'a>>,
    },
}

/// Offsets of a `Utf8` array, 32-bit (string) or 64-bit (large_string), `len + 1` of them.
#[derive(Clone, Copy, Debug)]
pub enum Offsets<'a> {
    I32(&'a [i32]),
    I64(&'a [i64]),
}

impl Offsets<'_> {
    fn len(&self) -> usize {
        match self {
            Offsets::I32(o) => o.len(),
            Offsets::I64(o) => o.len(),
        }
    }

    #[inline]
    fn get(&self, i: usize) -> i64 {
        match self {
            Offsets::I32(o) => o.get(i).map_or(0, |&v| i64::from(v)),
            Offsets::I64(o) => o.get(i).copied().unwrap_or(0),
        }
    }
}

const VIEW_BYTES: usize = 16;
const VIEW_INLINE: usize = 12;

/// The little-endian `u64` at byte `at` of `bytes`; the caller knows the 8 bytes are there.
#[inline(always)]
pub(crate) fn le_u64(bytes: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(w)
}

/// The little-endian `u32` at byte `at` of `bytes`; the caller knows the 4 bytes are there.
#[inline(always)]
pub(crate) fn le_u32(bytes: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(w)
}

#[inline]
fn u32_at(bytes: &[u8], at: usize) -> usize {
    let mut word = [0u8; 4];
    if let Some(src) = bytes.get(at..at + 4) {
        word.copy_from_slice(src);
    }
    u32::from_le_bytes(word) as usize
}

impl<'a> StrArray<'a> {
    /// A string / large_string array. `offsets` holds the `len + 1` offsets of this (possibly
    /// sliced) array; they index `data` directly.
    pub fn utf8(
        offsets: Offsets<'a>,
        data: &'a [u8],
        validity: Option<Validity<'a>>,
    ) -> Result<Self> {
        let n = offsets.len();
        if n == 0 {
            return Err(Error::Shape(
                "string offsets must have len + 1 entries".into(),
            ));
        }
        if offsets.get(0) < 0 {
            return Err(Error::Shape("negative string offset".into()));
        }
        let ordered = match offsets {
            Offsets::I32(o) => non_decreasing(o),
            Offsets::I64(o) => non_decreasing(o),
        };
        if !ordered {
            return Err(Error::Shape("string offsets are not non-decreasing".into()));
        }
        if offsets.get(n - 1) as u64 > data.len() as u64 {
            return Err(Error::Shape(
                "string offsets point past the data buffer".into(),
            ));
        }
        Ok(StrArray::Utf8 {
            offsets,
            data,
            validity,
        })
    }

    /// A string_view array: `views` holds 16 bytes per value of this (possibly sliced) array.
    pub fn view(
        views: &'a [u8],
        buffers: Vec<&'a [u8]>,
        validity: Option<Validity<'a>>,
    ) -> Result<Self> {
        if !views.len().is_multiple_of(VIEW_BYTES) {
            return Err(Error::Shape(
                "string_view buffer is not a whole number of views".into(),
            ));
        }
        for (i, view) in views.chunks_exact(VIEW_BYTES).enumerate() {
            if validity.is_some_and(|v| !v.is_valid(i)) {
                continue;
            }
            let len = u32_at(view, 0);
            if len > VIEW_INLINE {
                let buffer = u32_at(view, 8);
                let start = u32_at(view, 12);
                if buffers.get(buffer).is_none_or(|b| start + len > b.len()) {
                    return Err(Error::Shape(format!(
                        "string_view {i} points outside its data buffers"
                    )));
                }
            }
        }
        Ok(StrArray::View {
            views,
            buffers,
            validity,
        })
    }

    pub fn len(&self) -> usize {
        match self {
            StrArray::Utf8 { offsets, .. } => offsets.len() - 1,
            StrArray::View { views, .. } => views.len() / VIEW_BYTES,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value `i`, or `None` where it is null. `i < len()`.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        match self {
            StrArray::Utf8 {
                offsets,
                data,
                validity,
            } => {
                if validity.is_some_and(|v| !v.is_valid(i)) {
                    return None;
                }
                let (a, b) = (offsets.get(i) as usize, offsets.get(i + 1) as usize);
                data.get(a..b)
            }
            StrArray::View {
                views,
                buffers,
                validity,
            } => {
                if validity.is_some_and(|v| !v.is_valid(i)) {
                    return None;
                }
                let view = views.get(i * VIEW_BYTES..(i + 1) * VIEW_BYTES)?;
                let len = u32_at(view, 0);
                if len <= VIEW_INLINE {
                    view.get(4..4 + len)
                } else {
                    let start = u32_at(view, 12);
                    buffers.get(u32_at(view, 8))?.get(start..start + len)
                }
            }
        }
    }
}

/// Dictionary indices of any Arrow integer width.
#[derive(Clone, Copy, Debug)]
pub enum Indices<'a> {
    I8(&'a [i8]),
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
}

impl Indices<'_> {
    pub fn len(&self) -> usize {
        match self {
            Indices::I8(v) => v.len(),
            Indices::I16(v) => v.len(),
            Indices::I32(v) => v.len(),
            Indices::I64(v) => v.len(),
            Indices::U8(v) => v.len(),
            Indices::U16(v) => v.len(),
            Indices::U32(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Index `i` widened to `i64` (negative or out-of-range values are rejected by the caller).
    #[inline]
    pub fn get(&self, i: usize) -> i64 {
        match self {
            Indices::I8(v) => v.get(i).map_or(-1, |&x| i64::from(x)),
            Indices::I16(v) => v.get(i).map_or(-1, |&x| i64::from(x)),
            Indices::I32(v) => v.get(i).map_or(-1, |&x| i64::from(x)),
            Indices::I64(v) => v.get(i).copied().unwrap_or(-1),
            Indices::U8(v) => v.get(i).map_or(-1, |&x| i64::from(x)),
            Indices::U16(v) => v.get(i).map_or(-1, |&x| i64::from(x)),
            Indices::U32(v) => v.get(i).map_or(-1, |&x| i64::from(x)),
        }
    }
}

/// Whether `values` never decrease, without an early exit per value: blocks of 256 compare
/// branch-free (so the compiler vectorises them), and only a block's result is branched on.
pub(crate) fn non_decreasing<T: Copy + PartialOrd>(values: &[T]) -> bool {
    let pairs = values.len().saturating_sub(1);
    let (mut at, block) = (0, 256);
    while at < pairs {
        let end = (at + block).min(pairs);
        let (a, b) = (&values[at..end], &values[at + 1..end + 1]);
        if !a.iter().zip(b).fold(true, |ok, (x, y)| ok & (x <= y)) {
            return false;
        }
        at = end;
    }
    true
}

/// The smallest and largest of `values` as `i64`, in one vectorised pass in their own width
/// (`(0, -1)` when empty, inside any dictionary).
fn range<T: Copy + Ord + Into<i64>>(values: &[T]) -> (i64, i64) {
    let Some(&first) = values.first() else {
        return (0, -1);
    };
    let (low, high) = values
        .iter()
        .fold((first, first), |(low, high), &v| (low.min(v), high.max(v)));
    (low.into(), high.into())
}

/// One chunk of a categorical column.
#[derive(Clone, Debug)]
pub enum Chunk<'a> {
    Str(StrArray<'a>),
    /// Dictionary-encoded strings: each value is `dictionary[indices[i]]` (null where the
    /// validity bit is clear, or where the dictionary entry itself is null).
    Dict {
        indices: Indices<'a>,
        validity: Option<Validity<'a>>,
        dictionary: StrArray<'a>,
    },
    /// Integers (and booleans as 0/1); `missing[i]` marks nulls.
    Int {
        values: &'a [i64],
        missing: Option<&'a [bool]>,
    },
    /// Floats; NaN and `missing[i]` are missing.
    Float {
        values: &'a [f64],
        missing: Option<&'a [bool]>,
    },
}

impl<'a> Chunk<'a> {
    pub fn dict(
        indices: Indices<'a>,
        validity: Option<Validity<'a>>,
        dictionary: StrArray<'a>,
    ) -> Result<Self> {
        let size = dictionary.len() as i64;
        // The range of all indices first, in one vectorised pass; only when it goes outside
        // the dictionary are the valid ones checked one by one (a null's index may be anything).
        let (low, high) = match indices {
            Indices::I8(v) => range(v),
            Indices::I16(v) => range(v),
            Indices::I32(v) => range(v),
            Indices::I64(v) => range(v),
            Indices::U8(v) => range(v),
            Indices::U16(v) => range(v),
            Indices::U32(v) => range(v),
        };
        if low < 0 || high >= size {
            for i in 0..indices.len() {
                if validity.is_some_and(|v| !v.is_valid(i)) {
                    continue;
                }
                let k = indices.get(i);
                if k < 0 || k >= size {
                    return Err(Error::Shape(format!(
                        "dictionary index {k} at row {i} is outside a dictionary of {size} \
                         values"
                    )));
                }
            }
        }
        Ok(Chunk::Dict {
            indices,
            validity,
            dictionary,
        })
    }

    pub fn numeric_missing(values_len: usize, missing: Option<&[bool]>) -> Result<()> {
        match missing {
            Some(m) if m.len() != values_len => Err(Error::Shape(format!(
                "missing mask has {} entries for {values_len} values",
                m.len()
            ))),
            _ => Ok(()),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Chunk::Str(s) => s.len(),
            Chunk::Dict { indices, .. } => indices.len(),
            Chunk::Int { values, .. } => values.len(),
            Chunk::Float { values, .. } => values.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A whole column: its chunks in order (one for NumPy input, several for a chunked Arrow array).
#[derive(Clone, Debug, Default)]
pub struct Column<'a> {
    pub chunks: Vec<Chunk<'a>>,
}

impl<'a> Column<'a> {
    pub fn new(chunks: Vec<Chunk<'a>>) -> Self {
        Self { chunks }
    }

    pub fn len(&self) -> usize {
        self.chunks.iter().map(Chunk::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Arrow's validity bitmap, built value by value: none at all until the first null.
#[derive(Debug, Default)]
struct Nulls(Option<Vec<u8>>);

impl Nulls {
    /// Records value `i` (values `0..i` recorded before it).
    #[inline]
    fn push(&mut self, i: usize, valid: bool) {
        if valid && self.0.is_none() {
            return;
        }
        let bits = self.0.get_or_insert_with(|| {
            // Every value before the first null is valid.
            let mut bits = vec![0xff; i / 8];
            if !i.is_multiple_of(8) {
                bits.push((1u8 << (i % 8)) - 1);
            }
            bits
        });
        if i / 8 == bits.len() {
            bits.push(0);
        }
        bits[i / 8] |= u8::from(valid) << (i % 8);
    }

    /// Whether recorded value `i` is valid.
    fn is_valid(&self, i: usize) -> bool {
        self.0.as_ref().is_none_or(|b| b[i / 8] >> (i % 8) & 1 == 1)
    }
}

/// The buffers of a `Utf8` array built one value at a time: 64-bit offsets, the bytes, and
/// Arrow's validity bitmap (None when nothing was null).
#[derive(Debug)]
pub struct StrBuilder {
    offsets: Vec<i64>,
    data: Vec<u8>,
    nulls: Nulls,
}

impl StrBuilder {
    /// A builder with room for `values` values of `bytes` bytes in all (it grows past them).
    pub fn with_capacity(values: usize, bytes: usize) -> Self {
        let mut offsets = crate::memory::with_capacity(values + 1);
        offsets.push(0);
        Self {
            offsets,
            data: crate::memory::with_capacity(bytes),
            nulls: Nulls::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes pushed so far.
    pub fn bytes(&self) -> usize {
        self.data.len()
    }

    #[inline]
    pub fn push(&mut self, value: &[u8]) {
        self.nulls.push(self.len(), true);
        self.data.extend_from_slice(value);
        self.offsets.push(self.data.len() as i64);
    }

    pub fn push_null(&mut self) {
        self.nulls.push(self.len(), false);
        self.offsets.push(self.data.len() as i64);
    }

    /// The `i`-th value (None if null or absent).
    fn get(&self, i: usize) -> Option<&[u8]> {
        let (a, b) = (*self.offsets.get(i)?, *self.offsets.get(i + 1)?);
        self.nulls
            .is_valid(i)
            .then(|| &self.data[a as usize..b as usize])
    }

    /// `(offsets, data, validity)`: `len + 1` offsets, and no bitmap when nothing was null.
    pub fn finish(self) -> (Vec<i64>, Vec<u8>, Option<Vec<u8>>) {
        (self.offsets, self.data, self.nulls.0)
    }
}

/// Values until which `StrObjects` keeps a dictionary of distinct objects; past them, nine
/// new objects in ten values tell a column of identifiers.
const DICT_TRIAL: usize = 1 << 16;

/// A string column from values that arrive one at a time with an identity, the address of a
/// Python `str` (alive, and so unique, for as long as the caller holds the array).
///
/// Columns of categories repeat their objects: NumPy's fancy indexing and pyarrow's
/// `to_pandas` (which deduplicates) share one object per category. Each distinct object's
/// bytes are then stored once, as the dictionary of a dictionary-encoded chunk, whose lookups
/// run once per entry; a repeat costs one probe by address, with no call into Python. A column
/// of mostly distinct objects (identifiers) becomes a plain array: once its distinct objects
/// are more than half the column, or nine in ten of the first `DICT_TRIAL` values or more.
#[derive(Debug)]
pub struct StrObjects {
    values: usize,
    repr: ObjectsRepr,
}

#[derive(Debug)]
enum ObjectsRepr {
    Dict {
        ids: hashbrown::HashMap<usize, u32, foldhash::fast::FixedState>,
        dictionary: StrBuilder,
        indices: Vec<u32>,
        nulls: Nulls,
    },
    Plain(StrBuilder),
}

/// A string column built by `StrObjects`.
#[derive(Debug)]
pub enum BuiltStrings {
    /// `(offsets, data, validity)`, as `StrBuilder::finish`.
    Plain(Vec<i64>, Vec<u8>, Option<Vec<u8>>),
    /// `(indices, validity, (dictionary offsets, dictionary data))`.
    Dict(Vec<u32>, Option<Vec<u8>>, (Vec<i64>, Vec<u8>)),
}

impl StrObjects {
    /// A builder for a column of `values` values.
    pub fn new(values: usize) -> Self {
        Self {
            values,
            repr: ObjectsRepr::Dict {
                ids: hashbrown::HashMap::with_hasher(foldhash::fast::FixedState::with_seed(0)),
                dictionary: StrBuilder::with_capacity(0, 0),
                indices: crate::memory::with_capacity(values),
                nulls: Nulls::default(),
            },
        }
    }

    /// Pushes the value of object `id` if it was pushed before; false if not (the caller then
    /// pushes it with `push_new`, or `push_null`).
    #[inline]
    pub fn push_seen(&mut self, id: usize) -> bool {
        let ObjectsRepr::Dict {
            ids,
            indices,
            nulls,
            ..
        } = &mut self.repr
        else {
            return false;
        };
        let Some(&k) = ids.get(&id) else {
            return false;
        };
        nulls.push(indices.len(), true);
        indices.push(k);
        true
    }

    /// Pushes the value of an object not pushed before.
    pub fn push_new(&mut self, id: usize, value: &[u8]) {
        self.try_plain();
        match &mut self.repr {
            ObjectsRepr::Dict {
                ids,
                dictionary,
                indices,
                nulls,
            } => {
                let k = dictionary.len() as u32;
                ids.insert(id, k);
                dictionary.push(value);
                nulls.push(indices.len(), true);
                indices.push(k);
            }
            ObjectsRepr::Plain(plain) => plain.push(value),
        }
    }

    pub fn push_null(&mut self) {
        match &mut self.repr {
            ObjectsRepr::Dict { indices, nulls, .. } => {
                nulls.push(indices.len(), false);
                indices.push(0);
            }
            ObjectsRepr::Plain(plain) => plain.push_null(),
        }
    }

    /// Turns a dictionary of mostly distinct objects into a plain array, once enough values
    /// have been seen to tell.
    fn try_plain(&mut self) {
        let ObjectsRepr::Dict {
            dictionary,
            indices,
            nulls,
            ..
        } = &self.repr
        else {
            return;
        };
        let (distinct, seen) = (dictionary.len(), indices.len());
        let identifiers = seen >= DICT_TRIAL && 10 * distinct > 9 * seen;
        // (Indices are u32: a column of more distinct objects than that is plain too.)
        if 2 * distinct <= self.values && !identifiers && distinct < u32::MAX as usize {
            return;
        }
        // Room for the rest at the mean size so far, so that the bytes are copied once.
        let each = dictionary.bytes().div_ceil(dictionary.len().max(1)) + 1;
        let mut plain = StrBuilder::with_capacity(self.values, each * self.values);
        for (i, &k) in indices.iter().enumerate() {
            match dictionary.get(k as usize).filter(|_| nulls.is_valid(i)) {
                Some(v) => plain.push(v),
                None => plain.push_null(),
            }
        }
        self.repr = ObjectsRepr::Plain(plain);
    }

    pub fn finish(self) -> BuiltStrings {
        match self.repr {
            ObjectsRepr::Dict {
                dictionary,
                indices,
                nulls,
                ..
            } => {
                let (offsets, data, _) = dictionary.finish();
                BuiltStrings::Dict(indices, nulls.0, (offsets, data))
            }
            ObjectsRepr::Plain(plain) => {
                let (offsets, data, validity) = plain.finish();
                BuiltStrings::Plain(offsets, data, validity)
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    /// The values of a `StrObjects` column, read back through `StrArray`/`Chunk`.
    fn read_back(built: &BuiltStrings) -> Vec<Option<Vec<u8>>> {
        let chunk = match built {
            BuiltStrings::Plain(offsets, data, bits) => {
                let n = offsets.len() - 1;
                let v = bits.as_deref().map(|b| Validity::new(b, 0, n).unwrap());
                Chunk::Str(StrArray::utf8(Offsets::I64(offsets), data, v).unwrap())
            }
            BuiltStrings::Dict(indices, bits, (offsets, data)) => {
                let v = bits
                    .as_deref()
                    .map(|b| Validity::new(b, 0, indices.len()).unwrap());
                let dictionary = StrArray::utf8(Offsets::I64(offsets), data, None).unwrap();
                Chunk::dict(Indices::U32(indices), v, dictionary).unwrap()
            }
        };
        (0..chunk.len())
            .map(|i| match &chunk {
                Chunk::Str(s) => s.get(i).map(<[u8]>::to_vec),
                Chunk::Dict {
                    indices,
                    validity,
                    dictionary,
                } => validity
                    .is_none_or(|v| v.is_valid(i))
                    .then(|| dictionary.get(indices.get(i) as usize).unwrap().to_vec()),
                _ => unreachable!(),
            })
            .collect()
    }

    #[test]
    fn objects_repeated_by_identity_are_stored_once_and_read_back_in_order() {
        // Objects 0..k repeat; equal strings under two identities stay two entries.
        let strings = |id: usize| format!("s{}", id % 5).into_bytes();
        for (n, k) in [(0, 1), (10, 3), (1000, 7), (DICT_TRIAL + 10, 40)] {
            let mut b = StrObjects::new(n);
            let mut expected = Vec::new();
            for i in 0..n {
                let id = (i * 7919) % k;
                if i % 11 == 4 {
                    b.push_null();
                    expected.push(None);
                } else {
                    if !b.push_seen(id) {
                        b.push_new(id, &strings(id));
                    }
                    expected.push(Some(strings(id)));
                }
            }
            let built = b.finish();
            match &built {
                BuiltStrings::Dict(_, _, (offsets, _)) => assert!(offsets.len() - 1 <= k),
                BuiltStrings::Plain(..) => panic!("{n}: few objects must stay a dictionary"),
            }
            assert_eq!(read_back(&built), expected, "{n}");
        }
    }

    #[test]
    fn mostly_distinct_objects_become_a_plain_array() {
        let n = DICT_TRIAL + 1000;
        let mut b = StrObjects::new(n);
        let mut expected = Vec::new();
        for i in 0..n {
            if i % 3 == 1 {
                b.push_null();
                expected.push(None);
                continue;
            }
            // Every other value repeats the object before it: a third of the values are new.
            let id = if i % 3 == 2 { i - 2 } else { i };
            let value = format!("v{id}").into_bytes();
            if !b.push_seen(id) {
                b.push_new(id, &value);
            }
            expected.push(Some(value));
        }
        let built = b.finish();
        assert!(
            matches!(built, BuiltStrings::Dict(..)),
            "a third distinct stays"
        );
        assert_eq!(read_back(&built), expected);

        let mut b = StrObjects::new(n);
        let mut expected = Vec::new();
        for i in 0..n {
            let value = format!("{i}").into_bytes();
            if i == 5 {
                b.push_null();
                expected.push(None);
                continue;
            }
            assert!(!b.push_seen(i));
            b.push_new(i, &value);
            expected.push(Some(value));
        }
        let built = b.finish();
        assert!(matches!(built, BuiltStrings::Plain(..)));
        assert_eq!(read_back(&built), expected);

        // More distinct objects than half a short column, then repeats: plain from the 501st.
        let mut b = StrObjects::new(1000);
        let mut expected = Vec::new();
        for i in 0..1000 {
            let id = if i < 600 { i } else { i % 7 };
            let value = format!("w{id}").into_bytes();
            if !b.push_seen(id) {
                b.push_new(id, &value);
            }
            expected.push(Some(value));
        }
        let built = b.finish();
        assert!(matches!(built, BuiltStrings::Plain(..)));
        assert_eq!(read_back(&built), expected);
    }

    #[test]
    fn a_built_array_reads_back_its_values_and_nulls() {
        let values: Vec<Option<&[u8]>> = (0..40)
            .map(|i| match i % 7 {
                3 => None,
                5 => Some(&b""[..]),
                _ => Some(["".as_bytes(), b"a", b"ab", "ab\u{e4}".as_bytes()][i % 4]),
            })
            .collect();
        // A null first, late, or never: the bitmap starts where the first null is.
        for skip in [0, 3, 10, 17] {
            let mut b = StrBuilder::with_capacity(4, 2);
            let part = &values[skip..];
            for v in part {
                match v {
                    Some(v) => b.push(v),
                    None => b.push_null(),
                }
            }
            assert_eq!(b.len(), part.len());
            let (offsets, data, bits) = b.finish();
            let validity = bits
                .as_deref()
                .map(|bits| Validity::new(bits, 0, part.len()).unwrap());
            let a = StrArray::utf8(Offsets::I64(&offsets), &data, validity).unwrap();
            let back: Vec<Option<&[u8]>> = (0..a.len()).map(|i| a.get(i)).collect();
            assert_eq!(back, part, "{skip}");
        }
        let mut none = StrBuilder::with_capacity(0, 0);
        none.push(b"x");
        assert_eq!(none.finish().2, None);
    }

    #[test]
    fn utf8_reads_sliced_offsets_and_nulls() {
        let data = b"aabbbc";
        let offsets = [2i32, 5, 5, 6];
        let bits = [0b0000_0101u8];
        let a = StrArray::utf8(
            Offsets::I32(&offsets),
            data,
            Some(Validity::new(&bits, 0, 3).unwrap()),
        )
        .unwrap();
        assert_eq!(a.len(), 3);
        assert_eq!(a.get(0), Some(&b"bbb"[..]));
        assert_eq!(a.get(1), None);
        assert_eq!(a.get(2), Some(&b"c"[..]));
    }

    #[test]
    fn utf8_refuses_bad_offsets() {
        assert!(StrArray::utf8(Offsets::I32(&[0, 3, 2]), b"abc", None).is_err());
        assert!(StrArray::utf8(Offsets::I64(&[0, 4]), b"abc", None).is_err());
        assert!(StrArray::utf8(Offsets::I64(&[-1, 0]), b"abc", None).is_err());
    }

    #[test]
    fn views_read_inline_and_buffered_strings() {
        let long = b"a string longer than twelve";
        let mut views = vec![0u8; 32];
        views[0..4].copy_from_slice(&3u32.to_le_bytes());
        views[4..7].copy_from_slice(b"abc");
        views[16..20].copy_from_slice(&(long.len() as u32).to_le_bytes());
        views[20..24].copy_from_slice(&long[..4]);
        views[24..28].copy_from_slice(&0u32.to_le_bytes());
        views[28..32].copy_from_slice(&0u32.to_le_bytes());
        let a = StrArray::view(&views, vec![long], None).unwrap();
        assert_eq!(a.get(0), Some(&b"abc"[..]));
        assert_eq!(a.get(1), Some(&long[..]));
        views[24..28].copy_from_slice(&1u32.to_le_bytes());
        assert!(StrArray::view(&views, vec![long], None).is_err());
    }

    #[test]
    fn dictionary_indices_are_checked() {
        let dict = StrArray::utf8(Offsets::I64(&[0, 1, 2]), b"ab", None).unwrap();
        assert!(Chunk::dict(Indices::I32(&[0, 1]), None, dict.clone()).is_ok());
        assert!(Chunk::dict(Indices::I32(&[0, 2]), None, dict.clone()).is_err());
        assert!(Chunk::dict(Indices::I8(&[-1]), None, dict.clone()).is_err());
        // A null's index may be anything; a valid one beside it is still checked.
        let bits = [0b0000_0101u8];
        let v = Validity::new(&bits, 0, 3).unwrap();
        assert!(Chunk::dict(Indices::U32(&[1, 99, 0]), Some(v), dict.clone()).is_ok());
        assert!(Chunk::dict(Indices::U32(&[1, 99, 7]), Some(v), dict.clone()).is_err());
        assert!(Chunk::dict(Indices::I16(&[]), None, dict).is_ok());
    }

    #[test]
    fn one_decrease_anywhere_is_found() {
        // Lengths around the 256-pair blocks, with the decrease at every position.
        for n in [0usize, 1, 2, 255, 256, 257, 258, 513, 1000] {
            let ordered: Vec<i64> = (0..n as i64).map(|i| i / 3).collect();
            assert!(non_decreasing(&ordered), "{n}");
            for at in 1..n {
                let mut o = ordered.clone();
                o[at] = o[at - 1] - 1;
                assert!(!non_decreasing(&o), "{n} values, decrease at {at}");
            }
        }
    }

    #[test]
    fn ranges_of_every_width() {
        assert_eq!(range::<i32>(&[]), (0, -1));
        assert_eq!(range(&[3i8, -128, 127]), (-128, 127));
        assert_eq!(range(&[70_000u32, 5, u32::MAX]), (5, i64::from(u32::MAX)));
        assert_eq!(range(&[i64::MIN, 0]), (i64::MIN, 0));
    }
}
