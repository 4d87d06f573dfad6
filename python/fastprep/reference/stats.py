"""Per-column statistics of one batch (twin of rust/fastprep-core/src/stats.rs).

NaN is disregarded: counted in ``nan_count``, excluded from everything else. ``m2`` is computed as
``Σd² - (Σd)²/n`` with ``d = x - mean`` (corrected two-pass). Infinities count
as values, so ``min``/``max`` show them. Columns without a value get NaN mean, min and max and
an ``m2`` of 0.
"""

from __future__ import annotations

import numpy as np

from fastprep.reference._ieee import ieee


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


def copy_matrix(x: np.ndarray) -> np.ndarray:
    """A private copy of a 2-D float array (what an accumulator keeps of a batch)."""
    return np.array(x, copy=True)
