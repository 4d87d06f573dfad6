"""Per-column affine maps (twin of rust/fastprep-core/src/scale.rs).

Computed in float64, in scikit-learn's operation order, and rounded once to the input dtype.
"""

from __future__ import annotations

import numpy as np

from fastprep.reference._ieee import ieee


@ieee
def sub_div(x: np.ndarray, sub: np.ndarray, div: np.ndarray) -> np.ndarray:
    """``(x - sub) / div`` per column."""
    y = (x.astype(np.float64, copy=False) - sub) / div
    return y.astype(x.dtype, copy=False)


@ieee
def mul_add(
    x: np.ndarray,
    mul: np.ndarray,
    add: np.ndarray,
    clip: tuple[float, float] | None = None,
) -> np.ndarray:
    """``x * mul + add`` per column, then ``np.clip`` to ``clip`` if given (NaN stays NaN)."""
    y = x.astype(np.float64, copy=False) * mul + add
    if clip is not None:
        y = np.clip(y, clip[0], clip[1])
    return y.astype(x.dtype, copy=False)
