//! Large buffers backed by transparent huge pages where Linux offers them.
//!
//! A fresh 100 MB buffer otherwise costs tens of thousands of page faults, more time than the
//! work done on it: the selection of an order statistic, or building the lookup table of a
//! loaded vocabulary (benches/README.md measures both).

use std::sync::Arc;

/// Asks for huge pages behind the whole pages of `bytes` bytes from `start`, a block of this
/// process's own that nothing has touched yet.
fn advise(start: *mut u8, bytes: usize) {
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let start = start as usize;
        let aligned = start.next_multiple_of(PAGE);
        let end = start + bytes;
        if end > aligned + PAGE {
            // SAFETY: the range lies inside the caller's allocation and starts on a page
            // boundary; MADV_HUGEPAGE only changes how pages are backed, never their contents,
            // and a failure (an old kernel, THP disabled) is harmless.
            unsafe {
                libc::madvise(
                    aligned as *mut libc::c_void,
                    end - aligned,
                    libc::MADV_HUGEPAGE,
                );
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (start, bytes);
}

/// Asks the CPU to bring the cache line at `p` into cache. Any address will do: a prefetch
/// never faults, so callers may point past their buffers.
#[inline(always)]
pub fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch only hints the cache; it reads nothing and never faults.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// A zero-filled buffer of `len` values.
pub fn zeroed<U: Copy + Default>(len: usize) -> Vec<U> {
    // `vec!` of zeros takes fresh zeroed pages from the system without writing them, so the
    // advice still comes before the first touch.
    let mut buffer: Vec<U> = vec![U::default(); len];
    advise(buffer.as_mut_ptr().cast(), len * std::mem::size_of::<U>());
    buffer
}

/// An empty buffer with room for `len` values, on the pages `zeroed` would give.
pub fn with_capacity<U: Copy + Default>(len: usize) -> Vec<U> {
    let mut buffer = zeroed(len);
    buffer.clear();
    buffer
}

/// An owned copy of `values`, in a buffer from `zeroed`.
pub fn copied<U: Copy + Default>(values: &[U]) -> Vec<U> {
    let mut buffer = zeroed(values.len());
    buffer.copy_from_slice(values);
    buffer
}

/// A read-only buffer: owned, or shared with an owner that keeps the memory alive and never
/// changes it (an array over a memory-mapped artifact). Loading a vocabulary then copies
/// nothing, and processes that map the same file share its pages.
pub struct Buffer<T: 'static>(Repr<T>);

enum Repr<T: 'static> {
    Owned(Vec<T>),
    Shared(Arc<dyn AsRef<[T]> + Send + Sync>),
}

impl<T> Buffer<T> {
    /// A buffer over `owner`'s memory, which must stay unchanged for as long as it lives.
    pub fn shared(owner: Arc<dyn AsRef<[T]> + Send + Sync>) -> Self {
        Buffer(Repr::Shared(owner))
    }

    /// The values as a `Vec`, copied only when shared.
    pub fn into_vec(self) -> Vec<T>
    where
        T: Clone,
    {
        match self.0 {
            Repr::Owned(v) => v,
            Repr::Shared(owner) => owner.as_ref().as_ref().to_vec(),
        }
    }
}

impl<T> std::ops::Deref for Buffer<T> {
    type Target = [T];

    #[inline]
    fn deref(&self) -> &[T] {
        match &self.0 {
            Repr::Owned(v) => v,
            Repr::Shared(owner) => owner.as_ref().as_ref(),
        }
    }
}

impl<T> From<Vec<T>> for Buffer<T> {
    fn from(v: Vec<T>) -> Self {
        Buffer(Repr::Owned(v))
    }
}

impl<T: Clone> Clone for Buffer<T> {
    fn clone(&self) -> Self {
        match &self.0 {
            Repr::Owned(v) => Buffer(Repr::Owned(v.clone())),
            Repr::Shared(owner) => Buffer(Repr::Shared(Arc::clone(owner))),
        }
    }
}

impl<T: PartialEq> PartialEq for Buffer<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Buffer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}
