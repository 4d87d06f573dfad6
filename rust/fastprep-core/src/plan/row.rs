//! One request row: each value read by its input's kind, for `Plan::run_one`, which looks it
//! up and computes it as a batch row is.

use crate::encode::Found;
use crate::error::{Error, Result};

use super::InputKind;

/// One value of a request row, as the caller read it for its input's kind.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RowValue<'a> {
    Number(f64),
    Int(i64),
    Str(&'a [u8]),
    Missing,
}

/// What a row needs besides its output, kept by the caller (one per thread) so that a warm
/// request row allocates nothing: what each lookup found, and the numeric steps' two rows.
#[derive(Debug, Default)]
pub struct RowScratch {
    pub(super) found: Vec<Found>,
    pub(super) cur: Vec<f64>,
    pub(super) next: Vec<f64>,
}

/// Checks each value against its input's kind.
pub(super) fn check_kinds(
    values: &[RowValue<'_>],
    kinds: impl ExactSizeIterator<Item = InputKind>,
) -> Result<()> {
    if values.len() != kinds.len() {
        return Err(Error::Shape(format!(
            "the plan reads {} inputs, the row has {} values",
            kinds.len(),
            values.len()
        )));
    }
    for (i, (v, kind)) in values.iter().zip(kinds).enumerate() {
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
    Ok(())
}
