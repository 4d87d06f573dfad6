"""Per-column affine maps (twin of rust/fastprep-core/src/scale.rs).

Computed in float64, in scikit-learn's operation order, and rounded once to the input dtype.
"""

from __future__ import annotations

import numpy as np

from fastprep.exceptions import SchemaError
from fastprep.reference._ieee import ieee
from fastprep.reference.sparse import check_csr


@ieee
def sub_div(x: np.ndarray, sub: np.ndarray, div: np.ndarray, out=None) -> np.ndarray:
    """``(x - sub) / div`` per column; written into ``out`` when given."""
    y = (x.astype(np.float64, copy=False) - sub) / div
    return _into(y.astype(x.dtype, copy=False), out)


def _into(y: np.ndarray, out) -> np.ndarray:
    if out is None:
        return y
    np.copyto(out, y)
    return out


@ieee
def sub_div_csr(
    data: np.ndarray, index: tuple[np.ndarray, np.ndarray], cols: int, sub, div
) -> np.ndarray:
    """``sub_div`` of a CSR matrix's stored values: ``(v - sub[j]) / div[j]`` for the value
    ``v`` of column ``j``; the new stored values."""
    indptr, indices = index
    check_csr(indptr, indices, data, cols)
    sub, div = np.asarray(sub, dtype=np.float64), np.asarray(div, dtype=np.float64)
    if sub.shape != (cols,) or div.shape != (cols,):
        raise SchemaError(f"sub and div need {cols} values, got {sub.size} and {div.size}")
    j = indices.astype(np.intp)
    y = (data.astype(np.float64, copy=False) - sub[j]) / div[j]
    return y.astype(data.dtype, copy=False)


@ieee
def mul_add(
    x: np.ndarray,
    mul: np.ndarray,
    add: np.ndarray,
    clip: tuple[float, float] | None = None,
    out=None,
) -> np.ndarray:
    """``x * mul + add`` per column, then ``np.clip`` to ``clip`` if given (NaN stays NaN);
    written into ``out`` when given."""
    y = x.astype(np.float64, copy=False) * mul + add
    if clip is not None:
        y = np.clip(y, clip[0], clip[1])
    return _into(y.astype(x.dtype, copy=False), out)
