"""Binning by per-column edges (twin of rust/fastprep-core/src/discretize.rs).

A value's bin is ``np.searchsorted(edges[1:-1], x, side="right")``; NaN stays NaN, as the
ordinal code and in every one-hot column of its feature.
"""

from __future__ import annotations

import numpy as np

from fastprep.exceptions import ParameterError, SchemaError
from fastprep.reference._ieee import ieee


def _check_edges(edges: np.ndarray, offsets) -> None:
    if len(offsets) == 0 or offsets[0] != 0 or offsets[-1] != len(edges):
        raise ParameterError(f"bin edge offsets must run from 0 to {len(edges)}")
    for j in range(len(offsets) - 1):
        column = edges[offsets[j] : offsets[j + 1]]
        if offsets[j + 1] - offsets[j] < 2:
            raise ParameterError(f"column {j} needs at least two bin edges")
        if np.isnan(column).any() or np.any(np.diff(column) < 0):
            raise ParameterError(f"bin edges of column {j} must be sorted and not NaN")


@ieee
def digitize(x: np.ndarray, edges: np.ndarray, offsets, onehot: bool) -> np.ndarray:
    """Bin index per cell, or (``onehot``) one 0/1 column per bin, features in order."""
    edges = np.asarray(edges, dtype=np.float64)
    _check_edges(edges, offsets)
    if len(offsets) - 1 != x.shape[1]:
        raise SchemaError(
            f"bin edges for {len(offsets) - 1} columns but the input has {x.shape[1]}"
        )
    x64 = x.astype(np.float64, copy=False)
    blocks = []
    for j in range(x64.shape[1]):
        inner = edges[offsets[j] + 1 : offsets[j + 1] - 1]
        column = x64[:, j]
        bins = np.searchsorted(inner, column, side="right").astype(np.float64)
        bins[np.isnan(column)] = np.nan
        if onehot:
            block = (bins[:, np.newaxis] == np.arange(inner.size + 1)).astype(np.float64)
            block[np.isnan(bins)] = np.nan
        else:
            block = bins[:, np.newaxis]
        blocks.append(block)
    width = sum(b.shape[1] for b in blocks)
    out = np.hstack(blocks) if blocks else np.empty((x.shape[0], width))
    return np.ascontiguousarray(out.astype(x.dtype, copy=False))
