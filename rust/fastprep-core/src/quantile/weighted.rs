//! Weighted quantiles as scikit-learn's `_weighted_percentile` computes them: NumPy's
//! `inverted_cdf`, or `averaged_inverted_cdf` with `average`, over the weights' running sum.
//!
//! scikit-learn casts the weights and the levels to the values' dtype and sums in it, so a
//! float32 column is computed in float32 (each operation rounded to it) and a float64 one in
//! float64. NaN values are left out with their weights: the result is scikit-learn's on the
//! rows whose value is not NaN. A column without a value of positive weight gives NaN.

use std::cmp::Ordering;

use crate::error::{Error, Result};
use crate::matrix::{Element, Mat, MatRef};
use crate::parallel::{map_items, max_threads};

use super::by_quantile;

/// Arithmetic in the precision of the values.
#[derive(Clone, Copy)]
struct Precision {
    single: bool,
}

impl Precision {
    fn of<T: Element>() -> Self {
        Self {
            single: T::as_f32s(&[]).is_some(),
        }
    }

    /// A result of one operation on values of this precision, rounded to it (an `f32`
    /// operation done in `f64` and rounded once gives the `f32` operation's result).
    #[inline]
    fn round(self, v: f64) -> f64 {
        if self.single {
            v as f32 as f64
        } else {
            v
        }
    }

    fn eps(self) -> f64 {
        if self.single {
            f32::EPSILON as f64
        } else {
            f64::EPSILON
        }
    }

    /// `np.nextafter(0, 1)`: the smallest positive (subnormal) number.
    fn tiny(self) -> f64 {
        if self.single {
            f32::from_bits(1) as f64
        } else {
            f64::from_bits(1)
        }
    }
}

/// Weighted percentiles `percents` (in [0, 100]) of every column, row `i` weighing `w[i]`
/// (finite, >= 0): a `percents.len() × cols` matrix.
pub fn weighted_column_quantiles<T: Element>(
    x: MatRef<'_, T>,
    w: &[f64],
    percents: &[f64],
    average: bool,
) -> Result<Mat<f64>> {
    if w.len() != x.rows() {
        let message = format!("{} weights for {} rows", w.len(), x.rows());
        return Err(Error::Shape(message));
    }
    if let Some(p) = percents.iter().find(|p| !(0.0..=100.0).contains(*p)) {
        return Err(Error::Parameter(format!(
            "percentiles must be in [0, 100], got {p}"
        )));
    }
    if w.iter().any(|wi| !(wi.is_finite() && *wi >= 0.0)) {
        return Err(Error::Parameter(
            "weights must be finite and >= 0".to_string(),
        ));
    }
    let precision = Precision::of::<T>();
    let parallel = max_threads() > 1 && x.cols() > 1 && x.rows() >= 4096;
    let columns = map_items((0..x.cols()).collect(), parallel, |j| {
        column(x, w, j, percents, average, precision)
    });
    Ok(by_quantile(&columns, percents.len()))
}

fn column<T: Element>(
    x: MatRef<'_, T>,
    w: &[f64],
    j: usize,
    percents: &[f64],
    average: bool,
    p: Precision,
) -> Vec<f64> {
    let m = x.cols();
    // (value, weight) of the non-NaN values, sorted by value; ties keep row order.
    let mut pairs: Vec<(f64, f64)> = x
        .data()
        .iter()
        .skip(j)
        .step_by(m.max(1))
        .zip(w)
        .map(|(v, wi)| (v.to_f64(), p.round(*wi)))
        .filter(|(v, _)| !v.is_nan())
        .collect();
    pairs.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(Ordering::Equal));
    let mut cdf = Vec::with_capacity(pairs.len());
    let mut running = 0.0;
    for &(_, wi) in &pairs {
        running = p.round(running + wi);
        cdf.push(running);
    }
    if running <= 0.0 {
        return vec![f64::NAN; percents.len()];
    }
    let last = pairs.len() - 1;
    let level = |percent: f64| {
        let mut rank = p.round(p.round(p.round(percent) / 100.0) * running);
        if rank == 0.0 {
            // Leading zero weights do not count at the 0th percentile.
            rank = p.tiny();
        }
        // The first position whose running weight reaches the rank.
        let at = cdf.partition_point(|&c| c < rank).min(last);
        let value = pairs[at].0;
        if !average || p.round(cdf[at] - rank) > p.eps() {
            return value;
        }
        // On a step of the CDF: the mean with the next value of positive weight.
        let mut next = (at + 1).min(last);
        if pairs[next].1 == 0.0 {
            let after = cdf.partition_point(|&c| c <= cdf[at]);
            next = if after > last { at } else { after };
        }
        p.round(p.round(value + pairs[next].0) / 2.0)
    };
    percents.iter().map(|&q| level(q)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_weights_are_numpy_methods() {
        let data = [4.0f64, 1.0, 3.0, f64::NAN, 2.0];
        let x = MatRef::new(&data, 5, 1).expect("shape");
        let w = [1.0; 5];
        let q = weighted_column_quantiles(x, &w, &[0.0, 30.0, 50.0, 100.0], true).expect("q");
        assert_eq!(q.data, vec![1.0, 2.0, 2.5, 4.0]);
        let q = weighted_column_quantiles(x, &w, &[0.0, 30.0, 50.0, 100.0], false).expect("q");
        assert_eq!(q.data, vec![1.0, 2.0, 2.0, 4.0]);
    }

    #[test]
    fn weights_move_the_quantiles_and_zero_weights_do_not_count() {
        let data = [1.0f64, 2.0, 3.0, 100.0];
        let x = MatRef::new(&data, 4, 1).expect("shape");
        let q = weighted_column_quantiles(x, &[1.0, 1.0, 2.0, 0.0], &[0.0, 50.0, 100.0], true)
            .expect("q");
        assert_eq!(q.data, vec![1.0, 2.5, 3.0]);
    }

    #[test]
    fn bad_input_is_an_error_and_no_weight_is_nan() {
        let data = [1.0f64, 2.0];
        let x = MatRef::new(&data, 2, 1).expect("shape");
        assert!(weighted_column_quantiles(x, &[1.0], &[50.0], true).is_err());
        assert!(weighted_column_quantiles(x, &[1.0, -1.0], &[50.0], true).is_err());
        assert!(weighted_column_quantiles(x, &[1.0, 1.0], &[101.0], true).is_err());
        let q = weighted_column_quantiles(x, &[0.0, 0.0], &[50.0], true).expect("q");
        assert!(q.data[0].is_nan());
    }
}
