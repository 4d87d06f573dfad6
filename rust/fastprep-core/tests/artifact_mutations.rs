//! What a buggy or hostile writer could produce, read by a Rust service: the golden artifacts
//! with bits flipped, cut short, and their plan's fields and arrays set to extreme values, the
//! digest recomputed so that the reader gets past it. Every load and every run of the plan on
//! rows ends in a value or an error: never a panic, an abort or an endless loop.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use fastprep_core::artifact::{digest, digest_version, parse, Artifact};
use serde_json::Value;

use common::rows;

const ARTIFACTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/artifacts");

/// The golden files of every format (`all`), or of the first and the newest only.
fn golden_files(all: bool) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(ARTIFACTS)
        .expect("the golden artifacts")
        .filter_map(|d| d.ok().map(|d| d.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort_by_key(|d| {
        let v = d
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        v.trim_start_matches('v').parse::<u32>().unwrap_or(0)
    });
    if !all && dirs.len() > 2 {
        dirs = vec![dirs[0].clone(), dirs[dirs.len() - 1].clone()];
    }
    for dir in dirs {
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("a golden version")
            .filter_map(|f| f.ok().map(|f| f.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "fpa"))
            .collect();
        files.sort();
        for f in files {
            let name = f.display().to_string();
            out.push((name, std::fs::read(&f).expect("a golden artifact")));
        }
    }
    assert!(out.len() >= if all { 20 } else { 10 }, "the golden sets");
    out
}

/// An artifact of `manifest` and `data` (the arrays of `like`, possibly changed), with the
/// digest its readers check: what a writer that got past every check of its own would write.
fn sealed(like: &[u8], manifest: &str, data: &[u8]) -> Vec<u8> {
    let c = parse(like).expect("a golden artifact parses");
    let minimum = serde_json::from_str::<Value>(manifest)
        .ok()
        .and_then(|m| m.get("min_reader_version")?.as_u64())
        .unwrap_or(3);
    let sha = digest(manifest, &c.entries, data, digest_version(minimum));
    let mut header = serde_json::Map::new();
    let mut meta = serde_json::Map::new();
    meta.insert("format".into(), "fastprep-artifact".into());
    meta.insert("manifest".into(), manifest.into());
    meta.insert("sha256".into(), sha.into());
    header.insert("__metadata__".into(), Value::Object(meta));
    for e in &c.entries {
        let info = serde_json::json!({
            "dtype": e.dtype.name(),
            "shape": e.shape,
            "data_offsets": [e.begin, e.end],
        });
        header.insert(e.name.clone(), info);
    }
    let mut text = serde_json::to_vec(&Value::Object(header)).expect("JSON");
    while !(8 + text.len()).is_multiple_of(8) {
        text.push(b' ');
    }
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&text);
    out.extend_from_slice(data);
    out
}

/// Loads `bytes` and runs the plan it holds on rows; a panic fails the test, naming `what`.
/// Whether the plan was accepted and ran.
fn survives(bytes: Vec<u8>, what: &str) -> bool {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let t = Artifact::from_bytes(bytes).ok()?.transformer().ok()?;
        rows::run(&t);
        Some(())
    }));
    assert!(outcome.is_ok(), "panicked on {what}");
    outcome.ok().flatten().is_some()
}

/// Every leaf of the plan's JSON, as a JSON pointer.
fn leaves(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, x)| leaves(x, format!("{at}/{k}"), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| leaves(x, format!("{at}/{i}"), out)),
        _ => out.push(at),
    }
}

#[test]
fn extreme_plan_fields_are_refused_or_run() {
    let extremes: Vec<Value> = vec![
        0.into(),
        1.into(),
        (-1).into(),
        2.into(),
        (1u64 << 31).into(),
        (1u64 << 32).into(),
        u64::MAX.into(),
        i64::MIN.into(),
        1e308.into(),
        serde_json::json!({"$float": "nan"}),
        Value::Null,
        true.into(),
        "".into(),
        "numeric".into(),
        serde_json::json!([]),
        serde_json::json!({}),
    ];
    let (mut tried, mut ran) = (0, 0);
    for (name, bytes) in golden_files(false) {
        let c = parse(&bytes).expect("parses");
        let data = c.data.to_vec();
        let manifest: Value = serde_json::from_str(&c.manifest).expect("JSON");
        let mut pointers = Vec::new();
        leaves(&manifest["plan"], "/plan".into(), &mut pointers);
        // Tensor names: any array may be put where another was named.
        let names: Vec<Value> = c.entries.iter().map(|e| e.name.clone().into()).collect();
        for pointer in &pointers {
            for value in extremes.iter().chain(names.iter().take(12)) {
                let mut m = manifest.clone();
                if let Some(leaf) = m.pointer_mut(pointer) {
                    *leaf = value.clone();
                }
                let text = serde_json::to_string(&m).expect("JSON");
                survives(
                    sealed(&bytes, &text, &data),
                    &format!("{name} {pointer} = {value}"),
                );
            }
        }
        // Lists of the plan emptied or doubled.
        let mut lists = Vec::new();
        collect_lists(&manifest["plan"], "/plan".into(), &mut lists);
        for pointer in lists {
            for doubled in [false, true] {
                let mut m = manifest.clone();
                if let Some(Value::Array(a)) = m.pointer_mut(&pointer) {
                    if doubled {
                        a.extend(a.clone());
                    } else {
                        a.clear();
                    }
                }
                let text = serde_json::to_string(&m).expect("JSON");
                let what = format!("{name} {pointer} doubled={doubled}");
                tried += 1;
                ran += usize::from(survives(sealed(&bytes, &text, &data), &what));
            }
        }
    }
    // Many mutations are refused; many others (a threshold, a fill value) load and run.
    assert!(
        ran > tried / 10 && ran < tried,
        "{ran} of {tried} mutations ran"
    );
}

fn collect_lists(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, x)| collect_lists(x, format!("{at}/{k}"), out)),
        Value::Array(a) => {
            out.push(at.clone());
            a.iter()
                .enumerate()
                .for_each(|(i, x)| collect_lists(x, format!("{at}/{i}"), out));
        }
        _ => {}
    }
}

#[test]
fn array_bytes_set_to_extremes_are_refused_or_run() {
    // Each 8-byte word of the data (every array's values, offsets and tables) set to patterns
    // that make huge, negative, NaN or out-of-order numbers of every width.
    let patterns: [[u8; 8]; 5] = [
        [0xff; 8],
        [0x00; 8],
        [0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
        [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x7f], // NaN as f64
        [0x01, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00, 0x80],
    ];
    let (mut tried, mut ran) = (0, 0);
    for (name, bytes) in golden_files(false) {
        let c = parse(&bytes).expect("parses");
        let data = c.data.to_vec();
        // Every word of small files, a spread of them in larger ones.
        let step = (data.len() / 8 / 150).max(1) * 8;
        for at in (0..data.len().saturating_sub(7)).step_by(step) {
            for p in &patterns {
                let mut changed = data.clone();
                changed[at..at + 8].copy_from_slice(p);
                let what = format!("{name} data[{at}]");
                tried += 1;
                ran += usize::from(survives(sealed(&bytes, &c.manifest, &changed), &what));
            }
        }
    }
    assert!(
        ran > tried / 10 && ran < tried,
        "{ran} of {tried} mutations ran"
    );
}

#[test]
fn flipped_bits_and_truncations_are_errors() {
    for (name, bytes) in golden_files(true) {
        let step = (bytes.len() / 100).max(1);
        for at in (0..bytes.len()).step_by(step) {
            let mut b = bytes.clone();
            b[at] ^= 1 << (at % 8);
            let err = catch_unwind(AssertUnwindSafe(|| Artifact::from_bytes(b).is_err()));
            assert_eq!(
                err.ok(),
                Some(true),
                "{name}: a flipped bit at {at} was accepted"
            );
            let cut = catch_unwind(AssertUnwindSafe(|| {
                Artifact::from_bytes(bytes[..at].to_vec()).is_err()
            }));
            assert_eq!(cut.ok(), Some(true), "{name}: cut at {at} was accepted");
        }
    }
}
