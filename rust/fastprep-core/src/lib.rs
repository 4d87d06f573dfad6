//! fastprep-core: the numeric kernels and fit statistics behind fastprep.
//!
//! Pure Rust, no Python: a service written in Rust can link this crate and apply the same fitted
//! state that the Python package produces. Every kernel reads a row-major matrix view and returns
//! a new matrix; inputs are never written. Arithmetic is done in `f64` and rounded once to the
//! output element type, so `f32` input gives `f32` output with a single rounding.

pub mod artifact;
pub mod binarize;
pub mod discretize;
pub mod drift;
pub mod encode;
pub mod error;
pub mod exact;
pub mod function;
pub mod hashing;
pub mod impute;
pub mod linear;
pub mod matrix;
pub mod memory;
pub mod normalize;
pub mod parallel;
pub mod plan;
pub mod polynomial;
pub mod post;
pub mod power;
pub mod quantile;
pub mod quantile_transform;
pub mod scale;
pub mod simd;
pub mod sparse;
pub mod special;
pub mod spline;
pub mod stats;
pub mod strings;
pub mod strtable;

pub use error::{Error, Result};
pub use matrix::{Element, Mat, MatRef};
