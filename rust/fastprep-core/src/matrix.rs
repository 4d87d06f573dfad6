//! Row-major matrix views in, owned matrices out.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::memory::zeroed;
use crate::parallel::{max_threads, PARALLEL_MIN_CELLS};

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
        // Rows of no cells in or out: nothing to compute, and no row to cut the data into.
        if out_cols == 0 {
            return Ok(());
        }
        if self.cols == 0 {
            return Err(Error::Shape(format!(
                "{out_cols} output columns from an input of no columns"
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

/// `f(j, column, scratch)` for every column `j`'s non-NaN values (in row order) converted by `convert`,
/// columns in parallel; `scratch` is a buffer kept across the columns a thread takes, empty
/// until `f` grows it (`at_least`). The values are gathered in one pass over the row-major data,
/// into one buffer: fresh buffers per column cost more in page faults than the work done on
/// them.
pub(crate) fn per_column<T: Element, U: Copy + Default + Send + Sync, R: Send>(
    x: MatRef<'_, T>,
    convert: impl Fn(f64) -> U + Sync,
    f: impl Fn(usize, &mut [U], &mut Vec<U>) -> R + Sync + Send,
) -> Vec<R> {
    let (n, m) = (x.rows(), x.cols());
    let parallel = max_threads() != 1 && x.data().len() >= PARALLEL_MIN_CELLS;
    let mut buffer = zeroed::<U>(n * m);
    // Columns are gathered in groups, a group per task, one group per thread and at most a
    // 64-byte cache line of each row: tasks then read disjoint lines of a wide matrix. (The
    // grouping changes only who writes which column, never what is written.)
    let per_line = (64 / std::mem::size_of::<T>()).max(1);
    let group = m.div_ceil(rayon::current_num_threads()).clamp(1, per_line);
    let gather = |(g, chunk): (usize, &mut [U])| -> Vec<usize> {
        let j0 = g * group;
        let cols = chunk.len() / n;
        let mut lengths = vec![0usize; cols];
        for row in x.row_iter() {
            for c in 0..cols {
                let v = row[j0 + c].to_f64();
                if !v.is_nan() {
                    chunk[c * n + lengths[c]] = convert(v);
                    lengths[c] += 1;
                }
            }
        }
        lengths
    };
    let columns: Vec<&mut [U]> = if n == 0 {
        (0..m).map(|_| <&mut [U]>::default()).collect()
    } else {
        let lengths: Vec<usize> = if parallel {
            let parts: Vec<Vec<usize>> = buffer
                .par_chunks_mut(n * group)
                .enumerate()
                .map(gather)
                .collect();
            parts.concat()
        } else {
            buffer
                .chunks_mut(n * group)
                .enumerate()
                .flat_map(gather)
                .collect()
        };
        buffer
            .chunks_mut(n)
            .zip(&lengths)
            .map(|(c, &len)| &mut c[..len])
            .collect()
    };
    let run = |spare: &mut Vec<U>, (j, column): (usize, &mut [U])| f(j, column, spare);
    if !parallel {
        let mut spare = Vec::new();
        columns
            .into_iter()
            .enumerate()
            .map(|c| run(&mut spare, c))
            .collect()
    } else {
        columns
            .into_par_iter()
            .enumerate()
            .map_init(Vec::new, run)
            .collect()
    }
}
