//! Per-column affine maps: every scaler's transform and inverse is one of these two.
//!
//! The operation order is that of scikit-learn (`X -= a; X /= b` and `X *= a; X += b`), so the
//! result is bit-identical to it for the same fitted state. NaN and infinities follow IEEE
//! arithmetic: NaN stays NaN. Rust never fuses `x * a + b` into an FMA, and neither does NumPy.

use crate::error::{Error, Result};
use crate::matrix::{Element, MatRef};
use crate::sparse::{CsrIndex, CsrRef};

/// `(x - sub[j]) / div[j]` for every cell of column `j`.
pub fn sub_div<T: Element>(
    x: MatRef<'_, T>,
    sub: &[f64],
    div: &[f64],
    out: &mut [T],
) -> Result<()> {
    x.expect_params(&[("sub", sub.len()), ("div", div.len())])?;
    let m = x.cols();
    x.map_rows_into(out, m, |input, output| {
        for (row, out) in input.chunks_exact(m).zip(output.chunks_exact_mut(m)) {
            // Equal-length slices let the compiler drop bounds checks and vectorise.
            for (((o, &v), &s), &d) in out.iter_mut().zip(row).zip(&sub[..m]).zip(&div[..m]) {
                *o = T::from_f64((v.to_f64() - s) / d);
            }
        }
    })
}

/// `sub_div` of a CSR matrix's stored values: `(v - sub[j]) / div[j]` for the value `v` of
/// column `j`, into `out` (one value per stored value); `sub_div`'s bits for those values.
/// Implicit zeros stay zero only when `sub` is zero where they lie: the caller's to know.
pub fn sub_div_csr<T: Element, I: CsrIndex>(
    x: CsrRef<'_, T, I>,
    sub: &[f64],
    div: &[f64],
    out: &mut [T],
) -> Result<()> {
    if sub.len() != x.cols() || div.len() != x.cols() {
        return Err(Error::Shape(format!(
            "sub and div need {} values, got {} and {}",
            x.cols(),
            sub.len(),
            div.len()
        )));
    }
    if out.len() != x.data().len() {
        return Err(Error::Shape(
            "output length differs from the stored values".into(),
        ));
    }
    for ((o, &v), j) in out.iter_mut().zip(x.data()).zip(x.columns()) {
        *o = T::from_f64((v.to_f64() - sub[j]) / div[j]);
    }
    Ok(())
}

/// `x * mul[j] + add[j]`, then clipped to `[lo, hi]` when `clip` is given (NaN stays NaN).
pub fn mul_add<T: Element>(
    x: MatRef<'_, T>,
    mul: &[f64],
    add: &[f64],
    clip: Option<(f64, f64)>,
    out: &mut [T],
) -> Result<()> {
    x.expect_params(&[("mul", mul.len()), ("add", add.len())])?;
    let m = x.cols();
    let (lo, hi) = clip.unwrap_or((f64::NEG_INFINITY, f64::INFINITY));
    x.map_rows_into(out, m, |input, output| {
        for (row, out) in input.chunks_exact(m).zip(output.chunks_exact_mut(m)) {
            for (((o, &v), &a), &b) in out.iter_mut().zip(row).zip(&mul[..m]).zip(&add[..m]) {
                let y = v.to_f64() * a + b;
                // As np.clip: NaN compares false both ways and passes through.
                let y = if y < lo { lo } else { y };
                *o = T::from_f64(if y > hi { hi } else { y });
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::matrix::Mat;

    #[test]
    fn sub_div_then_mul_add_round_trips() {
        let data = [1.0f64, 10.0, 3.0, 30.0];
        let x = MatRef::new(&data, 2, 2).expect("shape");
        let y = Mat::build(2, 2, |o| sub_div(x, &[2.0, 20.0], &[1.0, 10.0], o)).expect("kernel");
        assert_eq!(y.data, vec![-1.0, -1.0, 1.0, 1.0]);
        let y = MatRef::new(&y.data, 2, 2).expect("shape");
        let back =
            Mat::build(2, 2, |o| mul_add(y, &[1.0, 10.0], &[2.0, 20.0], None, o)).expect("kernel");
        assert_eq!(back.data, data.to_vec());
    }

    #[test]
    fn clip_keeps_nan() {
        let data = [f32::NAN, 5.0, -5.0];
        let x = MatRef::new(&data, 3, 1).expect("shape");
        let y =
            Mat::build(3, 1, |o| mul_add(x, &[1.0], &[0.0], Some((-1.0, 1.0)), o)).expect("kernel");
        assert!(y.data[0].is_nan());
        assert_eq!(&y.data[1..], &[1.0, -1.0]);
    }

    #[test]
    fn wrong_parameter_length_is_an_error() {
        let data = [1.0f64, 2.0];
        let x = MatRef::new(&data, 1, 2).expect("shape");
        let mut out = [0.0; 2];
        let short = sub_div(x, &[0.0], &[1.0, 1.0], &mut out);
        assert!(matches!(short, Err(Error::Shape(_))));
        let small_output = sub_div(x, &[0.0, 0.0], &[1.0, 1.0], &mut out[..1]);
        assert!(matches!(small_output, Err(Error::Shape(_))));
    }
}
