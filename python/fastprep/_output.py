"""Output building: the output dtype, scipy CSR matrices, and one rounding to the output dtype.

scipy is optional: only sparse output needs it, and it is imported when a CSR matrix is built.
"""

from __future__ import annotations

import numpy as np

from fastprep.exceptions import ParameterError


def output_dtype(dtype, owner: str) -> np.dtype:
    """An encoder's ``dtype`` parameter as a NumPy dtype: any numeric one."""
    try:
        d = np.dtype(dtype)
    except TypeError:
        raise ParameterError(f"{owner}: dtype {dtype!r} is not a NumPy dtype") from None
    if d.kind not in "fiub":
        raise ParameterError(f"{owner}: dtype must be numeric, got {d}")
    return d


def is_float32(dtype) -> bool:
    """Whether a composition's ``dtype=`` asks for float32 (float64 otherwise; others refused)."""
    dtype = np.dtype(dtype)
    if dtype not in (np.float64, np.float32):
        raise ParameterError(f"dtype must be float64 or float32, got {dtype}")
    return dtype == np.float32


def as_dtype(y, dtype):
    """A dense or sparse output rounded once to ``dtype`` (float64 or float32)."""
    is_float32(dtype)
    dtype = np.dtype(dtype)
    if hasattr(y, "toarray"):
        return y.astype(dtype) if y.dtype != dtype else y
    y = np.asarray(y)
    return y if y.dtype == dtype else y.astype(dtype)


def check_out(out, shape: tuple[int, int], dtype, x, owner: str) -> None:
    """Refuse an ``out=`` array that is not the output's buffer: a C-contiguous, writeable
    NumPy array of ``shape`` and ``dtype``, apart from the input ``x``."""
    if not isinstance(out, np.ndarray):
        raise ParameterError(f"{owner}: out must be a NumPy array, got {type(out).__name__}")
    if out.shape != shape or out.dtype != dtype:
        raise ParameterError(
            f"{owner}: out has shape {out.shape} and dtype {out.dtype}; the output has shape "
            f"{shape} and dtype {np.dtype(dtype)}"
        )
    if not (out.flags.c_contiguous and out.flags.writeable):
        raise ParameterError(f"{owner}: out must be C-contiguous and writeable")
    if x is not None and np.may_share_memory(out, x):
        raise ParameterError(f"{owner}: out must not overlap the input")


def into(out, result, owner: str):
    """``result`` (a composition's output) copied into the caller's ``out`` and returned."""
    if hasattr(result, "toarray"):
        raise ParameterError(f"{owner}: out= takes a dense output, this one is sparse")
    check_out(out, result.shape, result.dtype, None, owner)
    np.copyto(out, result)
    return out


def dense(y) -> np.ndarray:
    """A dense array of a dense or sparse output."""
    return y.toarray() if hasattr(y, "toarray") else np.asarray(y)


def scipy_sparse():
    """``scipy.sparse``, or an ImportError that says how to do without it."""
    try:
        from scipy import sparse
    except ImportError:  # pragma: no cover - exercised in an environment without scipy
        raise ImportError(
            "sparse output needs scipy: `pip install scipy`, or pass sparse_output=False for "
            "a dense NumPy array"
        ) from None
    return sparse


def csr(data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]):
    """A scipy CSR matrix of a kernel's arrays: int32 indices and indptr where they fit (as
    scipy builds them), int64 beyond."""
    if indptr[-1] < 2**31:
        indptr = indptr.astype(np.int32)
        indices = indices.astype(np.int32, copy=False)
    else:
        indices = indices.astype(np.int64)
    return scipy_sparse().csr_matrix((data, indices, indptr), shape=shape)


def run_dense(kernel, dtype: np.dtype, *args):
    """Run a fused kernel in float32 or float64 and cast to other requested dtypes:
    ``(out, unknown, missing)``."""
    out, unknown, missing = kernel(*args, dtype != np.float64)
    if out.dtype != dtype:
        out = out.astype(dtype)
    return out, unknown, missing


#: The containers ``set_output(transform=...)`` offers: NumPy (or scipy) as computed, or a
#: table whose columns are the feature names.
CONTAINERS = ("default", "pandas", "polars", "pyarrow")


def check_container(kind, owner: str) -> None:
    if kind not in CONTAINERS:
        raise ParameterError(
            f"{owner}: transform output must be one of {', '.join(map(repr, CONTAINERS))}, "
            f"got {kind!r}"
        )


def in_container(out, kind: str, names, index, owner: str):
    """A 2-D output as a table of ``kind`` with the columns ``names``: a pandas DataFrame (on
    ``index``, the input's when it was a DataFrame, as scikit-learn), a polars DataFrame or a
    pyarrow Table. The library is imported only here, when it is asked for."""
    if hasattr(out, "toarray"):
        raise ParameterError(
            f"{owner}: {kind} output does not support sparse data; set sparse_output=False"
        )
    out = np.asarray(out)
    if out.ndim != 2 or kind == "default":
        return out
    names = [str(n) for n in names]
    if kind == "pandas":
        import pandas as pd

        return pd.DataFrame(out, columns=names, index=index, copy=False)
    if kind == "polars":
        import polars as pl

        return pl.DataFrame({n: out[:, j] for j, n in enumerate(names)})
    import pyarrow as pa

    return pa.table([pa.array(out[:, j], from_pandas=True) for j in range(len(names))], names=names)


def pandas_index(X):
    """The index of a pandas DataFrame (what a pandas output keeps), else None."""
    module = type(X).__module__
    return X.index if module.startswith("pandas") and hasattr(X, "index") else None
