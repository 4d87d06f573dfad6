//! Runtime CPU dispatch: hot kernels have a portable build, for the x86-64 baseline (SSE2, what
//! a portable wheel targets), and an AVX2 build written with `std::arch` intrinsics, which runs
//! when the CPU has AVX2 and FMA.
//!
//! Results do not depend on the build: the AVX2 code does the same operations in the same order
//! as the portable code (Rust never fuses `a * b + c` into an FMA on its own, nor reorders
//! floating-point sums), four `f64` lanes at a time.

/// True when the CPU has AVX2 and FMA (`std` caches the detection).
#[cfg(target_arch = "x86_64")]
#[inline]
pub fn has_avx2_fma() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}
