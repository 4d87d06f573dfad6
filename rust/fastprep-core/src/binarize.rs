//! Thresholding (scikit-learn's `Binarizer`).
//!
//! Policy: `x > threshold` gives 1 and anything else 0, except NaN, which stays NaN rather than
//! silently becoming 0. (scikit-learn refuses NaN here.)

use crate::error::Result;
use crate::matrix::{Element, MatRef};

/// One value: 1 above the threshold, 0 otherwise, NaN kept (shared with the compiled plan).
#[inline]
pub fn binarize_value(v: f64, threshold: f64) -> f64 {
    if v.is_nan() {
        f64::NAN
    } else if v > threshold {
        1.0
    } else {
        0.0
    }
}

pub fn binarize<T: Element>(x: MatRef<'_, T>, threshold: f64, out: &mut [T]) -> Result<()> {
    x.map_rows_into(out, x.cols(), |input, output| {
        for (o, &v) in output.iter_mut().zip(input) {
            *o = T::from_f64(binarize_value(v.to_f64(), threshold));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Mat;

    #[test]
    fn strict_threshold_keeps_nan() {
        let data = [0.5f32, 0.0, f32::NAN, -1.0];
        let x = MatRef::new(&data, 2, 2).expect("shape");
        let y = Mat::build(2, 2, |o| binarize(x, 0.0, o)).expect("kernel");
        assert_eq!(y.data[..2], [1.0, 0.0]);
        assert!(y.data[2].is_nan());
        assert_eq!(y.data[3], 0.0);
    }
}
