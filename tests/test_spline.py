"""SplineTransformer: kernel vs reference (bit-identical), scikit-learn oracle within 1e-10
relative (inside and beyond the fitted range, every extrapolation), the plan, artifacts,
conversion, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastprep as fp
from fastprep.datasets import load_adult
from fastprep.testing import assert_backends_agree
from fastprep.testing.strategies import float_matrices

from .helpers import Optional

sklearn_preprocessing = Optional("sklearn.preprocessing")

EXTRAPOLATIONS = ["constant", "linear", "continue", "periodic", "error"]


def _params(data) -> dict:
    extrapolation = data.draw(st.sampled_from(EXTRAPOLATIONS))
    degree = data.draw(st.integers(0, 4))
    n_knots = data.draw(st.integers(max(2, degree + 1 if extrapolation == "periodic" else 2), 7))
    return dict(
        n_knots=n_knots,
        degree=degree,
        knots=data.draw(st.sampled_from(["uniform", "quantile"])),
        extrapolation=extrapolation,
        include_bias=data.draw(st.booleans()),
        handle_missing=data.draw(st.sampled_from(["error", "zeros"])),
    )


def _moderate(x: np.ndarray) -> np.ndarray:
    return np.clip(np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0), -1e6, 1e6)


@given(
    train=float_matrices(min_rows=2, allow_infinity=False, layouts=False),
    x=float_matrices(allow_infinity=False),
    data=st.data(),
)
def test_backends_bit_identical(train, x, data):
    """The Rust kernel and the NumPy reference on the same fitted knots: NaN, empty and
    one-row input, float32 and float64, values inside and beyond the knots."""
    params = {**_params(data), "extrapolation": data.draw(st.sampled_from(EXTRAPOLATIONS[:4]))}
    train = _moderate(train)
    if params["extrapolation"] == "periodic" and params["n_knots"] <= params["degree"]:
        params["n_knots"] = params["degree"] + 1
    width = min(train.shape[1], x.shape[1])
    fitted = fp.SplineTransformer(**params).fit(train[:, :width])
    x = np.ascontiguousarray(np.clip(x[:, :width], -1e6, 1e6))
    out = assert_backends_agree(fitted.transform, x)
    assert out.dtype == x.dtype and out.shape == (x.shape[0], fitted.n_features_out_)


@given(
    train=float_matrices(
        min_rows=2, max_rows=30, dtypes=(np.float64,), allow_nan=False, allow_infinity=False,
        layouts=False,
    ),
    data=st.data(),
)  # fmt: skip
def test_matches_sklearn(train, data, backend):
    """Within 1e-10 relative of scikit-learn, on the training rows and on rows up to twice
    the range beyond each side."""
    params = _params(data)
    if params["extrapolation"] == "error":
        params["extrapolation"] = "constant"
    train = np.clip(train, -1e6, 1e6)
    spread = np.ptp(train, axis=0)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    beyond = train.min(axis=0) + (rng.uniform(-2, 3, size=(12, train.shape[1])) * spread)
    ours = fp.SplineTransformer(**params).fit(train)
    # scikit-learn's linear extrapolation of degree <= 1 raises its degree for every column
    # after the first (a loop variable it increments): compare those one column at a time.
    leaks = params["degree"] <= 1 and params["extrapolation"] == "linear"
    columns = [[j] for j in range(train.shape[1])] if leaks else [list(range(train.shape[1]))]
    per = ours.n_features_out_ // train.shape[1]
    for cols in columns:
        theirs = sklearn_preprocessing.SplineTransformer(**params).fit(train[:, cols])
        for j, spline in zip(cols, theirs.bsplines_, strict=True):
            if leaks:  # np.linspace of one column may round a knot one ULP from many columns'
                np.testing.assert_allclose(ours.knots_[j], spline.t, rtol=1e-15, atol=1e-300)
            else:
                np.testing.assert_array_equal(ours.knots_[j], spline.t)  # the same, exactly
        # scikit-learn's constant extrapolation of degree 0 fails beyond the range (f_max[-0:]).
        broken = params["degree"] == 0 and params["extrapolation"] == "constant"
        out = [c for j in cols for c in range(j * per, (j + 1) * per)]
        for x in (train,) if broken else (train, beyond):
            expected = theirs.transform(x[:, cols])
            scale = np.abs(expected).max(initial=1.0)
            np.testing.assert_allclose(
                ours.transform(x)[:, out], expected, rtol=1e-10, atol=1e-12 * scale
            )
    if not leaks:
        assert ours.get_feature_names_out().tolist() == theirs.get_feature_names_out().tolist()


@pytest.mark.parametrize(
    ("extrapolation", "knots", "degree"),
    list(itertools.product(EXTRAPOLATIONS[:4], ["uniform", "quantile"], [1, 3])),
)
def test_matches_sklearn_on_adult(extrapolation, knots, degree, adult_numeric, backend):
    x = adult_numeric[:3000]
    params = dict(n_knots=6, degree=degree, knots=knots, extrapolation=extrapolation)
    ours = fp.SplineTransformer(**params).fit(x[:2000])
    out, out32 = ours.transform(x), ours.transform(x.astype(np.float32))
    per = out.shape[1] // x.shape[1]
    for j in range(x.shape[1]):  # one column at a time: see test_matches_sklearn
        theirs = sklearn_preprocessing.SplineTransformer(**params).fit(x[:2000, [j]])
        block = slice(j * per, (j + 1) * per)
        np.testing.assert_allclose(out[:, block], theirs.transform(x[:, [j]]), rtol=1e-10,
                                   atol=1e-12)  # fmt: skip
        f32 = x[:, [j]].astype(np.float32)
        np.testing.assert_allclose(out32[:, block], theirs.transform(f32), rtol=1e-5, atol=1e-6)


def test_knots_as_an_array_and_missing_values(backend):
    x = np.array([[0.0, 10.0], [1.0, np.nan], [2.0, 30.0], [np.nan, 20.0]])
    knots = np.array([[0.0, 10.0], [1.0, 20.0], [2.0, 30.0]])
    zeros = fp.SplineTransformer(knots=knots, degree=2, handle_missing="zeros").fit(x)
    theirs = sklearn_preprocessing.SplineTransformer(
        knots=knots, degree=2, handle_missing="zeros"
    ).fit(x)
    np.testing.assert_allclose(zeros.transform(x), theirs.transform(x), rtol=1e-12, atol=1e-15)
    kept = fp.SplineTransformer(knots=knots, degree=2).fit(x).transform(x)
    per = kept.shape[1] // 2
    assert np.isnan(kept[1, per:]).all() and not np.isnan(kept[1, :per]).any()


def test_extrapolation_error_names_the_column_and_row(backend):
    x = np.array([[0.0, 5.0], [1.0, 6.0], [2.0, 7.0]])
    fitted = fp.SplineTransformer(extrapolation="error").fit(x)
    fitted.transform(x)  # the bounds themselves are inside
    with pytest.raises(fp.DataError, match=r"column 1.*row 1 holds 9\.0, beyond the limits"):
        fitted.transform(np.array([[1.0, 6.0], [1.0, 9.0]]))
    pipe = fp.Pipeline([("s", fp.SplineTransformer(extrapolation="error"))]).fit(x)
    with pytest.raises(fp.DataError, match="beyond the limits"):
        pipe.transform(np.array([[1.0, 9.0]]))


@pytest.mark.parametrize(
    ("params", "word"),
    [
        (dict(n_knots=1), "n_knots"),
        (dict(degree=-1), "degree"),
        (dict(knots="random"), "knots"),
        (dict(extrapolation="mirror"), "extrapolation"),
        (dict(handle_missing="drop"), "handle_missing"),
        (dict(sparse_output=True), "dense"),
        (dict(order="K"), "order"),
        (dict(n_knots=3, degree=3, extrapolation="periodic"), "degree < n_knots"),
        (dict(knots=np.array([[1.0, 0.0], [0.0, 1.0]])), "sorted"),
        (dict(knots=np.array([[0.0], [1.0]])), "columns"),
    ],
)
def test_bad_parameters(params, word):
    with pytest.raises(fp.FastprepError, match=word):
        fp.SplineTransformer(**params).fit(np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 4.0]]))


def test_a_column_without_values():
    x = np.array([[0.0, np.nan], [1.0, np.nan]])
    with pytest.raises(fp.DataError, match="column 1 has no values"):
        fp.SplineTransformer(knots="quantile").fit(x)
    params = dict(handle_missing="zeros")
    ours = fp.SplineTransformer(**params).fit(x)  # uniform: [0, 0], as scikit-learn's
    theirs = sklearn_preprocessing.SplineTransformer(**params).fit(x)
    np.testing.assert_array_equal(ours.knots_[1], theirs.bsplines_[1].t)
    np.testing.assert_array_equal(ours.transform(x), theirs.transform(x))


def test_merge_equals_one_fit(backend):
    x = load_adult()["age"].reshape(-1, 1)
    for knots in ("uniform", "quantile"):
        whole = fp.SplineTransformer(knots=knots).fit(x)
        parts = fp.SplineTransformer(knots=knots).fit(x[:1000])
        parts.merge(fp.SplineTransformer(knots=knots).fit(x[1000:]))
        np.testing.assert_array_equal(parts.knots_, whole.knots_)


def test_plan_artifact_one_record_and_conversion(tmp_path, rust):
    adult = {k: v[:3000] for k, v in load_adult().items()}
    ct = fp.ColumnTransformer(
        [
            (
                "age",
                fp.Pipeline(
                    [
                        ("impute", fp.SimpleImputer()),
                        ("spline", fp.SplineTransformer(n_knots=4, extrapolation="linear")),
                    ]
                ),
                ["age", "hours_per_week"],
            ),
            ("cyc", fp.SplineTransformer(extrapolation="periodic"), ["education_num"]),
            ("cat", fp.OneHotEncoder(handle_unknown="ignore"), ["workclass"]),
        ]
    ).fit(adult)
    assert ct._plan_spec() is not None
    batch = ct.transform(adult)
    record = {k: v[11] for k, v in adult.items()}
    record["age"] = 120.0  # beyond the fitted range: linear extrapolation
    row = ct.transform_one(record)
    step_by_step = ct.transform({k: v[11:12] if k != "age" else np.array([120.0])
                                 for k, v in adult.items()})  # fmt: skip
    np.testing.assert_array_equal(row, step_by_step[0])
    path = tmp_path / "spline.fastprep"
    ct.save(path)
    loaded = fp.load(path)
    assert loaded.fingerprint == ct.fingerprint
    np.testing.assert_array_equal(loaded.transform(adult), batch)
    assert "age" in fp.inspect(path)["profile"]["columns"]
    # From scikit-learn: its fitted knots, its numbers.
    x = np.column_stack([adult["age"], adult["hours_per_week"]])
    theirs = sklearn_preprocessing.SplineTransformer(n_knots=4, extrapolation="linear").fit(x)
    converted = fp.from_sklearn(theirs)
    np.testing.assert_allclose(converted.transform(x), theirs.transform(x), rtol=1e-10)


@pytest.mark.parametrize("knots", ["uniform", "quantile"])
def test_sample_weight_as_sklearns(knots, adult_numeric, backend):
    x = adult_numeric[:3000]
    w = np.random.default_rng(1).choice([0.0, 0.5, 1.0, 3.0], size=len(x))
    ours = fp.SplineTransformer(knots=knots).fit(x, sample_weight=w)
    theirs = sklearn_preprocessing.SplineTransformer(knots=knots).fit(x, sample_weight=w)
    for t_ours, spline in zip(ours.knots_, theirs.bsplines_, strict=True):
        np.testing.assert_array_equal(t_ours, spline.t)
    np.testing.assert_allclose(ours.transform(x), theirs.transform(x), rtol=1e-10, atol=1e-12)
    # Merged weighted parts fit as the whole.
    parts = fp.SplineTransformer(knots=knots).fit(x[:1000], sample_weight=w[:1000])
    parts.partial_fit(x[1000:], sample_weight=w[1000:])
    np.testing.assert_array_equal(parts.knots_, ours.knots_)
