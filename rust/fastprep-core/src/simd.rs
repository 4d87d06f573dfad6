//! Runtime CPU dispatch: hot kernels have a portable build, for the x86-64 baseline (SSE2, what
//! a portable wheel targets), and an AVX2 build written with `std::arch` intrinsics, which runs
//! when the CPU has AVX2 and FMA.
//!
//! Results do not depend on the build: the AVX2 code does the same operations in the same order
//! as the portable code (Rust never fuses `a * b + c` into an FMA on its own, nor reorders
//! floating-point sums), four `f64` lanes at a time.

/// True when the CPU has AVX-512F as well as AVX2 and FMA (`std` caches the detection).
#[cfg(target_arch = "x86_64")]
#[inline]
pub fn has_avx512() -> bool {
    has_avx2_fma() && std::arch::is_x86_feature_detected!("avx512f")
}

/// True when the CPU has AVX2 and FMA (`std` caches the detection).
#[cfg(target_arch = "x86_64")]
#[inline]
pub fn has_avx2_fma() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

/// `exp(t) - 1`, within 2 ULP of libm, written with plain multiplications and additions so that
/// `avx2::exp_m1` computes the same bits four lanes at a time. For the sums of the likelihood
/// fits (`power`), where `libm`'s scalar call was most of the time. Below -50 the result is -1
/// (as in `f64`); above 709.43 it is `+inf`, a little early (the true value overflows from
/// 709.79), as `2^k` must stay a normal number. NaN gives -1.
#[inline(always)]
pub fn exp_m1(x: f64) -> f64 {
    let t = if x > EXP_LOW { x } else { EXP_LOW };
    let t = if t < EXP_HIGH { t } else { EXP_HIGH };
    let (k, p) = reduced(t);
    let s = pow2(k as i64);
    // exp(t) - 1 = 2^k (p + 1) - 1; for k = 0 this is p itself, so small t keeps its precision.
    let y = s * p + (s - 1.0);
    if x > EXP_HIGH {
        f64::INFINITY
    } else {
        y
    }
}

/// `exp(t)`, within 2 ULP of libm over the whole range: 0 below -745.2 (subnormal results
/// included above it), `+inf` above 709.78, NaN for NaN. The same bits as `avx2::exp`.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    // The clamp keeps k in range; 2^k is applied as two factors, so that results that
    // underflow to subnormals or overflow do so only in the last multiplication.
    let t = if x > -750.0 { x } else { -750.0 };
    let t = if t < 710.0 { t } else { 710.0 };
    let (k, p) = reduced(t);
    let k1 = (k as i64) >> 1;
    let (s1, s2) = (pow2(k1), pow2(k as i64 - k1));
    let y = (s1 * p + s1) * s2;
    if x.is_nan() {
        x
    } else {
        y
    }
}

/// `exp(x)` of every value in place, four at a time on AVX2 CPUs (the same bits either way).
pub fn exp_slice(values: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA.
        return unsafe { avx2::exp_slice(values) };
    }
    for v in values {
        *v = exp(*v);
    }
}

/// `exp(x) - 1` of every value in place (`exp_m1`), four at a time on AVX2 CPUs (the same
/// bits either way).
pub fn exp_m1_slice(values: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA.
        return unsafe { avx2::exp_m1_slice(values) };
    }
    for v in values {
        *v = exp_m1(*v);
    }
}

/// `t = k ln 2 + r` with `|r| <= ln 2 / 2`: `(k, exp(r) - 1)`. `k` is found by the 1.5 * 2^52
/// trick (ties to even, as the vector code), `r` by Cody and Waite's two steps (`k * LN2_HI`
/// is exact), `exp(r) - 1 = r + r^2 q(r)` by Estrin's scheme, a tree of independent steps
/// instead of one chain of twelve.
#[inline(always)]
fn reduced(t: f64) -> (f64, f64) {
    let k = (t * INV_LN2 + ROUNDER) - ROUNDER;
    let r = (t - k * LN2_HI) - k * LN2_LO;
    let c = &EXP_M1_TAYLOR;
    let (r2, r4, r8) = (
        r * r,
        (r * r) * (r * r),
        ((r * r) * (r * r)) * ((r * r) * (r * r)),
    );
    let pair = |i: usize| c[i] + c[i + 1] * r;
    let (p0, p2, p4, p6, p8, p10) = (pair(0), pair(2), pair(4), pair(6), pair(8), pair(10));
    let q = ((p0 + p2 * r2) + (p4 + p6 * r2) * r4) + (p8 + p10 * r2) * r8;
    (k, r + r2 * q)
}

/// `2^k` for `-1022 <= k <= 1023`.
#[inline(always)]
fn pow2(k: i64) -> f64 {
    f64::from_bits(((k + 1023) as u64) << 52)
}

const EXP_LOW: f64 = -50.0;
/// The largest input whose `k` is 1023.
const EXP_HIGH: f64 = 709.43;
const INV_LN2: f64 = std::f64::consts::LOG2_E;
const ROUNDER: f64 = 6755399441055744.0;
const LN2_HI: f64 = 6.931_457_519_531_25e-1;
const LN2_LO: f64 = 1.428_606_820_309_417_3e-6;
/// 1/2!, 1/3!, ..., 1/13!: `exp(r) - 1 - r = r^2 q(r)`, `q(r) = Σ c[i] r^i`, for
/// `|r| <= ln 2 / 2`, where the first term left out is below 2e-17 relative.
const EXP_M1_TAYLOR: [f64; 12] = [
    0.5,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5_040.0,
    1.0 / 40_320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
    1.0 / 6_227_020_800.0,
];

#[cfg(target_arch = "x86_64")]
pub mod avx2 {
    //! AVX2 builds of the functions above. Every function here needs AVX2 and FMA.
    use std::arch::x86_64::*;

    use super::{EXP_HIGH, EXP_LOW, EXP_M1_TAYLOR, INV_LN2, LN2_HI, LN2_LO, ROUNDER};

    /// `super::exp_m1` on four lanes, operation for operation.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn exp_m1(x: __m256d) -> __m256d {
        let set = |v: f64| _mm256_set1_pd(v);
        // max/min return their second operand for NaN, as the scalar selects.
        let t = _mm256_max_pd(x, set(EXP_LOW));
        let t = _mm256_min_pd(t, set(EXP_HIGH));
        let (k, p) = reduced(t);
        let s = pow2(_mm256_cvtepi32_epi64(_mm256_cvtpd_epi32(k)));
        let y = _mm256_add_pd(_mm256_mul_pd(s, p), _mm256_sub_pd(s, set(1.0)));
        let over = _mm256_cmp_pd::<_CMP_GT_OQ>(x, set(EXP_HIGH));
        _mm256_blendv_pd(y, set(f64::INFINITY), over)
    }

    /// `super::exp` on four lanes, operation for operation.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn exp(x: __m256d) -> __m256d {
        let set = |v: f64| _mm256_set1_pd(v);
        let t = _mm256_max_pd(x, set(-750.0));
        let t = _mm256_min_pd(t, set(710.0));
        let (k, p) = reduced(t);
        let k = _mm256_cvtpd_epi32(k);
        let k1 = _mm_srai_epi32::<1>(k);
        let k2 = _mm_sub_epi32(k, k1);
        let s1 = pow2(_mm256_cvtepi32_epi64(k1));
        let s2 = pow2(_mm256_cvtepi32_epi64(k2));
        let y = _mm256_mul_pd(_mm256_add_pd(_mm256_mul_pd(s1, p), s1), s2);
        let nan = _mm256_cmp_pd::<_CMP_UNORD_Q>(x, x);
        _mm256_blendv_pd(y, x, nan)
    }

    /// `super::exp_slice` on AVX2.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn exp_slice(values: &mut [f64]) {
        let mut chunks = values.chunks_exact_mut(4);
        for c in &mut chunks {
            let v = _mm256_loadu_pd(c.as_ptr());
            _mm256_storeu_pd(c.as_mut_ptr(), exp(v));
        }
        for v in chunks.into_remainder() {
            *v = super::exp(*v);
        }
    }

    /// `super::exp_m1_slice` on AVX2.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn exp_m1_slice(values: &mut [f64]) {
        let mut chunks = values.chunks_exact_mut(4);
        for c in &mut chunks {
            let v = _mm256_loadu_pd(c.as_ptr());
            _mm256_storeu_pd(c.as_mut_ptr(), exp_m1(v));
        }
        for v in chunks.into_remainder() {
            *v = super::exp_m1(*v);
        }
    }

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn reduced(t: __m256d) -> (__m256d, __m256d) {
        let set = |v: f64| _mm256_set1_pd(v);
        let (add, mul) = (|a, b| _mm256_add_pd(a, b), |a, b| _mm256_mul_pd(a, b));
        let rounder = set(ROUNDER);
        let k = _mm256_sub_pd(add(mul(t, set(INV_LN2)), rounder), rounder);
        let r = _mm256_sub_pd(_mm256_sub_pd(t, mul(k, set(LN2_HI))), mul(k, set(LN2_LO)));
        let c = &EXP_M1_TAYLOR;
        let r2 = mul(r, r);
        let r4 = mul(r2, r2);
        let r8 = mul(r4, r4);
        let pair = |i: usize| add(set(c[i]), mul(set(c[i + 1]), r));
        let (p0, p2, p4, p6, p8, p10) = (pair(0), pair(2), pair(4), pair(6), pair(8), pair(10));
        let q = add(
            add(add(p0, mul(p2, r2)), mul(add(p4, mul(p6, r2)), r4)),
            mul(add(p8, mul(p10, r2)), r8),
        );
        (k, add(r, mul(r2, q)))
    }

    /// `2^k` of four 64-bit integers in `-1022..=1023`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn pow2(k: __m256i) -> __m256d {
        _mm256_castsi256_pd(_mm256_slli_epi64::<52>(_mm256_add_epi64(
            k,
            _mm256_set1_epi64x(1023),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units in the last place, for finite values of one sign.
    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i128 - b.to_bits() as i128).unsigned_abs() as u64
    }

    fn samples() -> Vec<f64> {
        let mut t: Vec<f64> = (0..200_001)
            .map(|i| -60.0 + 770.0 * i as f64 / 200_000.0)
            .collect();
        t.extend((0..20_001).map(|i| -1.0 + i as f64 / 10_000.0));
        t.extend([
            0.0, -0.0, 1e-300, -1e-300, 5e-324, 1e-9, -1e-9, 0.34657, -0.34657,
        ]);
        t
    }

    #[test]
    fn exp_m1_is_within_two_ulp_of_libm() {
        for t in samples() {
            let (ours, libm) = (exp_m1(t), t.exp_m1());
            if t > 709.43 {
                assert!(ours == f64::INFINITY, "{t}");
            } else if t < -50.0 {
                assert_eq!(ours, -1.0, "{t}");
            } else {
                // (-0.0 gives 0.0, which no sum can tell apart.)
                assert!(
                    ours == libm || ulps(ours, libm) <= 2,
                    "{t}: {ours} vs {libm}"
                );
            }
        }
    }

    #[test]
    fn exp_is_within_two_ulp_of_libm() {
        let mut t: Vec<f64> = (0..400_001)
            .map(|i| -760.0 + 1480.0 * i as f64 / 400_000.0)
            .collect();
        t.extend(samples());
        t.extend([
            f64::NEG_INFINITY,
            f64::INFINITY,
            -745.1,
            -744.5,
            -708.5,
            709.7,
            709.8,
        ]);
        for t in t {
            let (ours, libm) = (exp(t), t.exp());
            assert!(
                ours == libm || ulps(ours, libm) <= 2,
                "{t}: {ours} vs {libm}"
            );
        }
        assert!(exp(f64::NAN).is_nan());
    }

    #[test]
    fn avx2_exp_gives_the_same_bits() {
        #[cfg(target_arch = "x86_64")]
        if has_avx2_fma() {
            let mut t: Vec<f64> = (0..200_001)
                .map(|i| -760.0 + 1480.0 * i as f64 / 200_000.0)
                .collect();
            t.extend([
                f64::NAN,
                f64::NEG_INFINITY,
                f64::INFINITY,
                -0.0,
                0.0,
                5e-324,
                -5e-324,
            ]);
            let mut wide = t.clone();
            exp_slice(&mut wide);
            for (w, &x) in wide.iter().zip(&t) {
                assert_eq!(w.to_bits(), exp(x).to_bits(), "{x}");
            }
        }
    }

    #[test]
    fn avx2_exp_m1_gives_the_same_bits() {
        #[cfg(target_arch = "x86_64")]
        if has_avx2_fma() {
            for chunk in samples().chunks_exact(4) {
                let mut out = [0.0f64; 4];
                // SAFETY: the CPU has AVX2; four values in and out.
                unsafe {
                    let v = std::arch::x86_64::_mm256_loadu_pd(chunk.as_ptr());
                    std::arch::x86_64::_mm256_storeu_pd(out.as_mut_ptr(), avx2::exp_m1(v));
                }
                for (o, &t) in out.iter().zip(chunk) {
                    assert_eq!(o.to_bits(), exp_m1(t).to_bits(), "{t}");
                }
            }
            // The slice form, remainder lanes included.
            let t = samples();
            let mut wide = t[..t.len() - 3].to_vec();
            exp_m1_slice(&mut wide);
            for (w, &x) in wide.iter().zip(&t) {
                assert_eq!(w.to_bits(), exp_m1(x).to_bits(), "{x}");
            }
        }
    }
}
