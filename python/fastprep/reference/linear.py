"""Linear models' scores and probabilities (twin of rust/fastprep-core/src/linear.rs).

Each score is accumulated column by column, left to right, in float64, then the intercept is
added; scores are float64 whatever the input's type. Probabilities follow scikit-learn's
formulas with the C library's ``exp`` and ``log`` (``math.exp``, ``math.log``: what SciPy's
``expit`` and the Rust kernel call), so the two backends give the same bits.
"""

from __future__ import annotations

import math

import numpy as np

from fastprep.exceptions import ParameterError, SchemaError
from fastprep.reference._ieee import ieee

LINKS = ("logistic", "softmax", "modified_huber")


def _c_exp(v: float) -> float:
    """The C library's ``exp``: ``math.exp`` raises where it gives infinity."""
    try:
        return math.exp(v)
    except OverflowError:
        return math.inf


_exp = np.vectorize(_c_exp, otypes=[np.float64])


def _log(x: np.ndarray) -> np.ndarray:
    """``math.log`` of each value, as the C library gives it (-inf at 0, NaN below)."""
    flat = [math.log(v) if v > 0 else (-math.inf if v == 0 else math.nan) for v in x.ravel()]
    return np.asarray(flat, dtype=np.float64).reshape(x.shape)


@ieee
def linear_decision(x: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """``x · coefᵀ + intercept``: ``rows × outputs`` float64 scores."""
    rows, n = x.shape
    k, width = coef.shape
    if width != n:
        raise SchemaError(f"the model takes {width} features, the input has {n} columns")
    if intercept.shape != (k,):
        raise SchemaError(f"{intercept.shape[0]} intercepts for {k} outputs")
    x64 = x.astype(np.float64, copy=False)
    acc = np.zeros((rows, k))
    for j in range(n):
        acc = acc + x64[:, j : j + 1] * coef[:, j]
    return acc + intercept


def _expit(s: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + _exp(-s)) if s.size else s.copy()


@ieee
def linear_proba(scores: np.ndarray, link: str, log: bool) -> np.ndarray:
    """Probabilities of ``rows × k`` scores (``rows × 2`` for one score), or their logs."""
    if link not in LINKS:
        raise ParameterError(
            f"link must be 'logistic', 'softmax' or 'modified_huber', got {link!r}"
        )
    rows, k = scores.shape
    if k == 0:
        raise SchemaError("probabilities of no scores")
    if k == 1:
        s = scores[:, 0]
        p = np.clip(s, -1.0, 1.0) + 1.0 if link == "modified_huber" else _expit(s)
        if link == "modified_huber":
            p = p / 2.0
        out = np.stack([1.0 - p, p], axis=1) if rows else np.empty((0, 2))
    elif link == "softmax":
        m = np.max(scores, axis=1) if rows else np.zeros(0)
        e = _exp(scores - m[:, None]) if rows else np.empty((0, k))
        total = np.zeros(rows)
        for j in range(k):
            total = total + e[:, j]
        out = e / total[:, None]
    else:
        p = (np.clip(scores, -1.0, 1.0) + 1.0) / 2.0 if link == "modified_huber" else _expit(scores)
        total = np.zeros(rows)
        for j in range(k):
            total = total + p[:, j]
        zero = total == 0
        out = np.where(zero[:, None], 1.0 / k, p / np.where(zero, 1.0, total)[:, None])
    return _log(out) if log else out
