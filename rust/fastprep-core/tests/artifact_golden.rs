//! A Rust service's view of an artifact: read the golden files Python wrote, transform their
//! inputs without Python, and get the numbers Python's NumPy reference gave.

use fastprep_core::artifact::Artifact;
use fastprep_core::plan::{Input, InputKind};
use fastprep_core::strings::{Chunk, Column, Offsets, StrArray, Validity};
use serde_json::Value;

const ARTIFACTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/artifacts");
/// Every format version's golden files keep loading and giving the same numbers.
const VERSIONS: [&str; 5] = ["v1", "v2", "v3", "v4", "v5"];
/// The current format's files.
const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/artifacts/v5");

/// A little-endian float64 `.npy` file: its shape and values.
fn npy(path: &str) -> (Vec<usize>, Vec<f64>) {
    let bytes = std::fs::read(path).expect("expected output");
    assert_eq!(&bytes[..6], b"\x93NUMPY");
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + header_len]).expect("npy header");
    assert!(header.contains("'descr': '<f8'") && header.contains("'fortran_order': False"));
    let shape: Vec<usize> = header
        .split("'shape': (")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .expect("shape")
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse().expect("dimension"))
        .collect();
    let values = bytes[10 + header_len..]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect();
    (shape, values)
}

/// One input column held in the layouts the core reads (Arrow's, for strings).
enum Held {
    Numbers(Vec<f64>),
    Strings {
        offsets: Vec<i32>,
        data: Vec<u8>,
        validity: Vec<u8>,
        len: usize,
    },
}

impl Held {
    fn of(values: &[Value], kind: InputKind) -> Self {
        match kind {
            InputKind::Numeric => Held::Numbers(
                values
                    .iter()
                    .map(|v| v.as_f64().unwrap_or(f64::NAN))
                    .collect(),
            ),
            InputKind::Str => {
                let mut offsets = vec![0i32];
                let mut data = Vec::new();
                let mut validity = vec![0u8; values.len().div_ceil(8)];
                for (i, v) in values.iter().enumerate() {
                    if let Some(s) = v.as_str() {
                        data.extend_from_slice(s.as_bytes());
                        validity[i / 8] |= 1 << (i % 8);
                    }
                    offsets.push(data.len() as i32);
                }
                Held::Strings {
                    offsets,
                    data,
                    validity,
                    len: values.len(),
                }
            }
            other => panic!("no golden input of kind {other:?}"),
        }
    }

    fn input(&self) -> Input<'_> {
        match self {
            Held::Numbers(v) => Input::Numbers(v),
            Held::Strings {
                offsets,
                data,
                validity,
                len,
            } => {
                let validity = Validity::new(validity, 0, *len).expect("validity");
                let array =
                    StrArray::utf8(Offsets::I32(offsets), data, Some(validity)).expect("strings");
                Input::Categories(Column::new(vec![Chunk::Str(array)]))
            }
        }
    }
}

/// Equal NaN positions, other values within `rtol` of their column's largest magnitude (the
/// parity contract: transcendental kernels differ in their last bits, centring cancels).
fn close(got: &[f64], expected: &[f64], cols: usize, rtol: f64) -> bool {
    let scale: Vec<f64> = (0..cols)
        .map(|j| {
            expected
                .iter()
                .skip(j)
                .step_by(cols)
                .filter(|x| !x.is_nan())
                .fold(0.0f64, |m, x| m.max(x.abs()))
        })
        .collect();
    got.len() == expected.len()
        && got.iter().zip(expected).enumerate().all(|(i, (a, b))| {
            (a.is_nan() && b.is_nan()) || (a - b).abs() <= rtol * scale[i % cols]
        })
}

#[test]
fn golden_artifacts_transform_without_python() {
    let names = [
        "standard_scaler",
        "robust_numeric",
        "adult_pipeline",
        "mixed",
        "strict_encoder",
    ];
    for (version, name) in VERSIONS.iter().flat_map(|v| names.map(|n| (v, n))) {
        let dir = format!("{ARTIFACTS}/{version}");
        let artifact = Artifact::open(format!("{dir}/{name}.fpa")).expect("artifact");
        assert_eq!(artifact.fingerprint().map(str::len), Some(64));
        let transformer = artifact.transformer().expect("a compiled plan");
        let text = std::fs::read_to_string(format!("{dir}/{name}.input.json")).expect("input");
        let columns: Value = serde_json::from_str(&text).expect("input JSON");
        let held: Vec<Held> = transformer
            .inputs()
            .iter()
            .map(|spec| {
                let values = columns[&spec.name].as_array().expect("column");
                Held::of(values, spec.kind)
            })
            .collect();
        let inputs: Vec<Input<'_>> = held.iter().map(Held::input).collect();
        let (shape, expected) = npy(&format!("{dir}/{name}.expected.npy"));
        let rows = shape[0];
        let got = transformer.transform(&inputs, rows).expect("transform");
        assert_eq!(shape[1], transformer.width(), "{version} {name}");
        assert!(close(&got, &expected, shape[1], 1e-14), "{version} {name}");
    }
}

fn one_row(artifact: &Artifact, category: &str) -> Result<Vec<f64>, fastprep_core::Error> {
    let transformer = artifact.transformer().expect("plan");
    let held: Vec<Held> = transformer
        .inputs()
        .iter()
        .map(|spec| match spec.kind {
            InputKind::Numeric => Held::of(&[Value::from(30.0)], InputKind::Numeric),
            _ => Held::of(&[Value::from(category)], InputKind::Str),
        })
        .collect();
    let inputs: Vec<Input<'_>> = held.iter().map(Held::input).collect();
    transformer.transform(&inputs, 1)
}

#[test]
fn unknown_categories_follow_the_fitted_policy() {
    // handle_unknown="error": an unknown category is an error naming the column.
    let strict = Artifact::open(format!("{GOLDEN}/strict_encoder.fpa")).expect("artifact");
    let err = one_row(&strict, "never seen").expect_err("unknown category");
    assert!(
        err.to_string().contains("\"race\" has an unknown category"),
        "{err}"
    );
    // Encoders that encode unknown values (ignore, infrequent, an encoded value) do so.
    let lenient = Artifact::open(format!("{GOLDEN}/mixed.fpa")).expect("artifact");
    assert!(one_row(&lenient, "never seen").is_ok());
}

#[test]
fn a_corrupt_file_is_an_error_not_a_panic() {
    let mut bytes = std::fs::read(format!("{GOLDEN}/adult_pipeline.fpa")).expect("artifact");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let err = Artifact::from_bytes(bytes).expect_err("a flipped bit");
    assert!(err.to_string().contains("integrity"), "{err}");
}
