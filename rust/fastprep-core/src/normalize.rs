//! Row normalisation (scikit-learn's `Normalizer`).
//!
//! Policy: the row norm is accumulated left to right over the columns, in `f64`. A row whose norm
//! is below `10 * f64::EPSILON` is returned unchanged (scikit-learn's `_handle_zeros_in_scale`). NaN anywhere in a row makes its norm NaN, so
//! the whole row becomes NaN: NaN is kept, never hidden. (scikit-learn refuses NaN here.)

use crate::error::{Error, Result};
use crate::matrix::{Element, MatRef};
use crate::sparse::{CsrIndex, CsrRef};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Norm {
    L1,
    L2,
    Max,
}

impl Norm {
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "l1" => Ok(Norm::L1),
            "l2" => Ok(Norm::L2),
            "max" => Ok(Norm::Max),
            other => Err(Error::Parameter(format!(
                "norm must be 'l1', 'l2' or 'max', got {other:?}"
            ))),
        }
    }
}

/// NaN-propagating maximum, as `np.maximum` (f64::max would drop the NaN).
#[inline(always)]
fn max_propagate_nan(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if b > a {
        b
    } else {
        a
    }
}

/// The divisor of a row (1 for a row whose norm is below `10 * EPSILON`); shared with the plan.
pub fn row_norm<T: Element>(row: &[T], norm: Norm) -> f64 {
    let n = match norm {
        Norm::L1 => row.iter().fold(0.0, |acc, v| acc + v.to_f64().abs()),
        Norm::L2 => row
            .iter()
            .fold(0.0, |acc, v| acc + v.to_f64() * v.to_f64())
            .sqrt(),
        Norm::Max => row
            .iter()
            .fold(0.0, |acc, v| max_propagate_nan(acc, v.to_f64().abs())),
    };
    if n < 10.0 * f64::EPSILON {
        1.0
    } else {
        n
    }
}

/// Divides every row by its l1, l2 or max norm.
pub fn normalize<T: Element>(x: MatRef<'_, T>, norm: Norm, out: &mut [T]) -> Result<()> {
    let m = x.cols();
    x.map_rows_into(out, m, |input, output| {
        for (row, out) in input.chunks_exact(m).zip(output.chunks_exact_mut(m)) {
            let n = row_norm(row, norm);
            for (o, &v) in out.iter_mut().zip(row) {
                *o = T::from_f64(v.to_f64() / n);
            }
        }
    })
}

/// `normalize` of a CSR matrix: each row's stored values divided by the row's norm, into
/// `out` (one value per stored value). The implicit zeros add nothing to a norm, so with a
/// row's column indices in ascending order the results are `normalize`'s bits.
pub fn normalize_csr<T: Element, I: CsrIndex>(
    x: CsrRef<'_, T, I>,
    norm: Norm,
    out: &mut [T],
) -> Result<()> {
    let data = x.data();
    if out.len() != data.len() {
        return Err(Error::Shape(
            "output length differs from the stored values".into(),
        ));
    }
    for r in 0..x.rows() {
        let range = x.row_range(r);
        let n = row_norm(&data[range.clone()], norm);
        for (o, &v) in out[range.clone()].iter_mut().zip(&data[range]) {
            *o = T::from_f64(v.to_f64() / n);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Mat;

    fn run(x: MatRef<'_, f64>, norm: Norm) -> Vec<f64> {
        Mat::build(x.rows(), x.cols(), |o| normalize(x, norm, o))
            .expect("kernel")
            .data
    }

    #[test]
    fn norms() {
        let data = [3.0f64, -4.0, 0.0, 0.0];
        let x = MatRef::new(&data, 2, 2).expect("shape");
        assert_eq!(run(x, Norm::L2), vec![0.6, -0.8, 0.0, 0.0]);
        assert_eq!(run(x, Norm::L1), vec![3.0 / 7.0, -4.0 / 7.0, 0.0, 0.0]);
        assert_eq!(run(x, Norm::Max), vec![0.75, -1.0, 0.0, 0.0]);
        assert!(Norm::parse("l3").is_err());
    }

    #[test]
    fn nan_poisons_its_row_only() {
        let data = [f64::NAN, 1.0, 2.0, 0.0];
        let y = run(MatRef::new(&data, 2, 2).expect("shape"), Norm::Max);
        assert!(y[0].is_nan() && y[1].is_nan());
        assert_eq!(&y[2..], &[1.0, 0.0]);
    }
}
