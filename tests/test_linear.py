"""Linear models: the scores and probabilities kernels (Rust against the NumPy reference, bit
for bit), scikit-learn's nine linear models converted with their predictions and
probabilities, converted pipelines that end in one, record by record, and their artifacts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastprep as fp
from fastprep import reference
from fastprep.testing import assert_bit_identical
from fastprep.testing.strategies import float_matrices

pd = pytest.importorskip("pandas")
skc = pytest.importorskip("sklearn.compose")
ske = pytest.importorskip("sklearn.ensemble")
skl = pytest.importorskip("sklearn.linear_model")
skp = pytest.importorskip("sklearn.pipeline")
skpp = pytest.importorskip("sklearn.preprocessing")
sksvm = pytest.importorskip("sklearn.svm")


def _core():
    core = fp._backend._core
    if core is None:
        pytest.skip("fastprep._core is not built")
    return core


@st.composite
def _models(draw, x_cols: int):
    outputs = draw(st.integers(1, 4))
    finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
    coef = np.array(
        draw(st.lists(finite, min_size=outputs * x_cols, max_size=outputs * x_cols)),
        dtype=np.float64,
    ).reshape(outputs, x_cols)
    intercept = np.array(draw(st.lists(finite, min_size=outputs, max_size=outputs)))
    return coef, intercept


@given(data=st.data(), x=float_matrices(max_cols=6))
def test_scores_are_the_references_bit_for_bit(data, x):
    """Scores of matrices with NaN, ±inf, no rows, one row, constant columns, float32 and
    float64 (every layout): the Rust kernel gives the reference's bits."""
    coef, intercept = data.draw(_models(x.shape[1]))
    ours = _core().linear_decision(np.ascontiguousarray(x), coef, intercept)
    expected = reference.linear_decision(np.ascontiguousarray(x), coef, intercept)
    assert ours.dtype == np.float64 and ours.shape == (x.shape[0], coef.shape[0])
    assert_bit_identical(ours, expected)


@given(
    scores=float_matrices(dtypes=(np.float64,), max_cols=5, layouts=False),
    link=st.sampled_from(["logistic", "softmax", "modified_huber"]),
    log=st.booleans(),
)
def test_probabilities_are_the_references_bit_for_bit(scores, link, log):
    ours = _core().linear_proba(scores, link, log)
    expected = reference.linear_proba(scores, link, log)
    assert ours.shape == (scores.shape[0], 2 if scores.shape[1] == 1 else scores.shape[1])
    assert_bit_identical(ours, expected)


def test_kernels_refuse_what_does_not_fit():
    core = _core()
    for kernels in (core, reference):
        with pytest.raises(fp.SchemaError, match="takes 3 features"):
            kernels.linear_decision(np.zeros((2, 2)), np.zeros((1, 3)), np.zeros(1))
        with pytest.raises(fp.SchemaError, match="intercepts"):
            kernels.linear_decision(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros(1))
        with pytest.raises(fp.ParameterError, match="link"):
            kernels.linear_proba(np.zeros((2, 2)), "probit", False)
    with pytest.raises(fp.SchemaError, match="C-contiguous"):
        core.linear_decision(np.zeros((2, 3)), np.asfortranarray(np.ones((2, 3))), np.zeros(2))


# -- scikit-learn's models ---------------------------------------------------------------------


def _data(seed: int = 0, rows: int = 400):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 5)) * [1.0, 3.0, 0.3, 10.0, 1.0]
    two = (x[:, 0] + 0.3 * x[:, 1] + rng.normal(size=rows) > 0).astype(np.int64)
    three = np.digitize(x[:, 0] + rng.normal(size=rows), [-0.5, 0.5])
    target = x @ [1.0, 2.0, -3.0, 0.1, 0.0] + rng.normal(size=rows)
    return x, two, three, target


LABELS = {
    "int": lambda k: np.arange(k) * 3 - 2,
    "str": lambda k: np.array(["no", "yes", "maybe"][:k], dtype=object),
    "bool": lambda k: np.array([False, True]),
    "float": lambda k: np.array([0.0, 1.0, 2.0][:k]),
}

CLASSIFIERS = [
    lambda: skl.LogisticRegression(),
    lambda: skl.LogisticRegression(C=0.01, fit_intercept=False),
    lambda: skl.LogisticRegression(solver="liblinear"),
    lambda: skl.SGDClassifier(loss="log_loss", random_state=0),
    lambda: skl.SGDClassifier(loss="modified_huber", random_state=0),
    lambda: skl.SGDClassifier(loss="hinge", random_state=0),
    lambda: sksvm.LinearSVC(max_iter=10_000),
]


def _assert_probabilities(ours, theirs):
    """Within 1e-12 relative; where scikit-learn's binary ``1 - p`` cancels, within one unit
    in the last place of ``p`` (the scores' last bits differ: BLAS sums in another order)."""
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=np.finfo(np.float64).eps / 2)


@pytest.mark.parametrize("make", CLASSIFIERS, ids=lambda f: repr(f()))
@pytest.mark.parametrize("classes", [2, 3])
@pytest.mark.parametrize("labels", list(LABELS))
def test_classifiers_convert_with_scikit_learns_answers(make, classes, labels):
    if labels == "bool" and classes == 3:
        pytest.skip("two booleans")
    if classes == 3 and "liblinear" in repr(make()):
        pytest.skip("scikit-learn's liblinear solver fits two classes only")
    x, two, three, _ = _data()
    y = LABELS[labels](classes)[two if classes == 2 else three]
    theirs = make().fit(x, y)
    ours = fp.from_sklearn(theirs)
    assert isinstance(ours, fp.LinearClassifier)
    assert ours.classes_.tolist() == theirs.classes_.tolist()
    predicted = ours.predict(x)
    assert predicted.dtype == theirs.predict(x).dtype
    np.testing.assert_array_equal(predicted, theirs.predict(x))
    scores = theirs.decision_function(x)
    scale = np.abs(x) @ np.abs(np.atleast_2d(theirs.coef_)).T
    np.testing.assert_allclose(
        ours.decision_function(x), scores, rtol=1e-12, atol=1e-14 * scale.max()
    )
    assert hasattr(ours, "predict_proba") == hasattr(theirs, "predict_proba")
    if hasattr(theirs, "predict_proba"):
        _assert_probabilities(ours.predict_proba(x), theirs.predict_proba(x))
        with np.errstate(divide="ignore"):
            expected = theirs.predict_log_proba(x)
        got = ours.predict_log_proba(x)
        finite = np.isfinite(expected)
        np.testing.assert_array_equal(np.isfinite(got), finite)
        np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-12, atol=1e-15)
    else:
        with pytest.raises(AttributeError, match="no predict_proba"):
            ours.predict_proba(x)


@pytest.mark.parametrize(
    "make",
    [
        lambda: skl.LinearRegression(),
        lambda: skl.LinearRegression(fit_intercept=False),
        lambda: skl.Ridge(alpha=3.0),
        lambda: skl.Lasso(alpha=0.05),
        lambda: skl.ElasticNet(alpha=0.05),
        lambda: skl.SGDRegressor(random_state=0),
        lambda: sksvm.LinearSVR(random_state=0),
    ],
    ids=lambda f: repr(f()),
)
@pytest.mark.parametrize("targets", [1, 2])
def test_regressors_convert_with_scikit_learns_predictions(make, targets):
    x, _, _, target = _data()
    theirs = make()
    if targets == 2 and not isinstance(theirs, (skl.LinearRegression, skl.Ridge)):
        pytest.skip("one target only")
    y = target if targets == 1 else np.c_[target, -2 * target]
    theirs.fit(x, y)
    ours = fp.from_sklearn(theirs)
    assert isinstance(ours, fp.LinearRegressor)
    expected = theirs.predict(x)
    assert ours.predict(x).shape == expected.shape
    scale = np.abs(x) @ np.abs(np.atleast_2d(theirs.coef_)).T
    np.testing.assert_allclose(ours.predict(x), expected, rtol=1e-12, atol=1e-14 * scale.max())


def test_models_are_run_not_trained():
    x, two, _, _ = _data()
    ours = fp.from_sklearn(skl.LogisticRegression().fit(x, two))
    with pytest.raises(fp.ParameterError, match="from_sklearn"):
        ours.fit(x, two)
    with pytest.raises(fp.ConversionError, match="RandomForestClassifier"):
        fp.from_sklearn(ske.RandomForestClassifier(n_estimators=2).fit(x, two))


# -- pipelines that end in a model -----------------------------------------------------------------


@pytest.fixture(scope="module")
def frame_and_labels():
    x, _, three, target = _data(1)
    frame = pd.DataFrame(x, columns=list("abcde"))
    rng = np.random.default_rng(1)
    frame["k"] = rng.choice(["u", "v", "w"], len(frame)).astype(object)
    frame.loc[rng.random(len(frame)) < 0.1, "a"] = np.nan
    return frame, np.array(["lo", "mid", "hi"], dtype=object)[three], target


def _preprocessing():
    from sklearn.impute import SimpleImputer

    return skc.ColumnTransformer(
        [
            ("num", skp.make_pipeline(SimpleImputer(), skpp.StandardScaler()), list("abcde")),
            ("cat", skpp.OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["k"]),
        ]
    )


def _records(frame):
    return [
        {k: (v if isinstance(v, str) else float(v)) for k, v in r.items()}
        for r in frame.to_dict("records")
    ]


@pytest.mark.parametrize("model", ["logistic", "svc", "ridge"])
def test_converted_pipelines_predict_batch_and_record_by_record(frame_and_labels, model, tmp_path):
    frame, labels, target = frame_and_labels
    final, y = {
        "logistic": (skl.LogisticRegression(), labels),
        "svc": (sksvm.LinearSVC(), labels),
        "ridge": (skl.Ridge(), target),
    }[model]
    theirs = skp.Pipeline([("prep", _preprocessing()), ("model", final)]).fit(frame, y)
    ours = fp.from_sklearn(theirs)
    assert isinstance(ours, fp.Pipeline)
    if model == "ridge":
        np.testing.assert_allclose(ours.predict(frame), theirs.predict(frame), rtol=1e-12)
    else:
        np.testing.assert_array_equal(ours.predict(frame), theirs.predict(frame))
    records = _records(frame.head(25))
    batch = ours.predict(frame.head(25))
    assert [ours.predict_one(r) for r in records] == batch.tolist()
    if model == "logistic":
        _assert_probabilities(ours.predict_proba(frame), theirs.predict_proba(frame))
        probabilities = ours.predict_proba(frame.head(25))
        for r, p in zip(records, probabilities, strict=True):
            np.testing.assert_array_equal(ours.predict_proba_one(r), p)
        assert ours.classes_.tolist() == theirs.classes_.tolist()
    if model != "ridge":
        scores = ours.decision_function(frame.head(25))
        for r, s in zip(records, scores, strict=True):
            np.testing.assert_array_equal(ours.decision_function_one(r), s)
    else:
        assert not hasattr(ours, "predict_proba_one")
    ours.save(tmp_path / "model.fp")
    loaded = fp.load(tmp_path / "model.fp", fp.Pipeline)
    assert loaded.fingerprint == ours.fingerprint
    np.testing.assert_array_equal(loaded.predict(frame), ours.predict(frame))


def test_a_converted_model_keeps_working_without_its_scikit_learn_object(frame_and_labels):
    frame, labels, _ = frame_and_labels
    theirs = skp.Pipeline([("prep", _preprocessing()), ("model", skl.LogisticRegression())])
    theirs.fit(frame, labels)
    ours = fp.from_sklearn(theirs)
    expected = theirs.predict_proba(frame)
    theirs.named_steps["model"].coef_[:] = 0.0
    _assert_probabilities(ours.predict_proba(frame), expected)


def test_records_missing_a_column_are_refused_by_name(frame_and_labels):
    frame, labels, _ = frame_and_labels
    theirs = skp.Pipeline([("prep", _preprocessing()), ("model", skl.LogisticRegression())])
    ours = fp.from_sklearn(theirs.fit(frame, labels))
    record = _records(frame.head(1))[0]
    del record["k"]
    with pytest.raises(fp.SchemaError, match="'k'"):
        ours.predict_proba_one(record)
    with pytest.raises(fp.SchemaError, match="mapping"):
        ours.predict_one([1.0, 2.0])


def test_the_native_record_entries_answer_as_the_methods(frame_and_labels):
    """After a first call, ``predict_one``, ``predict_proba_one`` and
    ``decision_function_one`` are one native call each (features and model together): the
    same answers as the batch methods, whatever the mapping, the backend or the record's
    values; errors name the column; pickles leave them out."""
    import collections
    import pickle

    if fp.get_backend() != "rust":
        pytest.skip("the native entries need the compiled core")
    frame, labels, target = frame_and_labels
    records = _records(frame.head(30))
    classifier = fp.from_sklearn(
        skp.Pipeline([("prep", _preprocessing()), ("model", skl.LogisticRegression())]).fit(
            frame, labels
        )
    )
    regressor = fp.from_sklearn(
        skp.Pipeline([("prep", _preprocessing()), ("model", skl.Ridge())]).fit(frame, target)
    )
    batch = frame.head(30)
    expected = {
        "predict_one": classifier.predict(batch),
        "predict_proba_one": classifier.predict_proba(batch),
        "decision_function_one": classifier.decision_function(batch),
    }
    for method, rows in expected.items():
        first = getattr(classifier, method)(records[0])
        entry = classifier.__dict__.get(method)
        assert type(getattr(entry, "__self__", None)).__name__ == "ModelRowCall", method
        for record, row in zip(records, rows, strict=True):
            np.testing.assert_array_equal(getattr(classifier, method)(record), row)
        np.testing.assert_array_equal(getattr(classifier, method)(records[0]), first)
        ordered = collections.OrderedDict(records[1])
        np.testing.assert_array_equal(getattr(classifier, method)(ordered), rows[1])
        with fp.use_backend("python"):
            np.testing.assert_array_equal(getattr(classifier, method)(records[2]), rows[2])
    label = classifier.predict_one(records[0])
    assert type(label) is type(classifier.predict(batch)[0])
    assert type(classifier.decision_function_one(records[0])) is np.ndarray  # three classes
    regressor.predict_one(records[0])
    assert type(getattr(regressor.__dict__["predict_one"], "__self__", None)).__name__ == (
        "ModelRowCall"
    )
    predictions = regressor.predict(batch)
    for record, value in zip(records, predictions, strict=True):
        answer = regressor.predict_one(record)
        assert type(answer) is float and answer == value
    with pytest.raises(fp.SchemaError, match=r"^Pipeline: the record lacks the column 'k'$"):
        classifier.predict_proba_one({k: v for k, v in records[0].items() if k != "k"})
    again = pickle.loads(pickle.dumps(classifier))
    assert "predict_proba_one" not in again.__dict__
    np.testing.assert_array_equal(
        again.predict_proba_one(records[3]), expected["predict_proba_one"][3]
    )


@pytest.mark.parametrize("model", ["logistic", "sgd-huber", "ridge"])
def test_batch_answers_computed_in_the_plan_are_the_step_by_step_ones(frame_and_labels, model):
    """A pipeline's batch answers, computed by the plan after each block of features (no
    feature matrix), equal the model's answers on the features, and the Python backend's
    step-by-step ones, bit for bit; a value an encoder refuses still raises its error."""
    frame, labels, target = frame_and_labels
    final, y = {
        "logistic": (skl.LogisticRegression(), labels),
        "sgd-huber": (skl.SGDClassifier(loss="modified_huber", random_state=0), labels),
        "ridge": (skl.Ridge(), target),
    }[model]
    theirs = skp.Pipeline([("prep", _preprocessing()), ("model", final)]).fit(frame, y)
    ours = fp.from_sklearn(theirs)
    if fp.get_backend() == "rust":
        assert ours._in_plan(frame, None) is not None  # the fused path runs
    features = ours[:-1].transform(frame)
    methods = ["predict"] + (["predict_proba", "predict_log_proba", "decision_function"]
                             if model != "ridge" else [])  # fmt: skip
    for method in methods:
        fused = getattr(ours, method)(frame)
        np.testing.assert_array_equal(fused, getattr(ours[-1], method)(features), err_msg=method)
        with fp.use_backend("python"):
            np.testing.assert_array_equal(fused, getattr(ours, method)(frame), err_msg=method)
    strict = skp.Pipeline(
        [
            ("prep", skc.ColumnTransformer([("cat", skpp.OneHotEncoder(), ["k"])])),
            ("model", skl.LogisticRegression()),
        ]
    ).fit(frame, labels)
    with pytest.raises(fp.UnknownCategoryError):
        fp.from_sklearn(strict).predict_proba(frame.head(3).assign(k="never"))
