"""Reading an artifact's container: the specification of ``fastprep_core::artifact``.

An artifact is a safetensors file (https://huggingface.co/docs/safetensors):

- 8 bytes: ``N``, the header length, little-endian u64;
- ``N`` bytes: a JSON object, UTF-8, padded with spaces so that the data starts at a multiple
  of 8. It maps each tensor name to ``{"dtype", "shape", "data_offsets": [begin, end]}`` and
  ``"__metadata__"`` to ``{"format": "fastprep-artifact", "manifest": <JSON text>,
  "sha256": <64 lowercase hex digits>}``;
- the data: the tensors' bytes, little-endian, back to back in offset order, no gaps, nothing
  after the last.

``sha256`` is the SHA-256 of (each field preceded by its length as a little-endian u64):
``"fastprep-artifact-sha256-v2"``, the manifest text, then per tensor in name order its name,
dtype, shape (the number of dimensions, then each) and offsets (each a u64, unprefixed), then
the data's length and ``CHUNK`` (each a u64, unprefixed), and last the raw 32-byte SHA-256 of
each ``CHUNK`` bytes of the data in order (the last piece shorter; none for no data). It covers
everything that carries meaning, so a flipped bit anywhere is either a parse error or a digest
mismatch. safetensors alone checks the layout, not the bytes. The data's pieces are digested
independently so that a reader can check a large artifact on several cores: one SHA-256 stream
runs at about 2 GB/s, which was most of the load time of a 36 MB vocabulary.

Format 1 (``min_reader_version`` 1) digested the data as one field instead of by pieces, with
the tag ``"fastprep-artifact-sha256-v1"``; readers keep checking such files that way. Which
digest a file has follows from its ``min_reader_version``: a file that any reader of version 1
may check must have the digest such a reader knows.

Format 3 digests as format 2 and saves less for the digest to read. In the compiled plan
(which Rust readers run), an encoder's lookup table whose first ``n`` entries are their own
index is saved as ``{"identity": n, "tail": <array of the last two entries>}`` instead of an
array of ``n + 2``; category counts are saved as the narrowest of uint8, uint16 and uint32
that holds them (int64 beyond). A 1M-category encoder's file: 36 -> 25 MB. Format 2 readers
would not understand either, so format 3 files need a reader of version 3.

Format 4 stores equal arrays (same dtype, shape and bytes) once, and every value that holds
one refers to that array by name: a string imputer before an encoder holds the encoder's
vocabulary, and a pipeline its steps' column names. The Adult pipeline's file went from 110
arrays to 69. Readers always resolved arrays by name, so a reader of version 3 reads format 4.

Format 5 stores what format 4 does; the manifest's ``fingerprint`` is of the fitted state's
canonical form 2 (``fastprep._state``), where earlier formats recorded form 1. A reader of
version 3 reads format 5.

The manifest's ``format_version`` is the version that wrote it, ``min_reader_version`` the
oldest reader that understands it. A reader refuses a file whose ``min_reader_version`` is
newer than its own ``READER_VERSION``, before checking the digest (a newer format may digest
differently).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import struct

from fastprep.exceptions import ArtifactError

__all__ = [
    "CHUNK",
    "DTYPES",
    "FORMAT",
    "MAX_HEADER",
    "READER_VERSION",
    "digest",
    "digest_version",
    "read_artifact",
]

FORMAT = "fastprep-artifact"
#: The newest format version this reader understands.
READER_VERSION = 3
#: Bytes of data per independently digested piece (format 2).
CHUNK = 1 << 20
#: A larger header is refused before it is read (safetensors' own limit).
MAX_HEADER = 100_000_000
#: safetensors dtype → NumPy dtype string (little-endian) and item size.
DTYPES = {
    "BOOL": ("|b1", 1),
    "U8": ("|u1", 1),
    "I8": ("|i1", 1),
    "I16": ("<i2", 2),
    "U16": ("<u2", 2),
    "I32": ("<i4", 4),
    "U32": ("<u4", 4),
    "F32": ("<f4", 4),
    "I64": ("<i8", 8),
    "U64": ("<u8", 8),
    "F64": ("<f8", 8),
}
_DIGEST_TAGS = {1: b"fastprep-artifact-sha256-v1", 2: b"fastprep-artifact-sha256-v2"}


def _u64(n: int) -> bytes:
    return struct.pack("<Q", n)


def digest_version(min_reader_version: int) -> int:
    """The digest of a file that readers from ``min_reader_version`` on must check."""
    return 1 if min_reader_version < 2 else 2


def digest(manifest: str, entries: list[tuple], data, version: int = 2) -> str:
    """The artifact digest (of ``digest_version``) of a manifest, its tensor entries and the
    data section."""
    h = hashlib.sha256()

    def put(field: bytes) -> None:
        h.update(_u64(len(field)))
        h.update(field)

    put(_DIGEST_TAGS[version])
    put(manifest.encode("utf-8"))
    for name, dtype, shape, begin, end in sorted(entries):
        put(name.encode("utf-8"))
        put(dtype.encode("ascii"))
        h.update(_u64(len(shape)) + b"".join(_u64(d) for d in shape))
        h.update(_u64(begin) + _u64(end))
    h.update(_u64(len(data)))
    if version == 1:
        h.update(data)  # hashlib releases the GIL for large buffers
        return h.hexdigest()
    h.update(_u64(CHUNK))
    view = memoryview(data)
    for at in range(0, len(view), CHUNK):
        h.update(hashlib.sha256(view[at : at + CHUNK]).digest())
    return h.hexdigest()


def _refuse_constant(name: str):
    raise ArtifactError(f"not a valid artifact: {name} is not JSON")


def _json(text: str):
    """Strict JSON, as serde_json reads it: no NaN/Infinity, no repeated keys."""
    return json.loads(text, object_pairs_hook=_refuse_duplicates, parse_constant=_refuse_constant)


def _refuse_duplicates(pairs: list) -> dict:
    out = {}
    for key, value in pairs:
        if key in out:
            raise ArtifactError(f"not a valid artifact: the header repeats the key {key!r}")
        out[key] = value
    return out


def _natural(value, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**63:
        raise ArtifactError(f"not a valid artifact: {what} is not a natural number: {value!r}")
    return value


def _header(buffer) -> tuple[dict, int]:
    size = len(buffer)
    if size < 8:
        raise ArtifactError(f"not a fastprep artifact: {size} bytes, too short for a header")
    (n,) = struct.unpack_from("<Q", buffer, 0)
    if n > MAX_HEADER or n > size - 8:
        raise ArtifactError(
            f"not a fastprep artifact (or truncated): header length {n} but the file has "
            f"{size} bytes"
        )
    try:
        text = bytes(buffer[8 : 8 + n]).decode("utf-8")
        header = _json(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        if isinstance(exc, ArtifactError):
            raise
        raise ArtifactError(f"not a fastprep artifact: the header is not JSON ({exc})") from None
    if not isinstance(header, dict):
        raise ArtifactError("not a fastprep artifact: the header is not a JSON object")
    return header, 8 + n


def _entries(header: dict, data_size: int) -> list[tuple]:
    entries = []
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise ArtifactError(f"not a valid artifact: tensor {name!r} has a malformed entry")
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if dtype not in DTYPES:
            raise ArtifactError(f"not a valid artifact: tensor {name!r} has dtype {dtype!r}")
        if not isinstance(shape, list) or not isinstance(offsets, list) or len(offsets) != 2:
            raise ArtifactError(f"not a valid artifact: tensor {name!r} has a malformed entry")
        shape = [_natural(d, f"a dimension of {name!r}") for d in shape]
        begin, end = (_natural(o, f"an offset of {name!r}") for o in offsets)
        if end < begin or end - begin != math.prod(shape) * DTYPES[dtype][1]:
            raise ArtifactError(
                f"not a valid artifact: tensor {name!r} has offsets {offsets} that do not "
                f"match its shape {shape} and dtype {dtype}"
            )
        entries.append((name, dtype, shape, begin, end))
    position = 0
    for name, _, _, begin, end in sorted(entries, key=lambda e: (e[3], e[4])):
        if begin != position:
            raise ArtifactError(
                f"not a valid artifact: tensor {name!r} starts at {begin}, expected {position} "
                "(tensors must be back to back)"
            )
        position = end
    if position != data_size:
        raise ArtifactError(
            f"not a valid artifact (truncated or with trailing bytes): the tensors cover "
            f"{position} bytes of data, the file holds {data_size}"
        )
    return entries


def _versions(manifest: dict) -> None:
    version = manifest.get("format_version")
    minimum = manifest.get("min_reader_version")
    if not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (version, minimum)
    ):
        raise ArtifactError("not a valid artifact: the manifest lacks its format versions")
    if minimum > READER_VERSION:
        raise ArtifactError(
            f"this artifact has format version {version} and needs a reader of version "
            f"{minimum} or newer; this fastprep reads format {READER_VERSION}: upgrade fastprep "
            "to load it"
        )


def read_artifact(buffer, verify: bool = True) -> tuple[str, int, list[tuple]]:
    """Check an artifact held in ``buffer`` (bytes, mmap, memoryview; its digest too when
    ``verify``) and return its manifest text, where the data starts, and its tensors as
    ``(name, dtype, shape, begin, end)`` with offsets relative to the data. Anything else
    raises ArtifactError."""
    header, start = _header(buffer)
    meta = header.pop("__metadata__", None)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ArtifactError("not a fastprep artifact: its metadata does not name the format")
    if set(meta) != {"format", "manifest", "sha256"} or not all(
        isinstance(v, str) for v in meta.values()
    ):
        raise ArtifactError("not a valid artifact: malformed metadata")
    try:
        manifest = _json(meta["manifest"])
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, ArtifactError):
            raise
        raise ArtifactError(f"not a valid artifact: the manifest is not JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise ArtifactError("not a valid artifact: the manifest is not a JSON object")
    _versions(manifest)
    data = memoryview(buffer)[start:]
    entries = _entries(header, len(data))
    if not verify:
        return meta["manifest"], start, entries
    version = digest_version(manifest["min_reader_version"])
    expected = digest(meta["manifest"], entries, data, version)
    if not hmac.compare_digest(expected.encode(), meta["sha256"].encode("utf-8", "replace")):
        raise ArtifactError(
            "artifact integrity check failed: its SHA-256 does not match its contents (the "
            "file is corrupt or was modified)"
        )
    return meta["manifest"], start, entries
