//! Missing-value filling (scikit-learn's `SimpleImputer`, `missing_values=np.nan`).
//!
//! The output holds the kept columns, with NaN replaced by that column's fill value, followed by
//! one 0/1 indicator column per entry of `indicator` (1 where the input was NaN).

use crate::error::{Error, Result};
use crate::matrix::{Element, MatRef};
use crate::sparse::{CsrIndex, CsrRef};

/// Keeps `columns` (filling NaN with `fill`) and appends NaN indicators for `indicator`.
pub fn impute<T: Element>(
    x: MatRef<'_, T>,
    columns: &[usize],
    fill: &[f64],
    indicator: &[usize],
    out: &mut [T],
) -> Result<()> {
    if columns.len() != fill.len() {
        return Err(Error::Shape(format!(
            "{} kept columns but {} fill values",
            columns.len(),
            fill.len()
        )));
    }
    if let Some(&bad) = columns.iter().chain(indicator).find(|&&c| c >= x.cols()) {
        return Err(Error::Shape(format!(
            "column index {bad} is out of range for an input with {} columns",
            x.cols()
        )));
    }
    let fill: Vec<T> = fill.iter().map(|&f| T::from_f64(f)).collect();
    let (m, width) = (x.cols(), columns.len() + indicator.len());
    x.map_rows_into(out, width, |input, output| {
        for (row, out) in input
            .chunks_exact(m.max(1))
            .zip(output.chunks_exact_mut(width.max(1)))
        {
            let (kept, flags) = out.split_at_mut(columns.len());
            for ((o, &c), &f) in kept.iter_mut().zip(columns).zip(&fill) {
                let v = row[c];
                *o = if v.to_f64().is_nan() { f } else { v };
            }
            for (o, &c) in flags.iter_mut().zip(indicator) {
                *o = T::from_f64(row[c].to_f64().is_nan() as u8 as f64);
            }
        }
    })
}

/// The stored values of a CSR matrix with each NaN of column `j` replaced by `fill[j]`, in
/// `out` (the implicit zeros are values, not missing: they stay).
pub fn fill_csr<T: Element, I: CsrIndex>(
    x: CsrRef<'_, T, I>,
    fill: &[f64],
    out: &mut [T],
) -> Result<()> {
    if fill.len() != x.cols() {
        return Err(Error::Shape(format!(
            "fill needs {} values, got {}",
            x.cols(),
            fill.len()
        )));
    }
    if out.len() != x.data().len() {
        return Err(Error::Shape(
            "output length differs from the stored values".into(),
        ));
    }
    for ((o, &v), j) in out.iter_mut().zip(x.data()).zip(x.columns()) {
        *o = if v.to_f64().is_nan() {
            T::from_f64(fill[j])
        } else {
            v
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Mat;

    #[test]
    fn fills_drops_and_indicates() {
        let data = [1.0f64, f64::NAN, 7.0, f64::NAN, 2.0, 8.0];
        let x = MatRef::new(&data, 2, 3).expect("shape");
        let y =
            Mat::build(2, 4, |o| impute(x, &[0, 1], &[-1.0, -2.0], &[0, 1], o)).expect("kernel");
        assert_eq!(y.data, vec![1.0, -2.0, 0.0, 1.0, -1.0, 2.0, 1.0, 0.0]);
        assert!(impute(x, &[3], &[0.0], &[], &mut [0.0; 2]).is_err());
    }
}
