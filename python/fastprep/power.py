"""PowerTransformer: make columns more Gaussian with Yeo-Johnson or Box-Cox."""

from __future__ import annotations

import numpy as np

from fastprep._backend import kernels
from fastprep._base import InvertibleTransform
from fastprep._checks import check_bool, check_choice
from fastprep._plan import floats
from fastprep.accumulators import FitAccumulator, Moments
from fastprep.exceptions import DataError
from fastprep.scale import StandardScaler

__all__ = ["PowerTransformer"]

_INFO = np.finfo(np.float64)
_LOG_EPS = np.log(_INFO.eps)
# scipy's bounds on lambda keep x ** lambda within float range (see yeojohnson_normmax).
_LOG_TINY = (np.log(_INFO.tiny) - _LOG_EPS) / 2
_LOG_MAX = (np.log(_INFO.max) + _LOG_EPS) / 2
#: The optimiser's tolerance on lambda, scipy's.
LAMBDA_TOLERANCE = 1.48e-8
#: The transformed values of a column keep at least this many of float64's digits to tell
#: them apart: a power term ``e^(a l)`` that falls below ``10^-8`` next to the constant 1
#: of ``(e^(a l) - 1) / a`` would leave the column fewer.
_SPREAD_DIGITS = 8
_LOG_SPREAD = _SPREAD_DIGITS * np.log(10)


def _lambda_bounds(low: float, high: float, method: str) -> tuple[float, float]:
    """The search interval of lambda for a column whose values lie in ``[low, high]`` (all
    > 0 for Box-Cox): scipy's bounds (``x ** lambda`` within float range), narrowed on the
    side where every power term ``e^(a l)`` (``l`` the column's log terms, all of one sign)
    would vanish next to the constant, leaving the transformed values the same number to the
    last digits (see ``_SPREAD_DIGITS``): scipy's likelihood there is rounding noise, and
    the true one, which fastprep computes, can keep rising towards scipy's bound, where the
    transform gives a constant column."""
    if method == "yeo-johnson":
        scale = np.log1p(20 * max(abs(low), abs(high)))
        lb, ub = _LOG_TINY / scale, _LOG_MAX / scale
        if high < 0:
            lb, ub = 2 - ub, 2 - lb
            return lb, min(ub, 2 + _LOG_SPREAD / np.log1p(-high))
        if low < 0:
            return max(2 - ub, lb), min(2 - lb, ub)
        if low > 0:
            lb = max(lb, -_LOG_SPREAD / np.log1p(low))
        return lb, ub
    scale = max(abs(np.log(low)), abs(np.log(high)))
    lb, ub = _LOG_TINY / scale, _LOG_MAX / scale
    if low > 1:
        lb = max(lb, -_LOG_SPREAD / np.log(low))
    if high < 1:
        ub = min(ub, _LOG_SPREAD / -np.log(high))
    return lb, ub


class PowerTransformer(InvertibleTransform):
    """Apply a per-column power transform fitted by maximum likelihood to make the data more
    Gaussian, then (by default) standardise.

    Parameters
    ----------
    method : {"yeo-johnson", "box-cox"}, default "yeo-johnson"
        Box-Cox needs strictly positive data (a ``DataError`` naming the column otherwise).
    standardize : bool, default True
        Zero mean and unit variance after the power transform.

    Each column's lambda maximises the profile log-likelihood (scipy's ``yeojohnson_llf`` /
    ``boxcox_llf``), found by bounded Brent minimisation to 1.48e-8, scipy's tolerance:
    lambdas agree with scikit-learn's within that tolerance, not bit for bit. Constant columns,
    and columns with no value at fit, get lambda 1 (the identity; scikit-learn refuses them for
    Box-Cox). Every training value is kept until the fit ends. NaN is disregarded in fit and
    kept in transform. The standardisation's mean and variance are those of the transformed
    training values computed in float64 (for float32 input too; scikit-learn takes them from
    the float32 transform), from the logarithms the fit already took.

    Fitted attributes: ``lambdas_``, ``n_features_in_``.

    Example
    -------
    >>> import numpy as np, fastprep as fp
    >>> pt = fp.PowerTransformer(method="box-cox").fit(np.array([[1.0], [10.0], [100.0]]))
    >>> bool(abs(pt.lambdas_[0]) < 1e-3)  # log-normal data: lambda 0, a log transform
    True
    """

    _keep_values = True
    lambdas_: np.ndarray
    _fitted_attributes = ("lambdas_",)
    _per_column = ("lambdas_", "_mean", "_scale")
    _divisors = ("_scale",)

    def __init__(self, method: str = "yeo-johnson", *, standardize: bool = True):
        self.method = method
        self.standardize = standardize

    def _validate_params(self) -> None:
        check_choice(self._name, "method", self.method, ("yeo-johnson", "box-cox"))
        check_bool(self._name, "standardize", self.standardize)

    def _fit_lambdas(
        self, values: np.ndarray, moments: Moments, exact: bool
    ) -> tuple[np.ndarray, dict]:
        """Each column's lambda: 1 for an empty or constant column, else the likelihood's
        maximum, every column optimised in one kernel call (in parallel on the Rust backend,
        which gathers the columns once, as the logarithms the likelihood needs). Also, for
        each optimised column, ``(count, mean, variance)`` of its values transformed with its
        lambda, computed in float64 from those logarithms. ``exact``: ``values`` are all the
        rows ``moments`` saw (else a sample of them, from a sketch)."""
        values = np.ascontiguousarray(values)
        n = values.shape[1]
        lambdas = np.ones(n)
        seen = moments if exact else Moments.of_batch(values)
        count, low, high = seen.count, seen.min, seen.max
        lowers, uppers = np.full(n, np.nan), np.full(n, np.nan)
        for j in range(n):
            if self.method == "box-cox" and count[j] and low[j] <= 0:
                raise DataError(
                    f"{self._name}: {self._label(j)}: Box-Cox needs strictly positive values, "
                    f"got {low[j]}"
                )
            if count[j] == 0 or moments.min[j] == moments.max[j]:
                continue
            lowers[j], uppers[j] = _lambda_bounds(float(low[j]), float(high[j]), self.method)
        fitted = np.flatnonzero(~np.isnan(lowers))
        stats = {}
        if fitted.size:
            sizes, found, means, variances = kernels().fit_power_lambdas(
                values,
                self.method,
                lowers.tolist(),
                uppers.tolist(),
                LAMBDA_TOLERANCE,
            )
            lambdas[fitted] = found[fitted]
            for j in fitted:
                stats[int(j)] = (int(sizes[j]), float(means[j]), float(variances[j]))
        return lambdas, stats

    def _finalize(self, accumulator):
        moments = accumulator.moments
        values = accumulator.values.values()
        n = moments.n_features
        lambdas, stats = self._fit_lambdas(values, moments, accumulator.values.is_exact)
        mean, scale = np.zeros(n), np.ones(n)
        if self.standardize:
            transformed = self._transformed_moments(values, lambdas, stats)
            scaler = StandardScaler()._finalize(FitAccumulator(transformed, None))
            mean, scale = scaler["mean_"], scaler["scale_"]
        return {"lambdas_": lambdas, "_mean": mean, "_scale": scale}

    def _transformed_moments(self, values: np.ndarray, lambdas: np.ndarray, stats: dict):
        """The moments of the transformed values, which standardising divides by: from the fit
        for optimised columns, by transforming the others (empty or constant)."""
        n = values.shape[1]
        count = np.zeros(n, dtype=np.int64)
        mean, var = np.full(n, np.nan), np.full(n, np.nan)
        rest = [j for j in range(n) if j not in stats]
        if rest:
            fixed = Moments.of_batch(
                kernels().power_transform(
                    np.ascontiguousarray(values[:, rest]),
                    lambdas[rest],
                    self.method,
                    np.zeros(len(rest)),
                    np.ones(len(rest)),
                    False,
                )
            )
            count[rest], mean[rest], var[rest] = fixed.count, fixed.mean, fixed.var
        for j, (size, mu, v) in stats.items():
            count[j], mean[j], var[j] = size, mu, v
        return Moments.of_mean_var(count, values.shape[0] - count, mean, var)

    def _plan_step(self) -> dict | None:
        """Yeo-Johnson compiles into a plan; Box-Cox (which refuses values <= 0) does not."""
        if self.method != "yeo-johnson":
            return None
        return {"step": "yeo_johnson", "lambdas": floats(self.lambdas_),
                "sub": floats(self._mean), "div": floats(self._scale)}  # fmt: skip

    def _map(self, x, inverse: bool):
        return kernels().power_transform(
            x, self.lambdas_, self.method, self._mean, self._scale, inverse
        )

    def _transform(self, x):
        return self._map(x, inverse=False)

    def _inverse_transform(self, x):
        return self._map(x, inverse=True)
