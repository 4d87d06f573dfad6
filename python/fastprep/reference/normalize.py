"""Row normalisation (twin of rust/fastprep-core/src/normalize.rs).

The row norm is accumulated column by column, left to right, in float64; a norm below 10·eps
(scikit-learn's threshold) leaves the row unchanged; NaN anywhere in a row makes the whole row NaN.
"""

from __future__ import annotations

import numpy as np

from fastprep.exceptions import ParameterError
from fastprep.reference._ieee import ieee
from fastprep.reference.sparse import check_csr


@ieee
def normalize(x: np.ndarray, norm: str) -> np.ndarray:
    """Divide every row by its ``"l1"``, ``"l2"`` or ``"max"`` norm."""
    if norm not in ("l1", "l2", "max"):
        raise ParameterError(f"norm must be 'l1', 'l2' or 'max', got {norm!r}")
    x64 = x.astype(np.float64, copy=False)
    acc = np.zeros(x64.shape[0])
    for j in range(x64.shape[1]):
        column = x64[:, j]
        if norm == "l1":
            acc = acc + np.abs(column)
        elif norm == "l2":
            acc = acc + column * column
        else:
            acc = np.maximum(acc, np.abs(column))  # propagates NaN
    if norm == "l2":
        acc = np.sqrt(acc)
    acc[acc < 10 * np.finfo(np.float64).eps] = 1.0
    return (x64 / acc[:, np.newaxis]).astype(x.dtype, copy=False)


@ieee
def normalize_csr(
    data: np.ndarray, index: tuple[np.ndarray, np.ndarray], cols: int, norm: str
) -> np.ndarray:
    """``normalize`` of a CSR matrix: each row's stored values over the row's norm,
    accumulated along the row as stored (implicit zeros add nothing); the new stored values."""
    if norm not in ("l1", "l2", "max"):
        raise ParameterError(f"norm must be 'l1', 'l2' or 'max', got {norm!r}")
    indptr, indices = index
    check_csr(indptr, indices, data, cols)
    v = data.astype(np.float64, copy=False)
    starts, lengths = indptr[:-1].astype(np.intp), np.diff(indptr).astype(np.intp)
    acc = np.zeros(len(lengths))
    for k in range(int(lengths.max()) if len(lengths) else 0):
        rows = lengths > k
        value = v[starts[rows] + k]
        if norm == "l1":
            acc[rows] = acc[rows] + np.abs(value)
        elif norm == "l2":
            acc[rows] = acc[rows] + value * value
        else:
            acc[rows] = np.maximum(acc[rows], np.abs(value))
    if norm == "l2":
        acc = np.sqrt(acc)
    acc[acc < 10 * np.finfo(np.float64).eps] = 1.0
    return (v / np.repeat(acc, lengths)).astype(data.dtype, copy=False)
