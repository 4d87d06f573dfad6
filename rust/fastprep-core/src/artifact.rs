//! Reading fastprep artifacts: a safetensors container whose metadata holds a JSON manifest and
//! a SHA-256 over manifest and data. `fastprep.reference.artifact` is the specification; this
//! reader accepts and refuses the same files, so a Rust service reads what Python wrote.
//!
//! The container layout is checked by the `safetensors` crate (header length, JSON, tensors back
//! to back, nothing after the last); this module adds what safetensors does not: the format tag,
//! the reader version, and the digest (safetensors alone loads a flipped data bit silently).

use std::collections::HashMap;
use std::path::Path;

use rayon::prelude::*;
use safetensors::tensor::{Dtype as StDtype, SafeTensors};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::memory::Buffer;
use crate::parallel::max_threads;
use crate::plan::{self, Transformer};

/// The format tag in the safetensors metadata.
pub const FORMAT: &str = "fastprep-artifact";
/// The newest format version this reader understands.
pub const READER_VERSION: u64 = 3;
/// Bytes of data per independently digested piece (format 2).
pub const CHUNK: usize = 1 << 20;

/// The element types an artifact may hold (little-endian).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    Bool,
    U8,
    I8,
    I16,
    U16,
    I32,
    U32,
    F32,
    I64,
    U64,
    F64,
}

impl Dtype {
    fn of(dtype: StDtype) -> Option<Self> {
        Some(match dtype {
            StDtype::BOOL => Dtype::Bool,
            StDtype::U8 => Dtype::U8,
            StDtype::I8 => Dtype::I8,
            StDtype::I16 => Dtype::I16,
            StDtype::U16 => Dtype::U16,
            StDtype::I32 => Dtype::I32,
            StDtype::U32 => Dtype::U32,
            StDtype::F32 => Dtype::F32,
            StDtype::I64 => Dtype::I64,
            StDtype::U64 => Dtype::U64,
            StDtype::F64 => Dtype::F64,
            _ => return None,
        })
    }

    /// The safetensors name, as stored in the header and hashed.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::Bool => "BOOL",
            Dtype::U8 => "U8",
            Dtype::I8 => "I8",
            Dtype::I16 => "I16",
            Dtype::U16 => "U16",
            Dtype::I32 => "I32",
            Dtype::U32 => "U32",
            Dtype::F32 => "F32",
            Dtype::I64 => "I64",
            Dtype::U64 => "U64",
            Dtype::F64 => "F64",
        }
    }
}

/// One array of an artifact: offsets are relative to the data section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    pub begin: usize,
    pub end: usize,
}

/// An artifact in a byte buffer: its manifest text, where its data starts, its arrays.
#[derive(Debug)]
pub struct Container<'a> {
    pub manifest: String,
    pub data_start: usize,
    pub entries: Vec<Entry>,
    pub data: &'a [u8],
    sha256: String,
    digest_version: u64,
}

impl Container<'_> {
    /// Checks the digest: the one pass over all the data (on several cores, for format 2).
    pub fn verify(&self) -> Result<()> {
        let actual = digest(
            &self.manifest,
            &self.entries,
            self.data,
            self.digest_version,
        );
        if actual.as_bytes() != self.sha256.as_bytes() {
            return Err(refuse(
                "artifact integrity check failed: its SHA-256 does not match its contents (the \
                 file is corrupt or was modified)",
            ));
        }
        Ok(())
    }
}

fn refuse(message: impl Into<String>) -> Error {
    Error::Artifact(message.into())
}

/// The digest of a file that readers from `min_reader_version` on must check: 1 digests the
/// data as one field, 2 by pieces of `CHUNK` bytes (see the Python reference).
pub fn digest_version(min_reader_version: u64) -> u64 {
    if min_reader_version < 2 {
        1
    } else {
        2
    }
}

/// The artifact digest (of `digest_version`) of a manifest, its entries and its data.
pub fn digest(manifest: &str, entries: &[Entry], data: &[u8], version: u64) -> String {
    fn put(h: &mut Sha256, field: &[u8]) {
        h.update((field.len() as u64).to_le_bytes());
        h.update(field);
    }
    let mut h = Sha256::new();
    let tag: &[u8] = if version == 1 {
        b"fastprep-artifact-sha256-v1"
    } else {
        b"fastprep-artifact-sha256-v2"
    };
    put(&mut h, tag);
    put(&mut h, manifest.as_bytes());
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for e in sorted {
        put(&mut h, e.name.as_bytes());
        put(&mut h, e.dtype.name().as_bytes());
        h.update((e.shape.len() as u64).to_le_bytes());
        for &d in &e.shape {
            h.update((d as u64).to_le_bytes());
        }
        h.update((e.begin as u64).to_le_bytes());
        h.update((e.end as u64).to_le_bytes());
    }
    h.update((data.len() as u64).to_le_bytes());
    if version == 1 {
        h.update(data);
    } else {
        h.update((CHUNK as u64).to_le_bytes());
        for p in &piece_digests(data, data.len() > CHUNK && max_threads() != 1) {
            h.update(p);
        }
    }
    h.finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
}

/// The SHA-256 of each `CHUNK` bytes of `data`, on the pool's threads when `parallel`.
fn piece_digests(data: &[u8], parallel: bool) -> Vec<[u8; 32]> {
    let piece = |c: &[u8]| <[u8; 32]>::from(Sha256::digest(c));
    if parallel {
        data.par_chunks(CHUNK).map(piece).collect()
    } else {
        data.chunks(CHUNK).map(piece).collect()
    }
}

/// The manifest fields a reader needs before anything else; the rest is skipped, not built.
#[derive(serde::Deserialize)]
struct Versions {
    format_version: Option<Value>,
    min_reader_version: Option<Value>,
}

/// Refuses a manifest that needs a newer reader, before the digest is checked (a newer format
/// may digest differently).
fn check_versions(manifest: &Versions) -> Result<u64> {
    let version = manifest.format_version.as_ref().and_then(Value::as_u64);
    let minimum = manifest.min_reader_version.as_ref().and_then(Value::as_u64);
    let (Some(version), Some(minimum)) = (version, minimum) else {
        return Err(refuse(
            "not a valid artifact: the manifest lacks its format versions",
        ));
    };
    if minimum > READER_VERSION {
        return Err(refuse(format!(
            "this artifact has format version {version} and needs a reader of version {minimum} \
             or newer; this fastprep reads format {READER_VERSION}: upgrade fastprep to load it"
        )));
    }
    Ok(minimum)
}

/// Checks an artifact held in `buffer`: layout, format tag, versions and digest.
pub fn read(buffer: &[u8]) -> Result<Container<'_>> {
    let container = parse(buffer)?;
    container.verify()?;
    Ok(container)
}

/// Checks an artifact's layout, format tag and versions, not yet its digest (`verify`), so
/// that a reader can check the digest while it builds the state.
pub fn parse(buffer: &[u8]) -> Result<Container<'_>> {
    let (n, metadata) = SafeTensors::read_metadata(buffer)
        .map_err(|e| refuse(format!("not a fastprep artifact (or truncated): {e}")))?;
    let meta = metadata
        .metadata()
        .as_ref()
        .filter(|m| m.get("format").map(String::as_str) == Some(FORMAT))
        .ok_or_else(|| refuse("not a fastprep artifact: its metadata does not name the format"))?;
    let (Some(manifest), Some(expected), 3) =
        (meta.get("manifest"), meta.get("sha256"), meta.len())
    else {
        return Err(refuse("not a valid artifact: malformed metadata"));
    };
    let versions: Versions = serde_json::from_str(manifest).map_err(|e| {
        refuse(format!(
            "not a valid artifact: the manifest is not a JSON object ({e})"
        ))
    })?;
    let digest_version = digest_version(check_versions(&versions)?);
    let tensors: HashMap<String, _> = metadata.tensors();
    let mut entries = Vec::with_capacity(tensors.len());
    for (name, info) in tensors {
        let dtype = Dtype::of(info.dtype).ok_or_else(|| {
            refuse(format!(
                "not a valid artifact: tensor {name:?} has dtype {:?}",
                info.dtype
            ))
        })?;
        let (begin, end) = info.data_offsets;
        entries.push(Entry {
            name,
            dtype,
            shape: info.shape.clone(),
            begin,
            end,
        });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    let data_start = 8 + n;
    Ok(Container {
        manifest: manifest.clone(),
        data_start,
        entries,
        data: &buffer[data_start..],
        sha256: expected.clone(),
        digest_version,
    })
}

/// A checked artifact read from a file, with its manifest parsed.
#[derive(Debug)]
pub struct Artifact {
    bytes: Vec<u8>,
    data_start: usize,
    entries: HashMap<String, Entry>,
    manifest: Value,
}

impl Artifact {
    /// Reads and checks the artifact at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let bytes = std::fs::read(path.as_ref()).map_err(|e| {
            refuse(format!(
                "cannot read artifact {}: {e}",
                path.as_ref().display()
            ))
        })?;
        Self::from_bytes(bytes)
    }

    /// Checks an artifact held in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        let container = read(&bytes)?;
        let manifest = serde_json::from_str(&container.manifest)
            .map_err(|e| refuse(format!("not a valid artifact: {e}")))?;
        let data_start = container.data_start;
        let entries = container
            .entries
            .into_iter()
            .map(|e| (e.name.clone(), e))
            .collect();
        Ok(Self {
            bytes,
            data_start,
            entries,
            manifest,
        })
    }

    /// The manifest: versions, kind, fingerprint, inputs, metadata, profile, structure.
    pub fn manifest(&self) -> &Value {
        &self.manifest
    }

    /// The fingerprint of the fitted state, as Python's `obj.fingerprint` gives it.
    pub fn fingerprint(&self) -> Option<&str> {
        self.manifest.get("fingerprint").and_then(Value::as_str)
    }

    /// The entry and bytes of array `name`.
    pub fn array(&self, name: &str) -> Result<(&Entry, &[u8])> {
        let e = self
            .entries
            .get(name)
            .ok_or_else(|| refuse(format!("not a valid artifact: no array {name:?}")))?;
        let start = self.data_start + e.begin;
        Ok((e, &self.bytes[start..self.data_start + e.end]))
    }

    /// The bytes of array `name`, which must be stored as `dtype`.
    fn typed(&self, name: &str, dtype: Dtype) -> Result<&[u8]> {
        let (e, bytes) = self.array(name)?;
        if e.dtype != dtype {
            return Err(refuse(format!("array {name:?} is not {}", dtype.name())));
        }
        Ok(bytes)
    }

    /// Array `name` as f64 values (it must be stored as F64).
    pub fn f64s(&self, name: &str) -> Result<Vec<f64>> {
        Ok(le_values(self.typed(name, Dtype::F64)?, f64::from_le_bytes))
    }

    /// Array `name` as i64 values (it must be stored as I64).
    pub fn i64s(&self, name: &str) -> Result<Vec<i64>> {
        Ok(le_values(self.typed(name, Dtype::I64)?, i64::from_le_bytes))
    }

    /// Array `name` as bytes (it must be stored as U8).
    pub fn bytes(&self, name: &str) -> Result<&[u8]> {
        self.typed(name, Dtype::U8)
    }
}

/// Little-endian values of `N` bytes each.
fn le_values<T, const N: usize>(bytes: &[u8], from: fn([u8; N]) -> T) -> Vec<T> {
    bytes
        .chunks_exact(N)
        .map(|c| from(c.try_into().unwrap_or([0; N])))
        .collect()
}

/// A node of the manifest's plan spec: JSON, with arrays named and stored in the artifact.
#[derive(Clone, Copy)]
struct ManifestNode<'a> {
    value: &'a Value,
    artifact: &'a Artifact,
}

impl ManifestNode<'_> {
    fn name(&self) -> Result<&str> {
        self.value.as_str().ok_or_else(|| {
            refuse(format!(
                "expected the name of an array, got {:.80}",
                self.value
            ))
        })
    }
}

impl plan::spec::Spec for ManifestNode<'_> {
    fn get(&self, key: &str) -> Result<Self> {
        let value = self
            .value
            .get(key)
            .ok_or_else(|| refuse(format!("the plan lacks {key:?}")))?;
        Ok(Self { value, ..*self })
    }

    fn has(&self, key: &str) -> bool {
        self.value.get(key).is_some()
    }

    fn is_null(&self) -> bool {
        self.value.is_null()
    }

    fn text(&self) -> Result<String> {
        self.value
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| refuse("expected a string"))
    }

    fn flag(&self) -> Result<bool> {
        self.value
            .as_bool()
            .ok_or_else(|| refuse("expected a bool"))
    }

    fn natural(&self) -> Result<usize> {
        self.value
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| refuse("expected a natural number"))
    }

    /// A number as the manifest writes it: JSON, or `{"$float": "nan" | "inf" | "-inf"}`.
    fn number(&self) -> Result<f64> {
        if let Some(x) = self.value.as_f64() {
            return Ok(x);
        }
        match self.value.get("$float").and_then(Value::as_str) {
            Some("nan") => Ok(f64::NAN),
            Some("inf") => Ok(f64::INFINITY),
            Some("-inf") => Ok(f64::NEG_INFINITY),
            _ => Err(refuse(format!("{:.80} is not a number", self.value))),
        }
    }

    fn items(&self) -> Result<Vec<Self>> {
        Ok(self
            .value
            .as_array()
            .ok_or_else(|| refuse("expected a list"))?
            .iter()
            .map(|value| Self { value, ..*self })
            .collect())
    }

    fn f64s(&self) -> Result<Vec<f64>> {
        self.artifact.f64s(self.name()?)
    }

    fn i32s(&self) -> Result<Vec<i32>> {
        self.artifact.i32s(self.name()?)
    }

    fn i64s(&self) -> Result<Vec<i64>> {
        self.artifact.i64s(self.name()?)
    }

    fn byte_buffer(&self) -> Result<Buffer<u8>> {
        Ok(self.artifact.bytes(self.name()?)?.to_vec().into())
    }

    fn matrix(&self) -> Result<(Vec<f64>, usize, usize)> {
        let name = self.name()?;
        let (entry, _) = self.artifact.array(name)?;
        let [rows, cols] = entry.shape[..] else {
            return Err(refuse(format!("array {name:?} must be 2-D")));
        };
        Ok((self.artifact.f64s(name)?, rows, cols))
    }
}

impl Artifact {
    /// The saved compiled plan (`plan::spec` describes it). Artifacts of objects the plan does
    /// not cover (a step with no native form) have none: they are for Python readers only.
    pub fn transformer(&self) -> Result<Transformer> {
        let value = self
            .manifest
            .get("plan")
            .filter(|p| !p.is_null())
            .ok_or_else(|| {
                refuse("this artifact has no compiled plan: a step has no native form")
            })?;
        plan::spec::parse(&ManifestNode {
            value,
            artifact: self,
        })
        .map_err(|e| match e {
            Error::Artifact(m) => refuse(format!("not a valid artifact: {m}")),
            other => refuse(format!("not a valid artifact: {other}")),
        })
    }

    /// Array `name` as i32 values (it must be stored as I32).
    pub fn i32s(&self, name: &str) -> Result<Vec<i32>> {
        Ok(le_values(self.typed(name, Dtype::I32)?, i32::from_le_bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn golden_of(version: &str) -> Vec<u8> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/artifacts");
        std::fs::read(format!("{dir}/{version}/standard_scaler.fpa")).unwrap_or_default()
    }

    fn golden() -> Vec<u8> {
        golden_of("v3")
    }

    #[test]
    fn reads_the_golden_files() {
        for (version, digest) in [("v1", 1), ("v2", 2), ("v3", 2)] {
            let bytes = golden_of(version);
            let c = read(&bytes).map_err(|e| e.to_string());
            assert!(c.is_ok(), "{version}: {c:?}");
            assert_eq!(c.map(|c| c.digest_version), Ok(digest));
        }
    }

    /// A data section of several pieces, with entries that cover it.
    fn pieces(len: usize) -> (Vec<Entry>, Vec<u8>) {
        let data: Vec<u8> = (0..len).map(|i| (i * 7 + i / 251) as u8).collect();
        let entry = Entry {
            name: "x".into(),
            dtype: Dtype::U8,
            shape: vec![len],
            begin: 0,
            end: len,
        };
        (vec![entry], data)
    }

    #[test]
    fn pieces_digest_alike_on_one_core_or_several_and_see_every_piece() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17] {
            let (entries, data) = pieces(len);
            let one = piece_digests(&data, false);
            assert_eq!(one.len(), len.div_ceil(CHUNK));
            assert_eq!(piece_digests(&data, true), one, "{len}");
            let several = digest("{}", &entries, &data, 2);
            assert_ne!(several, digest("{}", &entries, &data, 1), "{len}");
            if len > 0 {
                // A flipped bit in the first and in the last piece.
                for at in [0, len - 1] {
                    let mut flipped = data.clone();
                    flipped[at] ^= 4;
                    assert_ne!(digest("{}", &entries, &flipped, 2), several, "{len} {at}");
                }
            }
        }
    }

    #[test]
    fn refuses_every_truncation_and_trailing_bytes() {
        let bytes = golden();
        assert!(!bytes.is_empty());
        for cut in 0..bytes.len() {
            assert!(read(&bytes[..cut]).is_err(), "truncated at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(read(&longer).is_err());
    }

    #[test]
    fn refuses_every_flipped_bit() {
        let bytes = golden();
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                assert!(read(&b).is_err(), "bit {bit} of byte {i}");
            }
        }
    }

    #[test]
    fn a_saved_identity_table_must_fit_its_vocabulary() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/artifacts");
        let bytes = std::fs::read(format!("{path}/v3/strict_encoder.fpa")).unwrap_or_default();
        let with = |key: &str, value: Value| {
            let mut a = Artifact::from_bytes(bytes.clone()).map_err(|e| e.to_string())?;
            // The first column ("race") has 5 categories.
            a.manifest["plan"]["blocks"][0]["tables"][0][key] = value;
            a.transformer().map(|_| ()).map_err(|e| e.to_string())
        };
        assert_eq!(with("identity", 5.into()), Ok(()));
        for n in [0, 4, 6, u64::MAX] {
            let err = with("identity", n.into()).err().unwrap_or_default();
            assert!(err.contains("does not fit its vocabulary"), "{n}: {err}");
        }
        let err = with("identity", (-1).into()).err().unwrap_or_default();
        assert!(err.contains("natural number"), "{err}");
        // The tail must name an array of the table's type.
        let a = Artifact::from_bytes(bytes.clone()).map_err(|e| e.to_string());
        let bytes_array = a.map(|a| a.manifest["plan"]["blocks"][0]["vocabs"][0]["data"].clone());
        let err = with("tail", bytes_array.unwrap_or_default())
            .err()
            .unwrap_or_default();
        assert!(err.contains("is not I32"), "{err}");
        let err = with("tail", "nothing".into()).err().unwrap_or_default();
        assert!(err.contains("no array"), "{err}");
    }

    #[test]
    fn refuses_an_absurd_header_length() {
        let mut b = golden();
        b[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(read(&b), Err(Error::Artifact(_))));
    }
}
