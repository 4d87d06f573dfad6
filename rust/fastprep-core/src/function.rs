//! Named elementwise functions (scikit-learn's `FunctionTransformer` of a NumPy function).
//!
//! Only a closed list, saved by name: an artifact holds data, never code. Each is NumPy's
//! function of the same name evaluated in `f64`: NaN stays NaN, and where NumPy gives ±inf or
//! NaN (`log(0)`, `reciprocal(0)`, `sqrt(-1)`) so does this, silently. `clip` is NumPy's
//! `minimum(maximum(x, lo), hi)`: NaN passes through, and a `lo` above `hi` gives `hi`.
//!
//! `log`, `log1p`, `exp` and `expm1` are this module's own (`exp` is `simd::exp`), within 2 ULP
//! of the C library's, written without branches in their main path: the C library's scalar
//! calls cost about 9 ns a value, and a loop of these vectorises where the CPU has AVX2 or
//! AVX-512 (`apply` picks the build at run time; every build gives the same bits, as Rust
//! never fuses or reorders floating-point operations).

use crate::error::{Error, Result};
use crate::matrix::{Element, MatRef};
use crate::simd;

const LN2_HI: f64 = 6.931_471_803_691_238e-1;
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
/// fdlibm's `log` polynomial: `log(1 + f) = 2s + 2s^3/3 + ...` with `s = f / (2 + f)`.
const LG: [f64; 7] = [
    6.666_666_666_666_735e-1,
    3.999_999_999_940_942e-1,
    2.857_142_874_366_239e-1,
    2.222_219_843_214_978_4e-1,
    1.818_357_216_161_805e-1,
    1.531_383_769_920_937_3e-1,
    1.479_819_860_511_658_6e-1,
];

/// fdlibm's `log` (within 1 ULP): `x = 2^e m`, `m` in `[sqrt(1/2), sqrt(2))`, then its
/// polynomial in `s = (m - 1) / (m + 1)`. Subnormals are scaled by `2^54` first.
#[inline(always)]
pub fn log(x: f64) -> f64 {
    let sub = x < f64::MIN_POSITIVE;
    let xs = if sub { x * 18_014_398_509_481_984.0 } else { x };
    let bits = xs.to_bits();
    let mant = bits & 0x000f_ffff_ffff_ffff;
    // The mantissa with exponent 0, halved when above sqrt(2) (mantissa bits 0x6a09e667f3bcd).
    let above = mant > 0x0006_a09e_667f_3bcd;
    let m = f64::from_bits(
        mant | if above {
            0x3fe0_0000_0000_0000
        } else {
            0x3ff0_0000_0000_0000
        },
    );
    let e = ((bits >> 52) & 0x7ff) as i64 - 1023 - if sub { 54 } else { 0 } + above as i64;
    let f = m - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG[1] + w * (LG[3] + w * LG[5]));
    let t2 = z * (LG[0] + w * (LG[2] + w * (LG[4] + w * LG[6])));
    let k = e as f64;
    let y = k * LN2_HI - ((hfsq - (s * (hfsq + (t2 + t1)) + k * LN2_LO)) - f);
    if x.is_nan() || x < 0.0 {
        f64::NAN
    } else if x == 0.0 {
        f64::NEG_INFINITY
    } else if x == f64::INFINITY {
        x
    } else {
        y
    }
}

/// NumPy's `sign`: 0 for either zero, NaN for NaN.
#[inline(always)]
fn sign(v: f64) -> f64 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else if v == 0.0 {
        0.0
    } else {
        f64::NAN
    }
}

/// NumPy's `clip`: `minimum(maximum(v, lo), hi)`.
#[inline(always)]
fn clip(v: f64, lo: f64, hi: f64) -> f64 {
    let y = if v < lo { lo } else { v };
    if y > hi {
        hi
    } else {
        y
    }
}

/// `log(1 + x)` by Kahan's correction `log(u) x / (u - 1)`, `u = 1 + x`, which cancels the
/// rounding of `u` (within 2 ULP).
#[inline(always)]
pub fn log1p(x: f64) -> f64 {
    let u = 1.0 + x;
    let d = u - 1.0;
    let y = log(u) * (x / d);
    if d == 0.0 {
        x
    } else if u == f64::INFINITY {
        u
    } else {
        y
    }
}

/// `exp(x) - 1` by Kahan's correction `(u - 1) x / log(u)`, `u = exp(x)` (within 3 ULP).
#[inline(always)]
pub fn expm1(x: f64) -> f64 {
    let u = simd::exp(x);
    let um1 = u - 1.0;
    let y = um1 * (x / log(u));
    if u == 1.0 {
        x
    } else if um1 == -1.0 {
        -1.0
    } else if u == f64::INFINITY {
        u
    } else {
        y
    }
}

/// The names `Function::parse` accepts, in the order the documentation lists them.
pub const NAMES: [&str; 11] = [
    "identity",
    "log1p",
    "expm1",
    "log",
    "exp",
    "sqrt",
    "square",
    "abs",
    "sign",
    "reciprocal",
    "clip",
];

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Function {
    Identity,
    Log1p,
    Expm1,
    Log,
    Exp,
    Sqrt,
    Square,
    Abs,
    Sign,
    Reciprocal,
    /// Bounds of `-inf` / `inf` where NumPy's is None.
    Clip {
        lo: f64,
        hi: f64,
    },
}

impl Function {
    /// The function named `name`; `lo` and `hi` are `clip`'s bounds (NaN: none) and must be
    /// NaN for every other function.
    pub fn parse(name: &str, lo: f64, hi: f64) -> Result<Self> {
        let f = match name {
            "identity" => Self::Identity,
            "log1p" => Self::Log1p,
            "expm1" => Self::Expm1,
            "log" => Self::Log,
            "exp" => Self::Exp,
            "sqrt" => Self::Sqrt,
            "square" => Self::Square,
            "abs" => Self::Abs,
            "sign" => Self::Sign,
            "reciprocal" => Self::Reciprocal,
            "clip" => {
                return Ok(Self::Clip {
                    lo: if lo.is_nan() { f64::NEG_INFINITY } else { lo },
                    hi: if hi.is_nan() { f64::INFINITY } else { hi },
                })
            }
            other => {
                return Err(Error::Parameter(format!(
                    "unknown function {other:?}; the named functions are {}",
                    NAMES.join(", ")
                )))
            }
        };
        if !lo.is_nan() || !hi.is_nan() {
            return Err(Error::Parameter(format!(
                "{name} takes no bounds (only clip does)"
            )));
        }
        Ok(f)
    }

    /// `f(v)` in `f64` (shared with the compiled plan).
    #[inline]
    pub fn apply(self, v: f64) -> f64 {
        match self {
            Self::Identity => v,
            Self::Log1p => log1p(v),
            Self::Expm1 => expm1(v),
            Self::Log => log(v),
            Self::Exp => simd::exp(v),
            Self::Sqrt => v.sqrt(),
            Self::Square => v * v,
            Self::Abs => v.abs(),
            Self::Sign => sign(v),
            Self::Reciprocal => 1.0 / v,
            Self::Clip { lo, hi } => clip(v, lo, hi),
        }
    }
}

/// `f` of every value of `x`, rounded once to the output type. The function is chosen once per
/// call, so each loop is monomorphic (and vectorised where the function allows); the exp and
/// log family runs in an AVX-512 or AVX2 build of its loop where the CPU has one.
pub fn apply<T: Element>(x: MatRef<'_, T>, f: Function, out: &mut [T]) -> Result<()> {
    let cols = x.cols();
    match f {
        Function::Identity => x.map_rows_into(out, cols, |i, o| run(i, o, |v| v)),
        Function::Sqrt => x.map_rows_into(out, cols, |i, o| run(i, o, f64::sqrt)),
        Function::Square => x.map_rows_into(out, cols, |i, o| run(i, o, |v| v * v)),
        Function::Abs => x.map_rows_into(out, cols, |i, o| run(i, o, f64::abs)),
        Function::Sign => x.map_rows_into(out, cols, |i, o| run(i, o, sign)),
        Function::Reciprocal => x.map_rows_into(out, cols, |i, o| run(i, o, |v| 1.0 / v)),
        Function::Clip { lo, hi } => {
            x.map_rows_into(out, cols, |i, o| run(i, o, move |v| clip(v, lo, hi)))
        }
        Function::Log | Function::Log1p | Function::Exp | Function::Expm1 => {
            x.map_rows_into(out, cols, |input, output| {
                #[cfg(target_arch = "x86_64")]
                {
                    if simd::has_avx512() && std::arch::is_x86_feature_detected!("avx512dq") {
                        // SAFETY: the CPU has AVX-512F and DQ, AVX2 and FMA.
                        return unsafe { wide::avx512(input, output, f) };
                    }
                    if simd::has_avx2_fma() {
                        // SAFETY: the CPU has AVX2 and FMA.
                        return unsafe { wide::avx2(input, output, f) };
                    }
                }
                transcendental(input, output, f);
            })
        }
    }
}

#[inline(always)]
fn run<T: Element>(input: &[T], output: &mut [T], g: impl Fn(f64) -> f64) {
    for (o, &v) in output.iter_mut().zip(input) {
        *o = T::from_f64(g(v.to_f64()));
    }
}

/// The exp and log family's loops (any other function is the identity here).
#[inline(always)]
fn transcendental<T: Element>(input: &[T], output: &mut [T], f: Function) {
    match f {
        Function::Log1p => run(input, output, log1p),
        Function::Expm1 => run(input, output, expm1),
        Function::Log => run(input, output, log),
        Function::Exp => run(input, output, simd::exp),
        _ => run(input, output, |v| v),
    }
}

#[cfg(target_arch = "x86_64")]
mod wide {
    //! `transcendental` compiled for wider vectors: the same operations, so the same bits.
    use super::{transcendental, Element, Function};

    /// AVX-512DQ converts between 64-bit integers and doubles (exponents, `2^k`) in vectors.
    ///
    /// # Safety
    /// The CPU has AVX-512F and DQ, AVX2 and FMA.
    #[target_feature(enable = "avx512f,avx512dq,avx2,fma")]
    pub unsafe fn avx512<T: Element>(input: &[T], output: &mut [T], f: Function) {
        transcendental(input, output, f);
    }

    /// # Safety
    /// The CPU has AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn avx2<T: Element>(input: &[T], output: &mut [T], f: Function) {
        transcendental(input, output, f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_only_clip_takes_bounds() {
        for name in NAMES {
            let (lo, hi) = if name == "clip" {
                (0.0, 1.0)
            } else {
                (f64::NAN, f64::NAN)
            };
            assert!(Function::parse(name, lo, hi).is_ok(), "{name}");
        }
        assert!(Function::parse("log", 0.0, f64::NAN).is_err());
        assert!(Function::parse("tanh", f64::NAN, f64::NAN).is_err());
    }

    #[test]
    fn numpy_edge_cases() {
        let sign = Function::Sign;
        assert_eq!(sign.apply(-0.0).to_bits(), 0.0f64.to_bits());
        assert!(sign.apply(f64::NAN).is_nan());
        let clip = Function::parse("clip", 3.0, 2.0).expect("clip");
        assert_eq!(clip.apply(-1.0), 2.0);
        assert!(clip.apply(f64::NAN).is_nan());
        let open = Function::parse("clip", f64::NAN, 2.0).expect("clip");
        assert_eq!(open.apply(-1e300), -1e300);
        assert_eq!(Function::Reciprocal.apply(-0.0), f64::NEG_INFINITY);
    }

    #[test]
    fn every_build_of_the_exp_and_log_loops_gives_the_same_bits() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let values: Vec<f64> = (0..20_000)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                match i % 3 {
                    0 => f64::from_bits(state),
                    1 => (state >> 11) as f64 / (1u64 << 53) as f64 * 1500.0 - 750.0,
                    _ => ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 1e-6,
                }
            })
            .collect();
        for f in [
            Function::Log,
            Function::Log1p,
            Function::Exp,
            Function::Expm1,
        ] {
            let mut portable = vec![0.0; values.len()];
            transcendental(&values, &mut portable, f);
            let scalar: Vec<f64> = values.iter().map(|&v| f.apply(v)).collect();
            let same = |a: &[f64], b: &[f64]| {
                a.iter()
                    .zip(b)
                    .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
            };
            assert!(same(&portable, &scalar), "{f:?}");
            #[cfg(target_arch = "x86_64")]
            {
                let mut wide = vec![0.0; values.len()];
                if simd::has_avx2_fma() {
                    // SAFETY: the CPU has AVX2 and FMA.
                    unsafe { wide::avx2(&values, &mut wide, f) };
                    assert!(same(&wide, &scalar), "{f:?} avx2");
                }
                if simd::has_avx512() && std::arch::is_x86_feature_detected!("avx512dq") {
                    // SAFETY: the CPU has AVX-512F and DQ, AVX2 and FMA.
                    unsafe { wide::avx512(&values, &mut wide, f) };
                    assert!(same(&wide, &scalar), "{f:?} avx512");
                }
            }
        }
    }
}
