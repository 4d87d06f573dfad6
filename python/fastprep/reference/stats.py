"""Per-column statistics of one batch (twin of rust/fastprep-core/src/stats.rs).

NaN is disregarded: counted in ``nan_count``, excluded from everything else. ``m2`` is computed as
``Σd² - (Σd)²/n`` with ``d = x - mean`` (corrected two-pass). Infinities count
as values, so ``min``/``max`` show them. Columns without a value get NaN mean, min and max and
an ``m2`` of 0.
"""

from __future__ import annotations

import numpy as np

from fastprep.exceptions import SchemaError
from fastprep.reference._ieee import ieee
from fastprep.reference.sparse import check_csr


@ieee
def column_stats(x: np.ndarray) -> tuple[np.ndarray, ...]:
    """(count, nan_count, mean, m2, min, max) of every column of a 2-D float array."""
    x = x.astype(np.float64, copy=False)
    missing = np.isnan(x)
    count = (~missing).sum(axis=0).astype(np.uint64)
    nan_count = missing.sum(axis=0).astype(np.uint64)
    has_values = count > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(has_values, np.nansum(x, axis=0) / count, np.nan)
        d = x - mean
        # Corrected two-pass algorithm: the second term cancels the rounding of the mean.
        m2 = np.nansum(d * d, axis=0) - np.nansum(d, axis=0) ** 2 / count
        m2 = np.where(has_values, np.maximum(m2, 0.0), 0.0)
    # `+ 0.0`: a zero extreme is always 0.0 (-0.0 == 0.0, so either could win the scan).
    lo = np.where(has_values, np.fmin.reduce(x, axis=0, initial=np.inf) + 0.0, np.nan)
    hi = np.where(has_values, np.fmax.reduce(x, axis=0, initial=-np.inf) + 0.0, np.nan)
    return count, nan_count, mean, m2, lo, hi


@ieee
def csr_column_stats(
    data: np.ndarray, index: tuple[np.ndarray, np.ndarray], cols: int
) -> tuple[np.ndarray, ...]:
    """``column_stats`` of a CSR matrix, its implicit zeros counted as values: column sums in
    storage order, then ``m2`` as the stored values' squared deviations plus the implicit
    zeros', ``(rows - stored) * mean**2``. It is ``weighted_csr_column_stats`` with every
    weight 1 (the same bits)."""
    rows = len(index[0]) - 1
    _, nan_count, mean, m2, lo, hi = weighted_csr_column_stats(data, index, cols, np.ones(rows))
    return np.uint64(rows) - nan_count, nan_count, mean, m2, lo, hi


@ieee
def weighted_column_stats(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, ...]:
    """(weight, nan_count, mean, m2, min, max) of every column with the weight ``w[i]`` of row
    ``i``: sums taken row after row, ``m2`` by the corrected two-pass algorithm
    (``Σ w d² - (Σ w d)² / W``); NaN and the extremes as ``column_stats``."""
    x = x.astype(np.float64, copy=False)
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (x.shape[0],):
        raise SchemaError(f"{w.size} weights for {x.shape[0]} rows")
    cols = x.shape[1]
    weight, total = np.zeros(cols), np.zeros(cols)
    present = ~np.isnan(x)
    for i in range(x.shape[0]):
        weight = weight + np.where(present[i], w[i], 0.0)
        total = total + np.where(present[i], w[i] * x[i], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(weight > 0, total / weight, np.nan)
    sum_d, sum_d2 = np.zeros(cols), np.zeros(cols)
    for i in range(x.shape[0]):
        with np.errstate(invalid="ignore"):
            d = x[i] - mean
        fine = ~np.isnan(d)
        sum_d = sum_d + np.where(fine, w[i] * d, 0.0)
        sum_d2 = sum_d2 + np.where(fine, w[i] * d * d, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        # fmax: a NaN difference (0 * inf) gives 0, as the core's f64::max.
        m2 = np.where(weight > 0, np.fmax(sum_d2 - sum_d * sum_d / weight, 0.0), 0.0)
    _, nan_count, _, _, lo, hi = column_stats(x)
    return weight, nan_count, mean, m2, lo, hi


@ieee
def weighted_csr_column_stats(
    data: np.ndarray, index: tuple[np.ndarray, np.ndarray], cols: int, w: np.ndarray
) -> tuple[np.ndarray, ...]:
    """``csr_column_stats`` with the weight ``w[r]`` of row ``r`` (its implicit zeros weigh it
    too): (weight, nan_count, mean, m2, min, max), sums in storage order."""
    indptr, indices = index
    check_csr(indptr, indices, data, cols)
    rows = len(indptr) - 1
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (rows,):
        raise SchemaError(f"{w.size} weights for {rows} rows")
    row_w = np.repeat(w, np.diff(indptr).astype(np.intp))
    v, j = data.astype(np.float64, copy=False), indices.astype(np.intp)
    missing = np.isnan(v)
    nan_weight, stored_weight, total = np.zeros(cols), np.zeros(cols), np.zeros(cols)
    np.add.at(nan_weight, j[missing], row_w[missing])
    np.add.at(stored_weight, j[~missing], row_w[~missing])
    np.add.at(total, j[~missing], row_w[~missing] * v[~missing])
    total_weight = float(np.cumsum(w)[-1]) if rows else 0.0  # summed in order, as the core
    weight = np.full(cols, total_weight) - nan_weight
    stored = np.bincount(j, minlength=cols)
    nan_count = np.bincount(j[missing], minlength=cols).astype(np.uint64)
    has_values = nan_count < rows
    lo, hi = np.full(cols, np.inf), np.full(cols, -np.inf)
    np.minimum.at(lo, j[~missing], v[~missing])
    np.maximum.at(hi, j[~missing], v[~missing])
    zeros = stored < rows  # 0 is a value of the column
    lo = np.where(has_values, np.where(zeros, np.minimum(lo, 0.0), lo) + 0.0, np.nan)
    hi = np.where(has_values, np.where(zeros, np.maximum(hi, 0.0), hi) + 0.0, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(has_values & (weight > 0), total / weight, np.nan)
        d = v[~missing] - mean[j[~missing]]
    fine = ~np.isnan(d)
    m2 = np.zeros(cols)
    np.add.at(m2, j[~missing][fine], row_w[~missing][fine] * d[fine] * d[fine])
    implicit = np.maximum(weight - stored_weight, 0.0)
    with np.errstate(invalid="ignore"):
        m2 = np.where(has_values & (weight > 0), m2 + implicit * mean * mean, 0.0)
    return weight, nan_count, mean, m2, lo, hi


def copy_matrix(x: np.ndarray) -> np.ndarray:
    """A private copy of a 2-D float array (what an accumulator keeps of a batch)."""
    return np.array(x, copy=True)
