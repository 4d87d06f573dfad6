"""Exact order statistics (the fit kernels of RobustScaler and SimpleImputer): Rust vs the
NumPy reference, which is NumPy's own nanquantile/nanmedian."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastprep as fp
from fastprep import reference
from fastprep._backend import kernels
from fastprep.testing import assert_backends_agree, assert_bit_identical
from fastprep.testing.strategies import float_matrices

probabilities = st.lists(st.floats(0.0, 1.0), max_size=6)


def _zeros_equal(a: np.ndarray) -> np.ndarray:
    """-0.0 and 0.0 are the same order statistic; NumPy's partition may return either."""
    return np.asarray(a) + 0.0


@pytest.mark.parametrize("method", ["linear", "averaged_inverted_cdf"])
@given(x=float_matrices(), qs=probabilities)
def test_quantiles_match_numpy(method, x, qs):
    x = np.ascontiguousarray(x)
    out = assert_backends_agree(lambda: _zeros_equal(kernels().column_quantiles(x, qs, method)))
    assert out.shape == (len(qs), x.shape[1])


@given(x=float_matrices())
def test_medians_match_numpy(x):
    x = np.ascontiguousarray(x)
    assert_backends_agree(lambda: _zeros_equal(kernels().column_medians(x)))


@given(x=float_matrices())
def test_modes_match_reference(x):
    x = np.ascontiguousarray(x)
    modes = assert_backends_agree(lambda: kernels().column_modes(x))
    for j in range(x.shape[1]):
        values = x[:, j][~np.isnan(x[:, j])] + 0.0
        if values.size == 0:
            assert np.isnan(modes[j])
            continue
        uniques, counts = np.unique(values, return_counts=True)
        assert modes[j] == uniques[counts == counts.max()].min()


def test_quantiles_match_numpy_exactly_on_large_random_columns(backend):
    rng = np.random.default_rng(7)
    x = rng.standard_cauchy(size=(100_001, 3))
    x[rng.random(x.shape) < 0.05] = np.nan
    qs = [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999, 1.0]
    assert_bit_identical(
        kernels().column_quantiles(x, qs), np.nanquantile(x, qs, axis=0, method="linear")
    )
    assert_bit_identical(kernels().column_medians(x), np.nanmedian(x, axis=0))
    averaged = kernels().column_quantiles(x, qs, "averaged_inverted_cdf")
    assert_bit_identical(averaged, np.nanquantile(x, qs, axis=0, method="averaged_inverted_cdf"))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    "qs", [[0.25, 0.75], [0.0, 0.2, 0.4, 0.6, 0.8, 1.0], [0.001, 0.5, 0.999], [0.0, 1.0]]
)
def test_tall_matrices_match_numpy_exactly(dtype, qs, backend):
    """Above 262,144 rows the Rust kernel places intervals from a sample and selects among
    the values inside them (or falls back to the full selection): still NumPy's numbers."""
    rng = np.random.default_rng(11)
    rows = 300_000
    tied = rng.random(rows)
    tied[(tied > 0.2) & (tied < 0.55)] = 0.4  # one value from 20% to past the median
    x = np.column_stack(
        [
            rng.standard_cauchy(rows),
            np.where(rng.random(rows) < 0.3, np.nan, rng.normal(size=rows)),
            rng.integers(0, 10, rows).astype(float),  # ten values, every rank tied
            tied,
            np.full(rows, -2.5),
            np.where(rng.random(rows) < 0.9, 0.0, rng.exponential(size=rows)),
            np.sort(rng.normal(size=rows)),  # sorted rows: samples from nearby runs agree
        ]
    ).astype(dtype)
    want = np.nanquantile(x.astype(float), qs, axis=0)
    assert_bit_identical(_zeros_equal(kernels().column_quantiles(x, qs)), _zeros_equal(want))
    quantiles, medians = kernels().column_quantiles_and_medians(x, qs)
    assert_bit_identical(_zeros_equal(quantiles), _zeros_equal(want))
    assert_bit_identical(medians, np.nanmedian(x.astype(float), axis=0))


@pytest.mark.parametrize("q", [-0.1, 1.5, float("nan")])
def test_probabilities_outside_unit_interval_are_refused(q, backend):
    with pytest.raises(fp.ParameterError):
        kernels().column_quantiles(np.zeros((3, 1)), [q])


def test_unknown_quantile_method_is_refused(backend):
    with pytest.raises(fp.ParameterError, match="quantile method"):
        kernels().column_quantiles(np.zeros((3, 1)), [0.5], "hazen")


@given(x=float_matrices(), qs=probabilities)
def test_quantiles_and_medians_in_one_pass_match_numpy(x, qs):
    x = np.ascontiguousarray(x)
    quantiles, medians = assert_backends_agree(
        lambda: tuple(_zeros_equal(a) for a in kernels().column_quantiles_and_medians(x, qs))
    )
    assert_bit_identical(quantiles, _zeros_equal(reference.column_quantiles(x, qs)))
    assert_bit_identical(medians, _zeros_equal(reference.column_medians(x)))
