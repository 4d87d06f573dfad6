"""The public accumulator API: empty accumulators, updates and merges as values."""

from __future__ import annotations

import numpy as np
import pytest

from fastprep._backend import kernels
from fastprep.accumulators import FitAccumulator, Moments, ValueBuffer


def test_empty_accumulators_are_the_identity_of_merge(backend):
    x = np.array([[1.0, np.nan], [3.0, 4.0], [5.0, 8.0]])
    batch = Moments.of_batch(x)
    merged = Moments.empty(2).merge(batch)
    for field in ("count", "nan_count", "mean", "m2", "min", "max"):
        np.testing.assert_array_equal(getattr(merged, field), getattr(batch, field))
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
