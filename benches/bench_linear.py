"""A converted scikit-learn pipeline that ends in a model: the Adult data's 6 numeric columns
(median impute, standard scale) and 3 categorical ones (one-hot, unknown ignored) into a
LogisticRegression, fitted by scikit-learn and converted with ``fastprep.from_sklearn``.
One record (a dict of Python values) to its class probabilities: fastprep's
``predict_proba_one`` against scikit-learn's ``predict_proba`` of a one-row DataFrame and
ONNX Runtime running skl2onnx's conversion fed the same record; and ``predict_proba`` of a
batch of ROWS rows (the Adult rows repeated) against scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest

import fastprep as fp

from .conftest import (
    ROWS,
    SERVING_NUM,
    onnx_serving_session,
    run,
    serving_frame,
    sklearn_serving_preprocessing,
)

NUM = SERVING_NUM
pd = pytest.importorskip("pandas")
skl = pytest.importorskip("sklearn.linear_model")
skp = pytest.importorskip("sklearn.pipeline")


@pytest.fixture(scope="module")
def model():
    frame, table = serving_frame()
    y = np.asarray(table["salary"]) == ">50K"
    theirs = skp.Pipeline(
        [
            ("prep", sklearn_serving_preprocessing()),
            ("model", skl.LogisticRegression(max_iter=1000)),
        ]
    ).fit(frame, y)
    ours = fp.from_sklearn(theirs)
    complete = frame.dropna().reset_index(drop=True)
    record = {c: (float(v) if c in NUM else v) for c, v in complete.iloc[0].items()}
    np.testing.assert_allclose(
        ours.predict_proba_one(record), theirs.predict_proba(complete.head(1))[0], rtol=1e-12
    )
    return ours, theirs, record, complete


@pytest.fixture(scope="module")
def onnx_session(model):
    _, theirs, record, _ = model
    options = {id(theirs.named_steps["model"]): {"zipmap": False}}
    session, feed = onnx_serving_session(theirs, options)
    probabilities = session.run(None, feed([record]))[1][0]
    np.testing.assert_allclose(probabilities, model[0].predict_proba_one(record), rtol=1e-4)
    return session, feed


@pytest.mark.parametrize("impl", ["rust", "python", "sklearn", "onnxruntime"])
def bench_predict_proba_one(benchmark, model, onnx_session, impl):
    """One record (a dict of Python values) to its class probabilities."""
    ours, theirs, record, _ = model
    benchmark.group = "linear: predict_proba of one record"
    if impl == "sklearn":
        run(benchmark, impl, lambda r: theirs.predict_proba(pd.DataFrame([r]))[0], record)
    elif impl == "onnxruntime":
        session, feed = onnx_session
        run(benchmark, impl, lambda r: session.run(None, feed([r]))[1][0], record)
    else:
        run(benchmark, impl, ours.predict_proba_one, record)


@pytest.fixture(scope="module")
def batch(model):
    _, _, _, complete = model
    repeats = -(-ROWS // len(complete))
    return pd.concat([complete] * repeats, ignore_index=True).head(ROWS)


@pytest.mark.parametrize("impl", ["rust", "sklearn"])
def bench_predict_proba_batch(benchmark, model, batch, impl):
    """``predict_proba`` of ROWS rows of a DataFrame."""
    ours, theirs, _, _ = model
    benchmark.group = "linear: predict_proba of a batch"
    if impl == "sklearn":
        run(benchmark, impl, theirs.predict_proba, batch)
    else:
        run(benchmark, impl, ours.predict_proba, batch)
