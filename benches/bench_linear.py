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
from fastprep.datasets import load_adult

from .conftest import ROWS, run

pd = pytest.importorskip("pandas")
skc = pytest.importorskip("sklearn.compose")
ski = pytest.importorskip("sklearn.impute")
skl = pytest.importorskip("sklearn.linear_model")
skp = pytest.importorskip("sklearn.pipeline")
skpp = pytest.importorskip("sklearn.preprocessing")

NUM = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
CAT = ["workclass", "education", "marital_status"]


@pytest.fixture(scope="module")
def model():
    table = load_adult()
    frame = pd.DataFrame({c: table[c] for c in NUM + CAT})
    for c in NUM:
        frame[c] = frame[c].astype(np.float64)
    y = np.asarray(table["salary"]) == ">50K"
    theirs = skp.Pipeline(
        [
            (
                "prep",
                skc.ColumnTransformer(
                    [
                        (
                            "num",
                            skp.make_pipeline(
                                ski.SimpleImputer(strategy="median"), skpp.StandardScaler()
                            ),
                            NUM,
                        ),
                        (
                            "cat",
                            skpp.OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                            CAT,
                        ),
                    ]
                ),
            ),
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
    rt = pytest.importorskip("onnxruntime")
    convert = pytest.importorskip("skl2onnx")
    types = pytest.importorskip("skl2onnx.common.data_types")
    _, theirs, record, _ = model
    inputs = [(c, types.FloatTensorType([None, 1])) for c in NUM]
    inputs += [(c, types.StringTensorType([None, 1])) for c in CAT]
    onnx = convert.convert_sklearn(
        theirs,
        initial_types=inputs,
        target_opset=17,
        options={id(theirs.named_steps["model"]): {"zipmap": False}},
    )
    options = rt.SessionOptions()
    options.intra_op_num_threads = 1
    session = rt.InferenceSession(onnx.SerializeToString(), options)

    def feed(r: dict) -> dict:
        return {
            **{c: np.array([[r[c]]], dtype=np.float32) for c in NUM},
            **{c: np.array([[r[c]]], dtype=object) for c in CAT},
        }

    probabilities = session.run(None, feed(record))[1][0]
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
        run(benchmark, impl, lambda r: session.run(None, feed(r))[1][0], record)
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
