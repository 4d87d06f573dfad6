"""Missing-value filling (twin of rust/fastprep-core/src/impute.rs)."""

from __future__ import annotations

import numpy as np

from fastprep.reference._ieee import ieee


@ieee
def impute(x: np.ndarray, columns: list[int], fill: np.ndarray, indicator: list[int]) -> np.ndarray:
    """The kept ``columns`` with NaN replaced by ``fill`` (rounded once to the input dtype),
    followed by a 0/1 NaN indicator for each column in ``indicator``."""
    kept = x[:, list(columns)]
    filled = np.where(np.isnan(kept), np.asarray(fill, dtype=np.float64).astype(x.dtype), kept)
    flags = np.isnan(x[:, list(indicator)]).astype(x.dtype)
    return np.ascontiguousarray(np.hstack([filled, flags]).astype(x.dtype, copy=False))
