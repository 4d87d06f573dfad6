"""Named elementwise functions (twin of rust/fastprep-core/src/function.rs): NumPy's function
of the same name in float64, rounded once to the input's float type. ``clip`` is
``minimum(maximum(x, lo), hi)`` with NaN for an absent bound."""

from __future__ import annotations

import numpy as np

from fastprep.exceptions import ParameterError
from fastprep.reference._ieee import ieee

NAMES = (
    "identity", "log1p", "expm1", "log", "exp", "sqrt", "square", "abs", "sign",
    "reciprocal", "clip",
)  # fmt: skip

_UFUNCS = {
    "identity": lambda v: v.copy(),
    "log1p": np.log1p,
    "expm1": np.expm1,
    "log": np.log,
    "exp": np.exp,
    "sqrt": np.sqrt,
    "square": lambda v: v * v,
    "abs": np.abs,
    "sign": np.sign,
    "reciprocal": lambda v: 1.0 / v,
}


def _clip(v: np.ndarray, lo: float, hi: float) -> np.ndarray:
    lo = -np.inf if np.isnan(lo) else lo
    hi = np.inf if np.isnan(hi) else hi
    y = np.where(v < lo, lo, v)
    return np.where(y > hi, hi, y)


@ieee
def apply_function(x: np.ndarray, name: str, lo: float, hi: float) -> np.ndarray:
    if name not in NAMES:
        raise ParameterError(
            f'unknown function "{name}"; the named functions are ' + ", ".join(NAMES)
        )
    if name != "clip" and not (np.isnan(lo) and np.isnan(hi)):
        raise ParameterError(f"{name} takes no bounds (only clip does)")
    x64 = x.astype(np.float64, copy=False)
    y = _clip(x64, lo, hi) if name == "clip" else _UFUNCS[name](x64)
    return np.asarray(y, dtype=np.float64).astype(x.dtype, copy=False)
