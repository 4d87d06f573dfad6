"""Bad input, for every transform: the documented fastprep error, a message that names the
column and the problem, the input left unchanged, a fitted object left usable."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fastprep as fp

from .helpers import ALL_CASES, DEFAULT_CASES, PARAM_GRID, case_id

TRAIN = np.array([[1.0, -2.0, 3.0], [4.0, 5.0, np.nan], [0.5, 8.0, 9.0], [2.0, 1.0, 1.0]])

# Parameter values each transform must refuse, with a word the message must contain.
INVALID_PARAMS = [
    (fp.StandardScaler, {"with_mean": "yes"}, "with_mean"),
    (fp.StandardScaler, {"with_std": None}, "with_std"),
    (fp.MinMaxScaler, {"feature_range": (1, 0)}, "feature_range"),
    (fp.MinMaxScaler, {"feature_range": (0, np.inf)}, "feature_range"),
    (fp.MinMaxScaler, {"feature_range": 3}, "feature_range"),
    (fp.MinMaxScaler, {"clip": 1}, "clip"),
    (fp.RobustScaler, {"quantile_range": (80, 20)}, "quantile_range"),
    (fp.RobustScaler, {"quantile_range": (-1, 50)}, "quantile_range"),
    (fp.RobustScaler, {"unit_variance": "no"}, "unit_variance"),
    (fp.KBinsDiscretizer, {"n_bins": 1}, "n_bins"),
    (fp.KBinsDiscretizer, {"n_bins": [2, 3]}, "n_bins"),
    (fp.KBinsDiscretizer, {"n_bins": 2.5}, "n_bins"),
    (fp.KBinsDiscretizer, {"encode": "sparse"}, "encode"),
    (fp.QuantileTransformer, {"ignore_implicit_zeros": 1}, "ignore_implicit_zeros"),
    (fp.KBinsDiscretizer, {"strategy": "kmeans"}, "strategy"),
    (fp.KBinsDiscretizer, {"quantile_method": "hazen"}, "quantile_method"),
    (fp.Normalizer, {"norm": "l3"}, "norm"),
    (fp.PowerTransformer, {"method": "log"}, "method"),
    (fp.PowerTransformer, {"standardize": 1}, "standardize"),
    (fp.QuantileTransformer, {"n_quantiles": 0}, "n_quantiles"),
    (fp.QuantileTransformer, {"output_distribution": "cauchy"}, "output_distribution"),
    (fp.QuantileTransformer, {"subsample": -1}, "subsample"),
    (fp.Binarizer, {"threshold": "high"}, "threshold"),
    (fp.SimpleImputer, {"strategy": "mode"}, "strategy"),
    (fp.SimpleImputer, {"strategy": "constant", "fill_value": "x"}, "fill_value"),
    (fp.SimpleImputer, {"add_indicator": "yes"}, "add_indicator"),
]


def _fitted(cls, params):
    return cls(**params).fit(TRAIN)


@pytest.mark.parametrize("case", DEFAULT_CASES, ids=case_id)
def test_transform_before_fit(case, backend):
    cls, params = case
    if cls._stateless:  # as scikit-learn's Normalizer and Binarizer: no fit needed
        expected = cls(**params).fit(TRAIN).transform(TRAIN)
        np.testing.assert_array_equal(cls(**params).transform(TRAIN), expected)
        return
    with pytest.raises(fp.NotFittedError, match="not fitted"):
        cls(**params).transform(TRAIN)
    # Same bases as scikit-learn's NotFittedError.
    assert issubclass(fp.NotFittedError, ValueError) and issubclass(
        fp.NotFittedError, AttributeError
    )


@pytest.mark.parametrize("case", ALL_CASES, ids=case_id)
def test_wrong_number_of_columns_at_transform(case, backend):
    transform = _fitted(*case)
    expected = transform.transform(TRAIN)
    wrong = np.ones((2, 4))
    with pytest.raises(
        fp.SchemaError, match=r"X has 4 features, but \w+ is expecting 3 features as input"
    ):
        transform.transform(wrong)
    np.testing.assert_array_equal(wrong, np.ones((2, 4)))
    np.testing.assert_array_equal(transform.transform(TRAIN), expected)  # still usable


@pytest.mark.parametrize("case", DEFAULT_CASES, ids=case_id)
@pytest.mark.parametrize("shape", [(0, 3), (0, 0)])
def test_fit_on_zero_rows(case, shape, backend):
    cls, params = case
    with pytest.raises(fp.DataError, match="0 rows"):
        cls(**params).fit(np.empty(shape))


@pytest.mark.parametrize("case", DEFAULT_CASES, ids=case_id)
@pytest.mark.parametrize("bad", [np.arange(3.0), np.zeros((2, 2, 2)), np.float64(1.0)])
def test_wrong_dimensions(case, bad, backend):
    cls, params = case
    with pytest.raises(fp.SchemaError, match="expected a 2-D array"):
        cls(**params).fit(bad)
    with pytest.raises(fp.SchemaError, match="expected a 2-D array"):
        _fitted(cls, params).transform(bad)


@pytest.mark.parametrize("case", DEFAULT_CASES, ids=case_id)
def test_non_numeric_strings_name_the_column(case, backend):
    cls, params = case
    bad = np.array([[1.0, 2.0, "abc"], [3.0, 4.0, 5.0]], dtype=object)
    with pytest.raises(fp.SchemaError, match=r"column 2.*'abc'"):
        cls(**params).fit(bad)
    transform = _fitted(cls, params)
    with pytest.raises(fp.SchemaError, match="column 2"):
        transform.transform(bad)
    with pytest.raises(fp.SchemaError, match="strings"):
        transform.transform(np.array([["a", "b", "c"]]))
    with pytest.raises(fp.SchemaError, match=r"rectangular|2-D"):
        transform.transform([[1.0, 2.0, 3.0], [1.0]])


@pytest.mark.parametrize("case", DEFAULT_CASES, ids=case_id)
def test_infinity_at_fit_names_the_column(case, backend):
    cls, params = case
    bad = TRAIN.copy()
    bad[2, 1] = -np.inf
    snapshot = bad.copy()
    with pytest.raises(fp.DataError, match="column 1 contains infinity"):
        cls(**params).fit(bad)
    np.testing.assert_array_equal(bad, snapshot)


@pytest.mark.parametrize("case", DEFAULT_CASES, ids=case_id)
def test_failed_partial_fit_leaves_the_fit_untouched(case, backend):
    transform = _fitted(*case)
    before = transform.transform(TRAIN)
    state = {k: v for k, v in vars(transform).items() if k.endswith("_")}
    bad = TRAIN.copy()
    bad[0, 0] = np.inf
    with pytest.raises(fp.DataError):
        transform.partial_fit(bad)
    with pytest.raises(fp.SchemaError):
        transform.partial_fit(np.ones((2, 5)))
    after = {k: v for k, v in vars(transform).items() if k.endswith("_")}
    assert after.keys() == state.keys()
    for k in state:
        assert after[k] is state[k], k
    np.testing.assert_array_equal(transform.transform(TRAIN), before)


@pytest.mark.parametrize(("cls", "params", "word"), INVALID_PARAMS)
def test_invalid_parameters(cls, params, word):
    with pytest.raises(fp.ParameterError, match=word):
        cls(**params).fit(TRAIN)


@pytest.mark.parametrize("cls", PARAM_GRID)
def test_unknown_parameter_name(cls):
    with pytest.raises(fp.ParameterError, match="no parameter"):
        cls().set_params(colour="blue")


def test_merge_refuses_mismatches(backend):
    a = fp.StandardScaler().fit(TRAIN)
    with pytest.raises(fp.ParameterError, match="different parameters"):
        a.merge(fp.StandardScaler(with_mean=False).fit(TRAIN))
    with pytest.raises(fp.ParameterError, match="cannot merge"):
        a.merge(fp.MinMaxScaler().fit(TRAIN))
    with pytest.raises(fp.SchemaError, match="cannot merge"):
        a.merge(fp.StandardScaler().fit(TRAIN[:, :2]))
    with pytest.raises(fp.NotFittedError):
        a.merge(fp.StandardScaler())


def test_inverse_of_imputer_needs_indicator(backend):
    with pytest.raises(fp.ParameterError, match="add_indicator"):
        fp.SimpleImputer().fit(TRAIN).inverse_transform(TRAIN)


@pytest.mark.parametrize("case", DEFAULT_CASES, ids=case_id)
@given(
    x=hnp.arrays(
        dtype=st.sampled_from(["f8", "f4", "i8", "u1", "?", "c16", "U3", "O", "m8[s]"]),
        shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
    )
)
def test_any_array_gives_a_result_or_a_fastprep_error(case, x, backend):
    """No crash, no PanicException, no foreign exception: whatever the array."""
    cls, params = case
    for call in (lambda: cls(**params).fit(x), lambda: _fitted(cls, params).transform(x)):
        try:
            call()
        except fp.FastprepError:
            pass


SURROGATE = "\ud800"  # a lone surrogate: a Python str with no UTF-8 form


@pytest.mark.parametrize(
    "x",
    [
        np.array([[SURROGATE]], dtype="<U3"),
        np.array([[SURROGATE], ["a"]], dtype=object),
        np.array([[SURROGATE]] * 100, dtype=object),  # past the short-column path
    ],
    ids=["unicode", "object-short", "object-long"],
)
@pytest.mark.parametrize(
    "make",
    [
        lambda: fp.OneHotEncoder(),
        lambda: fp.OrdinalEncoder(),
        lambda: fp.CountEncoder(),
    ],
    ids=["onehot", "ordinal", "count"],
)
def test_strings_without_utf8_form_are_a_data_error(make, x, backend):
    with pytest.raises(fp.exceptions.DataError, match="not valid Unicode"):
        make().fit(x)
    fitted = make().fit(np.array([["a"]], dtype=object))
    with pytest.raises(fp.exceptions.DataError, match="not valid Unicode"):
        fitted.transform(x)


def test_imputer_on_strings_without_utf8_form_raises_a_fastprep_error(backend):
    # The case hypothesis found: the imputer reads string columns through pyarrow, which raised
    # its own UnicodeDecodeError.
    with pytest.raises(fp.exceptions.FastprepError):
        fp.SimpleImputer().fit(np.array([[SURROGATE]], dtype="<U3"))


def test_feature_names_without_utf8_form_are_a_data_error(backend):
    hasher = fp.FeatureHasher(8, input_type="string")
    with pytest.raises(fp.exceptions.DataError, match="not valid Unicode"):
        hasher.transform([[SURROGATE]])
    with pytest.raises(fp.exceptions.DataError, match="not valid Unicode"):
        hasher.transform(np.array([[SURROGATE]], dtype=object))
