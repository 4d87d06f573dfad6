//! A fitted pipeline compiled into one native plan: every fitted state in one immutable value,
//! run over a batch (or a single request row) in one call, writing straight into the output.
//!
//! A plan is a list of blocks, each reading some input columns and writing a contiguous range
//! of output columns: a chain of numeric steps (impute, then affine maps), a one-hot encoder,
//! or a gather encoder (ordinal, count). Rows are processed in blocks (in parallel for large
//! batches); within a row block every plan block runs in turn, so the row's output stays in
//! cache. The arithmetic is that of the kernels the Python transforms call one by one (same
//! operations, same order, float64 throughout, one rounding at the end), so a plan's output
//! equals the step-by-step output bit for bit.

mod row;
pub mod spec;

use std::sync::Arc;

pub use row::{RowScratch, RowValue};

use crate::binarize::binarize_value;
use crate::discretize::{bin_of, BinEdges};
use crate::encode::{missing_code, unknown_code, CategoryIndex, Found, OneValue, Prepared};
use crate::function::Function;
use crate::normalize::{row_norm, Norm};
use crate::parallel::{fold_blocks, map_blocks, max_threads};
use crate::polynomial::Recipe;
use crate::power::yeo_johnson;
use crate::quantile_transform::Indexed;
use crate::spline::Splines;
use crate::strings::Column;
use crate::{Element, Error, Result};

/// What a block of a dense run gives: each encoder input's lookup outcome and code tally.
type Ran = (Vec<Found>, Vec<Vec<u64>>);

/// Vocabularies up to this many categories are tallied in the run (`run_tallied`): a block's
/// tally of a larger one would cost more than the separate count a monitor does instead.
pub const TALLY_MAX: usize = 1 << 12;

/// Rows per block: a block's output (and its codes) stay in cache.
const BLOCK_ROWS: usize = 1024;
/// Batches with fewer rows run on the calling thread.
const PARALLEL_MIN_ROWS: usize = 8192;

/// One numeric step, applied to a row's values of the block, in order.
#[derive(Clone, Debug)]
pub enum Step {
    /// Keep `kept` columns, NaN replaced by `fill`; then 0/1 flags of NaN in `indicator`.
    Impute {
        kept: Vec<usize>,
        fill: Vec<f64>,
        indicator: Vec<usize>,
    },
    /// `(x - sub[j]) / div[j]`.
    SubDiv { sub: Vec<f64>, div: Vec<f64> },
    /// `x * mul[j] + add[j]`, then clipped (NaN stays NaN).
    MulAdd {
        mul: Vec<f64>,
        add: Vec<f64>,
        clip: Option<(f64, f64)>,
    },
    /// 1 above the threshold, else 0; NaN kept.
    Binarize { threshold: f64 },
    /// A named function of every value.
    Function(Function),
    /// Polynomial features: products of the row's values.
    Polynomial(Box<Recipe>),
    /// B-spline features of each value.
    Spline(Box<Splines>),
    /// The row divided by its norm.
    Normalize { norm: Norm },
    /// The quantile transform (uniform or normal output), its columns indexed once.
    Quantile(Box<Indexed>),
    /// Yeo-Johnson with per-column lambdas, then `(y - sub) / div`.
    YeoJohnson {
        lambdas: Vec<f64>,
        sub: Vec<f64>,
        div: Vec<f64>,
    },
    /// Bin codes, or one 0/1 column per bin (`onehot`); edges flat, column `j` owning
    /// `edges[offsets[j]..offsets[j + 1]]`.
    Digitize {
        edges: Vec<f64>,
        offsets: Vec<usize>,
        onehot: bool,
    },
}

impl Step {
    /// The values a step's output buffer holds while it works (its width `after`, or more for
    /// the steps that compute in it): what a row's scratch reserves, so a row allocates nothing.
    fn buffer(&self, after: usize) -> usize {
        match self {
            Step::Polynomial(r) => r.buffer(),
            Step::Spline(s) => s.buffer(),
            _ => after,
        }
    }

    /// Width after the step, given the width before it.
    fn width(&self, before: usize) -> Result<usize> {
        let bad = |what: &str, n: usize| {
            Error::Shape(format!(
                "a {what} step with {n} parameters follows a block of {before} columns"
            ))
        };
        match self {
            Step::Impute {
                kept,
                fill,
                indicator,
            } => {
                if kept.len() != fill.len() || kept.iter().chain(indicator).any(|&c| c >= before) {
                    return Err(bad("impute", kept.len()));
                }
                Ok(kept.len() + indicator.len())
            }
            Step::SubDiv { sub, div } => {
                if sub.len() != before || div.len() != before {
                    return Err(bad("scale", sub.len()));
                }
                Ok(before)
            }
            Step::MulAdd { mul, add, .. } => {
                if mul.len() != before || add.len() != before {
                    return Err(bad("scale", mul.len()));
                }
                Ok(before)
            }
            Step::Binarize { .. } | Step::Function(_) | Step::Normalize { .. } => Ok(before),
            Step::Polynomial(r) => {
                if r.inputs() > before {
                    return Err(bad("polynomial", r.inputs()));
                }
                Ok(r.width())
            }
            Step::Spline(s) => {
                if s.columns() != before {
                    return Err(bad("spline", s.columns()));
                }
                Ok(s.width())
            }
            Step::Quantile(q) => {
                if q.n_columns() != before {
                    return Err(bad("quantile", q.n_columns()));
                }
                Ok(before)
            }
            Step::YeoJohnson { lambdas, sub, div } => {
                if lambdas.len() != before || sub.len() != before || div.len() != before {
                    return Err(bad("power", lambdas.len()));
                }
                Ok(before)
            }
            Step::Digitize {
                edges,
                offsets,
                onehot,
            } => {
                let e = BinEdges::new(edges, offsets)?;
                if e.n_columns() != before {
                    return Err(bad("binning", e.n_columns()));
                }
                Ok(if *onehot { e.total_bins() } else { before })
            }
        }
    }

    /// `input` → `output` for one row (the kernels' arithmetic, value by value).
    #[inline]
    fn apply(&self, input: &[f64], output: &mut Vec<f64>) {
        output.clear();
        match self {
            Step::Impute {
                kept,
                fill,
                indicator,
            } => {
                for (&c, &f) in kept.iter().zip(fill) {
                    let v = input[c];
                    output.push(if v.is_nan() { f } else { v });
                }
                for &c in indicator {
                    output.push(input[c].is_nan() as u8 as f64);
                }
            }
            Step::SubDiv { sub, div } => {
                for ((&v, &s), &d) in input.iter().zip(sub).zip(div) {
                    output.push((v - s) / d);
                }
            }
            Step::MulAdd { mul, add, clip } => {
                let (lo, hi) = clip.unwrap_or((f64::NEG_INFINITY, f64::INFINITY));
                for ((&v, &a), &b) in input.iter().zip(mul).zip(add) {
                    let y = v * a + b;
                    let y = if y < lo { lo } else { y };
                    output.push(if y > hi { hi } else { y });
                }
            }
            Step::Binarize { threshold } => {
                output.extend(input.iter().map(|&v| binarize_value(v, *threshold)));
            }
            Step::Function(f) => {
                output.extend(input.iter().map(|&v| f.apply(v)));
            }
            Step::Polynomial(r) => r.row(|j| input[j], output),
            Step::Spline(s) => s.row(|j| input[j], output),
            Step::Normalize { norm } => {
                let n = row_norm(input, *norm);
                output.extend(input.iter().map(|&v| v / n));
            }
            Step::Quantile(q) => {
                output.extend(input.iter().enumerate().map(|(j, &v)| q.forward(j, v)));
            }
            Step::YeoJohnson { lambdas, sub, div } => {
                for (j, &v) in input.iter().enumerate() {
                    output.push((yeo_johnson(v, lambdas[j]) - sub[j]) / div[j]);
                }
            }
            Step::Digitize {
                edges,
                offsets,
                onehot,
            } => {
                // Edges checked when the plan was built (`width`): each column has two or more.
                for (j, &v) in input.iter().enumerate() {
                    let inner = &edges[offsets[j] + 1..offsets[j + 1] - 1];
                    let bin = bin_of(v, inner);
                    if !*onehot {
                        output.push(if v.is_nan() { f64::NAN } else { bin as f64 });
                    } else if v.is_nan() {
                        output.extend(std::iter::repeat_n(f64::NAN, inner.len() + 1));
                    } else {
                        output.extend((0..=inner.len()).map(|k| (k == bin) as u8 as f64));
                    }
                }
            }
        }
    }
}

/// A block of the plan: which inputs it reads and how it turns them into output columns.
#[derive(Clone, Debug)]
pub enum Block {
    /// Numeric inputs through a chain of steps (none: passthrough).
    Numeric {
        inputs: Vec<usize>,
        steps: Vec<Step>,
    },
    /// One-hot: per input column, its vocabulary and the code → column table (-1: none).
    OneHot {
        inputs: Vec<usize>,
        indexes: Vec<Arc<CategoryIndex>>,
        tables: Vec<Vec<i32>>,
        offsets: Vec<usize>,
        width: usize,
    },
    /// Ordinal or count encoding: per input column, the code → value table.
    Gather {
        inputs: Vec<usize>,
        indexes: Vec<Arc<CategoryIndex>>,
        tables: Vec<Vec<f64>>,
    },
}

/// CSR `(indptr, indices, values)` and what each encoder input's lookup found.
pub type SparseRows = (Vec<i64>, Vec<i32>, Vec<f64>, Vec<Found>);

/// An input column of a plan: numbers (float64, NaN missing) or a categorical column.
pub enum Input<'a> {
    Numbers(&'a [f64]),
    Categories(Column<'a>),
}

/// The compiled plan. Immutable: share it between threads freely.
#[derive(Clone, Debug)]
pub struct Plan {
    n_inputs: usize,
    blocks: Vec<Block>,
    widths: Vec<usize>,
    width: usize,
    /// The widest row any numeric step reads or writes: what a row's scratch holds.
    scratch: usize,
    /// The number of encoder inputs (one lookup each per row).
    lookups: usize,
}

impl Plan {
    /// Checks that the blocks chain (parameter lengths, table sizes, input positions).
    pub fn new(n_inputs: usize, blocks: Vec<Block>) -> Result<Self> {
        let mut widths = Vec::with_capacity(blocks.len());
        let (mut scratch, mut lookups) = (0usize, 0usize);
        for (b, block) in blocks.iter().enumerate() {
            let inputs = match block {
                Block::Numeric { inputs, .. }
                | Block::OneHot { inputs, .. }
                | Block::Gather { inputs, .. } => inputs,
            };
            if let Some(&bad) = inputs.iter().find(|&&i| i >= n_inputs) {
                return Err(Error::Shape(format!(
                    "block {b} reads input {bad} of {n_inputs}"
                )));
            }
            let width = match block {
                Block::Numeric { inputs, steps } => {
                    let mut w = inputs.len();
                    scratch = scratch.max(w);
                    for step in steps {
                        w = step.width(w)?;
                        scratch = scratch.max(step.buffer(w));
                    }
                    w
                }
                Block::OneHot {
                    inputs,
                    indexes,
                    tables,
                    offsets,
                    width,
                } => {
                    check_encoder(b, inputs.len(), indexes, tables)?;
                    lookups += inputs.len();
                    if offsets.len() != inputs.len() {
                        return Err(Error::Shape(format!("block {b}: one offset per column")));
                    }
                    // Column j owns the block's output columns from offsets[j] up to the next
                    // column's: every code goes to one of them or to none (-1), and each of them
                    // is some code's, so a table cannot reach into another column's outputs.
                    let mut at = 0usize;
                    for (j, (t, &start)) in tables.iter().zip(offsets).enumerate() {
                        if start != at {
                            return Err(Error::Shape(format!(
                                "block {b}: the one-hot columns of input {j} start at {start}, \
                                 not where the previous input's end ({at})"
                            )));
                        }
                        if let Some(&bad) = t.iter().find(|&&x| x < -1) {
                            return Err(Error::Shape(format!(
                                "block {b}: a one-hot table holds {bad}"
                            )));
                        }
                        let top = t.iter().copied().max().unwrap_or(-1);
                        at += (i64::from(top) + 1) as usize;
                    }
                    if at != *width {
                        return Err(Error::Shape(format!(
                            "block {b}: its one-hot tables make {at} columns, not {width}"
                        )));
                    }
                    *width
                }
                Block::Gather {
                    inputs,
                    indexes,
                    tables,
                } => {
                    check_encoder(b, inputs.len(), indexes, tables)?;
                    lookups += inputs.len();
                    inputs.len()
                }
            };
            widths.push(width);
        }
        let width = widths.iter().sum();
        Ok(Self {
            n_inputs,
            blocks,
            widths,
            width,
            scratch,
            lookups,
        })
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn n_inputs(&self) -> usize {
        self.n_inputs
    }

    /// Checks the inputs against the blocks and prepares each encoder's columns (checked
    /// against their vocabularies once, dictionaries looked up once).
    fn prepare<'c, 'a>(
        &self,
        inputs: &'c [Input<'a>],
        rows: usize,
    ) -> Result<Vec<Vec<Prepared<'c, 'a>>>> {
        if inputs.len() != self.n_inputs {
            return Err(Error::Shape(format!(
                "the plan reads {} inputs, got {}",
                self.n_inputs,
                inputs.len()
            )));
        }
        for (i, input) in inputs.iter().enumerate() {
            let len = match input {
                Input::Numbers(v) => v.len(),
                Input::Categories(c) => c.len(),
            };
            if len != rows {
                return Err(Error::Shape(format!(
                    "input {i} has {len} rows, expected {rows}"
                )));
            }
        }
        let mut prepared: Vec<Vec<Prepared<'_, '_>>> = Vec::with_capacity(self.blocks.len());
        for block in &self.blocks {
            let mut cols = Vec::new();
            if let Block::OneHot {
                inputs: idx,
                indexes,
                ..
            }
            | Block::Gather {
                inputs: idx,
                indexes,
                ..
            } = block
            {
                for (&i, index) in idx.iter().zip(indexes) {
                    let Input::Categories(column) = &inputs[i] else {
                        return Err(Error::Shape(format!("input {i} must be categorical")));
                    };
                    cols.push(index.prepare(column)?);
                }
            } else if let Block::Numeric { inputs: idx, .. } = block {
                if let Some(&i) = idx
                    .iter()
                    .find(|&&i| !matches!(inputs[i], Input::Numbers(_)))
                {
                    return Err(Error::Shape(format!("input {i} must be numeric")));
                }
            }
            prepared.push(cols);
        }
        Ok(prepared)
    }

    /// Runs the plan over `rows` rows: `out` is `rows × width`, row-major. Returns, for each
    /// encoder input (blocks in order, columns in order), what its lookup found.
    pub fn run<T: Element>(
        &self,
        inputs: &[Input<'_>],
        rows: usize,
        out: &mut [T],
    ) -> Result<Vec<Found>> {
        Ok(self.run_tallied(inputs, rows, out, false)?.0)
    }

    /// `run`, and with `tally`, for each encoder input (in the same order) how often each
    /// lookup code occurred: the categories, then missing, then unknown (what a drift monitor
    /// counts), from the lookups the run does anyway. Vocabularies above `TALLY_MAX`
    /// categories, and every input without `tally`, get an empty tally.
    pub fn run_tallied<T: Element>(
        &self,
        inputs: &[Input<'_>],
        rows: usize,
        out: &mut [T],
        tally: bool,
    ) -> Result<(Vec<Found>, Vec<Vec<u64>>)> {
        if out.len() != rows * self.width {
            return Err(Error::Shape("output has the wrong size".into()));
        }
        let prepared = self.prepare(inputs, rows)?;
        let n_found: usize = prepared.iter().map(Vec::len).sum();
        let run_block = |b: usize, block_out: &mut [T]| -> Ran {
            let first = b * BLOCK_ROWS;
            let n = BLOCK_ROWS.min(rows - first);
            self.run_rows(inputs, &prepared, first, n, block_out, tally)
        };
        let add = |a: Ran, b: Ran| -> Ran {
            let found = a.0.into_iter().zip(b.0).map(|(x, y)| x + y).collect();
            let tallies =
                a.1.into_iter()
                    .zip(b.1)
                    .map(|(mut x, y)| {
                        if x.is_empty() {
                            return y;
                        }
                        for (t, u) in x.iter_mut().zip(y) {
                            *t += u;
                        }
                        x
                    })
                    .collect();
            (found, tallies)
        };
        let init = || (vec![Found::default(); n_found], vec![Vec::new(); n_found]);
        if rows == 0 {
            return Ok(init());
        }
        if self.width == 0 {
            let mut empty: [T; 0] = [];
            return Ok((0..rows.div_ceil(BLOCK_ROWS))
                .map(|b| {
                    let first = b * BLOCK_ROWS;
                    let n = BLOCK_ROWS.min(rows - first);
                    self.run_rows(inputs, &prepared, first, n, &mut empty, tally)
                })
                .fold(init(), add));
        }
        let parallel = rows >= PARALLEL_MIN_ROWS && max_threads() != 1;
        Ok(fold_blocks(
            out,
            BLOCK_ROWS * self.width,
            parallel,
            init,
            run_block,
            add,
        ))
    }

    /// Runs the plan over `rows` rows and hands each block of rows' output (`n × width`,
    /// row-major, in a scratch of the block's thread) to `then`, which writes the same rows of
    /// `out` (`rows × out_width`): a model's answers computed in the pass that computes its
    /// features, without the whole `rows × width` matrix. Returns what each encoder input's
    /// lookup found, as `run`.
    pub fn run_then<U: Element>(
        &self,
        inputs: &[Input<'_>],
        rows: usize,
        out: &mut [U],
        out_width: usize,
        then: impl Fn(&[f64], &mut [U]) + Sync,
    ) -> Result<Vec<Found>> {
        if out_width == 0 || out.len() != rows * out_width {
            return Err(Error::Shape("output has the wrong size".into()));
        }
        let prepared = self.prepare(inputs, rows)?;
        let n_found: usize = prepared.iter().map(Vec::len).sum();
        let init = || vec![Found::default(); n_found];
        if rows == 0 {
            return Ok(init());
        }
        thread_local! {
            static FEATURES: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        let run_block = |b: usize, block_out: &mut [U]| -> Vec<Found> {
            let first = b * BLOCK_ROWS;
            let n = BLOCK_ROWS.min(rows - first);
            FEATURES.with(|cell| {
                let mut features = cell.borrow_mut();
                features.resize(n * self.width, 0.0);
                let (found, _) =
                    self.run_rows(inputs, &prepared, first, n, &mut features[..], false);
                then(&features[..], block_out);
                found
            })
        };
        let add = |a: Vec<Found>, b: Vec<Found>| -> Vec<Found> {
            a.into_iter().zip(b).map(|(x, y)| x + y).collect()
        };
        let parallel = rows >= PARALLEL_MIN_ROWS && max_threads() != 1;
        Ok(fold_blocks(
            out,
            BLOCK_ROWS * out_width,
            parallel,
            init,
            run_block,
            add,
        ))
    }

    /// Runs the plan into CSR arrays `(indptr, indices, values)`: the non-zero cells of each
    /// row in column order (zeros, -0.0 included, are not stored; NaN is), as scipy stores a
    /// dense block it makes sparse. One-hot blocks never become dense, however wide.
    pub fn run_csr(&self, inputs: &[Input<'_>], rows: usize) -> Result<SparseRows> {
        if self.width > i32::MAX as usize {
            return Err(Error::Shape("output wider than 2^31 columns".into()));
        }
        let prepared = self.prepare(inputs, rows)?;
        let n_found: usize = prepared.iter().map(Vec::len).sum();
        let run = |b: usize| -> (Vec<u32>, Vec<i32>, Vec<f64>, Vec<Found>) {
            let first = b * BLOCK_ROWS;
            let n = BLOCK_ROWS.min(rows - first);
            self.run_rows_sparse(inputs, &prepared, first, n)
        };
        let parallel = rows >= PARALLEL_MIN_ROWS && max_threads() != 1;
        let parts = map_blocks(rows.div_ceil(BLOCK_ROWS), parallel, run);
        let nnz = parts.iter().map(|p| p.1.len()).sum();
        let mut indptr = Vec::with_capacity(rows + 1);
        indptr.push(0i64);
        let (mut indices, mut values) = (Vec::with_capacity(nnz), Vec::with_capacity(nnz));
        let mut found = vec![Found::default(); n_found];
        for (lengths, idx, vals, f) in parts {
            for len in lengths {
                let last = indptr.last().copied().unwrap_or(0);
                indptr.push(last + i64::from(len));
            }
            indices.extend_from_slice(&idx);
            values.extend_from_slice(&vals);
            for (total, x) in found.iter_mut().zip(f) {
                *total = *total + x;
            }
        }
        Ok((indptr, indices, values, found))
    }

    /// Rows `first..first + n` as sparse rows: lengths, indices, values, lookups found.
    fn run_rows_sparse(
        &self,
        inputs: &[Input<'_>],
        prepared: &[Vec<Prepared<'_, '_>>],
        first: usize,
        n: usize,
    ) -> (Vec<u32>, Vec<i32>, Vec<f64>, Vec<Found>) {
        // (row lengths instead of indptr: blocks are stitched together by `run_csr`)
        // Each block's cells for the row block: dense values for numeric and gather blocks
        // (narrow), absolute column targets for one-hot blocks (one per input column).
        enum Cells {
            Dense(Vec<f64>, usize),
            Targets(Vec<i32>, usize),
        }
        let mut found = Vec::new();
        let mut codes = vec![0u32; n];
        let mut at = 0usize;
        let mut cells = Vec::with_capacity(self.blocks.len());
        let (mut cur, mut next) = (Vec::new(), Vec::new());
        for ((block, cols), &bw) in self.blocks.iter().zip(prepared).zip(&self.widths) {
            match block {
                Block::Numeric { inputs: idx, steps } => {
                    let mut dense = Vec::with_capacity(n * bw);
                    for r in 0..n {
                        numeric_row(inputs, idx, steps, first + r, &mut cur, &mut next);
                        dense.extend_from_slice(&cur);
                    }
                    cells.push((at, Cells::Dense(dense, bw)));
                }
                Block::OneHot {
                    indexes,
                    tables,
                    offsets,
                    ..
                } => {
                    let k = indexes.len();
                    let mut targets = vec![-1i32; n * k];
                    for (j, (index, p)) in indexes.iter().zip(cols).enumerate() {
                        found.push(index.lookup_rows(p, first, &mut codes));
                        for (r, &code) in codes.iter().enumerate() {
                            let t = tables[j][code as usize];
                            if t >= 0 {
                                targets[r * k + j] = (at + offsets[j] + t as usize) as i32;
                            }
                        }
                    }
                    cells.push((at, Cells::Targets(targets, k)));
                }
                Block::Gather {
                    indexes, tables, ..
                } => {
                    let k = indexes.len();
                    let mut dense = vec![0.0f64; n * k];
                    for (j, (index, p)) in indexes.iter().zip(cols).enumerate() {
                        found.push(index.lookup_rows(p, first, &mut codes));
                        for (r, &code) in codes.iter().enumerate() {
                            dense[r * k + j] = tables[j][code as usize];
                        }
                    }
                    cells.push((at, Cells::Dense(dense, k)));
                }
            }
            at += bw;
        }
        let mut lengths = Vec::with_capacity(n);
        let (mut indices, mut values) = (Vec::new(), Vec::new());
        for r in 0..n {
            let before = indices.len();
            for (start, block) in &cells {
                match block {
                    Cells::Dense(d, bw) => {
                        for (c, &v) in d[r * bw..(r + 1) * bw].iter().enumerate() {
                            if v != 0.0 {
                                indices.push((start + c) as i32);
                                values.push(v);
                            }
                        }
                    }
                    Cells::Targets(t, k) => {
                        for &target in &t[r * k..(r + 1) * k] {
                            if target >= 0 {
                                indices.push(target);
                                values.push(1.0);
                            }
                        }
                    }
                }
            }
            lengths.push((indices.len() - before) as u32);
        }
        (lengths, indices, values, found)
    }

    /// One row of values (`values[i]` for input `i`, each of its input's kind: checked by the
    /// caller) into `out` (`width` values), with the arithmetic and lookups of `run`, and
    /// what each encoder input's lookup found (in `run`'s order). No batch machinery: no
    /// one-row columns, no prepared lookups, two scratch vectors.
    pub fn run_one<'s, T: Element>(
        &self,
        values: &[RowValue<'_>],
        out: &mut [T],
        scratch: &'s mut RowScratch,
    ) -> Result<&'s [Found]> {
        if values.len() != self.n_inputs || out.len() != self.width {
            return Err(Error::Shape(format!(
                "the plan reads {} inputs into {} columns, got {} values and {} columns",
                self.n_inputs,
                self.width,
                values.len(),
                out.len()
            )));
        }
        // The caller's scratch, kept across rows: a warm request row allocates nothing.
        let RowScratch { found, cur, next } = scratch;
        found.clear();
        found.reserve(self.lookups);
        cur.reserve(self.scratch);
        next.reserve(self.scratch);
        let mut at = 0usize;
        let mut code = |index: &CategoryIndex, value: RowValue<'_>| -> Result<u32> {
            let c = index.code_of(match value {
                RowValue::Number(x) => OneValue::Float(x),
                RowValue::Int(x) => OneValue::Int(x),
                RowValue::Str(b) => OneValue::Str(b),
                RowValue::Missing => OneValue::Missing,
            })?;
            let n = index.len();
            found.push(Found {
                unknown: usize::from(c == unknown_code(n)),
                missing: usize::from(c == missing_code(n)),
            });
            Ok(c)
        };
        for (block, &bw) in self.blocks.iter().zip(&self.widths) {
            let block_out = &mut out[at..at + bw];
            match block {
                Block::Numeric { inputs: idx, steps } => {
                    cur.clear();
                    cur.extend(idx.iter().map(|&i| match values[i] {
                        RowValue::Number(x) => x,
                        _ => f64::NAN,
                    }));
                    for step in steps {
                        step.apply(cur, next);
                        std::mem::swap(cur, next);
                    }
                    for (o, &v) in block_out.iter_mut().zip(cur.iter()) {
                        *o = T::from_f64(v);
                    }
                }
                Block::OneHot {
                    inputs: idx,
                    indexes,
                    tables,
                    offsets,
                    ..
                } => {
                    block_out.fill(T::ZERO);
                    for (j, (index, &i)) in indexes.iter().zip(idx).enumerate() {
                        let c = code(index, values[i])?;
                        let t = tables[j][c as usize];
                        if t >= 0 {
                            block_out[offsets[j] + t as usize] = T::from_f64(1.0);
                        }
                    }
                }
                Block::Gather {
                    inputs: idx,
                    indexes,
                    tables,
                } => {
                    for (j, (index, &i)) in indexes.iter().zip(idx).enumerate() {
                        let c = code(index, values[i])?;
                        block_out[j] = T::from_f64(tables[j][c as usize]);
                    }
                }
            }
            at += bw;
        }
        Ok(found)
    }

    /// Rows `first..first + n` into `out` (`n × width`); with `tally`, the count of each
    /// lookup code of the block (see `run_tallied`).
    fn run_rows<T: Element>(
        &self,
        inputs: &[Input<'_>],
        prepared: &[Vec<Prepared<'_, '_>>],
        first: usize,
        n: usize,
        out: &mut [T],
        tally: bool,
    ) -> Ran {
        let w = self.width;
        let mut found = Vec::new();
        let mut tallies = Vec::new();
        let mut count = |index: &CategoryIndex, codes: &[u32]| {
            if !tally || index.len() > TALLY_MAX {
                tallies.push(Vec::new());
                return;
            }
            let mut t = vec![0u64; index.len() + 2];
            for &c in codes {
                t[c as usize] += 1;
            }
            tallies.push(t);
        };
        let mut at = 0usize;
        let mut codes = vec![0u32; n];
        let (mut cur, mut next) = (Vec::new(), Vec::new());
        for ((block, cols), &bw) in self.blocks.iter().zip(prepared).zip(&self.widths) {
            match block {
                Block::Numeric { inputs: idx, steps } => {
                    for r in 0..n {
                        numeric_row(inputs, idx, steps, first + r, &mut cur, &mut next);
                        let row = &mut out[r * w + at..r * w + at + bw];
                        for (o, &v) in row.iter_mut().zip(&cur) {
                            *o = T::from_f64(v);
                        }
                    }
                }
                Block::OneHot {
                    indexes,
                    tables,
                    offsets,
                    ..
                } => {
                    for r in 0..n {
                        out[r * w + at..r * w + at + bw].fill(T::ZERO);
                    }
                    let one = T::from_f64(1.0);
                    for (j, (index, p)) in indexes.iter().zip(cols).enumerate() {
                        found.push(index.lookup_rows(p, first, &mut codes));
                        count(index, &codes);
                        for (r, &code) in codes.iter().enumerate() {
                            let t = tables[j][code as usize];
                            if t >= 0 {
                                out[r * w + at + offsets[j] + t as usize] = one;
                            }
                        }
                    }
                }
                Block::Gather {
                    indexes, tables, ..
                } => {
                    for (j, (index, p)) in indexes.iter().zip(cols).enumerate() {
                        found.push(index.lookup_rows(p, first, &mut codes));
                        count(index, &codes);
                        for (r, &code) in codes.iter().enumerate() {
                            out[r * w + at + j] = T::from_f64(tables[j][code as usize]);
                        }
                    }
                }
            }
            at += bw;
        }
        (found, tallies)
    }
}

/// One row of a numeric block: its inputs' values at `row` through every step, left in `cur`
/// (`next` is scratch; both are reused across rows).
#[inline]
fn numeric_row(
    inputs: &[Input<'_>],
    idx: &[usize],
    steps: &[Step],
    row: usize,
    cur: &mut Vec<f64>,
    next: &mut Vec<f64>,
) {
    cur.clear();
    for &i in idx {
        if let Input::Numbers(v) = &inputs[i] {
            cur.push(v[row]);
        }
    }
    for step in steps {
        step.apply(cur, next);
        std::mem::swap(cur, next);
    }
}

/// How a plan input is read: numbers, or categories of one kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    Numeric,
    Str,
    Int,
    Float,
}

/// A plan input: its column name, how it is read, and what its encoder refuses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputSpec {
    pub name: String,
    pub kind: InputKind,
    /// An unknown category is refused (an encoder's `handle_unknown="error"`, ...).
    pub refuse_unknown: bool,
    /// A missing value is refused (a one-hot encoder that saw no missing value at fit, ...).
    pub refuse_missing: bool,
}

/// A lookup that found a value its encoder refuses: the input, and whether the value is
/// unknown (else missing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub input: usize,
    pub unknown: bool,
}

/// A compiled plan with its inputs described: what a saved pipeline or transform runs, in a
/// Rust service or behind Python, built by `spec::parse` from the plan's one description.
#[derive(Clone, Debug)]
pub struct Transformer {
    plan: Plan,
    inputs: Vec<InputSpec>,
    /// The input of each lookup the plan reports (encoder blocks in order).
    looked_up: Vec<usize>,
    sparse: bool,
}

impl Transformer {
    fn new(plan: Plan, inputs: Vec<InputSpec>, sparse: bool) -> Result<Self> {
        if plan.n_inputs() != inputs.len() {
            return Err(Error::Shape("one input spec per plan input".into()));
        }
        let looked_up = plan
            .blocks
            .iter()
            .flat_map(|b| match b {
                Block::Numeric { .. } => &[][..],
                Block::OneHot { inputs, .. } | Block::Gather { inputs, .. } => &inputs[..],
            })
            .copied()
            .collect();
        Ok(Self {
            plan,
            inputs,
            looked_up,
            sparse,
        })
    }

    /// The input columns, in the order the plan takes them.
    pub fn inputs(&self) -> &[InputSpec] {
        &self.inputs
    }

    /// The number of output columns.
    pub fn width(&self) -> usize {
        self.plan.width()
    }

    /// Whether the output is sparse (a scipy CSR matrix in Python).
    pub fn sparse(&self) -> bool {
        self.sparse
    }

    /// The plan itself.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The input of each lookup that `run` reports, in order.
    pub fn looked_up(&self) -> &[usize] {
        &self.looked_up
    }

    /// The first lookup (of what `run` found) that its encoder refuses.
    pub fn refusal(&self, found: &[Found]) -> Option<Refusal> {
        found.iter().zip(&self.looked_up).find_map(|(f, &i)| {
            let spec = &self.inputs[i];
            if spec.refuse_unknown && f.unknown > 0 {
                Some(Refusal {
                    input: i,
                    unknown: true,
                })
            } else if spec.refuse_missing && f.missing > 0 {
                Some(Refusal {
                    input: i,
                    unknown: false,
                })
            } else {
                None
            }
        })
    }

    /// The error of a refusal, naming the column.
    pub fn refusal_error(&self, r: Refusal) -> Error {
        let what = if r.unknown {
            "an unknown category (not seen during fit)"
        } else {
            "a missing value, but no missing value was seen during fit"
        };
        Error::Value {
            column: r.input,
            message: format!("{:?} has {what}", self.inputs[r.input].name),
        }
    }

    /// `rows` rows of `inputs` (one per `inputs()`, in order) → a dense row-major
    /// `rows × width` matrix, the numbers Python's `transform` gives. An unknown or missing
    /// value that the fitted policy refuses is an error naming the column.
    pub fn transform(&self, inputs: &[Input<'_>], rows: usize) -> Result<Vec<f64>> {
        let size = rows
            .checked_mul(self.width())
            .ok_or_else(|| Error::Shape(format!("{rows} rows of {} columns", self.width())))?;
        let mut out = vec![0.0; size];
        let found = self.plan.run(inputs, rows, &mut out)?;
        match self.refusal(&found) {
            Some(r) => Err(self.refusal_error(r)),
            None => Ok(out),
        }
    }

    /// One request row (a value per input, read for its kind) into `out` (`width` values),
    /// with `scratch` kept by the caller across rows: the first lookup its encoder refuses,
    /// as `refusal` of a batch reports it.
    pub fn run_row<T: Element>(
        &self,
        values: &[RowValue<'_>],
        out: &mut [T],
        scratch: &mut RowScratch,
    ) -> Result<Option<Refusal>> {
        row::check_kinds(values, self.inputs.iter().map(|i| i.kind))?;
        let found = self.plan.run_one(values, out, scratch)?;
        Ok(self.refusal(found))
    }
}

fn check_encoder<U>(
    b: usize,
    n: usize,
    indexes: &[Arc<CategoryIndex>],
    tables: &[Vec<U>],
) -> Result<()> {
    if indexes.len() != n || tables.len() != n {
        return Err(Error::Shape(format!(
            "block {b}: one vocabulary and one table per column"
        )));
    }
    for (index, table) in indexes.iter().zip(tables) {
        if table.len() != index.len() + 2 {
            return Err(Error::Shape(format!(
                "block {b}: a table needs {} entries, got {}",
                index.len() + 2,
                table.len()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::encode::Vocab;
    use crate::strings::{Chunk, Offsets, StrArray};

    #[test]
    fn runs_numeric_and_encoder_blocks_side_by_side() {
        let index = Arc::new(
            CategoryIndex::new(Vocab::Str {
                data: b"ab".to_vec().into(),
                offsets: vec![0, 1, 2].into(),
            })
            .unwrap(),
        );
        let plan = Plan::new(
            2,
            vec![
                Block::Numeric {
                    inputs: vec![0],
                    steps: vec![
                        Step::Impute {
                            kept: vec![0],
                            fill: vec![5.0],
                            indicator: vec![0],
                        },
                        Step::SubDiv {
                            sub: vec![1.0, 0.0],
                            div: vec![2.0, 1.0],
                        },
                    ],
                },
                Block::OneHot {
                    inputs: vec![1],
                    indexes: vec![index.clone()],
                    tables: vec![vec![0, 1, -1, -1]],
                    offsets: vec![0],
                    width: 2,
                },
                Block::Gather {
                    inputs: vec![1],
                    indexes: vec![index],
                    tables: vec![vec![10.0, 20.0, f64::NAN, -1.0]],
                },
            ],
        )
        .unwrap();
        assert_eq!(plan.width(), 5);
        let numbers = [3.0, f64::NAN, 7.0];
        let strings = StrArray::utf8(Offsets::I32(&[0, 1, 2, 3]), b"bza", None).unwrap();
        let inputs = [
            Input::Numbers(&numbers),
            Input::Categories(Column::new(vec![Chunk::Str(strings)])),
        ];
        let mut out = vec![0.0f64; 15];
        let found = plan.run(&inputs, 3, &mut out).unwrap();
        assert_eq!(
            out,
            vec![
                1.0, 0.0, 0.0, 1.0, 20.0, //
                2.0, 1.0, 0.0, 0.0, -1.0, //
                3.0, 0.0, 1.0, 0.0, 10.0,
            ]
        );
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].unknown, 1);
        // The tally: "b", "z" (unknown), "a" -> one of category 0, one of 1, none missing,
        // one unknown; for both encoders of the input. Without tally, none.
        let mut again = vec![0.0f64; 15];
        let (found2, tallies) = plan.run_tallied(&inputs, 3, &mut again, true).unwrap();
        assert_eq!((&again, found2.len()), (&out, 2));
        assert_eq!(tallies, vec![vec![1, 1, 0, 1], vec![1, 1, 0, 1]]);
        let (_, none) = plan.run_tallied(&inputs, 3, &mut again, false).unwrap();
        assert!(none.iter().all(Vec::is_empty));
        let (indptr, indices, values, _) = plan.run_csr(&inputs, 3).unwrap();
        for r in 0..3 {
            let mut dense = vec![0.0; 5];
            for k in indptr[r] as usize..indptr[r + 1] as usize {
                dense[indices[k] as usize] = values[k];
            }
            assert_eq!(dense, out[r * 5..(r + 1) * 5]);
            assert!(values.iter().all(|&v| v != 0.0));
        }
    }

    #[test]
    fn refuses_blocks_that_do_not_chain() {
        let bad = Block::Numeric {
            inputs: vec![0, 1],
            steps: vec![Step::SubDiv {
                sub: vec![0.0],
                div: vec![1.0],
            }],
        };
        assert!(Plan::new(2, vec![bad]).is_err());
        let out_of_range = Block::Numeric {
            inputs: vec![3],
            steps: vec![],
        };
        assert!(Plan::new(2, vec![out_of_range]).is_err());
    }
}
