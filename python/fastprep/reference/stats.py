"""Per-column statistics of one batch (twin of rust/fastprep-core/src/stats.rs).

NaN is disregarded: counted in ``nan_count``, excluded from everything else. Infinities count
as values, so ``min``/``max`` show them, and are left out of the sums. The sums of the values
and of their squares (weighted: of the weights, ``w x`` and ``w x²``) are exact: Python ints in
units of ``2^-SUM_SCALE``, so the statistics of parts of a batch add up to the statistics of the
whole whatever the split. Columns without a value get NaN min and max.
"""

from __future__ import annotations

import numpy as np

from fastprep.exceptions import SchemaError
from fastprep.reference._ieee import ieee
from fastprep.reference.sparse import check_csr

#: Exact sums are ints in units of 2^-SUM_SCALE: the least bit of a product of three doubles
#: is 2^-3222 (the core's ``exact::SCALE``).
SUM_SCALE = 3264


def _parts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Signed integer mantissas and the exponents of their bit 0 (int64 arrays), so that
    ``x == mantissa * 2.0**exponent`` exactly, for finite float64 values."""
    bits = np.ascontiguousarray(x, dtype=np.float64).view(np.int64)
    field = (bits >> 52) & 0x7FF
    mantissa = (bits & ((1 << 52) - 1)) | np.where(field > 0, 1 << 52, 0)
    exponent = np.where(field > 0, field - 1075, -1074)
    return np.where(bits < 0, -mantissa, mantissa), exponent


#: Bits per limb: a mantissa is three limbs, and a sum of up to 2^25 terms below 2^37 (a
#: product of two limbs, doubled, plus a square) stays within int64.
_LIMB = 18


def _by_exponent(exponent: np.ndarray, terms: list[tuple[np.ndarray, int]], scale: int) -> int:
    """Σ over i of Σ over ``(values, shift)`` in ``terms`` of ``values[i] << (shift +
    exponent[i])``, exactly, in units of 2^-SUM_SCALE: int64 sums per exponent, then ints."""
    order = np.argsort(exponent, kind="stable")
    e = exponent[order]
    starts = np.flatnonzero(np.r_[True, e[1:] != e[:-1]])
    total = 0
    for values, shift in terms:
        sums = np.add.reduceat(values[order], starts)
        for s, at in zip(sums.tolist(), e[starts].tolist(), strict=True):
            total += s << (shift + at + scale)
    return total


def exact_sum(*factors: np.ndarray) -> int:
    """Σ of the products of ``factors`` (1, 2 or 3 arrays of finite values, row by row),
    exactly, in units of 2^-SUM_SCALE."""
    if factors[0].size == 0:
        return 0
    if len(factors) == 2 and factors[0] is factors[1]:
        return _sum_of_squares(factors[0])
    if len(factors) == 1:
        m, e = _parts(factors[0])
        sign, m = np.sign(m), np.abs(m)
        terms = [((m >> (2 * _LIMB)) * sign, 2 * _LIMB), ((m & ((1 << 2 * _LIMB) - 1)) * sign, 0)]
        return _chunked(e, terms)
    product, exponent = _parts(factors[0])
    product, exponent = product.astype(object), exponent.astype(object)
    for f in factors[1:]:
        m, e = _parts(f)
        product, exponent = product * m.astype(object), exponent + e
    return int((product << (exponent + SUM_SCALE)).sum())


def _sum_of_squares(x: np.ndarray) -> int:
    m, e = _parts(x)
    m = np.abs(m)
    mask = (1 << _LIMB) - 1
    a, b, c = m >> (2 * _LIMB), (m >> _LIMB) & mask, m & mask
    terms = [
        (a * a, 4 * _LIMB),
        (2 * a * b, 3 * _LIMB),
        (2 * a * c + b * b, 2 * _LIMB),
        (2 * b * c, _LIMB),
        (c * c, 0),
    ]
    return _chunked(2 * e, terms)


def _chunked(exponent: np.ndarray, terms: list[tuple[np.ndarray, int]]) -> int:
    """``_by_exponent`` over chunks of rows short enough for int64 sums."""
    step = 1 << 25
    return sum(
        _by_exponent(exponent[i : i + step], [(v[i : i + step], s) for v, s in terms], SUM_SCALE)
        for i in range(0, exponent.size, step)
    )


def _bounds(x: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    has_values = present.any(axis=0)
    # `+ 0.0`: a zero extreme is always 0.0 (-0.0 == 0.0, so either could win the scan).
    lo = np.where(has_values, np.fmin.reduce(x, axis=0, initial=np.inf) + 0.0, np.nan)
    hi = np.where(has_values, np.fmax.reduce(x, axis=0, initial=-np.inf) + 0.0, np.nan)
    return lo, hi


@ieee
def column_stats(x: np.ndarray) -> tuple:
    """(count, nan_count, Σx, Σx², min, max) of every column of a 2-D float array, the sums
    exact over the finite values."""
    x = x.astype(np.float64, copy=False)
    present = ~np.isnan(x)
    finite = np.isfinite(x)
    count = present.sum(axis=0).astype(np.uint64)
    nan_count = (~present).sum(axis=0).astype(np.uint64)
    sums = [exact_sum(x[finite[:, j], j]) for j in range(x.shape[1])]
    squares = [exact_sum(*[x[finite[:, j], j]] * 2) for j in range(x.shape[1])]  # one array
    return (count, nan_count, sums, squares, *_bounds(x, present))


@ieee
def csr_column_stats(data: np.ndarray, index: tuple[np.ndarray, np.ndarray], cols: int) -> tuple:
    """``column_stats`` of a CSR matrix, its implicit zeros counted as values (adding nothing
    to the sums)."""
    rows = len(index[0]) - 1
    _, nan_count, sums, squares, lo, hi = weighted_csr_column_stats(
        data, index, cols, np.ones(rows)
    )
    return np.uint64(rows) - nan_count, nan_count, sums, squares, lo, hi


@ieee
def weighted_column_stats(x: np.ndarray, w: np.ndarray) -> tuple:
    """(Σw, nan_count, Σwx, Σwx², min, max) of every column with the weight ``w[i]`` of row
    ``i``: Σw over each column's non-NaN values, the other sums over its finite values, all
    exact; NaN and the extremes as ``column_stats``, whatever the weights."""
    x = x.astype(np.float64, copy=False)
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (x.shape[0],):
        raise SchemaError(f"{w.size} weights for {x.shape[0]} rows")
    present = ~np.isnan(x)
    finite = np.isfinite(x)
    weight, sums, squares = [], [], []
    for j in range(x.shape[1]):
        v, wf = x[finite[:, j], j], w[finite[:, j]]
        weight.append(exact_sum(w[present[:, j]]))
        sums.append(exact_sum(wf, v))
        squares.append(exact_sum(wf, v, v))
    nan_count = (~present).sum(axis=0).astype(np.uint64)
    return (weight, nan_count, sums, squares, *_bounds(x, present))


@ieee
def weighted_csr_column_stats(
    data: np.ndarray, index: tuple[np.ndarray, np.ndarray], cols: int, w: np.ndarray
) -> tuple:
    """``csr_column_stats`` with the weight ``w[r]`` of row ``r`` (its implicit zeros weigh it
    too): (Σw, nan_count, Σwx, Σwx², min, max)."""
    indptr, indices = index
    check_csr(indptr, indices, data, cols)
    rows = len(indptr) - 1
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (rows,):
        raise SchemaError(f"{w.size} weights for {rows} rows")
    row_w = np.repeat(w, np.diff(indptr).astype(np.intp))
    v, j = data.astype(np.float64, copy=False), indices.astype(np.intp)
    missing, finite = np.isnan(v), np.isfinite(v)
    total = exact_sum(w)
    weight, sums, squares = [], [], []
    order = np.argsort(j, kind="stable")
    bounds = np.searchsorted(j[order], np.arange(cols + 1))
    for c in range(cols):
        at = order[bounds[c] : bounds[c + 1]]
        ok = at[finite[at]]
        weight.append(total - exact_sum(row_w[at[missing[at]]]))
        sums.append(exact_sum(row_w[ok], v[ok]))
        squares.append(exact_sum(row_w[ok], v[ok], v[ok]))
    stored = np.bincount(j, minlength=cols)
    nan_count = np.bincount(j[missing], minlength=cols).astype(np.uint64)
    has_values = nan_count < rows
    lo, hi = np.full(cols, np.inf), np.full(cols, -np.inf)
    np.minimum.at(lo, j[~missing], v[~missing])
    np.maximum.at(hi, j[~missing], v[~missing])
    zeros = stored < rows  # 0 is a value of the column
    lo = np.where(has_values, np.where(zeros, np.minimum(lo, 0.0), lo) + 0.0, np.nan)
    hi = np.where(has_values, np.where(zeros, np.maximum(hi, 0.0), hi) + 0.0, np.nan)
    return weight, nan_count, sums, squares, lo, hi


def copy_matrix(x: np.ndarray) -> np.ndarray:
    """A private copy of a 2-D float array (what an accumulator keeps of a batch)."""
    return np.array(x, copy=True)
