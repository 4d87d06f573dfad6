//! Splitting large batches across cores.
//!
//! A batch is cut into blocks of whole rows; blocks run on rayon's global pool (sized by
//! `RAYON_NUM_THREADS`, default one thread per core). Small batches, and every single request
//! row, run on the calling thread: below `PARALLEL_MIN_CELLS` the coordination costs more than
//! it saves. `set_max_threads(1)` turns splitting off entirely.

use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

/// Batches with fewer cells than this run on the calling thread.
pub const PARALLEL_MIN_CELLS: usize = 1 << 17;
/// Target cells per block: large enough to amortise scheduling, small enough to balance.
const BLOCK_CELLS: usize = 1 << 15;

static MAX_THREADS: AtomicUsize = AtomicUsize::new(0);

/// 1 runs every kernel on the calling thread; 0 (the default) uses the whole pool.
pub fn set_max_threads(n: usize) {
    MAX_THREADS.store(n, Ordering::Relaxed);
}

pub fn max_threads() -> usize {
    MAX_THREADS.load(Ordering::Relaxed)
}

/// Rows per block for a batch of `rows` rows of `in_cols` values in and `out_cols` out; `None`
/// when the batch runs on the calling thread.
fn block_rows(rows: usize, in_cols: usize, out_cols: usize) -> Option<usize> {
    let cells = rows * in_cols.max(out_cols);
    if rows == 0
        || cells < PARALLEL_MIN_CELLS
        || max_threads() == 1
        || in_cols == 0
        || out_cols == 0
    {
        return None;
    }
    Some((BLOCK_CELLS / in_cols.max(out_cols)).max(1))
}

/// Runs `f(input_block, output_block)` over blocks of whole rows: `input` has `in_cols` values
/// per row and `output` `out_cols`. Blocks are disjoint, so `f` needs no synchronisation.
pub fn for_row_blocks<T, U, F>(input: &[T], in_cols: usize, output: &mut [U], out_cols: usize, f: F)
where
    T: Sync,
    U: Send,
    F: Fn(&[T], &mut [U]) + Sync,
{
    let rows = input
        .len()
        .checked_div(in_cols)
        .or(output.len().checked_div(out_cols))
        .unwrap_or(0);
    let Some(block_rows) = block_rows(rows, in_cols, out_cols) else {
        f(input, output);
        return;
    };
    input
        .par_chunks(block_rows * in_cols)
        .zip(output.par_chunks_mut(block_rows * out_cols))
        .for_each(|(i, o)| f(i, o));
}

/// `for_row_blocks` with two outputs of `out_cols` values per row each.
pub fn for_row_blocks2<T, U, V, F>(
    input: &[T],
    in_cols: usize,
    outputs: (&mut [U], &mut [V]),
    out_cols: usize,
    f: F,
) where
    T: Sync,
    U: Send,
    V: Send,
    F: Fn(&[T], &mut [U], &mut [V]) + Sync,
{
    let (a, b) = outputs;
    let rows = a.len().checked_div(out_cols).unwrap_or(0);
    let Some(block_rows) = block_rows(rows, in_cols, out_cols) else {
        f(input, a, b);
        return;
    };
    input
        .par_chunks(block_rows * in_cols)
        .zip(a.par_chunks_mut(block_rows * out_cols))
        .zip(b.par_chunks_mut(block_rows * out_cols))
        .for_each(|((i, a), b)| f(i, a, b));
}

/// Runs `f(block_index, block)` over the `chunk`-sized blocks of `out` (on every core when
/// `parallel`) and combines the results with `add`, starting from `init()`.
pub fn fold_blocks<T, R>(
    out: &mut [T],
    chunk: usize,
    parallel: bool,
    init: impl Fn() -> R + Sync + Send,
    f: impl Fn(usize, &mut [T]) -> R + Sync + Send,
    add: impl Fn(R, R) -> R + Sync + Send,
) -> R
where
    T: Send,
    R: Send,
{
    if parallel {
        out.par_chunks_mut(chunk)
            .enumerate()
            .map(|(b, block)| f(b, block))
            .reduce(&init, &add)
    } else {
        out.chunks_mut(chunk)
            .enumerate()
            .map(|(b, block)| f(b, block))
            .fold(init(), &add)
    }
}

/// `f(block)` for each of `blocks` block indices (on every core when `parallel`), the results
/// in block order: for outputs whose size is only known per block (sparse rows).
pub fn map_blocks<R: Send>(
    blocks: usize,
    parallel: bool,
    f: impl Fn(usize) -> R + Sync + Send,
) -> Vec<R> {
    if parallel {
        (0..blocks).into_par_iter().map(f).collect()
    } else {
        (0..blocks).map(f).collect()
    }
}

/// `f(item)` for each of `items` (on every core when `parallel`), the results in order: for
/// work that owns its input, such as one buffer per column.
pub fn map_items<I: Send, R: Send>(
    items: Vec<I>,
    parallel: bool,
    f: impl Fn(I) -> R + Sync + Send,
) -> Vec<R> {
    if parallel {
        items.into_par_iter().map(f).collect()
    } else {
        items.into_iter().map(f).collect()
    }
}

/// Bytes per block of `copy`: large enough that a block's page faults are its own.
const COPY_BLOCK_BYTES: usize = 1 << 21;

/// `dst.copy_from_slice(src)`, in blocks on every core for a large copy: a copy into fresh
/// memory is as much the kernel zeroing the pages as the copy itself, and both split.
pub fn copy<T: Copy + Send + Sync>(src: &[T], dst: &mut [T]) {
    assert_eq!(
        src.len(),
        dst.len(),
        "copy between slices of different lengths"
    );
    let block = (COPY_BLOCK_BYTES / std::mem::size_of::<T>().max(1)).max(1);
    if max_threads() == 1 || src.len() < PARALLEL_MIN_CELLS {
        dst.copy_from_slice(src);
        return;
    }
    dst.par_chunks_mut(block)
        .zip(src.par_chunks(block))
        .for_each(|(d, s)| d.copy_from_slice(s));
}

/// `parts` end to end in one buffer, value `v` of part `j` written as `f(j, v)`: the parts of
/// a sparse output, built block by block. The copies run side by side on every core when
/// `parallel` (one thread copying, and faulting in the fresh pages, was a tenth of a 1M-row
/// sparse transform), into memory that is not zeroed first: every value is written once.
pub fn concat<T: Copy + Send + Sync>(
    parts: &[&[T]],
    parallel: bool,
    f: impl Fn(usize, T) -> T + Sync + Send,
) -> Vec<T> {
    let total = parts.iter().map(|p| p.len()).sum();
    let mut out = Vec::with_capacity(total);
    let mut places = Vec::with_capacity(parts.len());
    let mut rest = &mut out.spare_capacity_mut()[..total];
    for part in parts {
        let (place, after) = std::mem::take(&mut rest).split_at_mut(part.len());
        places.push(place);
        rest = after;
    }
    let write = |(j, (place, part)): (usize, (&mut [MaybeUninit<T>], &&[T]))| {
        for (dst, &src) in place.iter_mut().zip(part.iter()) {
            dst.write(f(j, src));
        }
    };
    if parallel && parts.len() > 1 && max_threads() != 1 {
        places
            .into_par_iter()
            .zip(parts)
            .enumerate()
            .for_each(write);
    } else {
        places.into_iter().zip(parts).enumerate().for_each(write);
    }
    // SAFETY: the places tile the first `total` values of the spare capacity, each as long
    // as its part, and the loops above wrote every value of every place.
    unsafe { out.set_len(total) };
    out
}

/// The row ends (CSR `indptr`) of row blocks whose ends count from each block's first entry:
/// a leading 0, then each block's ends moved up by the entries of the blocks before it.
pub fn concat_ends(blocks: &[&[i64]], parallel: bool) -> Vec<i64> {
    let mut bases = vec![0i64];
    for block in blocks {
        bases.push(bases[bases.len() - 1] + block.last().copied().unwrap_or(0));
    }
    let parts: Vec<&[i64]> = std::iter::once(&[0i64][..])
        .chain(blocks.iter().copied())
        .collect();
    // Part `j` is block `j - 1` (the first is the leading 0).
    concat(&parts, parallel, |j, end| end + bases[j.saturating_sub(1)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concat_keeps_order_and_maps_by_part() {
        let (a, b, c) = ([1i64, 2], [], [3i64, 4, 5]);
        for parallel in [false, true] {
            assert_eq!(
                concat(&[&a[..], &b[..], &c[..]], parallel, |j, v| v * 10
                    + j as i64),
                vec![10, 20, 32, 42, 52]
            );
            assert!(concat::<i32>(&[], parallel, |_, v| v).is_empty());
        }
    }

    #[test]
    fn ends_of_blocks_become_one_indptr() {
        // Blocks of rows with 2 and 1 entries, an empty block, then rows with 0 and 3.
        let blocks: [&[i64]; 3] = [&[2, 3], &[], &[0, 3]];
        for parallel in [false, true] {
            assert_eq!(concat_ends(&blocks, parallel), vec![0, 2, 3, 3, 6]);
            assert_eq!(concat_ends(&[], parallel), vec![0]);
        }
    }
}
