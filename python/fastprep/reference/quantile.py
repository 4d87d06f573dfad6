"""Exact order statistics of columns, NaN skipped (twin of rust/fastprep-core/src/quantile.rs).

The specification is NumPy's: ``np.nanquantile`` with ``method="linear"`` or
``"averaged_inverted_cdf"``, and ``np.nanmedian``. A
column without values gives NaN. For modes, ``-0.0`` and ``0.0`` are one value (``0.0``) and
ties go to the smallest value.
"""

from __future__ import annotations

import warnings

import numpy as np

from fastprep.exceptions import ParameterError, SchemaError
from fastprep.reference._ieee import ieee
from fastprep.reference.sparse import check_csr


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


@ieee
def weighted_column_quantiles(x: np.ndarray, w: np.ndarray, percents, average: bool) -> np.ndarray:
    """Weighted percentiles ``percents`` (in [0, 100]) of every column, as scikit-learn's
    ``_weighted_percentile`` on the rows whose value is not NaN: the first value at which
    the weights' running sum reaches ``p / 100`` of their total (``inverted_cdf``); with
    ``average``, on a step of that sum, the mean with the next value of positive weight
    (``averaged_inverted_cdf``). Weights, levels and sums are in the values' dtype (float32
    or float64), as scikit-learn casts them. Shape ``(len(percents), n_columns)``."""
    dtype = np.float32 if x.dtype == np.float32 else np.float64
    x = x.astype(dtype, copy=False)
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (x.shape[0],):
        raise SchemaError(f"{w.size} weights for {x.shape[0]} rows")
    percents = np.asarray(percents, dtype=np.float64).reshape(-1)
    bad = percents[~((percents >= 0.0) & (percents <= 100.0))]
    if bad.size:
        raise ParameterError(f"percentiles must be in [0, 100], got {bad[0]}")
    if not np.all(np.isfinite(w) & (w >= 0)):
        raise ParameterError("weights must be finite and >= 0")
    levels = percents.astype(dtype)
    eps, tiny = np.finfo(dtype).eps, np.nextafter(dtype(0), dtype(1))
    out = np.full((percents.size, x.shape[1]), np.nan)
    for j in range(x.shape[1]):
        known = ~np.isnan(x[:, j])
        order = np.argsort(x[known, j], kind="stable")
        values, weights = x[known, j][order], w[known].astype(dtype)[order]
        cdf = np.cumsum(weights, dtype=dtype)
        if cdf.size == 0 or not cdf[-1] > 0:
            continue
        last = cdf.size - 1
        for i, level in enumerate(levels):
            rank = level / dtype(100) * cdf[-1]
            if rank == 0:
                rank = tiny
            at = min(int(np.searchsorted(cdf, rank)), last)
            if not average or cdf[at] - rank > eps:
                out[i, j] = values[at]
                continue
            following = min(at + 1, last)
            if weights[following] == 0:
                after = int(np.searchsorted(cdf, cdf[at], side="right"))
                following = at if after > last else after
            out[i, j] = (values[at] + values[following]) / dtype(2)
    return out


def _csr_columns(data, index, cols: int, implicit_zeros: bool) -> list[np.ndarray]:
    """Each column of a CSR matrix as its values: the stored ones, then (``implicit_zeros``)
    a zero per row that stores none in it."""
    indptr, indices = index
    check_csr(indptr, indices, data, cols)
    rows = len(indptr) - 1
    j = indices.astype(np.intp)
    values = data.astype(np.float64, copy=False)
    columns = []
    for c in range(cols):
        stored = values[j == c]
        zeros = rows - stored.size if implicit_zeros else 0
        columns.append(np.concatenate([stored, np.zeros(zeros)]))
    return columns


@ieee
def csr_column_quantiles_and_medians(
    data: np.ndarray, index, cols: int, qs, method: str, implicit_zeros: bool
) -> tuple[np.ndarray, np.ndarray]:
    """``column_quantiles_and_medians`` of the dense form of a CSR matrix (its implicit zeros
    counted) or, without ``implicit_zeros``, of each column's stored values alone."""
    columns = _csr_columns(data, index, cols, implicit_zeros)
    qs = _check_probabilities(qs)
    out, medians = np.full((qs.size, cols), np.nan), np.full(cols, np.nan)
    for c, column in enumerate(columns):
        q, m = column_quantiles_and_medians(column[:, None], qs, method)
        out[:, c], medians[c] = q[:, 0], m[0]
    return out, medians


@ieee
def csr_column_modes(data: np.ndarray, index, cols: int) -> np.ndarray:
    """``column_modes`` of the dense form of a CSR matrix."""
    columns = _csr_columns(data, index, cols, True)
    return np.array([column_modes(c[:, None])[0] for c in columns], dtype=np.float64)
