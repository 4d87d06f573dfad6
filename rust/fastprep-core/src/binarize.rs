//! Thresholding (scikit-learn's `Binarizer`).
//!
//! Policy: `x > threshold` gives 1 and anything else 0, except NaN, which stays NaN rather than
//! silently becoming 0. (scikit-learn refuses NaN here.)

use crate::matrix::{Element, Mat, MatRef};

pub fn binarize<T: Element>(x: MatRef<'_, T>, threshold: f64) -> Mat<T> {
    let data = x
        .data()
        .iter()
        .map(|&v| {
            let v = v.to_f64();
            T::from_f64(if v.is_nan() {
                f64::NAN
            } else if v > threshold {
                1.0
            } else {
                0.0
            })
        })
        .collect();
    Mat {
        data,
        rows: x.rows(),
        cols: x.cols(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_threshold_keeps_nan() {
        let data = [0.5f32, 0.0, f32::NAN, -1.0];
        let y = binarize(MatRef::new(&data, 2, 2).expect("shape"), 0.0);
        assert_eq!(y.data[..2], [1.0, 0.0]);
        assert!(y.data[2].is_nan());
        assert_eq!(y.data[3], 0.0);
    }
}
