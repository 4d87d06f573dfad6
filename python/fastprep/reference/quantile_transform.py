"""Mapping through fitted quantiles (twin of rust/fastprep-core/src/quantile_transform.rs).

This is scikit-learn's ``QuantileTransformer._transform_col``, computed in float64 with
``np.interp``; NaN stays NaN, and a column whose quantiles are all NaN maps to NaN.
"""

from __future__ import annotations

import numpy as np

from fastprep.exceptions import ParameterError, SchemaError
from fastprep.reference._ieee import ieee
from fastprep.reference.sparse import check_csr
from fastprep.reference.special import ndtr, ndtri

BOUNDS_THRESHOLD = 1e-7


def _check(quantiles: np.ndarray, references: np.ndarray, cols: int) -> None:
    if quantiles.ndim != 2 or quantiles.shape[1] != cols:
        raise SchemaError(f"quantiles for {quantiles.shape[-1]} columns but the input has {cols}")
    if quantiles.shape[0] == 0 or quantiles.shape[0] != references.size:
        raise SchemaError(
            f"{quantiles.shape[0]} quantiles per column but {references.size} references"
        )
    if np.any(~(references[:-1] <= references[1:])):
        raise ParameterError("references must be sorted")
    for j in range(cols):
        q = quantiles[:, j]
        if not np.isnan(q).all() and np.any(~(q[:-1] <= q[1:])):
            raise ParameterError(f"quantiles of column {j} must be sorted and not NaN")


def normal_clip() -> tuple[float, float]:
    margin = BOUNDS_THRESHOLD - np.spacing(1)
    return float(ndtri(margin)), float(ndtri(1 - margin))


def _forward(column, q, references, normal):
    if normal:
        lower = column - BOUNDS_THRESHOLD < q[0]
        upper = column + BOUNDS_THRESHOLD > q[-1]
    else:
        lower = column == q[0]
        upper = column == q[-1]
    out = np.full_like(column, np.nan)
    finite = ~np.isnan(column)
    # Up and down, then the mean: repeated quantiles map to the middle of their references.
    out[finite] = 0.5 * (
        np.interp(column[finite], q, references)
        - np.interp(-column[finite], -q[::-1], -references[::-1])
    )
    out[upper] = 1.0
    out[lower] = 0.0
    if normal:
        lo, hi = normal_clip()
        out = np.clip(ndtri(out), lo, hi)
    return out


def _backward(column, q, references, normal):
    if normal:
        column = ndtr(column)
        lower = column - BOUNDS_THRESHOLD < 0.0
        upper = column + BOUNDS_THRESHOLD > 1.0
    else:
        lower = column == 0.0
        upper = column == 1.0
    out = np.full_like(column, np.nan)
    finite = ~np.isnan(column)
    out[finite] = np.interp(column[finite], references, q)
    out[upper] = q[-1]
    out[lower] = q[0]
    return out


@ieee
def quantile_transform(
    x: np.ndarray, quantiles: np.ndarray, references: np.ndarray, normal: bool, inverse: bool
) -> np.ndarray:
    """Map ``x`` through per-column ``quantiles`` (``n_quantiles x n_columns``) onto
    ``references`` (then a normal distribution if ``normal``); ``inverse`` maps back."""
    quantiles = np.asarray(quantiles, dtype=np.float64)
    references = np.asarray(references, dtype=np.float64)
    _check(quantiles, references, x.shape[1])
    x64 = x.astype(np.float64, copy=False)
    out = np.empty(x64.shape)
    for j in range(x64.shape[1]):
        q = quantiles[:, j]
        if np.isnan(q).all():
            out[:, j] = np.nan
            continue
        step = _backward if inverse else _forward
        out[:, j] = step(x64[:, j], q, references, normal)
    return out.astype(x.dtype, copy=False)


@ieee
def quantile_transform_csr(
    data: np.ndarray,
    index: tuple[np.ndarray, np.ndarray],
    cols: int,
    quantiles: np.ndarray,
    references: np.ndarray,
    normal: bool,
    inverse: bool,
) -> np.ndarray:
    """``quantile_transform`` of a CSR matrix's stored values, column by column (implicit
    zeros stay zeros): the new stored values."""
    indptr, indices = index
    check_csr(indptr, indices, data, cols)
    quantiles = np.asarray(quantiles, dtype=np.float64)
    _check(quantiles, np.asarray(references, dtype=np.float64), cols)
    j = indices.astype(np.intp)
    out = np.empty_like(data)
    for c in range(cols):
        at = j == c
        out[at] = quantile_transform(
            data[at][:, None], quantiles[:, [c]], references, normal, inverse
        )[:, 0]
    return out
