"""Backend-agreement checks with no test dependency (used by ``fastprep demo``); the
hypothesis strategies live in ``fastprep.testing``."""

from __future__ import annotations

import numpy as np

from fastprep._backend import BACKENDS, _core


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
