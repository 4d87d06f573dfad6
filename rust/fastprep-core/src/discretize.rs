//! Binning by per-column edges (scikit-learn's `KBinsDiscretizer` transform).
//!
//! Policy: a value's bin is the number of inner edges at or below it
//! (`np.searchsorted(edges[1:-1], x, side="right")`), so values below the first edge fall in bin
//! 0 and values above the last in the last bin, ±inf included. NaN stays NaN: the ordinal code
//! is NaN, and every one-hot column of that feature is NaN (never a silent all-zero row).

use crate::error::{Error, Result};
use crate::matrix::{Element, MatRef};

/// Validated bin edges of every column, stored flat: column `j` owns
/// `edges[offsets[j]..offsets[j + 1]]`, at least two sorted edges (one bin or more).
#[derive(Debug, Clone, Copy)]
pub struct BinEdges<'a> {
    edges: &'a [f64],
    offsets: &'a [usize],
}

impl<'a> BinEdges<'a> {
    pub fn new(edges: &'a [f64], offsets: &'a [usize]) -> Result<Self> {
        if offsets.first() != Some(&0) || offsets.last() != Some(&edges.len()) {
            return Err(Error::Parameter(format!(
                "bin edge offsets must run from 0 to {}",
                edges.len()
            )));
        }
        for (j, w) in offsets.windows(2).enumerate() {
            let column = edges
                .get(w[0]..w[1])
                .filter(|c| c.len() >= 2)
                .ok_or_else(|| {
                    Error::Parameter(format!("column {j} needs at least two bin edges"))
                })?;
            if column.iter().any(|e| e.is_nan()) || column.windows(2).any(|p| p[1] < p[0]) {
                return Err(Error::Parameter(format!(
                    "bin edges of column {j} must be sorted and not NaN"
                )));
            }
        }
        Ok(Self { edges, offsets })
    }

    pub fn n_columns(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn n_bins(&self, j: usize) -> usize {
        self.offsets[j + 1] - self.offsets[j] - 1
    }

    /// Total one-hot width: the sum of every column's number of bins.
    pub fn total_bins(&self) -> usize {
        (0..self.n_columns()).map(|j| self.n_bins(j)).sum()
    }

    /// The inner edges of column `j` (the ones a value is compared with).
    pub fn inner(&self, j: usize) -> &'a [f64] {
        &self.edges[self.offsets[j] + 1..self.offsets[j + 1] - 1]
    }
}

/// The number of inner edges `<= v`: the bin of `v` (shared with the compiled plan). Few
/// edges: a branch-free count beats a search.
#[inline]
pub fn bin_of(v: f64, inner: &[f64]) -> usize {
    if inner.len() <= 16 {
        inner.iter().map(|&e| (e <= v) as usize).sum()
    } else {
        inner.partition_point(|&e| e <= v)
    }
}

/// Bin index of every cell (`onehot = false`: same shape as `x`), or one indicator column per
/// bin (`onehot = true`: `total_bins()` columns, features in order).
pub fn digitize<T: Element>(
    x: MatRef<'_, T>,
    edges: BinEdges<'_>,
    onehot: bool,
    out: &mut [T],
) -> Result<()> {
    let m = x.cols();
    if edges.n_columns() != m {
        return Err(Error::Shape(format!(
            "bin edges for {} columns but the input has {m}",
            edges.n_columns()
        )));
    }
    let inner: Vec<&[f64]> = (0..m).map(|j| edges.inner(j)).collect();
    let width = if onehot { edges.total_bins() } else { m };
    x.map_rows_into(out, width, |input, output| {
        for (row, out) in input
            .chunks_exact(m.max(1))
            .zip(output.chunks_exact_mut(width.max(1)))
        {
            let mut at = 0;
            for (&v, inner) in row.iter().zip(&inner) {
                let v = v.to_f64();
                let bin = bin_of(v, inner);
                if !onehot {
                    out[at] = T::from_f64(if v.is_nan() { f64::NAN } else { bin as f64 });
                    at += 1;
                    continue;
                }
                let cells = &mut out[at..at + inner.len() + 1];
                if v.is_nan() {
                    cells.fill(T::from_f64(f64::NAN));
                } else {
                    cells.fill(T::ZERO);
                    cells[bin] = T::from_f64(1.0);
                }
                at += cells.len();
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Mat;

    #[test]
    fn ordinal_and_onehot() {
        let edges = [0.0, 1.0, 2.0, 3.0, f64::NEG_INFINITY, f64::INFINITY];
        let offsets = [0, 4, 6];
        let e = BinEdges::new(&edges, &offsets).expect("edges");
        assert_eq!(e.total_bins(), 4);
        let data = [-5.0f64, 7.0, 1.0, f64::NAN, 2.5, 0.0];
        let x = MatRef::new(&data, 3, 2).expect("shape");
        let ordinal = Mat::build(3, 2, |o| digitize(x, e, false, o)).expect("kernel");
        assert_eq!(ordinal.data[..3], [0.0, 0.0, 1.0]);
        assert!(ordinal.data[3].is_nan());
        assert_eq!(ordinal.data[4..], [2.0, 0.0]);
        let onehot = Mat::build(3, 4, |o| digitize(x, e, true, o)).expect("kernel");
        assert_eq!(onehot.data[..4], [1.0, 0.0, 0.0, 1.0]);
        assert_eq!(onehot.data[4..7], [0.0, 1.0, 0.0]);
        assert!(onehot.data[7].is_nan());
    }

    #[test]
    fn bad_edges_are_refused() {
        assert!(BinEdges::new(&[1.0, 0.0], &[0, 2]).is_err());
        assert!(BinEdges::new(&[0.0, f64::NAN], &[0, 2]).is_err());
        assert!(BinEdges::new(&[0.0], &[0, 1]).is_err());
        assert!(BinEdges::new(&[0.0, 1.0], &[0, 3]).is_err());
        assert!(BinEdges::new(&[0.0, 1.0], &[1, 2]).is_err());
    }
}
