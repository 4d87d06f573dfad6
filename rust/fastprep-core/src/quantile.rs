//! Exact order statistics of columns, skipping NaN: quantiles, medians and modes.
//!
//! The interpolation reproduces NumPy bit for bit, so exact fits agree with scikit-learn:
//! quantiles follow `np.nanquantile` with `method="linear"` or `"averaged_inverted_cdf"`
//! (including NumPy's index clamping and two-sided `_lerp`), and medians follow `np.nanmedian`,
//! which averages the two middle values as `(a + b) / 2`.
//! A column with no non-NaN value gives NaN.

use crate::error::{Error, Result};
use rayon::prelude::*;

use crate::matrix::{Element, Mat, MatRef};
use crate::parallel::{max_threads, PARALLEL_MIN_CELLS};

/// A zero-filled buffer of `len` values, backed by transparent huge pages where Linux offers
/// them: a fresh 100 MB buffer otherwise costs tens of thousands of page faults, more time than
/// the selection done on it.
fn scratch(len: usize) -> Vec<f64> {
    let mut buffer: Vec<f64> = Vec::with_capacity(len);
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let start = buffer.as_mut_ptr() as usize;
        let aligned = start.next_multiple_of(PAGE);
        let end = start + len * std::mem::size_of::<f64>();
        if end > aligned + PAGE {
            // SAFETY: the range lies inside this Vec's own, not yet touched allocation, and
            // starts on a page boundary; MADV_HUGEPAGE only changes how pages are backed, never
            // their contents, and a failure (an old kernel, THP disabled) is harmless.
            unsafe {
                libc::madvise(
                    aligned as *mut libc::c_void,
                    end - aligned,
                    libc::MADV_HUGEPAGE,
                );
            }
        }
    }
    buffer.resize(len, 0.0);
    buffer
}

/// `f(values)` for every column's non-NaN values (in row order), columns in parallel. The
/// values are gathered in one pass over the row-major data, into one buffer.
fn per_column<T: Element, R: Send>(
    x: MatRef<'_, T>,
    f: impl Fn(&mut [f64]) -> R + Sync + Send,
) -> Vec<R> {
    let (n, m) = (x.rows(), x.cols());
    let mut buffer = scratch(n * m);
    let mut lengths = vec![0usize; m];
    for row in x.row_iter() {
        for (j, v) in row.iter().enumerate() {
            let v = v.to_f64();
            if !v.is_nan() {
                buffer[j * n + lengths[j]] = v;
                lengths[j] += 1;
            }
        }
    }
    let columns: Vec<&mut [f64]> = if n == 0 {
        (0..m).map(|_| <&mut [f64]>::default()).collect()
    } else {
        buffer
            .chunks_mut(n)
            .zip(&lengths)
            .map(|(c, &len)| &mut c[..len])
            .collect()
    };
    if max_threads() == 1 || x.data().len() < PARALLEL_MIN_CELLS {
        columns.into_iter().map(f).collect()
    } else {
        columns.into_par_iter().map(f).collect()
    }
}

/// Puts the values at the (ascending, distinct) positions `ranks` in their sorted places.
///
/// Divide and conquer: select the middle rank, then the lower ranks on its left and the upper
/// ranks on its right. O(n log k) for k ranks, against O(n log n) for a full sort.
fn select_ranks(values: &mut [f64], ranks: &[usize]) {
    select_ranks_from(values, ranks, 0);
}

fn select_ranks_from(values: &mut [f64], ranks: &[usize], offset: usize) {
    if ranks.is_empty() || values.is_empty() {
        return;
    }
    let mid = ranks.len() / 2;
    let r = ranks[mid] - offset;
    values.select_nth_unstable_by(r, f64::total_cmp);
    let (left, right) = values.split_at_mut(r);
    select_ranks_from(left, &ranks[..mid], offset);
    select_ranks_from(&mut right[1..], &ranks[mid + 1..], offset + r + 1);
}

/// NumPy's `_lerp`: exact at both ends, monotone in `t`.
#[inline]
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

/// NumPy's quantile methods that fastprep supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantileMethod {
    /// Hyndman & Fan's type 7, NumPy's default: `np.nanpercentile`, scikit-learn's
    /// `RobustScaler` and `QuantileTransformer`.
    Linear,
    /// Type 2: the mean of the two neighbours at a jump of the CDF, else the upper one;
    /// scikit-learn's `KBinsDiscretizer` default.
    AveragedInvertedCdf,
}

impl QuantileMethod {
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "linear" => Ok(Self::Linear),
            "averaged_inverted_cdf" => Ok(Self::AveragedInvertedCdf),
            other => Err(Error::Parameter(format!(
                "quantile method must be 'linear' or 'averaged_inverted_cdf', got {other:?}"
            ))),
        }
    }
}

/// Position of quantile `q` in `n` sorted values: (previous index, next index, gamma), as
/// NumPy's `_get_indexes` and `_get_gamma` compute them, clamping included.
fn position(n: usize, q: f64, method: QuantileMethod) -> (usize, usize, f64) {
    let virtual_index = match method {
        QuantileMethod::Linear => (n - 1) as f64 * q,
        QuantileMethod::AveragedInvertedCdf => n as f64 * q - 1.0,
    };
    // NumPy points both neighbours at the last value (index -1) above the range and at the
    // first (index 0) below it; gamma is taken against those clamped indices.
    let (prev, next, prev_index) = if virtual_index >= (n - 1) as f64 {
        (n - 1, n - 1, -1.0)
    } else if virtual_index < 0.0 {
        (0, 0, 0.0)
    } else {
        let p = virtual_index.floor();
        (p as usize, p as usize + 1, p)
    };
    let gamma = virtual_index - prev_index;
    let gamma = match method {
        QuantileMethod::Linear => gamma,
        QuantileMethod::AveragedInvertedCdf => {
            if gamma == 0.0 {
                0.5
            } else {
                1.0
            }
        }
    };
    (prev, next, gamma)
}

fn check_probabilities(qs: &[f64]) -> Result<()> {
    match qs.iter().find(|q| !(0.0..=1.0).contains(*q)) {
        Some(q) => Err(Error::Parameter(format!(
            "quantiles must be in [0, 1], got {q}"
        ))),
        None => Ok(()),
    }
}

/// Quantiles `qs` of one column's values (reordered in place), NaN if there are none.
fn quantiles_of(values: &mut [f64], qs: &[f64], method: QuantileMethod) -> Vec<f64> {
    let n = values.len();
    if n == 0 {
        return vec![f64::NAN; qs.len()];
    }
    let positions: Vec<_> = qs.iter().map(|&q| position(n, q, method)).collect();
    let mut ranks: Vec<usize> = positions.iter().flat_map(|&(a, b, _)| [a, b]).collect();
    ranks.sort_unstable();
    ranks.dedup();
    select_ranks(values, &ranks);
    positions
        .iter()
        .map(|&(a, b, gamma)| lerp(values[a], values[b], gamma))
        .collect()
}

/// The median of one column's values (reordered in place), as `np.nanmedian`.
fn median_of(values: &mut [f64]) -> f64 {
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    let hi = n / 2;
    if n % 2 == 1 {
        select_ranks(values, &[hi]);
        values[hi]
    } else {
        select_ranks(values, &[hi - 1, hi]);
        (values[hi - 1] + values[hi]) / 2.0
    }
}

/// Per-column results as a `qs.len() × cols` matrix.
fn by_quantile(columns: &[Vec<f64>], n_quantiles: usize) -> Mat<f64> {
    let m = columns.len();
    let mut data = vec![f64::NAN; n_quantiles * m];
    for (j, column) in columns.iter().enumerate() {
        for (i, &q) in column.iter().enumerate() {
            data[i * m + j] = q;
        }
    }
    Mat {
        data,
        rows: n_quantiles,
        cols: m,
    }
}

/// Quantiles `qs` (fractions in [0, 1]) of every column: a `qs.len() × cols` matrix.
pub fn column_quantiles<T: Element>(
    x: MatRef<'_, T>,
    qs: &[f64],
    method: QuantileMethod,
) -> Result<Mat<f64>> {
    check_probabilities(qs)?;
    let columns = per_column(x, |values| quantiles_of(values, qs, method));
    Ok(by_quantile(&columns, qs.len()))
}

/// Median of every column, as `np.nanmedian`.
pub fn column_medians<T: Element>(x: MatRef<'_, T>) -> Vec<f64> {
    per_column(x, median_of)
}

/// `column_quantiles` and `column_medians` from one gather of the values (what `RobustScaler`
/// needs: gathering costs as much as selecting).
pub fn column_quantiles_and_medians<T: Element>(
    x: MatRef<'_, T>,
    qs: &[f64],
    method: QuantileMethod,
) -> Result<(Mat<f64>, Vec<f64>)> {
    check_probabilities(qs)?;
    let both = per_column(x, |values| {
        (quantiles_of(values, qs, method), median_of(values))
    });
    let (columns, medians): (Vec<_>, Vec<_>) = both.into_iter().unzip();
    Ok((by_quantile(&columns, qs.len()), medians))
}

/// Most frequent non-NaN value of every column; ties go to the smallest value
/// (scikit-learn's `most_frequent`). `-0.0` and `0.0` count as one value.
pub fn column_modes<T: Element>(x: MatRef<'_, T>) -> Vec<f64> {
    per_column(x, |values| {
        // `+ 0.0` turns -0.0 into 0.0, so the two zeros are one value.
        let mut values: Vec<f64> = values.iter().map(|v| v + 0.0).collect();
        values.sort_unstable_by(f64::total_cmp);
        let mut best = (f64::NAN, 0usize);
        let mut i = 0;
        while i < values.len() {
            let mut k = i + 1;
            while k < values.len() && values[k] == values[i] {
                k += 1;
            }
            // Strictly greater keeps the first, that is the smallest, of tied values.
            if k - i > best.1 {
                best = (values[i], k - i);
            }
            i = k;
        }
        best.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let data = [4.0f64, 1.0, 3.0, f64::NAN, 2.0];
        let x = MatRef::new(&data, 5, 1).expect("shape");
        let linear = QuantileMethod::Linear;
        let q = column_quantiles(x, &[0.0, 0.25, 0.5, 1.0], linear).expect("kernel");
        assert_eq!(q.data, vec![1.0, 1.75, 2.5, 4.0]);
        let averaged = QuantileMethod::AveragedInvertedCdf;
        let q = column_quantiles(x, &[0.0, 0.3, 0.5, 1.0], averaged).expect("kernel");
        assert_eq!(q.data, vec![1.0, 2.0, 2.5, 4.0]);
        assert_eq!(column_medians(x), vec![2.5]);
        let (q, medians) = column_quantiles_and_medians(x, &[0.25], linear).expect("kernel");
        assert_eq!((q.data, medians), (vec![1.75], vec![2.5]));
        assert!(column_quantiles(x, &[1.5], linear).is_err());
    }

    #[test]
    fn selected_ranks_match_a_full_sort() {
        let mut values: Vec<f64> = (0..1000).map(|i| ((i * 7919) % 1009) as f64).collect();
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let ranks = [0, 1, 17, 500, 501, 998, 999];
        select_ranks(&mut values, &ranks);
        for r in ranks {
            assert_eq!(values[r], sorted[r]);
        }
    }

    #[test]
    fn modes_prefer_the_smallest_tie() {
        let data = [3.0f64, 1.0, 3.0, 1.0, f64::NAN, 2.0];
        let x = MatRef::new(&data, 6, 1).expect("shape");
        assert_eq!(column_modes(x), vec![1.0]);
    }

    #[test]
    fn no_rows_gives_nan_per_column() {
        let x = MatRef::new(&[] as &[f64], 0, 3).expect("shape");
        assert_eq!(column_medians(x).len(), 3);
        assert_eq!(column_modes(x).len(), 3);
    }

    #[test]
    fn all_nan_column_gives_nan() {
        let data = [f64::NAN, f64::NAN];
        let x = MatRef::new(&data, 2, 1).expect("shape");
        assert!(column_medians(x)[0].is_nan());
        assert!(column_modes(x)[0].is_nan());
        assert!(column_quantiles(x, &[0.5], QuantileMethod::Linear)
            .expect("kernel")
            .data[0]
            .is_nan());
    }
}
