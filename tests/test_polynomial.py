"""PolynomialFeatures: kernel vs reference (bit-identical), scikit-learn oracle (values bit for
bit in float64, column order, names, powers_), the plan, artifacts, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastprep as fp
from fastprep._backend import kernels
from fastprep.datasets import load_adult
from fastprep.testing import assert_backends_agree
from fastprep.testing.strategies import float_matrices

from .helpers import Optional

sklearn_preprocessing = Optional("sklearn.preprocessing")

PARAMS = [
    dict(degree=d, interaction_only=i, include_bias=b)
    for d, i, b in itertools.product(
        [1, 2, 3, (2, 3), (0, 2), (3, 3), (1, 1)], *[[False, True]] * 2
    )
]
degrees = st.sampled_from([0, 1, 2, 3, 4, (0, 0), (1, 3), (2, 2), (2, 4), (3, 4)])


def _params(data) -> dict:
    degree = data.draw(degrees)
    bias = data.draw(st.booleans())
    if degree in (0, (0, 0)):
        bias = True
    return dict(degree=degree, interaction_only=data.draw(st.booleans()), include_bias=bias)


@given(x=float_matrices(), data=st.data())
def test_backends_bit_identical(x, data):
    """The Rust kernel and the NumPy reference, on NaN, ±inf, huge and tiny values, empty and
    one-row input, float32 and float64."""
    x = np.ascontiguousarray(x)
    fitted = fp.PolynomialFeatures(**_params(data)).fit(np.zeros((1, x.shape[1])))
    out = assert_backends_agree(fitted.transform, x)
    assert out.dtype == x.dtype and out.shape == (x.shape[0], fitted.n_output_features_)


@given(
    x=float_matrices(
        min_rows=1, max_cols=4, dtypes=(np.float64,), allow_nan=False, allow_infinity=False
    ),
    data=st.data(),
)
def test_matches_sklearn_bit_for_bit(x, data, backend):
    """float64: the same products in the same order as scikit-learn's dense transform
    (scikit-learn refuses NaN and infinity; the backends' test covers them)."""
    params = _params(data)
    ours = fp.PolynomialFeatures(**params).fit(x)
    theirs = sklearn_preprocessing.PolynomialFeatures(**params).fit(x)
    with np.errstate(all="ignore"):
        expected = theirs.transform(x)
    np.testing.assert_array_equal(ours.transform(x), expected)
    assert ours.n_output_features_ == theirs.n_output_features_
    names = ["a", "b", "c", "d"][: x.shape[1]]
    if not ours.n_output_features_:  # scikit-learn's powers_ and names of no columns fail
        assert ours.powers_.shape == (0, x.shape[1]) and ours.get_feature_names_out().size == 0
        return
    np.testing.assert_array_equal(ours.powers_, theirs.powers_)
    ours_names = ours.get_feature_names_out(names).tolist()
    assert ours_names == theirs.get_feature_names_out(names).tolist()


@pytest.mark.parametrize("params", PARAMS, ids=str)
def test_matches_sklearn_on_adult(params, adult_numeric, backend):
    x = adult_numeric[:500]
    ours = fp.PolynomialFeatures(**params).fit(x)
    theirs = sklearn_preprocessing.PolynomialFeatures(**params).fit(x)
    np.testing.assert_array_equal(ours.transform(x), theirs.transform(x))
    f32 = x.astype(np.float32)
    np.testing.assert_allclose(ours.transform(f32), theirs.transform(f32), rtol=1e-6)
    assert ours.get_feature_names_out().tolist() == theirs.get_feature_names_out().tolist()


def test_order_f_gives_a_fortran_array(backend):
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    out = fp.PolynomialFeatures(order="F").fit_transform(x)
    assert out.flags.f_contiguous
    np.testing.assert_array_equal(out, fp.PolynomialFeatures().fit_transform(x))


@pytest.mark.parametrize(
    ("params", "word"),
    [
        (dict(degree=-1), "degree"),
        (dict(degree=(3, 2)), "degree"),
        (dict(degree=(1, 2, 3)), "degree"),
        (dict(degree=2.5), "degree"),
        (dict(degree=0, include_bias=False), "no output columns"),
        (dict(degree=(0, 0), include_bias=False), "no output columns"),
        (dict(order="A"), "order"),
        (dict(interaction_only="yes"), "interaction_only"),
    ],
)
def test_bad_parameters(params, word):
    with pytest.raises(fp.ParameterError, match=word):
        fp.PolynomialFeatures(**params).fit(np.ones((2, 2)))


def test_too_wide_an_expansion_is_refused_at_fit():
    with pytest.raises(fp.ParameterError, match="output columns"):
        fp.PolynomialFeatures(degree=12).fit(np.ones((1, 200)))


def test_kernels_refuse_inconsistent_recipes(backend):
    x = np.ones((2, 2))
    one = np.array([-1], dtype=np.int64)
    for parents, factors, keep in (
        ([0], [0], [0]),  # its own parent
        ([-1], [2], [0]),  # no input 2
        ([-1, -1], [0, 1], [1, 0]),  # not increasing
        ([-1], [0], [1]),  # past the end
        ([-1], [0, 1], [0]),  # lengths differ
    ):
        with pytest.raises(fp.SchemaError, match="polynomial recipe"):
            kernels().polynomial(
                x, np.array(parents, np.int64), np.array(factors, np.int64), np.array(keep)
            )
    assert kernels().polynomial(x, one, one, np.array([0])).tolist() == [[1.0], [1.0]]


def test_in_a_column_transformer_plan_artifact_and_one_record(tmp_path, rust):
    adult = {k: v[:3000] for k, v in load_adult().items()}
    ct = fp.ColumnTransformer(
        [
            (
                "poly",
                fp.Pipeline(
                    [
                        ("impute", fp.SimpleImputer()),
                        (
                            "poly",
                            fp.PolynomialFeatures(
                                (1, 2), interaction_only=True, include_bias=False
                            ),
                        ),
                        ("scale", fp.StandardScaler()),
                    ]
                ),
                ["age", "hours_per_week", "education_num"],
            ),
            ("cat", fp.OneHotEncoder(handle_unknown="ignore"), ["workclass"]),
        ]
    ).fit(adult)
    assert ct._plan_spec() is not None
    batch = ct.transform(adult)
    assert ct.get_feature_names_out()[:6].tolist() == [
        "poly__age", "poly__hours_per_week", "poly__education_num",
        "poly__age hours_per_week", "poly__age education_num",
        "poly__hours_per_week education_num",
    ]  # fmt: skip
    record = {k: v[7] for k, v in adult.items()}
    np.testing.assert_array_equal(ct.transform_one(record), batch[7])
    path = tmp_path / "poly.fastprep"
    ct.save(path)
    loaded = fp.load(path)
    assert loaded.fingerprint == ct.fingerprint
    np.testing.assert_array_equal(loaded.transform(adult), batch)
    assert "age" in fp.inspect(path)["profile"]["columns"]


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("params", PARAMS[::3], ids=str)
def test_sparse_input_as_sklearns(fmt, params, backend):
    sparse = pytest.importorskip("scipy.sparse")
    x = sparse.random(40, 5, density=0.3, format=fmt, random_state=3, dtype=np.float64)
    ours = fp.PolynomialFeatures(**params).fit(x)
    theirs = sklearn_preprocessing.PolynomialFeatures(**params).fit(x)
    out = ours.transform(x)
    assert sparse.issparse(out) and out.format == fmt
    np.testing.assert_allclose(out.toarray(), theirs.transform(x).toarray(), rtol=1e-15)
    np.testing.assert_array_equal(out.toarray(), ours.transform(x.toarray()))  # as dense
    matrix = ours.transform(sparse.csr_matrix(x))
    assert isinstance(matrix, sparse.spmatrix) and matrix.shape == out.shape
    f32 = ours.transform(x.astype(np.float32))
    assert f32.dtype == np.float32


def test_a_state_too_wide_to_build_is_refused():
    from fastprep._state import State, build

    good = fp.PolynomialFeatures().fit(np.ones((2, 3)))._state()
    wide = {**good.values, "n_features_in_": 100_000}
    with pytest.raises(fp.ArtifactError, match="wider than"):
        build(State(good.kind, {**good.params, "degree": 40}, wide))
