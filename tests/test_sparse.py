"""Sparse input (SciPy CSR / CSC, matrices and arrays) to the transforms that keep sparsity:
MaxAbsScaler, StandardScaler(with_mean=False), Normalizer, Binarizer. The sparse kernels
against their NumPy reference, sparse against dense bit for bit, against scikit-learn on the
bundled Adult data, and the refusals."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastprep as fp
from fastprep._backend import kernels
from fastprep.testing import assert_backends_agree, assert_bit_identical
from fastprep.testing.strategies import float_matrices

from .helpers import Optional

sparse = Optional("scipy.sparse")
skp = Optional("sklearn.preprocessing")

KEEPERS = [
    fp.MaxAbsScaler(),
    fp.StandardScaler(with_mean=False),
    fp.StandardScaler(with_mean=False, with_std=False),
    fp.Normalizer(),
    fp.Normalizer(norm="l1"),
    fp.Normalizer(norm="max"),
    fp.Binarizer(threshold=0.25),
    fp.FunctionTransformer(np.log1p),
    fp.FunctionTransformer(np.abs),
    fp.RobustScaler(with_centering=False),
    fp.RobustScaler(with_centering=False, quantile_range=(10.0, 90.0), unit_variance=True),
]


@st.composite
def sparse_inputs(draw, **kwargs):
    """A dense matrix with some cells zeroed (NaN, ±inf, constant columns, empty and one-row
    matrices, float32 and float64) and the same as CSR."""
    x = np.array(draw(float_matrices(layouts=False, **kwargs)), copy=True)
    keep = draw(st.lists(st.booleans(), min_size=x.size, max_size=x.size))
    x[~np.array(keep, dtype=bool).reshape(x.shape)] = 0
    return x, sparse.csr_matrix(x)


def _parts(csr, index_dtype):
    return csr.data, (csr.indptr.astype(index_dtype), csr.indices.astype(index_dtype)), csr.shape[1]


# -- the kernels against their reference -------------------------------------------------------


@given(
    case=sparse_inputs(),
    norm=st.sampled_from(["l1", "l2", "max"]),
    index=st.sampled_from([np.int32, np.int64]),
)
def test_normalize_csr_backends_bit_identical(case, norm, index):
    _, csr = case
    assert_backends_agree(lambda *a: kernels().normalize_csr(*a, norm), *_parts(csr, index))


@given(case=sparse_inputs(), index=st.sampled_from([np.int32, np.int64]), data=st.data())
def test_sub_div_csr_backends_bit_identical(case, index, data):
    _, csr = case
    cols = csr.shape[1]
    div = np.array(data.draw(st.lists(st.floats(0.1, 10.0), min_size=cols, max_size=cols)))
    assert_backends_agree(
        lambda *a: kernels().sub_div_csr(*a, np.zeros(cols), div), *_parts(csr, index)
    )


@given(case=sparse_inputs(), index=st.sampled_from([np.int32, np.int64]))
def test_csr_column_stats_backends_bit_identical(case, index):
    _, csr = case
    assert_backends_agree(
        lambda *a: tuple(map(np.asarray, kernels().csr_column_stats(*a))), *_parts(csr, index)
    )


@given(case=sparse_inputs())
def test_csr_column_stats_are_the_dense_statistics(case, backend):
    """The sums are exact, so the sparse form gives the dense form's statistics exactly."""
    x, csr = case
    got = kernels().csr_column_stats(*_parts(csr, np.int32))
    want = kernels().column_stats(np.ascontiguousarray(x))
    for g, w in zip(got, want, strict=True):
        assert_bit_identical(np.asarray(g), np.asarray(w))


def kernels_normalize_csr(*args):
    return kernels().normalize_csr(*args)


def test_malformed_csr_arrays_are_refused_by_both_backends():
    data = np.array([1.0, 2.0])
    for indptr, indices in (
        ([0, 1, 2], [0, 5]),
        ([0, 2, 1], [0, 1]),
        ([0, 1, 3], [0, 1]),
        ([1, 2], [0, 1]),
    ):
        index = (np.array(indptr, dtype=np.int32), np.array(indices, dtype=np.int32))
        with pytest.raises(fp.SchemaError, match="malformed sparse matrix"):
            assert_backends_agree(kernels_normalize_csr, data, index, 2, "l2")


# -- the transforms ----------------------------------------------------------------------------


@pytest.mark.parametrize("obj", KEEPERS, ids=repr)
@given(case=sparse_inputs(min_rows=1, allow_infinity=False))
def test_sparse_output_is_the_dense_output_bit_for_bit(obj, case, backend):
    x, csr = case
    fitted = copy.deepcopy(obj).fit(x)  # one state for both: the output is what is compared
    for given_ in (csr, csr.tocsc(), sparse.csr_array(csr)):
        out = fitted.transform(given_)
        assert type(out).__name__.startswith(("csr", "csc")) and out.format == given_.format
        # Against the dense transform of the values the matrix holds (a -0.0 of x is an
        # implicit zero there), stored value by stored value: scipy's toarray adds the stored
        # values to zeros, which turns a -0.0 into 0.0.
        dense = fitted.transform(csr.toarray())
        coo = csr.tocoo()
        stored = out.tocsr()
        stored.sort_indices()
        if not obj._sparse_drops_zeros:
            assert_bit_identical(stored.data, dense[coo.row, coo.col])
        else:
            np.testing.assert_array_equal(stored.toarray(), dense)
        implicit = np.ones(dense.shape, dtype=bool)
        implicit[coo.row, coo.col] = False
        if isinstance(obj, fp.Normalizer):
            # A row holding NaN is all NaN when dense; sparse, its implicit zeros stay 0.
            implicit &= ~np.isnan(csr.toarray()).any(axis=1)[:, None]
        assert (dense[implicit] == 0).all()


@pytest.mark.parametrize("obj", KEEPERS, ids=repr)
def test_sparse_fits_match_scikit_learn_on_adult(obj, adult_numeric, backend):
    x = adult_numeric[:5000]
    csr = sparse.csr_matrix(x)
    ours = copy.deepcopy(obj).fit(csr)
    theirs = getattr(skp, type(obj).__name__)(**obj.get_params()).fit(csr)
    for name in ("scale_", "max_abs_", "var_", "n_samples_seen_"):
        if getattr(theirs, name, None) is not None:
            np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-12)
    np.testing.assert_allclose(
        ours.transform(csr).toarray(), theirs.transform(csr).toarray(), rtol=1e-12
    )
    # The sparse fit is the dense fit, within the summation order.
    dense = copy.deepcopy(obj).fit(x)
    np.testing.assert_allclose(ours.transform(x), dense.transform(x), rtol=1e-12)


def test_sparse_and_dense_batches_merge():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 4)) * (rng.random((300, 4)) < 0.3)
    parts = fp.MaxAbsScaler().partial_fit(sparse.csr_matrix(x[:100])).partial_fit(x[100:])
    np.testing.assert_array_equal(parts.scale_, fp.MaxAbsScaler().fit(x).scale_)


def test_sparse_input_is_refused_where_it_cannot_stay_sparse_and_left_untouched():
    x = sparse.random(20, 3, density=0.5, random_state=0, format="csr")
    before = (x.data.copy(), x.indices.copy(), x.indptr.copy())
    with pytest.raises(fp.ParameterError, match=r"cannot center sparse data.*with_mean=False"):
        fp.StandardScaler().fit(x)
    with pytest.raises(fp.ParameterError, match="threshold < 0"):
        fp.Binarizer(threshold=-1.0).transform(x)
    with pytest.raises(fp.ParameterError, match=r"cannot center.*with_centering=False"):
        fp.RobustScaler().fit(x)
    for obj in (fp.MinMaxScaler(), fp.PowerTransformer(), fp.KBinsDiscretizer()):
        with pytest.raises(fp.SchemaError, match="sparse input is not supported"):
            obj.fit(x)
    negative = x.copy()
    negative.data[3] = -1.0
    with pytest.raises(fp.DataError, match=r"column \d holds negative values"):
        fp.QuantileTransformer(n_quantiles=5).fit(negative)
    fitted_qt = fp.QuantileTransformer(n_quantiles=5).fit(x)
    with pytest.raises(fp.DataError, match="ignore_implicit_zeros=True"):
        fitted_qt.transform(negative)
    fitted = fp.StandardScaler(with_mean=False).fit(x)
    fitted.transform(x)
    for a, b in zip(before, (x.data, x.indices, x.indptr), strict=True):
        np.testing.assert_array_equal(a, b)


def test_unsorted_indices_are_read_without_changing_the_input():
    x = sparse.csr_matrix(np.array([[1.0, 0.0, 3.0], [0.0, 2.0, 4.0]]))
    x.indices = x.indices[[1, 0, 3, 2]].copy()
    x.data = x.data[[1, 0, 3, 2]].copy()
    x.has_sorted_indices = False
    given_ = (x.indices.copy(), x.data.copy())
    out = fp.Normalizer().transform(x)
    np.testing.assert_array_equal(out.toarray(), fp.Normalizer().transform(x.toarray()))
    np.testing.assert_array_equal(x.indices, given_[0])
    np.testing.assert_array_equal(x.data, given_[1])


@given(case=sparse_inputs(), index=st.sampled_from([np.int32, np.int64]), data=st.data())
def test_weighted_csr_column_stats_backends_bit_identical(case, index, data):
    _, csr = case
    rows = csr.shape[0]
    w = np.array(data.draw(st.lists(st.floats(0.0, 5.0), min_size=rows, max_size=rows)))
    assert_backends_agree(
        lambda *a: tuple(map(np.asarray, kernels().weighted_csr_column_stats(*a, w))),
        *_parts(csr, index),
    )


# -- order statistics, quantile maps and fills of sparse columns ------------------------------


@given(
    case=sparse_inputs(allow_infinity=False),
    index=st.sampled_from([np.int32, np.int64]),
    implicit_zeros=st.booleans(),
    method=st.sampled_from(["linear", "averaged_inverted_cdf"]),
)
def test_csr_order_statistics_backends_bit_identical(case, index, implicit_zeros, method):
    _, csr = case
    qs = [0.0, 0.1, 0.25, 0.5, 0.9, 1.0]
    assert_backends_agree(
        lambda *a: kernels().csr_column_quantiles_and_medians(*a, qs, method, implicit_zeros),
        *_parts(csr, index),
    )
    assert_backends_agree(lambda *a: kernels().csr_column_modes(*a), *_parts(csr, index))


@given(case=sparse_inputs(), method=st.sampled_from(["linear", "averaged_inverted_cdf"]))
def test_csr_order_statistics_are_the_dense_statistics(case, method, backend):
    """Implicit zeros counted: the statistics of the dense form, exactly (order statistics
    select values; only the sign of a zero may differ)."""
    x, csr = case
    qs = [0.0, 0.3, 0.5, 0.75, 1.0]
    q, medians = kernels().csr_column_quantiles_and_medians(
        *_parts(csr, np.int32), qs, method, True
    )
    dense = np.ascontiguousarray(x)
    want_q, want_medians = kernels().column_quantiles_and_medians(dense, qs, method)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(q, want_q)
        np.testing.assert_array_equal(medians, want_medians)
        np.testing.assert_array_equal(
            kernels().csr_column_modes(*_parts(csr, np.int32)), kernels().column_modes(dense)
        )


def _fitted_quantiles(data, cols: int, n: int = 7) -> np.ndarray:
    """Sorted quantiles per column drawn from ``data`` (n x cols)."""
    values = data.draw(
        st.lists(st.floats(-1e3, 1e3), min_size=n * cols, max_size=n * cols), label="quantiles"
    )
    return np.ascontiguousarray(np.sort(np.array(values).reshape(n, cols), axis=0))


@given(
    case=sparse_inputs(),
    index=st.sampled_from([np.int32, np.int64]),
    normal=st.booleans(),
    inverse=st.booleans(),
    data=st.data(),
)
def test_quantile_transform_csr_backends_bit_identical(case, index, normal, inverse, data):
    x, csr = case
    quantiles = _fitted_quantiles(data, csr.shape[1])
    references = np.linspace(0.0, 1.0, quantiles.shape[0])
    args = (quantiles, references, normal, inverse)
    out = assert_backends_agree(
        lambda *a: kernels().quantile_transform_csr(*a, *args), *_parts(csr, index)
    )
    # Each stored value maps as the dense kernel maps it.
    coo = csr.tocoo()
    dense = kernels().quantile_transform(np.ascontiguousarray(x), *args)
    stored = sparse.csr_matrix((out, csr.indices, csr.indptr), shape=csr.shape).tocoo()
    assert_bit_identical(stored.data, dense[coo.row, coo.col])


@given(case=sparse_inputs(), index=st.sampled_from([np.int32, np.int64]), data=st.data())
def test_fill_csr_backends_bit_identical(case, index, data):
    _, csr = case
    cols = csr.shape[1]
    fill = np.array(data.draw(st.lists(st.floats(-5.0, 5.0), min_size=cols, max_size=cols)))
    out = assert_backends_agree(lambda *a: kernels().fill_csr(*a, fill), *_parts(csr, index))
    assert not np.isnan(out).any()
    np.testing.assert_array_equal(out[~np.isnan(csr.data)], csr.data[~np.isnan(csr.data)])


def _adult_sparse(adult_numeric, rows: int = 4000, with_nan: bool = True):
    """Adult's numeric columns (mostly zero capital gain and loss), some values missing."""
    x = adult_numeric[:rows].copy()
    if with_nan:
        rng = np.random.default_rng(0)
        x[rng.random(x.shape) < 0.05] = np.nan
        x[:, 2] = np.nan  # a column without any value
    return x


@pytest.mark.parametrize("distribution", ["uniform", "normal"])
@pytest.mark.parametrize("ignore_implicit_zeros", [False, True])
def test_sparse_quantile_transformer_matches_scikit_learn(
    distribution, ignore_implicit_zeros, adult_numeric, backend
):
    x = _adult_sparse(adult_numeric, with_nan=False)
    x[np.random.default_rng(1).random(x.shape) < 0.05] = np.nan
    params = dict(
        n_quantiles=200,
        output_distribution=distribution,
        ignore_implicit_zeros=ignore_implicit_zeros,
    )
    for given_ in (sparse.csr_matrix(x), sparse.csc_matrix(x)):
        ours = fp.QuantileTransformer(**params).fit(given_)
        theirs = skp.QuantileTransformer(**params, subsample=None).fit(given_)
        np.testing.assert_array_equal(ours.quantiles_, theirs.quantiles_)
        out, expected = ours.transform(given_), theirs.transform(given_)
        assert out.format == given_.format and out.nnz == expected.nnz
        np.testing.assert_allclose(
            out.toarray(), expected.toarray(), rtol=1e-15, atol=1e-15, equal_nan=True
        )
    if not ignore_implicit_zeros:
        # Implicit zeros counted: the dense fit's quantiles.
        dense = fp.QuantileTransformer(**params).fit(x)
        np.testing.assert_array_equal(ours.quantiles_, dense.quantiles_)


@pytest.mark.parametrize("strategy", ["mean", "median", "most_frequent", "constant"])
@pytest.mark.parametrize("add_indicator", [False, True])
@pytest.mark.parametrize("keep_empty_features", [False, True])
def test_sparse_simple_imputer_matches_scikit_learn(
    strategy, add_indicator, keep_empty_features, adult_numeric, backend
):
    x = _adult_sparse(adult_numeric)
    params = dict(
        strategy=strategy, add_indicator=add_indicator, keep_empty_features=keep_empty_features
    )
    import warnings

    for given_ in (sparse.csr_matrix(x), sparse.csc_matrix(x), sparse.csr_array(x)):
        with warnings.catch_warnings():  # both warn of the column without a value
            warnings.simplefilter("ignore", UserWarning)
            ours = fp.SimpleImputer(**params).fit(given_)
            theirs = sklearn_impute().SimpleImputer(**params).fit(given_)
            out, expected = ours.transform(given_), theirs.transform(given_)
        np.testing.assert_allclose(ours.statistics_, theirs.statistics_, rtol=1e-13, equal_nan=True)
        assert type(out) is type(given_) and out.format == given_.format
        assert out.shape == expected.shape
        np.testing.assert_allclose(out.toarray(), expected.toarray(), rtol=1e-13)
        np.testing.assert_array_equal(ours.get_feature_names_out(), theirs.get_feature_names_out())
    # Implicit zeros counted: the dense fit's statistics.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        dense = fp.SimpleImputer(**params).fit(x)
    np.testing.assert_allclose(ours.statistics_, dense.statistics_, rtol=1e-13, equal_nan=True)


def sklearn_impute():
    return pytest.importorskip("sklearn.impute")


def test_sparse_order_statistic_fits_merge_with_dense_ones(adult_numeric, backend):
    x = _adult_sparse(adult_numeric, with_nan=False)
    extra = x[:1500] + 1.0  # enough other rows to move every statistic
    for make in (
        lambda: fp.RobustScaler(with_centering=False),
        lambda: fp.SimpleImputer(strategy="median"),
        lambda: fp.QuantileTransformer(n_quantiles=50),
    ):
        whole = make().fit(x)
        parts = make().partial_fit(sparse.csr_matrix(x[:1000])).partial_fit(x[1000:])
        parts.merge(make().fit(sparse.csc_matrix(extra)))
        once_more = make().fit(np.vstack([x, extra]))
        assert parts.fingerprint == once_more.fingerprint
        assert whole.fingerprint != once_more.fingerprint
