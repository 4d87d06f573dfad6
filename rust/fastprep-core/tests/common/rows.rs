//! Rows of awkward values for whatever inputs a transformer reads: what the mutation tests
//! and the fuzz targets run a plan on after a load succeeds.

use fastprep_core::plan::{Input, InputKind, Transformer};
use fastprep_core::strings::{Chunk, Column, Offsets, StrArray, Validity};

/// Rows per input.
pub const ROWS: usize = 5;

const NUMBERS: [f64; ROWS] = [0.0, f64::NAN, 1e300, -1.5, f64::NEG_INFINITY];
const INTS: [i64; ROWS] = [0, -1, i64::MAX, 1, i64::MIN];
const INT_MISSING: [bool; ROWS] = [false, false, false, true, false];
/// "", "a", "State-gov", "é", and a missing value.
const TEXT: &[u8] = "aState-gové".as_bytes();
const OFFSETS: [i32; ROWS + 1] = [0, 0, 1, 10, 12, 12];
const VALID: [u8; 1] = [0b0_1111];

/// One input column of `ROWS` values of the input's kind.
pub fn input(kind: InputKind) -> Input<'static> {
    match kind {
        InputKind::Numeric => Input::Numbers(&NUMBERS),
        InputKind::Float => Input::Categories(Column::new(vec![Chunk::Float {
            values: &NUMBERS,
            missing: None,
        }])),
        InputKind::Int => Input::Categories(Column::new(vec![Chunk::Int {
            values: &INTS,
            missing: Some(&INT_MISSING),
        }])),
        InputKind::Str => {
            let validity = Validity::new(&VALID, 0, ROWS).ok();
            let strings = StrArray::utf8(Offsets::I32(&OFFSETS), TEXT, validity)
                .expect("valid rows of strings");
            Input::Categories(Column::new(vec![Chunk::Str(strings)]))
        }
    }
}

/// Runs `t` on `ROWS` rows of awkward values: the result may be an error, never a panic.
pub fn run(t: &Transformer) {
    let inputs: Vec<Input<'_>> = t.inputs().iter().map(|i| input(i.kind)).collect();
    let _ = t.transform(&inputs, ROWS);
    let _ = t.plan().run_csr(&inputs, ROWS);
}
