"""SplineTransformer: a B-spline basis of each column, as scikit-learn's."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from fastprep._backend import kernels
from fastprep._base import Transform
from fastprep._checks import check_bool, check_choice
from fastprep._input import column_label
from fastprep.accumulators import FitAccumulator
from fastprep.exceptions import DataError, ParameterError, SchemaError
from fastprep.reference.spline import EXTRAPOLATIONS, boundary_values, n_splines

__all__ = ["SplineTransformer"]


def _natural(owner: str, name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ParameterError(f"{owner}: {name} must be an int >= {minimum}, got {value!r}")
    return int(value)


class SplineTransformer(Transform):
    """Each column's B-spline basis: ``n_knots + degree - 1`` columns per input column
    (``n_knots - 1`` when periodic), less one without the bias.

    Parameters
    ----------
    n_knots : int, default 5
        Knots of the base interval, placed ``"uniform"``\\ ly between each column's minimum
        and maximum or at its ``"quantile"``\\ s (exact over every row), unless ``knots`` gives
        them as an array of shape ``(n_knots, n_features)``, sorted without duplicates.
    degree : int, default 3
    extrapolation : "error", "constant", "linear", "continue" or "periodic", default "constant"
        Beyond the base interval: an error, the boundary values, the boundary tangents, the
        polynomial pieces continued, or the value wrapped into the period.
    include_bias : bool, default True
        Without it, the last basis column of each input column is dropped.
    order : "C" or "F", default "C"
        The memory layout of the output.
    handle_missing : "error" or "zeros", default "error"
        "zeros": a missing value's columns are 0, as scikit-learn's. "error": its columns are
        NaN (scikit-learn refuses NaN instead); the fit skips missing values either way.
    sparse_output : False
        Output is dense (True is refused).

    Values are SciPy's ``BSpline`` evaluation (the same de Boor recursion, in float64), within
    1e-10 relative of scikit-learn's, beyond the fitted range too. Float32 in gives float32 out,
    rounded once.

    Example
    -------
    >>> import numpy as np, fastprep as fp
    >>> x = np.array([[0.0], [1.0], [2.0]])
    >>> fp.SplineTransformer(n_knots=3, degree=1).fit_transform(x).tolist()
    [[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
    """

    def __init__(
        self,
        n_knots: int = 5,
        degree: int = 3,
        *,
        knots: str | Any = "uniform",
        extrapolation: str = "constant",
        include_bias: bool = True,
        order: str = "C",
        handle_missing: str = "error",
        sparse_output: bool = False,
    ):
        self.n_knots = n_knots
        self.degree = degree
        self.knots = knots
        self.extrapolation = extrapolation
        self.include_bias = include_bias
        self.order = order
        self.handle_missing = handle_missing
        self.sparse_output = sparse_output

    def _validate_params(self) -> None:
        _natural(self._name, "n_knots", self.n_knots, 2)
        _natural(self._name, "degree", self.degree, 0)
        if isinstance(self.knots, str):
            check_choice(self._name, "knots", self.knots, ("uniform", "quantile"))
        check_choice(self._name, "extrapolation", self.extrapolation, EXTRAPOLATIONS)
        check_bool(self._name, "include_bias", self.include_bias)
        check_choice(self._name, "order", self.order, ("C", "F"))
        check_choice(self._name, "handle_missing", self.handle_missing, ("error", "zeros"))
        if self.sparse_output is not False:
            raise ParameterError(
                f"{self._name}: the output is dense; sparse_output=True is not supported"
            )

    @property
    def _keep_values(self) -> bool:  # type: ignore[override]
        return isinstance(self.knots, str) and self.knots == "quantile"

    # -- fitting ----------------------------------------------------------------------------

    def fit(self, X, y=None, sample_weight=None):
        """Place the knots on ``X``, discarding any previous fit. ``sample_weight``: a weight
        per row, as scikit-learn's: quantile knots are its weighted percentiles
        (``inverted_cdf``), uniform knots span the values of positive weight."""
        return self._fit(X, sample_weight)

    def partial_fit(self, X, y=None, sample_weight=None):
        """Add the rows of ``X`` (weighted by ``sample_weight`` if given) to the fit."""
        return self._partial_fit(X, sample_weight)

    def _weighted_batch(self, x, w):
        batch = super()._weighted_batch(x, w)
        moments = batch.moments
        if self._keep_values or np.isinf(moments.min).any() or np.isinf(moments.max).any():
            return batch  # (an infinity is refused by the caller)
        return batch.spanning_positive_weights(x, w)  # uniform knots, as scikit-learn's

    def _base_knots(self, accumulator: FitAccumulator) -> np.ndarray:
        """``(n_knots, n_features)``: the knots of each column's base interval."""
        n = accumulator.n_features
        if not isinstance(self.knots, str):
            base = np.asarray(self.knots, dtype=np.float64)
            if base.ndim != 2 or base.shape[0] < 2 or not np.isfinite(base).all():
                raise ParameterError(
                    f"{self._name}: knots must be a finite array of shape (n_knots >= 2, "
                    "n_features)"
                )
            if base.shape[1] != n:
                raise SchemaError(f"{self._name}: knots has {base.shape[1]} columns, X has {n}")
            if not (np.diff(base, axis=0) > 0).all():
                raise ParameterError(f"{self._name}: knots must be sorted without duplicates")
            return base
        moments = accumulator.moments
        empty = moments.count == 0
        if self.knots == "quantile":
            if empty.any():
                j = int(np.flatnonzero(empty)[0])
                raise DataError(
                    f"{self._name}: {column_label(j, self._names_or_none())} has no values to "
                    "place quantile knots on"
                )
            percents = 100 * np.linspace(0, 1, self.n_knots, dtype=np.float64)
            if accumulator.values.weighted:
                return accumulator.values.weighted_quantiles(percents, average=False)
            # As np.nanpercentile(X, 100 * linspace(0, 1, n_knots)): ranks divided by 100.
            ranks = np.true_divide(100 * np.linspace(0, 1, self.n_knots, dtype=np.float64), 100)
            return np.asarray(accumulator.values.quantiles(ranks), dtype=np.float64)
        # A column without values spans [0, 0], as scikit-learn's.
        lo, hi = np.where(empty, 0.0, moments.min), np.where(empty, 0.0, moments.max)
        return np.linspace(lo, hi, num=self.n_knots, endpoint=True, dtype=np.float64)

    def _finalize(self, accumulator: FitAccumulator) -> dict[str, Any]:
        base = self._base_knots(accumulator)
        k = int(self.degree)
        if self.extrapolation == "periodic" and base.shape[0] <= k:
            raise ParameterError(
                f"{self._name}: periodic splines need degree < n_knots, got n_knots="
                f"{base.shape[0]} and degree={k}"
            )
        # The knots beyond the base interval, placed as scikit-learn places them.
        if self.extrapolation == "periodic":
            period = base[-1] - base[0]
            full = np.r_[base[-(k + 1) : -1] - period, base, base[1 : (k + 1)] + period]
        else:
            dist_min, dist_max = base[1] - base[0], base[-1] - base[-2]
            full = np.r_[
                np.linspace(base[0] - k * dist_min, base[0] - dist_min, num=k),
                base,
                np.linspace(base[-1] + dist_max, base[-1] + k * dist_max, num=k),
            ]
        return {"knots_": np.ascontiguousarray(full.T, dtype=np.float64)}

    def _check_state(self) -> None:
        knots = self.knots_
        if not isinstance(knots, np.ndarray) or knots.ndim != 2:
            raise SchemaError("knots_ must be a 2-D float64 array")
        per = knots.shape[1] - 2 * int(self.degree)
        if knots.shape[0] != self.n_features_in_ or per < 2:
            raise SchemaError("knots_ must hold one knot vector per column")
        if self.extrapolation == "periodic" and per <= int(self.degree):
            raise SchemaError("knots_: periodic splines need degree < n_knots")
        if not np.isfinite(knots).all():
            raise SchemaError("knots_ must be finite")

    # -- the fitted splines ------------------------------------------------------------------

    def _splines(self) -> int:
        return n_splines(self.knots_.shape[1], int(self.degree), self.extrapolation == "periodic")

    def _outputs_per_column(self) -> int:
        """Output columns per input column (the last spline goes without the bias)."""
        return self._splines() - (not self.include_bias)

    @property
    def n_features_out_(self) -> int:
        """The number of output columns."""
        self._check_fitted()
        return int(self.n_features_in_) * self._outputs_per_column()

    @property
    def bsplines_(self) -> list:
        """scikit-learn's fitted splines, as SciPy ``BSpline`` objects (needs SciPy)."""
        from scipy.interpolate import BSpline

        self._check_fitted()
        k, splines = int(self.degree), self._splines()
        coef = np.eye(splines, dtype=np.float64)
        if self.extrapolation == "periodic":
            coef = np.concatenate((coef, coef[:k, :]))
        extrapolate = self.extrapolation in ("periodic", "continue")
        return [BSpline.construct_fast(t, coef, k, extrapolate=extrapolate) for t in self.knots_]

    def _bounds(self) -> np.ndarray:
        return self._cached(
            "spline_bounds",
            lambda: boundary_values(self.knots_, int(self.degree), self.extrapolation),
        )

    # -- transforming ---------------------------------------------------------------------

    def _transform(self, x: np.ndarray) -> np.ndarray:
        self._validate_params()
        out = kernels().spline(
            x, self.knots_, int(self.degree), self.extrapolation, bool(self.include_bias),
            self.handle_missing == "zeros", self._bounds(),
        )  # fmt: skip
        if self.extrapolation == "error":
            self._refuse_beyond(x, out)
        return np.asfortranarray(out) if self.order == "F" else out

    def _refuse_beyond(self, x: np.ndarray, out: np.ndarray) -> None:
        """scikit-learn's error for a value beyond the base interval (its columns are NaN)."""
        per = self._outputs_per_column()
        if not per:
            return
        beyond = np.isnan(out[:, ::per]) & ~np.isnan(x)
        rows, cols = np.nonzero(beyond)
        if rows.size:
            r, j = int(rows[0]), int(cols[0])
            k = int(self.degree)
            lo, hi = float(self.knots_[j, k]), float(self.knots_[j, -k - 1])
            raise DataError(
                f"{self._name}: {self._label(j)} row {r} holds {float(x[r, j])!r}, beyond the "
                f"limits of the knots [{lo!r}, {hi!r}] (extrapolation='error')"
            )

    def _n_features_out(self) -> int:
        return self.n_features_out_

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """``<input>_sp_<j>``, scikit-learn's names."""
        names = self._input_names(input_features)
        per = self._outputs_per_column()
        return np.asarray([f"{n}_sp_{j}" for n in names for j in range(per)], dtype=object)

    def _plan_step(self) -> dict | None:
        self._validate_params()
        if self.extrapolation == "error":
            return None  # an error to raise, which a plan cannot: step by step
        return {
            "step": "spline",
            "knots": self.knots_,
            "degree": int(self.degree),
            "extrapolation": self.extrapolation,
            "include_bias": bool(self.include_bias),
            "zeros_for_missing": self.handle_missing == "zeros",
            "bounds": self._bounds(),
        }
