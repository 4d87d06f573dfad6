"""Exact order statistics of columns, NaN skipped (twin of rust/fastprep-core/src/quantile.rs).

The specification is NumPy's: ``np.nanquantile`` with ``method="linear"`` or
``"averaged_inverted_cdf"``, and ``np.nanmedian``. A
column without values gives NaN. For modes, ``-0.0`` and ``0.0`` are one value (``0.0``) and
ties go to the smallest value.
"""

from __future__ import annotations

import warnings

import numpy as np

from fastprep.exceptions import ParameterError
from fastprep.reference._ieee import ieee


def _check_probabilities(qs) -> np.ndarray:
    qs = np.asarray(qs, dtype=np.float64).reshape(-1)
    bad = qs[~((qs >= 0.0) & (qs <= 1.0))]
    if bad.size:
        raise ParameterError(f"quantiles must be in [0, 1], got {bad[0]}")
    return qs


METHODS = ("linear", "averaged_inverted_cdf")


@ieee
def column_quantiles(x: np.ndarray, qs, method: str = "linear") -> np.ndarray:
    """Quantiles ``qs`` (fractions) of every column: shape ``(len(qs), n_columns)``."""
    if method not in METHODS:
        raise ParameterError(
            f"quantile method must be 'linear' or 'averaged_inverted_cdf', got {method!r}"
        )
    qs = _check_probabilities(qs)
    x64 = x.astype(np.float64, copy=False)
    out = np.full((qs.size, x64.shape[1]), np.nan)
    if x64.shape[0] == 0 or qs.size == 0:
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN, as wanted
        out[:] = np.nanquantile(x64, qs, axis=0, method=method)
    return out


@ieee
def column_medians(x: np.ndarray) -> np.ndarray:
    x64 = x.astype(np.float64, copy=False)
    if x64.shape[0] == 0:
        return np.full(x64.shape[1], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(np.nanmedian(x64, axis=0), dtype=np.float64)


def column_quantiles_and_medians(
    x: np.ndarray, qs, method: str = "linear"
) -> tuple[np.ndarray, np.ndarray]:
    """``(column_quantiles(x, qs, method), column_medians(x))``."""
    return column_quantiles(x, qs, method), column_medians(x)


@ieee
def column_modes(x: np.ndarray) -> np.ndarray:
    x64 = x.astype(np.float64, copy=False)
    out = np.full(x64.shape[1], np.nan)
    for j in range(x64.shape[1]):
        values = x64[:, j]
        values = values[~np.isnan(values)] + 0.0  # -0.0 + 0.0 == 0.0
        if values.size:
            uniques, counts = np.unique(values, return_counts=True)
            out[j] = uniques[np.argmax(counts)]  # argmax takes the first, smallest, tie
    return out
