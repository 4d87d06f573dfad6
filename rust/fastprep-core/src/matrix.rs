//! Row-major matrix views in, owned matrices out.

use crate::error::{Error, Result};

/// The element types a kernel accepts. Kernels compute in `f64` and round once on output.
pub trait Element: Copy + Send + Sync + 'static {
    fn to_f64(self) -> f64;
    fn from_f64(v: f64) -> Self;
}

impl Element for f64 {
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v
    }
}

impl Element for f32 {
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

/// A borrowed, C-contiguous `rows × cols` matrix.
#[derive(Debug, Clone, Copy)]
pub struct MatRef<'a, T> {
    data: &'a [T],
    rows: usize,
    cols: usize,
}

impl<'a, T: Copy> MatRef<'a, T> {
    /// Checks that `data` holds exactly `rows * cols` elements.
    pub fn new(data: &'a [T], rows: usize, cols: usize) -> Result<Self> {
        match rows.checked_mul(cols) {
            Some(n) if n == data.len() => Ok(Self { data, rows, cols }),
            _ => Err(Error::Shape(format!(
                "a buffer of {} values cannot be a {rows} x {cols} matrix",
                data.len()
            ))),
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    pub fn data(&self) -> &'a [T] {
        self.data
    }

    /// Iterates over rows as slices of length `cols`.
    pub fn row_iter(&self) -> impl Iterator<Item = &'a [T]> + 'a {
        // `chunks_exact(0)` panics; a matrix with no columns has rows of nothing.
        let cols = self.cols.max(1);
        let rows = if self.cols == 0 { 0 } else { self.rows };
        self.data.chunks_exact(cols).take(rows)
    }

    /// Fails unless every per-column parameter vector has one entry per column.
    pub fn expect_params(&self, params: &[(&str, usize)]) -> Result<()> {
        for (name, len) in params {
            if *len != self.cols {
                return Err(Error::Shape(format!(
                    "{name} has {len} values but the input has {} columns",
                    self.cols
                )));
            }
        }
        Ok(())
    }
}

/// An owned, C-contiguous matrix: what every kernel returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Mat<T> {
    pub data: Vec<T>,
    pub rows: usize,
    pub cols: usize,
}

impl<T> Mat<T> {
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }
}
