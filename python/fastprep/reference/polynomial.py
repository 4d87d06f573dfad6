"""Polynomial features (twin of rust/fastprep-core/src/polynomial.rs): full column ``c`` is
``full[parents[c]] * x[factors[c]]`` (-1: none; a column with neither is the bias, 1), in
float64; the output is the ``keep`` columns, rounded once to the input's float type."""

from __future__ import annotations

import numpy as np

from fastprep.exceptions import SchemaError
from fastprep.reference._ieee import ieee


@ieee
def polynomial(
    x: np.ndarray, parents: np.ndarray, factors: np.ndarray, keep: np.ndarray
) -> np.ndarray:
    rows, inputs = x.shape
    if len(parents) != len(factors):
        raise SchemaError(f"polynomial recipe: {len(parents)} parents for {len(factors)} factors")
    for c, (p, f) in enumerate(zip(parents.tolist(), factors.tolist(), strict=True)):
        if p != -1 and not 0 <= p < c:
            raise SchemaError(f"polynomial recipe: column {c} has the parent {p}")
        if f != -1 and not 0 <= f < inputs:
            raise SchemaError(f"polynomial recipe: column {c} multiplies by input {f} of {inputs}")
    keep = np.asarray(keep, dtype=np.int64)
    if np.any(np.diff(keep) <= 0) or (keep.size and not 0 <= keep[-1] < len(parents)):
        raise SchemaError("polynomial recipe: the kept columns are not increasing full columns")
    x64 = x.astype(np.float64, copy=False)
    full = np.empty((rows, len(parents)), dtype=np.float64)
    for c, (p, f) in enumerate(zip(parents.tolist(), factors.tolist(), strict=True)):
        if f == -1:
            full[:, c] = 1.0 if p == -1 else full[:, p]
        elif p == -1:
            full[:, c] = x64[:, f]
        else:
            np.multiply(full[:, p], x64[:, f], out=full[:, c])
    return full[:, keep].astype(x.dtype if x.dtype == np.float32 else np.float64)
