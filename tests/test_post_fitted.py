"""Fitted postprocessors: label decoding, thresholds, calibration (against scikit-learn),
target inversion; saving them alone, in a PostPipeline and in a Bundle with preprocessing."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastprep as fp
from fastprep.datasets import ADULT_CATEGORICAL, ADULT_NUMERIC, adult_pipeline, load_adult

from .helpers import Optional, rewritten

sk_metrics = Optional("sklearn.metrics")
sk_calibration = Optional("sklearn.calibration")
sk_isotonic = Optional("sklearn.isotonic")
sk_preprocessing = Optional("sklearn.preprocessing")


def _binary(n=2000, seed=0, slope=2.0):
    rng = np.random.default_rng(seed)
    s = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-slope * s))).astype(np.int64)
    return s, y


# -- LabelDecoder ------------------------------------------------------------------------------


def test_label_decoder(backend):
    y = np.array(["dog", "cat", "bird", "cat"], dtype=object)
    dec = fp.LabelDecoder().fit(y)
    assert dec.classes_.tolist() == sk_preprocessing.LabelEncoder().fit(y).classes_.tolist()
    assert dec.inverse_transform(["cat", "dog"]).tolist() == [1, 2]
    assert dec.transform(np.array([2, 0])).tolist() == ["dog", "bird"]
    scores = np.array([[0.1, 0.2, 0.7], [0.5, 0.4, 0.1]], dtype=np.float32)
    assert dec.transform(scores).tolist() == ["dog", "bird"]
    _, labels = dec.top_k(scores, 2)
    assert labels.tolist() == [["dog", "cat"], ["bird", "cat"]]
    given_order = fp.LabelDecoder(classes=["z", "a"]).fit()
    assert given_order.transform(np.array([[0.9, 0.1]])).tolist() == ["z"]
    with pytest.raises(fp.UnknownCategoryError, match="'fish'"):
        dec.inverse_transform(["fish"])
    with pytest.raises(fp.DataError, match="outside"):
        dec.transform(np.array([3]))
    with pytest.raises(fp.SchemaError, match="2 columns for 3 classes"):
        dec.decode(np.zeros((1, 2)))
    with pytest.raises(fp.ParameterError, match="distinct"):
        fp.LabelDecoder(classes=["a", "a"]).fit()
    with pytest.raises(fp.NotFittedError):
        fp.LabelDecoder().transform(np.array([0]))


# -- Threshold ---------------------------------------------------------------------------------


def test_fixed_thresholds_binary_and_multilabel(backend):
    s = np.array([0.2, 0.5, 0.7, np.nan])
    t = fp.Threshold(0.5).fit(s)
    assert t.transform(s).tolist() == [0, 1, 1, 0]  # score >= threshold; NaN is 0
    m = np.array([[0.2, 0.9], [0.6, 0.3]])
    per_label = fp.Threshold([0.5, 0.25]).fit(m)
    assert per_label.transform(m).tolist() == [[0, 1], [1, 1]]
    with pytest.raises(fp.SchemaError, match="columns"):
        per_label.transform(s)


def _candidates(s):
    return np.unique(s)


@pytest.mark.parametrize("seed", range(4))
def test_tuned_thresholds_match_a_brute_force_search(seed, backend):
    s, y = _binary(400, seed, slope=1.0)
    s = np.round(s, 2)  # ties among scores
    rows = []
    for t in _candidates(s):
        pred = (s >= t).astype(int)
        rows.append(
            (
                t,
                sk_metrics.precision_score(y, pred, zero_division=0),
                sk_metrics.recall_score(y, pred),
                sk_metrics.f1_score(y, pred),
            )
        )
    table = np.array(rows)
    f1 = fp.Threshold(metric="f1").fit(s, y).threshold_[0]
    best = table[:, 3].max()
    assert table[table[:, 0] == f1][0, 3] == pytest.approx(best, abs=1e-12)
    for target in (0.6, 0.8):
        p = fp.Threshold(metric="precision", target=target).fit(s, y).threshold_[0]
        reaching = table[table[:, 1] >= target]
        assert p == reaching[:, 0].min()  # the lowest such threshold: the most recall
        r = fp.Threshold(metric="recall", target=target).fit(s, y).threshold_[0]
        keeping = table[table[:, 2] >= target]
        assert r == keeping[:, 0].max()  # the highest such threshold: the most precision
    multi = fp.Threshold(metric="f1").fit(np.column_stack([s, -s]), np.column_stack([y, 1 - y]))
    assert multi.threshold_[0] == f1


def test_threshold_bad_input(backend):
    s, y = _binary(50)
    with pytest.raises(fp.ParameterError, match="target"):
        fp.Threshold(metric="precision", target=1.5).fit(s, y)
    with pytest.raises(fp.ParameterError, match="metric"):
        fp.Threshold(metric="auc").fit(s, y)
    with pytest.raises(fp.ParameterError, match="needs labels"):
        fp.Threshold(metric="f1").fit(s)
    with pytest.raises(fp.SchemaError, match="0/1 labels"):
        fp.Threshold(metric="f1").fit(s, y * 2)
    with pytest.raises(fp.DataError, match="no threshold reaches precision"):
        fp.Threshold(metric="precision", target=1.0).fit(np.array([1.0, 0.5]), np.array([0, 1]))


# -- Calibrator ---------------------------------------------------------------------------------


def _sklearn_calibrated(s, y, method):
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.frozen import FrozenEstimator

    class Scores(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            self.classes_ = np.array([0, 1])
            return self

        def decision_function(self, X):
            return np.asarray(X)[:, 0]

        def predict(self, X):
            return (self.decision_function(X) > 0).astype(int)

    X = s.reshape(-1, 1)
    model = sk_calibration.CalibratedClassifierCV(
        FrozenEstimator(Scores().fit(X, y)), method=method
    )
    return model.fit(X, y)


@pytest.mark.parametrize("seed", range(3))
def test_sigmoid_calibration_matches_scikit_learn(seed, backend):
    s, y = _binary(3000, seed)
    ours = fp.Calibrator("sigmoid").fit(s, y)
    theirs = _sklearn_calibrated(s, y, "sigmoid")
    grid = np.linspace(-4, 4, 201)
    np.testing.assert_allclose(
        ours.transform(grid), theirs.predict_proba(grid.reshape(-1, 1))[:, 1], atol=1e-6
    )


@pytest.mark.parametrize("seed", range(3))
def test_isotonic_calibration_matches_scikit_learn(seed, backend):
    s, y = _binary(3000, seed)
    s = np.round(s, 1)  # ties, as real scores have
    ours = fp.Calibrator("isotonic").fit(s, y)
    grid = np.linspace(-5, 5, 401)
    iso = sk_isotonic.IsotonicRegression(out_of_bounds="clip").fit(s, y)
    np.testing.assert_allclose(ours.transform(grid), iso.predict(grid), atol=1e-12)
    theirs = _sklearn_calibrated(s, y, "isotonic")
    np.testing.assert_allclose(
        ours.transform(grid), theirs.predict_proba(grid.reshape(-1, 1))[:, 1], atol=1e-12
    )


@given(st.integers(0, 2**16), st.sampled_from(["sigmoid", "isotonic"]))
def test_calibration_is_monotone(backend, seed, method):
    s, y = _binary(300, seed)
    cal = fp.Calibrator(method).fit(s, y)
    grid = np.sort(np.random.default_rng(seed).normal(scale=3, size=500))
    p = cal.transform(grid)
    assert np.all(np.diff(p) >= 0) and np.all((p >= 0) & (p <= 1))


def test_temperature_scaling(backend):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 2000)
    logits = rng.normal(size=(2000, 5))
    logits[np.arange(2000), y] += 1.5
    logits *= 4.0  # overconfident: the fitted temperature should cool it down (T > 1)
    cal = fp.Calibrator("temperature").fit(logits, y)

    def nll(t):
        p = fp.post.softmax(logits / t)
        return -np.mean(np.log(p[np.arange(y.size), y]))

    t = cal.temperature_
    assert t > 1 and nll(t) <= min(nll(t * 1.01), nll(t / 1.01))
    grid = np.exp(np.linspace(-2, 3, 400))
    assert nll(t) <= min(nll(g) for g in grid) + 1e-9
    p = cal.transform(logits)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert np.array_equal(np.argmax(p, axis=1), np.argmax(logits, axis=1))  # ranking kept
    f32 = cal.transform(logits.astype(np.float32))
    assert f32.dtype == np.float32


def test_calibrator_bad_input(backend):
    s, y = _binary(50)
    with pytest.raises(fp.ParameterError, match="method"):
        fp.Calibrator("beta").fit(s, y)
    with pytest.raises(fp.DataError, match="NaN"):
        fp.Calibrator("sigmoid").fit(np.where(s > 1, np.nan, s), y)
    with pytest.raises(fp.DataError, match="0/1"):
        fp.Calibrator("isotonic").fit(s, y + 1)
    with pytest.raises(fp.SchemaError, match="1-D"):
        fp.Calibrator("sigmoid").fit(np.zeros((50, 2)), y)
    with pytest.raises(fp.DataError, match="class indices"):
        fp.Calibrator("temperature").fit(np.zeros((3, 2)), np.array([0, 1, 2]))


# -- TargetInverse -----------------------------------------------------------------------------


def test_target_inverse(backend):
    y = np.random.default_rng(1).lognormal(size=500)
    inv = fp.TargetInverse(fp.StandardScaler()).fit(y)
    scaled = fp.StandardScaler().fit(y.reshape(-1, 1))
    z = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(
        inv.transform(z), scaled.inverse_transform(z.reshape(-1, 1))[:, 0]
    )
    np.testing.assert_allclose(inv.transform(scaled.transform(y.reshape(-1, 1))[:, 0]), y)
    with pytest.raises(fp.ParameterError, match="inverse_transform"):
        fp.TargetInverse(fp.Normalizer()).fit(y)


# -- saving ------------------------------------------------------------------------------------


def test_postprocessors_round_trip(tmp_path, backend):
    s, y = _binary(500)
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(100, 3))
    objects = [
        (fp.LabelDecoder(classes=["a", "b", "c"]).fit(), logits),
        (fp.LabelDecoder().fit(np.array([3, 1, 2])), np.array([0, 2])),
        (fp.Threshold(metric="f1").fit(s, y), s),
        (fp.Calibrator("sigmoid").fit(s, y), s),
        (fp.Calibrator("isotonic").fit(s, y), s),
        (fp.Calibrator("temperature").fit(logits, rng.integers(0, 3, 100)), logits),
        (fp.TargetInverse(fp.MinMaxScaler()).fit(s), s),
    ]
    for i, (obj, data) in enumerate(objects):
        obj.save(tmp_path / f"{i}.fpa")
        back = fp.load(tmp_path / f"{i}.fpa")
        assert type(back) is type(obj) and back.fingerprint == obj.fingerprint
        a, b = obj.transform(data), back.transform(data)
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_a_service_loads_one_file(tmp_path, backend):
    """Preprocessing and postprocessing in one artifact: a Bundle."""
    table = load_adult()
    adult = pa.table({c: table[c][:3000] for c in ADULT_NUMERIC + ADULT_CATEGORICAL})
    pre = adult_pipeline().fit(adult)
    s, y = _binary(3000)
    post = fp.PostPipeline(
        [("calibrate", fp.Calibrator("isotonic")), ("decide", fp.Threshold(metric="f1"))]
    ).fit(s, y)
    bundle = fp.Bundle(preprocess=pre, postprocess=post)
    path = bundle.save(tmp_path / "service.fpa", metadata={"model": "income"})
    back = fp.load(path)
    assert back.fingerprint == bundle.fingerprint
    assert np.array_equal(back.preprocess.transform(adult), pre.transform(adult))
    assert np.array_equal(back["postprocess"].transform(s), post.transform(s))
    info = fp.inspect(path)
    assert info["kind"] == "Bundle" and info["profile"]["rows"] == 3000
    assert info["plan"]["width"] == len(pre.get_feature_names_out())  # for a Rust service
    changed = fp.Bundle(preprocess=pre, postprocess=fp.PostPipeline([("d", fp.Threshold(0.3))]))
    assert changed.postprocess.fit(s).is_fitted
    assert changed.fingerprint != bundle.fingerprint


def test_invalid_postprocessing_state_is_refused(tmp_path, backend):
    from .test_artifact import _array_edit, _refused

    s, y = _binary(200)
    iso = fp.dumps(fp.Calibrator("isotonic").fit(s, y))
    unsorted = _array_edit("y_thresholds_", lambda a: a[::-1].copy())
    _refused(rewritten(iso, unsorted), "not increasing")
    temp = fp.dumps(fp.Calibrator("temperature").fit(np.eye(3) * 3, np.arange(3)))

    def negative(m, t):
        m["root"]["state"]["temperature_"] = -1.0

    _refused(rewritten(temp, negative), "positive")
