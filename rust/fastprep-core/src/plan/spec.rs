//! The one reader and validator of a plan's description (its *spec*), wherever it comes from:
//! the manifest of an artifact (arrays named, stored in the file) or the objects Python builds
//! (arrays as NumPy arrays). Both describe the same fields, so a Rust service and Python accept
//! and refuse the same plans.
//!
//! ```text
//! {"inputs": [{"name", "kind": "numeric" | "str" | "int" | "float",
//!              "refuse_unknown", "refuse_missing"  (categorical inputs only)}],
//!  "blocks": [{"block": "numeric", "inputs": [i, ...], "steps": [{"step": ..., fields}]}
//!           | {"block": "onehot", "inputs", "vocabs", "tables": [i32 table], "offsets", "width"}
//!           | {"block": "gather", "inputs", "vocabs", "tables": [f64 table]}],
//!  "width": n, "sparse": bool}
//! ```
//!
//! A vocabulary is `{"kind": "str", "data": u8, "offsets": i64}` or `{"kind": "int" | "float",
//! "values": ...}`; an encoder table is an array of `len(vocabulary) + 2` entries (categories,
//! then missing, then unknown), or `{"identity": n, "tail": [missing, unknown]}` when entry `i`
//! is `i` itself for every category. The numeric steps' fields are those of `Step`.

use std::sync::Arc;

use crate::encode::{CategoryIndex, Vocab};
use crate::error::{Error, Result};
use crate::function::Function;
use crate::matrix::MatRef;
use crate::memory::Buffer;
use crate::normalize::Norm;
use crate::polynomial::Recipe;
use crate::quantile_transform::Indexed;
use crate::spline::{Extrapolation, Splines};

use super::{Block, InputKind, InputSpec, Plan, Step, Transformer};

/// A node of a plan spec, read field by field. Implemented over an artifact's manifest and,
/// in the binding, over Python objects; `parse` is written once against it.
pub trait Spec: Sized {
    /// The value of `key` in an object node (an error when it is absent).
    fn get(&self, key: &str) -> Result<Self>;
    /// Whether an object node has `key`.
    fn has(&self, key: &str) -> bool;
    fn is_null(&self) -> bool;
    fn text(&self) -> Result<String>;
    fn flag(&self) -> Result<bool>;
    fn natural(&self) -> Result<usize>;
    fn number(&self) -> Result<f64>;
    fn items(&self) -> Result<Vec<Self>>;
    fn f64s(&self) -> Result<Vec<f64>>;
    fn i32s(&self) -> Result<Vec<i32>>;
    fn i64s(&self) -> Result<Vec<i64>>;
    fn byte_buffer(&self) -> Result<Buffer<u8>>;
    fn i64_buffer(&self) -> Result<Buffer<i64>> {
        Ok(self.i64s()?.into())
    }
    /// A 2-D float64 array: its values (row-major), rows and columns.
    fn matrix(&self) -> Result<(Vec<f64>, usize, usize)>;
    /// The lookup index already built for this vocabulary node, where the source holds one
    /// (an encoder's own, in Python), so that a plan shares it rather than building another.
    fn prebuilt_index(&self) -> Option<Arc<CategoryIndex>> {
        None
    }
}

/// A spec error, naming the field where it happened.
fn bad(what: impl std::fmt::Display) -> Error {
    Error::Shape(format!("invalid plan: {what}"))
}

fn at<T>(key: &str, r: Result<T>) -> Result<T> {
    r.map_err(|e| match e {
        Error::Shape(m) if m.starts_with("invalid plan:") => Error::Shape(m),
        other => bad(format!("{key}: {other}")),
    })
}

fn field<S: Spec, T>(v: &S, key: &str, read: impl FnOnce(&S) -> Result<T>) -> Result<T> {
    let node = at(key, v.get(key))?;
    at(key, read(&node))
}

fn naturals<S: Spec>(v: &S, key: &str) -> Result<Vec<usize>> {
    field(v, key, |n| n.items()?.iter().map(Spec::natural).collect())
}

/// Parses and validates a plan spec (see the module documentation).
pub fn parse<S: Spec>(spec: &S) -> Result<Transformer> {
    let inputs = field(spec, "inputs", |n| n.items())?
        .iter()
        .map(input)
        .collect::<Result<Vec<_>>>()?;
    let mut blocks = Vec::new();
    for (b, node) in field(spec, "blocks", |n| n.items())?.iter().enumerate() {
        blocks.push(block(node, &inputs).map_err(|e| match e {
            Error::Shape(m) => Error::Shape(format!("{m} (block {b})")),
            other => other,
        })?);
    }
    let plan = Plan::new(inputs.len(), blocks)?;
    let width = field(spec, "width", Spec::natural)?;
    if width != plan.width() {
        return Err(bad(format!(
            "the blocks make {} columns, the plan declares {width}",
            plan.width()
        )));
    }
    let sparse = spec.has("sparse") && field(spec, "sparse", Spec::flag)?;
    Transformer::new(plan, inputs, sparse)
}

fn input<S: Spec>(v: &S) -> Result<InputSpec> {
    let name = field(v, "name", Spec::text)?;
    let kind = match field(v, "kind", Spec::text)?.as_str() {
        "numeric" => InputKind::Numeric,
        "str" => InputKind::Str,
        "int" => InputKind::Int,
        "float" => InputKind::Float,
        other => return Err(bad(format!("input {name:?} has an unknown kind {other:?}"))),
    };
    let numeric = kind == InputKind::Numeric;
    Ok(InputSpec {
        refuse_unknown: !numeric && field(v, "refuse_unknown", Spec::flag)?,
        refuse_missing: !numeric && field(v, "refuse_missing", Spec::flag)?,
        name,
        kind,
    })
}

fn block<S: Spec>(v: &S, inputs: &[InputSpec]) -> Result<Block> {
    let positions = naturals(v, "inputs")?;
    if let Some(&i) = positions.iter().find(|&&i| i >= inputs.len()) {
        return Err(bad(format!("a block reads input {i} of {}", inputs.len())));
    }
    let kind = field(v, "block", Spec::text)?;
    let numeric = kind == "numeric";
    for &i in &positions {
        if (inputs[i].kind == InputKind::Numeric) != numeric {
            return Err(bad(format!(
                "a {kind} block reads the {:?} input {:?}",
                inputs[i].kind, inputs[i].name
            )));
        }
    }
    Ok(match kind.as_str() {
        "numeric" => Block::Numeric {
            inputs: positions,
            steps: field(v, "steps", |n| n.items())?
                .iter()
                .map(step)
                .collect::<Result<_>>()?,
        },
        "onehot" => {
            let indexes = vocabularies(v, &positions, inputs)?;
            Block::OneHot {
                tables: tables(v, &indexes, Spec::i32s, |i| i as i32)?,
                indexes,
                inputs: positions,
                offsets: naturals(v, "offsets")?,
                width: field(v, "width", Spec::natural)?,
            }
        }
        "gather" => {
            let indexes = vocabularies(v, &positions, inputs)?;
            Block::Gather {
                tables: tables(v, &indexes, Spec::f64s, |i| i as f64)?,
                indexes,
                inputs: positions,
            }
        }
        other => return Err(bad(format!("unknown plan block {other:?}"))),
    })
}

fn step<S: Spec>(v: &S) -> Result<Step> {
    let f64s = |key: &str| field(v, key, Spec::f64s);
    Ok(match field(v, "step", Spec::text)?.as_str() {
        "impute" => Step::Impute {
            kept: naturals(v, "kept")?,
            fill: f64s("fill")?,
            indicator: naturals(v, "indicator")?,
        },
        "sub_div" => Step::SubDiv {
            sub: f64s("sub")?,
            div: f64s("div")?,
        },
        "mul_add" => Step::MulAdd {
            mul: f64s("mul")?,
            add: f64s("add")?,
            clip: field(v, "clip", |c| {
                if c.is_null() {
                    return Ok(None);
                }
                match &c.items()?[..] {
                    [lo, hi] => Ok(Some((lo.number()?, hi.number()?))),
                    _ => Err(bad("clip is a pair (min, max) or null")),
                }
            })?,
        },
        "binarize" => Step::Binarize {
            threshold: field(v, "threshold", Spec::number)?,
        },
        "function" => {
            let bound = |key: &str| {
                field(v, key, |b| {
                    if b.is_null() {
                        Ok(f64::NAN)
                    } else {
                        b.number()
                    }
                })
            };
            Step::Function(Function::parse(
                &field(v, "function", Spec::text)?,
                bound("lo")?,
                bound("hi")?,
            )?)
        }
        "polynomial" => Step::Polynomial(Box::new(Recipe::new(
            field(v, "parents", Spec::i64s)?,
            field(v, "factors", Spec::i64s)?,
            naturals(v, "keep")?,
            usize::MAX,
        )?)),
        "spline" => {
            let (knots, columns, _) = field(v, "knots", Spec::matrix)?;
            Step::Spline(Box::new(Splines::new(
                knots,
                columns,
                field(v, "degree", Spec::natural)?,
                Extrapolation::parse(&field(v, "extrapolation", Spec::text)?)?,
                field(v, "include_bias", Spec::flag)?,
                field(v, "zeros_for_missing", Spec::flag)?,
                f64s("bounds")?,
            )?))
        }
        "normalize" => Step::Normalize {
            norm: Norm::parse(&field(v, "norm", Spec::text)?)?,
        },
        "quantile" => {
            let (q, rows, cols) = field(v, "quantiles", Spec::matrix)?;
            let refs = f64s("references")?;
            let normal = field(v, "normal", Spec::flag)?;
            Step::Quantile(Box::new(Indexed::new(
                MatRef::new(&q, rows, cols)?,
                &refs,
                normal,
            )?))
        }
        "yeo_johnson" => Step::YeoJohnson {
            lambdas: f64s("lambdas")?,
            sub: f64s("sub")?,
            div: f64s("div")?,
        },
        "digitize" => Step::Digitize {
            edges: f64s("edges")?,
            offsets: naturals(v, "offsets")?,
            onehot: field(v, "onehot", Spec::flag)?,
        },
        other => return Err(bad(format!("unknown plan step {other:?}"))),
    })
}

/// An encoder block's lookup indexes, one per input, each of its input's kind.
fn vocabularies<S: Spec>(
    v: &S,
    positions: &[usize],
    inputs: &[InputSpec],
) -> Result<Vec<Arc<CategoryIndex>>> {
    let vocabs = field(v, "vocabs", |n| n.items())?;
    if vocabs.len() != positions.len() {
        return Err(bad("one vocabulary per input"));
    }
    vocabs
        .iter()
        .zip(positions)
        .map(|(node, &i)| {
            let kind = field(node, "kind", Spec::text)?;
            let expected = inputs[i].kind;
            let fits = matches!(
                (kind.as_str(), expected),
                ("str", InputKind::Str) | ("int", InputKind::Int) | ("float", InputKind::Float)
            );
            if !fits {
                return Err(bad(format!(
                    "the {expected:?} input {:?} is looked up in a {kind:?} vocabulary",
                    inputs[i].name
                )));
            }
            if let Some(index) = node.prebuilt_index() {
                return Ok(index);
            }
            let vocab = match kind.as_str() {
                "str" => Vocab::Str {
                    data: field(node, "data", Spec::byte_buffer)?,
                    offsets: field(node, "offsets", Spec::i64_buffer)?,
                },
                "int" => Vocab::Int(field(node, "values", Spec::i64s)?),
                _ => Vocab::Float(field(node, "values", Spec::f64s)?),
            };
            Ok(Arc::new(CategoryIndex::new(vocab)?))
        })
        .collect()
}

/// An encoder block's tables, one per vocabulary, each of `len + 2` entries.
fn tables<S: Spec, T>(
    v: &S,
    indexes: &[Arc<CategoryIndex>],
    read: impl Fn(&S) -> Result<Vec<T>>,
    code: impl Fn(usize) -> T,
) -> Result<Vec<Vec<T>>> {
    let saved = field(v, "tables", |n| n.items())?;
    if saved.len() != indexes.len() {
        return Err(bad("one lookup table per vocabulary"));
    }
    saved
        .iter()
        .zip(indexes)
        .map(|(t, index)| {
            let table = if t.has("identity") {
                let n = field(t, "identity", Spec::natural)?;
                let tail = field(t, "tail", &read)?;
                if n != index.len() || tail.len() != 2 {
                    return Err(bad("a lookup table does not fit its vocabulary"));
                }
                (0..n).map(&code).chain(tail).collect()
            } else {
                read(t)?
            };
            if table.len() != index.len() + 2 {
                return Err(bad(format!(
                    "a lookup table has {} entries for {} categories (categories, missing, \
                     unknown)",
                    table.len(),
                    index.len()
                )));
            }
            Ok(table)
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::plan::{Input, RowScratch, RowValue};

    /// A spec written inline as JSON, arrays as JSON lists.
    struct Inline<'a>(&'a Value);

    fn err(what: &str) -> Error {
        bad(what)
    }

    impl Spec for Inline<'_> {
        fn get(&self, key: &str) -> Result<Self> {
            self.0.get(key).map(Inline).ok_or_else(|| err(key))
        }
        fn has(&self, key: &str) -> bool {
            self.0.get(key).is_some()
        }
        fn is_null(&self) -> bool {
            self.0.is_null()
        }
        fn text(&self) -> Result<String> {
            self.0
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| err("text"))
        }
        fn flag(&self) -> Result<bool> {
            self.0.as_bool().ok_or_else(|| err("flag"))
        }
        fn natural(&self) -> Result<usize> {
            self.0
                .as_u64()
                .map(|n| n as usize)
                .ok_or_else(|| err("natural"))
        }
        fn number(&self) -> Result<f64> {
            self.0.as_f64().ok_or_else(|| err("number"))
        }
        fn items(&self) -> Result<Vec<Self>> {
            Ok(self
                .0
                .as_array()
                .ok_or_else(|| err("list"))?
                .iter()
                .map(Inline)
                .collect())
        }
        fn f64s(&self) -> Result<Vec<f64>> {
            self.items()?.iter().map(Spec::number).collect()
        }
        fn i32s(&self) -> Result<Vec<i32>> {
            self.items()?
                .iter()
                .map(|v| Ok(v.0.as_i64().ok_or_else(|| err("i32"))? as i32))
                .collect()
        }
        fn i64s(&self) -> Result<Vec<i64>> {
            self.items()?
                .iter()
                .map(|v| v.0.as_i64().ok_or_else(|| err("i64")))
                .collect()
        }
        fn byte_buffer(&self) -> Result<Buffer<u8>> {
            Ok(self.text()?.into_bytes().into())
        }
        fn matrix(&self) -> Result<(Vec<f64>, usize, usize)> {
            let rows = self.items()?;
            let cols = rows.first().map_or(Ok(0), |r| Ok(r.items()?.len()))?;
            let values = rows.iter().map(Spec::f64s).collect::<Result<Vec<_>>>()?;
            Ok((values.concat(), rows.len(), cols))
        }
    }

    /// Two numeric inputs scaled, and a string input one-hot encoded over "a", "b".
    fn spec() -> Value {
        json!({
            "inputs": [
                {"name": "x", "kind": "numeric"},
                {"name": "y", "kind": "numeric"},
                {"name": "c", "kind": "str", "refuse_unknown": true, "refuse_missing": false},
            ],
            "blocks": [
                {"block": "numeric", "inputs": [0, 1], "steps": [
                    {"step": "sub_div", "sub": [1.0, 2.0], "div": [2.0, 4.0]},
                    {"step": "mul_add", "mul": [1.0, 1.0], "add": [0.0, 0.0], "clip": [-1.0, 1.0]},
                ]},
                {"block": "onehot", "inputs": [2], "offsets": [0], "width": 3,
                 "vocabs": [{"kind": "str", "data": "ab", "offsets": [0, 1, 2]}],
                 "tables": [{"identity": 2, "tail": [2, -1]}]},
            ],
            "width": 5,
            "sparse": false,
        })
    }

    fn parsed(v: &Value) -> Result<Transformer> {
        parse(&Inline(v))
    }

    fn refused(v: &Value, needle: &str) {
        let e = parsed(v).map(|_| ()).unwrap_err().to_string();
        assert!(e.contains(needle), "{needle:?} not in {e:?}");
    }

    #[test]
    fn a_valid_spec_runs_a_row_as_a_batch() {
        let t = parsed(&spec()).unwrap();
        assert_eq!(
            (t.width(), t.inputs().len(), t.looked_up()),
            (5, 3, &[2][..])
        );
        let mut row = [0.0f64; 5];
        let values = [
            RowValue::Number(3.0),
            RowValue::Missing,
            RowValue::Str(b"b"),
        ];
        let mut scratch = RowScratch::default();
        let refused = t.run_row(&values, &mut row, &mut scratch).unwrap();
        assert_eq!(refused, None);
        let (x, y) = ([3.0], [f64::NAN]);
        let s = crate::strings::StrArray::utf8(crate::strings::Offsets::I64(&[0, 1]), b"b", None)
            .unwrap();
        let inputs = [
            Input::Numbers(&x),
            Input::Numbers(&y),
            Input::Categories(crate::strings::Column::new(vec![
                crate::strings::Chunk::Str(s),
            ])),
        ];
        let mut batch = [0.0f64; 5];
        t.plan().run(&inputs, 1, &mut batch).unwrap();
        assert_eq!(row.map(f64::to_bits), batch.map(f64::to_bits));
        assert_eq!(&row[2..], &[0.0, 1.0, 0.0]);
        let unknown = [
            RowValue::Number(0.0),
            RowValue::Number(0.0),
            RowValue::Str(b"z"),
        ];
        let r = t
            .run_row(&unknown, &mut row, &mut scratch)
            .unwrap()
            .unwrap();
        assert_eq!((r.input, r.unknown), (2, true));
        assert!(t
            .refusal_error(r)
            .to_string()
            .contains("\"c\" has an unknown"));
        // A value of the wrong kind for its input is an error, not a guess.
        let wrong = [
            RowValue::Str(b"1"),
            RowValue::Number(0.0),
            RowValue::Str(b"a"),
        ];
        assert!(t.run_row(&wrong, &mut row, &mut scratch).is_err());
    }

    #[test]
    fn widths_offsets_and_tables_are_checked_against_each_other() {
        let mut v = spec();
        v["width"] = json!(1_000_000_000_000u64);
        refused(&v, "declares 1000000000000");
        let mut v = spec();
        v["blocks"][1]["width"] = json!(4);
        refused(&v, "make 3 columns, not 4");
        // A table that points into the next input's columns.
        let mut v = spec();
        v["inputs"].as_array_mut().unwrap().push(json!(
            {"name": "d", "kind": "str", "refuse_unknown": false, "refuse_missing": false}));
        let block = &mut v["blocks"][1];
        block["inputs"] = json!([2, 3]);
        block["vocabs"] = json!([
            {"kind": "str", "data": "ab", "offsets": [0, 1, 2]},
            {"kind": "str", "data": "ab", "offsets": [0, 1, 2]}]);
        block["tables"] = json!([[0, 3, -1, -1], [0, 1, -1, -1]]);
        block["offsets"] = json!([0, 2]);
        block["width"] = json!(4);
        v["width"] = json!(6);
        refused(&v, "start at 2, not where the previous input's end (4)");
        let mut v2 = v.clone();
        v2["blocks"][1]["tables"][0] = json!([0, 1, -7, -1]);
        refused(&v2, "holds -7");
        v["blocks"][1]["tables"][0] = json!([0, 1, -1, -1]);
        assert!(parsed(&v).is_ok());
        let mut v = spec();
        v["blocks"][1]["tables"] = json!([[0, 1, 2]]);
        refused(&v, "3 entries for 2 categories");
        let mut v = spec();
        v["blocks"][1]["tables"] = json!([{"identity": 3, "tail": [2, -1]}]);
        refused(&v, "does not fit its vocabulary");
        let mut v = spec();
        v["blocks"][0]["steps"][0]["sub"] = json!([1.0]);
        refused(&v, "1 parameters follows a block of 2 columns");
        let mut v = spec();
        v["blocks"][0]["steps"][0]["step"] = json!("rescale");
        refused(&v, "unknown plan step \"rescale\"");
    }

    #[test]
    fn inputs_are_read_by_the_blocks_of_their_kind() {
        let mut v = spec();
        v["blocks"][0]["inputs"] = json!([0, 2]);
        refused(&v, "a numeric block reads the Str input \"c\"");
        let mut v = spec();
        v["blocks"][1]["inputs"] = json!([1]);
        refused(&v, "a onehot block reads the Numeric input \"y\"");
        let mut v = spec();
        v["blocks"][1]["vocabs"][0] = json!({"kind": "int", "values": [1, 2]});
        refused(&v, "looked up in a \"int\" vocabulary");
        let mut v = spec();
        v["blocks"][1]["inputs"] = json!([7]);
        refused(&v, "reads input 7 of 3");
        let mut v = spec();
        v["inputs"][2]["kind"] = json!("date");
        refused(&v, "unknown kind \"date\"");
    }
}
