"""SimpleImputer: kernel vs reference, statistics vs scikit-learn, indicator, empty columns."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

import fastprep as fp
from fastprep.exceptions import DataError, ParameterError, SchemaError
from fastprep.testing import assert_backends_agree
from fastprep.testing.strategies import fit_and_transform_matrices, float_matrices

from .helpers import (
    PARAM_GRID,
    Optional,
    assert_state_close,
    case_id,
    compare_with_sklearn,
    fitted_state,
    magnitude,
)

sklearn_impute = Optional("sklearn.impute")

CASES = [(fp.SimpleImputer, p) for p in PARAM_GRID[fp.SimpleImputer]]


@pytest.mark.parametrize("case", CASES, ids=case_id)
@given(inputs=fit_and_transform_matrices())
def test_transform_bit_identical_across_backends(case, inputs):
    _, params = case
    train, live = inputs
    imputer = fp.SimpleImputer(**params).fit(train)
    out = assert_backends_agree(imputer.transform, live)
    assert out.dtype == live.dtype
    assert out.shape == (live.shape[0], len(imputer.get_feature_names_out()))
    if params.get("add_indicator"):
        back = assert_backends_agree(imputer.inverse_transform, out)
        # Only columns that had NaN at fit carry an indicator, as in scikit-learn.
        for j in np.intersect1d(imputer.indicator_features_, imputer._kept_columns):
            np.testing.assert_array_equal(np.isnan(back[:, j]), np.isnan(live[:, j]))


@pytest.mark.parametrize("case", CASES, ids=case_id)
@given(train=float_matrices(min_rows=1, allow_infinity=False))
def test_statistics_agree_across_backends(case, train):
    _, params = case
    states = []
    for backend in fp.testing.available_backends():
        with fp.use_backend(backend):
            states.append(fitted_state(fp.SimpleImputer(**params).fit(train)))
    for other in states[1:]:
        assert_state_close(states[0], other, scale=magnitude(train.astype(np.float64)))


def _compare_with_sklearn(params, x):
    # scikit-learn's inverse guesses dropped columns from all-missing indicators, which breaks
    # with keep_empty_features=True and an empty column; fastprep knows which columns it kept.
    exact = params.get("add_indicator") and not params.get("keep_empty_features")
    compare_with_sklearn(
        fp.SimpleImputer(**params),
        sklearn_impute.SimpleImputer(**params),
        x,
        state=("statistics_",),
        atol=1e-12 * magnitude(x),
        inverse=(0.0, 0.0) if exact else None,
    )


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matches_sklearn_on_adult(case, adult_numeric, backend):
    x = adult_numeric.copy()
    rng = np.random.default_rng(3)
    x[rng.random(x.shape) < 0.1] = np.nan  # Adult's numeric columns have no missing values
    x[:, 4] = np.nan  # and one column with none at all
    _compare_with_sklearn(case[1], x)


@pytest.mark.parametrize("case", CASES, ids=case_id)
@given(x=float_matrices(min_rows=1, allow_infinity=False, dtypes=(np.float64,), layouts=False))
def test_matches_sklearn_on_random_data(case, x, backend):
    _compare_with_sklearn(case[1], x)


def test_median_and_most_frequent_merge_exactly(backend):
    rng = np.random.default_rng(5)
    x = rng.integers(0, 7, size=(999, 3)).astype(np.float64)
    x[rng.random(x.shape) < 0.2] = np.nan
    for strategy in ("median", "most_frequent", "mean"):
        parts = [fp.SimpleImputer(strategy=strategy).partial_fit(p) for p in np.array_split(x, 4)]
        merged = parts[3].merge(parts[1]).merge(parts[0]).merge(parts[2])
        whole = fp.SimpleImputer(strategy=strategy).fit(x)
        np.testing.assert_allclose(merged.statistics_, whole.statistics_, rtol=1e-12)


def test_all_missing_column_is_dropped_with_a_warning_or_kept_as_zero(backend):
    x = np.array([[1.0, np.nan], [3.0, np.nan]])
    with pytest.warns(UserWarning, match="column 1"):
        assert fp.SimpleImputer().fit_transform(x).shape == (2, 1)
    kept = fp.SimpleImputer(keep_empty_features=True).fit_transform(x)
    np.testing.assert_array_equal(kept, [[1.0, 0.0], [3.0, 0.0]])


# -- string columns ---------------------------------------------------------------------------


def _strings_table():
    import pyarrow as pa

    return pa.table(
        {
            "city": ["Oslo", None, "Lima", "Oslo", None, "Lima", "Lima"],
            "size": ["S", "M", None, "M", "S", "S", None],
        }
    )


@pytest.mark.parametrize("strategy", ["most_frequent", "constant"])
def test_string_columns_equal_sklearn(strategy, backend):
    import polars as pl
    from sklearn.impute import SimpleImputer as SkImputer

    table = _strings_table()
    ours = fp.SimpleImputer(strategy=strategy).fit(table)
    theirs = SkImputer(strategy=strategy, missing_values=None).fit(pl.from_arrow(table))
    got = ours.transform(table)
    assert got.dtype == object
    assert got.tolist() == theirs.transform(pl.from_arrow(table)).tolist()
    assert list(ours.statistics_) == list(theirs.statistics_)
    assert list(ours.get_feature_names_out()) == ["city", "size"]
    custom = fp.SimpleImputer(strategy="constant", fill_value="?").fit(table)
    assert custom.transform({"city": [None], "size": ["L"]}).tolist() == [["?", "L"]]


def test_string_imputer_partial_fit_and_merge_equal_one_fit(backend):
    table = _strings_table()
    whole = fp.SimpleImputer(strategy="most_frequent").fit(table)
    streamed = fp.SimpleImputer(strategy="most_frequent")
    for batch in table.to_batches(max_chunksize=2):
        streamed.partial_fit(batch)
    merged = fp.SimpleImputer(strategy="most_frequent").fit(table.slice(0, 3))
    merged.merge(fp.SimpleImputer(strategy="most_frequent").fit(table.slice(3)))
    for fit in (streamed, merged):
        assert list(fit.statistics_) == list(whole.statistics_)


def test_string_imputer_refuses_what_it_cannot_do(backend):
    table = _strings_table()
    with pytest.raises(ParameterError, match="needs numbers"):
        fp.SimpleImputer(strategy="median").fit(table)
    with pytest.raises(ParameterError, match="add_indicator"):
        fp.SimpleImputer(strategy="most_frequent", add_indicator=True).fit(table)
    with pytest.raises(ParameterError, match="must be a string"):
        fp.SimpleImputer(strategy="constant", fill_value=0).fit(table)
    with pytest.raises(SchemaError, match="holds numbers"):
        fp.SimpleImputer(strategy="most_frequent").fit({"a": ["x", "y"], "n": [1, 2]})
    with pytest.raises(DataError, match="no value"):
        fp.SimpleImputer(strategy="most_frequent").fit({"a": [None, None], "b": ["x", "y"]})
    with pytest.raises(ParameterError, match="is a string"):
        fp.SimpleImputer(strategy="constant", fill_value="x").fit(np.array([[1.0], [np.nan]]))
    fitted = fp.SimpleImputer(strategy="most_frequent").fit(table)
    with pytest.raises(SchemaError, match="yet now missing:\n- size\n"):
        fitted.transform({"city": ["Oslo"]})
