//! Mutations that get past the digest: the input's digest is recomputed before it is read, so
//! the fuzzer explores the manifest, the plan and the arrays (what a buggy or hostile writer
//! could produce), not only the container.
#![no_main]

use fastprep_core::artifact::{digest, digest_version, read, Artifact, Dtype, Entry};
use libfuzzer_sys::fuzz_target;

#[path = "../../rust/fastprep-core/tests/common/rows.rs"]
mod rows;
use serde_json::Value;

/// `data` with its metadata's sha256 set to the digest of its contents, when it parses.
fn sealed(data: &[u8]) -> Option<Vec<u8>> {
    let n = u64::from_le_bytes(data.get(..8)?.try_into().ok()?) as usize;
    let header: Value = serde_json::from_slice(data.get(8..8usize.checked_add(n)?)?).ok()?;
    let mut header = header.as_object()?.clone();
    let manifest = header
        .get("__metadata__")?
        .get("manifest")?
        .as_str()?
        .to_string();
    let mut entries = Vec::new();
    for (name, info) in &header {
        if name == "__metadata__" {
            continue;
        }
        let dtype = match info.get("dtype")?.as_str()? {
            "F64" => Dtype::F64,
            "I64" => Dtype::I64,
            "I32" => Dtype::I32,
            "U8" => Dtype::U8,
            _ => return None,
        };
        let shape = info.get("shape")?.as_array()?;
        let offsets = info.get("data_offsets")?.as_array()?;
        entries.push(Entry {
            name: name.clone(),
            dtype,
            shape: shape
                .iter()
                .map(|d| d.as_u64().map(|d| d as usize))
                .collect::<Option<_>>()?,
            begin: offsets.first()?.as_u64()? as usize,
            end: offsets.get(1)?.as_u64()? as usize,
        });
    }
    let body = data.get(8 + n..)?;
    let minimum = serde_json::from_str::<Value>(&manifest)
        .ok()
        .and_then(|m| m.get("min_reader_version")?.as_u64())
        .unwrap_or(2);
    let sha = digest(&manifest, &entries, body, digest_version(minimum));
    header
        .get_mut("__metadata__")?
        .as_object_mut()?
        .insert("sha256".into(), Value::from(sha));
    let mut text = serde_json::to_vec(&header).ok()?;
    while (8 + text.len()) % 8 != 0 {
        text.push(b' ');
    }
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&text);
    out.extend_from_slice(body);
    Some(out)
}

fuzz_target!(|data: &[u8]| {
    let Some(bytes) = sealed(data) else { return };
    if read(&bytes).is_err() {
        return;
    }
    if let Ok(artifact) = Artifact::from_bytes(bytes) {
        if let Ok(t) = artifact.transformer() {
            rows::run(&t);
        }
    }
});
