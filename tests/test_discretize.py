"""KBinsDiscretizer: kernel vs reference, edges vs scikit-learn, merges, round trips."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastprep as fp
from fastprep._backend import kernels
from fastprep.testing import assert_backends_agree
from fastprep.testing.strategies import fit_and_transform_matrices, float_matrices

from .helpers import PARAM_GRID, Optional, case_id, compare_with_sklearn, fit_in_parts

sklearn_preprocessing = Optional("sklearn.preprocessing")

CASES = [(fp.KBinsDiscretizer, p) for p in PARAM_GRID[fp.KBinsDiscretizer]]


@st.composite
def edges_for(draw, cols: int):
    """Sorted edges per column (repeats and ±inf allowed), flattened with offsets."""
    edge = st.floats(allow_nan=False) | st.sampled_from([0.0, 1.0, -1.0])
    columns = [np.sort(np.array(draw(st.lists(edge, min_size=2, max_size=7)))) for _ in range(cols)]
    offsets = np.concatenate([[0], np.cumsum([c.size for c in columns])]).tolist()
    return np.concatenate(columns), offsets


@given(x=float_matrices(), data=st.data(), onehot=st.booleans())
def test_digitize_kernel_bit_identical_across_backends(x, data, onehot):
    edges, offsets = data.draw(edges_for(x.shape[1]))
    x = np.ascontiguousarray(x)
    out = assert_backends_agree(lambda: kernels().digitize(x, edges, offsets, onehot))
    assert out.dtype == x.dtype


@pytest.mark.parametrize(
    "edges,offsets",
    [([1.0, 0.0], [0, 2]), ([0.0, np.nan], [0, 2]), ([0.0], [0, 1]), ([0.0, 1.0], [0, 3])],
)
def test_digitize_refuses_bad_edges(edges, offsets, backend):
    with pytest.raises(fp.ParameterError):
        kernels().digitize(np.zeros((2, 1)), np.array(edges), offsets, False)


@pytest.mark.parametrize("case", CASES, ids=case_id)
@given(inputs=fit_and_transform_matrices())
def test_transform_bit_identical_across_backends(case, inputs):
    _, params = case
    train, live = inputs
    binner = fp.KBinsDiscretizer(**params).fit(train)
    out = assert_backends_agree(binner.transform, live)
    assert out.shape == (live.shape[0], len(binner.get_feature_names_out()))
    # Edges are order statistics: exact across backends.
    for backend in fp.testing.available_backends():
        with fp.use_backend(backend):
            other = fp.KBinsDiscretizer(**params).fit(train)
        for a, b in zip(binner.bin_edges_, other.bin_edges_, strict=True):
            np.testing.assert_array_equal(a + 0.0, b + 0.0)


@pytest.mark.parametrize("case", CASES, ids=case_id)
@given(x=float_matrices(min_rows=1, allow_infinity=False, layouts=False))
def test_inverse_maps_each_bin_to_its_centre(case, x, backend):
    binner = fp.KBinsDiscretizer(**case[1]).fit(x)
    codes = binner.transform(x)
    centres = binner.inverse_transform(codes)
    assert centres.shape == x.shape and centres.dtype == x.dtype
    # A centre strictly inside its bin bins back to the same code.
    if binner.encode != "ordinal":
        return
    again = binner.transform(centres)
    for j, edges in enumerate(binner.bin_edges_):
        lo, hi = edges[:-1], edges[1:]
        with np.errstate(invalid="ignore", over="ignore"):
            inside = (lo < (lo + hi) * 0.5) & ((lo + hi) * 0.5 < hi)
        known = ~np.isnan(codes[:, j])
        rows = known & inside[np.where(known, codes[:, j], 0).astype(int)]
        np.testing.assert_array_equal(again[rows, j], codes[rows, j])


def _compare_with_sklearn(params, x):
    twin = sklearn_preprocessing.KBinsDiscretizer
    probe = twin(**{**params, "encode": "ordinal", "subsample": None}).fit(x)
    # When every value lies within 1e-8 of the smallest, scikit-learn is left with zero bins
    # (and cannot transform); fastprep keeps one bin, as for a constant column.
    if np.any(probe.n_bins_ == 0):
        ours = fp.KBinsDiscretizer(**params).fit(x)
        assert np.all(ours.n_bins_[probe.n_bins_ == 0] == 1)
        return

    def inverse(ours_back, theirs_back):
        np.testing.assert_allclose(ours_back, theirs_back, rtol=1e-12)

    with np.errstate(invalid="ignore"):  # constant columns: centre of (-inf, inf) is NaN
        ours, theirs, _, _ = compare_with_sklearn(
            fp.KBinsDiscretizer(**params),
            twin(**{"encode": "onehot-dense", "subsample": None, **params}),
            x,
            rtol=0.0,
            inverse=inverse,
        )
    np.testing.assert_array_equal(ours.n_bins_, theirs.n_bins_)
    for a, b in zip(ours.bin_edges_, theirs.bin_edges_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matches_sklearn_on_adult(case, adult_numeric, backend):
    _compare_with_sklearn(case[1], adult_numeric)


@pytest.mark.parametrize("case", CASES, ids=case_id)
@given(
    x=float_matrices(
        min_rows=1, allow_nan=False, allow_infinity=False, dtypes=(np.float64,), layouts=False
    )
)
def test_matches_sklearn_on_random_data(case, x, backend):
    _compare_with_sklearn(case[1], x)


@pytest.mark.parametrize("case", CASES, ids=case_id)
@given(x=float_matrices(min_rows=2, allow_infinity=False, dtypes=(np.float64,)), data=st.data())
def test_partition_and_merge_gives_the_same_edges(case, x, data, backend):
    merged, whole = fit_in_parts(*case, x, data)
    for a, b in zip(merged.bin_edges_, whole.bin_edges_, strict=True):
        np.testing.assert_array_equal(a + 0.0, b + 0.0)


def test_nan_is_kept_in_every_encoding(backend):
    x = np.array([[0.0], [1.0], [2.0], [3.0]])
    binner = fp.KBinsDiscretizer(n_bins=2, encode="onehot-dense").fit(x)
    out = binner.transform(np.array([[np.nan], [-np.inf], [np.inf]]))
    assert np.isnan(out[0]).all()
    np.testing.assert_array_equal(out[1:], [[1.0, 0.0], [0.0, 1.0]])


def test_constant_column_gets_one_bin_with_a_warning(backend):
    x = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
    with pytest.warns(UserWarning, match="column 0 is constant"):
        binner = fp.KBinsDiscretizer(n_bins=2, encode="ordinal").fit(x)
    assert binner.n_bins_.tolist() == [1, 2]
    np.testing.assert_array_equal(binner.transform(x)[:, 0], [0.0, 0.0, 0.0])


# -- encode="onehot": the sparse one-hot ------------------------------------------------------


@given(
    x=float_matrices(min_rows=1, allow_infinity=False, layouts=False),
    live=float_matrices(allow_infinity=True, layouts=False),
    n_bins=st.integers(2, 6),
)
def test_sparse_onehot_is_the_dense_onehot(x, live, n_bins, backend):
    """Same bins, same dtype, NaN kept (stored), sorted indices, for any data."""
    sparse = pytest.importorskip("scipy.sparse")
    with np.errstate(over="ignore"):  # float64 values beyond float32's range become inf
        live = np.resize(live, (live.shape[0], x.shape[1])).astype(x.dtype)
    with warnings.catch_warnings():  # constant columns and narrow bins
        warnings.simplefilter("ignore", UserWarning)
        dense = fp.KBinsDiscretizer(n_bins=n_bins).fit(x)
        onehot = fp.KBinsDiscretizer(n_bins=n_bins, encode="onehot").fit(x)
    out = onehot.transform(live)
    expected = dense.transform(live)
    assert sparse.isspmatrix_csr(out) and out.has_sorted_indices
    assert out.dtype == expected.dtype and out.shape == expected.shape
    np.testing.assert_array_equal(out.toarray(), expected)
    # Every known value stores exactly one 1 per column; a missing one a NaN per bin.
    missing = np.isnan(live)
    assert out.nnz == np.where(missing, onehot.n_bins_, 1).sum()
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(
            onehot.inverse_transform(out), dense.inverse_transform(expected)
        )


@pytest.mark.parametrize("strategy", ["quantile", "uniform"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_onehot_matches_sklearn(strategy, dtype, adult_numeric, backend):
    """scikit-learn's default encoding: the same CSR matrix, names and inverse."""
    twin = sklearn_preprocessing.KBinsDiscretizer
    x = adult_numeric.astype(dtype)
    ours = fp.KBinsDiscretizer(n_bins=[3, 4, 5, 2, 6, 4], strategy=strategy, encode="onehot")
    theirs = twin(
        n_bins=[3, 4, 5, 2, 6, 4],
        strategy=strategy,
        subsample=None,
        quantile_method="averaged_inverted_cdf",
    )
    with warnings.catch_warnings():  # both warn of the same narrow quantile bins
        warnings.simplefilter("ignore", UserWarning)
        ours.fit(x)
        theirs.fit(x)
    out, expected = ours.transform(x), theirs.transform(x)
    assert type(out) is type(expected) and out.dtype == expected.dtype
    assert out.shape == expected.shape and (out != expected).nnz == 0
    np.testing.assert_array_equal(out.indices, expected.indices)
    np.testing.assert_array_equal(ours.get_feature_names_out(), theirs.get_feature_names_out())
    np.testing.assert_allclose(
        ours.inverse_transform(out), theirs.inverse_transform(expected), rtol=1e-6
    )


def test_sparse_onehot_in_compositions_matches_sklearn(adult_numeric, backend):
    """At the end of a Pipeline (step by step: the plan writes dense rows) and in a
    ColumnTransformer whose output is sparse (the plan's CSR)."""
    pytest.importorskip("sklearn")
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    twin = sklearn_preprocessing
    x = adult_numeric[:, [0, 1, 2]]
    binner = dict(n_bins=4, subsample=None, quantile_method="averaged_inverted_cdf")
    ours = fp.Pipeline(
        [("scale", fp.StandardScaler()), ("bins", fp.KBinsDiscretizer(n_bins=4, encode="onehot"))]
    )
    theirs = Pipeline([("scale", twin.StandardScaler()), ("bins", twin.KBinsDiscretizer(**binner))])
    out, expected = ours.fit(x).transform(x), theirs.fit(x).transform(x)
    assert (out != expected).nnz == 0 and out.shape == expected.shape
    ours_ct = fp.ColumnTransformer(
        [("bins", fp.KBinsDiscretizer(n_bins=5, encode="onehot"), [0, 1])],
        remainder="passthrough",
    )
    theirs_ct = ColumnTransformer(
        [("bins", twin.KBinsDiscretizer(**{**binner, "n_bins": 5}), [0, 1])],
        remainder="passthrough",
    )
    out, expected = ours_ct.fit(x).transform(x), theirs_ct.fit(x).transform(x)
    assert ours_ct.sparse_output_ and hasattr(expected, "toarray")
    assert (out != expected).nnz == 0
    np.testing.assert_array_equal(
        ours_ct.get_feature_names_out(), theirs_ct.get_feature_names_out()
    )


# -- sample_weight: scikit-learn's weighted percentiles ---------------------------------------


def _weights(data, rows: int) -> np.ndarray:
    """Weights with zeros, ties and fractions; not all zero. None below float32's smallest
    normal number: scikit-learn sums float32 weights in float32, where a subnormal weight
    next to 1 is rounding noise (it decides an average on one side, exact sums on the other)."""
    tiny = np.finfo(np.float32).tiny
    weight = st.sampled_from([0.0, 1.0, 2.0, 0.5]) | st.floats(0.0, 5.0).filter(
        lambda v: v == 0 or v >= tiny
    )
    w = np.array(data.draw(st.lists(weight, min_size=rows, max_size=rows)), dtype=np.float64)
    if rows and not w.any():
        w[0] = 1.0
    return w


@given(x=float_matrices(allow_infinity=False), data=st.data(), average=st.booleans())
def test_weighted_quantile_kernel_bit_identical_across_backends(x, data, average):
    w = _weights(data, x.shape[0])
    percents = data.draw(st.lists(st.floats(0.0, 100.0), min_size=0, max_size=6))
    out = assert_backends_agree(
        lambda a, b: kernels().weighted_column_quantiles(a, b, percents, average),
        np.ascontiguousarray(x),
        w,
    )
    assert out.shape == (len(percents), x.shape[1])


@given(
    x=float_matrices(min_rows=1, allow_nan=False, allow_infinity=False, layouts=False),
    data=st.data(),
    average=st.booleans(),
)
def test_weighted_quantile_kernel_matches_sklearn(x, data, average, backend):
    """scikit-learn's ``_weighted_percentile``, in the values' dtype: bit for bit."""
    stats = pytest.importorskip("sklearn.utils.stats")
    w = _weights(data, x.shape[0])
    percents = np.linspace(0, 100, data.draw(st.integers(2, 8)) + 1)
    ours = kernels().weighted_column_quantiles(np.ascontiguousarray(x), w, list(percents), average)
    for j in range(x.shape[1]):
        theirs = stats._weighted_percentile(x[:, j], w.astype(x.dtype), percents, average=average)
        np.testing.assert_array_equal(ours[:, j], np.asarray(theirs, dtype=np.float64))


def test_weighted_quantile_kernel_refuses_bad_input(backend):
    x = np.zeros((2, 1))
    for w, percents in (([1.0], [50.0]), ([1.0, -1.0], [50.0]), ([1.0, 1.0], [101.0])):
        with pytest.raises(fp.FastprepError):
            kernels().weighted_column_quantiles(x, np.array(w), percents, True)
    nothing = kernels().weighted_column_quantiles(x, np.zeros(2), [50.0], True)
    assert np.isnan(nothing).all()


@pytest.mark.parametrize("strategy", ["quantile", "uniform"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sample_weight_matches_sklearn_on_adult(strategy, dtype, adult_numeric, backend):
    twin = sklearn_preprocessing.KBinsDiscretizer
    x = adult_numeric.astype(dtype)
    w = np.random.default_rng(0).choice([0.0, 0.5, 1.0, 3.0], size=x.shape[0])
    params = dict(n_bins=[3, 4, 5, 2, 6, 4], strategy=strategy, encode="ordinal")
    with warnings.catch_warnings():  # both warn of the same narrow quantile bins
        warnings.simplefilter("ignore", UserWarning)
        ours = fp.KBinsDiscretizer(**params).fit(x, sample_weight=w)
        theirs = twin(**params, subsample=None, quantile_method="averaged_inverted_cdf")
        theirs.fit(x, sample_weight=w)
    np.testing.assert_array_equal(ours.n_bins_, theirs.n_bins_)
    for a, b in zip(ours.bin_edges_, theirs.bin_edges_, strict=True):
        # Uniform float32 edges: fastprep's linspace is float64, scikit-learn's float32.
        np.testing.assert_allclose(a, b, rtol=0 if dtype == np.float64 else 1e-6)
    np.testing.assert_array_equal(ours.transform(x), theirs.transform(x))
    unweighted = fp.KBinsDiscretizer(**params).fit(x)
    assert any(
        not np.array_equal(a, b)
        for a, b in zip(ours.bin_edges_, unweighted.bin_edges_, strict=True)
    )


@pytest.mark.parametrize("strategy", ["quantile", "uniform"])
def test_weighted_fits_merge_and_no_weight_weighs_one(strategy, adult_numeric, backend):
    x = adult_numeric[:3000]
    w = np.random.default_rng(1).choice([0.0, 1.0, 2.5], size=x.shape[0])
    params = dict(n_bins=5, strategy=strategy, encode="ordinal")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        whole = fp.KBinsDiscretizer(**params).fit(x, sample_weight=w)
        parts = fp.KBinsDiscretizer(**params).partial_fit(x[:1000], sample_weight=w[:1000])
        parts.merge(fp.KBinsDiscretizer(**params).fit(x[1000:], sample_weight=w[1000:]))
        ones = np.where(np.arange(x.shape[0]) < 1000, 1.0, w)
        mixed = fp.KBinsDiscretizer(**params).partial_fit(x[:1000])
        mixed.partial_fit(x[1000:], sample_weight=w[1000:])
        explicit = fp.KBinsDiscretizer(**params).fit(x, sample_weight=ones)
    for a, b in zip(parts.bin_edges_, whole.bin_edges_, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(mixed.bin_edges_, explicit.bin_edges_, strict=True):
        np.testing.assert_array_equal(a, b)


def test_weighted_values_stay_exact_beyond_the_budget(backend):
    from fastprep import accumulators

    x = np.random.default_rng(2).normal(size=(400, 2))
    w = np.random.default_rng(3).random(400)
    exact = fp.KBinsDiscretizer(n_bins=7, encode="ordinal").fit(x, sample_weight=w)
    budget = accumulators.EXACT_VALUE_BUDGET
    try:
        accumulators.set_exact_value_budget(50)
        small = fp.KBinsDiscretizer(n_bins=7, encode="ordinal")
        small.partial_fit(x[:200], sample_weight=w[:200]).partial_fit(
            x[200:], sample_weight=w[200:]
        )
        sketched = fp.KBinsDiscretizer(n_bins=7, encode="ordinal").fit(x)
        before = small.fingerprint
        with pytest.raises(fp.SchemaError, match="weighted quantiles are exact only"):
            small.merge(sketched)
        assert small.fingerprint == before
    finally:
        accumulators.set_exact_value_budget(budget)
    for a, b in zip(small.bin_edges_, exact.bin_edges_, strict=True):
        np.testing.assert_array_equal(a, b)


def test_linear_quantiles_with_weights_and_bad_weights_are_refused():
    x = np.arange(12.0).reshape(4, 3)
    binner = fp.KBinsDiscretizer(n_bins=2, encode="ordinal").fit(x)
    before = binner.fingerprint
    with pytest.raises(fp.ParameterError, match="must be 'averaged_inverted_cdf'"):
        fp.KBinsDiscretizer(quantile_method="linear").fit(x, sample_weight=np.ones(4))
    for bad in ([1.0, -1.0, 1.0, 1.0], [0.0] * 4, [1.0, 2.0]):
        with pytest.raises(fp.FastprepError):
            binner.fit(x, sample_weight=bad)
        with pytest.raises(fp.FastprepError):
            binner.partial_fit(x, sample_weight=bad)
    assert binner.fingerprint == before
