//! A hash table of distinct byte strings whose slots hold the first 24 bytes of their key.
//!
//! Categories are mostly short strings. With the key in its slot, a lookup hashes three words
//! and compares the 32-byte slots (half a cache line each, aligned) where the key almost always
//! is: no call into a byte hasher or `memcmp`, and in a large vocabulary one cache miss, which
//! can be prefetched, instead of the three dependent ones of an index into offsets into bytes.
//! A key longer than 24 bytes compares its rest through the caller, who owns the bytes.
//!
//! Open addressing with linear probing, at most half full (small tables a quarter), so a probe
//! for an absent key ends after a slot or two.

use crate::memory::prefetch;
use crate::strings::{le_u32, le_u64};

/// Bytes of a key held in its slot.
pub const INLINE: usize = 24;

const SEEDS: [u64; 5] = [
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
    0x082e_fa98_ec4e_6c89,
    0x4528_21e6_38d0_1377,
];

/// The 128-bit product of `a` and `b`, its halves xor-ed: the mixing step of foldhash.
#[inline(always)]
fn fold(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

#[inline(always)]
fn half(bytes: &[u8], at: usize) -> u64 {
    u64::from(le_u32(bytes, at))
}

/// `bytes` (at most 8 of them) as a little-endian word, zero-padded, without a copy loop:
/// two overlapping loads whose shared bytes agree.
#[inline(always)]
fn short_word(bytes: &[u8]) -> u64 {
    let n = bytes.len();
    match n {
        8.. => le_u64(bytes, 0),
        4..=7 => half(bytes, 0) | (half(bytes, n - 4) << (8 * (n - 4))),
        1..=3 => {
            u64::from(bytes[0])
                | u64::from(bytes[n / 2]) << (8 * (n / 2))
                | u64::from(bytes[n - 1]) << (8 * (n - 1))
        }
        0 => 0,
    }
}

/// What a lookup needs of a key, computed once per value: its first 24 bytes as three
/// zero-padded words, its length (plus one, so that no key has the empty slot's tag 0) and
/// its hash.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Key {
    words: [u64; 3],
    tag: u64,
    hash: u64,
}

impl Key {
    #[inline(always)]
    pub fn new(bytes: &[u8]) -> Key {
        let n = bytes.len();
        let words = if n >= INLINE {
            [le_u64(bytes, 0), le_u64(bytes, 8), le_u64(bytes, 16)]
        } else if n > 16 {
            // The last word, shifted so that its bytes past 16 land at the bottom.
            [
                le_u64(bytes, 0),
                le_u64(bytes, 8),
                le_u64(bytes, n - 8) >> (8 * (INLINE - n)),
            ]
        } else if n > 8 {
            [le_u64(bytes, 0), le_u64(bytes, n - 8) >> (8 * (16 - n)), 0]
        } else {
            [short_word(bytes), 0, 0]
        };
        let tag = n.min(u32::MAX as usize - 1) as u64 + 1;
        let mut hash = Key::hash_inline(words, tag);
        if n > INLINE {
            hash = fold(hash ^ SEEDS[4], rest_hash(&bytes[INLINE..]) ^ SEEDS[0]);
        }
        Key { words, tag, hash }
    }

    /// Whether the key is longer than what its slot holds.
    #[inline]
    pub fn is_long(&self) -> bool {
        self.tag > INLINE as u64 + 1
    }
}

/// The hash of a long key's bytes past the inline ones.
#[cold]
fn rest_hash(rest: &[u8]) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = foldhash::fast::FixedState::with_seed(SEEDS[4]).build_hasher();
    h.write(rest);
    h.finish()
}

/// Distinct keys, each with a `u32` value (a code, or an index into the caller's keys).
#[derive(Clone, Debug)]
pub struct StrTable {
    /// Four words a slot from `base` (which aligns the slots to 32 bytes): the key's three
    /// inline words, then its tag (low half; 0 = empty) and value (high half).
    words: Vec<u64>,
    base: usize,
    mask: usize,
    len: usize,
}

const SLOT: usize = 4;
/// The tag's half of a slot's last word.
const TAG: u64 = 0xffff_ffff;

/// Whether slot `s` holds `key`'s inline part (all of a short key), without a branch.
#[inline(always)]
fn holds(s: &[u64], key: &Key) -> bool {
    ((s[0] ^ key.words[0])
        | (s[1] ^ key.words[1])
        | (s[2] ^ key.words[2])
        | ((s[3] & TAG) ^ key.tag))
        == 0
}

impl StrTable {
    /// A table that holds `n` keys without growing.
    pub fn with_capacity(n: usize) -> Self {
        // At most half full; small tables (up to 16 KiB) at most a quarter, for fewer
        // collisions at no cost in cache.
        let spread = if n <= 128 { 4 } else { 2 };
        let slots = (spread * n).next_power_of_two().max(16);
        let words = crate::memory::zeroed::<u64>(slots * SLOT + 3);
        let misalign = (words.as_ptr() as usize / 8) % SLOT;
        Self {
            words,
            base: (SLOT - misalign) % SLOT,
            mask: slots - 1,
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of memory the slots take.
    pub fn bytes(&self) -> usize {
        self.words.len() * 8
    }

    #[inline]
    fn slot(&self, i: usize) -> &[u64] {
        let at = self.base + SLOT * i;
        &self.words[at..at + SLOT]
    }

    /// The slot of `key`, or the empty slot where it would go. `rest(value)` tells whether a
    /// long key equals the key stored with `value` past the inline bytes.
    #[inline(always)]
    fn probe(&self, key: &Key, rest: impl Fn(u32) -> bool) -> (usize, bool) {
        let mut i = key.hash as usize & self.mask;
        loop {
            let s = self.slot(i);
            let tag = s[3] & TAG;
            if tag == 0 {
                return (i, false);
            }
            if tag == key.tag
                && s[0] == key.words[0]
                && s[1] == key.words[1]
                && s[2] == key.words[2]
                && (!key.is_long() || rest((s[3] >> 32) as u32))
            {
                return (i, true);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// The value of `key`, if the table holds it.
    #[inline(always)]
    pub fn find(&self, key: &Key, rest: impl Fn(u32) -> bool) -> Option<u32> {
        if !key.is_long() {
            // A short key is almost always in its first two slots: compare both without a
            // branch, so that a neighbour's collision costs no misprediction.
            let i = key.hash as usize & self.mask;
            let (a, b) = (self.slot(i), self.slot((i + 1) & self.mask));
            let (in_a, in_b) = (holds(a, key), holds(b, key));
            if in_a | in_b {
                let s = if in_a { a[3] } else { b[3] };
                return Some((s >> 32) as u32);
            }
            if a[3] & TAG == 0 || b[3] & TAG == 0 {
                return None;
            }
        }
        let (i, found) = self.probe(key, rest);
        found.then(|| (self.slot(i)[3] >> 32) as u32)
    }

    /// Asks the CPU to bring `key`'s first slot into cache, ahead of a `find`: a batch of
    /// lookups into a table larger than the cache then waits for its misses together.
    #[inline]
    pub fn prefetch(&self, key: &Key) {
        // `find` reads the slot after the first too, which starts the next cache line for
        // every other slot.
        let i = key.hash as usize & self.mask;
        for slot in [i, (i + 1) & self.mask] {
            prefetch(self.words[self.base + SLOT * slot..].as_ptr());
        }
    }

    /// Inserts `key` with `value` unless the table holds it; returns the value it holds.
    #[cfg(test)]
    /// `hash_of(value)` rehashes a stored key when the table grows.
    #[inline(always)]
    pub fn insert(
        &mut self,
        key: &Key,
        value: u32,
        rest: impl Fn(u32) -> bool,
        hash_of: impl Fn(u32) -> u64,
    ) -> u32 {
        // Most inserts find their key: take `find`'s branch-free path for them.
        if let Some(value) = self.find(key, &rest) {
            return value;
        }
        self.insert_new(key, value, hash_of);
        value
    }

    /// Inserts a key the table does not hold (the caller knows it is new).
    #[inline]
    pub fn insert_new(&mut self, key: &Key, value: u32, hash_of: impl Fn(u32) -> u64) {
        if 2 * (self.len + 1) > self.mask + 1 {
            self.grow(hash_of);
        }
        let i = self.probe(key, |_| false).0;
        self.put(i, key, value);
    }

    #[inline]
    fn put(&mut self, i: usize, key: &Key, value: u32) {
        let at = self.base + SLOT * i;
        let s = &mut self.words[at..at + SLOT];
        s[..3].copy_from_slice(&key.words);
        s[3] = key.tag | u64::from(value) << 32;
        self.len += 1;
    }

    #[cold]
    fn grow(&mut self, hash_of: impl Fn(u32) -> u64) {
        let mut bigger = StrTable::with_capacity(self.mask + 1);
        for i in 0..=self.mask {
            let s = self.slot(i);
            let tag = s[3] & TAG;
            if tag == 0 {
                continue;
            }
            let value = (s[3] >> 32) as u32;
            let words = [s[0], s[1], s[2]];
            let hash = if tag > INLINE as u64 + 1 {
                hash_of(value)
            } else {
                Key::hash_inline(words, tag)
            };
            let key = Key { words, tag, hash };
            let j = bigger.probe(&key, |_| false).0;
            bigger.put(j, &key, value);
        }
        *self = bigger;
    }

    /// The stored keys' values, in slot order.
    #[cfg(test)]
    pub fn values(&self) -> impl Iterator<Item = u32> + '_ {
        (0..=self.mask).filter_map(|i| {
            let s = self.slot(i);
            (s[3] & TAG != 0).then_some((s[3] >> 32) as u32)
        })
    }
}

impl Key {
    #[inline(always)]
    fn hash_inline(words: [u64; 3], tag: u64) -> u64 {
        fold(words[0] ^ SEEDS[0], words[1] ^ SEEDS[1]) ^ fold(words[2] ^ SEEDS[2], tag ^ SEEDS[3])
    }

    /// The hash, as `insert`'s `hash_of` must return it for a stored long key.
    pub fn hash(&self) -> u64 {
        self.hash
    }
}

/// Codes of a vocabulary, found by the hash of their string; the strings stay in the caller's
/// buffers. For vocabularies too large for `StrTable`'s 32-byte slots: a slot here is 8 bytes,
/// the hash's high half (its tag) above the code plus one (0 is an empty slot).
///
/// Built all at once, by sorting the slots on their home (the tag's top bits) and laying them
/// out front to back in that order: linear probing's table for inserts made in order of home,
/// written in one pass over fresh zeroed memory. Inserted one at a time in random order, each
/// slot of a table larger than the cache waits on a miss. Because slots are in order of home,
/// a probe stops at the first slot whose home is past its own.
#[derive(Clone, Debug)]
pub struct CodeTable {
    /// Ends with an empty slot, so that every probe ends inside.
    slots: Vec<u64>,
    /// `64 - log2(capacity)`: a slot's home is its top bits.
    shift: u32,
    len: usize,
}

impl CodeTable {
    /// The table of codes `0..n`, where `hashes[i]` is the hash of code `i`'s string. The
    /// caller hashes in its own loop (with its checks), so that no call per code returns
    /// a `Result`; the buffer becomes the sort's own.
    pub fn build(mut hashes: Vec<u64>) -> Self {
        let n = hashes.len();
        assert!(n < u32::MAX as usize, "codes plus one are u32");
        // At most half full.
        let bits = (2 * n).next_power_of_two().trailing_zeros().clamp(1, 32);
        let shift = 64 - bits;
        sort_by_top_bits(&mut hashes, bits, |i, h| {
            (h & !u64::from(u32::MAX)) | (i as u64 + 1)
        });
        // Zeroed pages are empty slots: only the entries are written.
        let mut slots = crate::memory::zeroed::<u64>((1usize << bits) + 1);
        let mut at = 0;
        for &e in &hashes {
            at = at.max((e >> shift) as usize);
            if at + 1 == slots.len() {
                slots.push(0);
            }
            slots[at] = e;
            at += 1;
        }
        Self {
            slots,
            shift,
            len: n,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The code whose string has `hash` and for which `is(code)` holds (the caller compares
    /// its strings: a tag is 32 bits of the hash).
    #[inline(always)]
    pub fn find(&self, hash: u64, is: impl Fn(u32) -> bool) -> Option<u32> {
        let tag = hash >> 32;
        let home = hash >> self.shift;
        let mut i = home as usize;
        loop {
            let s = self.slots[i];
            if s == 0 || s >> self.shift > home {
                return None;
            }
            let code = (s as u32).wrapping_sub(1);
            if s >> 32 == tag && is(code) {
                return Some(code);
            }
            i += 1;
        }
    }

    /// Asks the CPU to bring the home slot of `hash` into cache, ahead of a `find`.
    #[inline]
    pub fn prefetch(&self, hash: u64) {
        prefetch(self.slots[(hash >> self.shift) as usize..].as_ptr());
    }
}

/// Sorts `values` by their top `bits` bits: least significant digit first, in passes of at
/// most 11 bits (a 16 KiB histogram, in L1), every pass's histogram counted in one read,
/// which first replaces each value `v` at `i` by `entry(i, v)` (its top bits unchanged).
fn sort_by_top_bits(values: &mut Vec<u64>, bits: u32, entry: impl Fn(usize, u64) -> u64) {
    let passes = bits.div_ceil(11).max(1) as usize;
    let width = bits.div_ceil(passes as u32);
    let digits: Vec<(u32, usize)> = (0..passes as u32)
        .map(|p| {
            let low = 64 - bits + p * width;
            (low, (1usize << width.min(64 - low)) - 1)
        })
        .collect();
    let mut starts = vec![vec![0usize; 1 << width]; passes];
    for (i, v) in values.iter_mut().enumerate() {
        *v = entry(i, *v);
        for (s, &(low, mask)) in starts.iter_mut().zip(&digits) {
            s[(*v >> low) as usize & mask] += 1;
        }
    }
    let mut scratch = crate::memory::zeroed::<u64>(values.len());
    for (s, &(low, mask)) in starts.iter_mut().zip(&digits) {
        let mut sum = 0;
        for c in s.iter_mut() {
            (*c, sum) = (sum, sum + *c);
        }
        for &v in values.iter() {
            let d = (v >> low) as usize & mask;
            scratch[s[d]] = v;
            s[d] += 1;
        }
        std::mem::swap(values, &mut scratch);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn padded(bytes: &[u8]) -> [u64; 3] {
        let mut b = [0u8; INLINE];
        let n = bytes.len().min(INLINE);
        b[..n].copy_from_slice(&bytes[..n]);
        std::array::from_fn(|i| le_u64(&b, 8 * i))
    }

    #[test]
    fn inline_words_are_the_zero_padded_bytes_at_every_length() {
        let text: Vec<u8> = (1..=40u8).map(|b| b.wrapping_mul(37)).collect();
        for n in 0..=text.len() {
            let key = Key::new(&text[..n]);
            assert_eq!(key.words, padded(&text[..n]), "length {n}");
            assert_eq!(key.tag, n as u64 + 1);
        }
    }

    #[test]
    fn keys_differing_only_in_length_or_padding_are_distinct() {
        let keys: Vec<&[u8]> = vec![
            b"",
            b"\0",
            b"\0\0",
            b"a",
            b"a\0",
            b"abcdefgh",
            b"abcdefgh\0",
            b"abcdefghijklmnopqrstuvwx",
            b"abcdefghijklmnopqrstuvwx\0",
            b"abcdefghijklmnopqrstuvwxy",
            b"abcdefghijklmnopqrstuvwxz",
        ];
        let mut table = StrTable::with_capacity(2);
        for (v, k) in keys.iter().enumerate() {
            let got = table.insert(
                &Key::new(k),
                v as u32,
                |w| keys[w as usize][INLINE..] == k[INLINE..],
                |w| Key::new(keys[w as usize]).hash,
            );
            assert_eq!(got, v as u32);
        }
        assert_eq!(table.len(), keys.len());
        for (v, k) in keys.iter().enumerate() {
            let rest = |w: u32| keys[w as usize][INLINE..] == k[INLINE..];
            assert_eq!(table.find(&Key::new(k), rest), Some(v as u32));
        }
        assert_eq!(table.find(&Key::new(b"abc"), |_| false), None);
        assert_eq!(
            table.find(&Key::new(b"abcdefghijklmnopqrstuvwxq"), |_| false),
            None
        );
    }

    #[test]
    fn grows_and_keeps_every_key() {
        let keys: Vec<Vec<u8>> = (0..5000)
            .map(|i| format!("{}-{i}", "k".repeat(i % 40)).into_bytes())
            .collect();
        let mut table = StrTable::with_capacity(0);
        for (v, k) in keys.iter().enumerate() {
            let rest = |w: u32| keys[w as usize][INLINE..] == k[INLINE..];
            let hash_of = |w: u32| Key::new(&keys[w as usize]).hash;
            table.insert(&Key::new(k), v as u32, rest, hash_of);
            // A second insert finds the first.
            assert_eq!(table.insert(&Key::new(k), 0, rest, hash_of), v as u32);
        }
        assert_eq!(table.len(), keys.len());
        assert!(table.bytes() >= 2 * keys.len() * 32);
        for (v, k) in keys.iter().enumerate() {
            let rest = |w: u32| keys[w as usize][INLINE..] == k[INLINE..];
            assert_eq!(table.find(&Key::new(k), rest), Some(v as u32));
        }
        let mut values: Vec<u32> = table.values().collect();
        values.sort_unstable();
        assert!(values.iter().enumerate().all(|(i, &v)| v == i as u32));
    }

    #[test]
    fn long_keys_with_equal_slots_and_hashes_compare_their_rest() {
        // Two long keys alike in their first 24 bytes and length, given the same hash: only
        // the comparison of their rest tells them apart.
        let (a, b) = (
            b"abcdefghijklmnopqrstuvwx-one",
            b"abcdefghijklmnopqrstuvwx-two",
        );
        let collide = |bytes: &[u8]| Key {
            hash: 7,
            ..Key::new(bytes)
        };
        let mut table = StrTable::with_capacity(2);
        table.insert_new(&collide(a), 0, |_| 7);
        assert_eq!(table.find(&collide(a), |v| v == 0), Some(0));
        assert_eq!(table.find(&collide(b), |_| false), None);
        assert_eq!(table.insert(&collide(b), 1, |_| false, |_| 7), 1);
        assert_eq!(table.len(), 2);
        assert_eq!(table.find(&collide(b), |v| v == 1), Some(1));
    }

    #[test]
    fn slots_are_aligned_to_half_a_cache_line() {
        for n in [0, 1, 100, 10_000] {
            let t = StrTable::with_capacity(n);
            assert_eq!(t.slot(0).as_ptr() as usize % 32, 0);
        }
    }

    /// A deterministic stream of well-mixed words.
    fn mixed(n: usize, seed: u64) -> Vec<u64> {
        (0..n as u64).map(|i| fold(i ^ seed, SEEDS[1])).collect()
    }

    #[test]
    fn radix_sort_orders_by_the_top_bits_and_keeps_every_value() {
        for (n, bits) in [
            (0, 5),
            (1, 1),
            (1000, 1),
            (1000, 11),
            (5000, 12),
            (5000, 23),
            (700, 32),
        ] {
            let mut values = mixed(n, bits as u64);
            let mut expected = values.clone();
            sort_by_top_bits(&mut values, bits, |_, v| v);
            let top = |v: &u64| v >> (64 - bits);
            assert!(
                values.windows(2).all(|w| top(&w[0]) <= top(&w[1])),
                "{n} {bits}"
            );
            values.sort_unstable();
            expected.sort_unstable();
            assert_eq!(values, expected);
        }
    }

    /// Finds `code` for `hashes[code]`, as a caller whose strings are the codes themselves.
    fn find(t: &CodeTable, hashes: &[u64], code: u32) -> Option<u32> {
        t.find(hashes[code as usize], |c| c == code)
    }

    #[test]
    fn code_table_finds_every_code_and_nothing_else() {
        for n in [0, 1, 2, 3, 100, 10_000] {
            let hashes = mixed(n, 7);
            let t = CodeTable::build(hashes.clone());
            assert_eq!(t.len(), n);
            for code in 0..n as u32 {
                assert_eq!(find(&t, &hashes, code), Some(code));
            }
            for h in mixed(1000, 99) {
                assert_eq!(t.find(h, |_| false), None);
            }
            // Every slot is empty or sits at or after its home; one empty slot ends the table.
            assert_eq!(*t.slots.last().unwrap(), 0);
            for (i, &s) in t.slots.iter().enumerate() {
                assert!(s == 0 || (s >> t.shift) as usize <= i);
            }
        }
    }

    #[test]
    fn code_table_keeps_colliding_hashes_and_homes_past_its_end() {
        // Equal hashes (the caller's comparison tells them apart), and all homes in the last
        // slot, so that the run spills past the capacity.
        for h in [0, u64::MAX, u64::MAX - (1 << 40)] {
            let hashes = vec![h; 50];
            let t = CodeTable::build(hashes.clone());
            for code in 0..50 {
                assert_eq!(find(&t, &hashes, code), Some(code));
            }
            assert_eq!(t.find(h, |_| false), None);
            assert_eq!(*t.slots.last().unwrap(), 0);
        }
    }
}
