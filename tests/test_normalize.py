"""Normalizer: kernel vs reference (bit-identical), scikit-learn oracle, NaN policy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

import fastprep as fp
from fastprep.testing import assert_backends_agree
from fastprep.testing.strategies import float_matrices

from .helpers import Optional

sklearn_preprocessing = Optional("sklearn.preprocessing")

NORMS = ["l1", "l2", "max"]


@pytest.mark.parametrize("norm", NORMS)
@given(x=float_matrices())
def test_backends_bit_identical(norm, x):
    normalizer = fp.Normalizer(norm=norm).fit(np.zeros((1, x.shape[1])))
    out = assert_backends_agree(normalizer.transform, x)
    assert out.dtype == x.dtype and out.shape == x.shape


@pytest.mark.parametrize("norm", NORMS)
@given(x=float_matrices(min_rows=1, allow_nan=False, allow_infinity=False, dtypes=(np.float64,)))
def test_matches_sklearn(norm, x, backend):
    x = np.clip(x, -1e100, 1e100)  # squares of larger values overflow in both
    ours = fp.Normalizer(norm=norm).fit(x).transform(x)
    theirs = sklearn_preprocessing.Normalizer(norm=norm).fit(x).transform(x)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("norm", NORMS)
def test_matches_sklearn_on_adult(norm, adult_numeric, backend):
    ours = fp.Normalizer(norm=norm).fit_transform(adult_numeric)
    theirs = sklearn_preprocessing.Normalizer(norm=norm).fit_transform(adult_numeric)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=0)


def test_nan_makes_its_row_nan_and_zero_rows_pass_through(backend):
    x = np.array([[np.nan, 1.0], [0.0, 0.0], [3.0, 4.0]])
    out = fp.Normalizer().fit_transform(x)
    assert np.isnan(out[0]).all()
    np.testing.assert_array_equal(out[1:], [[0.0, 0.0], [0.6, 0.8]])
