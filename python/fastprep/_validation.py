"""Input checks and the one visible coercion of user data into what the kernels accept.

Kernels receive a 2-D, C-contiguous float32 or float64 array. Float32 stays float32; integers
and booleans become float64; anything else (strings, objects, complex) is a SchemaError naming
the column. The caller's array is never written: a copy is made only when the layout or dtype
requires one.
"""

from __future__ import annotations

import numbers

import numpy as np

from fastprep.exceptions import ParameterError, SchemaError


def column_label(j: int, names: np.ndarray | None = None) -> str:
    """How an error names column ``j``."""
    if names is not None and j < len(names):
        return f"column {names[j]!r} (position {j})"
    return f"column {j}"


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
    """``X`` as a 2-D C-contiguous float32/float64 array, or a SchemaError saying why not."""
    if isinstance(X, np.ndarray):
        x = X
    else:
        try:
            x = np.asarray(X)
        except ValueError as exc:  # ragged nested lists
            raise SchemaError(f"{owner}: input is not a rectangular 2-D table: {exc}") from None
    if x.ndim != 2:
        hint = " (use X.reshape(-1, 1) for a single column)" if x.ndim == 1 else ""
        raise SchemaError(
            f"{owner}: expected a 2-D array (rows x columns), got a {x.ndim}-D array of shape "
            f"{x.shape}{hint}"
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
            raise SchemaError(
                f"{owner}: {column_label(j)} holds {value!r} of type "
                f"{type(value).__name__}; this transform needs numbers"
            )
        what = {"U": "strings", "S": "bytes", "T": "strings", "c": "complex numbers"}.get(
            kind, f"dtype {x.dtype}"
        )
        raise SchemaError(
            f"{owner}: {column_label(0)} holds {what} ({x.dtype}); this transform needs numbers"
        )
    return np.ascontiguousarray(x, dtype=dtype)


def check_bool(owner: str, name: str, value) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise ParameterError(f"{owner}: {name} must be True or False, got {value!r}")


def check_choice(owner: str, name: str, value, choices: tuple) -> None:
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ParameterError(f"{owner}: {name} must be one of {options}, got {value!r}")


def check_real(owner: str, name: str, value, *, finite: bool = True) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.number)):
        raise ParameterError(f"{owner}: {name} must be a real number, got {value!r}")
    if finite and not np.isfinite(value):
        raise ParameterError(f"{owner}: {name} must be finite, got {value!r}")
    return float(value)


def check_int(owner: str, name: str, value, *, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise ParameterError(f"{owner}: {name} must be an integer, got {value!r}")
    if value < minimum:
        raise ParameterError(f"{owner}: {name} must be >= {minimum}, got {value!r}")
    return int(value)


def check_pair(
    owner: str, name: str, value, *, lo: float = -np.inf, hi: float = np.inf, strict: bool = True
):
    """A pair ``(a, b)`` of finite reals with ``lo <= a < b <= hi`` (``a <= b`` if not strict)."""
    try:
        a, b = value
    except (TypeError, ValueError):
        raise ParameterError(f"{owner}: {name} must be a pair (min, max), got {value!r}") from None
    a = check_real(owner, name, a)
    b = check_real(owner, name, b)
    if not (lo <= a <= b <= hi) or (strict and a == b):
        bounds = "" if np.isinf(lo) else f" within [{lo:g}, {hi:g}]"
        relation = "<" if strict else "<="
        raise ParameterError(
            f"{owner}: {name} must satisfy min {relation} max{bounds}, got {value!r}"
        )
    return a, b
