"""QuantileTransformer and the normal special functions: kernels vs reference, quantiles and
outputs vs scikit-learn and scipy, merges, round trips."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastprep as fp
from fastprep.testing import assert_backends_agree
from fastprep.testing.strategies import fit_and_transform_matrices, float_matrices

from .helpers import (
    PARAM_GRID,
    Optional,
    case_id,
    compare_with_sklearn,
    fit_in_parts,
    magnitude,
    ulps,
)

sklearn_preprocessing = Optional("sklearn.preprocessing")
scipy_special = Optional("scipy.special")

CASES = [(fp.QuantileTransformer, p) for p in PARAM_GRID[fp.QuantileTransformer]]


@pytest.mark.parametrize("case", CASES, ids=case_id)
@given(inputs=fit_and_transform_matrices())
def test_backends_agree(case, inputs):
    """Uniform output: bit-identical. Normal output: the transcendental step may differ by a
    few ULP between C libraries, which the following interpolation can scale up."""
    _, params = case
    train, live = inputs
    qt = fp.QuantileTransformer(**params).fit(train)
    if params["output_distribution"] == "uniform":
        out = assert_backends_agree(qt.transform, live)
        assert_backends_agree(qt.inverse_transform, out)
        return
    results = {}
    for backend in fp.testing.available_backends():
        with fp.use_backend(backend):
            results[backend] = (qt.transform(live), qt.inverse_transform(qt.transform(live)))
    first, *others = results.values()
    for other in others:
        assert np.all(ulps(first[0], other[0]) <= 4)
        np.testing.assert_allclose(
            first[1], other[1], rtol=1e-9, atol=1e-9 * magnitude(train), equal_nan=True
        )


@pytest.mark.parametrize("case", CASES, ids=case_id)
@given(train=float_matrices(min_rows=1, allow_infinity=False))
def test_quantiles_are_identical_across_backends(case, train):
    states = []
    for backend in fp.testing.available_backends():
        with fp.use_backend(backend):
            states.append(fp.QuantileTransformer(**case[1]).fit(train).quantiles_ + 0.0)
    for other in states[1:]:
        np.testing.assert_array_equal(states[0], other)


def _compare_with_sklearn(params, x):
    ours, theirs, _, _ = compare_with_sklearn(
        fp.QuantileTransformer(**params),
        sklearn_preprocessing.QuantileTransformer(**params, subsample=None),
        x,
        atol=1e-12,
        inverse=(1e-9, 1e-9 * magnitude(x)),
    )
    np.testing.assert_array_equal(ours.quantiles_ + 0.0, theirs.quantiles_ + 0.0)
    np.testing.assert_array_equal(ours.references_, theirs.references_)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matches_sklearn_on_adult(case, adult_numeric, backend):
    x = adult_numeric.copy()
    x[np.random.default_rng(2).random(x.shape) < 0.05] = np.nan
    _compare_with_sklearn(case[1], x)


@pytest.mark.parametrize("case", CASES, ids=case_id)
@given(x=float_matrices(min_rows=1, allow_infinity=False, dtypes=(np.float64,), layouts=False))
def test_matches_sklearn_on_random_data(case, x, backend):
    x = np.clip(x, -1e12, 1e12)  # slopes between huge quantiles overflow alike, not usefully
    _compare_with_sklearn(case[1], x)


@pytest.mark.parametrize("case", CASES, ids=case_id)
@given(x=float_matrices(min_rows=2, allow_infinity=False, dtypes=(np.float64,)), data=st.data())
def test_partition_and_merge_gives_identical_quantiles(case, x, data, backend):
    merged, whole = fit_in_parts(*case, x, data)
    np.testing.assert_array_equal(merged.quantiles_ + 0.0, whole.quantiles_ + 0.0)


def test_round_trip_on_training_values(backend):
    rng = np.random.default_rng(4)
    x = np.round(rng.lognormal(size=(2000, 3)), 3)
    for distribution in ("uniform", "normal"):
        qt = fp.QuantileTransformer(output_distribution=distribution).fit(x)
        np.testing.assert_allclose(qt.inverse_transform(qt.transform(x)), x, rtol=1e-9)


def test_warns_when_fewer_rows_than_quantiles(backend):
    with pytest.warns(UserWarning, match="n_quantiles"):
        qt = fp.QuantileTransformer(n_quantiles=50).fit(np.arange(10.0).reshape(-1, 1))
    assert qt.n_quantiles_ == 10
