"""KBinsDiscretizer: bin continuous columns into intervals."""

from __future__ import annotations

import numbers
import warnings
from typing import TYPE_CHECKING

import numpy as np

from fastprep._backend import kernels
from fastprep._base import InvertibleTransform
from fastprep._checks import check_choice
from fastprep._input import is_sparse
from fastprep._output import csr, scipy_sparse
from fastprep._plan import floats
from fastprep.exceptions import DataError, ParameterError, SchemaError

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["KBinsDiscretizer"]


class KBinsDiscretizer(InvertibleTransform):
    """Bin each column into ``n_bins`` intervals; output the bin index or one-hot bins.

    Parameters
    ----------
    n_bins : int or array-like of int, default 5
        Bins per column (at least 2).
    encode : {"onehot", "onehot-dense", "ordinal"}, default "onehot-dense"
        One 0/1 column per bin as a SciPy CSR matrix ("onehot", scikit-learn's default) or a
        dense array ("onehot-dense"), or the bin index ("ordinal"). fastprep's default is
        the dense one-hot, which the compiled plan and ``transform_one`` produce directly.
    strategy : {"quantile", "uniform"}, default "quantile"
        Edges at quantiles of the training data, or evenly spaced between its min and max.
    quantile_method : {"averaged_inverted_cdf", "linear"}, default "averaged_inverted_cdf"
        How quantile edges are interpolated (NumPy's methods; scikit-learn's default).

    A value's bin is the number of inner edges at or below it, so values outside the training
    range go to the first or last bin. Bins narrower than 1e-8 are merged away and a constant
    column gets a single bin, both with a warning, as in scikit-learn. Quantile edges are
    exact over every training row (scikit-learn subsamples 200,000 rows by default: pass
    ``subsample=None`` to it for identical edges on larger data). NaN is disregarded in fit and
    kept in transform: its ordinal code is NaN and all of its one-hot columns are NaN (stored
    NaNs in the sparse one-hot, so that ``toarray()`` equals the dense one-hot).

    ``fit(X, sample_weight=w)`` weighs the rows as scikit-learn 1.9 does: quantile edges are
    its weighted percentiles (``averaged_inverted_cdf``; ``quantile_method="linear"`` has no
    weighted form and is refused), and uniform edges span the values of positive weight.

    Fitted attributes: ``bin_edges_`` (object array of per-column edge arrays), ``n_bins_``,
    ``n_features_in_``.

    Example
    -------
    >>> import numpy as np, fastprep as fp
    >>> x = np.arange(8.0).reshape(-1, 1)
    >>> fp.KBinsDiscretizer(n_bins=4, encode="ordinal").fit_transform(x).ravel()
    array([0., 0., 1., 1., 2., 2., 3., 3.])
    """

    bin_edges_: np.ndarray
    n_bins_: np.ndarray
    _fitted_attributes = ("bin_edges_", "n_bins_")

    def __init__(
        self,
        n_bins=5,
        *,
        encode: str = "onehot-dense",
        strategy: str = "quantile",
        quantile_method: str = "averaged_inverted_cdf",
    ):
        self.n_bins = n_bins
        self.encode = encode
        self.strategy = strategy
        self.quantile_method = quantile_method

    @property
    def _keep_values(self) -> bool:  # type: ignore[override]
        return self.strategy == "quantile"

    def fit(self, X, y=None, sample_weight=None) -> Self:
        """Fit on ``X``, discarding any previous fit. ``sample_weight``: a weight per row
        (finite, >= 0), as scikit-learn's."""
        self._check_weighted(sample_weight)
        return self._fit(X, sample_weight)

    def partial_fit(self, X, y=None, sample_weight=None) -> Self:
        """Add the rows of ``X`` to the fit, weighted by ``sample_weight`` if given (batches
        with and without weights merge: no weight is a weight of 1)."""
        self._check_weighted(sample_weight)
        return self._partial_fit(X, sample_weight)

    def _check_weighted(self, sample_weight) -> None:
        if (
            sample_weight is not None
            and self.strategy == "quantile"
            and self.quantile_method != "averaged_inverted_cdf"
        ):
            raise ParameterError(
                f"{self._name}: with strategy='quantile' and sample weights, quantile_method "
                f"must be 'averaged_inverted_cdf', got {self.quantile_method!r}"
            )

    def _weighted_batch(self, x, w):
        batch = super()._weighted_batch(x, w)
        moments = batch.moments
        if (
            self.strategy == "quantile"
            or np.isinf(moments.min).any()
            or np.isinf(moments.max).any()
        ):
            return batch  # (an infinity is refused by the caller)
        return batch.spanning_positive_weights(x, w)  # uniform edges, as scikit-learn's

    def _validate_params(self) -> None:
        check_choice(self._name, "encode", self.encode, ("onehot", "onehot-dense", "ordinal"))
        check_choice(self._name, "strategy", self.strategy, ("quantile", "uniform"))
        check_choice(
            self._name,
            "quantile_method",
            self.quantile_method,
            ("averaged_inverted_cdf", "linear"),
        )
        self._bins_per_feature(None)

    def _bins_per_feature(self, n_features: int | None) -> np.ndarray:
        bins = self.n_bins
        if isinstance(bins, numbers.Integral) and not isinstance(bins, bool):
            if bins < 2:
                raise ParameterError(f"{self._name}: n_bins must be >= 2, got {bins}")
            return np.full(n_features or 0, int(bins))
        values = np.asarray(bins)
        if values.ndim != 1 or values.dtype.kind not in "iu" or np.any(values < 2):
            raise ParameterError(
                f"{self._name}: n_bins must be an integer >= 2 or one such integer per column, "
                f"got {bins!r}"
            )
        if n_features is not None and values.size != n_features:
            raise ParameterError(
                f"{self._name}: n_bins has {values.size} entries for {n_features} columns"
            )
        return values.astype(int)

    def _finalize(self, accumulator):
        moments = accumulator.moments
        n_features = moments.n_features
        n_bins = self._bins_per_feature(n_features).copy()
        quantiles = {}
        if self.strategy == "quantile":
            values = accumulator.values
            for nb in np.unique(n_bins):
                if values.weighted:
                    self._check_weighted(True)
                    percents = np.linspace(0, 100, nb + 1)
                    quantiles[nb] = values.weighted_quantiles(percents, average=True)
                    continue
                # np.percentile's own fractions: linspace(0, 100) / 100.
                levels = np.true_divide(np.linspace(0, 100, nb + 1), 100)
                quantiles[nb] = values.quantiles(levels, self.quantile_method)
        edges = np.empty(n_features, dtype=object)
        for j in range(n_features):
            lo, hi = moments.min[j], moments.max[j]
            if not lo < hi:  # constant, or no value at all
                warnings.warn(
                    f"{self._name}: {self._label(j)} is constant and will be replaced with 0",
                    UserWarning,
                    stacklevel=4,
                )
                n_bins[j] = 1
                edges[j] = np.array([-np.inf, np.inf])
                continue
            if self.strategy == "uniform":
                edges[j] = np.linspace(lo, hi, n_bins[j] + 1)
                continue
            column = quantiles[n_bins[j]][:, j]
            column = column[np.ediff1d(column, to_begin=np.inf) > 1e-8]
            if column.size < 2:  # every value within 1e-8 of the first: one bin, as constant
                column = np.array([-np.inf, np.inf])
            if column.size - 1 != n_bins[j]:
                warnings.warn(
                    f"{self._name}: bins narrower than 1e-8 in {self._label(j)} are removed; "
                    "consider fewer bins",
                    UserWarning,
                    stacklevel=4,
                )
                n_bins[j] = column.size - 1
            edges[j] = column
        return {"bin_edges_": edges, "n_bins_": n_bins, **_flat(edges)}

    _derived = ("_flat_edges", "_edge_offsets")

    def _restored(self) -> None:
        edges = self.bin_edges_
        if not isinstance(edges, np.ndarray) or edges.shape != (self.n_features_in_,):
            raise SchemaError("bin_edges_ must hold one array of edges per column")
        for j, e in enumerate(edges):
            if not isinstance(e, np.ndarray) or e.dtype != np.float64 or e.ndim != 1:
                raise SchemaError(f"bin_edges_[{j}] is not a float64 array")
        for key, value in _flat(edges).items():
            setattr(self, key, value)

    def _check_state(self) -> None:
        n_bins = self.n_bins_
        if not (isinstance(n_bins, np.ndarray) and n_bins.dtype.kind in "iu"
                and n_bins.shape == (self.n_features_in_,)):  # fmt: skip
            raise SchemaError("n_bins_ must hold one integer per column")
        for j, edges in enumerate(self.bin_edges_):
            if edges.size < 2 or np.isnan(edges).any():
                raise SchemaError(f"bin_edges_[{j}] is not an array of at least 2 numbers")
            if np.any(np.diff(edges) <= 0):
                raise SchemaError(f"bin_edges_[{j}] is not sorted (strictly increasing)")
            if int(n_bins[j]) != edges.size - 1:
                raise SchemaError(f"n_bins_[{j}] does not match bin_edges_[{j}]")

    def _may_output_sparse(self) -> bool:
        return self.encode == "onehot"

    def _plan_step(self) -> dict:
        # The plan writes dense blocks; a composite holding a sparse one-hot makes its CSR
        # output from them, as it does for a sparse OneHotEncoder.
        onehot = self.encode != "ordinal"
        return {"step": "digitize", "edges": floats(self._flat_edges),
                "offsets": [int(o) for o in self._edge_offsets], "onehot": onehot}  # fmt: skip

    def _transform(self, x):
        if self.encode == "onehot":
            scipy_sparse()  # before any work: a clear ImportError without scipy
            codes = kernels().digitize(x, self._flat_edges, self._edge_offsets, False)
            return _onehot_csr(codes, self.n_bins_)
        onehot = self.encode == "onehot-dense"
        return kernels().digitize(x, self._flat_edges, self._edge_offsets, onehot)

    def _n_features_out(self) -> int:
        self._check_fitted()
        if self.encode == "ordinal":
            return int(self.n_features_in_)
        return int(np.sum(self.n_bins_))

    def get_feature_names_out(self, input_features=None):
        names = self._input_names(input_features)
        if self.encode == "ordinal":
            return names
        return np.asarray(
            # scikit-learn's names: its one-hot categories are the float codes 0.0, 1.0, ...
            [
                f"{name}_{float(k)}"
                for name, nb in zip(names, self.n_bins_, strict=True)
                for k in range(nb)
            ],
            dtype=object,
        )

    def inverse_transform(self, X) -> np.ndarray:
        """Map bins back to the centres of their intervals; the one-hot may be dense or
        sparse."""
        return super().inverse_transform(X.toarray() if is_sparse(X) else X)

    def _inverse_transform(self, x):
        """Each bin maps back to its centre (as scikit-learn); NaN stays NaN."""
        codes = x
        if self.encode != "ordinal":
            starts = np.concatenate([[0], np.cumsum(self.n_bins_)])
            codes = np.empty((x.shape[0], self.n_features_in_), dtype=x.dtype)
            for j in range(self.n_features_in_):
                block = x[:, starts[j] : starts[j + 1]]
                codes[:, j] = np.argmax(block, axis=1)
                codes[np.isnan(block).any(axis=1), j] = np.nan
        out = np.empty(codes.shape, dtype=x.dtype)
        for j, edges in enumerate(self.bin_edges_):
            column = codes[:, j]
            known = ~np.isnan(column)
            index = column[known]
            if np.any((index != np.floor(index)) | (index < 0) | (index >= self.n_bins_[j])):
                raise DataError(
                    f"{self._name}: {self._label(j)} holds codes outside 0..{self.n_bins_[j] - 1}"
                )
            with np.errstate(invalid="ignore"):
                centres = (edges[1:] + edges[:-1]) * 0.5
            out[:, j] = np.nan
            out[known, j] = centres[index.astype(np.intp)]
        return out


def _onehot_csr(codes: np.ndarray, n_bins: np.ndarray):
    """The sparse one-hot of bin codes (rows x columns, NaN for a missing value): one stored 1
    per cell, or a NaN in each of the column's bins for a missing one."""
    rows, n_columns = codes.shape
    starts = np.concatenate([[0], np.cumsum(n_bins)])
    width = int(starts[-1])
    missing = np.isnan(codes)
    cell = np.where(missing, 0, codes).astype(np.int64) + starts[:-1]
    if not missing.any():
        indptr = np.arange(0, rows * n_columns + 1, n_columns, dtype=np.int64)
        return csr(np.ones(cell.size, dtype=codes.dtype), cell.ravel(), indptr, (rows, width))
    counts = np.where(missing, n_bins, 1).ravel()
    first = np.repeat(np.cumsum(counts) - counts, counts)
    indices = np.repeat(cell.ravel(), counts) + (np.arange(first.size) - first)
    data = np.repeat(np.where(missing, np.nan, 1).ravel().astype(codes.dtype), counts)
    indptr = np.concatenate([[0], np.cumsum(counts.reshape(rows, n_columns).sum(axis=1))])
    return csr(data, indices, indptr, (rows, width))


def _flat(edges) -> dict:
    """All columns' edges in one array, and where each column's start: the kernel's layout."""
    return {
        "_flat_edges": np.concatenate(list(edges)) if len(edges) else np.empty(0),
        "_edge_offsets": [0, *np.cumsum([e.size for e in edges], dtype=np.int64).tolist()],
    }
