"""The public accumulator API: empty accumulators, updates and merges as values; moments
that are exact, so any split of the rows gives the same bits."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fastprep._backend import kernels
from fastprep.accumulators import FitAccumulator, Moments, ValueBuffer
from fastprep.testing import assert_bit_identical
from fastprep.testing.strategies import float_matrices


def assert_same_moments(a: Moments, b: Moments) -> None:
    for field in ("count", "nan_count", "min", "max", "mean", "var"):
        assert_bit_identical(getattr(a, field), getattr(b, field))
    assert a.sum == b.sum and a.sum_sq == b.sum_sq and a.weight == b.weight


def merged_in_a_random_tree(parts: list[Moments], draw) -> Moments:
    """The parts merged pairwise in an order hypothesis picks, keeping their order."""
    parts = list(parts)
    while len(parts) > 1:
        i = draw(st.integers(0, len(parts) - 2))
        parts[i : i + 2] = [parts[i].merge(parts[i + 1])]
    return parts[0]


def exact_mean_var(column: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """The mean and variance of the finite values, correctly rounded (Fraction to float is)."""
    ok = np.isfinite(column)
    values = [Fraction(float(v)) for v in column[ok]]
    w = [Fraction(float(v)) for v in weights[ok]]
    total = sum(w, Fraction(0))
    if total == 0:
        return np.nan, np.nan
    mean = sum((a * b for a, b in zip(w, values, strict=True)), Fraction(0)) / total
    var = sum((a * (b - mean) ** 2 for a, b in zip(w, values, strict=True)), Fraction(0)) / total
    return float(mean), float(var)


@given(x=float_matrices(allow_infinity=False), data=st.data())
def test_any_split_of_the_rows_gives_the_same_moments(x, data, backend):
    """Cut the rows anywhere, merge the parts in any tree: the same sums, mean and variance
    bits as all rows at once, and those are correctly rounded."""
    x = np.ascontiguousarray(x)
    whole = Moments.of_batch(x)
    cuts = sorted(data.draw(st.lists(st.integers(0, x.shape[0]), max_size=6)))
    bounds = [0, *cuts, x.shape[0]]
    parts = [Moments.of_batch(x[a:b]) for a, b in itertools.pairwise(bounds)]
    assert_same_moments(merged_in_a_random_tree(parts, data.draw), whole)
    for j in range(x.shape[1]):
        mean, var = exact_mean_var(x[:, j].astype(np.float64), np.ones(x.shape[0]))
        assert_bit_identical(whole.mean[j : j + 1], np.array([mean]))
        assert_bit_identical(whole.var[j : j + 1], np.array([var]))


@given(x=float_matrices(allow_infinity=False), data=st.data())
def test_weighted_moments_are_exact_too(x, data, backend):
    x = np.ascontiguousarray(x)
    rows = x.shape[0]
    w = np.array(data.draw(st.lists(st.floats(0.0, 5.0), min_size=rows, max_size=rows)))
    whole = Moments.of_weighted(x, w)
    cut = data.draw(st.integers(0, rows))
    parts = Moments.of_weighted(x[:cut], w[:cut]).merge(Moments.of_weighted(x[cut:], w[cut:]))
    assert_same_moments(parts, whole)
    for j in range(x.shape[1]):
        mean, var = exact_mean_var(x[:, j].astype(np.float64), w)
        assert_bit_identical(whole.mean[j : j + 1], np.array([mean]))
        assert_bit_identical(whole.var[j : j + 1], np.array([var]))


def test_infinities_make_the_mean_infinite_or_nan(backend):
    x = np.array([[np.inf, 1.0, -np.inf], [1.0, 2.0, np.inf], [2.0, np.nan, 3.0]])
    m = Moments.of_batch(x)
    np.testing.assert_array_equal(m.mean, [np.inf, 1.5, np.nan])
    np.testing.assert_array_equal(np.isnan(m.var), [True, False, True])


def test_moments_of_a_mean_and_variance_give_them_back():
    mean, var = np.array([0.1, -3e200, 5e-324, 2.0]), np.array([7.0, 1e-300, 0.0, np.inf])
    m = Moments.of_mean_var([3, 5, 2, 4], [0, 0, 0, 0], mean, var)
    np.testing.assert_array_equal(m.mean[:3], mean[:3])
    np.testing.assert_array_equal(m.var[:3], var[:3])
    assert np.isnan(m.var[3])


def test_empty_accumulators_are_the_identity_of_merge(backend):
    x = np.array([[1.0, np.nan], [3.0, 4.0], [5.0, 8.0]])
    batch = Moments.of_batch(x)
    merged = Moments.empty(2).merge(batch)
    assert_same_moments(merged, batch)
    assert Moments.empty(2).update(x).n_rows == 3
    values = ValueBuffer.empty(2).update(x)
    np.testing.assert_array_equal(values.medians(), [3.0, 6.0])
    assert values.is_exact and values.rank_error() == 0.0


def test_accumulators_are_values_merge_changes_neither_operand(backend):
    a = FitAccumulator.of_batch(np.arange(6.0).reshape(3, 2), keep_values=True)
    b = FitAccumulator.of_batch(np.arange(6.0, 12.0).reshape(3, 2), keep_values=True)
    both = a.merge(b)
    assert both.moments.n_rows == 6 and a.moments.n_rows == 3 and b.moments.n_rows == 3
    np.testing.assert_array_equal(both.values.medians(), [5.0, 6.0])
    np.testing.assert_array_equal(both.moments.var, np.var(np.arange(12.0).reshape(6, 2), axis=0))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", [(0, 3), (1, 1), (5, 4), (300_001, 3)])
def test_the_value_buffer_owns_a_copy_of_its_batch(dtype, shape, backend):
    x = np.random.default_rng(3).normal(size=shape).astype(dtype)
    x.ravel()[::7] = np.nan
    copy = kernels().copy_matrix(x)
    assert copy.dtype == x.dtype and copy.shape == x.shape and copy.flags.c_contiguous
    assert not np.shares_memory(copy, x)
    np.testing.assert_array_equal(copy, x)
    # The caller reusing its array changes nothing the accumulator holds.
    held = ValueBuffer.of_batch(x)
    before = held.values().copy()
    x[...] = 7.0
    np.testing.assert_array_equal(held.values(), before)


def test_a_large_batch_split_anywhere_gives_the_same_bits(backend):
    """Large enough for the Rust kernel's blocks and threads, values over 60 orders of
    magnitude."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(300_001, 3)) * 10.0 ** rng.integers(-30, 30, size=(300_001, 3))
    x[::97, 1] = np.nan
    whole = Moments.of_batch(x)
    parts = [Moments.of_batch(p) for p in np.array_split(x, 7)]
    merged = parts[0]
    for p in parts[1:]:
        merged = merged.merge(p)
    assert_same_moments(merged, whole)
    reverse = parts[-1]
    for p in reversed(parts[:-1]):
        reverse = p.merge(reverse)
    assert_same_moments(reverse, whole)
