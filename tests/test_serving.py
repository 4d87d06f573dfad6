"""The request path and reused buffers: ``transform_one`` / ``transform_records`` through the
compiled plan's one-row calls (the same numbers as the batch, under every dtype and backend,
whatever kind of mapping a record is), and ``transform(X, out=...)``."""

from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest

import fastprep as fp

NUM = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
CAT = ["workclass", "education", "marital_status"]


@pytest.fixture(scope="module")
def served():
    from fastprep.datasets import load_adult

    table = load_adult()
    data = {c: table[c] for c in NUM + CAT}
    ct = fp.ColumnTransformer(
        [
            (
                "num",
                fp.Pipeline(
                    [
                        ("impute", fp.SimpleImputer(strategy="median")),
                        ("scale", fp.StandardScaler()),
                    ]
                ),
                NUM,
            ),
            ("cat", fp.OneHotEncoder(handle_unknown="ignore", sparse_output=False), CAT),
        ]
    ).fit(data)
    rows = [
        {c: (data[c][i].item() if hasattr(data[c][i], "item") else data[c][i]) for c in data}
        for i in range(300)
    ]
    rows[3] = {**rows[3], "age": None, "workclass": None, "education": "unseen"}
    rows[4] = {**rows[4], "fnlwgt": 7, "hours_per_week": float("nan")}  # an int, a NaN
    return ct, rows


@pytest.mark.parametrize("dtype", [np.float64, np.float32, "float32", np.dtype("float64")])
def test_request_rows_equal_the_batch(served, dtype, backend):
    ct, rows = served
    columns = {c: [r[c] for r in rows] for c in NUM + CAT}
    batch = ct.transform(columns, dtype=dtype)
    records = ct.transform_records(rows, dtype=dtype)
    np.testing.assert_array_equal(records, batch, strict=True)
    for i in (0, 3, 4, 299):
        one = ct.transform_one(rows[i], dtype=dtype)
        np.testing.assert_array_equal(one, batch[i], strict=True)
        # Any mapping takes the same answer (other than a dict: the step-by-step path).
        ordered = collections.OrderedDict(rows[i])
        np.testing.assert_array_equal(ct.transform_one(ordered, dtype=dtype), one)
    np.testing.assert_array_equal(ct.transform_records(tuple(rows[:5]), dtype=dtype), batch[:5])
    assert ct.transform_records([], dtype=dtype).shape == (0, batch.shape[1])


def test_a_value_the_row_path_does_not_read_takes_the_batch_path(served, backend):
    """A NumPy scalar, a bool: the batch path reads them as any batch would."""
    ct, rows = served
    row = {**rows[0], "age": np.float32(39.0), "capital_loss": True}
    expected = ct.transform({c: [row[c]] for c in NUM + CAT})[0]
    np.testing.assert_array_equal(ct.transform_one(row), expected)
    np.testing.assert_array_equal(ct.transform_records([rows[0], row])[1], expected)


def test_request_rows_feed_the_drift_monitor(served, backend):
    ct, rows = served
    monitor = fp.DriftMonitor(ct).attach()
    try:
        ct.transform_one(rows[0])
        ct.transform_records(rows[:9])
    finally:
        monitor.detach()
    assert {r["rows"] for r in monitor.report().values()} == {10}


# -- out= ---------------------------------------------------------------------------------------

TRANSFORMS = [
    fp.StandardScaler(),
    fp.MinMaxScaler(clip=True),
    fp.MaxAbsScaler(),
    fp.RobustScaler(),
    fp.Normalizer(),
    fp.Binarizer(),
    fp.FunctionTransformer(np.log1p),
    fp.PolynomialFeatures(),
    fp.SplineTransformer(),
    fp.SimpleImputer(add_indicator=True),
    fp.KBinsDiscretizer(n_bins=3),
    fp.QuantileTransformer(n_quantiles=20),
    fp.PowerTransformer(),
]


@pytest.mark.parametrize("obj", TRANSFORMS, ids=repr)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_transform_into_a_buffer_is_transform(obj, dtype, backend):
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(200, 4)) + 3).astype(dtype)
    x[rng.random(x.shape) < 0.05] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fitted = obj.fit(x)
    expected = fitted.transform(x)
    buffer = np.full(expected.shape, -7.0, dtype=expected.dtype)
    assert fitted.transform(x, out=buffer) is buffer
    np.testing.assert_array_equal(buffer, expected, strict=True)


def test_a_wrong_buffer_is_refused_and_left_untouched(backend):
    x = np.random.default_rng(1).normal(size=(50, 3))
    scaler = fp.StandardScaler().fit(x)
    cases = [
        (np.empty((50, 2)), "has shape \\(50, 2\\) and dtype float64; the output has shape"),
        (np.empty((50, 3), dtype=np.float32), "dtype float32; the output .* float64"),
        (np.empty((3, 50)).T, "C-contiguous and writeable"),
        (x, "must not overlap the input"),
        ([[0.0] * 3] * 50, "must be a NumPy array"),
    ]
    for bad, message in cases:
        before = np.array(bad, copy=True)
        with pytest.raises(fp.ParameterError, match=message):
            scaler.transform(x, out=bad)
        np.testing.assert_array_equal(np.asarray(bad), before)
    frozen = np.empty((50, 3))
    frozen.flags.writeable = False
    with pytest.raises(fp.ParameterError, match="writeable"):
        scaler.transform(x, out=frozen)
    sparse = pytest.importorskip("scipy.sparse")
    with pytest.raises(fp.ParameterError, match="dense output"):
        fp.MaxAbsScaler().fit(x).transform(sparse.csr_matrix(x), out=np.empty((50, 3)))


def test_compositions_copy_into_a_buffer(served, backend):
    ct, rows = served
    columns = {c: [r[c] for r in rows] for c in NUM + CAT}
    expected = ct.transform(columns, dtype=np.float32)
    buffer = np.empty_like(expected)
    assert ct.transform(columns, dtype=np.float32, out=buffer) is buffer
    np.testing.assert_array_equal(buffer, expected)
    with pytest.raises(fp.ParameterError, match=r"dtype float64; the output .* float32"):
        ct.transform(columns, dtype=np.float32, out=np.empty(expected.shape))
    pipe = fp.Pipeline([("scale", fp.StandardScaler())]).fit(np.eye(4))
    into = np.empty((4, 4))
    assert pipe.transform(np.eye(4), out=into) is into
    np.testing.assert_array_equal(into, pipe.transform(np.eye(4)))


def _native(obj, method: str) -> bool:
    """Whether ``obj.<method>`` is the installed native entry."""
    entry = obj.__dict__.get(method)
    return type(getattr(entry, "__self__", None)).__name__ == "RowCall"


def test_the_native_entry_behaves_as_the_method(served):
    """After a first call, ``transform_one`` is one native call (an instance attribute): the
    same answers and errors as the method, whatever the backend, dtype or mapping; a new fit,
    an attached monitor and a pickle drop it."""
    import copy
    import pickle

    if fp.get_backend() != "rust":
        pytest.skip("the native entry needs the compiled core")
    ct, rows = served
    ct = copy.deepcopy(ct)
    first = ct.transform_one(rows[0])
    assert _native(ct, "transform_one")
    np.testing.assert_array_equal(ct.transform_one(rows[0]), first, strict=True)
    for dtype in (np.float32, "float32", np.dtype("float64")):
        np.testing.assert_array_equal(
            ct.transform_one(rows[5], dtype=dtype), ct.transform_records([rows[5]], dtype=dtype)[0]
        )
    with fp.use_backend("python"):
        np.testing.assert_array_equal(ct.transform_one(rows[3]), ct.transform_records([rows[3]])[0])
    np.testing.assert_array_equal(
        ct.transform_one(collections.OrderedDict(rows[4])), ct.transform_records([rows[4]])[0]
    )
    with pytest.raises(fp.ParameterError, match="float64 or float32"):
        ct.transform_one(rows[0], dtype=np.int64)
    with pytest.raises(
        fp.SchemaError, match=r"^ColumnTransformer: the record lacks the column 'age'$"
    ):
        ct.transform_one({k: v for k, v in rows[0].items() if k != "age"})
    with pytest.raises(fp.SchemaError, match="a mapping of column name to value"):
        ct.transform_one([1, 2])
    # Pickles and copies leave it out (it is rebuilt on use).
    again = pickle.loads(pickle.dumps(ct))
    assert "transform_one" not in again.__dict__
    np.testing.assert_array_equal(again.transform_one(rows[0]), first)
    # A monitor attached: requests take the method, which feeds it.
    monitor = fp.DriftMonitor(ct).attach()
    assert "transform_one" not in ct.__dict__
    ct.transform_one(rows[0])
    ct.transform_one(rows[1])
    monitor.detach()
    assert {r["rows"] for r in monitor.report().values()} == {2}
    ct.transform_one(rows[0])
    assert _native(ct, "transform_one")
    # A new fit: the new plan's numbers.
    refit = {c: [r[c] for r in rows[:50]] for c in NUM + CAT}
    ct.fit(refit)
    assert "transform_one" not in ct.__dict__
    np.testing.assert_array_equal(ct.transform_one(rows[0]), ct.transform(refit)[0])


def test_the_native_records_entry_behaves_as_the_method(served):
    import copy

    if fp.get_backend() != "rust":
        pytest.skip("the native entry needs the compiled core")
    ct, rows = served
    ct = copy.deepcopy(ct)
    expected = ct.transform_records(rows[:20])
    assert _native(ct, "transform_records")
    np.testing.assert_array_equal(ct.transform_records(rows[:20]), expected, strict=True)
    np.testing.assert_array_equal(ct.transform_records(tuple(rows[:20])), expected)
    np.testing.assert_array_equal(ct.transform_records(iter(rows[:20])), expected)
    np.testing.assert_array_equal(
        ct.transform_records(rows[:20], dtype=np.float32), expected.astype(np.float32)
    )
    with fp.use_backend("python"):
        np.testing.assert_array_equal(ct.transform_records(rows[:20]), expected)
    with pytest.raises(fp.SchemaError, match="record 1 lacks the column 'age'"):
        ct.transform_records([rows[0], {k: v for k, v in rows[0].items() if k != "age"}])
