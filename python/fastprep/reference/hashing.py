"""Feature hashing (twin of rust/fastprep-core/src/hashing.rs), as scikit-learn's FeatureHasher:
MurmurHash3 x86 32-bit with seed 0 over the UTF-8 bytes of each feature name; column
``|h| mod n_features`` (``h = -2^31`` maps to ``(2^31 - 1 - (n_features - 1)) mod n_features``);
value times the sign of ``h`` when ``alternate_sign``; zero values skipped; duplicates summed in
input order; indices sorted within each row."""

from __future__ import annotations

import numpy as np

from fastprep.exceptions import DataError, ParameterError, SchemaError
from fastprep.reference.encode import decode

_MASK = 0xFFFFFFFF


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _MASK


def murmurhash3_32(key: bytes, seed: int = 0) -> int:
    """MurmurHash3_x86_32 as a signed 32-bit integer."""
    c1, c2 = 0xCC9E2D51, 0x1B873593
    h = seed & _MASK
    n_blocks = len(key) // 4
    for i in range(n_blocks):
        k = int.from_bytes(key[4 * i : 4 * i + 4], "little")
        k = (_rotl((k * c1) & _MASK, 15) * c2) & _MASK
        h ^= k
        h = (_rotl(h, 13) * 5 + 0xE6546B64) & _MASK
    tail = key[4 * n_blocks :]
    if tail:
        k = int.from_bytes(tail, "little")
        k = (_rotl((k * c1) & _MASK, 15) * c2) & _MASK
        h ^= k
    h ^= len(key)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _MASK
    h ^= h >> 16
    return h - (1 << 32) if h & 0x80000000 else h


def _bucket(feature: bytes, n_features: int, alternate_sign: bool) -> tuple[int, float]:
    h = murmurhash3_32(feature)
    index = (2**31 - 1 - (n_features - 1)) % n_features if h == -(2**31) else abs(h) % n_features
    return index, (-1.0 if alternate_sign and h < 0 else 1.0)


def _check(n_features: int) -> None:
    if not 1 <= n_features <= 2**31 - 1:
        raise ParameterError(f"n_features must be in [1, 2^31 - 1], got {n_features}")


def _csr(rows: list[list[tuple[int, float]]]):
    indptr = [0]
    indices: list[int] = []
    values: list[float] = []
    for pairs in rows:
        pairs = sorted(pairs, key=lambda p: p[0])  # stable: duplicates keep input order
        merged: dict[int, float] = {}
        for i, v in pairs:
            merged[i] = merged[i] + v if i in merged else v
        indices.extend(merged)
        values.extend(merged.values())
        indptr.append(len(indices))
    return (
        np.asarray(indptr, dtype=np.int64),
        np.asarray(indices, dtype=np.int32),
        np.asarray(values, dtype=np.float64),
    )


def hash_columns(columns: list[list[tuple]], names, n_features: int, alternate_sign: bool):
    """Rows of a table: string mode (``names`` None) or dict mode (``"name=value"``)."""
    _check(n_features)
    decoded = [decode(c) for c in columns]
    rows = len(decoded[0][1]) if decoded else 0
    if any(len(v) != rows for _, v in decoded):
        raise SchemaError("columns have different lengths")
    if names is not None and len(names) != len(columns):
        raise SchemaError("one name per column expected")
    out: list[list[tuple[int, float]]] = [[] for _ in range(rows)]
    for j, (kind, values) in enumerate(decoded):
        for r, v in enumerate(values):
            if v is None:
                continue
            if kind == "str":
                feature, value = (v if names is None else bytes(names[j]) + b"=" + v), 1.0
            elif names is None:
                raise DataError(f"column {j}: input_type='string' hashes strings, got a number")
            else:
                feature, value = bytes(names[j]), float(v)
            if value == 0.0:
                continue
            index, sign = _bucket(feature, n_features, alternate_sign)
            out[r].append((index, value * sign))
    return _csr(out)


def hash_features(features: tuple, values, indptr, n_features: int, alternate_sign: bool):
    """Flattened samples: sample ``r`` owns ``features[indptr[r]:indptr[r + 1]]``."""
    _check(n_features)
    _, names = decode([features])
    values = np.asarray(values, dtype=np.float64)
    indptr = np.asarray(indptr, dtype=np.int64)
    if (
        len(values) != len(names)
        or indptr.size == 0
        or indptr[0] != 0
        or indptr[-1] != len(names)
        or np.any(np.diff(indptr) < 0)
    ):
        raise SchemaError("features, values and sample boundaries do not match")
    out: list[list[tuple[int, float]]] = []
    for r in range(indptr.size - 1):
        pairs = []
        for i in range(indptr[r], indptr[r + 1]):
            if values[i] == 0.0:
                continue
            if names[i] is None:
                raise DataError(f"column 0: sample {r}: a feature name is missing (None)")
            index, sign = _bucket(names[i], n_features, alternate_sign)
            pairs.append((index, float(values[i]) * sign))
        out.append(pairs)
    return _csr(out)
