//! Special functions of the normal distribution, shared by every kernel that needs them.
//!
//! `ndtri` is Wichura's AS241 (PPND16), accurate to about 1e-16 relative, the algorithm of
//! Python's `statistics.NormalDist.inv_cdf`; `ndtr` is `erfc` from the `libm` crate. The NumPy
//! reference (`fastprep/reference/special.py`) evaluates the same formulas, so the backends agree
//! to a few ULP (they may differ in the last bit of `ln`/`exp`).

use std::f64::consts::SQRT_2;

/// Evaluates a polynomial with coefficients from the highest degree down (Horner).
#[inline(always)]
fn horner(r: f64, coefficients: &[f64]) -> f64 {
    coefficients.iter().fold(0.0, |acc, &c| acc * r + c)
}

const A: [f64; 8] = [
    2509.0809287301227,
    33430.57558358813,
    67265.7709270087,
    45921.95393154987,
    13731.69376550946,
    1971.5909503065513,
    133.14166789178438,
    3.3871328727963665,
];
const B: [f64; 8] = [
    5226.495278852854,
    28729.085735721943,
    39307.89580009271,
    21213.794301586597,
    5394.196021424751,
    687.1870074920579,
    42.31333070160091,
    1.0,
];
const C: [f64; 8] = [
    0.0007745450142783414,
    0.022723844989269184,
    0.2417807251774506,
    1.2704582524523684,
    3.6478483247632045,
    5.769497221460691,
    4.630337846156546,
    1.4234371107496835,
];
const D: [f64; 8] = [
    1.0507500716444169e-09,
    0.0005475938084995345,
    0.015198666563616457,
    0.14810397642748008,
    0.6897673349851,
    1.6763848301838038,
    2.053191626637759,
    1.0,
];
const E: [f64; 8] = [
    2.0103343992922881e-07,
    2.7115555687434876e-05,
    0.0012426609473880784,
    0.026532189526576124,
    0.29656057182850487,
    1.7848265399172913,
    5.463784911164114,
    6.657904643501103,
];
const F: [f64; 8] = [
    2.0442631033899397e-15,
    1.421511758316446e-07,
    1.8463183175100548e-05,
    0.0007868691311456133,
    0.014875361290850615,
    0.1369298809227358,
    0.599832206555888,
    1.0,
];

/// Inverse of the standard normal CDF: -inf at 0, +inf at 1, NaN outside [0, 1] and for NaN.
pub fn ndtri(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return horner(r, &A) * q / horner(r, &B);
    }
    let r = if q <= 0.0 { p } else { 1.0 - p };
    let r = (-r.ln()).sqrt();
    let x = if r <= 5.0 {
        let r = r - 1.6;
        horner(r, &C) / horner(r, &D)
    } else {
        let r = r - 5.0;
        horner(r, &E) / horner(r, &F)
    };
    if q < 0.0 {
        -x
    } else {
        x
    }
}

/// `ndtri` of every value in place, the same bits as `ndtri` value by value.
///
/// A chunk at a time, each step a loop of independent iterations, which the compiler
/// vectorises (four lanes in the AVX2 build, the same operations in the same order): the
/// central region's rational function for every value (`|p - 0.5| <= 0.425`, 85% of a
/// uniform input), then for the values in the tails (gathered by index) `sqrt(-ln r)` and the
/// tail's rational function. The far tail (`p` below about 1e-11) and invalid values go
/// through `ndtri`. Value by value, the branch between the regions mispredicted on one value in
/// seven, and each tail value's chain of `ln`, `sqrt`, two polynomials and a division ran
/// alone.
pub fn ndtri_slice(values: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if crate::simd::has_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA.
        return unsafe { ndtri_slice_avx2(values) };
    }
    ndtri_slice_portable(values);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn ndtri_slice_avx2(values: &mut [f64]) {
    ndtri_slice_portable(values);
}

#[inline(always)]
fn ndtri_slice_portable(values: &mut [f64]) {
    const CHUNK: usize = 64;
    let mut central = [0.0; CHUNK];
    let mut tails = [0u8; CHUNK];
    let mut tail = [0.0; CHUNK];
    for chunk in values.chunks_mut(CHUNK) {
        for (c, &p) in central.iter_mut().zip(chunk.iter()) {
            let q = p - 0.5;
            let r = 0.180625 - q * q;
            *c = horner(r, &A) * q / horner(r, &B);
        }
        // The tails' indices, without a branch per value.
        let mut count = 0;
        for (i, &p) in chunk.iter().enumerate() {
            tails[count] = i as u8;
            let central = (p - 0.5).abs() <= 0.425; // false for NaN
            count += usize::from(!central);
        }
        for (t, &i) in tail.iter_mut().zip(&tails[..count]) {
            let p = chunk[i as usize];
            let r = if p - 0.5 <= 0.0 { p } else { 1.0 - p };
            *t = (-r.ln()).sqrt();
        }
        for t in tail[..count].iter_mut() {
            let r = *t - 1.6;
            let x = horner(r, &C) / horner(r, &D);
            // Past 5 (or NaN), `ndtri` itself below; the sign bit of `x` is unused there.
            *t = if *t <= 5.0 { x } else { f64::NAN };
        }
        for (v, &c) in chunk.iter_mut().zip(&central) {
            if (*v - 0.5).abs() <= 0.425 {
                *v = c;
            }
        }
        for (&i, &x) in tails[..count].iter().zip(&tail[..count]) {
            let v = &mut chunk[i as usize];
            *v = if x.is_nan() {
                ndtri(*v)
            } else if *v - 0.5 < 0.0 {
                -x
            } else {
                x
            };
        }
    }
}

/// The standard normal CDF, `0.5 * erfc(-x / sqrt(2))`.
pub fn ndtr(x: f64) -> f64 {
    0.5 * libm::erfc(-x / SQRT_2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(ndtri(0.5), 0.0);
        assert!((ndtri(0.975) - 1.959_963_984_540_054).abs() < 1e-15);
        assert!((ndtri(1e-7) + 5.199_337_582_192_817).abs() < 1e-14);
        assert_eq!(ndtri(0.0), f64::NEG_INFINITY);
        assert!(ndtri(1.5).is_nan() && ndtri(f64::NAN).is_nan());
        assert!((ndtr(1.959_963_984_540_054) - 0.975).abs() < 1e-15);
        assert_eq!(ndtr(f64::NEG_INFINITY), 0.0);
    }

    /// Both builds of the slice version equal `ndtri` bit for bit, across both regions, their
    /// boundary, the ends and invalid values.
    #[test]
    fn slice_matches_value_by_value() {
        let mut ps: Vec<f64> = (0..=4000).map(|i| i as f64 / 4000.0).collect();
        ps.extend([
            0.075,
            0.925,
            0.0749999,
            0.9250001,
            1e-300,
            1.0 - 1e-16,
            -0.0,
            -1.0,
            2.0,
        ]);
        ps.extend([f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 5e-324]);
        let expected: Vec<u64> = ps.iter().map(|&p| ndtri(p).to_bits()).collect();
        let mut portable = ps.clone();
        ndtri_slice_portable(&mut portable);
        let mut dispatched = ps.clone();
        ndtri_slice(&mut dispatched);
        for (i, &p) in ps.iter().enumerate() {
            assert_eq!(portable[i].to_bits(), expected[i], "portable, {p}");
            assert_eq!(dispatched[i].to_bits(), expected[i], "dispatched, {p}");
        }
    }

    #[test]
    fn ndtr_inverts_ndtri() {
        for i in 1..1000 {
            let p = i as f64 / 1000.0;
            assert!((ndtr(ndtri(p)) - p).abs() < 1e-14, "{p}");
        }
    }
}
