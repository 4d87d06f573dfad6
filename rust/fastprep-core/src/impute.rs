//! Missing-value filling (scikit-learn's `SimpleImputer`, `missing_values=np.nan`).
//!
//! The output holds the kept columns, with NaN replaced by that column's fill value, followed by
//! one 0/1 indicator column per entry of `indicator` (1 where the input was NaN).

use crate::error::{Error, Result};
use crate::matrix::{Element, Mat, MatRef};

/// Keeps `columns` (filling NaN with `fill`) and appends NaN indicators for `indicator`.
pub fn impute<T: Element>(
    x: MatRef<'_, T>,
    columns: &[usize],
    fill: &[f64],
    indicator: &[usize],
) -> Result<Mat<T>> {
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
    let width = columns.len() + indicator.len();
    let mut data = Vec::with_capacity(x.rows() * width);
    for row in x.row_iter() {
        data.extend(columns.iter().zip(&fill).map(|(&c, &f)| {
            let v = row[c];
            if v.to_f64().is_nan() {
                f
            } else {
                v
            }
        }));
        data.extend(
            indicator
                .iter()
                .map(|&c| T::from_f64(row[c].to_f64().is_nan() as u8 as f64)),
        );
    }
    Ok(Mat {
        data,
        rows: x.rows(),
        cols: width,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_drops_and_indicates() {
        let data = [1.0f64, f64::NAN, 7.0, f64::NAN, 2.0, 8.0];
        let x = MatRef::new(&data, 2, 3).expect("shape");
        let y = impute(x, &[0, 1], &[-1.0, -2.0], &[0, 1]).expect("kernel");
        assert_eq!(y.shape(), (2, 4));
        assert_eq!(y.data, vec![1.0, -2.0, 0.0, 1.0, -1.0, 2.0, 1.0, 0.0]);
        assert!(impute(x, &[3], &[0.0], &[]).is_err());
    }
}
