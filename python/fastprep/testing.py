"""Test helpers for fastprep and for users porting a step to Rust: hypothesis strategies that
produce the inputs kernels get wrong (NaN, ±inf, subnormals, -0.0, huge and tiny magnitudes,
empty and one-row arrays, constant columns, float32, Fortran order, strided and read-only
views) and assertions that the two backends agree.

Requires ``hypothesis`` (a test dependency, not a runtime one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fastprep._backend import use_backend
from fastprep.testing_light import available_backends

__all__ = [
    "assert_backends_agree",
    "assert_bit_identical",
    "available_backends",
    "fit_and_transform_matrices",
    "float_matrices",
    "special_values",
]


def _huge(dtype) -> float:
    """The largest magnitude generated: squares of float64 values must stay finite so that
    variances are representable (scikit-learn has the same limit), and float32 values keep
    headroom below their maximum."""
    return float(dtype(min(float(np.finfo(dtype).max) / 1e8, 1e150)))


def special_values(dtype, *, allow_nan: bool = True, allow_infinity: bool = True) -> list[float]:
    """Values at the edges of ``dtype``: zeros of both signs, subnormals, huge and tiny."""
    info = np.finfo(dtype)
    values = [0.0, -0.0, 1.0, -1.0, float(info.smallest_subnormal), -float(info.tiny)]
    # Huge but with room to add a few: sums of many of them stay finite.
    huge = _huge(dtype)
    values += [huge, -huge, float(dtype(float(info.tiny) * 3))]
    if allow_nan:
        values.append(float("nan"))
    if allow_infinity:
        values += [float("inf"), float("-inf")]
    return values


def _elements(dtype, allow_nan: bool, allow_infinity: bool) -> st.SearchStrategy[float]:
    width = 32 if dtype == np.float32 else 64
    bound = _huge(dtype)
    ordinary = st.floats(
        min_value=-bound, max_value=bound, allow_subnormal=True, width=width
    ) | st.floats(min_value=-1e3, max_value=1e3, width=width)
    special = st.sampled_from(special_values(dtype, allow_nan=allow_nan, allow_infinity=False))
    infinite = st.sampled_from([float("inf"), float("-inf")])
    choices = [ordinary, ordinary, special]
    if allow_infinity:
        choices.append(infinite)
    return st.one_of(*choices)


@st.composite
def float_matrices(
    draw,
    *,
    dtypes=(np.float32, np.float64),
    min_rows: int = 0,
    max_rows: int = 24,
    min_cols: int = 1,
    max_cols: int = 5,
    allow_nan: bool = True,
    allow_infinity: bool = True,
    layouts: bool = True,
) -> np.ndarray:
    """2-D float arrays with the awkward values above, some constant columns, and (when
    ``layouts``) C order, Fortran order, strided and read-only views."""
    dtype = draw(st.sampled_from(dtypes))
    rows = draw(st.integers(min_rows, max_rows))
    cols = draw(st.integers(min_cols, max_cols))
    x = draw(hnp.arrays(dtype, (rows, cols), elements=_elements(dtype, allow_nan, allow_infinity)))
    if rows:
        for j in range(cols):
            if draw(st.booleans()) and draw(st.booleans()):  # about one column in four
                x[:, j] = x[0, j]
    if not layouts:
        return x
    layout = draw(st.sampled_from(["C", "F", "strided", "readonly"]))
    if layout == "F":
        return np.asfortranarray(x)
    if layout == "strided":
        wide = np.zeros((rows, 2 * cols), dtype=dtype)
        wide[:, ::2] = x
        return wide[:, ::2]
    if layout == "readonly":
        x.setflags(write=False)
    return x


@st.composite
def fit_and_transform_matrices(draw, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """``(train, live)``: a training matrix with at least one row and no infinity (fits refuse
    infinity) and a matrix of the same width to transform, which may be empty or hold
    infinities. ``kwargs`` go to ``float_matrices`` for both."""
    train = draw(float_matrices(min_rows=1, allow_infinity=False, **kwargs))
    cols = train.shape[1]
    live = draw(float_matrices(min_cols=cols, max_cols=cols, **kwargs))
    return train, live


def assert_bit_identical(actual: np.ndarray, expected: np.ndarray) -> None:
    """Same shape, dtype and bits; NaN must sit in the same places (its payload is free)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    assert actual.dtype == expected.dtype, f"dtype {actual.dtype} != {expected.dtype}"
    if actual.dtype.kind != "f":
        np.testing.assert_array_equal(actual, expected)
        return
    nan_a, nan_e = np.isnan(actual), np.isnan(expected)
    assert np.array_equal(nan_a, nan_e), "NaN in different places"
    uint = np.dtype(f"u{actual.dtype.itemsize}")
    bits_a = actual[~nan_a].view(uint)
    bits_e = expected[~nan_e].view(uint)
    differ = np.flatnonzero(bits_a != bits_e)
    if differ.size:
        i = differ[0]
        raise AssertionError(
            f"{differ.size} values differ in their bits, e.g. {actual[~nan_a][i]!r} != "
            f"{expected[~nan_e][i]!r}"
        )


def _run(backend: str, fn: Callable[..., Any], args, kwargs):
    with use_backend(backend):
        try:
            return fn(*args, **kwargs), None
        except Exception as exc:  # compared below: both backends must fail alike
            return None, exc


def assert_backends_agree(fn: Callable[..., Any], *args, **kwargs) -> Any:
    """Call ``fn`` under each available backend; results must be bit-identical (arrays, or
    tuples of arrays) or both calls must raise the same exception class. Returns the result."""
    results = [_run(b, fn, args, kwargs) for b in available_backends()]
    (first, first_exc), *others = results
    for value, exc in others:
        if first_exc is not None or exc is not None:
            assert type(first_exc) is type(exc), f"backends raised {first_exc!r} and {exc!r}"
            continue
        if isinstance(first, tuple):
            for a, b in zip(first, value, strict=True):
                assert_bit_identical(a, b)
        else:
            assert_bit_identical(first, value)
    if first_exc is not None:
        raise first_exc
    return first
