//! The encoders' outputs: one-hot (dense and CSR), ordinal and count, from looked-up codes
//! through per-column tables, by row blocks.

use super::*;

/// Rows per block of the fused encoders, for `k` columns: a block's codes (about 512 KiB of
/// them) stay in cache between their lookup and the output pass. Long runs of one column
/// matter too, hence the lower bound.
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
