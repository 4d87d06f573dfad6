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


@given(case=sparse_inputs(allow_infinity=False))
def test_csr_column_stats_are_the_dense_statistics(case, backend):
    x, csr = case
    got = kernels().csr_column_stats(*_parts(csr, np.int32))
    want = kernels().column_stats(np.ascontiguousarray(x))
    for g, w in zip(got, want, strict=True):  # the same values, summed in another order
        g, w = np.asarray(g, dtype=np.float64), np.asarray(w, dtype=np.float64)
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-300, equal_nan=True)


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
    for obj in (fp.RobustScaler(), fp.MinMaxScaler(), fp.QuantileTransformer(n_quantiles=5)):
        with pytest.raises(fp.SchemaError, match="sparse input is not supported"):
            obj.fit(x)
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
