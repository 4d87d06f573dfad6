"""Thresholding (twin of rust/fastprep-core/src/binarize.rs): 1 where ``x > threshold``, else 0;
NaN stays NaN."""

from __future__ import annotations

import numpy as np

from fastprep.reference._ieee import ieee


@ieee
def binarize(x: np.ndarray, threshold: float) -> np.ndarray:
    x64 = x.astype(np.float64, copy=False)
    y = np.where(np.isnan(x64), np.nan, (x64 > threshold).astype(np.float64))
    return y.astype(x.dtype, copy=False)
