//! Per-column affine maps: every scaler's transform and inverse is one of these two.
//!
//! The operation order is that of scikit-learn (`X -= a; X /= b` and `X *= a; X += b`), so the
//! result is bit-identical to it for the same fitted state. NaN and infinities follow IEEE
//! arithmetic: NaN stays NaN. Rust never fuses `x * a + b` into an FMA, and neither does NumPy.

use crate::error::Result;
use crate::matrix::{Element, Mat, MatRef};

/// `(x - sub[j]) / div[j]` for every cell of column `j`.
pub fn sub_div<T: Element>(x: MatRef<'_, T>, sub: &[f64], div: &[f64]) -> Result<Mat<T>> {
    x.expect_params(&[("sub", sub.len()), ("div", div.len())])?;
    let mut data = Vec::with_capacity(x.data().len());
    for row in x.row_iter() {
        data.extend(
            row.iter()
                .zip(sub)
                .zip(div)
                .map(|((&v, &s), &d)| T::from_f64((v.to_f64() - s) / d)),
        );
    }
    Ok(Mat {
        data,
        rows: x.rows(),
        cols: x.cols(),
    })
}

/// `x * mul[j] + add[j]`, then clipped to `[lo, hi]` when `clip` is given (NaN stays NaN).
pub fn mul_add<T: Element>(
    x: MatRef<'_, T>,
    mul: &[f64],
    add: &[f64],
    clip: Option<(f64, f64)>,
) -> Result<Mat<T>> {
    x.expect_params(&[("mul", mul.len()), ("add", add.len())])?;
    let mut data = Vec::with_capacity(x.data().len());
    let (lo, hi) = clip.unwrap_or((f64::NEG_INFINITY, f64::INFINITY));
    for row in x.row_iter() {
        data.extend(row.iter().zip(mul).zip(add).map(|((&v, &a), &b)| {
            let y = v.to_f64() * a + b;
            // Same as np.clip: NaN compares false both ways and passes through.
            let y = if y < lo { lo } else { y };
            T::from_f64(if y > hi { hi } else { y })
        }));
    }
    Ok(Mat {
        data,
        rows: x.rows(),
        cols: x.cols(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn sub_div_then_mul_add_round_trips() {
        let data = [1.0f64, 10.0, 3.0, 30.0];
        let x = MatRef::new(&data, 2, 2).expect("shape");
        let y = sub_div(x, &[2.0, 20.0], &[1.0, 10.0]).expect("kernel");
        assert_eq!(y.data, vec![-1.0, -1.0, 1.0, 1.0]);
        let back = mul_add(
            MatRef::new(&y.data, 2, 2).expect("shape"),
            &[1.0, 10.0],
            &[2.0, 20.0],
            None,
        )
        .expect("kernel");
        assert_eq!(back.data, data.to_vec());
    }

    #[test]
    fn clip_keeps_nan() {
        let data = [f32::NAN, 5.0, -5.0];
        let x = MatRef::new(&data, 3, 1).expect("shape");
        let y = mul_add(x, &[1.0], &[0.0], Some((-1.0, 1.0))).expect("kernel");
        assert!(y.data[0].is_nan());
        assert_eq!(&y.data[1..], &[1.0, -1.0]);
    }

    #[test]
    fn wrong_parameter_length_is_an_error() {
        let data = [1.0f64, 2.0];
        let x = MatRef::new(&data, 1, 2).expect("shape");
        assert!(matches!(
            sub_div(x, &[0.0], &[1.0, 1.0]),
            Err(Error::Shape(_))
        ));
    }
}
