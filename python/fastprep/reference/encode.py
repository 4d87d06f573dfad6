"""Categorical encoding (twin of rust/fastprep-core/src/encode.rs and strings.rs).

Codes: for a vocabulary of ``n`` sorted categories, a value's code is its rank ``0..n``, ``n``
when it is missing (null, None, NaN) and ``n + 1`` when it is unknown. Encoders turn codes into
output through per-column tables of ``n + 2`` entries (see ``fastprep.encode``).
"""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np

from fastprep.exceptions import SchemaError


def _valid(validity, bit_offset: int, n: int) -> np.ndarray:
    if validity is None:
        return np.ones(n, dtype=bool)
    bits = np.unpackbits(np.asarray(validity, dtype=np.uint8), bitorder="little")
    if bits.size < bit_offset + n:
        raise SchemaError("validity bitmap is too short")
    return bits[bit_offset : bit_offset + n].astype(bool)


def _strings(chunk: tuple) -> list[bytes | None]:
    """The values of a string chunk as bytes, None where null."""
    kind = chunk[0]
    if kind == "utf8":
        _, offsets, data, validity, bit_offset = chunk
        offsets = np.asarray(offsets, dtype=np.int64)
        n = offsets.size - 1
        if n < 0 or np.any(np.diff(offsets) < 0) or (n >= 0 and offsets[-1] > len(data)):
            raise SchemaError("string offsets are not valid")
        valid = _valid(validity, bit_offset, n)
        raw = bytes(np.asarray(data, dtype=np.uint8))
        return [raw[offsets[i] : offsets[i + 1]] if valid[i] else None for i in range(n)]
    if kind == "view":
        _, views, buffers, validity, bit_offset = chunk
        views = np.asarray(views, dtype=np.uint8).reshape(-1, 16)
        valid = _valid(validity, bit_offset, views.shape[0])
        raws = [bytes(np.asarray(b, dtype=np.uint8)) for b in buffers]
        out: list[bytes | None] = []
        for i, view in enumerate(views):
            if not valid[i]:
                out.append(None)
                continue
            length = int(view[:4].view("<u4")[0])
            if length <= 12:
                out.append(bytes(view[4 : 4 + length]))
            else:
                buffer, start = (int(v) for v in view[8:16].view("<u4"))
                if buffer >= len(raws) or start + length > len(raws[buffer]):
                    raise SchemaError(f"string_view {i} points outside its data buffers")
                out.append(raws[buffer][start : start + length])
        return out
    raise SchemaError("a dictionary's values must be strings")


def _canonical(x: float) -> float:
    return 0.0 if x == 0.0 else x


def decode(chunks: list[tuple]) -> tuple[str, list]:
    """``("str" | "int" | "float", values)``: the column as Python values, None where missing."""
    kind = "str" if chunks and chunks[0][0] in ("utf8", "view", "dict") else None
    values: list = []
    for chunk in chunks:
        tag = chunk[0]
        if tag in ("utf8", "view"):
            this = "str"
            values.extend(_strings(chunk))
        elif tag == "dict":
            this = "str"
            _, indices, validity, bit_offset, dictionary = chunk
            entries = _strings(dictionary)
            indices = np.asarray(indices, dtype=np.int64)
            valid = _valid(validity, bit_offset, indices.size)
            if np.any(valid & ((indices < 0) | (indices >= len(entries)))):
                raise SchemaError("dictionary index outside the dictionary")
            values.extend(
                entries[k] if ok else None for k, ok in zip(indices.tolist(), valid, strict=True)
            )
        elif tag == "int":
            this = "int"
            _, v, missing = chunk
            m = np.zeros(len(v), bool) if missing is None else np.asarray(missing, bool)
            values.extend(None if mi else int(x) for x, mi in zip(v.tolist(), m, strict=True))
        elif tag == "float":
            this = "float"
            _, v, missing = chunk
            m = np.zeros(len(v), bool) if missing is None else np.asarray(missing, bool)
            values.extend(
                None if (mi or x != x) else _canonical(float(x))
                for x, mi in zip(v.tolist(), m, strict=True)
            )
        else:
            raise SchemaError(f"unknown chunk kind {tag!r}")
        if kind is None:
            kind = this
        elif this != kind:
            raise SchemaError(f"a vocabulary of {kind} cannot look up {this}")
    return kind or "str", values


def _pack(kind: str, keys: list, counts: list[int], missing: int) -> tuple:
    count_array = np.asarray(counts, dtype=np.int64)
    if kind == "str":
        lengths = [len(k) for k in keys]
        offsets = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        data = np.frombuffer(b"".join(keys), dtype=np.uint8).copy()
        return ("str", data, offsets, count_array, int(missing))
    dtype = np.int64 if kind == "int" else np.float64
    return (kind, np.asarray(keys, dtype=dtype), None, count_array, int(missing))


def _unpack(counts: tuple) -> tuple[str, list, list[int], int]:
    kind, values, offsets, n, missing = counts
    if kind == "str":
        raw = bytes(np.asarray(values, dtype=np.uint8))
        o = np.asarray(offsets, dtype=np.int64).tolist()
        keys = [raw[o[i] : o[i + 1]] for i in range(len(o) - 1)]
    elif kind == "int":
        keys = [int(v) for v in np.asarray(values).tolist()]
    else:
        keys = [float(v) for v in np.asarray(values).tolist()]
    return kind, keys, np.asarray(n, dtype=np.int64).tolist(), int(missing)


def count_categories(column: list[tuple]) -> tuple:
    """``(kind, values, offsets, counts, missing)``: sorted categories with their counts."""
    if not column:
        raise SchemaError("a column needs at least one chunk")
    kind, values = decode(column)
    counter = Counter(v for v in values if v is not None)
    keys = sorted(counter)
    return _pack(kind, keys, [counter[k] for k in keys], sum(v is None for v in values))


def merge_category_counts(a: tuple, b: tuple) -> tuple:
    ka, keys_a, counts_a, missing_a = _unpack(a)
    kb, keys_b, counts_b, missing_b = _unpack(b)
    if ka != kb:
        raise SchemaError(
            "cannot merge category counts of different kinds (strings, integers, floats)"
        )
    total = Counter(dict(zip(keys_a, counts_a, strict=True)))
    for k, c in zip(keys_b, counts_b, strict=True):
        total[k] += c
    keys = sorted(total)
    return _pack(ka, keys, [total[k] for k in keys], missing_a + missing_b)


class CategoryIndex:
    """A vocabulary's lookup table (a dict), built once."""

    def __init__(self, kind: str, values, offsets=None):
        if kind not in ("str", "int", "float"):
            raise SchemaError(f"unknown category kind {kind!r}")
        if kind == "str" and offsets is None:
            raise SchemaError("string categories need offsets")
        if kind == "str":
            o = np.asarray(offsets, dtype=np.int64)
            if o.size == 0 or np.any(np.diff(o) < 0) or o[0] < 0 or o[-1] > len(values):
                raise SchemaError("string offsets are not valid")
        _, keys, _, _ = _unpack((kind, values, offsets, [], 0))
        if kind == "float" and any(k != k for k in keys):
            raise SchemaError("categories must be sorted, distinct and not NaN")
        if any(a >= b for a, b in itertools.pairwise(keys)):
            raise SchemaError("categories must be sorted and distinct")
        self.kind = kind
        self.codes = {k: i for i, k in enumerate(keys)}

    def __len__(self) -> int:
        return len(self.codes)


def lookup_codes(indexes: list[CategoryIndex], columns: list[list[tuple]], rows: int):
    """Codes ``(k, rows)`` uint32, and per column the numbers of unknown and missing values."""
    if len(indexes) != len(columns):
        raise SchemaError("one index per column expected")
    codes = np.zeros((len(columns), rows), dtype=np.uint32)
    unknown, missing = [], []
    for j, (index, column) in enumerate(zip(indexes, columns, strict=True)):
        kind, values = decode(column)
        if kind != index.kind:
            raise SchemaError(f"a vocabulary of {index.kind} cannot look up {kind}")
        if len(values) != rows:
            raise SchemaError(f"{rows} codes for a column of {len(values)} values")
        n = len(index)
        row = [n if v is None else index.codes.get(v, n + 1) for v in values]
        codes[j] = np.asarray(row, dtype=np.uint32)
        unknown.append(int(np.count_nonzero(codes[j] == n + 1)))
        missing.append(int(np.count_nonzero(codes[j] == n)))
    return codes, unknown, missing


def _prepare(indexes: list, columns: list, tables: list, rows: int):
    """Codes ``(k, rows)`` and lookup counts, after the checks the fused kernels make."""
    if not len(indexes) == len(columns) == len(tables):
        raise SchemaError(
            f"{len(columns)} columns, {len(indexes)} vocabularies and {len(tables)} tables"
        )
    for j, (index, table) in enumerate(zip(indexes, tables, strict=True)):
        if len(table) != len(index) + 2:
            raise SchemaError(
                f"column {j}: a table needs {len(index) + 2} entries (categories, missing, "
                f"unknown), got {len(table)}"
            )
    return lookup_codes(indexes, columns, rows)


def encode_gather(indexes, columns, tables, rows: int, float32: bool):
    """Ordinal and count encoding: ``out[r, j] = tables[j][code]``, computed in float64 and
    rounded once; with per column the numbers of unknown and missing values."""
    codes, unknown, missing = _prepare(indexes, columns, tables, rows)
    dtype = np.float32 if float32 else np.float64
    out = np.empty((rows, len(tables)), dtype=dtype)
    for j, t in enumerate(tables):
        out[:, j] = np.asarray(t, dtype=np.float64)[codes[j]].astype(dtype)
    return out, unknown, missing


def _targets(codes: np.ndarray, tables: list, offsets: list, width: int) -> list[np.ndarray]:
    if len(offsets) != len(tables):
        raise SchemaError("one block offset per column expected")
    out = []
    for j, t in enumerate(tables):
        t = np.asarray(t, dtype=np.int64)
        if t.size and offsets[j] + max(int(t.max()), -1) + 1 > width:
            raise SchemaError(f"column {j}: one-hot table points past the output width")
        target = t[codes[j]]
        out.append(np.where(target >= 0, target + offsets[j], -1))
    return out


def encode_onehot_dense(indexes, columns, tables, offsets, width: int, rows: int, float32: bool):
    """Row ``r`` gets a 1 at ``offsets[j] + tables[j][code]`` where that entry is >= 0."""
    codes, unknown, missing = _prepare(indexes, columns, tables, rows)
    out = np.zeros((rows, width), dtype=np.float32 if float32 else np.float64)
    for target in _targets(codes, tables, offsets, width):
        hit = np.flatnonzero(target >= 0)
        out[hit, target[hit]] = 1
    return out, unknown, missing


def encode_onehot_csr(indexes, columns, tables, offsets, width: int, rows: int):
    """CSR ``(indptr int64, indices int32)`` of the same ones, sorted within each row."""
    codes, unknown, missing = _prepare(indexes, columns, tables, rows)
    targets = _targets(codes, tables, offsets, width)
    if not targets:
        return np.zeros(rows + 1, dtype=np.int64), np.zeros(0, dtype=np.int32), unknown, missing
    stacked = np.stack(targets, axis=1)  # rows x k, column blocks already in order
    present = stacked >= 0
    indptr = np.zeros(rows + 1, dtype=np.int64)
    np.cumsum(present.sum(axis=1), out=indptr[1:])
    return indptr, stacked[present].astype(np.int32), unknown, missing
