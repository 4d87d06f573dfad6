"""fastprep inside scikit-learn, on the bundled Adult data: pickle, joblib and deepcopy of every
kind of fitted object, scikit-learn's fitted check and tags, cross-validation in worker
processes, and scikit-learn staying optional."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

import fastprep as fp
from fastprep.datasets import ADULT_CATEGORICAL, ADULT_NUMERIC, adult_pipeline, load_adult

from .helpers import Optional

NUM = list(ADULT_NUMERIC)
skpl = Optional("sklearn.pipeline")
sklm = Optional("sklearn.linear_model")
skms = Optional("sklearn.model_selection")
skv = Optional("sklearn.utils.validation")
skc = Optional("sklearn.compose")
skp = Optional("sklearn.preprocessing")
sk = Optional("sklearn")


@pytest.fixture(scope="module")
def adult():
    table = load_adult()
    n = 4000
    x = pa.table({c: table[c][:n] for c in ADULT_NUMERIC + ADULT_CATEGORICAL})
    return x, (table["salary"][:n] == ">50K").astype(np.int64)


def _round_trips(obj):
    """``obj`` through pickle (every protocol), copy.deepcopy and joblib."""
    joblib = pytest.importorskip("joblib")
    import io

    backs = [pickle.loads(pickle.dumps(obj, protocol=p)) for p in (2, pickle.HIGHEST_PROTOCOL)]
    backs.append(copy.deepcopy(obj))
    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    buffer.seek(0)
    backs.append(joblib.load(buffer))
    return backs


def _fitted_objects(adult):
    """One fitted object of every kind: transforms, encoders, composites, a Pipeline whose plan
    is compiled, postprocessors, and a Bundle."""
    x, y = adult
    rng = np.random.default_rng(0)
    scores = rng.normal(size=len(y))
    logits = rng.normal(size=(300, 3))
    compiled = adult_pipeline().fit(x)
    compiled.transform_one(x.slice(0, 1).to_pylist()[0])  # the plan exists before pickling
    post = fp.PostPipeline(
        [("calibrate", fp.Calibrator("isotonic")), ("decide", fp.Threshold(metric="f1"))]
    ).fit(scores, y)
    age = x.select(["age", "hours_per_week"])
    return [
        (fp.StandardScaler().fit(age), age),
        (fp.QuantileTransformer(n_quantiles=50).fit(age), age),
        (fp.OneHotEncoder(handle_unknown="ignore").fit(x.select(["workclass"])), x),
        (fp.OrdinalEncoder().fit(x.select(["education", "race"])), x),
        (fp.CountEncoder().fit(x.select(["native_country"])), x),
        (fp.FeatureHasher(n_features=16, input_type="string").fit(), [["a", "b"], ["c"]]),
        (compiled, x),
        (fp.Pipeline([("impute", fp.SimpleImputer()), ("scale", fp.MinMaxScaler())]).fit(age), age),
        (fp.LabelDecoder(classes=["a", "b", "c"]).fit(), logits),
        (fp.Calibrator("temperature").fit(logits, rng.integers(0, 3, 300)), logits),
        (fp.TargetInverse(fp.StandardScaler()).fit(scores), scores),
        (post, scores),
        (fp.Bundle(preprocess=compiled, postprocess=post), None),
    ]


def test_every_fitted_object_round_trips_through_pickle_joblib_and_deepcopy(adult, backend):
    """Bit-identical outputs and the same fingerprint, every object rebuilt from its state."""
    for obj, data in _fitted_objects(adult):
        for back in _round_trips(obj):
            assert type(back) is type(obj), type(obj).__name__
            assert back.fingerprint == obj.fingerprint, type(obj).__name__
            if isinstance(obj, fp.Bundle):
                x, _ = adult
                a, b = obj.preprocess.transform(x), back.preprocess.transform(x)
            else:
                if isinstance(data, pa.Table):  # the columns the object was fitted on
                    data = data.select(list(obj.feature_names_in_))
                a, b = obj.transform(data), back.transform(data)
            a, b = (v.toarray() if hasattr(v, "toarray") else np.asarray(v) for v in (a, b))
            assert a.dtype == b.dtype and np.array_equal(a, b), type(obj).__name__


def test_a_pickled_compiled_pipeline_answers_requests(adult, backend):
    """The plan is rebuilt from the state on unpickle, not carried in the pickle."""
    x, _ = adult
    fitted = adult_pipeline().fit(x)
    row = x.slice(7, 1).to_pylist()[0]
    expected = fitted.transform_one(row)
    data = pickle.dumps(fitted)
    assert b"_compiled" not in data and b"fastprep._core" not in data
    np.testing.assert_array_equal(pickle.loads(data).transform_one(row), expected)


def test_unfitted_objects_and_foreign_steps_pickle_their_attributes(adult):
    x, _ = adult
    for obj in (adult_pipeline(), fp.StandardScaler(with_mean=False), fp.Threshold(0.3)):
        back = pickle.loads(pickle.dumps(obj))
        assert not back.is_fitted and repr(back) == repr(obj)
    # A fitted Pipeline holding a scikit-learn step has no artifact; it pickles its attributes.
    skp = Optional("sklearn.preprocessing")
    age = x.select(["age", "hours_per_week"])
    mixed = fp.Pipeline(
        [("log", skp.FunctionTransformer(np.log1p)), ("scale", fp.StandardScaler())]
    )
    mixed.fit(age)
    back = copy.deepcopy(mixed)
    np.testing.assert_array_equal(back.transform(age), mixed.transform(age))


def test_pickling_leaves_the_object_untouched(adult, backend):
    x, _ = adult
    fitted = adult_pipeline().fit(x)
    before = fitted.fingerprint
    pickle.dumps(fitted)
    assert fitted.fingerprint == before and fitted.transform(x).shape[0] == x.num_rows


# -- scikit-learn's fitted check and tags ---------------------------------------------------------


def test_not_fitted_errors_are_scikit_learns_too():
    exceptions = Optional("sklearn.exceptions")
    for obj in (fp.StandardScaler(), fp.OneHotEncoder(), fp.Pipeline([("s", fp.MinMaxScaler())])):
        with pytest.raises(exceptions.NotFittedError, match="is not fitted yet"):
            obj.transform(np.eye(2))
        with pytest.raises(fp.NotFittedError):
            obj.transform(np.eye(2))


def test_check_is_fitted_on_composites_and_postprocessors(adult):
    x, y = adult
    for unfitted in (adult_pipeline(), fp.Threshold(metric="f1"), fp.Calibrator()):
        with pytest.raises(skv.NotFittedError):
            skv.check_is_fitted(unfitted)
    skv.check_is_fitted(adult_pipeline().fit(x))
    skv.check_is_fitted(fp.Threshold(metric="f1").fit(np.linspace(0, 1, len(y)), y))


def test_tags_describe_each_class():
    tags = Optional("sklearn.utils").get_tags
    scaler, hasher = tags(fp.StandardScaler()), tags(fp.FeatureHasher())
    assert scaler.estimator_type == "transformer" and scaler.requires_fit
    assert scaler.input_tags.allow_nan and not scaler.input_tags.string
    assert not scaler.target_tags.required
    assert scaler.transformer_tags.preserves_dtype == ["float64", "float32"]
    # FeatureHasher's as scikit-learn's: samples (dicts or strings), not a 2-D array.
    assert not hasher.requires_fit and not hasher.input_tags.two_d_array
    assert hasher.input_tags.dict and not hasher.input_tags.string
    assert tags(fp.FeatureHasher(input_type="string")).input_tags.string
    onehot = tags(fp.OneHotEncoder())
    assert onehot.input_tags.categorical and onehot.requires_fit
    assert onehot.transformer_tags.preserves_dtype == ["float64"]
    assert not tags(fp.Normalizer()).requires_fit and not tags(fp.Binarizer()).requires_fit
    # Postprocessors read a model's scores; a Calibrator needs the labels.
    calibrator, threshold = tags(fp.Calibrator()), tags(fp.Threshold())
    assert calibrator.target_tags.required and not threshold.target_tags.required
    assert threshold.input_tags.one_d_array and not threshold.input_tags.two_d_array
    # A composition reads strings when its first step does.
    numeric = fp.Pipeline([("scale", fp.StandardScaler())])
    encoding = fp.Pipeline([("encode", fp.OneHotEncoder())])
    assert not tags(numeric).input_tags.string and tags(encoding).input_tags.string
    assert tags(fp.ColumnTransformer([])).input_tags.string


# -- set_output ---------------------------------------------------------------------------------


def _frame(adult):
    """Adult's first rows as a pandas DataFrame on an index of its own (which is no feature)."""
    pd = pytest.importorskip("pandas")
    x, _ = adult
    df = x.slice(0, 300).to_pandas()
    df.index = pd.Index(range(1000, 1300), name="id")
    return df


def _named_outputs(adult):
    """(unfitted object, its input) of every kind with named outputs."""
    df = _frame(adult)
    numeric = df[["age", "hours_per_week", "capital_gain"]]
    return [
        (fp.StandardScaler(), numeric),
        (fp.KBinsDiscretizer(n_bins=4), numeric),
        (fp.SimpleImputer(add_indicator=True), numeric),
        (fp.OneHotEncoder(sparse_output=False, handle_unknown="ignore"), df[["workclass"]]),
        (fp.OrdinalEncoder(), df[["education", "race"]]),
        (fp.CountEncoder(), df[["native_country"]]),
        (fp.Pipeline([("impute", fp.SimpleImputer()), ("scale", fp.MinMaxScaler())]), numeric),
        (adult_pipeline(), df),
    ]


@pytest.mark.parametrize("container", ["pandas", "polars", "pyarrow"])
def test_set_output_gives_a_table_named_by_the_feature_names(adult, container, backend):
    pytest.importorskip(container)
    for obj, X in _named_outputs(adult):
        plain = copy.deepcopy(obj).fit_transform(X)
        out = obj.set_output(transform=container).fit_transform(X)
        again = obj.transform(X)
        names = list(obj.get_feature_names_out())
        for table in (out, again):
            assert list(table.columns if container != "pyarrow" else table.column_names) == names
            values = (
                table.to_numpy()
                if container != "pyarrow"
                else np.column_stack([c.to_numpy() for c in table.columns])
            )
            np.testing.assert_array_equal(values, plain)
        if container == "pandas":  # the input's index, as scikit-learn keeps it
            assert out.index.equals(X.index) and again.index.equals(X.index)


def test_scikit_learns_configuration_is_honoured_and_set_output_overrides_it(adult):
    df = _frame(adult)
    numeric = df[["age", "hours_per_week"]]
    scaler = fp.StandardScaler().fit(numeric)
    assert isinstance(scaler.transform(numeric), np.ndarray)
    with sk.config_context(transform_output="pandas"):
        assert list(scaler.transform(numeric).columns) == ["age", "hours_per_week"]
        assert isinstance(scaler.set_output(transform="default").transform(numeric), np.ndarray)
    sk.set_config(transform_output="polars")
    try:
        assert type(fp.MinMaxScaler().fit_transform(numeric)).__module__.startswith("polars")
    finally:
        sk.set_config(transform_output="default")


def test_set_output_on_scikit_learn_compositions_of_fastprep_steps(adult):
    df = _frame(adult)
    ct = skc.ColumnTransformer(
        [
            ("num", skpl.make_pipeline(fp.SimpleImputer(), fp.StandardScaler()), NUM),
            ("cat", fp.OneHotEncoder(sparse_output=False, handle_unknown="ignore"), ["race"]),
        ]
    )
    for container in ("pandas", "polars"):
        out = ct.set_output(transform=container).fit_transform(df)
        assert list(out.columns) == list(ct.get_feature_names_out())
        assert type(ct.transform(df)) is type(out)
    # A scikit-learn step inside fastprep's Pipeline under a global pandas output.
    with sk.config_context(transform_output="pandas"):
        pipe = fp.Pipeline([("sk", skp.StandardScaler()), ("fp", fp.MinMaxScaler())])
        out = pipe.fit_transform(df[NUM])
        assert list(out.columns) == NUM and out.index.equals(df.index)


def test_output_container_is_not_state_and_survives_pickle(adult):
    df = _frame(adult)
    numeric = df[["age", "hours_per_week"]]
    plain = fp.StandardScaler().fit(numeric)
    framed = fp.StandardScaler().fit(numeric).set_output(transform="pandas")
    assert framed.fingerprint == plain.fingerprint
    back = pickle.loads(pickle.dumps(framed))
    assert list(back.transform(numeric).columns) == ["age", "hours_per_week"]
    assert back.fingerprint == plain.fingerprint
    assert isinstance(pickle.loads(pickle.dumps(plain)).transform(numeric), np.ndarray)


def test_set_output_refusals(adult):
    with pytest.raises(fp.ParameterError, match="transform output must be one of"):
        fp.StandardScaler().set_output(transform="xarray")
    with pytest.raises(fp.ParameterError, match="not named"):
        fp.Threshold().set_output(transform="pandas")
    sparse = fp.OneHotEncoder().set_output(transform="pandas")
    with pytest.raises(fp.ParameterError, match="does not support sparse data"):
        sparse.fit_transform({"c": ["a", "b"]})


def test_names_and_reordered_columns_as_scikit_learn(adult):
    """Fitted on a named table, a numeric transform keeps the names; another order, other
    names or a missing column are refused as scikit-learn refuses them."""
    df = _frame(adult)[["age", "hours_per_week", "capital_gain"]]
    ours = fp.StandardScaler().fit(df)
    theirs = skp.StandardScaler().fit(df)
    assert list(ours.feature_names_in_) == list(theirs.feature_names_in_)
    assert list(ours.get_feature_names_out()) == list(theirs.get_feature_names_out())
    for changed in (
        df[["hours_per_week", "age", "capital_gain"]],
        df.rename(columns={"age": "years"}),
        df[["age", "hours_per_week"]],
    ):
        with pytest.raises(ValueError) as theirs_error:
            theirs.transform(changed)
        with pytest.raises(fp.SchemaError) as ours_error:
            ours.transform(changed)
        first = str(theirs_error.value).splitlines()[0]
        assert first in str(ours_error.value), (first, str(ours_error.value))


def test_a_pandas_index_is_not_read_as_a_column(adult):
    df = _frame(adult)[["age", "hours_per_week"]]
    scaler = fp.StandardScaler().fit(df)
    assert list(scaler.feature_names_in_) == ["age", "hours_per_week"]
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        positional = scaler.transform(df.to_numpy())
    np.testing.assert_array_equal(scaler.transform(df), positional)


# -- a model at the end of fastprep's Pipeline ----------------------------------------------------


def _with_model(model):
    return fp.Pipeline([("pre", adult_pipeline()), ("model", model)])


def test_a_pipeline_ending_in_a_model_predicts_as_scikit_learns(adult):
    x, y = adult
    ours = _with_model(sklm.LogisticRegression(max_iter=500)).fit(x, y)
    theirs = skpl.Pipeline(
        [("pre", adult_pipeline()), ("model", sklm.LogisticRegression(max_iter=500))]
    ).fit(x, y)
    for method in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
        np.testing.assert_array_equal(getattr(ours, method)(x), getattr(theirs, method)(x))
    assert ours.score(x, y) == theirs.score(x, y)
    np.testing.assert_array_equal(ours.classes_, [0, 1])
    assert Optional("sklearn.base").is_classifier(ours)
    regression = _with_model(sklm.Ridge()).fit(x, y.astype(float))
    assert not hasattr(regression, "predict_proba") and 0 < regression.score(x, y) < 1


def test_fit_parameters_are_routed_and_y_reaches_every_step(adult):
    x, y = adult
    weights = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    ours = _with_model(sklm.LogisticRegression(max_iter=500))
    ours.fit(x, y, model__sample_weight=weights)
    theirs = skpl.Pipeline(
        [("pre", adult_pipeline()), ("model", sklm.LogisticRegression(max_iter=500))]
    ).fit(x, y, model__sample_weight=weights)
    np.testing.assert_array_equal(ours.predict_proba(x), theirs.predict_proba(x))
    with pytest.raises(fp.ParameterError, match="'sample_weight' is not step__parameter"):
        ours.fit(x, y, sample_weight=weights)
    # SelectKBest needs y: it gets it inside fastprep's Pipeline, as in scikit-learn's.
    num = x.select(NUM)
    select = Optional("sklearn.feature_selection").SelectKBest
    steps = [("impute", fp.SimpleImputer()), ("select", select(k=3)), ("scale", fp.MinMaxScaler())]
    ours = fp.Pipeline([*steps, ("model", sklm.LogisticRegression())]).fit(num, y)
    theirs = skpl.Pipeline([*copy.deepcopy(steps), ("model", sklm.LogisticRegression())])
    theirs.fit(num, y)
    np.testing.assert_array_equal(ours.predict_proba(num), theirs.predict_proba(num))
    assert list(ours[:-1].get_feature_names_out()) == list(theirs[:-1].get_feature_names_out())


def test_the_steps_before_a_model_still_compile_into_one_plan(adult, rust):
    x, y = adult
    num = x.select(NUM)
    steps = [("impute", fp.SimpleImputer()), ("scale", fp.StandardScaler())]
    pipe = fp.Pipeline([*steps, ("model", sklm.LogisticRegression())]).fit(num, y)
    assert pipe._plan is not None
    alone = fp.Pipeline(copy.deepcopy(steps)).fit(num)
    model = sklm.LogisticRegression().fit(alone.transform(num), y)
    np.testing.assert_array_equal(
        pipe.predict_proba(num), model.predict_proba(alone.transform(num))
    )


def test_what_a_pipeline_ending_in_a_model_offers_and_refuses(adult, tmp_path):
    x, y = adult
    pipe = _with_model(sklm.LogisticRegression(max_iter=500)).fit(x, y)
    assert hasattr(pipe, "predict_proba") and not hasattr(pipe, "fit_predict")
    assert not hasattr(fp.Pipeline([("scale", fp.StandardScaler())]), "predict")
    record = x.slice(0, 1).to_pylist()[0]
    for call in (lambda: pipe.transform(x), lambda: pipe.transform_one(record)):
        with pytest.raises(AttributeError, match=r"pipe\[:-1\]"):
            call()
    with pytest.raises(fp.ArtifactError, match=r"'model' \(LogisticRegression\).*pipe\[:-1\]"):
        pipe.save(tmp_path / "model.fpa")
    pipe[:-1].save(tmp_path / "pre.fpa")
    pre = fp.load(tmp_path / "pre.fpa")
    np.testing.assert_array_equal(pre.transform(x), pipe[:-1].transform(x))
    np.testing.assert_array_equal(pre.transform_one(record), pipe[:-1].transform_one(record))
    assert pipe["model"] is pipe[-1] and len(pipe) == 2
    back = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(back.predict_proba(x), pipe.predict_proba(x))


def test_a_pipeline_ending_in_a_model_cross_validates(adult):
    x, y = adult
    pipe = _with_model(sklm.LogisticRegression(max_iter=500))
    scores = skms.cross_val_score(pipe, x, y, cv=3, scoring="roc_auc")
    assert (scores > 0.8).all()


# -- scikit-learn's model selection -------------------------------------------------------------


def test_cross_validate_in_two_worker_processes_returns_fitted_estimators(adult):
    """The estimators come back from the workers by pickle: through fastprep's state."""
    x, y = adult
    model = skpl.make_pipeline(adult_pipeline(), sklm.LogisticRegression(max_iter=300))
    result = skms.cross_validate(model, x, y, cv=2, n_jobs=2, return_estimator=True)
    assert len(result["estimator"]) == 2 and (result["test_score"] > 0.75).all()
    for estimator in result["estimator"]:
        pre = estimator[0]
        assert isinstance(pre, fp.ColumnTransformer) and pre.is_fitted
        assert pre.transform_one(x.slice(0, 1).to_pylist()[0]).shape == (
            len(pre.get_feature_names_out()),
        )


def test_joblib_dump_of_a_scikit_learn_pipeline_holding_fastprep_steps(adult, tmp_path):
    joblib = pytest.importorskip("joblib")
    x, y = adult
    model = skpl.make_pipeline(adult_pipeline(), sklm.LogisticRegression(max_iter=300)).fit(x, y)
    joblib.dump(model, tmp_path / "model.joblib")
    back = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(back.predict_proba(x), model.predict_proba(x))


# -- scikit-learn stays optional ------------------------------------------------------------------


def test_import_fastprep_does_not_import_sklearn():
    code = (
        "import sys, fastprep as fp, numpy as np\n"
        "adult = fp.datasets.load_adult()\n"
        "fp.datasets.adult_pipeline().fit(adult).transform(adult)\n"
        "import pickle; pickle.loads(pickle.dumps(fp.StandardScaler().fit(np.eye(3))))\n"
        "gone = ('sklearn', 'scipy', 'polars')\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in gone]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_fastprep_works_without_pandas():
    """pyarrow imports pandas when it is installed, on its first conversion of Python objects;
    fastprep itself never needs it: with pandas unimportable everything but a pandas output
    works."""
    code = (
        "import sys\n"
        "class NoPandas:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'pandas':\n"
        "            raise ImportError('no pandas here')\n"
        "sys.meta_path.insert(0, NoPandas())\n"
        "import fastprep as fp, numpy as np, pickle\n"
        "adult = fp.datasets.load_adult()\n"
        "pipe = fp.datasets.adult_pipeline().fit(adult)\n"
        "pipe.transform(adult); pickle.loads(pickle.dumps(pipe))\n"
        "pipe.set_output(transform='pyarrow').transform(adult)\n"
        "try:\n"
        "    pipe.set_output(transform='pandas').transform(adult)\n"
        "except ImportError:\n"
        "    pass\n"
        "else:\n"
        "    raise AssertionError('a pandas output without pandas')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
