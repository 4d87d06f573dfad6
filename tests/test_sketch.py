"""The quantile sketch behind fits beyond the exact-value budget: determinism, the stated rank
error bound, merges, and the transforms that switch to it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastprep as fp
from fastprep import accumulators
from fastprep.sketch import QuantileSketch


def _rank_error(sorted_values: np.ndarray, estimate: float, q: float) -> float:
    """How far (as a fraction of n) ``estimate`` is from rank ``q * (n - 1)``."""
    n = sorted_values.size
    lo = np.searchsorted(sorted_values, estimate, side="left")
    hi = np.searchsorted(sorted_values, estimate, side="right") - 1
    target = q * (n - 1)
    return max(0.0, lo - target, target - hi) / n


def _check_bound(sketch: QuantileSketch, x: np.ndarray, qs) -> None:
    estimates = sketch.quantiles(qs)
    for j in range(x.shape[1]):
        column = np.sort(x[:, j][~np.isnan(x[:, j])])
        if column.size == 0:
            assert np.isnan(estimates[:, j]).all()
            continue
        for i, q in enumerate(qs):
            assert _rank_error(column, estimates[i, j], q) <= sketch.rank_error() + 1e-12


values = st.lists(
    st.floats(-1e6, 1e6) | st.sampled_from([0.0, 1.0, np.nan]), min_size=1, max_size=3000
)


@given(data=values, k=st.sampled_from([4, 16, 64]), qs=st.lists(st.floats(0, 1), max_size=8))
def test_rank_error_stays_within_the_stated_bound(data, k, qs, backend):
    x = np.array(data).reshape(-1, 1)
    sketch = QuantileSketch.empty(1, k=k).update(x)
    _check_bound(sketch, x, qs)


@given(data=values, cuts=st.lists(st.integers(0, 3000), max_size=5), k=st.sampled_from([8, 32]))
def test_merged_parts_stay_within_the_bound_and_are_deterministic(data, cuts, k, backend):
    x = np.array(data).reshape(-1, 1)
    parts = np.split(x, sorted(c for c in cuts if c <= len(data)))
    sketches = [QuantileSketch.empty(1, k=k).update(p) for p in parts]
    merged = sketches[0]
    for s in sketches[1:]:
        merged = merged.merge(s)
    _check_bound(merged, x, [0.0, 0.1, 0.5, 0.77, 1.0])
    again = sketches[0]
    for s in sketches[1:]:
        again = again.merge(s)
    for a, b in zip(merged.columns[0].levels, again.columns[0].levels, strict=True):
        np.testing.assert_array_equal(a, b)


def test_exact_until_something_is_compacted(backend):
    x = np.arange(100.0).reshape(-1, 1)
    sketch = QuantileSketch.empty(1, k=64).update(x)
    assert sketch.rank_error() == 1 / 100  # no compaction: only the reading, one item
    np.testing.assert_array_equal(sketch.quantiles([0.0, 0.5, 1.0])[:, 0], [0.0, 49.0, 99.0])


@pytest.fixture
def small_budget():
    before = accumulators.EXACT_VALUE_BUDGET
    accumulators.set_exact_value_budget(500)
    yield
    accumulators.set_exact_value_budget(before)


def test_value_buffer_switches_to_the_sketch_beyond_its_budget(small_budget, backend):
    rng = np.random.default_rng(5)
    x = rng.lognormal(size=(5000, 3))
    buffer = accumulators.ValueBuffer.of_batch(x[:400])
    assert buffer.is_exact
    for chunk in np.array_split(x[400:], 7):
        buffer = buffer.update(chunk)
    assert not buffer.is_exact
    assert buffer.rank_error() == 1 / 5000  # 5,000 values, k = 16,384: nothing compacted
    small = accumulators.ValueBuffer((), 3, 10, QuantileSketch.empty(3, k=64).update(x))
    assert 0 < small.rank_error() < 0.2
    _check_bound(small.sketch, x, [0.25, 0.5, 0.75])


@pytest.mark.parametrize(
    "make",
    [
        lambda: fp.RobustScaler(),
        lambda: fp.SimpleImputer(strategy="median"),
        lambda: fp.SimpleImputer(strategy="most_frequent"),
        lambda: fp.KBinsDiscretizer(encode="ordinal"),
        lambda: fp.QuantileTransformer(n_quantiles=50),
        lambda: fp.PowerTransformer(),
    ],
)
def test_transforms_fit_beyond_the_budget(small_budget, make, backend):
    rng = np.random.default_rng(9)
    x = np.round(rng.gamma(2.0, size=(4000, 2)), 2)
    streamed = make()
    for chunk in np.array_split(x, 8):
        streamed.partial_fit(chunk)
    assert not streamed.accumulator_.values.is_exact
    exact = make()
    accumulators.set_exact_value_budget(10**9)
    exact.fit(x)
    out, expected = streamed.transform(x), exact.transform(x)
    assert out.shape == expected.shape
    # The sketch has not compacted 4,000 values (k = 16,384): order statistics are the same
    # values, read without interpolation.
    assert np.nanmax(np.abs(out - expected)) < 0.2 * np.nanmax(np.abs(expected)) + 1e-9
