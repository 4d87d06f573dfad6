"""FeatureHasher: the hashing trick, bit-compatible with scikit-learn's FeatureHasher."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from fastprep import _backend
from fastprep._base import Fitted
from fastprep._input import (
    categorical_columns,
    column_label,
    no_columns,
    row_count,
    string_chunk,
)
from fastprep._output import csr, output_dtype, scipy_sparse
from fastprep.exceptions import DataError, ParameterError, SchemaError

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["FeatureHasher"]


def _is_table(X) -> bool:
    return isinstance(X, (dict, pa.Table, pa.RecordBatch, np.ndarray)) or (
        hasattr(X, "__arrow_c_stream__")
    )


class FeatureHasher(Fitted):
    """Feature names hashed to column indices (scikit-learn's FeatureHasher, same hashes).

    Each feature name is hashed with MurmurHash3 (x86, 32-bit, seed 0) over its UTF-8 bytes;
    the column is ``|h| mod n_features`` and, with ``alternate_sign``, the value is multiplied
    by the sign of ``h``. Zero values are skipped and duplicates within a sample summed. The
    hashes, indices and signs are identical to scikit-learn's.

    Input, either

    - scikit-learn's form, an iterable of samples: for ``input_type="string"`` each sample is
      an iterable of strings (value 1 each); for ``"dict"`` a dict ``{feature: value}``; for
      ``"pair"`` an iterable of ``(feature, value)``. A string value ``v`` of feature ``f``
      becomes the feature ``"f=v"`` of value 1. (Python objects are read one by one here, as
      in scikit-learn; the hashing runs in Rust.)
    - or a table (pyarrow Table / RecordBatch, dict of columns, 2-D NumPy array, anything
      with ``__arrow_c_stream__``), read straight from Arrow buffers: with ``"string"`` every
      non-missing string cell of a row is a feature; with ``"dict"`` each row is the dict
      ``{column name: cell}`` (2-D NumPy columns are named ``x0, x1, ...``), so a string cell
      is the feature ``"name=cell"`` and a number the feature ``name`` with that value.
      Missing cells are skipped.

    Output: scipy CSR (``sparse_output=True``, as scikit-learn; needs scipy) or a dense NumPy
    array, of ``dtype``. Stateless: ``fit`` only checks the parameters. An empty input gives
    an empty matrix (scikit-learn raises).

    Example
    -------
    >>> import fastprep as fp
    >>> h = fp.FeatureHasher(n_features=8, input_type="string", sparse_output=False)
    >>> h.transform([["cat", "dog"], ["cat"]]).shape
    (2, 8)
    """

    _stateless = True
    _reads_strings = True

    def __init__(
        self,
        n_features: int = 2**20,
        *,
        input_type: str = "dict",
        dtype=np.float64,
        alternate_sign: bool = True,
        sparse_output: bool = True,
    ):
        self.n_features = n_features
        self.input_type = input_type
        self.dtype = dtype
        self.alternate_sign = alternate_sign
        self.sparse_output = sparse_output

    @property
    def is_fitted(self) -> bool:
        return True  # stateless: its parameters are its whole state

    def __sklearn_tags__(self):
        """scikit-learn's FeatureHasher's tags: samples, not a 2-D array, as its input."""
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = self.input_type == "string"
        tags.input_tags.dict = self.input_type == "dict"
        tags.input_tags.categorical = False
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags

    def _reads_tables(self, frame=None, names=None) -> bool:
        return True

    def _validate_params(self) -> np.dtype:
        n = self.n_features
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or not 1 <= n < 2**31:
            raise ParameterError(f"FeatureHasher: n_features must be in [1, 2^31 - 1], got {n!r}")
        if self.input_type not in ("string", "dict", "pair"):
            raise ParameterError(
                "FeatureHasher: input_type must be 'string', 'dict' or 'pair', got "
                f"{self.input_type!r}"
            )
        return output_dtype(self.dtype, "FeatureHasher")

    def fit(self, X=None, y=None) -> Self:
        """Check the parameters; there is nothing to learn."""
        self._validate_params()
        return self

    def fit_transform(self, X, y=None):
        return self.fit(X).transform(X)

    def _n_features_out(self) -> int:
        self._validate_params()
        return int(self.n_features)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """``featurehasher0 ... featurehasher{n_features-1}`` (scikit-learn's prefix rule)."""
        self._validate_params()
        return np.asarray([f"featurehasher{i}" for i in range(self.n_features)], dtype=object)

    def transform(self, raw_X):
        """Hash ``raw_X`` (samples or a table, see the class docstring)."""
        dtype = self._validate_params()
        if self.sparse_output:
            scipy_sparse()  # before any work: a clear ImportError without scipy
        k = _backend.kernels()
        if _is_table(raw_X):
            indptr, indices, values, rows = self._hash_table(raw_X, k)
        else:
            indptr, indices, values, rows = self._hash_samples(raw_X, k)
        if not self.sparse_output:
            out = np.zeros((rows, self.n_features), dtype=dtype)
            row_of = np.repeat(np.arange(rows), np.diff(indptr))
            out[row_of, indices] = values
            return out
        return csr(values.astype(dtype, copy=False), indices, indptr, (rows, self.n_features))

    def _hash_table(self, X, k):
        if self.input_type == "pair":
            raise SchemaError(
                "FeatureHasher: a table is hashed with input_type='string' or 'dict'; "
                "'pair' takes an iterable of (feature, value) samples"
            )
        names, columns = categorical_columns(X, "FeatureHasher")
        if not columns:
            raise no_columns("FeatureHasher")
        rows = row_count(columns)
        if self.input_type == "dict":
            if names is None:
                names = [f"x{j}" for j in range(len(columns))]
            encoded = [str(n).encode("utf-8") for n in names]
        else:
            encoded = None
            for j, c in enumerate(columns):
                if c.kind != "str":
                    raise DataError(
                        f"FeatureHasher: {column_label(j, names)}: input_type='string' hashes "
                        f"strings, got {c.kind} values; use input_type='dict' to hash numbers "
                        "as values"
                    )
        if not columns:
            return np.zeros(rows + 1, np.int64), np.zeros(0, np.int32), np.zeros(0), rows
        indptr, indices, values = k.hash_columns(
            [c.chunks for c in columns], encoded, int(self.n_features), bool(self.alternate_sign)
        )
        return indptr, indices, values, rows

    def _hash_samples(self, raw_X, k):
        features: list[str] = []
        values: list[float] = []
        indptr = [0]
        try:
            samples = iter(raw_X)
        except TypeError:
            raise SchemaError(
                f"FeatureHasher: expected an iterable of samples or a table, got "
                f"{type(raw_X).__name__}"
            ) from None
        for sample in samples:
            if self.input_type == "string":
                if isinstance(sample, str):
                    raise SchemaError(
                        "FeatureHasher: a sample cannot be a single string; give an iterable "
                        "of strings per sample"
                    )
                for f in sample:
                    features.append(f)
                    values.append(1.0)
            else:
                items = sample.items() if self.input_type == "dict" else sample
                for f, v in items:
                    if isinstance(v, str):
                        features.append(f"{f}={v}")
                        values.append(1.0)
                    else:
                        features.append(f)
                        try:
                            values.append(float(v))
                        except (TypeError, ValueError):
                            raise DataError(
                                f"FeatureHasher: feature {f!r}: value {v!r} is neither a "
                                "string nor a number"
                            ) from None
            indptr.append(len(features))
        bad = next((f for f in features if not isinstance(f, str)), None)
        if bad is not None:
            raise DataError(f"FeatureHasher: feature names must be strings, got {bad!r}")
        try:
            chunk = string_chunk(pa.array(features, type=pa.large_string()))
        except UnicodeError as exc:
            # A lone surrogate (as in "\ud800") has no UTF-8 form.
            raise DataError(
                f"FeatureHasher: a feature name is not valid Unicode ({exc.reason})"
            ) from None
        out = k.hash_features(
            chunk,
            np.asarray(values, dtype=np.float64),
            np.asarray(indptr, dtype=np.int64),
            int(self.n_features),
            bool(self.alternate_sign),
        )
        return (*out, len(indptr) - 1)
