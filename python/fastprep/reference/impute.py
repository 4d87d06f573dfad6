"""Missing-value filling (twin of rust/fastprep-core/src/impute.rs)."""

from __future__ import annotations

import numpy as np

from fastprep.exceptions import SchemaError
from fastprep.reference._ieee import ieee
from fastprep.reference.sparse import check_csr


@ieee
def impute(x: np.ndarray, columns: list[int], fill: np.ndarray, indicator: list[int]) -> np.ndarray:
    """The kept ``columns`` with NaN replaced by ``fill`` (rounded once to the input dtype),
    followed by a 0/1 NaN indicator for each column in ``indicator``."""
    kept = x[:, list(columns)]
    filled = np.where(np.isnan(kept), np.asarray(fill, dtype=np.float64).astype(x.dtype), kept)
    flags = np.isnan(x[:, list(indicator)]).astype(x.dtype)
    return np.ascontiguousarray(np.hstack([filled, flags]).astype(x.dtype, copy=False))


@ieee
def fill_csr(data: np.ndarray, index: tuple[np.ndarray, np.ndarray], cols: int, fill) -> np.ndarray:
    """The stored values of a CSR matrix with each NaN of column ``j`` replaced by ``fill[j]``
    (rounded once to the values' dtype)."""
    indptr, indices = index
    check_csr(indptr, indices, data, cols)
    fill = np.asarray(fill, dtype=np.float64)
    if fill.shape != (cols,):
        raise SchemaError(f"fill needs {cols} values, got {fill.size}")
    filled = fill.astype(data.dtype)[indices.astype(np.intp)]
    return np.where(np.isnan(data), filled, data)
