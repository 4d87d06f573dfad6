//! Drift counting: live values binned on the training distribution's edges.
//!
//! A numeric column's reference is a set of edges (training quantiles, strictly increasing)
//! and the training count of each bin `(-inf, e0], (e0, e1], ..., (e_last, inf)`; a monitor
//! counts live values into the same bins. "At most the edge" is the bin rule, so the counts
//! give both distributions' CDFs at every edge (the Kolmogorov-Smirnov statistic on them).

use rayon::prelude::*;

use crate::encode::CategoryIndex;
use crate::error::{Error, Result};
use crate::parallel::max_threads;
use crate::strings::Column;

const PARALLEL_MIN: usize = 1 << 16;
const CHUNK: usize = 1 << 14;

/// Per bin, how many of `values` fall in it (`edges.len() + 1` bins), and how many are NaN.
pub fn bin_counts(values: &[f64], edges: &[f64]) -> Result<(Vec<i64>, i64)> {
    if edges.iter().any(|e| e.is_nan()) || edges.windows(2).any(|w| w[0] >= w[1]) {
        return Err(Error::Shape(
            "drift edges must be strictly increasing numbers".into(),
        ));
    }
    let count = |chunk: &[f64]| {
        let mut bins = vec![0i64; edges.len() + 1];
        let mut missing = 0i64;
        for &v in chunk {
            if v.is_nan() {
                missing += 1;
            } else {
                bins[edges.partition_point(|&e| e < v)] += 1;
            }
        }
        (bins, missing)
    };
    let add = |(mut a, m): (Vec<i64>, i64), (b, n): (Vec<i64>, i64)| {
        for (x, y) in a.iter_mut().zip(b) {
            *x += y;
        }
        (a, m + n)
    };
    if values.len() < PARALLEL_MIN || max_threads() == 1 {
        return Ok(count(values));
    }
    Ok(values
        .par_chunks(CHUNK)
        .map(count)
        .reduce(|| (vec![0i64; edges.len() + 1], 0), add))
}

/// How often each lookup code occurs in `column`: `index.len() + 2` counts (the categories,
/// then missing, then unknown), without materialising the codes.
pub fn code_counts(index: &CategoryIndex, column: &Column<'_>) -> Result<Vec<i64>> {
    let prepared = index.prepare(column)?;
    let rows = column.len();
    let n = index.len() + 2;
    let count = |mut acc: Vec<i64>, block: usize| {
        let first = block * CHUNK;
        let mut codes = vec![0u32; CHUNK.min(rows - first)];
        index.lookup_rows(&prepared, first, &mut codes);
        for &c in &codes {
            acc[c as usize] += 1;
        }
        acc
    };
    let blocks = rows.div_ceil(CHUNK);
    if rows < PARALLEL_MIN || max_threads() == 1 {
        return Ok((0..blocks).fold(vec![0i64; n], count));
    }
    Ok((0..blocks)
        .into_par_iter()
        .fold(|| vec![0i64; n], count)
        .reduce(
            || vec![0i64; n],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                a
            },
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_the_edge_and_nan_apart() {
        let (bins, missing) =
            bin_counts(&[0.5, 1.0, 1.5, 2.0, 9.0, f64::NAN, -3.0], &[1.0, 2.0]).expect("counts");
        assert_eq!(bins, [3, 2, 1]);
        assert_eq!(missing, 1);
        assert!(bin_counts(&[1.0], &[2.0, 1.0]).is_err());
    }
}
