//! The fit of an encoder: each column's distinct categories with their counts, sorted, and
//! the merge of two such counts (exact, in any order).

use super::*;

#[derive(Clone, Debug, PartialEq)]
pub struct Counts {
    pub vocab: Vocab,
    pub counts: Vec<i64>,
    pub missing: i64,
}

/// The hash of a string's bytes (without the length prefix `Hash for [u8]` adds: one mixing
/// round less per lookup; the bytes alone identify the key).
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
