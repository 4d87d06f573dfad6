"""Per-column statistics of one batch (twin of rust/fastprep-core/src/stats.rs).

NaN is disregarded: counted in ``nan_count``, excluded from everything else. Infinities count
as values, so ``min``/``max`` show them. Columns without a value get NaN mean, min and max and
an ``m2`` of 0.
"""

from __future__ import annotations

import numpy as np


def column_stats(x: np.ndarray) -> tuple[np.ndarray, ...]:
    """(count, nan_count, mean, m2, min, max) of every column of a 2-D float array."""
    x = x.astype(np.float64, copy=False)
    missing = np.isnan(x)
    count = (~missing).sum(axis=0).astype(np.uint64)
    nan_count = missing.sum(axis=0).astype(np.uint64)
    has_values = count > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(has_values, np.nansum(x, axis=0) / count, np.nan)
        m2 = np.where(has_values, np.nansum((x - mean) ** 2, axis=0), 0.0)
    lo = np.where(has_values, np.fmin.reduce(x, axis=0, initial=np.inf), np.nan)
    hi = np.where(has_values, np.fmax.reduce(x, axis=0, initial=-np.inf), np.nan)
    return count, nan_count, mean, m2, lo, hi
