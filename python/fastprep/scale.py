"""Scalers: StandardScaler, MinMaxScaler, MaxAbsScaler, RobustScaler.

Each one's transform and inverse is a per-column affine map, ``(x - a) / b`` or ``x * a + b``,
in scikit-learn's operation order, so outputs match scikit-learn's for the same fitted state.
NaN is disregarded in fit and kept in transform. Infinity is refused in fit (a ``DataError``
naming the column, as scikit-learn refuses it) and follows IEEE arithmetic in transform.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np

from fastprep._backend import kernels
from fastprep._base import InvertibleTransform
from fastprep._checks import check_bool, check_pair
from fastprep._input import csr_parts
from fastprep._plan import floats
from fastprep.accumulators import FitAccumulator
from fastprep.exceptions import ParameterError, SchemaError

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["MaxAbsScaler", "MinMaxScaler", "RobustScaler", "StandardScaler"]

_EPS = np.finfo(np.float64).eps
# `x * 1 + (-0.0)` is exactly `x` for every x, -0.0 included; `+ 0.0` would turn -0.0 into 0.0.
_NEUTRAL_ADD = -0.0


def _handle_zeros_in_scale(scale: np.ndarray, constant_mask: np.ndarray | None = None):
    """Scales that are (near) zero become 1, so constant columns pass through unscaled."""
    if constant_mask is None:
        constant_mask = scale < 10 * _EPS
    scale = scale.copy()
    scale[constant_mask] = 1.0
    return scale


def _n_samples_seen(accumulator: FitAccumulator):
    """scikit-learn's ``n_samples_seen_``: an int, or per-column counts when NaN made them
    differ; with sample weights, the sums of the weights (floats), likewise."""
    moments = accumulator.moments
    count = moments.count if moments.weight is None else moments.weights
    if count.size and np.all(count == count[0]):
        return count[0].item()
    return count.copy()


def _check_samples_seen(obj) -> None:
    """``n_samples_seen_``: a count, or one per column."""
    seen = obj.n_samples_seen_
    if isinstance(seen, np.ndarray):
        ok = (
            seen.dtype.kind in "iuf"
            and seen.shape == (obj.n_features_in_,)
            and bool(np.isfinite(seen).all() and (seen >= 0).all())
        )
    else:
        ok = (
            isinstance(seen, (int, float))
            and not isinstance(seen, bool)
            and math.isfinite(seen)
            and seen >= 0
        )
    if not ok:
        raise SchemaError(
            "n_samples_seen_ must be a count (a weight with sample_weight), or one per column"
        )


def _ones(n: int) -> np.ndarray:
    return np.ones(n)


def _zeros(n: int) -> np.ndarray:
    return np.zeros(n)


class StandardScaler(InvertibleTransform):
    """Standardise columns: ``(x - mean_) / scale_``.

    Parameters
    ----------
    with_mean : bool, default True
        Subtract the column mean.
    with_std : bool, default True
        Divide by the column standard deviation (population, ddof=0). Columns whose variance
        is zero up to rounding get a scale of 1.

    Fitted attributes: ``mean_``, ``var_``, ``scale_`` (None when unused, as in scikit-learn),
    ``n_samples_seen_``, ``n_features_in_``.

    Example
    -------
    >>> import numpy as np, fastprep as fp
    >>> fp.StandardScaler().fit_transform(np.array([[0.0], [2.0]]))
    array([[-1.],
           [ 1.]])
    """

    mean_: np.ndarray
    var_: np.ndarray
    scale_: np.ndarray
    n_samples_seen_: np.ndarray
    _fitted_attributes = ("mean_", "var_", "scale_", "n_samples_seen_")
    _per_column = ("mean_", "var_", "scale_")
    _divisors = ("scale_",)

    def __init__(self, *, with_mean: bool = True, with_std: bool = True):
        self.with_mean = with_mean
        self.with_std = with_std

    def _validate_params(self) -> None:
        check_bool(self._name, "with_mean", self.with_mean)
        check_bool(self._name, "with_std", self.with_std)

    def fit(self, X, y=None, sample_weight=None) -> Self:
        """Fit on ``X``, discarding any previous fit. ``sample_weight``: a weight per row
        (finite, >= 0): the mean and variance are weighted and ``n_samples_seen_`` sums the
        weights, as scikit-learn's."""
        return self._fit(X, sample_weight)

    def partial_fit(self, X, y=None, sample_weight=None) -> Self:
        """Add the rows of ``X`` to the fit, weighted by ``sample_weight`` if given (batches
        with and without weights merge: no weight is a weight of 1)."""
        return self._partial_fit(X, sample_weight)

    def _finalize(self, accumulator: FitAccumulator) -> dict[str, Any]:
        moments = accumulator.moments
        n_seen = _n_samples_seen(accumulator)
        mean = moments.mean.copy() if (self.with_mean or self.with_std) else None
        var = scale = None
        if self.with_std:
            var = moments.var
            # scikit-learn's `_is_constant_feature`: variance within rounding of zero. Also a
            # subnormal variance (below 2.2e-308, spreads below about 1.5e-154): it holds too
            # few bits to be told from zero, and whether it comes out 0 or a few units of
            # 5e-324 depends on how the rows were split, so partitioned fits would disagree.
            n = moments.weights
            with np.errstate(invalid="ignore", over="ignore"):
                upper_bound = n * _EPS * var + (n * moments.mean * _EPS) ** 2
                constant = (var <= upper_bound) | (var < np.finfo(np.float64).tiny)
            scale = _handle_zeros_in_scale(np.sqrt(var), constant)
        return {"mean_": mean, "var_": var, "scale_": scale, "n_samples_seen_": n_seen}

    def _unused_state(self) -> set[str]:
        unused = set() if self.with_std else {"var_", "scale_"}
        return unused if (self.with_mean or self.with_std) else unused | {"mean_"}

    def _check_state(self) -> None:
        _check_samples_seen(self)

    def _offsets(self):
        n = self.n_features_in_
        sub = self.mean_ if self.with_mean else _zeros(n)
        div = self.scale_ if self.with_std else _ones(n)
        return sub, div

    def _plan_step(self) -> dict:
        sub, div = self._offsets()
        return {"step": "sub_div", "sub": floats(sub), "div": floats(div)}

    _writes_into = True

    def _transform(self, x, out=None):
        sub, div = self._offsets()
        return kernels().sub_div(x, sub, div, out=out)

    def _accepts_sparse(self) -> bool:
        return not self.with_mean  # centring would fill in the implicit zeros

    def _sparse_refused(self):
        return _centering_refused(self._name, "with_mean")

    def _transform_sparse(self, x):
        sub, div = self._offsets()
        return kernels().sub_div_csr(*csr_parts(x), sub, div)

    def _inverse_transform(self, x):
        n = self.n_features_in_
        mul = self.scale_ if self.with_std else _ones(n)
        add = self.mean_ if self.with_mean else np.full(n, _NEUTRAL_ADD)
        return kernels().mul_add(x, mul, add)


class MinMaxScaler(InvertibleTransform):
    """Scale each column to ``feature_range``: ``x * scale_ + min_``.

    Parameters
    ----------
    feature_range : (float, float), default (0, 1)
        Target range; min < max.
    clip : bool, default False
        Clip transformed values to ``feature_range`` (NaN stays NaN).

    Fitted attributes: ``data_min_``, ``data_max_``, ``data_range_``, ``scale_``, ``min_``,
    ``n_samples_seen_``, ``n_features_in_``.

    Example
    -------
    >>> import numpy as np, fastprep as fp
    >>> fp.MinMaxScaler().fit_transform(np.array([[1.0], [3.0], [2.0]])).ravel()
    array([0. , 1. , 0.5])
    """

    data_min_: np.ndarray
    data_max_: np.ndarray
    data_range_: np.ndarray
    scale_: np.ndarray
    min_: np.ndarray
    _fitted_attributes = ("data_min_", "data_max_", "data_range_", "scale_", "min_")
    _per_column = ("data_min_", "data_max_", "data_range_", "scale_", "min_")
    _divisors = ("scale_",)

    def __init__(self, feature_range: tuple[float, float] = (0, 1), *, clip: bool = False):
        self.feature_range = feature_range
        self.clip = clip

    def _validate_params(self) -> None:
        check_pair(self._name, "feature_range", self.feature_range)
        check_bool(self._name, "clip", self.clip)

    def _finalize(self, accumulator):
        moments = accumulator.moments
        lo, hi = (float(v) for v in self.feature_range)
        data_range = moments.max - moments.min
        scale = (hi - lo) / _handle_zeros_in_scale(data_range)
        return {
            "data_min_": moments.min.copy(),
            "data_max_": moments.max.copy(),
            "data_range_": data_range,
            "scale_": scale,
            "min_": lo - moments.min * scale,
            "n_samples_seen_": moments.n_rows,
        }

    def _clip(self) -> tuple[float, float] | None:
        return tuple(float(v) for v in self.feature_range) if self.clip else None

    def _check_state(self) -> None:
        _check_samples_seen(self)

    def _plan_step(self) -> dict:
        clip = self._clip()
        return {"step": "mul_add", "mul": floats(self.scale_), "add": floats(self.min_),
                "clip": None if clip is None else list(clip)}  # fmt: skip

    _writes_into = True

    def _transform(self, x, out=None):
        return kernels().mul_add(x, self.scale_, self.min_, self._clip(), out=out)

    def _inverse_transform(self, x):
        return kernels().sub_div(x, self.min_, self.scale_)


class MaxAbsScaler(InvertibleTransform):
    """Scale each column by its maximum absolute value, into [-1, 1]; keeps sparsity and sign.

    Fitted attributes: ``max_abs_``, ``scale_``, ``n_samples_seen_``, ``n_features_in_``.

    Example
    -------
    >>> import numpy as np, fastprep as fp
    >>> fp.MaxAbsScaler().fit_transform(np.array([[-4.0], [2.0]])).ravel()
    array([-1. ,  0.5])
    """

    max_abs_: np.ndarray
    scale_: np.ndarray
    _fitted_attributes = ("max_abs_", "scale_")
    _per_column = ("max_abs_", "scale_")
    _divisors = ("scale_",)

    def __init__(self):
        pass

    def _finalize(self, accumulator):
        moments = accumulator.moments
        max_abs = np.fmax(np.abs(moments.min), np.abs(moments.max))
        return {
            "max_abs_": max_abs,
            "scale_": _handle_zeros_in_scale(max_abs),
            "n_samples_seen_": moments.n_rows,
        }

    def _check_state(self) -> None:
        _check_samples_seen(self)

    def _plan_step(self) -> dict:
        return {"step": "sub_div", "sub": _zeros(self.n_features_in_), "div": floats(self.scale_)}

    _writes_into = True

    def _transform(self, x, out=None):
        return kernels().sub_div(x, _zeros(self.n_features_in_), self.scale_, out=out)

    def _accepts_sparse(self) -> bool:
        return True

    def _transform_sparse(self, x):
        return kernels().sub_div_csr(*csr_parts(x), _zeros(self.n_features_in_), self.scale_)

    def _inverse_transform(self, x):
        return kernels().mul_add(x, self.scale_, np.full(self.n_features_in_, _NEUTRAL_ADD))


def _centering_refused(owner: str, param: str) -> ParameterError:
    return ParameterError(
        f"{owner}: cannot center sparse data (its implicit zeros would all change): "
        f"pass {param}=False, or a dense array"
    )


def _normal_ppf(p: float) -> float:
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
    return NormalDist().inv_cdf(p)


class RobustScaler(InvertibleTransform):
    """Scale with statistics robust to outliers: ``(x - median) / (q_max - q_min)``.

    Parameters
    ----------
    with_centering : bool, default True
        Subtract the column median.
    with_scaling : bool, default True
        Divide by the interquantile range given by ``quantile_range``.
    quantile_range : (float, float), default (25.0, 75.0)
        Percentiles, ``0 <= q_min <= q_max <= 100``.
    unit_variance : bool, default False
        Rescale so that normally distributed data gets unit variance.

    Quantiles are exact (every training value is kept until fit ends) and interpolated as
    ``np.nanpercentile``, so they equal scikit-learn's. Sparse input (``with_centering=False``):
    the quantiles count the implicit zeros as values, and only the stored values are scaled.

    Fitted attributes: ``center_``, ``scale_`` (None when unused), ``n_features_in_``.

    Example
    -------
    >>> import numpy as np, fastprep as fp
    >>> x = np.array([[1.0], [2.0], [3.0], [4.0], [100.0]])
    >>> fp.RobustScaler().fit_transform(x).ravel()  # median 3, interquartile range 2
    array([-1. , -0.5,  0. ,  0.5, 48.5])
    """

    _keep_values = True
    center_: np.ndarray
    scale_: np.ndarray
    _fitted_attributes = ("center_", "scale_")
    _per_column = ("center_", "scale_")
    _divisors = ("scale_",)

    def __init__(
        self,
        *,
        with_centering: bool = True,
        with_scaling: bool = True,
        quantile_range: tuple[float, float] = (25.0, 75.0),
        unit_variance: bool = False,
    ):
        self.with_centering = with_centering
        self.with_scaling = with_scaling
        self.quantile_range = quantile_range
        self.unit_variance = unit_variance

    def _validate_params(self) -> None:
        check_bool(self._name, "with_centering", self.with_centering)
        check_bool(self._name, "with_scaling", self.with_scaling)
        check_bool(self._name, "unit_variance", self.unit_variance)
        check_pair(self._name, "quantile_range", self.quantile_range, lo=0, hi=100, strict=False)

    def _finalize(self, accumulator):
        values = accumulator.values
        q_min, q_max = (float(q) for q in self.quantile_range)
        # np.nanpercentile divides by 100 first; so do we, for identical fractions.
        qs = np.true_divide(np.array([q_min, q_max]), 100)
        quantiles, medians = values.quantiles_and_medians(qs)
        center = medians if self.with_centering else None
        scale = None
        if self.with_scaling:
            scale = _handle_zeros_in_scale(quantiles[1] - quantiles[0])
            if self.unit_variance:
                scale = scale / (_normal_ppf(q_max / 100.0) - _normal_ppf(q_min / 100.0))
        return {"center_": center, "scale_": scale}

    def _unused_state(self) -> set[str]:
        return {k for k, used in (("center_", self.with_centering),
                                  ("scale_", self.with_scaling)) if not used}  # fmt: skip

    def _offsets(self):
        n = self.n_features_in_
        sub = self.center_ if self.with_centering else _zeros(n)
        div = self.scale_ if self.with_scaling else _ones(n)
        return sub, div

    def _plan_step(self) -> dict:
        sub, div = self._offsets()
        return {"step": "sub_div", "sub": floats(sub), "div": floats(div)}

    _writes_into = True

    def _transform(self, x, out=None):
        return kernels().sub_div(x, *self._offsets(), out=out)

    def _accepts_sparse(self) -> bool:
        return not self.with_centering  # centring would fill in the implicit zeros

    def _sparse_refused(self):
        return _centering_refused(self._name, "with_centering")

    def _transform_sparse(self, x):
        return kernels().sub_div_csr(*csr_parts(x), *self._offsets())

    def _inverse_transform(self, x):
        n = self.n_features_in_
        mul = self.scale_ if self.with_scaling else _ones(n)
        add = self.center_ if self.with_centering else np.full(n, _NEUTRAL_ADD)
        return kernels().mul_add(x, mul, add)
