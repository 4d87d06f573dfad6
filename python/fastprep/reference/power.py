"""Power transforms (twin of rust/fastprep-core/src/power.rs): Yeo-Johnson and Box-Cox, their
inverses with the fused standardisation, and the profile log-likelihood."""

from __future__ import annotations

import numpy as np

from fastprep.exceptions import DataError, ParameterError, SchemaError
from fastprep.reference._ieee import ieee
from fastprep.reference._optimize import fminbound

_EPS = np.finfo(np.float64).eps
METHODS = ("yeo-johnson", "box-cox")


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ParameterError(f"method must be 'yeo-johnson' or 'box-cox', got {method!r}")


def yeo_johnson(x: np.ndarray, lmbda: float) -> np.ndarray:
    pos = x >= 0
    if abs(lmbda) < _EPS:
        up = np.log1p(x)
    else:
        up = np.expm1(lmbda * np.log1p(x)) / lmbda
    if abs(lmbda - 2) > _EPS:
        down = -np.expm1((2 - lmbda) * np.log1p(-x)) / (2 - lmbda)
    else:
        down = -np.log1p(-x)
    return np.where(pos, up, np.where(np.isnan(x), np.nan, down))


def yeo_johnson_inverse(y: np.ndarray, lmbda: float) -> np.ndarray:
    pos = y >= 0
    if abs(lmbda) < _EPS:
        up = np.exp(y) - 1
    else:
        up = np.power(y * lmbda + 1, 1 / lmbda) - 1
    if abs(lmbda - 2) > _EPS:
        down = 1 - np.power(-(2 - lmbda) * y + 1, 1 / (2 - lmbda))
    else:
        down = 1 - np.exp(-y)
    return np.where(pos, up, np.where(np.isnan(y), np.nan, down))


def box_cox(x: np.ndarray, lmbda: float) -> np.ndarray:
    if abs(lmbda) < 1e-19:
        return np.log(x)
    return np.expm1(lmbda * np.log(x)) / lmbda


def box_cox_inverse(y: np.ndarray, lmbda: float) -> np.ndarray:
    if abs(lmbda) < 1e-19:
        return np.exp(y)
    return np.exp(np.log1p(lmbda * y) / lmbda)


def _variance(y: np.ndarray) -> float:
    """Corrected two-pass population variance, ``(Σd² - (Σd)²/n) / n``."""
    d = y - np.sum(y) / y.size
    return max((np.sum(d * d) - np.sum(d) ** 2 / y.size) / y.size, 0.0)


@ieee
def power_log_likelihood(values: np.ndarray, lmbda: float, method: str) -> float:
    """scipy's ``yeojohnson_llf`` / ``boxcox_llf`` for one column's values (NaN removed);
    a degenerate variance gives -inf."""
    _check_method(method)
    values = np.asarray(values, dtype=np.float64)
    n = values.size
    if n == 0:
        return float("nan")
    tiny = np.finfo(np.float64).tiny
    if method == "yeo-johnson":
        jacobian = np.sum(np.sign(values) * np.log1p(np.abs(values)))
        if np.all(values >= 0) or np.all(values < 0):
            # One branch: (e^(a l) - 1) / ±a with l = ln(1 + |x|); its variance is that of
            # the power terms over a², taken without the constant, which keeps the digits
            # the transformed values lose where they all lie within an ulp of ∓1/a.
            a = lmbda if values[0] >= 0 else 2 - lmbda
            log_var = _log_power_variance(np.log1p(np.abs(values)), a)
            if log_var < np.log(tiny):
                return float("-inf")
            llf = (lmbda - 1) * jacobian - n / 2 * log_var
        else:
            var = _variance(yeo_johnson(values, lmbda))
            if var < tiny:
                return float("-inf")
            llf = -n / 2 * np.log(var) + (lmbda - 1) * jacobian
    else:
        logs = np.log(values)
        llf = (lmbda - 1) * np.sum(logs) - n / 2 * _log_power_variance(logs, lmbda)
    return float(llf) if np.isfinite(llf) else float("-inf")


def _log_power_variance(logs: np.ndarray, a: float) -> float:
    """``ln var((e^(a l) - 1) / a)``: ``ln var(e^(a l - m) - 1) + 2m - 2 ln|a|`` with ``m``
    the largest ``a l`` (no overflow, no constant to cancel: ``expm1`` keeps the digits of
    terms closer together than the precision of 1); ``ln var(l)`` at ``a`` = 0."""
    if abs(a) < np.finfo(np.float64).eps:
        return float(np.log(_variance(logs)))
    scaled = a * logs
    m = np.max(scaled)
    return float(np.log(_variance(np.expm1(scaled - m))) + 2 * m - 2 * np.log(abs(a)))


def fit_power_lambdas(
    x: np.ndarray, method: str, lowers: list[float], uppers: list[float], xatol: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For each column ``j`` of ``x`` whose bounds ``lowers[j]``, ``uppers[j]`` are not NaN:
    the count of its values (NaN skipped), the lambda in ``[lowers[j], uppers[j]]`` that
    maximises ``power_log_likelihood`` (Brent's bounded method to ``xatol``), and the mean and
    population variance of the column transformed with it (in float64), which standardising
    needs; for the other columns their count and NaN. Returns
    ``(counts, lambdas, means, variances)``."""
    _check_method(method)
    if not x.shape[1] == len(lowers) == len(uppers):
        raise ValueError(
            f"{x.shape[1]} columns but {len(lowers)} lower and {len(uppers)} upper bounds"
        )
    counts, lambdas, means, variances = [], [], [], []
    step = yeo_johnson if method == "yeo-johnson" else box_cox
    for j, (lower, upper) in enumerate(zip(lowers, uppers, strict=True)):
        values = np.asarray(x[:, j], dtype=np.float64)
        values = values[~np.isnan(values)]
        counts.append(values.size)
        if np.isnan(lower) or np.isnan(upper):
            lambdas.append(np.nan)
            means.append(np.nan)
            variances.append(np.nan)
            continue
        lmbda = fminbound(
            lambda lmbda, v=values: -power_log_likelihood(v, lmbda, method),
            lower,
            upper,
            xatol=xatol,
        )
        with np.errstate(all="ignore"):  # overflow to inf, as the Rust kernel's
            transformed = step(values, lmbda) if values.size else np.full(1, np.nan)
            means.append(transformed.mean())
            variances.append(transformed.var())
        lambdas.append(lmbda)
    floats = (np.array(v, dtype=np.float64) for v in (lambdas, means, variances))
    return (np.array(counts, dtype=np.uint64), *floats)


@ieee
def power_transform(
    x: np.ndarray,
    lambdas: np.ndarray,
    method: str,
    sub: np.ndarray,
    div: np.ndarray,
    inverse: bool,
) -> np.ndarray:
    """Each column's power transform with its lambda, then ``(y - sub) / div``; ``inverse``
    maps back. Box-Cox refuses values <= 0, naming the column."""

    _check_method(method)
    for name, v in (("lambdas", lambdas), ("sub", sub), ("div", div)):
        if len(v) != x.shape[1]:
            raise SchemaError(f"{name} has {len(v)} values but the input has {x.shape[1]} columns")
    x64 = x.astype(np.float64, copy=False)
    if method == "box-cox" and not inverse:
        bad = np.argwhere(x64 <= 0)
        if bad.size:
            i, j = bad[0]
            raise DataError(f"column {j}: Box-Cox needs strictly positive values, got {x64[i, j]}")
    out = np.empty(x64.shape)
    for j in range(x64.shape[1]):
        lmbda = float(lambdas[j])
        if inverse:
            y = x64[:, j] * div[j] + sub[j]
            step = yeo_johnson_inverse if method == "yeo-johnson" else box_cox_inverse
            out[:, j] = step(y, lmbda)
        else:
            step = yeo_johnson if method == "yeo-johnson" else box_cox
            out[:, j] = (step(x64[:, j], lmbda) - sub[j]) / div[j]
    return out.astype(x.dtype, copy=False)
