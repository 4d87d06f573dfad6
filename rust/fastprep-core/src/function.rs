//! Named elementwise functions (scikit-learn's `FunctionTransformer` of a NumPy function).
//!
//! Only a closed list, saved by name: an artifact holds data, never code. Each is NumPy's
//! function of the same name evaluated in `f64`: NaN stays NaN, and where NumPy gives ±inf or
//! NaN (`log(0)`, `reciprocal(0)`, `sqrt(-1)`) so does this, silently. `clip` is NumPy's
//! `minimum(maximum(x, lo), hi)`: NaN passes through, and a `lo` above `hi` gives `hi`.

use crate::error::{Error, Result};
use crate::matrix::{Element, MatRef};

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
            Self::Log1p => v.ln_1p(),
            Self::Expm1 => v.exp_m1(),
            Self::Log => v.ln(),
            Self::Exp => v.exp(),
            Self::Sqrt => v.sqrt(),
            Self::Square => v * v,
            Self::Abs => v.abs(),
            Self::Sign => {
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
            Self::Reciprocal => 1.0 / v,
            Self::Clip { lo, hi } => {
                let y = if v < lo { lo } else { v };
                if y > hi {
                    hi
                } else {
                    y
                }
            }
        }
    }
}

/// `f` of every value of `x`, rounded once to the output type. The function is chosen once per
/// call, so each loop is monomorphic (and vectorised where the function allows).
pub fn apply<T: Element>(x: MatRef<'_, T>, f: Function, out: &mut [T]) -> Result<()> {
    fn each<T: Element>(
        x: MatRef<'_, T>,
        out: &mut [T],
        g: impl Fn(f64) -> f64 + Sync,
    ) -> Result<()> {
        x.map_rows_into(out, x.cols(), |input, output| {
            for (o, &v) in output.iter_mut().zip(input) {
                *o = T::from_f64(g(v.to_f64()));
            }
        })
    }
    match f {
        Function::Identity => each(x, out, |v| Function::Identity.apply(v)),
        Function::Log1p => each(x, out, |v| Function::Log1p.apply(v)),
        Function::Expm1 => each(x, out, |v| Function::Expm1.apply(v)),
        Function::Log => each(x, out, |v| Function::Log.apply(v)),
        Function::Exp => each(x, out, |v| Function::Exp.apply(v)),
        Function::Sqrt => each(x, out, |v| Function::Sqrt.apply(v)),
        Function::Square => each(x, out, |v| Function::Square.apply(v)),
        Function::Abs => each(x, out, |v| Function::Abs.apply(v)),
        Function::Sign => each(x, out, |v| Function::Sign.apply(v)),
        Function::Reciprocal => each(x, out, |v| Function::Reciprocal.apply(v)),
        Function::Clip { lo, hi } => each(x, out, move |v| Function::Clip { lo, hi }.apply(v)),
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
}
