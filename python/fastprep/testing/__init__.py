"""Assertions for fastprep's tests and for users porting a step to Rust: do the two backends
agree, bit for bit or within a tolerance? No test dependency here (``fastprep demo`` uses it);
the hypothesis strategies are in ``fastprep.testing.strategies``.
"""

from __future__ import annotations

import unittest
from collections.abc import Callable
from typing import Any

import numpy as np

from fastprep._backend import BACKENDS, _core, use_backend

__all__ = [
    "agree",
    "assert_backends_agree",
    "assert_bit_identical",
    "available_backends",
    "bit_identical",
    "close",
]


def available_backends() -> tuple[str, ...]:
    return BACKENDS if _core is not None else ("python",)


def bit_identical(a: np.ndarray, b: np.ndarray) -> bool:
    """Same shape, dtype and bits, with NaN in the same places (any payload)."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind != "f":
        return bool(np.array_equal(a, b))
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    if not np.array_equal(nan_a, nan_b):
        return False
    uint = np.dtype(f"u{a.dtype.itemsize}")
    return bool(np.array_equal(a[~nan_a].view(uint), b[~nan_b].view(uint)))


def close(a: np.ndarray, b: np.ndarray, rtol: float) -> bool:
    """Same shape and dtype, NaN in the same places, other values within ``rtol`` of the
    largest magnitude in their column (centring after an exp/log step cancels digits, so a
    relative bound per value would be meaningless near zero)."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    if not np.array_equal(nan_a, nan_b):
        return False
    x = np.where(nan_a, 0.0, a).astype(np.float64)
    y = np.where(nan_b, 0.0, b).astype(np.float64)
    scale = np.max(np.abs(y), axis=0, initial=0.0) if y.ndim == 2 else np.max(np.abs(y))
    return bool(np.all(np.abs(x - y) <= rtol * scale))


def agree(outputs: list[np.ndarray], rtol: float = 0.0) -> bool:
    """All outputs bit-identical to the first (``rtol=0``) or within ``rtol`` of it."""
    if rtol == 0.0:
        return all(bit_identical(outputs[0], other) for other in outputs[1:])
    return all(close(outputs[0], other, rtol) for other in outputs[1:])


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
    """Call ``fn`` under each backend; results must be bit-identical (arrays, or tuples of
    arrays) or both calls must raise the same exception class. Returns the result. Without the
    compiled core there is nothing to compare: the calling test is skipped."""
    backends = available_backends()
    if len(backends) < 2:
        raise unittest.SkipTest(
            f"only the {backends[0]!r} backend is available: nothing to compare"
        )
    results = [_run(b, fn, args, kwargs) for b in backends]
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
