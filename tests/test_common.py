"""Invariants every transform keeps (in the spirit of scikit-learn's test_common)."""

from __future__ import annotations

import numpy as np
import pytest

import fastprep as fp
from fastprep.testing import assert_bit_identical

from .helpers import ALL_CASES, DEFAULT_CASES, case_id

X = np.array([[1.0, -2.0, 3.0], [4.0, 5.0, np.nan], [0.5, 8.0, 9.0], [2.0, 1.0, 1.0]])


@pytest.mark.parametrize("case", ALL_CASES, ids=case_id)
def test_params_round_trip_and_repr(case):
    cls, params = case
    transform = cls(**params)
    got = transform.get_params()
    for k, v in params.items():
        assert got[k] == v
    clone = cls(**got)
    assert clone.get_params() == got
    assert repr(transform).startswith(cls.__name__ + "(")
    assert transform.set_params(**got) is transform


@pytest.mark.parametrize("case", ALL_CASES, ids=case_id)
def test_fit_returns_self_and_sets_n_features_in(case, backend):
    cls, params = case
    transform = cls(**params)
    assert transform.fit(X) is transform
    assert transform.n_features_in_ == 3
    assert transform.partial_fit(X) is transform


@pytest.mark.parametrize("case", ALL_CASES, ids=case_id)
def test_dtypes(case, backend):
    transform = case[0](**case[1]).fit(X)
    assert transform.transform(X.astype(np.float32)).dtype == np.float32
    assert transform.transform(X).dtype == np.float64
    ints = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int32)
    assert transform.transform(ints).dtype == np.float64


@pytest.mark.parametrize("case", ALL_CASES, ids=case_id)
def test_every_input_layout_gives_the_same_result(case, backend):
    transform = case[0](**case[1]).fit(X)
    expected = transform.transform(X)
    readonly = X.copy()
    readonly.setflags(write=False)
    wide = np.zeros((4, 6))
    wide[:, ::2] = X
    for variant in (
        np.asfortranarray(X),
        wide[:, ::2],
        readonly,
        X.tolist(),
        X.astype(object),
        np.repeat(X, 2, axis=0)[::2],
    ):
        assert_bit_identical(transform.transform(variant), expected)


@pytest.mark.parametrize("case", ALL_CASES, ids=case_id)
def test_input_is_never_modified(case, backend):
    x = X.copy()
    transform = case[0](**case[1]).fit(x)
    out = transform.transform(x)
    np.testing.assert_array_equal(x, X)
    assert not np.shares_memory(out, x)
    if hasattr(transform, "inverse_transform") and (
        not isinstance(transform, fp.SimpleImputer) or transform.add_indicator
    ):
        snapshot = out.copy()
        transform.inverse_transform(out)
        np.testing.assert_array_equal(out, snapshot)


@pytest.mark.parametrize("case", ALL_CASES, ids=case_id)
def test_feature_names(case, backend):
    transform = case[0](**case[1]).fit(X)
    names = transform.get_feature_names_out()
    assert names.dtype == object
    assert len(names) == transform.transform(X).shape[1]
    custom = transform.get_feature_names_out(["a", "b", "c"])
    assert all(isinstance(n, str) for n in custom)
    with pytest.raises(fp.SchemaError):
        transform.get_feature_names_out(["a"])


@pytest.mark.parametrize("case", DEFAULT_CASES, ids=case_id)
def test_one_row_and_empty_transform(case, backend):
    transform = case[0](**case[1]).fit(X)
    assert transform.transform(X[:1]).shape[0] == 1
    empty = transform.transform(np.empty((0, 3)))
    assert empty.shape == (0, len(transform.get_feature_names_out()))


@pytest.mark.parametrize("case", DEFAULT_CASES, ids=case_id)
def test_refit_discards_the_previous_fit(case, backend):
    cls, params = case
    transform = cls(**params).fit(X[:, :2])
    transform.fit(X)
    assert transform.n_features_in_ == 3
    assert_bit_identical(transform.transform(X), cls(**params).fit(X).transform(X))


# -- pickle, copy.deepcopy and scikit-learn's fitted check ----------------------------------------


@pytest.mark.parametrize("case", ALL_CASES, ids=case_id)
def test_pickle_and_deepcopy_round_trip_through_the_state(case, backend):
    """A fitted transform pickles as its artifact: the same outputs, bit for bit, and the
    same fingerprint; an unfitted one pickles its parameters."""
    import copy
    import pickle

    cls, params = case
    x = np.array([[1.0, 2.0], [3.0, np.nan], [5.0, 7.0], [2.0, 2.0]])
    fitted = cls(**params).fit(x)
    for back in (pickle.loads(pickle.dumps(fitted)), copy.deepcopy(fitted)):
        assert type(back) is cls and back.fingerprint == fitted.fingerprint
        np.testing.assert_array_equal(back.transform(x), fitted.transform(x))
    unfitted = pickle.loads(pickle.dumps(cls(**params)))
    assert not unfitted.is_fitted and repr(unfitted) == repr(cls(**params))


@pytest.mark.parametrize("case", DEFAULT_CASES, ids=case_id)
def test_check_is_fitted_works(case):
    validation = pytest.importorskip("sklearn.utils.validation")
    cls, params = case
    x = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    validation.check_is_fitted(cls(**params).fit(x))
    if not cls._stateless:
        with pytest.raises(validation.NotFittedError):
            validation.check_is_fitted(cls(**params))
