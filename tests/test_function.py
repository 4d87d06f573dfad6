"""FunctionTransformer: named functions (kernel vs reference vs NumPy, scikit-learn oracle, the
plan, artifacts) and Python callables (step by step, never saved)."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastprep as fp
from fastprep._backend import kernels
from fastprep.function import NAMED
from fastprep.testing import assert_backends_agree
from fastprep.testing.strategies import float_matrices

from .helpers import Optional, ulps

sklearn_preprocessing = Optional("sklearn.preprocessing")

EXACT = {"sqrt", "square", "abs", "sign", "reciprocal", "clip"}  # correctly rounded in both
UNARY = [name for name in NAMED if name != "clip"]


def _bounds(name: str, data) -> tuple[float, float]:
    if name != "clip":
        return np.nan, np.nan
    bound = st.floats(-10, 10) | st.just(np.nan)
    return data.draw(bound), data.draw(bound)


def _numpy(name: str, x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """NumPy's own function in float64 (the kernels' specification)."""
    x64 = x.astype(np.float64)
    with np.errstate(all="ignore"):
        if name == "clip":
            return np.clip(x64, None if np.isnan(lo) else lo, None if np.isnan(hi) else hi)
        return NAMED[name](x64)


@pytest.mark.parametrize("name", list(NAMED))
@given(x=float_matrices(), data=st.data())
def test_kernel_agrees_with_reference_and_numpy(name, x, data):
    """Exact functions: the backends and NumPy bit for bit. exp and log: each backend within
    the parity contract's 4 ULP of NumPy (the C library's exp and log against NumPy's)."""
    lo, hi = _bounds(name, data)
    x = np.ascontiguousarray(x)
    with np.errstate(over="ignore"):
        expected = _numpy(name, x, lo, hi).astype(x.dtype)
    if name in EXACT:
        out = assert_backends_agree(lambda a: kernels().apply_function(a, name, lo, hi), x)
        np.testing.assert_array_equal(out, expected)
        return
    for b in fp.testing.available_backends():
        with fp.use_backend(b):
            out = kernels().apply_function(x, name, lo, hi)
        assert out.dtype == x.dtype and out.shape == x.shape
        assert ulps(out.astype(np.float64), expected.astype(np.float64)).max(initial=0) <= 4


@pytest.mark.parametrize("name", ["log", "log1p", "exp", "expm1"])
def test_exp_and_log_within_4_ulp_of_numpy_over_every_magnitude(name, rust):
    """fastprep's own exp and log family against NumPy's, on random bit patterns (subnormals
    to the largest doubles, both signs), the ranges where exp over- and underflows, and small
    values where log1p and expm1 must keep their precision; NaN and ±inf where NumPy has them."""
    rng = np.random.default_rng(7)
    patterns = rng.integers(0, 0x7FF0000000000000, size=300_000, dtype=np.int64).view(np.float64)
    x = np.concatenate([
        patterns, -patterns, rng.uniform(-760.0, 720.0, 200_000),
        rng.uniform(-1.0, 1.0, 200_000) * 10.0 ** rng.integers(-20, 1, 200_000),
        [0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 709.78, 709.79, -745.1, -745.2],
    ])  # fmt: skip
    ours = kernels().apply_function(np.ascontiguousarray(x[:, None]), name, np.nan, np.nan)[:, 0]
    with np.errstate(all="ignore"):
        theirs = NAMED[name](x)
    assert np.array_equal(np.isnan(ours), np.isnan(theirs))
    assert ulps(ours, theirs).max() <= 4
    with np.errstate(all="ignore"):
        ours32 = kernels().apply_function(x[:, None].astype(np.float32), name, np.nan, np.nan)
        theirs32 = NAMED[name](x.astype(np.float32).astype(np.float64)).astype(np.float32)
    assert ulps(ours32[:, 0], theirs32).max() <= 1  # rounded once from float64


def test_kernel_refuses_unknown_names_and_stray_bounds(backend):
    x = np.ones((2, 2))
    with pytest.raises(fp.ParameterError, match='unknown function "tanh"'):
        kernels().apply_function(x, "tanh", np.nan, np.nan)
    with pytest.raises(fp.ParameterError, match="only clip"):
        kernels().apply_function(x, "log", 0.0, np.nan)


@pytest.mark.parametrize("name", UNARY)
def test_matches_sklearn_on_adult(name, adult_numeric, backend):
    func = NAMED[name]
    x = adult_numeric[:2000] / 1000.0  # exp of Adult's capital gains overflows alike
    ours = fp.FunctionTransformer(func).fit_transform(x)
    with np.errstate(all="ignore"):
        theirs = sklearn_preprocessing.FunctionTransformer(func).fit_transform(x)
    np.testing.assert_allclose(ours, theirs, rtol=1e-14, atol=0, equal_nan=True)


@given(
    x=float_matrices(min_rows=1, allow_infinity=False, dtypes=(np.float64,)),
    name=st.sampled_from(list(NAMED)),
    lo=st.floats(-5, 0),
    hi=st.floats(0, 5),
)
def test_matches_sklearn_on_random_data(x, name, lo, hi):
    kw = {"a_min": lo, "a_max": hi} if name == "clip" else None
    ours = fp.FunctionTransformer(NAMED[name], kw_args=kw).fit_transform(x)
    with np.errstate(all="ignore"):
        theirs = sklearn_preprocessing.FunctionTransformer(NAMED[name], kw_args=kw).fit_transform(x)
    np.testing.assert_allclose(ours, theirs, rtol=1e-14, atol=0, equal_nan=True)


def test_clip_takes_numpys_bound_names(backend):
    x = np.array([[-3.0, 0.5, 9.0, np.nan]])
    for kw in ({"a_min": 0, "a_max": 1}, {"min": 0, "max": 1}, {"a_min": 0, "max": 1}):
        out = fp.FunctionTransformer(np.clip, kw_args=kw).fit_transform(x)
        np.testing.assert_array_equal(out, np.clip(x, 0, 1))
    upper = fp.FunctionTransformer(np.clip, kw_args={"a_min": None, "a_max": 1.0})
    np.testing.assert_array_equal(upper.fit_transform(x), np.clip(x, None, 1.0))
    with pytest.raises(fp.ParameterError, match="two bounds"):
        fp.FunctionTransformer(np.clip, kw_args={"a_min": 0, "min": 1}).fit(x)
    with pytest.raises(fp.ParameterError, match="a_max"):
        fp.FunctionTransformer(np.clip, kw_args={"a_max": "high"}).fit(x)


def test_inverse_and_check_inverse(backend):
    x = np.array([[0.0, 1.5], [2.0, np.nan], [7.0, 3.0]])
    t = fp.FunctionTransformer(np.log1p, np.expm1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t.fit(x)
    np.testing.assert_allclose(t.inverse_transform(t.transform(x)), x, rtol=1e-15)
    with pytest.warns(UserWarning, match="not strictly inverse"):
        fp.FunctionTransformer(np.sqrt, np.exp).fit(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fp.FunctionTransformer(np.sqrt, np.exp, check_inverse=False).fit(x)


def test_feature_names_as_sklearns():
    x = np.ones((2, 3))
    assert not hasattr(fp.FunctionTransformer().fit(x), "get_feature_names_out")
    one = fp.FunctionTransformer(feature_names_out="one-to-one").fit(x)
    assert one.get_feature_names_out().tolist() == ["x0", "x1", "x2"]

    def suffix(transformer, names):
        return [f"{n}_log" for n in names]

    named = fp.FunctionTransformer(np.log, feature_names_out=suffix).fit(x)
    assert named.get_feature_names_out(["a", "b", "c"]).tolist() == ["a_log", "b_log", "c_log"]
    theirs = sklearn_preprocessing.FunctionTransformer(np.log, feature_names_out=suffix).fit(x)
    assert named.get_feature_names_out().tolist() == theirs.get_feature_names_out().tolist()
    with pytest.raises(fp.ArtifactError, match=r"feature_names_out=.*suffix"):
        fp.dumps(named)


def test_python_callables_run_step_by_step_and_are_never_saved(backend):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})

    def double(df):
        return df * 2

    t = fp.FunctionTransformer(double).fit(frame)  # validate=False: the frame as it is
    assert t.n_features_in_ == 2 and t.feature_names_in_.tolist() == ["a", "b"]
    pd.testing.assert_frame_equal(t.transform(frame), frame * 2)
    checked = fp.FunctionTransformer(double, validate=True).fit(frame)
    np.testing.assert_array_equal(checked.transform(frame), frame.to_numpy() * 2)
    with pytest.raises(fp.ArtifactError, match=r"func=.*double is a Python function"):
        fp.dumps(checked)
    with pytest.raises(fp.ArtifactError, match="Python function"):
        checked.fingerprint  # noqa: B018
    # A NumPy function with keywords fastprep does not run natively: NumPy runs it.
    where = fp.FunctionTransformer(np.log, kw_args={"where": np.array([True, False])})
    with pytest.raises(fp.ArtifactError, match=r"numpy\.log"):
        fp.dumps(where.fit(np.ones((2, 2))))
    # In a pipeline the step runs in Python; the rest still works, the whole is not saved.
    pipe = fp.Pipeline([("f", fp.FunctionTransformer(double, validate=True)),
                        ("s", fp.StandardScaler())]).fit(frame)  # fmt: skip
    expected = fp.StandardScaler().fit(frame * 2).transform(frame * 2)
    np.testing.assert_array_equal(pipe.transform(frame), expected)
    with pytest.raises(fp.ArtifactError, match="double"):
        pipe.save("unused.fastprep")
    # It still pickles as scikit-learn's does (the function by reference).
    module_level = fp.FunctionTransformer(np.vectorize, validate=True)
    assert pickle.loads(pickle.dumps(module_level)).func is np.vectorize


def test_sparse_input_for_functions_that_keep_zero(backend):
    sparse = pytest.importorskip("scipy.sparse")
    x = sparse.random(20, 4, density=0.3, format="csr", random_state=0)
    out = fp.FunctionTransformer(np.log1p).fit(x).transform(x)
    assert sparse.issparse(out)
    np.testing.assert_allclose(out.toarray(), np.log1p(x.toarray()), rtol=1e-15)
    with pytest.raises(fp.ParameterError, match="exp maps 0 to 1"):
        fp.FunctionTransformer(np.exp).fit(x).transform(x)


def test_plan_artifact_and_one_record(tmp_path, rust):
    x = np.array([[1.0, 2.0, 3.0], [4.0, np.nan, 0.5], [0.0, 8.0, 9.0]])
    pipe = fp.Pipeline(
        [
            ("clip", fp.FunctionTransformer(np.clip, kw_args={"a_min": 0.5, "a_max": 5.0})),
            ("log", fp.FunctionTransformer(np.log1p, np.expm1, feature_names_out="one-to-one")),
            ("scale", fp.StandardScaler()),
        ]
    ).fit(x)
    spec = pipe._plan_spec()
    assert spec is not None
    steps = spec["blocks"][0]["steps"]
    assert [s["step"] for s in steps[:2]] == ["function", "function"]
    assert steps[0]["lo"] == 0.5 and steps[1]["lo"] is None
    logged = fp.FunctionTransformer(np.log1p).fit_transform(np.clip(x, 0.5, 5.0))
    expected = fp.StandardScaler().fit(logged).transform(logged)  # the plan: bit for bit
    np.testing.assert_array_equal(pipe.transform(x), expected)
    row = pipe.transform_one({"x0": 4.0, "x1": np.nan, "x2": 0.5})
    np.testing.assert_array_equal(row, expected[1])
    path = tmp_path / "f.fastprep"
    pipe.save(path)
    loaded = fp.load(path)
    assert loaded.fingerprint == pipe.fingerprint
    assert loaded.steps[1][1].func is np.log1p and loaded.steps[0][1].kw_args == {
        "a_min": 0.5,
        "a_max": 5.0,
    }
    np.testing.assert_array_equal(loaded.transform(x), expected)
    profile = fp.inspect(path)["profile"]
    assert list(profile["columns"]) == ["x0", "x1", "x2"]  # the drift profile of its inputs
    assert profile["columns"]["x1"]["missing"] == 1


def test_a_tampered_state_names_only_known_functions():
    from fastprep._state import State, build

    good = fp.FunctionTransformer(np.sqrt).fit(np.ones((2, 2)))._state()
    with pytest.raises(fp.ArtifactError, match="'system' is not one of the named"):
        build(State(good.kind, {**good.params, "func": "system"}, good.values))
    with pytest.raises(fp.ArtifactError, match="not one of the named"):
        build(State(good.kind, {**good.params, "func": print}, good.values))


def test_converts_from_sklearn():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    theirs = sklearn_preprocessing.FunctionTransformer(np.expm1, feature_names_out="one-to-one")
    ours = fp.from_sklearn(theirs.fit(x))
    assert isinstance(ours, fp.FunctionTransformer) and ours.func is np.expm1
    np.testing.assert_allclose(ours.transform(x), theirs.transform(x), rtol=1e-15)
    lambda_step = sklearn_preprocessing.FunctionTransformer(lambda v: v + 1).fit(x)
    with pytest.raises(fp.ConversionError, match="FunctionTransformer"):
        fp.from_sklearn(lambda_step)
    kept = fp.from_sklearn(lambda_step, strict=False)
    np.testing.assert_array_equal(kept.transform(x), x + 1)
