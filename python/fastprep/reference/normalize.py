"""Row normalisation (twin of rust/fastprep-core/src/normalize.rs).

The row norm is accumulated column by column, left to right, in float64; a norm below 10·eps
(scikit-learn's threshold) leaves the row unchanged; NaN anywhere in a row makes the whole row NaN.
"""

from __future__ import annotations

import numpy as np

from fastprep.exceptions import ParameterError
from fastprep.reference._ieee import ieee


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
