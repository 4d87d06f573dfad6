//! Polynomial features (scikit-learn's `PolynomialFeatures`), as a recipe of products.
//!
//! Every column of the full expansion (bias, degree 1, 2, ...) is either 1 (the bias), an
//! input value, or an earlier column times one input value: `full[c] = full[parent[c]] *
//! x[factor[c]]`. That is how scikit-learn's dense transform builds them (`np.multiply` of the
//! previous degree's columns by one input column), so the products are the same `f64`
//! operations in the same order, bit for bit. The output keeps the columns `keep` lists (all of
//! them, or the bias and the top degrees when a minimum degree drops the rest).

use crate::error::{Error, Result};
use crate::matrix::{Element, MatRef};

/// A column with no parent starts from 1 (then times its factor, if any).
pub const NONE: i64 = -1;

/// The checked recipe of a polynomial expansion.
#[derive(Clone, Debug)]
pub struct Recipe {
    parents: Vec<i64>,
    factors: Vec<i64>,
    keep: Vec<usize>,
    /// Whether `keep` is every full column in order (no compaction needed).
    all: bool,
}

impl Recipe {
    /// Checks that each column's parent comes before it, each factor is an input column, and
    /// `keep` lists full columns in increasing order.
    pub fn new(
        parents: Vec<i64>,
        factors: Vec<i64>,
        keep: Vec<usize>,
        inputs: usize,
    ) -> Result<Self> {
        let bad = |what: String| Err(Error::Shape(format!("polynomial recipe: {what}")));
        if parents.len() != factors.len() {
            return bad(format!(
                "{} parents for {} factors",
                parents.len(),
                factors.len()
            ));
        }
        for (c, (&p, &f)) in parents.iter().zip(&factors).enumerate() {
            if p != NONE && !(0..c as i64).contains(&p) {
                return bad(format!("column {c} has the parent {p}"));
            }
            if f != NONE && (f < 0 || f as u64 >= inputs as u64) {
                return bad(format!("column {c} multiplies by input {f} of {inputs}"));
            }
        }
        if keep.windows(2).any(|w| w[0] >= w[1]) || keep.last().is_some_and(|&k| k >= parents.len())
        {
            return bad("the kept columns are not increasing full columns".into());
        }
        let all = keep.len() == parents.len();
        Ok(Self {
            parents,
            factors,
            keep,
            all,
        })
    }

    pub fn width(&self) -> usize {
        self.keep.len()
    }

    /// The values `row` holds in `full` while it works: every full column.
    pub fn buffer(&self) -> usize {
        self.parents.len()
    }

    /// The number of input columns the recipe reads (its largest factor, plus one).
    pub fn inputs(&self) -> usize {
        self.factors
            .iter()
            .map(|&f| (f + 1) as usize)
            .max()
            .unwrap_or(0)
    }

    /// One row's kept columns into `full` (which it resizes; `full[..width]` on return).
    #[inline]
    pub fn row(&self, input: impl Fn(usize) -> f64, full: &mut Vec<f64>) {
        full.resize(self.parents.len(), 0.0);
        for c in 0..full.len() {
            let (p, f) = (self.parents[c], self.factors[c]);
            full[c] = match (p, f) {
                (NONE, NONE) => 1.0,
                (NONE, f) => input(f as usize),
                (p, NONE) => full[p as usize],
                (p, f) => full[p as usize] * input(f as usize),
            };
        }
        if !self.all {
            // `keep` increases, so each kept column moves down (or stays): in place.
            for (k, &c) in self.keep.iter().enumerate() {
                full[k] = full[c];
            }
            full.truncate(self.keep.len());
        }
    }
}

/// The expansion of every row of `x`, rounded once to the output type.
pub fn polynomial<T: Element>(x: MatRef<'_, T>, recipe: &Recipe, out: &mut [T]) -> Result<()> {
    let (cols, width) = (x.cols(), recipe.width());
    if width == 0 {
        return if out.is_empty() {
            Ok(())
        } else {
            Err(Error::Shape("no output columns".into()))
        };
    }
    x.map_rows_into(out, width, |input, output| {
        let mut full = Vec::with_capacity(recipe.buffer());
        for (row, o) in input
            .chunks_exact(cols.max(1))
            .zip(output.chunks_exact_mut(width))
        {
            recipe.row(|j| row[j].to_f64(), &mut full);
            for (o, &v) in o.iter_mut().zip(&full) {
                *o = T::from_f64(v);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Mat;

    /// Two inputs, degree 2 with bias: 1, a, b, a*a, b*a, b*b.
    fn degree_two() -> Recipe {
        Recipe::new(
            vec![-1, -1, -1, 1, 2, 2],
            vec![-1, 0, 1, 0, 0, 1],
            (0..6).collect(),
            2,
        )
        .expect("recipe")
    }

    #[test]
    fn products_in_scikit_learns_order() {
        let data = [2.0f64, 3.0];
        let x = MatRef::new(&data, 1, 2).expect("shape");
        let y = Mat::build(1, 6, |o| polynomial(x, &degree_two(), o)).expect("kernel");
        assert_eq!(y.data, [1.0, 2.0, 3.0, 4.0, 6.0, 9.0]);
    }

    #[test]
    fn kept_columns_compact_in_place() {
        let r = Recipe::new(
            vec![-1, -1, -1, 1, 2, 2],
            vec![-1, 0, 1, 0, 0, 1],
            vec![0, 3, 4, 5],
            2,
        )
        .expect("recipe");
        let mut full = Vec::new();
        r.row(|j| [2.0, 3.0][j], &mut full);
        assert_eq!(full, [1.0, 4.0, 6.0, 9.0]);
    }

    #[test]
    fn inconsistent_recipes_are_refused() {
        assert!(Recipe::new(vec![1], vec![0], vec![0], 1).is_err()); // its own parent
        assert!(Recipe::new(vec![-1], vec![3], vec![0], 1).is_err()); // no input 3
        assert!(Recipe::new(vec![-1, -1], vec![0, 0], vec![1, 0], 1).is_err()); // not increasing
        assert!(Recipe::new(vec![-1], vec![0], vec![1], 1).is_err()); // past the end
        assert!(Recipe::new(vec![-1], vec![-2], vec![0], usize::MAX).is_err()); // no input -2
    }
}
