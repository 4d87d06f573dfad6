"""QuantileTransformer: map each column onto a uniform or normal distribution."""

from __future__ import annotations

import numbers
import warnings
from typing import Any, ClassVar

import numpy as np

from fastprep._backend import kernels
from fastprep._base import InvertibleTransform
from fastprep._checks import check_bool, check_choice, check_int
from fastprep._input import csr_parts
from fastprep._plan import floats
from fastprep.exceptions import DataError, ParameterError, SchemaError

__all__ = ["QuantileTransformer"]


class QuantileTransformer(InvertibleTransform):
    """Map each column through its empirical CDF onto a uniform or a normal distribution.

    Parameters
    ----------
    n_quantiles : int, default 1000
        Number of quantiles (landmarks) per column; capped at the number of rows seen.
    output_distribution : {"uniform", "normal"}, default "uniform"
    subsample : int or None, default None
        Accepted for scikit-learn compatibility and recorded; fastprep never draws a random
        subsample. Its quantiles are exact over every row (scikit-learn subsamples 10,000 rows
        by default to bound the cost of its fit; fastprep's exact fit is faster than that).
        Pass ``subsample=None`` to scikit-learn for identical quantiles on larger data.
    ignore_implicit_zeros : bool, default False
        Sparse input only: fit the quantiles on the stored values alone. Otherwise the
        implicit zeros count as values, and the stored values must be >= 0 (zero is then the
        smallest value, so the implicit zeros keep their place), as in scikit-learn.

    Sparse input (SciPy CSR or CSC): sparse output of the same format, whose stored values are
    transformed and whose implicit zeros stay zeros, as scikit-learn's.

    The transform is scikit-learn's: the mean of linear interpolation up and down the quantiles,
    values within 1e-7 of the extreme quantiles pinned to the ends, then for a normal output the
    inverse normal CDF clipped at ±5.2. NaN is disregarded in fit and kept in transform.
    Quantiles are interpolated as ``np.nanpercentile`` and made non-decreasing, as in
    scikit-learn, so fitted quantiles are identical; the normal output uses AS241 for the
    inverse CDF (within 1e-15 relative of scipy's).

    Fitted attributes: ``quantiles_`` (n_quantiles_ x n_features), ``references_``,
    ``n_quantiles_``, ``n_features_in_``.

    Example
    -------
    >>> import numpy as np, fastprep as fp
    >>> x = np.array([[1.0], [2.0], [3.0], [10.0], [100.0]])
    >>> fp.QuantileTransformer(n_quantiles=5).fit_transform(x).ravel()
    array([0.  , 0.25, 0.5 , 0.75, 1.  ])
    """

    _keep_values = True
    _later_params: ClassVar[dict[str, Any]] = {"ignore_implicit_zeros": False}
    quantiles_: np.ndarray
    references_: np.ndarray
    n_quantiles_: int
    _fitted_attributes = ("quantiles_", "references_", "n_quantiles_")

    def __init__(
        self,
        *,
        n_quantiles: int = 1000,
        output_distribution: str = "uniform",
        ignore_implicit_zeros: bool = False,
        subsample: int | None = None,
    ):
        self.n_quantiles = n_quantiles
        self.output_distribution = output_distribution
        self.ignore_implicit_zeros = ignore_implicit_zeros
        self.subsample = subsample

    def _validate_params(self) -> None:
        check_int(self._name, "n_quantiles", self.n_quantiles, minimum=1)
        check_choice(
            self._name, "output_distribution", self.output_distribution, ("uniform", "normal")
        )
        check_bool(self._name, "ignore_implicit_zeros", self.ignore_implicit_zeros)
        if self.subsample is not None and (
            not isinstance(self.subsample, numbers.Integral)
            or isinstance(self.subsample, bool)
            or self.subsample < 1
        ):
            raise ParameterError(
                f"{self._name}: subsample must be None or an integer >= 1, got {self.subsample!r}"
            )

    def _finalize(self, accumulator):
        n_rows = accumulator.moments.n_rows
        if self.n_quantiles > n_rows:
            warnings.warn(
                f"{self._name}: n_quantiles ({self.n_quantiles}) is greater than the number of "
                f"rows ({n_rows}); n_quantiles is set to {n_rows}",
                UserWarning,
                stacklevel=4,
            )
        n_quantiles = max(1, min(self.n_quantiles, n_rows))
        references = np.linspace(0, 1, n_quantiles, endpoint=True)
        # scikit-learn asks np.nanpercentile for references * 100, which divides by 100 again.
        fractions = np.true_divide(references * 100, 100)
        values = accumulator.values
        quantiles = values.quantiles(fractions, implicit_zeros=not self.ignore_implicit_zeros)
        if values.sparse and self.ignore_implicit_zeros:
            # A column without stored values has quantiles of zeros, as scikit-learn's.
            quantiles[:, np.isnan(quantiles).all(axis=0)] = 0.0
        # Interpolation may break monotonicity by an ULP (numpy#14685): restore it.
        quantiles = np.ascontiguousarray(np.maximum.accumulate(quantiles, axis=0))
        return {"quantiles_": quantiles, "references_": references, "n_quantiles_": n_quantiles}

    def _check_state(self) -> None:
        q, refs, n = self.quantiles_, self.references_, self.n_quantiles_
        for key, a in (("quantiles_", q), ("references_", refs)):
            if not isinstance(a, np.ndarray) or a.dtype != np.float64:
                raise SchemaError(f"{key} must be a float64 array")
        if q.ndim != 2 or q.shape[1] != self.n_features_in_ or refs.shape != (q.shape[0],):
            raise SchemaError("quantiles_ and references_ have mismatched shapes")
        if not isinstance(n, int) or n != q.shape[0] or n < 1:
            raise SchemaError("n_quantiles_ does not match quantiles_")
        if np.isinf(q).any() or np.isnan(q).any() or np.any(np.diff(q, axis=0) < 0):
            raise SchemaError("quantiles_ are not sorted")
        if np.any(np.diff(refs) <= 0) or refs[0] < 0 or refs[-1] > 1:
            raise SchemaError("references_ are not increasing within [0, 1]")

    def _plan_step(self) -> dict:
        normal = self.output_distribution == "normal"
        return {"step": "quantile", "quantiles": floats(self.quantiles_),
                "references": floats(self.references_), "normal": normal}  # fmt: skip

    def _map(self, x, inverse: bool):
        normal = self.output_distribution == "normal"
        return kernels().quantile_transform(x, self.quantiles_, self.references_, normal, inverse)

    def _transform(self, x):
        return self._map(x, inverse=False)

    def _accepts_sparse(self) -> bool:
        return True

    def _check_sparse(self, x) -> None:
        if self.ignore_implicit_zeros:
            return
        with np.errstate(invalid="ignore"):
            negative = x.data < 0
        if negative.any():
            column = int(x.indices[np.flatnonzero(negative)[0]])
            raise DataError(
                f"{self._name}: {self._label(column)} holds negative values; sparse input must "
                "be non-negative (its implicit zeros count as the smallest values) unless "
                "ignore_implicit_zeros=True"
            )

    def _transform_sparse(self, x):
        normal = self.output_distribution == "normal"
        return kernels().quantile_transform_csr(
            *csr_parts(x), self.quantiles_, self.references_, normal, False
        )

    def _inverse_transform(self, x):
        return self._map(x, inverse=True)
