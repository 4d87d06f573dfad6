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


def agree(outputs: list[np.ndarray]) -> bool:
    return all(bit_identical(outputs[0], other) for other in outputs[1:])
