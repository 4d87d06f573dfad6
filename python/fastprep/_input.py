"""Input reading: every table fastprep accepts, read one way, and the one column labeller.

``Frame.of`` reads any accepted input as named columns: a ``dict[str, array-like]``, a pyarrow
``Table`` / ``RecordBatch``, any object with ``__arrow_c_stream__`` (pandas, polars, DuckDB),
a 2-D NumPy array or a list of rows (columns by position, named ``x0, x1, ...``). A column is
then read as numbers (``Frame.floats``, ``float_column``) or as categories
(``Frame.categorical``, ``categorical_column``); numeric transforms read a whole matrix with
``as_float_matrix``.

Categorical columns are lists of chunks that point into Arrow buffers (or NumPy arrays), ready
for either backend. Strings from Arrow are read from their buffers as they are (string,
large_string, string_view, dictionary; chunked or sliced): no Python object per value. Object
arrays and lists of strings are read by the Rust core (one pass over their ``str`` objects,
with the GIL), or by pyarrow in the reference backend and for anything else (numbers, mixed
types, which it types or refuses). A chunk is a tuple:

- ``("utf8", offsets, data, validity, bit_offset)``: offsets (int32 or int64, ``len + 1`` of
  them, already sliced) index ``data`` (uint8); validity is Arrow's bitmap or None.
- ``("view", views, buffers, validity, bit_offset)``: string_view, 16 bytes per value.
- ``("dict", indices, validity, bit_offset, dictionary_chunk)``.
- ``("int", values_int64, missing_bool_or_None)`` (booleans as 0/1) and
  ``("float", values_float64, missing_bool_or_None)`` (NaN is missing too).

Nothing here writes the caller's data: a copy is made only where a layout or dtype needs one.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fastprep import _backend
from fastprep.accumulators import CORE_KIND
from fastprep.exceptions import ColumnTypeError, DataError, SchemaError

#: The kinds of a categorical column.
KINDS = ("str", "int", "float", "bool")


def column_label(j: int, names=None) -> str:
    """How a message names column ``j`` (by name when the input named its columns)."""
    if names is not None and j < len(names):
        return f"column {str(names[j])!r}"
    return f"column {j}"


def no_columns(owner: str, what: str = "X", rows: int | None = None) -> SchemaError:
    """The error of an input without columns (fit and transform refuse it alike), in
    scikit-learn's words."""
    shape = "" if rows is None else f" (shape=({rows}, 0))"
    return SchemaError(f"{owner}: {what} has 0 feature(s){shape} while a minimum of 1 is required.")


def width_mismatch(owner: str, got: int, expected: int) -> SchemaError:
    """The error of an input of another width than the fit's, in scikit-learn's words."""
    return SchemaError(
        f"{owner}: X has {got} features, but {owner} is expecting {expected} features as input"
    )


def sparse_refused(owner: str) -> SchemaError:
    return SchemaError(
        f"{owner}: sparse input is not supported by this transform; pass a dense array "
        "(X.toarray())"
    )


def is_sparse(X) -> bool:
    """Whether ``X`` is a SciPy sparse matrix or array (without importing SciPy)."""
    return type(X).__module__.startswith("scipy.sparse") and hasattr(X, "nnz")


def as_csr(X, owner: str):
    """A SciPy sparse input as CSR (a matrix or an array, as given) whose stored values are
    float32 or float64 (other numbers become float64), whose column indices are sorted within
    each row, and whose ``indptr`` and ``indices`` share one dtype: what the sparse kernels
    read. Copies only what needs converting; the caller's matrix is never written."""
    if X.ndim != 2:
        raise SchemaError(f"{owner}: expected a 2-D sparse matrix, got {X.ndim}-D")
    x = X.tocsr()
    kind = x.dtype.kind
    if kind == "c":
        raise DataError(f"{owner}: X holds complex numbers ({x.dtype}): Complex data not supported")
    if kind not in "fiub":
        raise ColumnTypeError(f"{owner}: sparse values of dtype {x.dtype} are not numbers")
    index = np.result_type(x.indptr.dtype, x.indices.dtype)
    if index not in (np.int32, np.int64):
        index = np.dtype(np.int64)
    ready = (
        x.dtype in (np.float32, np.float64)
        and x.has_sorted_indices
        and x.indptr.dtype == x.indices.dtype == index
        and all(a.flags.c_contiguous for a in (x.data, x.indices, x.indptr))
    )
    if ready:
        return x  # read as it is, never written
    if x is X:
        x = x.copy()  # sorting and casting below must not touch the caller's matrix
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    if not x.has_sorted_indices:
        x.sort_indices()
    x.indptr = np.ascontiguousarray(x.indptr, dtype=index)
    x.indices = np.ascontiguousarray(x.indices, dtype=index)
    x.data = np.ascontiguousarray(x.data)
    return x


def csr_parts(x) -> tuple:
    """``(data, (indptr, indices), columns)``: how the sparse kernels take a CSR matrix."""
    return x.data, (x.indptr, x.indices), int(x.shape[1])


def with_values(x, data: np.ndarray, like):
    """The CSR matrix ``x`` with new stored values, in the format of ``like`` (the input: CSC
    stays CSC, anything else is CSR; a sparse array stays an array)."""
    out = type(x)((data, x.indices.copy(), x.indptr.copy()), shape=x.shape)
    return out.asformat("csc") if getattr(like, "format", "csr") == "csc" else out


def match_columns(owner, fitted, expected: int, names, width: int, *, by_name: bool):
    """Where the fitted columns are in an input of ``width`` columns named ``names`` (None for
    positional input): None when the input is them, in order; else their positions.

    As scikit-learn: a named table must have the fitted names in the fitted order; positional
    input, or named input to a fit on positional input, is taken by position with a warning.
    A mapping (``by_name``: a request's dict, a composition's selection) is read by name: its
    order is free and other keys are ignored."""
    if fitted is not None and names is not None:
        fitted = [str(n) for n in fitted]
        if list(names) == fitted:
            return None
        if by_name:
            at = {n: j for j, n in enumerate(names)}
            if all(n in at for n in fitted):
                return [at[n] for n in fitted]
            raise SchemaError(_names_message(owner, fitted, [n for n in names if n in fitted]))
        raise SchemaError(_names_message(owner, fitted, list(names)))
    if fitted is not None:
        _warn(f"X does not have valid feature names, but {owner} was fitted with feature names")
    elif names is not None and not by_name:
        _warn(f"X has feature names, but {owner} was fitted without feature names")
    if width != expected:
        raise width_mismatch(owner, width, expected)
    return None


def _warn(message: str) -> None:
    import warnings

    warnings.warn(message, UserWarning, stacklevel=4)


def _names_message(owner: str, fitted: list[str], names: list[str]) -> str:
    """scikit-learn's words for input columns that are not the fitted ones."""

    def listed(values):
        shown = [f"- {v}\n" for v in values[:5]]
        return "".join(shown) + ("- ...\n" if len(values) > 5 else "")

    unseen = sorted(set(names) - set(fitted))
    missing = sorted(set(fitted) - set(names))
    message = f"{owner}: The feature names should match those that were passed during fit.\n"
    if unseen:
        message += "Feature names unseen at fit time:\n" + listed(unseen)
    if missing:
        message += "Feature names seen at fit time, yet now missing:\n" + listed(missing)
    if not unseen and not missing:
        message += "Feature names must be in the same order as they were in fit.\n"
    return message


def positional_names(width: int) -> list[str]:
    """The names of a positional input's columns: ``x0, x1, ...``."""
    return [f"x{j}" for j in range(width)]


# -- tables --------------------------------------------------------------------------------------


class Frame:
    """Any accepted input as named columns: 1-D NumPy arrays, pyarrow arrays, or Python lists
    (a ``dict`` of lists, request records), which are read as they are: as numbers by a
    numeric step, as categories by an encoder."""

    __slots__ = ("_numeric", "columns", "names", "positional", "rows")

    def __init__(self, names: list[str], columns: dict[str, Any], rows: int, positional: bool):
        self.names = names
        self.columns = columns
        self.rows = rows
        self.positional = positional
        self._numeric: dict[str, bool] | None = None

    @classmethod
    def of(cls, X, owner: str) -> Frame:
        """The one table reader: any accepted input (see the module docstring)."""
        if isinstance(X, Frame):
            return X
        if is_sparse(X):  # before Mapping: a DOK matrix is a dict
            raise sparse_refused(owner)
        if type(X) is dict or isinstance(X, Mapping):
            columns = {str(k): v if isinstance(v, _AS_THEY_ARE) else list(v) for k, v in X.items()}
            return cls(list(columns), columns, _rows(columns, owner), positional=False)
        if isinstance(X, (pa.Table, pa.RecordBatch)):
            names = list(X.schema.names)
            columns = {n: X.column(i) for i, n in enumerate(names)}
            return cls(names, columns, X.num_rows, positional=False)
        if isinstance(X, (pa.Array, pa.ChunkedArray)):
            raise SchemaError(
                f"{owner}: expected a table (2-D), got a 1-D Arrow array; wrap it as "
                "pa.table({'name': array})"
            )
        if hasattr(X, "__arrow_c_stream__") and not isinstance(X, np.ndarray):
            return cls.of(_without_index(pa.table(X)), owner)
        if isinstance(X, np.ndarray) or hasattr(X, "__array__"):
            a = np.asarray(X)
        else:
            a = _rows_to_array(X, owner)
        if a.ndim != 2:
            raise SchemaError(
                f"{owner}: expected a table or a 2-D array (rows x columns), got shape "
                f"{a.shape}. Reshape your data either using X.reshape(-1, 1) if it has a single "
                "feature or X.reshape(1, -1) if it holds a single sample."
            )
        if a.dtype.kind == "c":
            raise DataError(
                f"{owner}: column 0 holds complex numbers ({a.dtype}): Complex data not supported"
            )
        return cls.of_matrix(a)

    @classmethod
    def of_matrix(cls, a: np.ndarray) -> Frame:
        """A 2-D array's columns (views), named by position."""
        names = positional_names(a.shape[1])
        return cls(names, {n: a[:, j] for j, n in enumerate(names)}, a.shape[0], True)

    def select(self, names: list[str]) -> dict[str, Any]:
        return {n: self.columns[n] for n in names}

    def only(self, names: list[str]) -> Frame:
        """The named columns, as a frame of their own."""
        return Frame(list(names), self.select(names), self.rows, self.positional)

    def floats(self, names: list[str], owner: str) -> np.ndarray:
        """The named columns as a C-contiguous float64 matrix (nulls and None become NaN)."""
        out = np.empty((self.rows, len(names)), dtype=np.float64)
        for j, name in enumerate(names):
            out[:, j] = float_column(self.columns[name], name, owner)
        return out

    def matrix(self, owner: str) -> np.ndarray:
        """Every column as numbers: float32 when every column is float32, else float64."""
        if self.names and all(_is_float32(self.columns[n]) for n in self.names):
            out = np.empty((self.rows, len(self.names)), dtype=np.float32)
            for j, name in enumerate(self.names):
                col = self.columns[name]
                out[:, j] = col if isinstance(col, np.ndarray) else _arrow_floats(col)
            return out
        return self.floats(self.names, owner)

    def is_numeric(self, name: str) -> bool:
        if self._numeric is None:
            self._numeric = {}
        known = self._numeric.get(name)
        if known is None:
            known = self._numeric[name] = is_numeric(self.columns[name])
        return known

    def kinds(self) -> dict[str, str]:
        """Per column, ``"numeric"`` or ``"other"``: what a composition records at fit."""
        return {n: "numeric" if self.is_numeric(n) else "other" for n in self.names}

    def label(self, name: str) -> str:
        """How a message names the column ``name`` (``column_label``'s words)."""
        return f"column {name[1:]}" if self.positional else f"column {name!r}"

    def categorical(self, name: str, owner: str) -> CategoricalColumn:
        return categorical_column(self.columns[name], f"{owner}: {self.label(name)}")

    def categorical_columns(self, owner: str) -> tuple[list[str] | None, list[CategoricalColumn]]:
        """``(names, or None for positional input; columns)``, every column as categories."""
        columns = [self.categorical(n, owner) for n in self.names]
        return (None if self.positional else list(self.names)), columns


def _without_index(table: pa.Table) -> pa.Table:
    """A table without the columns that hold a pandas index (pandas' Arrow stream adds them):
    the index labels rows, it is not a feature."""
    meta = (table.schema.metadata or {}).get(b"pandas")
    if meta is None:
        return table
    import json

    stored = [c for c in json.loads(meta).get("index_columns", []) if isinstance(c, str)]
    return table.drop_columns(stored) if stored else table


def is_numeric(col) -> bool:
    """Whether a column holds numbers (booleans and missing values included)."""
    if isinstance(col, (pa.Array, pa.ChunkedArray)):
        t = col.type
        return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
    if isinstance(col, list):
        return all(v is None or isinstance(v, numbers.Real) for v in col)
    return col.dtype.kind in "fiub"


#: Columns a frame keeps as they are given.
_AS_THEY_ARE = (list, np.ndarray, pa.Array, pa.ChunkedArray)


def _is_float32(col) -> bool:
    if isinstance(col, (pa.Array, pa.ChunkedArray)):
        return col.type == pa.float32()
    return isinstance(col, np.ndarray) and col.dtype == np.float32


def _arrow_floats(col) -> np.ndarray:
    """A float32 Arrow column as NumPy values, nulls as NaN."""
    if col.null_count:
        col = pc.fill_null(col, np.float32("nan"))
    return col.to_numpy(zero_copy_only=False)


def _rows(columns: dict[str, Any], owner: str) -> int:
    lengths = {len(c) for c in columns.values()}
    if len(lengths) > 1:
        raise SchemaError(f"{owner}: columns have different lengths {sorted(lengths)}")
    return lengths.pop() if lengths else 0


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


def _is_arrow_numeric(t: pa.DataType) -> bool:
    return (
        pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_boolean(t)
        or pa.types.is_null(t)
    )


def _aligned(a: np.ndarray) -> np.ndarray:
    """``a``, copied if its data is not aligned to its item size: a zero-copy view of an Arrow
    buffer that was sent over a network (Dask) may start anywhere, and the kernels read whole
    items."""
    return a if a.flags.aligned else a.copy()


def float_column(col, name: str, owner: str) -> np.ndarray:
    """A column as float64 values (nulls and None become NaN), or a SchemaError naming it."""
    if isinstance(col, (pa.Array, pa.ChunkedArray)):
        t = col.type
        if pa.types.is_dictionary(t):
            t = t.value_type
        if not _is_arrow_numeric(t):
            raise SchemaError(
                f"{owner}: column {name!r} holds {col.type} values; a numeric transform needs "
                "numbers"
            )
        as_float = pc.cast(col, pa.float64())
        if as_float.null_count:
            as_float = pc.fill_null(as_float, np.nan)
        return _aligned(np.asarray(as_float.to_numpy(zero_copy_only=False), dtype=np.float64))
    if isinstance(col, list) and is_numeric(col):
        try:
            return np.asarray([np.nan if v is None else v for v in col], dtype=np.float64)
        except (OverflowError, TypeError, ValueError):
            big = next(v for v in col if v is not None and not np.isfinite(_as_float(v)))
            raise SchemaError(
                f"{owner}: column {name!r} holds {big!r}, beyond the range of float64"
            ) from None
    a = np.asarray(col, dtype=object) if isinstance(col, list) else np.asarray(col)
    if a.dtype.kind in "fiub":
        return _aligned(a.astype(np.float64, copy=False))
    try:
        arrow = pa.array(a, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeError, TypeError, OverflowError):
        arrow = None
    if arrow is None or not _is_arrow_numeric(arrow.type):
        bad = _first_bad_column(a.reshape(-1, 1)) if a.dtype.kind == "O" else None
        if bad is not None:
            raise _not_a_number(f"{owner}: column {name!r}", bad[1])
        raise SchemaError(
            f"{owner}: column {name!r} holds values that are not numbers; a numeric transform "
            "needs numbers"
        )
    return float_column(arrow, name, owner)


def _as_float(v) -> float:
    try:
        return float(v)
    except (OverflowError, TypeError, ValueError):
        return np.inf


def object_column(col) -> np.ndarray:
    """A column as a 1-D object array (what scikit-learn gives a step of mixed columns)."""
    if isinstance(col, (pa.Array, pa.ChunkedArray)):
        return np.asarray(col.to_pylist(), dtype=object)
    out = np.empty(len(col), dtype=object)
    out[:] = list(col) if isinstance(col, list) else col
    return out


# -- matrices ------------------------------------------------------------------------------------


def _not_a_number(label: str, value) -> SchemaError:
    """The refusal of ``value`` in a numeric column, with ``float()``'s error kind: a
    ColumnTypeError (also a TypeError) for an object that is neither a number nor a string."""
    what = f"{label} holds {value!r} of type {type(value).__name__}; a numeric transform needs "
    if isinstance(value, (str, bytes)):
        return SchemaError(what + "numbers")
    return ColumnTypeError(what + "numbers (float() argument must be a string or a real number)")


def _first_bad_column(x: np.ndarray) -> tuple[int, object] | None:
    """The first column holding a value that is not a number, with that value."""
    for j in range(x.shape[1]):
        for value in x[:, j]:
            if isinstance(value, (bool, np.bool_)):
                continue
            if isinstance(value, (numbers.Real, np.number)) and not isinstance(
                value, (complex, np.complexfloating)
            ):
                continue
            return j, value
    return None


def as_float_matrix(X, *, owner: str = "fastprep") -> np.ndarray:
    """``X`` as a 2-D C-contiguous float32/float64 array, or a SchemaError saying why not.

    Float32 stays float32; integers and booleans become float64; anything else (strings,
    objects, complex) is refused naming the column, with ``float()``'s error kind: a
    ColumnTypeError (also a TypeError) for an object that is neither a number nor a string.
    The caller's array is never written: a copy is made only when the layout or dtype
    requires one."""
    if isinstance(X, np.ndarray):
        x = X
    elif is_sparse(X):
        raise sparse_refused(owner)
    else:
        try:
            x = np.asarray(X)
        except ValueError as exc:  # ragged nested lists
            raise SchemaError(f"{owner}: input is not a rectangular 2-D table: {exc}") from None
    if x.ndim != 2:
        raise SchemaError(
            f"{owner}: expected a 2-D array (rows x columns), got a {x.ndim}-D array of shape "
            f"{x.shape}. Reshape your data either using X.reshape(-1, 1) if your data has a "
            "single feature or X.reshape(1, -1) if it contains a single sample"
        )
    kind = x.dtype.kind
    if kind == "f" and x.dtype.itemsize <= 4:
        dtype = np.float32
    elif kind in "fiub":
        dtype = np.float64
    else:
        if kind == "O":
            bad = _first_bad_column(x)
            if bad is None:
                return np.ascontiguousarray(x, dtype=np.float64)
            j, value = bad
            raise _not_a_number(f"{owner}: {column_label(j)}", value)
        if kind == "c":
            raise SchemaError(
                f"{owner}: {column_label(0)} holds complex numbers ({x.dtype}): Complex data "
                "not supported"
            )
        what = {"U": "strings", "S": "bytes", "T": "strings"}.get(kind, f"dtype {x.dtype}")
        raise SchemaError(
            f"{owner}: {column_label(0)} holds {what} ({x.dtype}); a numeric transform needs "
            "numbers"
        )
    return _aligned(np.ascontiguousarray(x, dtype=dtype))


def is_table(X) -> bool:
    """Whether ``X`` names its columns: a mapping, an Arrow table or batch, a DataFrame."""
    return not is_sparse(X) and (
        isinstance(X, (Mapping, Frame, pa.Table, pa.RecordBatch))
        or (hasattr(X, "__arrow_c_stream__") and not isinstance(X, np.ndarray))
    )


def by_name(X) -> bool:
    """Whether ``X`` is read by name (a mapping: see ``match_columns``)."""
    return isinstance(X, (Mapping, Frame))


def read_matrix(X, owner: str) -> tuple[list[str] | None, np.ndarray, bool]:
    """``(column names or None, the numbers, whether read by name)`` of any accepted input
    to a numeric transform: a table's columns keep their names (float32 when every column is
    float32); a mapping is read by name (see ``match_columns``); arrays are positional."""
    if not is_table(X):
        return None, as_float_matrix(X, owner=owner), False
    frame = Frame.of(X, owner)
    if frame.positional:
        return None, frame.floats(frame.names, owner), False
    return list(frame.names), frame.matrix(owner), by_name(X)


# -- categorical columns ---------------------------------------------------------------------------


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


def string_chunk(array: pa.Array) -> tuple:
    """The chunk of an Arrow string, large_string or string_view array."""
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
        return [("dict", idx, validity, bit_offset, string_chunk(array.dictionary))]
    if kind == "str":
        return [string_chunk(array)]
    if pa.types.is_uint64(t) and len(array) and pc.max(array).as_py() > 2**63 - 1:
        raise DataError(f"{label}: integer categories above 2^63 - 1 are not supported")
    return [_numeric_chunk(array, "float" if kind == "float" else "int")]


def _from_arrow(data, label: str) -> CategoricalColumn:
    kind = _arrow_kind(data.type, label)
    pieces = data.chunks if isinstance(data, pa.ChunkedArray) else [data]
    chunks = [c for piece in pieces for c in _arrow_chunks(piece, kind, label)]
    if not chunks:
        chunks = _arrow_chunks(pa.array([], type=pa.string()), "str", label)
    return CategoricalColumn(kind, chunks, data, len(data))


_NUMPY_KIND = {"b": "bool", "i": "int", "u": "int", "f": "float"}


def categorical_column(values, label: str) -> CategoricalColumn:
    """A column of categories from a pyarrow array or a 1-D array-like: NumPy arrays of
    numbers stay NumPy; objects and lists of str are read by the Rust core (see
    ``_object_strings``); other objects, str and StringDType go through pyarrow (None and NaN
    become null either way)."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return _from_arrow(values, label)
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
    if a.dtype.kind == "c":
        raise DataError(f"{label}: dtype {a.dtype} is not categorical: Complex data not supported")
    if a.dtype.kind not in "OUT":
        raise DataError(f"{label}: dtype {a.dtype} is not categorical")
    try:
        if a.dtype.kind == "O":
            chunk = _object_strings(a)
            if chunk is not None:
                return CategoricalColumn("str", [chunk], a, len(a))
        arrow = pa.array(a, from_pandas=True)
    except OverflowError:
        raise DataError(
            f"{label}: integer categories beyond the 64-bit range are not supported"
        ) from None
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
        if "out of bounds" in str(exc) or "too large" in str(exc):
            raise DataError(
                f"{label}: integer categories beyond the 64-bit range are not supported"
            ) from None
        raise DataError(_mixed_message(a, label, exc)) from None
    except UnicodeError as exc:
        # A lone surrogate (as in "\ud800") has no UTF-8 form.
        raise DataError(f"{label}: a string is not valid Unicode ({exc.reason})") from None
    return _from_arrow(arrow, label)


#: Object columns up to this length (request rows) are encoded here rather than by pyarrow,
#: whose per-call overhead is most of the cost of one value. Same chunk, same bytes.
_SMALL = 64


def _object_strings(a: np.ndarray | list) -> tuple | None:
    """The chunk (utf8, or dict when its objects repeat) of an object column (or a list) of
    str and missing values, or None (left to pyarrow). Longer columns are read by the Rust
    core when it is the backend in effect: pyarrow's conversion costs four times the lookups
    that follow it."""
    if len(a) <= _SMALL:
        return small_strings(a)
    if _backend.get_backend() == "rust":
        return _backend.kernels().object_strings(a)
    return None


def small_strings(a) -> tuple | None:
    """The utf8 chunk of a short object column of str and missing values (None, NaN), or
    None when it holds anything else (left to pyarrow, which types or refuses it)."""
    encoded: list[bytes] = []
    offsets = [0]
    valid: list[bool] = []
    at = 0
    for v in a.tolist() if isinstance(a, np.ndarray) else a:
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


def categorical_columns(X, owner: str) -> tuple[list[str] | None, list[CategoricalColumn]]:
    """``(column names or None, columns)`` of any accepted input, every column as categories."""
    return Frame.of(X, owner).categorical_columns(owner)


def row_count(columns: list[CategoricalColumn]) -> int:
    lengths = {c.length for c in columns}
    if len(lengths) > 1:
        raise SchemaError(f"columns have different lengths {sorted(lengths)}")
    return lengths.pop() if lengths else 0


def _all_missing(column: CategoricalColumn) -> bool:
    """Whether every value of a column is missing (typed as strings, having no value)."""
    source = column.source
    if isinstance(source, (pa.Array, pa.ChunkedArray)):
        return source.null_count == len(source)
    return all(v is None or (isinstance(v, float) and v != v) for v in source)


def coerce(column: CategoricalColumn, kind: str, label: str) -> CategoricalColumn:
    """A column in the kind it was fitted with, where that loses nothing. A column of missing
    values only (a request's None) is missing values of any kind."""
    have = column.kind
    if CORE_KIND[have] == CORE_KIND[kind]:
        return column  # booleans and integers share lookups
    if have == "str" and _all_missing(column):
        n = column.length
        if CORE_KIND[kind] == "float":
            chunk = ("float", np.full(n, np.nan), None)
        else:
            chunk = ("int", np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool))
        return CategoricalColumn(kind, [chunk], column.source, n)
    if have in ("int", "bool") and kind == "float":
        chunks = [("float", np.asarray(c[1], dtype=np.float64), c[2]) for c in column.chunks]
        return CategoricalColumn("float", chunks, column.source, column.length)
    if have == "float" and kind in ("int", "bool"):
        chunks = []
        for c in column.chunks:
            values = np.asarray(c[1], dtype=np.float64)
            missing = np.isnan(values) if c[2] is None else (np.isnan(values) | c[2])
            whole = np.where(missing, 0.0, values)
            if np.any(whole != np.round(whole)) or np.any(np.abs(whole) > 2.0**63):
                raise SchemaError(f"{label}: fitted on integer categories, got non-integral floats")
            chunks.append(("int", whole.astype(np.int64), missing if missing.any() else None))
        return CategoricalColumn(kind, chunks, column.source, column.length)
    what = {"str": "strings", "int": "integers", "bool": "booleans", "float": "floats"}
    raise SchemaError(f"{label}: fitted on {what[kind]}, got {what[have]}")
