"""Binarizer: kernel vs reference (bit-identical), scikit-learn oracle, NaN policy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastprep as fp
from fastprep.testing import assert_backends_agree
from fastprep.testing.strategies import float_matrices

from .helpers import Optional

sklearn_preprocessing = Optional("sklearn.preprocessing")


@given(x=float_matrices(), threshold=st.floats(allow_nan=False) | st.just(0.0))
def test_backends_bit_identical(x, threshold):
    binarizer = fp.Binarizer(threshold=threshold).fit(np.zeros((1, x.shape[1])))
    out = assert_backends_agree(binarizer.transform, x)
    assert out.dtype == x.dtype
    finite = ~np.isnan(x)
    expected = x[finite].astype(np.float64) > threshold  # compared in float64, as documented
    np.testing.assert_array_equal(out[finite], expected.astype(x.dtype))
    assert np.isnan(out[~finite]).all()


@pytest.mark.parametrize("threshold", [0.0, 30.5, -1.0])
def test_matches_sklearn_on_adult(threshold, adult_numeric, backend):
    ours = fp.Binarizer(threshold=threshold).fit_transform(adult_numeric)
    theirs = sklearn_preprocessing.Binarizer(threshold=threshold).fit_transform(adult_numeric)
    np.testing.assert_array_equal(ours, theirs)


@given(x=float_matrices(min_rows=1, allow_nan=False, allow_infinity=False, dtypes=(np.float64,)))
def test_matches_sklearn_on_random_data(x, backend):
    ours = fp.Binarizer(threshold=0.5).fit_transform(x)
    theirs = sklearn_preprocessing.Binarizer(threshold=0.5).fit_transform(x)
    np.testing.assert_array_equal(ours, theirs)
