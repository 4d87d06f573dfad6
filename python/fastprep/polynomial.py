"""PolynomialFeatures: products of the input columns up to a degree, as scikit-learn's."""

from __future__ import annotations

import itertools
import numbers
from typing import Any

import numpy as np

from fastprep._backend import kernels
from fastprep._base import Transform
from fastprep._checks import check_bool, check_choice
from fastprep.accumulators import FitAccumulator
from fastprep.exceptions import ParameterError, SchemaError

__all__ = ["PolynomialFeatures"]

#: The widest expansion fastprep builds (scikit-learn's bound is the index type's).
MAX_OUTPUT = 2**31 - 1


def recipe(
    n: int, max_degree: int, interaction_only: bool, include_bias: bool
) -> tuple[list[int], list[int]]:
    """Each full column's parent column and input factor (-1: none), in the order scikit-learn's
    dense transform builds them: the degree ``d`` terms whose smallest input is ``j`` are the
    degree ``d - 1`` terms from input ``j`` on (from ``j + 1`` for interactions only), each
    times ``x[j]``."""
    parents, factors = [], []
    if include_bias:
        parents.append(-1)
        factors.append(-1)
    if max_degree == 0:
        return parents, factors
    current = len(parents)
    parents.extend([-1] * n)
    factors.extend(range(n))
    index = [*range(current, current + n), current + n]
    current += n
    for _ in range(2, max_degree + 1):
        new_index = []
        end = index[-1]
        for j in range(n):
            start = index[j]
            new_index.append(current)
            if interaction_only:
                start += index[j + 1] - index[j]
            if end <= start:
                break
            parents.extend(range(start, end))
            factors.extend([j] * (end - start))
            current += end - start
        new_index.append(current)
        index = new_index
    return parents, factors


def combinations(
    n: int, min_degree: int, max_degree: int, interaction_only: bool, include_bias: bool
):
    """The input indices of each output column, scikit-learn's ``_combinations``."""
    pick = itertools.combinations if interaction_only else itertools.combinations_with_replacement
    start = max(1, min_degree)
    terms = itertools.chain.from_iterable(pick(range(n), d) for d in range(start, max_degree + 1))
    return itertools.chain(pick(range(n), 0), terms) if include_bias else terms


def _count(n: int, min_degree: int, max_degree: int, interaction_only: bool, bias: bool) -> int:
    """The number of output columns, without listing them (scikit-learn's
    ``_num_combinations``)."""
    from math import comb

    if interaction_only:
        total = sum(comb(n, d) for d in range(max(1, min_degree), min(max_degree, n) + 1))
    else:
        total = comb(n + max_degree, max_degree) - 1
        if min_degree > 0:
            total -= comb(n + min_degree - 1, min_degree - 1) - 1
    return total + int(bias)


class PolynomialFeatures(Transform):
    """All products of the input columns of degree ``min_degree`` to ``max_degree``.

    Parameters
    ----------
    degree : int or (int, int), default 2
        The largest degree, or ``(min_degree, max_degree)``.
    interaction_only : bool, default False
        Only products of distinct columns (no powers).
    include_bias : bool, default True
        A first column of ones.
    order : "C" or "F", default "C"
        The memory layout of the dense output (the values are the same).

    Columns in scikit-learn's order and with its names (``x0 x1``, ``x0^2``, ``1``). Each
    product is computed as scikit-learn computes it (a lower-degree term times one input, in
    float64), so float64 outputs equal scikit-learn's bit for bit; float32 input is computed in
    float64 and rounded once (scikit-learn rounds after each product). NaN propagates. Sparse
    input (CSR or CSC) gives sparse output of the same format, computed with SciPy's sparse
    products.

    Example
    -------
    >>> import numpy as np, fastprep as fp
    >>> fp.PolynomialFeatures(2).fit_transform(np.array([[2.0, 3.0]]))
    array([[1., 2., 3., 4., 6., 9.]])
    """

    def __init__(
        self,
        degree: int | tuple[int, int] = 2,
        *,
        interaction_only: bool = False,
        include_bias: bool = True,
        order: str = "C",
    ):
        self.degree = degree
        self.interaction_only = interaction_only
        self.include_bias = include_bias
        self.order = order

    def _degrees(self) -> tuple[int, int]:
        d = self.degree
        if isinstance(d, numbers.Integral) and not isinstance(d, bool):
            if d < 0:
                raise ParameterError(f"{self._name}: degree must be >= 0, got {d}")
            return 0, int(d)
        if isinstance(d, (tuple, list)) and len(d) == 2:
            lo, hi = d
            if all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in d) and (
                0 <= lo <= hi
            ):
                return int(lo), int(hi)
        raise ParameterError(
            f"{self._name}: degree must be a non-negative int or a pair (min_degree, "
            f"max_degree) with 0 <= min_degree <= max_degree, got {d!r}"
        )

    def _validate_params(self) -> None:
        check_bool(self._name, "interaction_only", self.interaction_only)
        check_bool(self._name, "include_bias", self.include_bias)
        check_choice(self._name, "order", self.order, ("C", "F"))
        if self._degrees()[1] == 0 and not self.include_bias:
            raise ParameterError(
                f"{self._name}: degree 0 without include_bias would give no output columns"
            )

    # -- fitting ----------------------------------------------------------------------------

    def _finalize(self, accumulator: FitAccumulator) -> dict[str, Any]:
        width = self._width(accumulator.n_features)
        if width > MAX_OUTPUT:
            raise ParameterError(
                f"{self._name}: {accumulator.n_features} columns up to degree "
                f"{self._degrees()[1]} make {width} output columns, more than {MAX_OUTPUT}"
            )
        return {}

    def _check_state(self) -> None:
        """A loaded state's expansion is one a fit could make (not wider than ``MAX_OUTPUT``)."""
        if self._width(int(self.n_features_in_)) > MAX_OUTPUT:
            raise SchemaError(f"{self._name}: the expansion is wider than {MAX_OUTPUT} columns")

    def _width(self, n: int) -> int:
        lo, hi = self._degrees()
        return _count(n, lo, hi, self.interaction_only, self.include_bias)

    @property
    def n_output_features_(self) -> int:
        """The number of output columns."""
        self._check_fitted()
        return self._width(int(self.n_features_in_))

    @property
    def powers_(self) -> np.ndarray:
        """``powers_[i, j]``: the exponent of input ``j`` in output ``i``."""
        self._check_fitted()
        n = int(self.n_features_in_)
        lo, hi = self._degrees()
        terms = combinations(n, lo, hi, self.interaction_only, self.include_bias)
        rows = [np.bincount(np.asarray(c, dtype=np.intp), minlength=n) for c in terms]
        return np.vstack(rows).astype(np.int64) if rows else np.zeros((0, n), dtype=np.int64)

    # -- transforming ---------------------------------------------------------------------

    def _recipe(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        def build():
            n = int(self.n_features_in_)
            lo, hi = self._degrees()
            parents, factors = recipe(n, hi, self.interaction_only, self.include_bias)
            full, width = len(parents), self._width(n)
            if lo <= 1:
                keep = np.arange(full)
            else:  # the bias, if any, and the top degrees (scikit-learn drops the rest)
                bias = int(self.include_bias)
                keep = np.r_[np.zeros(bias, dtype=np.int64), np.arange(full - width + bias, full)]
            return (
                np.asarray(parents, dtype=np.int64),
                np.asarray(factors, dtype=np.int64),
                np.asarray(keep, dtype=np.int64),
            )

        return self._cached("polynomial", build)

    def _transform(self, x: np.ndarray) -> np.ndarray:
        self._validate_params()
        out = kernels().polynomial(x, *self._recipe())
        return np.asfortranarray(out) if self.order == "F" else out

    def _n_features_out(self) -> int:
        return self.n_output_features_

    # Sparse input: each product column of a CSC copy, by SciPy's elementwise products of
    # sparse columns (a row's product is stored where all of its factors are).

    def _accepts_sparse(self) -> bool:
        return True

    def _transform_csr(self, x, like):
        from scipy import sparse

        self._validate_params()
        parents, factors, keep = self._recipe()
        dtype = np.float32 if x.dtype == np.float32 else np.float64
        csc = sparse.csc_array(x, dtype=np.float64)
        ones = sparse.csc_array(np.ones((x.shape[0], 1)))
        full: list = []
        for p, f in zip(parents.tolist(), factors.tolist(), strict=True):
            if f == -1:
                full.append(ones if p == -1 else full[p])
            elif p == -1:
                full.append(csc[:, [f]])
            else:
                full.append(full[p].multiply(csc[:, [f]]).tocsc())
        kept = [full[k] for k in keep.tolist()]
        fmt = "csc" if getattr(like, "format", "csr") == "csc" else "csr"
        if not kept:
            out = sparse.csr_array((x.shape[0], 0), dtype=dtype)
        else:
            out = sparse.hstack(kept, format=fmt, dtype=np.float64).astype(dtype)
        out = out.asformat(fmt)
        return out if isinstance(like, sparse.sparray) else sparse.csr_matrix(out).asformat(fmt)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """scikit-learn's names: the inputs of each product, with their powers (``a^2 b``)."""
        names = self._input_names(input_features)
        out = []
        for row in self.powers_:
            (used,) = np.nonzero(row)
            parts = [names[j] if row[j] == 1 else f"{names[j]}^{row[j]}" for j in used]
            out.append(" ".join(parts) if parts else "1")
        return np.asarray(out, dtype=object)

    def _plan_step(self) -> dict | None:
        self._validate_params()
        parents, factors, keep = self._recipe()
        return {"step": "polynomial", "parents": parents, "factors": factors,
                "keep": keep.tolist()}  # fmt: skip
