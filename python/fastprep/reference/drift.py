"""Drift counting (twin of rust/fastprep-core/src/drift.rs): live values binned on training
edges, bins ``(-inf, e0], (e0, e1], ..., (e_last, inf)``, NaN counted apart."""

from __future__ import annotations

import numpy as np

from fastprep.exceptions import SchemaError
from fastprep.reference.encode import decode, lookup_codes


def bin_counts(values: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, int]:
    if np.isnan(edges).any() or np.any(np.diff(edges) <= 0):
        raise SchemaError("drift edges must be strictly increasing numbers")
    nan = np.isnan(values)
    bins = np.searchsorted(edges, values[~nan], side="left")
    return np.bincount(bins, minlength=edges.size + 1).astype(np.int64), int(nan.sum())


def code_counts(indexes: list, columns: list) -> list[np.ndarray]:
    """Per column, how often each lookup code occurs: categories, then missing, then unknown."""
    out = []
    for index, chunks in zip(indexes, columns, strict=True):
        rows = len(decode(chunks)[1])
        codes, _, _ = lookup_codes([index], [chunks], rows)
        out.append(np.bincount(codes[0], minlength=len(index) + 2).astype(np.int64))
    return out
