//! Order statistics of the columns of a CSR matrix, its implicit zeros counted as values (as
//! scikit-learn's sparse fits count them: `RobustScaler`, `QuantileTransformer`,
//! `SimpleImputer`), without making the columns dense: each column's stored values are sorted
//! and its implicit zeros stand as one run of zeros among them.

use crate::error::Result;
use crate::matrix::{Element, Mat};
use crate::parallel::{map_items, max_threads};
use crate::sparse::{CsrIndex, CsrRef};

use super::{by_quantile, check_probabilities, QuantileMethod, Wanted};

/// A column's non-NaN stored values (in any order) with `zeros` implicit zeros, which sit
/// between its negative values and the others in sorted order.
struct SparseColumn {
    stored: Vec<f64>,
    zeros: usize,
    negatives: usize,
}

/// Up to this many wanted ranks, selection (linear per rank) beats a full sort.
const SELECT_MAX_RANKS: usize = 16;

impl SparseColumn {
    fn new(stored: Vec<f64>, zeros: usize) -> Self {
        let negatives = stored.iter().filter(|&&v| v < 0.0).count();
        Self {
            stored,
            zeros,
            negatives,
        }
    }

    fn len(&self) -> usize {
        self.stored.len() + self.zeros
    }

    /// Where sorted position `r` lies: `Some(i)` at the `i`-th smallest stored value, `None`
    /// among the implicit zeros.
    fn stored_rank(&self, r: usize) -> Option<usize> {
        if r < self.negatives {
            Some(r)
        } else if r < self.negatives + self.zeros {
            None
        } else {
            Some(r - self.zeros)
        }
    }

    /// The values at sorted positions `ranks` (increasing, each `< len()`): the stored ones
    /// selected in place (or sorted, for many ranks), the implicit zeros as 0.
    fn at_ranks(&mut self, ranks: &[usize]) -> Vec<f64> {
        let wanted: Vec<usize> = ranks.iter().filter_map(|&r| self.stored_rank(r)).collect();
        if wanted.len() > SELECT_MAX_RANKS {
            self.stored.sort_unstable_by(f64::total_cmp);
        } else {
            // After selecting rank w, the values above it lie in stored[w + 1..].
            let mut lo = 0;
            for &w in &wanted {
                self.stored[lo..].select_nth_unstable_by(w - lo, f64::total_cmp);
                lo = w + 1;
            }
        }
        ranks
            .iter()
            .map(|&r| self.stored_rank(r).map_or(0.0, |i| self.stored[i]))
            .collect()
    }

    /// The value at sorted position `r < len()`, once `stored` is sorted.
    fn at_sorted(&self, r: usize) -> f64 {
        self.stored_rank(r).map_or(0.0, |i| self.stored[i])
    }
}

/// Every column's values: implicit zeros counted if `implicit_zeros`, NaN skipped.
fn sparse_columns<T: Element, I: CsrIndex>(
    x: CsrRef<'_, T, I>,
    implicit_zeros: bool,
) -> Vec<SparseColumn> {
    let m = x.cols();
    let mut stored = vec![0usize; m];
    let mut values: Vec<Vec<f64>> = vec![Vec::new(); m];
    for (&v, j) in x.data().iter().zip(x.columns()) {
        stored[j] += 1;
        let v = v.to_f64();
        if !v.is_nan() {
            values[j].push(v);
        }
    }
    values
        .into_iter()
        .zip(stored)
        .map(|(v, s)| SparseColumn::new(v, if implicit_zeros { x.rows() - s } else { 0 }))
        .collect()
}

fn parallel_for<T: Element, I: CsrIndex>(x: CsrRef<'_, T, I>) -> bool {
    max_threads() > 1 && x.cols() > 1 && x.data().len() >= 1 << 16
}

/// Quantiles `qs` (fractions, interpolated as `method`) and medians of every column of a CSR
/// matrix, as `column_quantiles_and_medians` of its dense form (`implicit_zeros`) or of its
/// stored values alone.
pub fn csr_column_quantiles_and_medians<T: Element, I: CsrIndex>(
    x: CsrRef<'_, T, I>,
    qs: &[f64],
    method: QuantileMethod,
    implicit_zeros: bool,
) -> Result<(Mat<f64>, Vec<f64>)> {
    check_probabilities(qs)?;
    let wanted = Wanted {
        qs,
        method,
        with_median: true,
    };
    let columns = sparse_columns(x, implicit_zeros);
    let (columns, medians): (Vec<_>, Vec<_>) = map_items(columns, parallel_for(x), |mut c| {
        let n = c.len();
        let selected = if n == 0 {
            Vec::new()
        } else {
            c.at_ranks(&wanted.ranks(n))
        };
        wanted.at_ranks(n, &selected)
    })
    .into_iter()
    .unzip();
    Ok((by_quantile(&columns, qs.len()), medians))
}

/// Most frequent value of every column of a CSR matrix, its implicit zeros counted; ties go
/// to the smallest value, `-0.0` and `0.0` are one value (as `column_modes`).
pub fn csr_column_modes<T: Element, I: CsrIndex>(x: CsrRef<'_, T, I>) -> Vec<f64> {
    map_items(sparse_columns(x, true), parallel_for(x), |mut c| {
        c.stored.sort_unstable_by(f64::total_cmp);
        let mut best = (f64::NAN, 0usize);
        let mut r = 0;
        let n = c.len();
        while r < n {
            let v = c.at_sorted(r) + 0.0;
            let mut k = r + 1;
            while k < n && c.at_sorted(k) + 0.0 == v {
                k += 1;
            }
            if k - r > best.1 {
                best = (v, k - r);
            }
            r = k;
        }
        best.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::MatRef;
    use crate::quantile::{column_modes, column_quantiles_and_medians};

    #[test]
    fn equals_the_dense_form() {
        // 4 x 2: column 0 holds -1, 3 (two implicit zeros); column 1 holds NaN, 0, 5.
        let (indptr, indices) = ([0i32, 2, 4, 5, 5], [0i32, 1, 0, 1, 1]);
        let data = [-1.0f64, f64::NAN, 3.0, 0.0, 5.0];
        let x = CsrRef::new(&indptr, &indices, &data, 2).expect("csr");
        let dense = [-1.0, f64::NAN, 3.0, 0.0, 0.0, 5.0, 0.0, 0.0];
        let d = MatRef::new(&dense, 4, 2).expect("shape");
        let qs = [0.0, 0.25, 0.6, 1.0];
        for method in [QuantileMethod::Linear, QuantileMethod::AveragedInvertedCdf] {
            let (q, med) = csr_column_quantiles_and_medians(x, &qs, method, true).expect("q");
            let (dq, dmed) = column_quantiles_and_medians(d, &qs, method).expect("q");
            assert_eq!((q.data, med), (dq.data, dmed));
        }
        assert_eq!(csr_column_modes(x), column_modes(d));
        let (q, med) =
            csr_column_quantiles_and_medians(x, &[0.0, 1.0], QuantileMethod::Linear, false)
                .expect("q");
        assert_eq!((q.data, med), (vec![-1.0, 0.0, 3.0, 5.0], vec![1.0, 2.5]));
    }
}
