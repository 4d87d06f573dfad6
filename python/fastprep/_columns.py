"""Categorical input: any accepted table becomes a list of columns, each a list of chunks that
point into Arrow buffers (or NumPy arrays), ready for either backend.

Accepted: 2-D NumPy arrays (object, str, StringDType, integer, bool or float), lists of rows,
``dict[str, array-like]``, pyarrow ``Table`` / ``RecordBatch`` / arrays, and any object with
``__arrow_c_stream__`` (pandas, polars, DuckDB results). Strings from Arrow are read from their
buffers as they are (string, large_string, string_view, dictionary; chunked or sliced): no
Python object per value. Object arrays and lists of strings are read by the Rust core (one
pass over their ``str`` objects, with the GIL), or by pyarrow in the reference backend and
for anything else (numbers, mixed types, which it types or refuses).

A chunk is a tuple:

- ``("utf8", offsets, data, validity, bit_offset)``: offsets (int32 or int64, ``len + 1`` of
  them, already sliced) index ``data`` (uint8); validity is Arrow's bitmap or None.
- ``("view", views, buffers, validity, bit_offset)``: string_view, 16 bytes per value.
- ``("dict", indices, validity, bit_offset, dictionary_chunk)``.
- ``("int", values_int64, missing_bool_or_None)`` (booleans as 0/1) and
  ``("float", values_float64, missing_bool_or_None)`` (NaN is missing too).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from fastprep import _backend
from fastprep.exceptions import DataError, SchemaError

KINDS = ("str", "int", "float", "bool")


@dataclass(frozen=True)
class CategoricalColumn:
    """One input column: its kind, its chunks and the Arrow data they point into (which keeps
    the buffers alive and reads single values for error messages)."""

    kind: str
    chunks: list[tuple]
    source: Any
    length: int

    def value(self, row: int) -> Any:
        """The Python value at ``row`` (for messages only)."""
        v = self.source[row]
        return v.as_py() if hasattr(v, "as_py") else v.item() if hasattr(v, "item") else v


def _frombuffer(buf, dtype, count: int, offset: int) -> np.ndarray:
    dtype = np.dtype(dtype)
    if count == 0:
        return np.zeros(0, dtype=dtype)
    if buf is None:
        raise SchemaError("an Arrow array is missing a data buffer")
    return np.frombuffer(buf, dtype=dtype, count=count, offset=offset * dtype.itemsize)


def _validity(array: pa.Array):
    buf = array.buffers()[0]
    if buf is None or array.null_count == 0:
        return None, 0
    return np.frombuffer(buf, dtype=np.uint8), array.offset


def _string_chunk(array: pa.Array) -> tuple:
    t = array.type
    validity, bit_offset = _validity(array)
    bufs = array.buffers()
    n = len(array)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        dtype = np.int32 if pa.types.is_string(t) else np.int64
        if bufs[1] is None:
            offsets = np.zeros(n + 1, dtype=dtype)
        else:
            offsets = _frombuffer(bufs[1], dtype, n + 1, array.offset)
        data = (
            np.frombuffer(bufs[2], dtype=np.uint8)
            if bufs[2] is not None and bufs[2].size
            else np.zeros(0, np.uint8)
        )
        return ("utf8", offsets, data, validity, bit_offset)
    if pa.types.is_string_view(t):
        views = _frombuffer(bufs[1], np.uint8, 16 * n, 16 * array.offset)
        buffers = [
            np.frombuffer(b, dtype=np.uint8) if b is not None and b.size else np.zeros(0, np.uint8)
            for b in bufs[2:]
        ]
        return ("view", views, buffers, validity, bit_offset)
    raise SchemaError(f"not a string array: {t}")


def _is_stringlike(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _numeric_chunk(array: pa.Array, kind: str) -> tuple:
    missing = None
    if array.null_count:
        missing = array.is_null().to_numpy(zero_copy_only=False)
    if kind == "float":
        values = array.fill_null(np.nan) if array.null_count else array
        return ("float", values.to_numpy(zero_copy_only=False).astype(np.float64, copy=False), None)
    filled = array.fill_null(0) if array.null_count else array
    values = filled.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return ("int", values, missing)


def _arrow_kind(t: pa.DataType, label: str) -> str:
    if pa.types.is_dictionary(t):
        t = t.value_type
    if _is_stringlike(t) or pa.types.is_null(t):
        return "str"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_integer(t):
        return "int"  # uint64 values above 2^63 - 1 are refused when read
    if pa.types.is_floating(t):
        return "float"
    raise DataError(
        f"{label}: Arrow type {t} is not categorical (strings, integers, booleans or floats)"
    )


def _arrow_chunks(array: pa.Array, kind: str, label: str) -> list[tuple]:
    t = array.type
    if pa.types.is_null(t):
        # All null: a string column of missing values.
        n = len(array)
        bits = np.zeros(max(1, (n + 7) // 8), dtype=np.uint8)
        return [("utf8", np.zeros(n + 1, np.int32), np.zeros(0, np.uint8), bits, 0)]
    if pa.types.is_dictionary(t):
        if not _is_stringlike(t.value_type):
            return _arrow_chunks(array.dictionary_decode(), kind, label)
        indices = array.indices
        validity, bit_offset = _validity(indices)
        idx = _frombuffer(
            indices.buffers()[1], indices.type.to_pandas_dtype(), len(indices), indices.offset
        )
        return [("dict", idx, validity, bit_offset, _string_chunk(array.dictionary))]
    if kind == "str":
        return [_string_chunk(array)]
    if pa.types.is_uint64(t) and len(array) and pa.compute.max(array).as_py() > 2**63 - 1:
        raise DataError(f"{label}: integer categories above 2^63 - 1 are not supported")
    return [_numeric_chunk(array, "float" if kind == "float" else "int")]


def from_arrow(data, label: str) -> CategoricalColumn:
    """A column from a pyarrow Array or ChunkedArray."""
    kind = _arrow_kind(data.type, label)
    pieces = data.chunks if isinstance(data, pa.ChunkedArray) else [data]
    chunks = [c for piece in pieces for c in _arrow_chunks(piece, kind, label)]
    if not chunks:
        chunks = _arrow_chunks(pa.array([], type=pa.string()), "str", label)
    return CategoricalColumn(kind, chunks, data, len(data))


_NUMPY_KIND = {"b": "bool", "i": "int", "u": "int", "f": "float"}


def from_values(values, label: str) -> CategoricalColumn:
    """A column from a 1-D array-like: NumPy arrays of numbers stay NumPy; objects and lists
    of str are read by the Rust core (see ``_object_strings``); other objects, str and
    StringDType go through pyarrow (None and NaN become null either way)."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return from_arrow(values, label)
    if type(values) is list and len(values) > _SMALL:
        chunk = _object_strings(values)  # a long list of str is read as it is
        if chunk is not None:
            return CategoricalColumn("str", [chunk], values, len(values))
    a = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
    if a.ndim != 1:
        raise SchemaError(f"{label}: expected a 1-D column, got shape {a.shape}")
    kind = _NUMPY_KIND.get(a.dtype.kind)
    if kind is not None:
        if a.dtype.kind == "u" and a.size and a.max() > np.iinfo(np.int64).max:
            raise DataError(f"{label}: integer categories above 2^63 - 1 are not supported")
        dtype = np.float64 if kind == "float" else np.int64
        chunk = ("float" if kind == "float" else "int", np.ascontiguousarray(a, dtype=dtype), None)
        return CategoricalColumn(kind, [chunk], a, len(a))
    if a.dtype.kind not in "OUT":
        raise DataError(f"{label}: dtype {a.dtype} is not categorical")
    try:
        if a.dtype.kind == "O":
            chunk = _object_strings(a)
            if chunk is not None:
                return CategoricalColumn("str", [chunk], a, len(a))
        arrow = pa.array(a, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise DataError(_mixed_message(a, label, exc)) from None
    except UnicodeError as exc:
        # A lone surrogate (as in "\ud800") has no UTF-8 form.
        raise DataError(f"{label}: a string is not valid Unicode ({exc.reason})") from None
    return from_arrow(arrow, label)


#: Object columns up to this length (request rows) are encoded here rather than by pyarrow,
#: whose per-call overhead is most of the cost of one value. Same chunk, same bytes.
_SMALL = 64


def _object_strings(a: np.ndarray | list) -> tuple | None:
    """The chunk (utf8, or dict when its objects repeat) of an object column (or a list) of
    str and missing values, or None (left to pyarrow). Longer columns are read by the Rust
    core when it is the backend in effect: pyarrow's conversion took 45 ns a value, four
    times the lookups that follow it."""
    if len(a) <= _SMALL:
        return _small_strings(a)
    if _backend.get_backend() == "rust":
        return _backend.kernels().object_strings(a)
    return None


def _small_strings(a: np.ndarray) -> tuple | None:
    """The utf8 chunk of a short object column of str and missing values (None, NaN), or
    None when it holds anything else (left to pyarrow, which types or refuses it)."""
    encoded: list[bytes] = []
    offsets = [0]
    valid: list[bool] = []
    at = 0
    for v in a.tolist():
        if isinstance(v, str):
            b = v.encode("utf-8")
            encoded.append(b)
            at += len(b)
            valid.append(True)
        elif v is None or (isinstance(v, float) and v != v):
            valid.append(False)
        else:
            return None
        offsets.append(at)
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    bits = None if all(valid) else np.packbits(np.array(valid), bitorder="little")
    return ("utf8", np.array(offsets, dtype=np.int32), data, bits, 0)


def _mixed_message(a: np.ndarray, label: str, exc: Exception) -> str:
    types = sorted({type(v).__name__ for v in a.tolist() if v is not None and v == v})
    if len(types) > 1:
        return (
            f"{label}: mixed types in one column ({', '.join(types)}); a categorical column "
            "holds strings, integers, booleans or floats, one kind per column"
        )
    return (
        f"{label}: values of type {', '.join(types) or 'unknown'} are neither strings nor "
        f"numbers ({exc})"
    )


def _label(name, j: int) -> str:
    return f"column {name!r}" if name is not None else f"column {j}"


def columns_of(X, owner: str) -> tuple[list[str] | None, list[CategoricalColumn]]:
    """(column names or None, columns) of any accepted input."""
    if isinstance(X, dict):
        names = [str(k) for k in X]
        return names, [
            from_values(v, f"{owner}: {_label(n, j)}")
            for j, (n, v) in enumerate(zip(names, X.values(), strict=True))
        ]
    if isinstance(X, (pa.Table, pa.RecordBatch)):
        names = list(X.schema.names)
        return names, [
            from_arrow(X.column(j), f"{owner}: {_label(n, j)}") for j, n in enumerate(names)
        ]
    if hasattr(X, "__arrow_c_stream__") and not isinstance(X, np.ndarray):
        return columns_of(pa.table(X), owner)
    if isinstance(X, (pa.Array, pa.ChunkedArray)):
        raise SchemaError(
            f"{owner}: expected a table (2-D), got a 1-D Arrow array; wrap it as "
            "pa.table({'name': array})"
        )
    a = X if isinstance(X, np.ndarray) else _rows_to_array(X, owner)
    if a.ndim != 2:
        raise SchemaError(f"{owner}: expected 2-D input (rows x columns), got shape {a.shape}")
    return None, [from_values(a[:, j], f"{owner}: {_label(None, j)}") for j in range(a.shape[1])]


def _rows_to_array(X, owner: str) -> np.ndarray:
    try:
        rows = list(X)
    except TypeError:
        raise SchemaError(f"{owner}: cannot read {type(X).__name__} as a table") from None
    if rows and all(isinstance(r, (list, tuple)) for r in rows):
        widths = {len(r) for r in rows}
        if len(widths) > 1:
            raise SchemaError(f"{owner}: rows have different lengths {sorted(widths)}")
        a = np.empty((len(rows), widths.pop()), dtype=object)
        a[:] = rows
        return a
    return np.asarray(rows, dtype=object)


def row_count(columns: list[CategoricalColumn]) -> int:
    lengths = {c.length for c in columns}
    if len(lengths) > 1:
        raise SchemaError(f"columns have different lengths {sorted(lengths)}")
    return lengths.pop() if lengths else 0
