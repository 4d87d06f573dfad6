//! One request row as plan inputs: each value read by its input's kind into a one-row column,
//! so that a row goes through the same lookups and arithmetic as a batch.

use crate::error::{Error, Result};
use crate::strings::{Chunk, Column, Offsets, StrArray, Validity};

use super::{Input, InputKind};

/// One value of a request row, as the caller read it for its input's kind.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RowValue<'a> {
    Number(f64),
    Int(i64),
    Str(&'a [u8]),
    Missing,
}

/// The one-row columns of a row's values: storage first, views of it after (`inputs`).
pub(super) struct RowColumns<'a> {
    values: &'a [RowValue<'a>],
    kinds: Vec<InputKind>,
    numbers: Vec<[f64; 1]>,
    ints: Vec<[i64; 1]>,
    offsets: Vec<[i64; 2]>,
}

/// The validity bitmap of a missing value: bit 0 clear.
const MISSING_BIT: [u8; 1] = [0];

impl<'a> RowColumns<'a> {
    /// Checks each value against its input's kind.
    pub(super) fn new(values: &'a [RowValue<'a>], kinds: Vec<InputKind>) -> Result<Self> {
        if values.len() != kinds.len() {
            return Err(Error::Shape(format!(
                "the plan reads {} inputs, the row has {} values",
                kinds.len(),
                values.len()
            )));
        }
        for (i, (v, kind)) in values.iter().zip(&kinds).enumerate() {
            let fits = matches!(
                (kind, v),
                (_, RowValue::Missing)
                    | (InputKind::Numeric | InputKind::Float, RowValue::Number(_))
                    | (InputKind::Int, RowValue::Int(_))
                    | (InputKind::Str, RowValue::Str(_))
            );
            if !fits {
                return Err(Error::Shape(format!(
                    "input {i} is {kind:?}, the row gives {v:?}"
                )));
            }
        }
        let numbers = values
            .iter()
            .map(|v| match v {
                RowValue::Number(x) => [*x],
                _ => [f64::NAN],
            })
            .collect();
        let ints = values
            .iter()
            .map(|v| match v {
                RowValue::Int(x) => [*x],
                _ => [0],
            })
            .collect();
        let offsets = values
            .iter()
            .map(|v| match v {
                RowValue::Str(b) => [0, b.len() as i64],
                _ => [0, 0],
            })
            .collect();
        Ok(Self {
            values,
            kinds,
            numbers,
            ints,
            offsets,
        })
    }

    /// The plan inputs over the storage.
    pub(super) fn inputs(&self) -> Result<Vec<Input<'_>>> {
        let mut out = Vec::with_capacity(self.values.len());
        for (i, (v, kind)) in self.values.iter().zip(&self.kinds).enumerate() {
            let missing = matches!(v, RowValue::Missing);
            out.push(match kind {
                InputKind::Numeric => Input::Numbers(&self.numbers[i]),
                InputKind::Float => Input::Categories(Column::new(vec![Chunk::Float {
                    values: &self.numbers[i],
                    missing: None,
                }])),
                InputKind::Int => Input::Categories(Column::new(vec![Chunk::Int {
                    values: &self.ints[i],
                    missing: missing.then_some(&[true][..]),
                }])),
                InputKind::Str => {
                    let (data, validity): (&[u8], _) = match v {
                        RowValue::Str(b) => (b, None),
                        _ => (&[], Some(Validity::new(&MISSING_BIT, 0, 1)?)),
                    };
                    let s = StrArray::utf8(Offsets::I64(&self.offsets[i]), data, validity)?;
                    Input::Categories(Column::new(vec![Chunk::Str(s)]))
                }
            });
        }
        Ok(out)
    }
}
