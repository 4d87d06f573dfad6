"""B-spline features (twin of rust/fastprep-core/src/spline.rs): SciPy's ``BSpline`` evaluation
(``find_interval``, de Boor's recursion in ``_deBoor_D``'s operation order) of each column's
basis, with scikit-learn's ``SplineTransformer`` extrapolation, vectorised over the rows."""

from __future__ import annotations

import numpy as np

from fastprep.exceptions import ParameterError, SchemaError
from fastprep.reference._ieee import ieee

EXTRAPOLATIONS = ("error", "constant", "linear", "continue", "periodic")


def n_splines(per: int, degree: int, periodic: bool) -> int:
    """Basis functions per column, from the knots per column."""
    n_knots = per - 2 * degree
    return n_knots - 1 if periodic else n_knots + degree - 1


def _check(knots: np.ndarray, degree: int, extrapolation: str, bounds: np.ndarray) -> int:
    if extrapolation not in EXTRAPOLATIONS:
        raise ParameterError(
            "extrapolation must be 'error', 'constant', 'linear', 'continue' or 'periodic', "
            f'got "{extrapolation}"'
        )
    columns, per = knots.shape
    n_knots = per - 2 * degree
    periodic = extrapolation == "periodic"
    if columns == 0 or n_knots < 2 or (periodic and n_knots <= degree):
        raise SchemaError(f"splines: {per} knots per column for degree {degree}")
    if not np.isfinite(knots).all():
        raise SchemaError("splines: knots are finite")
    splines = n_splines(per, degree, periodic)
    expected = 4 * splines * columns if extrapolation in ("constant", "linear") else 0
    if bounds.size != expected:
        raise SchemaError(f"splines: {bounds.size} boundary values")
    return splines


def _basis(t: np.ndarray, k: int, x: np.ndarray, nu: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Each value's interval ``ell`` (``t[ell] <= x < t[ell + 1]`` within ``[k, n - 1]``) and
    its ``k + 1`` non-zero basis values (or their ``nu``-th derivatives, ``nu`` 0 or 1)."""
    n = len(t) - k - 1
    ell = np.clip(np.searchsorted(t, x, side="right") - 1, k, n - 1)
    h = np.zeros((len(x), k + 1))
    h[:, 0] = 1.0
    for j in range(1, k + 1):
        hh = h[:, :j].copy()
        h[:, 0] = 0.0
        for m in range(1, j + 1):
            xb, xa = t[ell + m], t[ell + m - j]
            same = xb == xa
            if j <= k - nu:
                w = hh[:, m - 1] / np.where(same, 1.0, xb - xa)
                h[:, m - 1] = np.where(same, h[:, m - 1], h[:, m - 1] + w * (xb - x))
                h[:, m] = np.where(same, 0.0, w * (x - xa))
            else:  # the derivative recursion
                w = j * hh[:, m - 1] / np.where(same, 1.0, xb - xa)
                h[:, m - 1] = np.where(same, h[:, m - 1], h[:, m - 1] - w)
                h[:, m] = np.where(same, 0.0, w)
    return ell, h


def _evaluate(t, k, x, splines: int, nu: int = 0) -> np.ndarray:
    """``(len(x), splines)``: SciPy's sum over the basis values of each coefficient (1 where
    the basis function maps to the column, else 0) times the value, in order (a periodic
    column wraps the last ``k`` basis functions onto the first; 0 times an infinite value is
    NaN, as in SciPy)."""
    ell, h = _basis(t, k, x, nu)
    values = np.zeros((len(x), splines))
    columns = np.arange(splines)
    for a in range(k + 1):
        b = ell + a - k
        coef = (np.where(b < splines, b, b - splines)[:, None] == columns).astype(np.float64)
        values += coef * h[:, a : a + 1]
    return values


def boundary_values(knots: np.ndarray, degree: int, extrapolation: str) -> np.ndarray:
    """Per column: the basis values at the lower and upper bound of its base interval, then
    their slopes there (``4 * splines`` values, flat), for ``constant`` and ``linear``
    extrapolation; empty for the others."""
    if extrapolation not in ("constant", "linear"):
        return np.zeros(0)
    k = degree
    splines = n_splines(knots.shape[1], k, False)
    out = []
    for t in knots:
        ends = np.array([t[k], t[len(t) - k - 1]])
        f = _evaluate(t, k, ends, splines)
        slopes = _evaluate(t, k, ends, splines, nu=1) if k > 0 else np.zeros_like(f)
        out.append(np.concatenate([f[0], f[1], slopes[0], slopes[1]]))
    return np.ascontiguousarray(np.concatenate(out), dtype=np.float64)


@ieee
def spline(
    x: np.ndarray,
    knots: np.ndarray,
    degree: int,
    extrapolation: str,
    include_bias: bool,
    zeros_for_missing: bool,
    bounds: np.ndarray,
) -> np.ndarray:
    splines = _check(knots, degree, extrapolation, bounds)
    columns, per = knots.shape
    if x.shape[1] != columns:
        raise SchemaError(f"splines of {columns} columns for an input of {x.shape[1]}")
    k = degree
    keep = splines - (not include_bias)
    x64 = x.astype(np.float64, copy=False)
    out = np.zeros((x.shape[0], columns * keep))
    for j, t in enumerate(knots):
        v = x64[:, j]
        n = per - k - 1
        lo, hi = t[k], t[n]
        values = np.zeros((len(v), splines))
        missing = np.isnan(v)
        inside = ~missing & (lo <= v) & (v <= hi)
        if extrapolation == "periodic":
            at = v.copy()
            if hi - lo > 0:
                at[~missing] = lo + np.remainder(v[~missing] - lo, hi - lo)
            else:
                at[~missing] = 0.0
            evaluated = ~missing
        elif extrapolation == "continue":
            at, evaluated = v, ~missing
        else:
            at, evaluated = v, inside
        if evaluated.any():
            values[evaluated] = _evaluate(t, k, at[evaluated], splines)
        beyond = ~missing & ~inside
        if extrapolation == "error":
            values[beyond] = np.nan
        elif extrapolation in ("constant", "linear"):
            b = bounds[4 * splines * j : 4 * splines * (j + 1)].reshape(4, splines)
            f_min, f_max, fp_min, fp_max = b
            below, above = beyond & (v < lo), beyond & (v > hi)
            if extrapolation == "constant":
                values[np.ix_(below, np.arange(k))] = f_min[:k]
                values[np.ix_(above, np.arange(splines - k, splines))] = f_max[splines - k :]
            else:
                for jj in range(min(k + 1 if k <= 1 else k, splines)):
                    values[below, jj] = f_min[jj] + (v[below] - lo) * fp_min[jj]
                    c = splines - 1 - jj
                    values[above, c] = f_max[c] + (v[above] - hi) * fp_max[c]
        values[missing] = 0.0 if zeros_for_missing else np.nan
        out[:, j * keep : (j + 1) * keep] = values[:, :keep]
    return out.astype(x.dtype if x.dtype == np.float32 else np.float64)
