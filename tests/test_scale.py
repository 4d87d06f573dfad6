"""Scalers: kernels vs reference, fitted statistics vs reference and scikit-learn, merges,
round trips."""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import fastprep as fp
from fastprep import reference
from fastprep.reference.stats import SUM_SCALE
from fastprep.testing import assert_backends_agree, assert_bit_identical
from fastprep.testing.strategies import fit_and_transform_matrices, float_matrices

from .helpers import (
    PARAM_GRID,
    Optional,
    assert_state_close,
    case_id,
    compare_with_sklearn,
    fit_in_parts,
    fitted_state,
    magnitude,
    sklearn_twin,
)

sklearn_preprocessing = Optional("sklearn.preprocessing")

SCALERS = [fp.StandardScaler, fp.MinMaxScaler, fp.MaxAbsScaler, fp.RobustScaler]
CASES = [(cls, p) for cls in SCALERS for p in PARAM_GRID[cls]]


# -- kernels ----------------------------------------------------------------------------------


@given(x=float_matrices(), data=st.data())
def test_affine_kernels_match_reference(x, data):
    cols = x.shape[1]
    params = st.lists(
        st.floats(allow_nan=False, allow_infinity=False, width=64), min_size=cols, max_size=cols
    )
    a = np.array(data.draw(params))
    b = np.array(data.draw(params))
    assert_backends_agree(_sub_div, x, a, b)
    clip = data.draw(st.none() | st.just((-1.0, 2.0)))
    assert_backends_agree(_mul_add, x, a, b, clip)


def _sub_div(x, a, b):
    return fp._backend.kernels().sub_div(np.ascontiguousarray(x), a, b)


def _mul_add(x, a, b, clip):
    return fp._backend.kernels().mul_add(np.ascontiguousarray(x), a, b, clip)


@given(x=float_matrices())
def test_column_stats_match_reference(x, backend):
    """Everything exact: counts, bounds, and the sums of the finite values and of their squares
    (as their exact rational values)."""
    x = np.ascontiguousarray(x)
    ours = fp._backend.kernels().column_stats(x)
    ref = reference.column_stats(x)
    for k in (0, 1, 4, 5):
        assert_bit_identical(np.asarray(ours[k]).astype(ref[k].dtype), ref[k])
    assert list(ours[2]) == list(ref[2]) and list(ours[3]) == list(ref[3])
    unit = Fraction(1, 2**SUM_SCALE)
    for j in range(x.shape[1]):
        finite = [Fraction(float(v)) for v in x[:, j] if np.isfinite(v)]
        assert ours[2][j] * unit == sum(finite, Fraction(0))
        assert ours[3][j] * unit == sum((v * v for v in finite), Fraction(0))


# -- transforms -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=case_id)
@given(inputs=fit_and_transform_matrices())
def test_transform_and_inverse_are_bit_identical_across_backends(case, inputs):
    cls, params = case
    train, live = inputs
    scaler = cls(**params).fit(train)
    out = assert_backends_agree(scaler.transform, live)
    assert out.dtype == live.dtype
    assert_backends_agree(scaler.inverse_transform, out)


@pytest.mark.parametrize("case", CASES, ids=case_id)
@given(inputs=fit_and_transform_matrices())
def test_fitted_statistics_agree_across_backends(case, inputs):
    cls, params = case
    train, _ = inputs
    states = []
    for backend in fp.testing.available_backends():
        with fp.use_backend(backend):
            states.append(fitted_state(cls(**params).fit(train)))
    scale = magnitude(train.astype(np.float64))
    for other in states[1:]:
        # Order statistics and extremes are exact; moments may differ in summation order.
        assert_state_close(states[0], other, rtol=1e-12, scale=scale)


@pytest.mark.parametrize("case", CASES, ids=case_id)
@given(
    x=float_matrices(min_rows=2, allow_infinity=False, dtypes=(np.float64,)),
    data=st.data(),
)
def test_partition_and_merge_equals_one_fit(case, x, data, backend):
    merged, whole = fit_in_parts(*case, x, data)
    scale = magnitude(x)
    assert_state_close(fitted_state(merged), fitted_state(whole), scale=scale)
    # Extremes and order statistics are exact whatever the order.
    for name in ("data_min_", "data_max_", "max_abs_", "center_"):
        if getattr(whole, name, None) is not None:
            np.testing.assert_array_equal(getattr(merged, name), getattr(whole, name))


def test_merge_is_deterministic_and_leaves_the_operand_alone(backend):
    rng = np.random.default_rng(0)
    parts = [rng.normal(size=(100, 3)) * 10**k for k in range(4)]
    a = [fp.StandardScaler().partial_fit(p) for p in parts]
    b = [fp.StandardScaler().partial_fit(p) for p in parts]
    before = fitted_state(a[1])
    for i in range(1, 4):
        a[0].merge(a[i])
        b[0].merge(b[i])
    assert_state_close(fitted_state(a[0]), fitted_state(b[0]), rtol=0.0)
    assert_state_close(fitted_state(a[1]), before, rtol=0.0)


def test_a_subnormal_variance_is_constant_however_the_rows_are_split(backend):
    # The variance of one 6.7e-162 among zeros is a unit or two of 5e-324, or 0 when the rows
    # come in parts: either way the column is constant, and is not scaled.
    x = np.zeros((12, 1))
    x[0, 0] = 6.70769635e-162
    whole = fp.StandardScaler().fit(x)
    merged = fp.StandardScaler().fit(x[:5]).merge(fp.StandardScaler().fit(x[5:]))
    assert whole.scale_[0] == merged.scale_[0] == 1.0
    np.testing.assert_allclose(whole.transform(x), merged.transform(x), rtol=1e-12)


def test_streaming_partial_fit_equals_fit(backend):
    rng = np.random.default_rng(1)
    x = rng.normal(5.0, 3.0, size=(1000, 4))
    x[rng.random(x.shape) < 0.1] = np.nan
    stream = fp.RobustScaler()
    for chunk in np.array_split(x, 7):
        stream.partial_fit(chunk)
    assert_state_close(fitted_state(stream), fitted_state(fp.RobustScaler().fit(x)), rtol=0.0)
    stream = fp.StandardScaler()
    for chunk in np.array_split(x, 7):
        stream.partial_fit(chunk)
    assert_state_close(fitted_state(stream), fitted_state(fp.StandardScaler().fit(x)))


@pytest.mark.parametrize("case", CASES, ids=case_id)
@given(x=float_matrices(min_rows=1, allow_infinity=False, layouts=False))
def test_inverse_round_trip(case, x, backend):
    cls, params = case
    scaler = cls(**params).fit(x)
    if params.get("clip"):
        return  # clipping is not invertible outside the range; covered by the kernel tests
    out = scaler.transform(x)
    back = scaler.inverse_transform(out)
    x64 = x.astype(np.float64)
    eps = 1e-6 if x.dtype == np.float32 else 1e-13
    # The inverse is affine, back = s * out + c: rounding in `out` comes back scaled by |s|.
    width = x.shape[1]
    s = np.abs(
        scaler.inverse_transform(np.ones((1, width)))
        - scaler.inverse_transform(np.zeros((1, width)))
    )[0]
    with np.errstate(invalid="ignore", over="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        atol = eps * (np.nanmax(np.abs(x64), axis=0) + np.nanmax(np.abs(out), axis=0) * s)
    finite = np.isfinite(back) & np.isfinite(x64)
    # Two roundings to the dtype cost at least its smallest step near zero.
    floor = 2 * float(np.finfo(x.dtype).smallest_subnormal)
    assert np.all((np.abs(back - x64) <= atol + eps * np.abs(x64) + floor)[finite])
    assert np.array_equal(np.isnan(back) & np.isfinite(s), np.isnan(x64) & np.isfinite(s))


# -- scikit-learn oracle ----------------------------------------------------------------------


def _affine_atol(fn, x, y, rtol=1e-10):
    """Absolute slack for ``y = fn(x)``, an affine map per column ``y = a x + b``: rounding
    in the fitted statistics is relative to the magnitudes of ``a x`` and ``y``, not of the
    result (a mean that cancels is only that accurate)."""
    width = x.shape[1]
    a = np.abs(fn(np.ones((1, width))) - fn(np.zeros((1, width))))[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        ax = np.nan_to_num(np.nanmax(np.abs(x), axis=0) * a)
        ay = np.nan_to_num(np.nanmax(np.abs(y), axis=0))
    return rtol * (ax + ay).max(initial=0.0) + 1e-300


def _compare_with_sklearn(cls, params, x):
    def inverse(ours_back, theirs_back):
        expected = theirs.transform(x)
        np.testing.assert_allclose(
            ours_back,
            theirs_back,
            rtol=1e-10,
            atol=_affine_atol(theirs.inverse_transform, expected, theirs_back),
        )

    theirs = sklearn_twin(cls(**params))
    ours, theirs, _, _ = compare_with_sklearn(
        cls(**params),
        theirs,
        x,
        atol=lambda fitted, expected: _affine_atol(fitted.transform, x, expected),
        inverse=inverse,
    )
    names = ours._fitted_attributes
    assert_state_close(
        fitted_state(ours),
        {name: getattr(theirs, name) for name in names},
        rtol=1e-10,
        scale=magnitude(x),
    )


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matches_sklearn_on_adult(case, adult_numeric, backend):
    _compare_with_sklearn(*case, adult_numeric)


@pytest.mark.parametrize("case", CASES, ids=case_id)
@given(
    x=float_matrices(min_rows=1, allow_infinity=False, dtypes=(np.float64,), layouts=False).filter(
        lambda a: np.all(np.any(~np.isnan(a), axis=0))
    )
)
def test_matches_sklearn_on_random_data(case, x, backend):
    x = np.where(np.abs(x) > 1e12, np.sign(x) * 1e12, x)  # moderate magnitudes: see below
    # A subnormal variance counts as constant in fastprep (README), not in scikit-learn.
    with np.errstate(under="ignore"):
        var = np.nanvar(x, axis=0)
    assume(not np.any((var > 0) & (var < np.finfo(np.float64).tiny)))
    _compare_with_sklearn(*case, x)


# -- sample_weight (StandardScaler, as scikit-learn) ------------------------------------------


@given(
    x=float_matrices(),
    data=st.data(),
)
def test_weighted_column_stats_backends_bit_identical(x, data):
    w = np.array(data.draw(st.lists(st.floats(0.0, 5.0), min_size=x.shape[0], max_size=x.shape[0])))
    assert_backends_agree(
        lambda a, b: tuple(map(np.asarray, fp._backend.kernels().weighted_column_stats(a, b))),
        np.ascontiguousarray(x),
        w,
    )


def test_sample_weight_matches_scikit_learn_on_adult(adult_numeric, backend):
    x = adult_numeric[:5000].copy()
    x[::7, 2] = np.nan
    w = np.random.default_rng(1).uniform(0.0, 3.0, len(x))
    for params in ({}, {"with_mean": False}):
        ours = fp.StandardScaler(**params).fit(x, sample_weight=w)
        theirs = sklearn_preprocessing.StandardScaler(**params).fit(x, sample_weight=w)
        for name in ("mean_", "var_", "scale_", "n_samples_seen_"):
            if getattr(theirs, name) is not None:
                np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-12)
        np.testing.assert_allclose(ours.transform(x), theirs.transform(x), rtol=1e-12, atol=1e-12)
    sparse = Optional("scipy.sparse").csr_matrix(np.nan_to_num(x) * (x > 40))
    ours = fp.StandardScaler(with_mean=False).fit(sparse, sample_weight=w)
    theirs = sklearn_preprocessing.StandardScaler(with_mean=False).fit(sparse, sample_weight=w)
    np.testing.assert_allclose(ours.var_, theirs.var_, rtol=1e-12)
    np.testing.assert_allclose(ours.n_samples_seen_, theirs.n_samples_seen_, rtol=1e-12)


def test_integer_weights_are_repeated_rows_and_weighted_fits_merge(backend):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 3))
    w = rng.integers(0, 4, 300)
    weighted = fp.StandardScaler().fit(x, sample_weight=w)
    repeated = fp.StandardScaler().fit(np.repeat(x, w, axis=0))
    np.testing.assert_allclose(weighted.mean_, repeated.mean_, rtol=1e-12)
    np.testing.assert_allclose(weighted.var_, repeated.var_, rtol=1e-12)
    assert weighted.n_samples_seen_ == repeated.n_samples_seen_ == w.sum()
    parts = fp.StandardScaler().partial_fit(x[:100], sample_weight=w[:100])
    parts.merge(fp.StandardScaler().fit(x[100:], sample_weight=w[100:]))
    np.testing.assert_allclose(parts.var_, weighted.var_, rtol=1e-12)
    # No weight is a weight of 1: batches with and without weights merge.
    mixed = (
        fp.StandardScaler().partial_fit(x[:100]).partial_fit(x[100:], sample_weight=np.ones(200))
    )
    np.testing.assert_allclose(mixed.var_, fp.StandardScaler().fit(x).var_, rtol=1e-12)


def test_bad_sample_weights_are_refused_and_the_fit_kept():
    x = np.arange(12.0).reshape(4, 3)
    scaler = fp.StandardScaler().fit(x)
    before = scaler.fingerprint
    for bad, error, match in (
        ([1.0, 2.0], fp.SchemaError, r"shape \(2,\), expected \(4,\)"),
        ([1.0, -1.0, 1.0, 1.0], fp.DataError, "finite and >= 0"),
        ([1.0, np.nan, 1.0, 1.0], fp.DataError, "finite and >= 0"),
        ([0.0, 0.0, 0.0, 0.0], fp.DataError, "zero for every row"),
        (["a", "b", "c", "d"], fp.DataError, "must be numbers"),
    ):
        with pytest.raises(error, match=match):
            scaler.fit(x, sample_weight=bad)
        with pytest.raises(error, match=match):
            scaler.partial_fit(x, sample_weight=bad)
        assert scaler.fingerprint == before
