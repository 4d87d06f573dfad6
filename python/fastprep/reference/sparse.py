"""The checks of a CSR matrix's arrays (twin of rust/fastprep-core/src/sparse.rs)."""

from __future__ import annotations

import numpy as np

from fastprep.exceptions import SchemaError


def check_csr(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, cols: int) -> None:
    """Refuse arrays that are not a CSR matrix of ``cols`` columns, in the core's words."""

    def bad(what: str) -> SchemaError:
        return SchemaError(f"malformed sparse matrix: {what}")

    if len(indices) != len(data):
        raise bad("indices and data differ in length")
    if len(indptr) == 0:
        raise bad("empty indptr")
    if indptr[0] != 0:
        raise bad("indptr does not start at 0")
    if (np.diff(indptr) < 0).any() or indptr[-1] > len(data):
        raise bad("indptr decreases or exceeds the data")
    if len(indices) and (indices.min() < 0 or indices.max() >= cols):
        raise bad("a column index is out of range")
