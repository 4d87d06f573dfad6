"""``fastprep.from_sklearn``: fitted scikit-learn objects as fastprep's, with scikit-learn's
outputs and feature names, checked for every transform and parameter the tests sweep, for
compositions of every column selection, and for random pipelines (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import fastprep as fp

from .helpers import (
    ALL_CASES,
    assert_state_close,
    case_id,
    dense,
    fitted_state,
    sklearn_twin,
    ulps,
)

pd = pytest.importorskip("pandas")
skc = pytest.importorskip("sklearn.compose")
skd = pytest.importorskip("sklearn.decomposition")
ski = pytest.importorskip("sklearn.impute")
skp = pytest.importorskip("sklearn.pipeline")
skpp = pytest.importorskip("sklearn.preprocessing")

# Transforms with a transcendental function, or a sum over a row, computed in another order
# than scikit-learn's: within the parity contract's 1e-10 relative of its outputs; every other
# one gives its numbers bit for bit.
NOT_BITWISE = ("PowerTransformer", "QuantileTransformer", "Normalizer", "FunctionTransformer")


def _numbers(rows: int = 300, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.abs(rng.normal(size=(rows, 4))) * [1.0, 10.0, 0.1, 3.0] + 0.05
    x[rng.random(x.shape) < 0.05] = np.nan
    return x


def _frame(rows: int = 300, seed: int = 0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=rows),
            "b": rng.integers(0, 5, rows).astype(float),
            "c": rng.choice(["x", "y", "z", "w"], rows, p=[0.5, 0.3, 0.15, 0.05]).astype(object),
            "d": rng.choice(["p", "q"], rows).astype(object),
            "e": rng.integers(0, 3, rows),
        }
    )
    frame.loc[rng.random(rows) < 0.05, "a"] = np.nan
    frame.loc[rng.random(rows) < 0.2, "d"] = None
    return frame


def _assert_outputs(ours, theirs, x, kind: str = "") -> None:
    """``ours`` gives ``theirs``'s outputs (bit for bit, or within the ULP bound of ``kind``)
    and feature names."""
    out = np.asarray(dense(ours.transform(x)), dtype=np.float64)
    expected = np.asarray(dense(theirs.transform(x)), dtype=np.float64)
    assert out.shape == expected.shape
    if kind in NOT_BITWISE:  # the parity contract's bound against scikit-learn
        np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-13, equal_nan=True)
    else:
        assert ulps(out, expected).max(initial=0.0) == 0, kind
    np.testing.assert_array_equal(ours.get_feature_names_out(), theirs.get_feature_names_out())


def _data_for(cls, params):
    x = _numbers()
    if cls in (fp.KBinsDiscretizer, fp.Normalizer, fp.Binarizer, fp.PolynomialFeatures) or (
        cls is fp.SplineTransformer and params.get("handle_missing", "error") == "error"
    ):
        return np.nan_to_num(x)  # scikit-learn's refuse NaN
    return x


@pytest.mark.parametrize("case", ALL_CASES, ids=case_id)
def test_every_transform_converts_with_scikit_learns_numbers(case):
    """Each transform the tests sweep, fitted by scikit-learn, converts to a fastprep object
    with its numbers; where fastprep's own fit is exact, the two fits' states are the same
    (equal fingerprints)."""
    cls, params = case
    x = _data_for(cls, params)
    theirs = sklearn_twin(
        cls(**params), "sklearn.impute" if cls is fp.SimpleImputer else "sklearn.preprocessing"
    ).fit(x)
    ours = fp.from_sklearn(theirs)
    assert type(ours) is cls
    assert ours.get_params() == {
        k: v for k, v in theirs.get_params().items() if k in ours.get_params()
    }
    _assert_outputs(ours, theirs, x, cls.__name__)
    own = cls(**params).fit(x)
    if cls is fp.SimpleImputer:
        return  # scikit-learn keeps no record of the columns with missing values
    if cls is fp.PowerTransformer:  # lambdas: each library's optimiser
        assert_state_close(fitted_state(ours), fitted_state(own), rtol=1e-6)
    elif ours.fingerprint != own.fingerprint:
        # A statistic through ndtri, or moments: fastprep rounds means and variances once from
        # exact sums, scikit-learn sums in floating point. Their last bits.
        assert (cls is fp.RobustScaler and params["unit_variance"]) or cls is fp.StandardScaler
        assert_state_close(fitted_state(ours), fitted_state(own))


@pytest.mark.parametrize(
    "encoder",
    [
        dict(),
        dict(handle_unknown="ignore", sparse_output=False),
        dict(drop="first"),
        dict(drop="if_binary", sparse_output=False),
        dict(min_frequency=20, handle_unknown="infrequent_if_exist"),
        dict(min_frequency=0.1),
        dict(max_categories=3),
        dict(categories=[["x", "y", "z", "w"], ["q", "p", np.nan], [0, 1, 2]]),
        dict(dtype=np.float32),
    ],
    ids=repr,
)
def test_one_hot_encoders_convert(encoder):
    x = _frame()[["c", "d", "e"]]
    if "max_categories" in encoder or "min_frequency" in encoder:
        x = x.fillna(
            {"d": "p"}
        )  # scikit-learn groups a rare missing value; fastprep keeps it apart
    theirs = skpp.OneHotEncoder(**encoder).fit(x)
    ours = fp.from_sklearn(theirs)
    _assert_outputs(ours, theirs, x)
    for a, b in zip(ours.categories_, theirs.categories_, strict=True):
        assert a.tolist() == b.tolist() or (pd.isna(a[-1]) and a[:-1].tolist() == b[:-1].tolist())
    unknown = x.iloc[:3].assign(c="never")
    if encoder.get("handle_unknown") in ("ignore", "infrequent_if_exist"):
        _assert_outputs(ours, theirs, unknown)
    else:
        with pytest.raises(fp.UnknownCategoryError):
            ours.transform(unknown)


@pytest.mark.parametrize(
    "encoder",
    [
        dict(),
        dict(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2),
        dict(min_frequency=30),
        dict(max_categories=2),
    ],
    ids=repr,
)
def test_ordinal_encoders_convert(encoder):
    x = _frame()[["c", "d", "e"]]
    if "max_categories" in encoder or "min_frequency" in encoder:
        x = x.fillna({"d": "p"})
    theirs = skpp.OrdinalEncoder(**encoder).fit(x)
    _assert_outputs(fp.from_sklearn(theirs), theirs, x)


def test_a_string_imputer_before_an_encoder_converts():
    x = _frame()[["c", "d"]]
    for strategy in ("most_frequent", "constant"):
        theirs = skp.make_pipeline(
            ski.SimpleImputer(strategy=strategy), skpp.OneHotEncoder(handle_unknown="ignore")
        ).fit(x)
        ours = fp.from_sklearn(theirs)
        _assert_outputs(ours, theirs, x)


@pytest.mark.parametrize(
    "columns",
    ["names", "positions", "mask", "callable", "selector", "slice"],
)
@pytest.mark.parametrize("remainder", ["drop", "passthrough", "transformer"])
def test_column_transformers_convert(columns, remainder):
    frame = _frame()
    numeric = {
        "names": ["a", "b"],
        "positions": [0, 1],
        "mask": [True, True, False, False, False],
        "callable": lambda X: ["a", "b"],
        "selector": skc.make_column_selector(dtype_include="float64"),
        "slice": slice(0, 2),
    }[columns]
    rest = {"drop": "drop", "passthrough": "passthrough", "transformer": skpp.MinMaxScaler()}
    theirs = skc.ColumnTransformer(
        [
            (
                "num",
                skp.Pipeline(
                    [
                        ("impute", ski.SimpleImputer(strategy="median")),
                        ("scale", skpp.StandardScaler()),
                    ]
                ),
                numeric,
            ),
            ("cat", skpp.OneHotEncoder(handle_unknown="ignore"), ["c", "d"]),
        ],
        remainder=rest[remainder],
    ).fit(frame)
    ours = fp.from_sklearn(theirs)
    _assert_outputs(ours, theirs, frame)
    records = frame.head(20).to_dict("records")
    expected = dense(theirs.transform(frame.head(20)))
    np.testing.assert_array_equal(ours.transform_records(records), expected)
    for r, row in zip(records, expected, strict=True):
        np.testing.assert_array_equal(ours.transform_one(r), row)


@pytest.mark.parametrize("verbose", [True, False])
@pytest.mark.parametrize("threshold", [0.0, 0.3, 1.0])
def test_column_transformer_options_convert(verbose, threshold):
    frame = _frame()
    theirs = skc.ColumnTransformer(
        [
            ("num", skpp.StandardScaler(), ["b"]),
            ("cat", skpp.OneHotEncoder(), ["c"]),
            ("dropped", "drop", ["a"]),
            ("kept", "passthrough", ["e"]),
        ],
        verbose_feature_names_out=verbose,
        sparse_threshold=threshold,
    ).fit(frame)
    ours = fp.from_sklearn(theirs)
    assert hasattr(ours.transform(frame), "toarray") == hasattr(theirs.transform(frame), "toarray")
    _assert_outputs(ours, theirs, frame)


def test_a_positional_column_transformer_converts():
    x = _numbers()
    theirs = skc.ColumnTransformer(
        [("a", ski.SimpleImputer(), [0, 2]), ("b", skpp.RobustScaler(), [1])],
        remainder="passthrough",
    ).fit(x)
    ours = fp.from_sklearn(theirs)
    _assert_outputs(ours, theirs, x)


def test_pipelines_convert_and_round_trip_through_an_artifact(tmp_path):
    x = _numbers()
    theirs = skp.make_pipeline(
        ski.SimpleImputer(), skpp.StandardScaler(), skpp.KBinsDiscretizer(encode="onehot")
    ).fit(x)
    ours = fp.from_sklearn(theirs)
    _assert_outputs(ours, theirs, x)
    ours.save(tmp_path / "converted.fp")
    loaded = fp.load(tmp_path / "converted.fp")
    assert loaded.fingerprint == ours.fingerprint
    _assert_outputs(loaded, theirs, x)


def test_the_converted_object_shares_nothing_with_scikit_learns():
    x = _numbers()
    theirs = skpp.StandardScaler().fit(x)
    ours = fp.from_sklearn(theirs)
    before = ours.transform(x)
    theirs.mean_[:] = 1e9
    theirs.scale_[:] = -1.0
    np.testing.assert_array_equal(ours.transform(x), before)


def test_unsupported_steps_are_listed_by_path_and_class():
    frame = _frame().fillna({"a": 0.0, "d": "p"})
    theirs = skc.ColumnTransformer(
        [
            ("num", skp.make_pipeline(skpp.StandardScaler(), skd.PCA(1)), ["a", "b"]),
            ("fn", skpp.FunctionTransformer(np.tanh), ["e"]),  # not a named function
            ("cat", skpp.OneHotEncoder(feature_name_combiner=lambda f, c: f"{f}={c}"), ["c"]),
        ]
    ).fit(frame)
    with pytest.raises(fp.ConversionError) as caught:
        fp.from_sklearn(theirs)
    message = str(caught.value)
    assert "3 steps" in message
    for path, cls in (("num__pca", "PCA"), ("fn", "FunctionTransformer"), ("cat", "OneHotEncoder")):
        assert f"{path}: {cls}" in message
    assert "feature_name_combiner" in message


def test_unsupported_parameter_values_name_the_parameter():
    x = _numbers()
    with pytest.raises(fp.ConversionError, match="missing_values"):
        fp.from_sklearn(ski.SimpleImputer(missing_values=-1.0).fit(np.nan_to_num(x)))
    with pytest.raises(fp.ConversionError, match="dtype"):
        fp.from_sklearn(skpp.KBinsDiscretizer(dtype=np.float32).fit(np.nan_to_num(x)))
    with pytest.raises(fp.ConversionError, match="a missing value grouped as infrequent"):
        frame = _frame()[["d"]]
        frame.loc[:3, "d"] = None
        frame.loc[4:, "d"] = frame.loc[4:, "d"].fillna("p")
        fp.from_sklearn(skpp.OneHotEncoder(min_frequency=10).fit(frame))


def test_unfitted_and_foreign_objects_are_refused():
    with pytest.raises(fp.ConversionError, match="not fitted"):
        fp.from_sklearn(skpp.StandardScaler())
    with pytest.raises(fp.ConversionError, match="not scikit-learn's"):
        fp.from_sklearn(fp.StandardScaler().fit(_numbers()))


def test_without_strict_unsupported_steps_stay_scikit_learns():
    frame = _frame().fillna({"a": 0.0})
    theirs = skc.ColumnTransformer(
        [
            ("num", skp.make_pipeline(skpp.StandardScaler(), skd.PCA(1)), ["a", "b"]),
            ("cat", skpp.OneHotEncoder(), ["c"]),
        ]
    ).fit(frame)
    ours = fp.from_sklearn(theirs, strict=False)
    assert isinstance(ours, fp.ColumnTransformer)
    inner = ours.named_transformers_["num"]
    assert isinstance(inner.named_steps["standardscaler"], fp.StandardScaler)
    assert inner.named_steps["pca"] is theirs.named_transformers_["num"].named_steps["pca"]
    _assert_outputs(ours, theirs, frame)
    np.testing.assert_array_equal(
        ours.transform_one(frame.iloc[0].to_dict()), dense(theirs.transform(frame.head(1)))[0]
    )
    with pytest.raises(fp.ArtifactError, match=r"not fastprep's: num__pca \(PCA\);"):
        ours.save("never-written.fp")
    two = skc.ColumnTransformer(
        [
            ("num", skp.make_pipeline(skpp.StandardScaler(), skd.PCA(1)), ["a", "b"]),
            ("fn", skpp.FunctionTransformer(np.tanh), ["e"]),  # not a named function
        ]
    ).fit(frame)
    with pytest.raises(fp.ArtifactError, match=r"num__pca \(PCA\), fn \(FunctionTransformer\)"):
        fp.from_sklearn(two, strict=False).save("never-written.fp")


# -- random pipelines ----------------------------------------------------------------------------

TOLERANT = [  # steps scikit-learn fits and runs with NaN present
    lambda: skpp.StandardScaler(),
    lambda: skpp.StandardScaler(with_mean=False),
    lambda: skpp.MinMaxScaler(feature_range=(-1, 2)),
    lambda: skpp.MaxAbsScaler(),
    lambda: skpp.RobustScaler(quantile_range=(10.0, 90.0)),
    lambda: skpp.QuantileTransformer(n_quantiles=11),
    lambda: skpp.PowerTransformer(),
]
IMPUTERS = [
    lambda: ski.SimpleImputer(strategy="mean"),
    lambda: ski.SimpleImputer(strategy="median", add_indicator=True),
    lambda: ski.SimpleImputer(strategy="constant", fill_value=-1.0),
]
FINISHERS = [  # steps that need NaN gone
    lambda: skpp.KBinsDiscretizer(n_bins=3, encode="ordinal"),
    lambda: skpp.KBinsDiscretizer(n_bins=4, encode="onehot-dense", strategy="uniform"),
    lambda: skpp.Normalizer(norm="l1"),
    lambda: skpp.Binarizer(threshold=0.5),
]


@st.composite
def _pipelines(draw):
    steps = []
    imputed = draw(st.booleans())
    if imputed:
        steps.append(draw(st.sampled_from(IMPUTERS))())

    # A value a few ULP from a bin edge may land in either bin, and one a few ULP from a
    # repeated quantile (a constant column's) on either side of its jump: bins, thresholds
    # and quantiles follow only steps that give scikit-learn's numbers bit for bit.
    def exact() -> bool:
        return not any(type(s).__name__ in NOT_BITWISE for s in steps)

    # A power transform of a column made nearly constant by an earlier inexact step amplifies
    # that step's last-bit differences past the contract's bound: it too follows exact steps.
    for make in draw(st.lists(st.sampled_from(TOLERANT), min_size=1, max_size=3)):
        step = make()
        if exact() or not isinstance(step, (skpp.QuantileTransformer, skpp.PowerTransformer)):
            steps.append(step)
    if imputed and draw(st.booleans()):
        finisher = draw(st.sampled_from(FINISHERS))()
        if exact() or isinstance(finisher, skpp.Normalizer):
            steps.append(finisher)
    return skp.make_pipeline(*steps)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pipe=_pipelines(),
    rows=st.integers(20, 120),
    seed=st.integers(0, 2**16),
    missing=st.floats(0.0, 0.3),
    encoder=st.booleans(),
)
def test_random_pipelines_convert(pipe, rows, seed, missing, encoder):
    """Random pipelines of the supported steps, fitted by scikit-learn on random data with
    NaN (inside a ColumnTransformer beside an encoder, or alone), convert with scikit-learn's
    numbers and names."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 3)) * rng.uniform(0.1, 100.0, 3)
    x[:, 0] = x[0, 0]  # a constant column
    x[rng.random(x.shape) < missing] = np.nan
    x[0] = rng.normal(size=3)  # each column has a value
    if encoder:
        frame = pd.DataFrame(x, columns=["u", "v", "w"]).assign(
            k=rng.choice(["a", "b", "c"], rows).astype(object)
        )
        theirs = skc.ColumnTransformer(
            [("num", pipe, ["u", "v", "w"]), ("cat", skpp.OneHotEncoder(), ["k"])]
        )
        data = frame
    else:
        theirs, data = pipe, x
    try:
        theirs.fit(data)
    except ValueError:  # a fit scikit-learn itself refuses (all-NaN column and the like)
        assume(False)
    ours = fp.from_sklearn(theirs)
    kinds = [type(s).__name__ for _, s in pipe.steps]
    _assert_outputs(ours, theirs, data, next((k for k in kinds if k in NOT_BITWISE), ""))


def test_a_converted_object_carries_no_training_profile(tmp_path):
    """scikit-learn keeps no profile of its training data: an artifact of a converted object
    has none (rather than the category counts the conversion made up), and a drift monitor
    says why it cannot run."""
    frame = _frame()
    theirs = skc.ColumnTransformer([("cat", skpp.OneHotEncoder(), ["c", "d"])]).fit(frame)
    ours = fp.from_sklearn(theirs)
    path = ours.save(tmp_path / "converted.fp")
    profile = fp.inspect(path)["profile"]
    assert profile["rows"] is None and profile["columns"] == {}
    with pytest.raises(fp.ParameterError, match="converted from scikit-learn has none"):
        fp.DriftMonitor(ours)
