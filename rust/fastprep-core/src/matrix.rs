//! Row-major matrix views in, owned matrices out.

use crate::error::{Error, Result};

/// The element types a kernel accepts. Kernels compute in `f64` and round once on output.
pub trait Element: Copy + Send + Sync + 'static {
    const ZERO: Self;
    fn to_f64(self) -> f64;
    fn from_f64(v: f64) -> Self;
    /// Four values from `p` widened to `f64` lanes, for the AVX2 kernels (see `simd`).
    ///
    /// # Safety
    /// `p` points at four readable values and the CPU has AVX2.
    #[cfg(target_arch = "x86_64")]
    unsafe fn load4(p: *const Self) -> std::arch::x86_64::__m256d;
    /// The values as `f32` if they are (for kernels with a float32 build of their own).
    fn as_f32s(values: &[Self]) -> Option<&[f32]> {
        let _ = values;
        None
    }
    /// The values as `f64` if they are.
    fn as_f64s(values: &[Self]) -> Option<&[f64]> {
        let _ = values;
        None
    }
}

impl Element for f64 {
    const ZERO: Self = 0.0;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v
    }
    #[cfg(target_arch = "x86_64")]
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn load4(p: *const Self) -> std::arch::x86_64::__m256d {
        std::arch::x86_64::_mm256_loadu_pd(p)
    }
    fn as_f64s(values: &[Self]) -> Option<&[f64]> {
        Some(values)
    }
}

impl Element for f32 {
    const ZERO: Self = 0.0;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[cfg(target_arch = "x86_64")]
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn load4(p: *const Self) -> std::arch::x86_64::__m256d {
        use std::arch::x86_64::{_mm256_cvtps_pd, _mm_loadu_ps};
        _mm256_cvtps_pd(_mm_loadu_ps(p))
    }
    fn as_f32s(values: &[Self]) -> Option<&[f32]> {
        Some(values)
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

impl<'a, T: Element> MatRef<'a, T> {
    /// Fills `out`, a `rows × out_cols` row-major buffer, by row blocks:
    /// `f(input_rows, output_rows)`, on several threads for large inputs (see `parallel`).
    /// `f` must write every cell of its output block: `out` may arrive uninitialised.
    pub fn map_rows_into<U: Element>(
        &self,
        out: &mut [U],
        out_cols: usize,
        f: impl Fn(&[T], &mut [U]) + Sync,
    ) -> Result<()> {
        if Some(out.len()) != self.rows.checked_mul(out_cols) {
            return Err(Error::Shape(format!(
                "the output buffer holds {} values, expected {} x {out_cols}",
                out.len(),
                self.rows
            )));
        }
        crate::parallel::for_row_blocks(self.data, self.cols, out, out_cols, f);
        Ok(())
    }
}

/// An owned, C-contiguous matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Mat<T> {
    pub data: Vec<T>,
    pub rows: usize,
    pub cols: usize,
}

impl<T: Element> Mat<T> {
    /// Allocates a `rows × cols` matrix and lets `fill` write it: how a Rust caller runs a
    /// kernel (they all write into a caller-provided buffer, so bindings can hand them one).
    pub fn build(
        rows: usize,
        cols: usize,
        fill: impl FnOnce(&mut [T]) -> Result<()>,
    ) -> Result<Self> {
        let mut data = vec![T::ZERO; rows * cols];
        fill(&mut data)?;
        Ok(Mat { data, rows, cols })
    }

    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }
}
