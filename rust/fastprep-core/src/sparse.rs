//! A checked view of a CSR matrix (SciPy's layout: `indptr`, `indices`, `data`), what the
//! sparse forms of the kernels read. Checked once, so that no kernel can index out of bounds:
//! `indptr` starts at 0, never decreases and ends within `data`; every column index is in
//! `0..cols`. Indices within a row may be in any order; the kernels that accumulate along a
//! row take them as stored.

use crate::error::{Error, Result};

/// SciPy's index dtypes: int32, or int64 for large matrices.
pub trait CsrIndex: Copy + Send + Sync {
    fn get(self) -> Option<usize>;
}

impl CsrIndex for i32 {
    #[inline(always)]
    fn get(self) -> Option<usize> {
        usize::try_from(self).ok()
    }
}

impl CsrIndex for i64 {
    #[inline(always)]
    fn get(self) -> Option<usize> {
        usize::try_from(self).ok()
    }
}

#[derive(Debug, Clone, Copy)]
pub struct CsrRef<'a, T, I> {
    indptr: &'a [I],
    indices: &'a [I],
    data: &'a [T],
    cols: usize,
}

impl<'a, T, I: CsrIndex> CsrRef<'a, T, I> {
    pub fn new(indptr: &'a [I], indices: &'a [I], data: &'a [T], cols: usize) -> Result<Self> {
        let bad = |what: &str| Err(Error::Shape(format!("malformed sparse matrix: {what}")));
        if indices.len() != data.len() {
            return bad("indices and data differ in length");
        }
        let Some(&first) = indptr.first() else {
            return bad("empty indptr");
        };
        if first.get() != Some(0) {
            return bad("indptr does not start at 0");
        }
        let mut previous = 0usize;
        for &p in &indptr[1..] {
            match p.get() {
                Some(p) if p >= previous && p <= data.len() => previous = p,
                _ => return bad("indptr decreases or exceeds the data"),
            }
        }
        if indices.iter().any(|&i| i.get().is_none_or(|i| i >= cols)) {
            return bad("a column index is out of range");
        }
        Ok(CsrRef {
            indptr,
            indices,
            data,
            cols,
        })
    }

    pub fn rows(&self) -> usize {
        self.indptr.len() - 1
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The stored values (the matrix's `data`).
    pub fn data(&self) -> &'a [T] {
        self.data
    }

    /// The column of every stored value, in `0..cols` (checked at construction).
    pub fn columns(&self) -> impl Iterator<Item = usize> + 'a {
        self.indices.iter().map(|&i| i.get().unwrap_or(0))
    }

    /// Row `r`'s range in `data`.
    pub fn row_range(&self, r: usize) -> std::ops::Range<usize> {
        let at = |p: I| p.get().unwrap_or(0);
        at(self.indptr[r])..at(self.indptr[r + 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_matrices_are_refused() {
        let data = [1.0f64, 2.0];
        assert!(CsrRef::new(&[0i32, 1, 2], &[0, 1], &data, 2).is_ok());
        assert!(CsrRef::new(&[0i32, 1, 2], &[0, 2], &data, 2).is_err()); // column 2 of 2
        assert!(CsrRef::new(&[0i32, 2, 1], &[0, 1], &data, 2).is_err()); // decreasing
        assert!(CsrRef::new(&[0i32, 1, 3], &[0, 1], &data, 2).is_err()); // beyond data
        assert!(CsrRef::new(&[1i32, 2], &[0, 1], &data, 2).is_err()); // not from 0
        assert!(CsrRef::new(&[0i64, 1, 2], &[0, -1], &data, 2).is_err()); // negative
        assert!(CsrRef::new(&[] as &[i32], &[], &[] as &[f64], 2).is_err());
    }
}
