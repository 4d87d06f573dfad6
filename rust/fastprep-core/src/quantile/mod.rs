//! Exact order statistics of columns, skipping NaN: quantiles, medians and modes.
//!
//! The interpolation reproduces NumPy bit for bit, so exact fits agree with scikit-learn:
//! quantiles follow `np.nanquantile` with `method="linear"` or `"averaged_inverted_cdf"`
//! (including NumPy's index clamping and two-sided `_lerp`), and medians follow `np.nanmedian`,
//! which averages the two middle values as `(a + b) / 2`.
//! A column with no non-NaN value gives NaN.
//!
//! - `radix`: the exact selection of ranks from a column's keys (an MSD radix selection);
//! - `sampled`: for tall matrices, one pass that keeps only the keys a sample places near the
//!   wanted ranks, then the radix selection of those;
//! - `weighted`: scikit-learn's weighted percentiles (`KBinsDiscretizer` with `sample_weight`);
//! - `csr`: the same statistics of the columns of a CSR matrix, implicit zeros counted;
//! - this module: NumPy's methods and the column API.

mod csr;
mod radix;
mod sampled;
mod weighted;

pub use csr::{csr_column_modes, csr_column_quantiles_and_medians};
pub use weighted::weighted_column_quantiles;

use crate::error::{Error, Result};

use crate::matrix::{per_column, Element, Mat, MatRef};
use crate::memory::zeroed;
use crate::parallel::{map_blocks, map_items, max_threads};

use radix::*;
use sampled::*;

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

/// What one column's quantiles `qs` (and its median, if `with_median`) need.
#[derive(Clone, Copy)]
struct Wanted<'q> {
    qs: &'q [f64],
    method: QuantileMethod,
    with_median: bool,
}

impl Wanted<'_> {
    /// The sorted positions these statistics read in `n >= 1` sorted values.
    fn ranks(&self, n: usize) -> Vec<usize> {
        let mut ranks: Vec<usize> = self
            .qs
            .iter()
            .flat_map(|&q| {
                let (a, b, _) = position(n, q, self.method);
                [a, b]
            })
            .collect();
        if self.with_median {
            ranks.extend([(n - 1) / 2, n / 2]);
        }
        ranks.sort_unstable();
        ranks.dedup();
        ranks
    }

    /// The quantiles and median of `n` values from `selected`, their values at `ranks(n)`;
    /// NaN if there are no values.
    fn at_ranks(&self, n: usize, selected: &[f64]) -> (Vec<f64>, f64) {
        if n == 0 {
            return (vec![f64::NAN; self.qs.len()], f64::NAN);
        }
        let ranks = self.ranks(n);
        let at = |r: usize| selected[ranks.partition_point(|&x| x < r)];
        let quantiles = self
            .qs
            .iter()
            .map(|&q| {
                let (a, b, gamma) = position(n, q, self.method);
                lerp(at(a), at(b), gamma)
            })
            .collect();
        // The two middle values (one and the same for odd n), averaged as NumPy does.
        let median = if !self.with_median {
            f64::NAN
        } else if n % 2 == 1 {
            at(n / 2)
        } else {
            (at(n / 2 - 1) + at(n / 2)) / 2.0
        };
        (quantiles, median)
    }

    /// Every column's statistics: from the sampled selection on a tall matrix, else from the
    /// values gathered into column order.
    fn of_columns<T: Element>(&self, x: MatRef<'_, T>) -> Vec<(Vec<f64>, f64)> {
        let ranks = |n: usize| self.ranks(n);
        // Many ranks (a thousand quantiles) go straight to the gather, without a sample.
        if x.rows() >= SAMPLED_MIN_ROWS && ranks(x.rows()).len() <= SAMPLED_MAX_RANKS {
            if let Some(columns) = sampled_order_statistics(x, SAMPLE_ROWS, &ranks) {
                return columns
                    .iter()
                    .map(|(n, selected)| self.at_ranks(*n, selected))
                    .collect();
            }
        }
        self.of_gathered(x)
    }

    /// From the values gathered into column order, as 32-bit keys for float32 input.
    fn of_gathered<T: Element>(&self, x: MatRef<'_, T>) -> Vec<(Vec<f64>, f64)> {
        if T::as_f32s(&[]).is_some() {
            self.of_keys::<T, u32>(x)
        } else {
            self.of_keys::<T, u64>(x)
        }
    }

    fn of_keys<T: Element, K: SortKey>(&self, x: MatRef<'_, T>) -> Vec<(Vec<f64>, f64)> {
        per_column(x, K::of, |_, keys: &mut [K], scratch| {
            let n = keys.len();
            if n == 0 {
                return self.at_ranks(0, &[]);
            }
            let selected = order_statistics(keys, at_least(scratch, n), &self.ranks(n));
            self.at_ranks(n, &selected)
        })
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
    let wanted = Wanted {
        qs,
        method,
        with_median: false,
    };
    let columns: Vec<Vec<f64>> = wanted.of_columns(x).into_iter().map(|c| c.0).collect();
    Ok(by_quantile(&columns, qs.len()))
}

/// Median of every column, as `np.nanmedian`.
pub fn column_medians<T: Element>(x: MatRef<'_, T>) -> Vec<f64> {
    let wanted = Wanted {
        qs: &[],
        method: QuantileMethod::Linear,
        with_median: true,
    };
    wanted.of_columns(x).into_iter().map(|c| c.1).collect()
}

/// `column_quantiles` and `column_medians` from one selection (what `RobustScaler` needs).
pub fn column_quantiles_and_medians<T: Element>(
    x: MatRef<'_, T>,
    qs: &[f64],
    method: QuantileMethod,
) -> Result<(Mat<f64>, Vec<f64>)> {
    check_probabilities(qs)?;
    let wanted = Wanted {
        qs,
        method,
        with_median: true,
    };
    let (columns, medians): (Vec<_>, Vec<_>) = wanted.of_columns(x).into_iter().unzip();
    Ok((by_quantile(&columns, qs.len()), medians))
}

/// Most frequent non-NaN value of every column; ties go to the smallest value
/// (scikit-learn's `most_frequent`). `-0.0` and `0.0` count as one value.
pub fn column_modes<T: Element>(x: MatRef<'_, T>) -> Vec<f64> {
    // `+ 0.0` turns -0.0 into 0.0, so the two zeros are one value.
    per_column(
        x,
        |v| v + 0.0,
        |_, values, _| {
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
        },
    )
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
    fn sort_keys_order_as_total_cmp() {
        let values = [
            f64::NEG_INFINITY,
            -1e300,
            -1.5,
            -5e-324,
            -0.0,
            0.0,
            5e-324,
            1.0,
            1e300,
            f64::INFINITY,
        ];
        for a in values {
            assert_eq!(from_sort_key(sort_key(a)).to_bits(), a.to_bits());
            for b in values {
                assert_eq!(a.total_cmp(&b), sort_key(a).cmp(&sort_key(b)), "{a} {b}");
            }
        }
        // The 32-bit keys of float32 values (1e300 becomes infinity, 5e-324 zero).
        let narrow = values
            .map(|v| v as f32)
            .into_iter()
            .chain([-1e-45, 1e-45, -3.4e38]);
        let narrow: Vec<f32> = narrow.collect();
        for &a in &narrow {
            let key = <u32 as SortKey>::of(f64::from(a));
            assert_eq!(key.value().to_bits(), f64::from(a).to_bits());
            for &b in &narrow {
                assert_eq!(
                    a.total_cmp(&b),
                    key.cmp(&SortKey::of(f64::from(b))),
                    "{a} {b}"
                );
            }
        }
    }

    /// Columns that exercise every path of the selection: small, all in one bucket for
    /// several digits, ties, signed zeros and infinities, wide and narrow ranges.
    fn columns() -> Vec<Vec<f64>> {
        let hashed = |i: u64| (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 11) as f64 / 2f64.powi(53);
        vec![
            (0..1000).map(|i| ((i * 7919) % 1009) as f64).collect(),
            (0..50_000).map(|i| hashed(i) * 2.0 - 1.0).collect(),
            (0..50_000).map(|i| 50.0 + hashed(i) * 1e-9).collect(),
            (0..50_000).map(|i| (hashed(i) * 8.0).floor()).collect(),
            (0..30_000)
                .map(|i| match i % 7 {
                    0 => -0.0,
                    1 => 0.0,
                    2 => f64::INFINITY,
                    3 => f64::NEG_INFINITY,
                    _ => (hashed(i) - 0.5) * 1e300,
                })
                .collect(),
            vec![3.25; 5000],
        ]
    }

    #[test]
    fn order_statistics_match_a_full_sort() {
        for values in columns() {
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let n = values.len();
            let ranks: Vec<usize> = {
                let mut r: Vec<usize> = (0..n).step_by(n / 97 + 1).collect();
                r.extend([0, 1, n / 2, n - 2, n - 1]);
                r.sort_unstable();
                r.dedup();
                r
            };
            let mut keys: Vec<u64> = values.iter().map(|&v| sort_key(v)).collect();
            let mut scratch = vec![0; n];
            let selected = order_statistics(&mut keys, &mut scratch, &ranks);
            for (&r, v) in ranks.iter().zip(&selected) {
                assert_eq!(v.to_bits(), sorted[r].to_bits(), "rank {r} of {n}");
            }
            // The same values as float32, through 32-bit keys.
            let narrow: Vec<f64> = values.iter().map(|&v| f64::from(v as f32)).collect();
            let mut sorted = narrow.clone();
            sorted.sort_by(f64::total_cmp);
            let mut keys: Vec<u32> = narrow.iter().map(|&v| SortKey::of(v)).collect();
            let selected = order_statistics(&mut keys, &mut vec![0; n], &ranks);
            for (&r, v) in ranks.iter().zip(&selected) {
                assert_eq!(v.to_bits(), sorted[r].to_bits(), "float32 rank {r} of {n}");
            }
        }
    }

    #[test]
    fn a_wide_matrix_gives_what_each_column_gives_alone() {
        // Large enough for the parallel gather (column groups per thread), with NaN to skip.
        let (rows, m) = (20_000, 9);
        let data: Vec<f64> = (0..rows * m)
            .map(|i| match (i * 2_654_435_761) % 1_000_003 {
                h if h % 17 == 0 => f64::NAN,
                h => (h as f64 - 500_000.0) * (1 + i % m) as f64,
            })
            .collect();
        let qs = [0.0, 0.1, 0.25, 0.5, 0.9, 1.0];
        let x = MatRef::new(&data, rows, m).expect("shape");
        let (q, medians) =
            column_quantiles_and_medians(x, &qs, QuantileMethod::Linear).expect("kernel");
        for j in 0..m {
            let column: Vec<f64> = data.iter().skip(j).step_by(m).copied().collect();
            let one = MatRef::new(&column, rows, 1).expect("shape");
            let (q1, m1) =
                column_quantiles_and_medians(one, &qs, QuantileMethod::Linear).expect("kernel");
            for i in 0..qs.len() {
                assert_eq!(q.data[i * m + j].to_bits(), q1.data[i].to_bits(), "{j} {i}");
            }
            assert_eq!(medians[j].to_bits(), m1[0].to_bits(), "{j}");
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

    /// A `rows × columns.len()` row-major matrix of the given column makers.
    fn matrix(rows: usize, columns: &[&dyn Fn(usize) -> f64]) -> Vec<f64> {
        (0..rows)
            .flat_map(|i| columns.iter().map(move |c| c(i)))
            .collect()
    }

    fn hashed(i: usize) -> f64 {
        ((i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 11) as f64 / 2f64.powi(53)
    }

    /// Sample rows in the tests: 1,024 runs over 40,000 rows (a spacing of 39).
    const TEST_SAMPLE: usize = 16_384;

    /// The sampled selection agrees bit for bit with gathering and selecting, whenever it
    /// answers; `must_answer` says it should (the intervals are not defeated by ties).
    fn check_sampled<T: Element>(data: &[T], rows: usize, cols: usize, must_answer: bool) {
        let x = MatRef::new(data, rows, cols).expect("shape");
        let sets: [(&[f64], QuantileMethod, bool); 4] = [
            (&[0.25, 0.75], QuantileMethod::Linear, true),
            (
                &[0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
                QuantileMethod::AveragedInvertedCdf,
                false,
            ),
            (&[0.001, 0.5, 0.999], QuantileMethod::Linear, false),
            (&[], QuantileMethod::Linear, true),
        ];
        for (qs, method, with_median) in sets {
            let wanted = Wanted {
                qs,
                method,
                with_median,
            };
            let expected = wanted.of_gathered(x);
            let ranks = |n: usize| wanted.ranks(n);
            let Some(sampled) = sampled_order_statistics(x, TEST_SAMPLE, &ranks) else {
                assert!(!must_answer, "no answer for {qs:?}");
                continue;
            };
            for (j, ((n, selected), want)) in sampled.iter().zip(&expected).enumerate() {
                let got = wanted.at_ranks(*n, selected);
                let bits = |v: &[f64]| v.iter().map(|q| q.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got.0), bits(&want.0), "column {j}, {qs:?}");
                assert_eq!(got.1.to_bits(), want.1.to_bits(), "median of column {j}");
            }
            // And the public entry point, which falls back when the sample cannot answer.
            if !qs.is_empty() {
                let (q, medians) = column_quantiles_and_medians(x, qs, method).expect("kernel");
                for (j, want) in expected.iter().enumerate() {
                    for (i, w) in want.0.iter().enumerate() {
                        assert_eq!(q.data[i * cols + j].to_bits(), w.to_bits(), "{j} {i}");
                    }
                    let (_, median) = Wanted {
                        with_median: true,
                        ..wanted
                    }
                    .of_gathered(x)[j];
                    assert_eq!(medians[j].to_bits(), median.to_bits());
                }
            }
        }
    }

    #[test]
    fn sampled_selection_equals_the_gathered_one() {
        let rows = 40_000;
        // Widths of four columns (the vector path) and a tail of three (the scalar path).
        let columns: [&dyn Fn(usize) -> f64; 8] = [
            &|i| (hashed(i) - 0.5) * 1e4,
            // One value for a fifth of the rows, up to just past the median.
            &|i| match hashed(i) {
                h if (0.3..0.505).contains(&h) => 0.4,
                h => h,
            },
            &|i| {
                if i % 3 == 0 {
                    f64::NAN
                } else {
                    hashed(i) + 7.0
                }
            },
            &|i| -(hashed(i) * 1e-300),
            &|i| i as f64,
            &|i| match i % 5 {
                0 => f64::INFINITY,
                1 => f64::NEG_INFINITY,
                _ => hashed(i) - 0.5,
            },
            &|i| if hashed(i) < 0.5 { -0.0 } else { hashed(i) },
            // Periodic within a run of the sample.
            &|i| (i % 11) as f64,
        ];
        let data = matrix(rows, &columns);
        check_sampled(&data, rows, columns.len(), true);
        let narrow: Vec<f32> = data.iter().map(|&v| v as f32).collect();
        check_sampled(&narrow, rows, columns.len(), false);
    }

    #[test]
    fn sampled_selection_counts_ties_and_gives_way_to_the_gather() {
        let rows = 40_000;
        let columns: [&dyn Fn(usize) -> f64; 4] = [
            // One value: one-key intervals, counted and never kept.
            &|_| 3.25,
            // Eight values: the intervals hold whole values, one-key or not.
            &|i| (hashed(i) * 8.0).floor(),
            // Mostly zeros, as a count column is.
            &|i| {
                if hashed(i) < 0.9 {
                    0.0
                } else {
                    hashed(i) * 1e5
                }
            },
            &|i| hashed(i),
        ];
        check_sampled(&matrix(rows, &columns), rows, columns.len(), false);
        // A value held by the rows from 20% to just past the median: the median's interval
        // starts on it, and keeps it out as a one-key interval of its own.
        let tied = |i: usize| match hashed(i) {
            h if (0.2..0.505).contains(&h) => 0.4,
            h => h,
        };
        check_sampled(&matrix(rows, &[&tied]), rows, 1, true);
        // And one from just below the median to 80%: the interval ends on it.
        let tied = |i: usize| match hashed(i) {
            h if (0.495..0.8).contains(&h) => 0.6,
            h => h,
        };
        check_sampled(&matrix(rows, &[&tied]), rows, 1, true);
        // Periods longer than a run of the sample correlate its rows; two sorted halves.
        let columns: [&dyn Fn(usize) -> f64; 3] = [
            &|i| (i % 156) as f64,
            &|i| if i < 20_000 { i as f64 } else { -(i as f64) },
            &|i| if i % 2 == 0 { f64::NAN } else { hashed(i) },
        ];
        check_sampled(&matrix(rows, &columns), rows, columns.len(), false);
        // Too few non-NaN values to sample: no answer, and the gather answers.
        let columns: [&dyn Fn(usize) -> f64; 2] = [
            &|i| if i % 1000 == 0 { i as f64 } else { f64::NAN },
            &hashed,
        ];
        let data = matrix(rows, &columns);
        let x = MatRef::new(&data, rows, 2).expect("shape");
        let wanted = Wanted {
            qs: &[0.5],
            method: QuantileMethod::Linear,
            with_median: false,
        };
        assert!(sampled_order_statistics(x, TEST_SAMPLE, &|n| wanted.ranks(n)).is_none());
        check_sampled(&data, rows, 2, false);
    }

    #[test]
    fn tall_matrices_take_the_sampled_selection() {
        // Above SAMPLED_MIN_ROWS, through the public functions, against the gather.
        let rows = SAMPLED_MIN_ROWS + 1234;
        let columns: [&dyn Fn(usize) -> f64; 5] = [
            &|i| (hashed(i) - 0.5) * 1e4,
            &|i| if i % 7 == 0 { f64::NAN } else { hashed(i) },
            &|i| (hashed(i) * 100.0).floor(),
            &|i| -(i as f64),
            &|_| 1.0,
        ];
        let data = matrix(rows, &columns);
        let x = MatRef::new(&data, rows, 5).expect("shape");
        let wanted = Wanted {
            qs: &[0.25, 0.75],
            method: QuantileMethod::Linear,
            with_median: true,
        };
        assert!(sampled_order_statistics(x, SAMPLE_ROWS, &|n| wanted.ranks(n)).is_some());
        check_sampled(&data, rows, 5, false);
    }

    /// The AVX2 tally counts and keeps what the portable one does, key for key and in the same
    /// order, for every kind of interval layout.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_tally_equals_the_portable_one() {
        if !crate::simd::has_avx2_fma() {
            return;
        }
        let special = [
            f64::NAN,
            -f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            -1.0,
            0.5,
            0.75,
            2.0,
            5e-324,
        ];
        let k = sort_key;
        let iv = |lo: f64, hi: f64| Interval {
            lo: k(lo),
            hi: k(hi),
        };
        // Open at either end, as the sample leaves the extreme intervals.
        let (from_bottom, to_top) = (
            Interval { lo: 0, hi: k(-1.0) },
            Interval {
                lo: k(1.5),
                hi: u64::MAX - 1,
            },
        );
        let inf = f64::INFINITY;
        let layouts: [&[Interval]; 6] = [
            &[iv(-1.0, 0.0)],
            &[from_bottom, iv(0.25, 0.75), to_top],
            // One-key intervals, a spare slot and an empty one.
            &[iv(-0.0, -0.0), iv(0.5, 2.0), iv(inf, inf), NO_INTERVAL],
            &[iv(-1.0, -0.5), iv(0.0, 0.0), iv(0.5, 0.5), iv(0.6, 0.8)],
            // Five and nine slots: the general build and the portable fallback.
            &[
                iv(-1.0, -1.0),
                iv(-0.5, -0.1),
                iv(0.0, 0.1),
                iv(0.5, 0.5),
                iv(0.7, 1.0),
            ],
            &[iv(-0.25, 0.25); 9],
        ];
        for cols in [1, 4, 9] {
            let rows = 1000;
            let data: Vec<f64> = (0..rows * cols)
                .map(|i| match i % 7 {
                    0 => special[(i / 7) % special.len()],
                    _ => (hashed(i) - 0.4) * 3.0,
                })
                .collect();
            for layout in layouts {
                for extremes in [false, true] {
                    let slots = layout.len();
                    let bounds: Vec<Interval> = (0..cols).flat_map(|_| layout.to_vec()).collect();
                    check_tally(&data, cols, &bounds, slots, extremes);
                    let narrow: Vec<f32> = data.iter().map(|&v| v as f32).collect();
                    check_tally(&narrow, cols, &bounds, slots, extremes);
                }
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    fn check_tally<T: Element>(
        data: &[T],
        cols: usize,
        bounds: &[Interval],
        slots: usize,
        extremes: bool,
    ) {
        let tally = |avx2: bool| {
            let mut t = Tally::new(cols, slots, extremes);
            for kept in &mut t.kept {
                kept.reserve(data.len() / cols);
            }
            if avx2 {
                // SAFETY: the CPU has AVX2, and every column has room for a key per row.
                unsafe { avx2::add_rows(&mut t, data, bounds, slots) };
            } else {
                t.add_columns(data, bounds, slots, 0);
            }
            t
        };
        let (fast, portable) = (tally(true), tally(false));
        let what = format!("{cols} columns, {slots} slots, extremes {extremes}");
        assert_eq!(fast.nan, portable.nan, "{what}");
        assert_eq!(fast.below, portable.below, "{what}");
        assert_eq!(fast.inside, portable.inside, "{what}");
        assert_eq!(fast.kept, portable.kept, "{what}");
        if extremes {
            assert_eq!(fast.min, portable.min, "{what}");
            assert_eq!(fast.max, portable.max, "{what}");
        }
    }
}
