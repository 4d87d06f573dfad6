"""Mergeable fit accumulators: the one way every fastprep transform is fitted.

A fit is ``partial_fit`` over batches, and two accumulators built on different partitions of
the data merge into the accumulator of their union. So the same code fits in memory, streams
over a file larger than memory, and fits on a cluster (map ``partial_fit`` over partitions,
reduce with ``merge``)::

    parts = [fp.StandardScaler().partial_fit(chunk) for chunk in chunks]
    scaler = parts[0]
    for part in parts[1:]:
        scaler.merge(part)          # == fp.StandardScaler().fit(np.vstack(chunks))

Accumulators are immutable values: ``update`` and ``merge`` return a new one, so a failed
update leaves the fitted state untouched and a merge never changes its operands. Merging is
deterministic: the same parts merged in the same order give the same bits (and, for
``Moments`` and ``CategoryCounts``, in any order).

Guarantees against fitting all rows at once:

- counts, NaN counts, min and max: exact, in any order;
- mean and variance: exact sums of the values and of their squares (integers in units of
  2^-3264, enough for any product of three doubles), so merging is exact and the mean and
  variance, rounded once at the end, are correctly rounded and the same bits for any split of
  the rows;
- quantiles, medians and modes (``ValueBuffer``): exact while the values held fit the budget
  (``EXACT_VALUE_BUDGET`` per column); beyond it, a deterministic mergeable quantile sketch
  (``fastprep.sketch``) whose rank error ``ValueBuffer.rank_error()`` bounds.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa

from fastprep._backend import kernels
from fastprep.exceptions import FastprepError, SchemaError
from fastprep.reference.stats import SUM_SCALE
from fastprep.sketch import QuantileSketch

__all__ = [
    "EXACT_VALUE_BUDGET",
    "CategoryCounts",
    "FitAccumulator",
    "Moments",
    "ValueBuffer",
    "decode_values",
    "set_exact_value_budget",
]


def _check_same_width(a: int, b: int) -> None:
    if a != b:
        raise SchemaError(f"cannot merge accumulators over {a} and {b} columns")


def _units(x: float) -> int:
    """The finite double ``x`` as an exact sum: an int in units of 2^-SUM_SCALE."""
    num, den = float(x).as_integer_ratio()
    return num << (SUM_SCALE - den.bit_length() + 1)


def _divide(num: int, den: int) -> float:
    """``num / den`` correctly rounded (Python's int division is); inf when it overflows."""
    try:
        return num / den
    except OverflowError:
        return math.inf if (num < 0) == (den < 0) else -math.inf


@dataclass(frozen=True, eq=False)
class Moments:
    """Per column: count of values, count of NaN, the exact sums of the finite values and of
    their squares (ints in units of 2^-SUM_SCALE), min and max. NaN is disregarded; an
    infinity counts as a value and shows in min or max. With sample weights, ``weight`` is the
    exact sum of the weights of each column's values, and the sums are of ``w x`` and
    ``w x²``; ``count`` still counts values.

    The sums are exact, so merging is exact and associative: the moments of any split of the
    rows, merged in any order, are the moments of all of them. ``mean`` and ``var`` are
    rounded once from the sums (correctly rounded)."""

    count: np.ndarray
    nan_count: np.ndarray
    sum: tuple[int, ...]
    sum_sq: tuple[int, ...]
    min: np.ndarray
    max: np.ndarray
    weight: tuple[int, ...] | None = None

    @classmethod
    def empty(cls, n_features: int) -> Moments:
        zeros = np.zeros(n_features, dtype=np.int64)
        nans = np.full(n_features, np.nan)
        none = (0,) * n_features
        return cls(zeros, zeros.copy(), none, none, nans, nans.copy())

    @classmethod
    def of_batch(cls, x: np.ndarray) -> Moments:
        """Statistics of one validated 2-D float batch, computed by the active backend."""
        return cls._of(*kernels().column_stats(x))

    @classmethod
    def of_csr(cls, data: np.ndarray, index: tuple, cols: int) -> Moments:
        """Statistics of one validated CSR batch (its stored values, ``(indptr, indices)``
        and width: ``fastprep._input.csr_parts``), its implicit zeros counted as values."""
        return cls._of(*kernels().csr_column_stats(data, index, cols))

    @classmethod
    def of_weighted(cls, x: np.ndarray, w: np.ndarray) -> Moments:
        """Statistics of one validated 2-D float batch with a weight per row (finite, >= 0)."""
        return cls._of(*kernels().weighted_column_stats(x, w), rows=x.shape[0])

    @classmethod
    def of_weighted_csr(cls, data: np.ndarray, index: tuple, cols: int, w) -> Moments:
        """``of_csr`` with a weight per row."""
        stats = kernels().weighted_csr_column_stats(data, index, cols, w)
        return cls._of(*stats, rows=len(index[0]) - 1)

    @classmethod
    def of_mean_var(cls, count: np.ndarray, nan_count, mean, var) -> Moments:
        """The moments whose ``mean`` and ``var`` are the given ones (floats computed
        elsewhere, for example from held values), with no bounds."""
        count = np.asarray(count, dtype=np.int64)
        sums, squares = [0] * count.shape[0], [0] * count.shape[0]
        lo, hi = np.full(count.shape[0], np.nan), np.full(count.shape[0], np.nan)
        for j, (n, mu, v) in enumerate(zip(count.tolist(), mean, var, strict=True)):
            if n == 0:
                continue
            if not (math.isfinite(mu) and math.isfinite(v)):
                # Bounds that make the mean what it was (or NaN) and the variance NaN.
                lo[j], hi[j] = (mu, mu) if math.isinf(mu) else (-math.inf, math.inf)
                continue
            m = _units(mu)
            sums[j] = n * m
            squares[j] = n * (_units(v) + ((m * m) >> SUM_SCALE))
        nan_count = np.asarray(nan_count, dtype=np.int64)
        return cls(count, nan_count, tuple(sums), tuple(squares), lo, hi)

    @classmethod
    def _of(cls, first, nan_count, sums, squares, lo, hi, *, rows: int | None = None):
        """From a statistics kernel's output: ``first`` is the count of values, or (given
        ``rows``, for the weighted kernels) the exact sums of their weights."""
        nan_count = np.asarray(nan_count, dtype=np.int64)
        lo, hi = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
        sums, squares = tuple(sums), tuple(squares)
        if rows is None:
            return cls(np.asarray(first, dtype=np.int64), nan_count, sums, squares, lo, hi)
        return cls(rows - nan_count, nan_count, sums, squares, lo, hi, tuple(first))

    def _exact_weights(self) -> tuple[int, ...]:
        if self.weight is not None:
            return self.weight
        return tuple(n << SUM_SCALE for n in self.count.tolist())

    @property
    def weights(self) -> np.ndarray:
        """The weight of each column's values: their count when unweighted."""
        if self.weight is None:
            return self.count.astype(np.float64)
        return np.array([_divide(w, 1 << SUM_SCALE) for w in self.weight], dtype=np.float64)

    @property
    def n_features(self) -> int:
        return self.count.shape[0]

    @property
    def n_rows(self) -> int:
        """Rows seen (values plus NaN of any one column)."""
        return int(self.count[0] + self.nan_count[0]) if self.n_features else 0

    @functools.cached_property
    def _mean_var(self) -> tuple[np.ndarray, np.ndarray]:
        means, variances = [], []
        rows = zip(self._exact_weights(), self.sum, self.sum_sq, self.min, self.max, strict=True)
        for w, s, s2, lo, hi in rows:
            if w <= 0:
                means.append(math.nan)
                variances.append(math.nan)
            elif math.isinf(lo) or math.isinf(hi):
                means.append(-math.inf if lo == -math.inf else math.inf)
                if lo == -math.inf and hi == math.inf:
                    means[-1] = math.nan
                variances.append(math.nan)
            else:
                means.append(_divide(s, w))
                variances.append(_divide(s2 * w - s * s, w * w))
        return np.array(means, dtype=np.float64), np.array(variances, dtype=np.float64)

    @property
    def mean(self) -> np.ndarray:
        """The (weighted) mean of each column, correctly rounded; NaN for an empty column,
        ±inf or NaN with infinite values."""
        return self._mean_var[0].copy()

    @property
    def var(self) -> np.ndarray:
        """Population variance (ddof=0), correctly rounded; NaN for an empty column or one
        with an infinite value."""
        return self._mean_var[1].copy()

    def update(self, x: np.ndarray) -> Moments:
        return self.merge(Moments.of_batch(x))

    def merge(self, other: Moments) -> Moments:
        """The accumulator of both operands' rows, exactly."""
        _check_same_width(self.n_features, other.n_features)
        weight = None
        if self.weight is not None or other.weight is not None:
            pairs = zip(self._exact_weights(), other._exact_weights(), strict=True)
            weight = tuple(a + b for a, b in pairs)
        return Moments(
            self.count + other.count,
            self.nan_count + other.nan_count,
            tuple(a + b for a, b in zip(self.sum, other.sum, strict=True)),
            tuple(a + b for a, b in zip(self.sum_sq, other.sum_sq, strict=True)),
            np.fmin(self.min, other.min),
            np.fmax(self.max, other.max),
            weight,
        )


#: Values per column held exactly before a ``ValueBuffer`` switches to a sketch
#: (about 16 MB per float64 column). Change it with ``set_exact_value_budget``.
EXACT_VALUE_BUDGET = 1 << 21
#: Values per column that stand for the data when a fit needs values but holds a sketch.
SKETCH_SAMPLE_SIZE = 1 << 16


def _private_copy(x: np.ndarray) -> np.ndarray:
    """A copy of a batch for an accumulator to own. The Rust backend copies on every core: a
    copy into fresh memory is mostly the kernel zeroing its pages, which splits too."""
    if x.ndim == 2 and x.dtype in (np.float32, np.float64) and x.flags.c_contiguous:
        return kernels().copy_matrix(x)
    return np.array(x, copy=True)


def _is_sparse(x) -> bool:
    # fastprep._input.is_sparse, which cannot be imported here: _input imports this module.
    return type(x).__module__.startswith("scipy.sparse")


#: Rows per dense block when a sparse batch goes into a sketch.
_SKETCH_BLOCK_ROWS = 1 << 14


def _sketched(sketch: QuantileSketch, batch) -> QuantileSketch:
    """``sketch`` updated with the rows of ``batch``, a sparse one a block of rows at a time."""
    if not _is_sparse(batch):
        return sketch.update(batch)
    for start in range(0, batch.shape[0], _SKETCH_BLOCK_ROWS):
        sketch = sketch.update(batch[start : start + _SKETCH_BLOCK_ROWS].toarray())
    return sketch


def set_exact_value_budget(values_per_column: int) -> None:
    """How many values per column a fit keeps exactly before switching to a quantile sketch
    (``fastprep.sketch``). Applies to accumulators created afterwards."""
    global EXACT_VALUE_BUDGET
    if values_per_column < 1:
        raise ValueError("the budget must be at least 1 value per column")
    EXACT_VALUE_BUDGET = int(values_per_column)


@dataclass(frozen=True, eq=False)
class ValueBuffer:
    """The values behind order statistics (quantiles, medians, modes).

    Exact while the rows held fit ``budget`` (values per column; ``EXACT_VALUE_BUDGET`` by
    default): every batch is kept, 8 bytes per float64 cell, and statistics equal NumPy's and
    scikit-learn's. Beyond it, the buffer turns into a deterministic mergeable
    ``QuantileSketch`` with a stated rank-error bound (``rank_error``), and stays one.

    A buffer holding weighted rows (``sample_weight``) keeps, per batch, its row weights (None
    for a batch without: each row weighs 1), and stays exact whatever its size: weighted
    quantiles have no sketch.

    A sparse batch (SciPy CSR, as ``fastprep._input.as_csr`` makes it) is kept sparse; its
    implicit zeros count as values, as in its dense form (``implicit_zeros=False`` in
    ``quantiles`` leaves them out). A sketch reads it in dense blocks of rows."""

    batches: tuple[np.ndarray, ...]
    n_features: int
    budget: int = 0
    sketch: QuantileSketch | None = None
    weights: tuple[np.ndarray | None, ...] | None = None

    @classmethod
    def empty(cls, n_features: int) -> ValueBuffer:
        return cls((), n_features, EXACT_VALUE_BUDGET)

    @classmethod
    def of_batch(cls, x: np.ndarray, w: np.ndarray | None = None) -> ValueBuffer:
        # A private copy: the caller may reuse its array after partial_fit returns.
        own = x.copy() if _is_sparse(x) else _private_copy(x)
        if w is not None:
            weights = (np.array(w, dtype=np.float64),)
            return cls((own,), x.shape[1], EXACT_VALUE_BUDGET, None, weights)
        return cls((own,), x.shape[1], EXACT_VALUE_BUDGET)._within_budget()

    @property
    def weighted(self) -> bool:
        return self.weights is not None

    @property
    def rows_held(self) -> int:
        return sum(b.shape[0] for b in self.batches)

    @property
    def is_exact(self) -> bool:
        return self.sketch is None

    def rank_error(self) -> float:
        """Bound on the normalised rank error of the statistics: 0 while exact."""
        return 0.0 if self.sketch is None else self.sketch.rank_error()

    def _within_budget(self) -> ValueBuffer:
        if self.sketch is None and (self.rows_held <= self.budget or self.weighted):
            return self
        sketch = self.sketch or QuantileSketch.empty(self.n_features)
        for batch in self.batches:
            sketch = _sketched(sketch, batch)
        return ValueBuffer((), self.n_features, self.budget, sketch)

    def update(self, x: np.ndarray) -> ValueBuffer:
        return self.merge(ValueBuffer.of_batch(x))

    def merge(self, other: ValueBuffer) -> ValueBuffer:
        _check_same_width(self.n_features, other.n_features)
        budget = min(self.budget, other.budget)
        if self.weighted or other.weighted:
            if self.sketch is not None or other.sketch is not None:
                raise SchemaError(
                    "a weighted fit cannot merge with one beyond the exact value budget (a "
                    "quantile sketch): weighted quantiles are exact only"
                )
            weights = self._batch_weights() + other._batch_weights()
            return ValueBuffer(self.batches + other.batches, self.n_features, budget, None, weights)
        if self.sketch is None and other.sketch is None:
            merged = ValueBuffer(self.batches + other.batches, self.n_features, budget)
            return merged._within_budget()
        sketch = self.sketch or QuantileSketch.empty(self.n_features)
        for batch in self.batches:
            sketch = _sketched(sketch, batch)
        if other.sketch is not None:
            sketch = sketch.merge(other.sketch)
        for batch in other.batches:
            sketch = _sketched(sketch, batch)
        return ValueBuffer((), self.n_features, budget, sketch)

    def values(self) -> np.ndarray:
        """Every value held (rows x columns); from a sketch, ``SKETCH_SAMPLE_SIZE`` values per
        column at evenly spaced ranks, which stand for the data."""
        if self.sketch is not None:
            return self.sketch.sample(SKETCH_SAMPLE_SIZE)
        if not self.batches:
            return np.empty((0, self.n_features))
        if len(self.batches) == 1:
            return self.batches[0]
        if any(_is_sparse(b) for b in self.batches):
            from scipy import sparse  # present: a batch is a SciPy matrix

            return sparse.vstack(
                [b if _is_sparse(b) else sparse.csr_matrix(b) for b in self.batches],
                format="csr",
            )
        return np.concatenate(self.batches, axis=0)

    @property
    def sparse(self) -> bool:
        """Whether ``values()`` is a SciPy CSR matrix (some batch was sparse)."""
        return self.sketch is None and any(_is_sparse(b) for b in self.batches)

    def quantiles(self, qs, method: str = "linear", implicit_zeros: bool = True) -> np.ndarray:
        """``(len(qs), n_features)`` quantiles (fractions in [0, 1]), NaN skipped, interpolated
        as ``np.nanquantile(..., method=method)`` ("linear" or "averaged_inverted_cdf") while
        exact; from the sketch within ``rank_error()`` beyond the budget."""
        if self.sketch is not None:
            return self.sketch.quantiles(qs)
        if self.sparse:
            return self.quantiles_and_medians(qs, method, implicit_zeros)[0]
        return kernels().column_quantiles(self.values(), [float(q) for q in qs], method)

    def _batch_weights(self) -> tuple[np.ndarray | None, ...]:
        return self.weights if self.weights is not None else (None,) * len(self.batches)

    def weighted_quantiles(self, percents, average: bool) -> np.ndarray:
        """``(len(percents), n_features)`` weighted percentiles (``percents`` in [0, 100]) as
        scikit-learn's ``_weighted_percentile``: ``inverted_cdf``, or with ``average``
        ``averaged_inverted_cdf``; rows of a batch without weights weigh 1, NaN is skipped."""
        if self.sketch is not None or self.sparse:
            raise SchemaError("weighted quantiles need the exact values of a dense matrix")
        w = [
            np.ones(b.shape[0]) if wb is None else wb
            for b, wb in zip(self.batches, self._batch_weights(), strict=True)
        ]
        w_all = np.concatenate(w) if w else np.empty(0)
        return kernels().weighted_column_quantiles(
            self.values(), w_all, [float(p) for p in percents], average
        )

    def quantiles_and_medians(
        self, qs, method: str = "linear", implicit_zeros: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(quantiles(qs, method), medians())`` from one pass over the values."""
        if self.sketch is not None:
            return self.sketch.quantiles(qs), self.sketch.quantiles([0.5])[0]
        qs = [float(q) for q in qs]
        if self.sparse:
            v = self.values()
            parts = (v.data, (v.indptr, v.indices), self.n_features)
            return kernels().csr_column_quantiles_and_medians(*parts, qs, method, implicit_zeros)
        return kernels().column_quantiles_and_medians(self.values(), qs, method)

    def medians(self) -> np.ndarray:
        if self.sketch is not None:
            return self.sketch.quantiles([0.5])[0]
        if self.sparse:
            return self.quantiles_and_medians([])[1]
        return kernels().column_medians(self.values())

    def modes(self) -> np.ndarray:
        """Most frequent values; beyond the budget, the value with most weight in the sketch."""
        if self.sketch is not None:
            return self.sketch.modes()
        if self.sparse:
            v = self.values()
            return kernels().csr_column_modes(v.data, (v.indptr, v.indices), self.n_features)
        return kernels().column_modes(self.values())


@dataclass(frozen=True, eq=False)
class FitAccumulator:
    """What a transform accumulates: ``Moments`` always (row counts, the training profile, the
    refusal of infinities), and a ``ValueBuffer`` for transforms that need order statistics."""

    moments: Moments
    values: ValueBuffer | None

    @classmethod
    def of_batch(cls, x: np.ndarray, *, keep_values: bool) -> FitAccumulator:
        return cls(Moments.of_batch(x), ValueBuffer.of_batch(x) if keep_values else None)

    @property
    def n_features(self) -> int:
        return self.moments.n_features

    def spanning_positive_weights(self, x: np.ndarray, w: np.ndarray) -> FitAccumulator:
        """This accumulator of the weighted batch ``x``, with each column's minimum and
        maximum taken over its rows of positive weight only: what scikit-learn's uniform bins
        and spline knots span."""
        counted = Moments.of_batch(np.ascontiguousarray(x[w > 0]))
        return FitAccumulator(replace(self.moments, min=counted.min, max=counted.max), self.values)

    def merge(self, other: FitAccumulator) -> FitAccumulator:
        if (self.values is None) != (other.values is None):
            raise SchemaError("cannot merge an accumulator with values and one without")
        values = None if self.values is None else self.values.merge(other.values)
        return FitAccumulator(self.moments.merge(other.moments), values)


#: The lookup kind of each column kind: booleans are looked up as the integers 0 and 1.
CORE_KIND = {"str": "str", "int": "int", "bool": "int", "float": "float"}


def _wide(column: tuple) -> tuple:
    """A counted column with int64 counts (a loaded one may hold them narrower)."""
    counts = column[3]
    if counts.dtype == np.int64:
        return column
    return (*column[:3], counts.astype(np.int64), *column[4:])


@dataclass(frozen=True, eq=False)
class CategoryCounts:
    """What a categorical encoder accumulates, per column: the sorted distinct categories with
    their counts and the number of missing values; and the number of rows. Exact and order-free,
    so any partition of the rows, merged in any order, gives the same counts as one fit.

    ``columns[j]`` is ``(core_kind, values, offsets, counts, missing)``: for strings ``values``
    is their UTF-8 bytes and ``offsets`` the ``len + 1`` int64 offsets (the layout saved in
    artifacts); for numbers ``values`` is a sorted int64 or float64 array. ``counts`` is int64,
    or, loaded from an artifact, the narrower unsigned integers it was saved as.
    """

    kinds: tuple[str, ...]
    columns: tuple[tuple, ...]
    n_rows: int

    @classmethod
    def of_columns(cls, columns) -> CategoryCounts:
        """Counts of a batch of categorical columns (``fastprep._input.CategoricalColumn``)."""
        count = kernels().count_categories
        counted = tuple(count(c.chunks) for c in columns)
        rows = columns[0].length if columns else 0
        return cls(tuple(c.kind for c in columns), counted, rows)

    @property
    def n_features(self) -> int:
        return len(self.columns)

    def merge(self, other: CategoryCounts) -> CategoryCounts:
        _check_same_width(self.n_features, other.n_features)
        for j, (a, b) in enumerate(zip(self.kinds, other.kinds, strict=True)):
            if a != b:
                raise SchemaError(
                    f"column {j}: cannot merge counts of {a} categories with counts of {b}"
                )
        merge = kernels().merge_category_counts
        merged = tuple(
            merge(_wide(a), _wide(b)) for a, b in zip(self.columns, other.columns, strict=True)
        )
        return CategoryCounts(self.kinds, merged, self.n_rows + other.n_rows)

    def to_state(self) -> dict:
        """The counts as plain values and arrays (an encoder's whole fit, in its state).
        Counts are saved in the narrowest unsigned type that holds them: a 1M-category
        vocabulary's counts are 8 MB as int64, 1 to 4 MB narrowed, and every saved byte is a
        byte a load digests. They stay narrow when loaded."""
        return {
            "n_rows": self.n_rows,
            "kinds": list(self.kinds),
            "columns": [
                {"core": core, "values": values, "offsets": offsets,
                 "counts": narrow(np.asarray(counts, dtype=np.int64)), "missing": int(missing)}
                for core, values, offsets, counts, missing in self.columns
            ],
        }  # fmt: skip

    @classmethod
    def from_state(cls, state: dict, check_values: bool) -> CategoryCounts:
        """Counts from ``to_state``'s form, checked: kinds, layouts, counts that add up to the
        rows seen; with ``check_values``, vocabularies sorted and distinct (an encoder checks
        them anyway, when it builds its lookup table)."""
        if not isinstance(state, dict):
            raise SchemaError("malformed category counts")
        kinds, columns, n_rows = state.get("kinds"), state.get("columns"), state.get("n_rows")
        if not (isinstance(kinds, list) and isinstance(columns, list)):
            raise SchemaError("malformed category counts")
        if len(kinds) != len(columns) or not isinstance(n_rows, int) or n_rows < 0:
            raise SchemaError("malformed category counts")
        counted = []
        for j, (kind, c) in enumerate(zip(kinds, columns, strict=True)):
            if kind not in CORE_KIND or not isinstance(c, dict) or c.get("core") != CORE_KIND[kind]:
                raise SchemaError(f"column {j} has an unknown kind {kind!r}")
            values, offsets, counts = c.get("values"), c.get("offsets"), c.get("counts")
            missing = c.get("missing")
            dtype = {"str": np.uint8, "int": np.int64, "float": np.float64}[c["core"]]
            if not (
                isinstance(values, np.ndarray)
                and values.dtype == dtype
                and values.ndim == 1
                and isinstance(counts, np.ndarray)
                and counts.dtype in COUNT_DTYPES
                and counts.ndim == 1
                and isinstance(missing, int)
                and 0 <= missing <= n_rows
                and (offsets is None) == (c["core"] != "str")
                and (offsets is None or (isinstance(offsets, np.ndarray)
                                         and offsets.dtype == np.int64 and offsets.ndim == 1))
            ):  # fmt: skip
                raise SchemaError(f"malformed counts of column {j}")
            size = len(values) if offsets is None else len(offsets) - 1
            if size <= 64:  # Python's min and sum on a short list cost less than NumPy's calls
                seen = counts.tolist()
                low, total = min(seen, default=1), sum(seen)
            else:
                low, total = counts.min(), int(counts.sum())
            if len(counts) != size or low <= 0 or total + missing > n_rows:
                raise SchemaError(
                    f"column {j} has {len(counts)} counts for {size} categories, or counts "
                    "that do not add up to the rows seen"
                )
            if check_values:
                try:
                    kernels().CategoryIndex(c["core"], values, offsets)
                except (FastprepError, ValueError, TypeError) as exc:
                    raise SchemaError(f"column {j}: {exc}") from None
            counted.append((c["core"], values, offsets, counts, missing))
        return cls(tuple(kinds), tuple(counted), n_rows)


#: What category counts may be held as (``narrow``).
COUNT_DTYPES = tuple(np.dtype(t) for t in (np.int64, np.uint8, np.uint16, np.uint32))


def narrow(counts: np.ndarray) -> np.ndarray:
    """Counts in the smallest of uint8, uint16, uint32 that holds them (else int64)."""
    top = int(counts.max()) if counts.size else 0
    for dtype in (np.uint8, np.uint16, np.uint32):
        if top <= np.iinfo(dtype).max:
            return counts.astype(dtype)
    return counts


def decode_values(kind: str, counted: tuple) -> np.ndarray:
    """The categories of a counted column (``(core_kind, values, offsets, ...)``) as NumPy
    values: str objects, booleans, integers or floats."""
    core_kind, values, offsets = counted[:3]
    if core_kind == "str":
        # The (large_string) Arrow layout already: pyarrow decodes it to str objects in C++.
        offsets = np.ascontiguousarray(offsets, dtype=np.int64)
        strings = pa.LargeStringArray.from_buffers(
            len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(values))
        )
        return strings.to_numpy(zero_copy_only=False).astype(object, copy=False)
    if kind == "bool":
        return np.asarray(values).astype(bool)
    return np.asarray(values)
